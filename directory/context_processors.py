from urllib.parse import urlsplit

from django.conf import settings


def map_settings(request):
    """Where the opt-in map's tiles come from, for the map partial on any page."""
    return {
        "map_tile_url": settings.MAP_TILE_URL,
        "map_tile_host": urlsplit(settings.MAP_TILE_URL).hostname or "",
        "map_attribution": settings.MAP_ATTRIBUTION,
    }
