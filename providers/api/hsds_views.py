"""The read-only Open Referral HSDS 3.0 API, /api/hsds/: our published providers as HSDS services.

Documents come from the same writer as the HSDS export (providers.exchange.hsds), so the ids are the
export's stable uuid5s. Those ids are hashes of our keys and are not stored, so a lookup by id scans
the candidates' keys (a few columns, in chunks) instead of using an index.
"""

import json
import math
import uuid

from django.http import Http404, StreamingHttpResponse
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from providers.api.pagination import positive_int
from providers.api.views import PublicReadOnlyMixin
from providers.exchange import hsds
from providers.exchange.records import iter_export_records, record_from_provider
from providers.models import Organization, Provider, attach_terms

HSDS_VERSION = "3.0"
PROFILE_URL = "https://openreferral.org/"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
# Counting beyond this costs more than it tells; total_items is then a lower bound.
COUNT_CAP = 10_000
SCAN_CHUNK = 2000

# The one-to-one fields of compiled/service_list.json, which a page of services carries.
SERVICE_LIST_FIELDS = (
    "id",
    "organization_id",
    "name",
    "description",
    "url",
    "email",
    "status",
    "assured_date",
    "organization",
)
ORGANIZATION_LIST_FIELDS = ("id", "name", "description", "website")


class NDJSONRenderer(BaseRenderer):
    """Lets ?format=ndjson through DRF's content negotiation; the view streams the body itself."""

    media_type = "application/x-ndjson"
    format = "ndjson"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data, ensure_ascii=False).encode()


class HSDSView(PublicReadOnlyMixin, APIView):
    renderer_classes = [JSONRenderer]
    # HSDS publishes its own OpenAPI document (OPENAPI_URL); ours at /api/schema/ describes /api/v1/ only.
    schema = None
    http_method_names = ["get", "head", "options"]


# Helpers -------------------------------------------------------------------


def _paging(request):
    number = positive_int(request.query_params.get("page"), 1)
    size = min(positive_int(request.query_params.get("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
    return number, size


def _page(number, size, total, contents):
    """HSDS's Page wrapper. ``size`` is the page size asked for; total_items may be capped (a lower bound)."""
    total_pages = math.ceil(total / size) if total else 0
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": number,
        "size": size,
        "first_page": number == 1,
        "last_page": number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def _capped_count(queryset):
    return queryset.order_by()[:COUNT_CAP].count()


def _canonical_uuid(text):
    try:
        return str(uuid.UUID(text))
    except (TypeError, ValueError):
        raise Http404("No such identifier.") from None


def service_id(source_slug, external_id, slug):
    """The id the HSDS writer gives the service of this provider (see hsds._provider_key)."""
    return hsds.stable_id("provider", source_slug or "", external_id or slug)


def organization_id(slug):
    return hsds.stable_id("organization", slug)


def published_providers():
    return Provider.objects.published()


def _full_providers(queryset):
    """Providers loaded the way record_from_provider needs them, in pk order."""
    providers = list(queryset.select_related("organization", "source").prefetch_related("opening_hours").order_by("pk"))
    return attach_terms(providers)


def service_documents(providers, vocabulary):
    return [hsds.document_for(record_from_provider(provider), vocabulary) for provider in providers]


def service_list_document(document):
    listed = {key: document[key] for key in SERVICE_LIST_FIELDS if key in document}
    listed["organization_id"] = document["organization"]["id"]
    listed["organization"] = organization_list_document(document["organization"])
    return listed


def organization_list_document(document):
    return {key: document[key] for key in ORGANIZATION_LIST_FIELDS if key in document}


def service_at_location_id(source_slug, external_id, slug):
    """Each provider is one service at one location; the writer's id of that pairing."""
    return hsds.stable_id("provider", source_slug or "", external_id or slug, "service_at_location")


def service_at_location_document(document, full=False):
    """The service_at_location of a full service ``document``, with the service it belongs to."""
    at_location = document["service_at_locations"][0]
    if not full:
        at_location = {key: at_location[key] for key in ("id", "location") if key in at_location}
    return {
        **at_location,
        "service_id": document["id"],
        "location_id": at_location["location"]["id"],
        "service": service_list_document(document),
    }


def find_provider_pk(identifier, compute=None):
    """The pk of the published provider whose service id (or ``compute``'s id) is ``identifier``, scanning keys in chunks."""
    compute = compute or service_id
    last = 0
    queryset = published_providers().order_by("pk").values_list("pk", "source__slug", "external_id", "slug")
    while True:
        chunk = list(queryset.filter(pk__gt=last)[:SCAN_CHUNK])
        if not chunk:
            return None
        for pk, source_slug, external_id, slug in chunk:
            if compute(source_slug, external_id, slug) == identifier:
                return pk
        last = chunk[-1][0]


def published_organizations():
    return Organization.objects.filter(providers__status=Provider.Status.PUBLISHED).distinct().order_by("slug")


def organization_document(organization):
    return {
        "id": organization_id(organization.slug),
        "name": organization.name,
        "description": organization.description or "",
        **({"website": organization.website} if organization.website else {}),
        "organization_identifiers": [
            {
                "id": hsds.stable_id("organization", organization.slug, "identifier"),
                "identifier_type": hsds.ORGANIZATION_SLUG_TYPE,
                "identifier": organization.slug,
            }
        ],
    }


# Views ---------------------------------------------------------------------


class RootView(HSDSView):
    """Which HSDS version and profile this API serves."""

    def get(self, request):
        return Response({"version": HSDS_VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL})


class ServiceListView(HSDSView):
    """Published providers as HSDS services, a page at a time; ?full=true nests them fully, ?format=ndjson streams all."""

    renderer_classes = [JSONRenderer, NDJSONRenderer]

    def get(self, request):
        if request.query_params.get("format") == "ndjson":
            return self.stream()
        number, size = _paging(request)
        queryset = published_providers()
        total = _capped_count(queryset)
        start = (number - 1) * size
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[start : start + size])
        documents = service_documents(_full_providers(Provider.objects.filter(pk__in=pks)), hsds.Vocabulary())
        if request.query_params.get("full", "").lower() not in ("true", "1"):
            documents = [service_list_document(document) for document in documents]
        return Response(_page(number, size, total, documents))

    def stream(self):
        def lines():
            vocabulary = hsds.Vocabulary()
            for record in iter_export_records(published_providers()):
                yield json.dumps(hsds.document_for(record, vocabulary), ensure_ascii=False) + "\n"

        return StreamingHttpResponse(lines(), content_type="application/x-ndjson; charset=utf-8")


class ServiceDetailView(HSDSView):
    """One fully nested service. Ids are not stored, so this scans published providers' keys."""

    def get(self, request, identifier):
        pk = find_provider_pk(_canonical_uuid(identifier))
        if pk is None:
            raise Http404("No such service.")
        [document] = service_documents(_full_providers(Provider.objects.filter(pk=pk)), hsds.Vocabulary())
        return Response(document)


class ServiceAtLocationListView(HSDSView):
    """Each published provider is one service at one location; a page of those pairings."""

    def get(self, request):
        number, size = _paging(request)
        queryset = published_providers()
        total = _capped_count(queryset)
        start = (number - 1) * size
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[start : start + size])
        documents = service_documents(_full_providers(Provider.objects.filter(pk__in=pks)), hsds.Vocabulary())
        full = request.query_params.get("full", "").lower() in ("true", "1")
        contents = [service_at_location_document(document, full) for document in documents]
        return Response(_page(number, size, total, contents))


class ServiceAtLocationDetailView(HSDSView):
    """One service at a location, fully nested. Ids are not stored, so this scans published providers' keys."""

    def get(self, request, identifier):
        pk = find_provider_pk(_canonical_uuid(identifier), service_at_location_id)
        if pk is None:
            raise Http404("No such service at location.")
        [document] = service_documents(_full_providers(Provider.objects.filter(pk=pk)), hsds.Vocabulary())
        return Response(service_at_location_document(document, full=True))


class OrganizationListView(HSDSView):
    """Organizations running at least one published provider (providers without one have none listed)."""

    def get(self, request):
        number, size = _paging(request)
        queryset = published_organizations()
        total = _capped_count(queryset)
        start = (number - 1) * size
        contents = [organization_list_document(organization_document(o)) for o in queryset[start : start + size]]
        return Response(_page(number, size, total, contents))


class OrganizationDetailView(HSDSView):
    def get(self, request, identifier):
        identifier = _canonical_uuid(identifier)
        for organization in published_organizations().iterator(chunk_size=SCAN_CHUNK):
            if organization_id(organization.slug) == identifier:
                return Response(organization_document(organization))
        raise Http404("No such organization.")


class TaxonomyListView(HSDSView):
    def get(self, request):
        number, size = _paging(request)
        documents = [hsds.taxonomy_document(taxonomy) for taxonomy in hsds.TAXONOMIES]
        start = (number - 1) * size
        return Response(_page(number, size, len(documents), documents[start : start + size]))


class TaxonomyDetailView(HSDSView):
    def get(self, request, identifier):
        identifier = _canonical_uuid(identifier)
        for taxonomy in hsds.TAXONOMIES:
            if hsds.TAXONOMY_IDS[taxonomy] == identifier:
                return Response(hsds.taxonomy_document(taxonomy))
        raise Http404("No such taxonomy.")


class TaxonomyTermListView(HSDSView):
    """Every term of our taxonomies; ?taxonomy_id narrows to one taxonomy."""

    def get(self, request):
        number, size = _paging(request)
        documents = hsds.Vocabulary().all_term_documents()
        taxonomy_id = request.query_params.get("taxonomy_id")
        if taxonomy_id:
            documents = [document for document in documents if document["taxonomy_detail"]["id"] == taxonomy_id]
        start = (number - 1) * size
        return Response(_page(number, size, len(documents), documents[start : start + size]))


class TaxonomyTermDetailView(HSDSView):
    def get(self, request, identifier):
        identifier = _canonical_uuid(identifier)
        for document in hsds.Vocabulary().all_term_documents():
            if document["id"] == identifier:
                return Response(document)
        raise Http404("No such taxonomy term.")
