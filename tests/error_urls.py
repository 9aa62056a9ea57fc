"""URLs for the error-page tests: the site's own, plus one view that fails."""

from django.urls import path

from directory.urls import urlpatterns as site_urlpatterns


def broken_view(request):
    raise RuntimeError("A failure the visitor must never see")


urlpatterns = [*site_urlpatterns, path("broken/", broken_view)]
