"""Forgetting what is cached from the listings when they change."""

from directory.page_cache import forget_pages
from providers.filters import forget_filter_choices


def listings_changed(**kwargs):
    """Drop the cached search choices and every stored page.

    A signal receiver for everything public pages show, and called after imports
    and bulk changes, whose ``update()`` and bulk writes send no signals.
    """
    forget_filter_choices()
    forget_pages()
