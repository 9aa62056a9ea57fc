"""Public pages served to anonymous visitors from the cache, until the listings change.

A page is stored under its address, language, host and the current *data version*;
any change to listings, vocabularies, organisations or crisis lines drops the
version (``forget_pages``), so every app server sharing the cache serves fresh
pages from the next request on. PAGE_CACHE_SECONDS bounds how long a page lives
otherwise (0 turns the cache off).

Only what is the same for every anonymous visitor is stored: GET and HEAD without
a session cookie (curators, who may see drafts, are never served a stored page),
answers 200 that set no cookie and hold no CSRF token. A page whose crisis lines
follow the visitor's Accept-Language is stored once per language region.
"""

import functools
import hashlib
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

from directory.versioned import current_version
from providers.models.crisis_line import language_region

VERSION_KEY = "pages:data-version"


def forget_pages(**kwargs):
    """Drop every stored page (a signal receiver, and called after imports and bulk changes)."""
    cache.delete(VERSION_KEY)


def cached_page(view):
    """Serve ``view``'s page from the cache when it is the same for every anonymous visitor."""

    @functools.wraps(view)
    def serve(request, *args, **kwargs):
        if not _may_use_cache(request):
            return view(request, *args, **kwargs)
        keys = _PageKeys.of(request)
        # Each key holds one kind of value, whatever order visitors come in: the address's page,
        # the mark that the address has a page per region, and this visitor's region's page.
        stored = cache.get_many([keys.page, keys.by_region, keys.region_page])
        if keys.by_region in stored:
            request.varies_on_accept_language = True
            page = stored.get(keys.region_page)
        else:
            page = stored.get(keys.page)
        if page is not None:
            status, content_type, content = page
            return HttpResponse(content, status=status, content_type=content_type)
        response = view(request, *args, **kwargs)
        if _may_store(request, response):
            page = (response.status_code, response["Content-Type"], response.content)
            if getattr(request, "varies_on_accept_language", False):
                entries = {keys.by_region: True, keys.region_page: page}
            else:
                entries = {keys.page: page}
            cache.set_many(entries, settings.PAGE_CACHE_SECONDS)
        return response

    return serve


def _may_use_cache(request):
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def _may_store(request, response):
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        # get_token() was called: the page holds a CSRF token meant for this visitor only.
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    )


class _PageKeys(NamedTuple):
    page: str
    by_region: str
    region_page: str

    @classmethod
    def of(cls, request):
        address = "\n".join((request.scheme, request.get_host(), request.LANGUAGE_CODE, request.get_full_path()))
        key = f"pages:{current_version(VERSION_KEY)}:{hashlib.sha256(address.encode()).hexdigest()}"
        region = language_region(request.headers.get("Accept-Language", ""))
        return cls(page=key, by_region=f"{key}:by-region", region_page=f"{key}:region:{region}")
