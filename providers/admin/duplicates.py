"""Likely duplicates in the admin: the groups found, merging a group into one listing, or dismissing it.

Served under /admin/providers/provider/duplicates/ (included from directory/urls.py
before the admin's own URLs, which would take "duplicates" for a provider id),
each view wrapped by the admin site, so the admin's login, CSRF and page frame apply.
Curators may use it: it needs the permission to change providers.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from providers.admin.roles import partner_source_ids
from providers.curation.duplicates import attach_providers, candidates, find_duplicates
from providers.curation.merging import merge, plan_merge
from providers.models import NotDuplicate, Provider, Source
from providers.models.fields import COUNTRY_CODES

CHANGE_PERMISSION = "providers.change_provider"
GROUPS_PER_PAGE = 50
# Groups hold a handful of listings; dismissing records every pair, so a request may name at most this many.
MAX_LISTINGS = 50
# The largest id a BigAutoField holds; the databases refuse larger numbers with an error rather than no match.
MAX_ID = 2**63 - 1

app_name = "duplicates"


def _require_curator(request):
    # Partner importers may change listings, but only their own; duplicates span every source.
    if not request.user.has_perm(CHANGE_PERMISSION) or partner_source_ids(request.user) is not None:
        raise PermissionDenied


def _render(request, template, context):
    context = {
        **admin.site.each_context(request),
        "opts": Provider._meta,
        "has_view_permission": request.user.has_perm("providers.view_provider"),
        **context,
    }
    return TemplateResponse(request, f"admin/providers/provider/{template}", context)


def _ids(values):
    """Listing ids from request values; ValidationError when one is not an id or there are too many."""
    message = "Listings are chosen by their number; reload the page and choose again."
    try:
        ids = [int(value) for value in values]
    except ValueError:
        raise ValidationError(message) from None
    if not all(0 < pk <= MAX_ID for pk in ids):
        raise ValidationError(message)
    if len(ids) > MAX_LISTINGS:
        raise ValidationError(f"Choose at most {MAX_LISTINGS} listings at a time.")
    return ids


def duplicate_list(request):
    """The groups of likely duplicates, optionally of one country or one source, a page at a time."""
    _require_curator(request)
    listings = candidates()
    country = request.GET.get("country", "").strip().upper()
    if country:
        if country in COUNTRY_CODES:
            listings = listings.in_countries([country])
        else:
            messages.error(request, f"“{country}” is not a country code (two letters, e.g. KE); showing every country.")
            country = ""
    sources = list(Source.objects.order_by("name"))
    source = next((item for item in sources if item.slug == request.GET.get("source")), None)
    groups = find_duplicates(listings, source=source)
    page = Paginator(groups, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    attach_providers(page.object_list)
    return _render(
        request,
        "duplicates.html",
        {
            "title": "Likely duplicates",
            "page_obj": page,
            "group_count": len(groups),
            "sources": sources,
            "source": source,
            "country": country,
        },
    )


def merge_view(request):
    """GET: what merging the chosen listings would change, to confirm. POST: merge them."""
    _require_curator(request)
    data = request.POST if request.method == "POST" else request.GET
    try:
        if not data.get("keep"):
            raise ValidationError("Choose the listing to keep.")
        [keeper_id] = _ids([data["keep"]])
        other_ids = [pk for pk in dict.fromkeys(_ids(data.getlist("merge"))) if pk != keeper_id]
        if request.method == "POST":
            plan = merge(keeper_id, other_ids, request.user)
        else:
            plan = plan_merge(keeper_id, other_ids)
    except ValidationError as error:
        messages.error(request, "Nothing was merged: " + " ".join(error.messages))
        return redirect("duplicates:list")
    if request.method != "POST":
        return _render(request, "merge_confirm.html", {"title": f"Merge into “{plan.keeper}”", "plan": plan})
    url = reverse("admin:providers_provider_change", args=[plan.keeper.pk])
    count = len(plan.others)
    message = 'Merged {} listing{} into <a href="{}">{}</a>; their addresses now lead there.'
    messages.success(request, format_html(message, count, "" if count == 1 else "s", url, plan.keeper))
    return redirect("duplicates:list")


@require_POST
def dismiss_view(request):
    """Record that the listings of a group are not duplicates of one another, so the group is not shown again."""
    _require_curator(request)
    try:
        ids = set(_ids(request.POST.getlist("ids")))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("duplicates:list")
    providers = list(Provider.objects.filter(pk__in=ids))
    if len(providers) < 2:
        messages.error(request, "Choose at least two listings that are not duplicates.")
        return redirect("duplicates:list")
    NotDuplicate.objects.record(providers, request.user)
    messages.success(
        request, f"Marked {len(providers)} listings as different providers; they will not be shown together again."
    )
    return redirect("duplicates:list")


urlpatterns = [
    path("", admin.site.admin_view(duplicate_list), name="list"),
    path("merge/", admin.site.admin_view(merge_view), name="merge"),
    path("dismiss/", admin.site.admin_view(dismiss_view), name="dismiss"),
]
