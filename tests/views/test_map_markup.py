"""The map's markup: only mappable providers, data that cannot break out, and no Leaflet until asked."""

import json
from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.django_db

SCRIPT_BREAKOUT = "</script><script>alert(1)</script>"


class PageParts(HTMLParser):
    """The map data, the scripts and the stylesheets of a page."""

    def __init__(self, html):
        super().__init__()
        self.map_data = None
        self.map_region = None
        self.script_sources = []
        self.deferred_scripts = []
        self.stylesheets = []
        self._in_map_data = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" in attrs:
            self.script_sources.append(attrs["src"])
            if "defer" in attrs:
                self.deferred_scripts.append(attrs["src"])
        if tag == "script" and attrs.get("id") == "map-data":
            self._in_map_data = True
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.stylesheets.append(attrs["href"])
        if "data-map" in attrs:
            self.map_region = attrs

    def handle_data(self, data):
        if self._in_map_data:
            self.map_data = json.loads(data)

    def handle_endtag(self, tag):
        self._in_map_data = False


def page_parts(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return PageParts(response.content.decode())


@pytest.fixture
def kenya(make_provider):
    return [
        make_provider(
            name="Harbour Medication Clinic", city="Mombasa", country="KE", latitude=-4.0435, longitude=39.6682
        ),
        make_provider(name="Lakeside Residential", city="Kisumu", country="KE", latitude=-0.0917, longitude=34.768),
        make_provider(name="Nairobi Walk-in Centre", city="Nairobi", country="KE"),
    ]


def test_the_map_lists_only_the_providers_with_coordinates(client, kenya):
    parts = page_parts(client, "/providers/?country=KE")

    assert parts.map_data == [
        {"name": "Harbour Medication Clinic", "url": kenya[0].get_absolute_url(), "lat": -4.0435, "lng": 39.6682},
        {"name": "Lakeside Residential", "url": kenya[1].get_absolute_url(), "lat": -0.0917, "lng": 34.768},
    ]


def test_the_map_shows_only_the_current_page_of_results(client, settings, kenya):
    settings.PROVIDERS_PER_PAGE = 1

    parts = page_parts(client, "/providers/?country=KE&page=2")

    assert [place["name"] for place in parts.map_data] == ["Lakeside Residential"]


def test_the_provider_page_maps_its_own_provider(client, kenya):
    parts = page_parts(client, kenya[1].get_absolute_url())

    assert parts.map_data == [
        {"name": "Lakeside Residential", "url": kenya[1].get_absolute_url(), "lat": -0.0917, "lng": 34.768}
    ]


def assert_no_map(response):
    assert response.status_code == 200
    assert b"data-map" not in response.content
    assert b"map-data" not in response.content
    assert b"js/map.js" not in response.content


def test_results_without_coordinates_have_no_map(client, make_provider):
    make_provider(name="Prairie Peer Centre", city="Regina", country="CA")

    assert_no_map(client.get("/providers/"))


def test_no_results_means_no_map(client, kenya):
    assert_no_map(client.get("/providers/?country=CA"))


def test_a_provider_without_coordinates_has_no_map(client, kenya):
    assert_no_map(client.get(kenya[2].get_absolute_url()))


@pytest.mark.parametrize("page", ["results", "provider"])
def test_a_provider_name_cannot_break_out_of_the_map_data(client, make_provider, page):
    provider = make_provider(name=SCRIPT_BREAKOUT, city="Mombasa", country="KE", latitude=-4.0435, longitude=39.6682)

    response = client.get("/providers/?country=KE" if page == "results" else provider.get_absolute_url())

    assert b"<script>alert(1)" not in response.content
    parts = PageParts(response.content.decode())
    assert [place["name"] for place in parts.map_data] == [SCRIPT_BREAKOUT]
    assert not [source for source in parts.script_sources if "alert" in source]


@pytest.mark.parametrize("page", ["results", "provider"])
def test_no_leaflet_is_loaded_before_the_person_asks(client, kenya, page):
    parts = page_parts(client, "/providers/?country=KE" if page == "results" else kenya[0].get_absolute_url())

    assert parts.map_region is not None
    assert "hidden" in parts.map_region
    assert not [url for url in parts.script_sources + parts.stylesheets if "leaflet" in url.lower()]
    assert "/static/js/map.js" in parts.deferred_scripts


def test_the_tile_server_and_the_leaflet_files_come_from_settings_and_static(client, settings, kenya):
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    settings.MAP_ATTRIBUTION = '© <a href="https://example.org/">Example</a>'

    region = page_parts(client, "/providers/?country=KE").map_region

    assert region["data-tile-url"] == "https://tiles.example.org/{z}/{x}/{y}.png"
    assert region["data-attribution"] == '© <a href="https://example.org/">Example</a>'
    assert region["data-leaflet-js"] == "/static/leaflet/leaflet.js"
    assert region["data-markercluster-js"] == "/static/leaflet-markercluster/leaflet.markercluster-src.js"
    assert region["data-marker-icon"] == "/static/leaflet/images/marker-icon.png"


def test_the_map_tells_people_which_host_serves_the_map_images(client, settings, kenya):
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"

    response = client.get("/providers/?country=KE")

    assert b"Showing the map loads map images from tiles.example.org." in response.content


def test_the_about_page_credits_openstreetmap_and_geonames(client):
    response = client.get("/about/")

    assert b'href="https://www.openstreetmap.org/copyright"' in response.content
    assert b"Open Database License (ODbL)" in response.content
    assert b'href="https://www.geonames.org/"' in response.content
    assert b"CC BY 4.0" in response.content
