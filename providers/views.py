import csv

from django.conf import settings
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext

from providers.admin_roles import may_preview
from providers.caching import cached_page
from providers.exchange import ours
from providers.exchange.records import iter_export_records
from providers.filters import ProviderFilter
from providers.hours import attach_hours
from providers.models import Provider
from providers.paging import CappedPaginator
from providers.vocabulary import attach_terms

# Labels shown on each search result; the rest are on the provider's page.
RESULT_TAXONOMIES = ("modalities", "care_settings")


@cached_page
def provider_list(request):
    providers = ProviderFilter(request.GET, queryset=Provider.objects.published())
    paginator = CappedPaginator(providers.qs, settings.PROVIDERS_PER_PAGE, cap=settings.SEARCH_RESULTS_LISTED)
    page_obj = paginator.get_page(request.GET.get("page"))
    page_obj.object_list = attach_terms(page_obj.object_list, RESULT_TAXONOMIES)
    attach_hours(page_obj.object_list)
    request.crisis_country = providers.searched_country
    return render(request, "providers/provider_list.html", {"filter": providers, "page_obj": page_obj})


@cached_page
def provider_detail(request, slug):
    provider = get_object_or_404(Provider.objects.with_organization_and_source(), slug=slug)
    if provider.merged_into_id is not None and provider.status == Provider.Status.ARCHIVED:
        # A duplicate merged into another listing: its address, bookmarked or linked, leads there for good.
        return redirect(provider.merged_into, permanent=True)
    if not provider.is_public and not may_preview(request.user, provider):
        if provider.status == Provider.Status.ARCHIVED:
            return render(request, "providers/provider_gone.html", {"provider": provider}, status=410)
        raise Http404("No published provider has this address.")
    attach_terms([provider])
    attach_hours([provider])
    request.crisis_country = provider.country.code
    return render(request, "providers/provider_detail.html", {"provider": provider})


class _Line:
    """A file-like object that hands back what csv.writer writes, so rows can be streamed."""

    def write(self, text):
        return text


def provider_export(request):
    """The search results as our CSV, streamed: the same filters and order, every page."""
    providers = ProviderFilter(request.GET, queryset=Provider.objects.published())
    if not providers.is_valid():
        # The page can warn beside its results; a file cannot, and would quietly hold more than was asked for.
        problems = [f"{field.label}: {error}" for field in providers.form for error in field.errors]
        message = "\n".join([gettext("Some filters could not be used, so nothing was downloaded:"), *problems])
        return HttpResponseBadRequest(message + "\n", content_type="text/plain; charset=utf-8")
    writer = csv.writer(_Line(), lineterminator="\r\n")
    rows = (writer.writerow(row) for row in ours.csv_rows(iter_export_records(providers.qs)))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="providers.csv"'
    return response
