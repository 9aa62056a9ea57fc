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

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

from directory.versioned import current_version
from providers.models.crisis_line import language_region

VERSION_KEY = "pages:data-version"
# Marks an address whose page depends on the visitor's language region.
_BY_REGION = "by-region"


def forget_pages(**kwargs):
    """Drop every stored page (a signal receiver, and called after imports and bulk changes)."""
    cache.delete(VERSION_KEY)


def cached_page(view):
    """Serve ``view``'s page from the cache when it is the same for every anonymous visitor."""

    @functools.wraps(view)
    def serve(request, *args, **kwargs):
        if not _may_use_cache(request):
            return view(request, *args, **kwargs)
        key = _page_key(request)
        stored = cache.get(key)
        if stored == _BY_REGION:
            request.varies_on_accept_language = True
            key = _region_key(key, request)
            stored = cache.get(key)
        if stored is not None:
            status, content_type, content = stored
            return HttpResponse(content, status=status, content_type=content_type)
        response = view(request, *args, **kwargs)
        if _may_store(request, response):
            if getattr(request, "varies_on_accept_language", False):
                cache.set(key, _BY_REGION, settings.PAGE_CACHE_SECONDS)
                key = _region_key(key, request)
            page = (response.status_code, response["Content-Type"], response.content)
            cache.set(key, page, settings.PAGE_CACHE_SECONDS)
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


def _page_key(request):
    address = "\n".join((request.scheme, request.get_host(), request.LANGUAGE_CODE, request.get_full_path()))
    return f"pages:{current_version(VERSION_KEY)}:{hashlib.sha256(address.encode()).hexdigest()}"


def _region_key(key, request):
    return f"{key}:{language_region(request.headers.get('Accept-Language', ''))}"
