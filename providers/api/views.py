"""The read-only public API, /api/v1/: the search page's data for partners' programs."""

from django.db.models import Count
from django.utils.cache import patch_cache_control
from django.utils.http import http_date
from django_countries import countries
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from providers.api.pagination import PageWithoutCount
from providers.api.serializers import CountrySerializer, ProviderSerializer, TermSerializer
from providers.models import Provider
from providers.search.filters import ProviderFilter
from providers.search.vocabulary import attach_terms

# Public data changes rarely; shared caches may keep a response this long.
PUBLIC_MAX_AGE = 300

# The errors a client meets, in the schema beside each 200, so that its generated code expects them.
ERROR = inline_serializer("Error", {"detail": serializers.CharField()})
NOT_FOUND = OpenApiResponse(ERROR, description="Nothing published has that slug.")
INVALID_PARAMETERS = OpenApiResponse(
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    description="A parameter is invalid; the problems, per parameter.",
)
THROTTLED = OpenApiResponse(
    ERROR, description="Too many requests from this address; the Retry-After header says when to retry."
)


def answers(serializer, errors=None):
    """An action's documented responses: its data, the errors it may give, and 429, which any action may give."""
    return extend_schema(responses={200: serializer, **(errors or {}), 429: THROTTLED})


class JSONOnly(BaseContentNegotiation):
    """The API answers JSON whatever ?format= or Accept say: DRF would answer an unknown ?format= with a bare 404.

    HSDS's own ?format=ndjson is read by its view.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class PublicReadOnlyMixin:
    """Every public API response: readable from any site, cacheable by anyone."""

    content_negotiation_class = JSONOnly

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD"):
            response["Access-Control-Allow-Origin"] = "*"
            if response.status_code == 200:
                patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
        return response


@extend_schema_view(
    list=answers(ProviderSerializer, {400: INVALID_PARAMETERS}),
    retrieve=answers(ProviderSerializer, {404: NOT_FOUND}),
)
class ProviderViewSet(PublicReadOnlyMixin, viewsets.ReadOnlyModelViewSet):
    """Published providers, filtered exactly like the search page (the same FilterSet)."""

    serializer_class = ProviderSerializer
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProviderFilter
    pagination_class = PageWithoutCount

    def get_queryset(self):
        return Provider.objects.published().with_organization_and_source()

    def list(self, request, *args, **kwargs):
        page = attach_terms(self.paginate_queryset(self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        [provider] = attach_terms([self.get_object()])
        # With the ETag, lets clients revalidate with If-Modified-Since as well (304).
        return Response(
            self.get_serializer(provider).data, headers={"Last-Modified": http_date(provider.updated_at.timestamp())}
        )


def term_viewset(model):
    """A read-only list of one taxonomy's terms, in their display order."""
    viewset = type(
        f"{model.__name__}ViewSet",
        (PublicReadOnlyMixin, viewsets.ReadOnlyModelViewSet),
        {
            "queryset": model.objects.all(),
            "serializer_class": TermSerializer,
            "lookup_field": "slug",
            "pagination_class": None,
            "__doc__": f"Every {model._meta.verbose_name} term: slug, name, description, order.",
        },
    )
    documented = extend_schema_view(list=answers(TermSerializer), retrieve=answers(TermSerializer, {404: NOT_FOUND}))
    return documented(viewset)


@extend_schema_view(list=answers(CountrySerializer))
class CountryViewSet(PublicReadOnlyMixin, viewsets.ViewSet):
    """Countries with published providers, and how many."""

    serializer_class = CountrySerializer

    def list(self, request):
        rows = Provider.objects.published().values("country").annotate(providers=Count("pk")).order_by("country")
        data = [
            {"code": row["country"], "name": countries.name(row["country"]), "providers": row["providers"]}
            for row in rows
        ]
        return Response(CountrySerializer(data, many=True).data)
