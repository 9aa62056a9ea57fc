"""Response headers that keep visitors' browsing to themselves."""

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def privacy_headers(get_response):
    """Send Permissions-Policy on every response, and a referrer policy that keeps the site's own forms working.

    The site-wide policy (SECURE_REFERRER_POLICY) is "no-referrer". With it Chromium sends
    "Origin: null" on a form post, which CsrfViewMiddleware refuses. A page that sets the CSRF
    cookie rendered a token, so it holds a form posting back here: that page alone sends
    "same-origin" (the admin and the suggestion forms; search and provider pages never do).
    Place it before CsrfViewMiddleware, so that the cookie is on the response when it looks.
    """

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if settings.CSRF_COOKIE_NAME in response.cookies:
            # SecurityMiddleware only sets Referrer-Policy when no view or middleware has.
            response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return middleware


def language_from_path(get_response):
    """Speak the language named by the URL prefix (/es/, /ar/, ...), else English.

    Used instead of Django's LocaleMiddleware, which would fall back to a cookie or
    the browser's Accept-Language: the language lives in the link alone, so a shared
    or bookmarked link reads the same on any device and no cookie is needed.
    Pages outside the prefixed URLs (the admin, the API) are in English.
    """

    def middleware(request):
        language = translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        # Restored afterwards, so the language of one request never leaks into what runs next on this thread.
        with translation.override(language):
            response = get_response(request)
        response.headers.setdefault("Content-Language", language)
        if getattr(request, "varies_on_accept_language", False):
            patch_vary_headers(response, ["Accept-Language"])
        return response

    return middleware
