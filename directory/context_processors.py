from urllib.parse import urlsplit

from django.conf import settings

from providers.models.crisis_line import CrisisLine, language_region


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
    region = language_region(getattr(request, "LANGUAGE_CODE", ""))
    return {"crisis_lines": CrisisLine.objects.for_country(country, region)}
