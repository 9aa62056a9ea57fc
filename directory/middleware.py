"""Response headers that keep visitors' browsing to themselves."""

from django.conf import settings


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
