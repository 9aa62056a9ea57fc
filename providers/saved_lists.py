"""A saved list: providers a person keeps to call later, prints, or hands to someone else.

A list is its address, ``/list/?p=<slug>&p=<slug>``, and nothing else: no account, cookie or
session, and nothing stored on the server. Two ways build one:

- With JavaScript (static/js/saved_list.js), "Save" keeps the slug in the browser's
  localStorage; the "Saved list" link opens the device's list as such an address, and Quick exit
  forgets it.
- Without it, a provider page reached from a list carries that list in its query string
  (``?list=a,b``), and its "Save" link leads to ``/list/?p=a&p=b&p=<this one>``. The list page
  links each provider, and "search for more", with the list carried the same way.

The page is not kept in the page cache (``caching.cached_page``): nearly every list is different,
so the cache would fill with pages nobody asks for again, and a shared Redis would keep, for
PAGE_CACHE_SECONDS, which providers someone put together. A list costs two queries.
"""

from urllib.parse import urlencode

import segno
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from providers.caching import SAVED_LIST_PARAMETER
from providers.models import Provider
from providers.search.hours import attach_hours
from providers.search.vocabulary import CARD_TAXONOMIES, attach_terms

# A list longer than this is cut: it is no longer something to call through, and its address grows long.
MAX_PROVIDERS = 50
# Provider.slug's max_length: anything longer cannot be a listing.
_SLUG_LENGTH = 120


def clean_slugs(values):
    """The distinct slugs among ``values``, in their order, with anything that cannot be a slug left out."""
    slugs = []
    for value in values:
        value = value.strip()
        if value and len(value) <= _SLUG_LENGTH and "," not in value and value not in slugs:
            slugs.append(value)
    return slugs


def list_url(slugs):
    """The address of the list of ``slugs``, in the current language."""
    url = reverse("saved_list")
    return f"{url}?{urlencode([('p', slug) for slug in slugs])}" if slugs else url


def carried_slugs(request):
    """The list a page was reached from without JavaScript (``?list=a,b``)."""
    return clean_slugs(request.GET.get(SAVED_LIST_PARAMETER, "").split(","))[:MAX_PROVIDERS]


def with_carried_list(url, slugs):
    """``url`` carrying the list ``slugs``, so that its "Save" link can add to it."""
    return f"{url}?{urlencode({SAVED_LIST_PARAMETER: ','.join(slugs)})}" if slugs else url


def qr_code_svg(url):
    """``url`` as a QR code, an inline SVG element; None if it holds too much for one."""
    try:
        code = segno.make(url, error="m", micro=False)
    except segno.DataOverflowError:
        return None
    # omitsize: sized by the stylesheet through its viewBox. The title names it for screen readers.
    svg = code.svg_inline(scale=4, omitsize=True, svgclass="qr-code", title=gettext("QR code of the link to this list"))
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))


def saved_list(request):
    requested = clean_slugs(request.GET.getlist("p"))
    too_many = len(requested) > MAX_PROVIDERS
    requested = requested[:MAX_PROVIDERS]
    by_slug = {provider.slug: provider for provider in Provider.objects.published().filter(slug__in=requested)}
    providers = [by_slug[slug] for slug in requested if slug in by_slug]
    attach_terms(providers, CARD_TAXONOMIES)
    attach_hours(providers)
    slugs = [provider.slug for provider in providers]
    for provider in providers:
        provider.list_url = with_carried_list(provider.get_absolute_url(), slugs)
        provider.remove_url = list_url([slug for slug in slugs if slug != provider.slug])
    countries = {provider.country.code for provider in providers}
    if len(countries) == 1:
        request.crisis_country = countries.pop()
    # The link shared holds only the providers shown, so it stays as short as it can be.
    share_url = request.build_absolute_uri(list_url(slugs))
    context = {
        "providers": providers,
        "requested": requested,
        "unknown_count": len(requested) - len(providers),
        "too_many": too_many,
        "max_providers": MAX_PROVIDERS,
        "share_url": share_url,
        "qr_code": qr_code_svg(share_url) if providers else None,
        "search_url": with_carried_list(reverse("providers:list"), slugs),
    }
    response = render(request, "providers/saved_list.html", context)
    # Someone's list is nothing for a search engine to keep.
    response["X-Robots-Tag"] = "noindex"
    return response
