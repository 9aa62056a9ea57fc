"""The read-only Open Referral HSDS 3.0 API, /api/hsds/: our published providers as HSDS services.

Documents come from the same writer as the HSDS export (providers.exchange.formats.hsds), so ids and
content match the export. Ids are stored (indexed) on providers and organizations, so a lookup by id
is one query.
"""

import json
import math
import uuid

from django.db.models import Exists, OuterRef, Q
from django.http import Http404, QueryDict, StreamingHttpResponse
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from providers.api.pagination import MAX_PAGE_NUMBER, positive_int
from providers.api.views import PublicReadOnlyMixin
from providers.exchange.formats import hsds
from providers.exchange.records import ORGANIZATION_FIELDS, iter_export_records, record_from_provider
from providers.models import Organization, Provider
from providers.search.filters import ProviderFilter
from providers.search.vocabulary import attach_terms

HSDS_VERSION = "3.0"
PROFILE_URL = "https://openreferral.org/"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
# Counting beyond this costs more than it tells; total_items is then a lower bound.
COUNT_CAP = 10_000
TRUE_VALUES = ("true", "1")

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
    "last_modified",
    "organization",
)
ORGANIZATION_LIST_FIELDS = ("id", "name", "description", "website")
# HSDS query parameters answered by the search page's own filters: HSDS name -> ProviderFilter name.
SEARCH_PARAMETERS = {"search": "q", "modified_after": "modified_after", "postcode": "near"}


class HSDSView(PublicReadOnlyMixin, APIView):
    renderer_classes = [JSONRenderer]
    # HSDS publishes its own OpenAPI document (OPENAPI_URL); ours at /api/schema/ describes /api/v1/ only.
    schema = None
    http_method_names = ["get", "head", "options"]
    # HSDS's ?format= values this view answers ("json" is the default everywhere).
    formats = ("json",)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.query_params.get("format", "json") not in self.formats:
            raise ValidationError({"format": [f"Use one of: {', '.join(self.formats)}."]})


# Helpers -------------------------------------------------------------------


def _paging(request):
    number = min(positive_int(request.query_params.get("page"), 1), MAX_PAGE_NUMBER)
    size = min(positive_int(request.query_params.get("per_page"), DEFAULT_PER_PAGE), MAX_PER_PAGE)
    return number, size


def _page(number, size, total, contents):
    """HSDS's Page wrapper. ``size`` is the page size asked for; total_items may be capped (a lower bound)."""
    total_pages = math.ceil(total / size) if total else 0
    # Past COUNT_CAP the total is a lower bound, and only a page that is not full is the last.
    last_page = number >= total_pages if total < COUNT_CAP else len(contents) < size
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": number,
        "size": size,
        "first_page": number == 1,
        "last_page": last_page,
        "empty": not contents,
        "contents": contents,
    }


def _uuid(text):
    """``text`` as a UUID, or None: every id we publish is one, so anything else names nothing."""
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


def _flag(request, name):
    return request.query_params.get(name, "").lower() in TRUE_VALUES


def published_providers():
    return Provider.objects.published()


def filtered_services(request):
    """Published providers narrowed by HSDS's query parameters; unknown ids match nothing, bad values are a 400."""
    params = request.query_params
    data = QueryDict(mutable=True)
    for hsds_name, our_name in SEARCH_PARAMETERS.items():
        if params.get(hsds_name):
            data[our_name] = params[hsds_name]
    queryset = published_providers()
    if params.get("postcode") and not params.get("proximity"):
        # Without a distance the postcode is matched as written: we keep no service areas.
        del data["near"]
        # A hidden address's postal code is not public: it may not be found by it either.
        queryset = queryset.filter(postal_code__iexact=params["postcode"].strip(), address_hidden=False)
    elif params.get("postcode"):
        data["radius"] = _kilometres(params["proximity"])
    search = ProviderFilter(data, queryset=queryset)
    if not search.is_valid():
        names = {our: hsds_name for hsds_name, our in SEARCH_PARAMETERS.items()} | {"radius": "proximity"}
        raise ValidationError({names.get(name, name): errors for name, errors in search.errors.items()})
    queryset = search.qs
    if params.get("taxonomy_term_id"):
        queryset = _with_term(queryset, _uuid(params["taxonomy_term_id"]))
    if params.get("taxonomy_id"):
        queryset = _with_taxonomy(queryset, _uuid(params["taxonomy_id"]))
    if params.get("organization_id"):
        organization = _uuid(params["organization_id"])
        queryset = queryset.filter(named_organization(organization)) if organization else queryset.none()
    return queryset


def named_organization(identifier):
    """Which providers' documents name the organization ``identifier``: a real one, or the placeholder
    of one of them."""
    real = Organization.objects.filter(hsds_id=identifier).values("pk")
    return Q(organization__in=real) | Q(organization__isnull=True, hsds_placeholder_organization_id=identifier)


def _kilometres(metres):
    try:
        return str(float(metres) / 1000)
    except ValueError:
        raise ValidationError({"proximity": ["Give a distance in metres."]}) from None


def _flag_condition(code):
    """Which providers' documents carry the flag term ``code`` (hsds.FLAG_TERMS)."""
    if code in hsds.FLAG_FIELDS:
        return Q(**{f"{hsds.FLAG_FIELDS[code]}__isnull": False})
    if code == hsds.NO_ORGANIZATION:
        return Q(organization__isnull=True)
    return ~Q(time_zone="")


def _with_term(queryset, term_id):
    """Services whose document links the taxonomy term ``term_id``."""
    for document in hsds.Vocabulary().all_term_documents():
        if term_id and document["id"] == str(term_id):
            taxonomy = _taxonomy_of(document["taxonomy_detail"]["id"])
            if taxonomy == hsds.FLAGS:
                return queryset.filter(_flag_condition(document["code"]))
            return queryset.with_any_term(taxonomy, [document["code"]])
    return queryset.none()


def _with_taxonomy(queryset, taxonomy_id):
    """Services linking any term of the taxonomy ``taxonomy_id``."""
    taxonomy = _taxonomy_of(str(taxonomy_id)) if taxonomy_id else None
    if taxonomy is None:
        return queryset.none()
    if taxonomy == hsds.FLAGS:
        condition = Q()
        for code in hsds.FLAG_TERMS:
            condition |= _flag_condition(code)
        return queryset.filter(condition)
    return queryset.with_any_term(taxonomy, list(hsds.Vocabulary().terms[taxonomy]))


def _taxonomy_of(taxonomy_id):
    return next((name for name, identifier in hsds.TAXONOMY_IDS.items() if identifier == taxonomy_id), None)


def _full_providers(queryset):
    """Providers loaded the way record_from_provider needs them, in pk order."""
    providers = list(queryset.select_related("organization", "source").prefetch_related("opening_hours").order_by("pk"))
    return attach_terms(providers)


def service_documents(providers, vocabulary):
    """Full service documents, with when each listing last changed (the API's, not the export's: it moves on import)."""
    documents = []
    for provider in providers:
        document = hsds.document_for(record_from_provider(provider), vocabulary)
        document["last_modified"] = provider.updated_at.isoformat()
        documents.append(document)
    return documents


def service_list_document(document):
    listed = {key: document[key] for key in SERVICE_LIST_FIELDS if key in document}
    listed["organization_id"] = document["organization"]["id"]
    listed["organization"] = organization_list_document(document["organization"])
    return listed


def organization_list_document(document):
    return {key: document[key] for key in ORGANIZATION_LIST_FIELDS if key in document}


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


def _services_page(request, present):
    """A Page of filtered services; ``present`` turns each full service document into what the page lists."""
    number, size = _paging(request)
    queryset = filtered_services(request)
    total = queryset.order_by()[:COUNT_CAP].count()
    start = (number - 1) * size
    pks = list(queryset.order_by("pk").values_list("pk", flat=True)[start : start + size])
    documents = service_documents(_full_providers(Provider.objects.filter(pk__in=pks)), hsds.Vocabulary())
    return Response(_page(number, size, total, [present(document) for document in documents]))


def _one_service(**lookup):
    provider = _full_providers(published_providers().filter(**lookup)) if None not in lookup.values() else []
    if not provider:
        raise Http404("No such service.")
    return service_documents(provider, hsds.Vocabulary())[0]


def published_organizations():
    """Organizations running at least one published provider."""
    return Organization.objects.filter(Exists(published_providers().filter(organization=OuterRef("pk"))))


def providers_without_organization():
    """Published providers that belong to no organization: a placeholder organization stands for each."""
    return published_providers().filter(organization__isnull=True)


def organization_document(organization):
    return hsds.organization_document({name: getattr(organization, name) for name in ORGANIZATION_FIELDS})


def placeholder_document(provider, vocabulary):
    return hsds.placeholder_organization_document(str(provider.hsds_id), provider.name, vocabulary)


def _organizations_page(request):
    """A Page of every organization a published service names: real ones, then placeholders, each kind in pk order."""
    organizations, placeholders = published_organizations(), providers_without_organization()
    if request.query_params.get("search"):
        organizations = organizations.filter(name__icontains=request.query_params["search"])
        placeholders = placeholders.filter(name__icontains=request.query_params["search"])
    number, size = _paging(request)
    start = (number - 1) * size
    # Exact, as it places the placeholders in the sequence; organizations are far fewer than providers.
    real_count = organizations.count()
    total = real_count + placeholders.order_by()[:COUNT_CAP].count()
    real = list(organizations.order_by("pk")[start : start + size]) if start < real_count else []
    documents = [organization_document(organization) for organization in real]
    if len(real) < size:
        first = max(start - real_count, 0)
        standing_for = list(placeholders.only("name", "hsds_id").order_by("pk")[first : first + size - len(real)])
        # The vocabulary costs a query per taxonomy, which a page of real organizations does without.
        vocabulary = hsds.Vocabulary() if standing_for else None
        documents += [placeholder_document(provider, vocabulary) for provider in standing_for]
    if not _flag(request, "full"):
        documents = [organization_list_document(document) for document in documents]
    return _page(number, size, total, documents)


# Views ---------------------------------------------------------------------


class RootView(HSDSView):
    """Which HSDS version and profile this API serves."""

    def get(self, request):
        return Response({"version": HSDS_VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL})


class ServiceListView(HSDSView):
    """Published providers as HSDS services, a page at a time; ?full=true nests them fully,
    ?format=ndjson streams all."""

    formats = ("json", "ndjson")

    def get(self, request):
        if request.query_params.get("format") == "ndjson":
            # In the pages' order, so a partner switching between the two reads the same sequence.
            return self.stream(filtered_services(request).order_by("pk"))
        return _services_page(
            request, lambda document: document if _flag(request, "full") else service_list_document(document)
        )

    def stream(self, queryset):
        def lines():
            vocabulary = hsds.Vocabulary()
            for record in iter_export_records(queryset):
                yield json.dumps(hsds.document_for(record, vocabulary), ensure_ascii=False) + "\n"

        return StreamingHttpResponse(lines(), content_type="application/x-ndjson; charset=utf-8")


class ServiceDetailView(HSDSView):
    """One fully nested service."""

    def get(self, request, identifier):
        return Response(_one_service(hsds_id=_uuid(identifier)))


class ServiceAtLocationListView(HSDSView):
    """Each published provider is one service at one location; a page of those pairings, filtered like services."""

    def get(self, request):
        return _services_page(request, lambda document: service_at_location_document(document, _flag(request, "full")))


class ServiceAtLocationDetailView(HSDSView):
    """One service at a location, fully nested."""

    def get(self, request, identifier):
        return Response(
            service_at_location_document(_one_service(hsds_service_at_location_id=_uuid(identifier)), full=True)
        )


class OrganizationListView(HSDSView):
    """Every organization a published service names, a page at a time; ?full=true gives their full documents."""

    def get(self, request):
        return Response(_organizations_page(request))


class OrganizationDetailView(HSDSView):
    """One organization with its published services: one-to-one fields, or fully nested with ?full_service=true.

    A placeholder's one service is the listing it stands for.
    """

    def get(self, request, identifier):
        identifier = _uuid(identifier)
        providers = _full_providers(published_providers().filter(named_organization(identifier))) if identifier else []
        if not providers:
            raise Http404("No such organization.")
        services = service_documents(providers, hsds.Vocabulary())
        # The organization as its services name it, placeholder or real.
        organization = services[0]["organization"]
        if not _flag(request, "full_service"):
            services = [service_list_document(service) for service in services]
        return Response({**organization, "services": services})


def _matching(documents, request, *fields):
    """``documents`` whose ``fields`` contain the ?search text, ignoring case."""
    text = request.query_params.get("search", "").casefold()
    return [document for document in documents if any(text in document.get(field, "").casefold() for field in fields)]


def _listed_page(request, documents):
    number, size = _paging(request)
    start = (number - 1) * size
    return Response(_page(number, size, len(documents), documents[start : start + size]))


class TaxonomyListView(HSDSView):
    def get(self, request):
        documents = [hsds.taxonomy_document(taxonomy) for taxonomy in hsds.TAXONOMIES]
        return _listed_page(request, _matching(documents, request, "name", "description"))


class TaxonomyDetailView(HSDSView):
    def get(self, request, identifier):
        for taxonomy in hsds.TAXONOMIES:
            if hsds.TAXONOMY_IDS[taxonomy] == str(_uuid(identifier)):
                return Response(hsds.taxonomy_document(taxonomy))
        raise Http404("No such taxonomy.")


class TaxonomyTermListView(HSDSView):
    """Every term of our taxonomies; ?taxonomy_id narrows to one taxonomy. Our taxonomies are flat (no parents)."""

    def get(self, request):
        documents = hsds.Vocabulary().all_term_documents()
        taxonomy_id = request.query_params.get("taxonomy_id")
        if taxonomy_id:
            documents = [document for document in documents if document["taxonomy_detail"]["id"] == taxonomy_id]
        if request.query_params.get("parent_id"):
            documents = []
        return _listed_page(request, _matching(documents, request, "name", "code", "description"))


class TaxonomyTermDetailView(HSDSView):
    def get(self, request, identifier):
        for document in hsds.Vocabulary().all_term_documents():
            if document["id"] == str(_uuid(identifier)):
                return Response(document)
        raise Http404("No such taxonomy term.")
