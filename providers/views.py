import csv

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from providers.admin.roles import may_preview
from providers.caching import cached_page
from providers.exchange.formats import ours
from providers.exchange.records import iter_export_records
from providers.forms import CorrectionForm, NewProviderForm
from providers.models import Provider
from providers.search.choice_counts import choice_counts, label_choices
from providers.search.filters import ProviderFilter
from providers.search.hours import attach_hours
from providers.search.paging import CappedPaginator
from providers.search.vocabulary import CARD_TAXONOMIES, attach_terms
from providers.visitor import client_ip


# Labels shown on each search result; the rest are on the provider's page.
@cached_page
def provider_list(request):
    providers = ProviderFilter(request.GET, queryset=Provider.objects.published())
    paginator = CappedPaginator(providers.qs, settings.PROVIDERS_PER_PAGE, cap=settings.SEARCH_RESULTS_LISTED)
    page_obj = paginator.get_page(request.GET.get("page"))
    page_obj.object_list = attach_terms(page_obj.object_list, CARD_TAXONOMIES)
    attach_hours(page_obj.object_list)
    # Each choice says how many listings it would give with the other filters (issue 19).
    label_choices(providers, choice_counts(providers))
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
        heading = gettext("Some filters could not be used, so nothing was downloaded:")
        message = "\n".join([heading, *providers.problems, ""])
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    writer = csv.writer(_Line(), lineterminator="\r\n")
    rows = (writer.writerow(row) for row in ours.csv_rows(iter_export_records(providers.qs)))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="providers.csv"'
    return response


# Suggestions from the public


def allow_suggestion(request):
    """Count one suggestion from the visitor's address; False once it has sent its allowance this period.

    The count is kept under a keyed hash of the address, so the address itself
    is never stored, and the hash means nothing without the secret key.
    """
    key = "suggestions:sent:" + salted_hmac("providers.suggestions.rate-limit", client_ip(request)).hexdigest()
    period = settings.SUGGESTION_RATE_PERIOD
    cache.add(key, 0, period)
    try:
        sent = cache.incr(key)
    except ValueError:
        # The count expired between add() and incr(): this is the first of a new period.
        cache.set(key, 1, period)
        sent = 1
    return sent <= settings.SUGGESTION_RATE_LIMIT


def _suggestion_page(request, form_class, template, context, **form_options):
    form = form_class(request.POST if request.method == "POST" else None, **form_options)
    if form.is_bound and form.is_valid():
        if not allow_suggestion(request):
            response = render(request, "providers/suggestions/too_many.html", context, status=429)
            response["Retry-After"] = str(settings.SUGGESTION_RATE_PERIOD)
            return response
        # A filled honeypot gets the same thanks as a person, so the software learns nothing.
        if not form.is_from_a_robot:
            suggestion = form.save()
            suggestion.notify_curators(request.build_absolute_uri(suggestion.admin_url))
        return redirect("suggestion_thanks")
    return render(request, template, {**context, "form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def suggest_correction(request, slug):
    provider = get_object_or_404(Provider.objects.published(), slug=slug)
    return _suggestion_page(
        request, CorrectionForm, "providers/suggestions/correction.html", {"provider": provider}, provider=provider
    )


@require_http_methods(["GET", "HEAD", "POST"])
def suggest_provider(request):
    return _suggestion_page(request, NewProviderForm, "providers/suggestions/new_provider.html", {})


def thanks(request):
    return render(request, "providers/suggestions/thanks.html")
