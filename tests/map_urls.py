"""URLs for the map tests: the site's own, plus a tile server on the live server itself."""

import base64

from django.http import HttpResponse
from django.urls import path

from directory.urls import urlpatterns as site_urlpatterns

# A 1×1 PNG, answered for every tile the map asks for.
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def tile(request, z, x, y):
    return HttpResponse(TILE, content_type="image/png")


urlpatterns = [*site_urlpatterns, path("test-tiles/<int:z>/<int:x>/<int:y>.png", tile)]
