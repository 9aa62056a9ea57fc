from urllib.parse import urlsplit

from django.conf import settings
from django.utils import translation

from providers.models.crisis_line import CrisisLine
from providers.visitor import language_region


def map_settings(request):
    """Where the opt-in map's tiles come from, for the map partial on any page."""
    return {
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_host": urlsplit(settings.MAP_TILE_URL).hostname or "",
        "map_attribution": settings.MAP_ATTRIBUTION,
    }


def quick_exit(request):
    """Where the "Quick exit" link on every page leads."""
    return {"quick_exit_url": settings.QUICK_EXIT_URL}


def crisis_lines(request):
    """The lines for the country a view says the page is about, else the visitor's language region."""
    country = getattr(request, "crisis_country", "")
    if not country:
        # The page now depends on the header; language_from_path tells caches so.
        request.varies_on_accept_language = True
    region = language_region(request.headers.get("Accept-Language", ""))
    return {"crisis_lines": CrisisLine.objects.for_country(country, region)}


def language_versions(request):
    """This page in every language, for the language switcher and the hreflang links.

    Empty where the path names no page (a 404), since there is nothing to switch to.
    """
    if getattr(request, "resolver_match", None) is None:
        return {"language_versions": []}
    current = translation.get_language()
    path = request.get_full_path()
    # Addresses differ between languages only in their prefix (i18n_patterns, no translated paths),
    # so swapping it gives what translate_url would, without resolving the address five times.
    if current != settings.LANGUAGE_CODE:
        path = path.removeprefix(f"/{current}")
    versions = []
    for code, name in settings.LANGUAGES:
        url = path if code == settings.LANGUAGE_CODE else f"/{code}{path}"
        versions.append(
            {
                "code": code,
                "name": name,
                "url": url,
                "absolute_url": request.build_absolute_uri(url),
                "is_current": code == current,
                "is_default": code == settings.LANGUAGE_CODE,
            }
        )
    return {"language_versions": versions}
