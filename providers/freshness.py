"""What is cached from the listings, and forgetting it when they change."""

from django.core.cache import cache
from django.db.models import Count

from directory.page_cache import forget_pages
from providers.filters import CHOICES_CACHE_SECONDS, forget_filter_choices
from providers.models import Provider

TOTALS_CACHE_KEY = "providers:totals"


def published_totals():
    """{"providers": n, "countries": m} of the published listings, as the home page states them.

    Counting every listing (and every country) costs more than the rest of the page, so the
    figures are kept like the search choices.
    """
    totals = cache.get(TOTALS_CACHE_KEY)
    if totals is None:
        totals = Provider.objects.published().aggregate(
            providers=Count("pk"), countries=Count("country", distinct=True)
        )
        cache.set(TOTALS_CACHE_KEY, totals, CHOICES_CACHE_SECONDS)
    return totals


def listings_changed(**kwargs):
    """Drop the cached search choices, totals and every stored page.

    A signal receiver for everything public pages show, and called after imports
    and bulk changes, whose ``update()`` and bulk writes send no signals.
    """
    forget_filter_choices()
    cache.delete(TOTALS_CACHE_KEY)
    forget_pages()
