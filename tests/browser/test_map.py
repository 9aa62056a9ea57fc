"""The opt-in map in a real browser: nothing leaves the site until the person asks for the map."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import BROWSER_TEST_MARKS, chromium_page, on_live_server

pytestmark = BROWSER_TEST_MARKS

OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
HOSTILE_NAME = '<img src="/pwned.png" onerror="window.pwned = true">Nairobi Recovery'


@pytest.fixture
def page(request, live_server, transactional_db):
    with chromium_page(live_server, javascript=getattr(request, "param", True), block_other_hosts=True) as page:
        yield page


def paths(requests):
    return [urlsplit(request.url).path for request in requests]


def assert_only_this_site_and_no_map(requests, live_server):
    assert requests
    assert [request.url for request in requests if not on_live_server(request.url, live_server)] == []
    assert [path for path in paths(requests) if "leaflet" in path or path.startswith("/test-tiles/")] == []


@pytest.fixture
def listings(make_provider):
    return {
        "mombasa": make_provider(
            name="Harbour Medication Clinic", city="Mombasa", country="KE", latitude=-4.0435, longitude=39.6682
        ),
        "kisumu": make_provider(
            name="Lakeside Residential", city="Kisumu", country="KE", latitude=-0.0917, longitude=34.768
        ),
        "nairobi": make_provider(name=HOSTILE_NAME, city="Nairobi", country="KE", latitude=-1.2864, longitude=36.8172),
        "regina": make_provider(name="Prairie Peer Centre", city="Regina", country="CA"),
    }


def test_search_and_provider_pages_contact_no_one_else_before_the_map_is_asked_for(
    live_server, test_tiles, listings, page, requested
):
    page.goto(live_server.url + "/providers/?country=KE")
    expect(page.get_by_role("button", name="Show map")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.goto(live_server.url + listings["mombasa"].get_absolute_url())
    expect(page.get_by_role("button", name="Show map")).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert_only_this_site_and_no_map(requested, live_server)
    expect(page.locator("script[src*='leaflet'], link[href*='leaflet']")).to_have_count(0)


def test_show_map_loads_leaflet_from_this_site_and_tiles_from_the_tile_url(
    live_server, test_tiles, listings, page, requested
):
    page.goto(live_server.url + "/providers/?country=KE")
    page.get_by_role("button", name="Show map").click()

    expect(page.get_by_role("button", name="Hide map")).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("region", name="Map of the providers on this page")).to_be_visible()
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    loaded = paths(requested)
    for path in (
        "/static/leaflet/leaflet.js",
        "/static/leaflet/leaflet.css",
        "/static/leaflet-markercluster/leaflet.markercluster-src.js",
        "/static/leaflet-markercluster/MarkerCluster.css",
        "/static/leaflet-markercluster/MarkerCluster.Default.css",
    ):
        assert path in loaded
    tiles = [request for request in requested if urlsplit(request.url).path.startswith("/test-tiles/")]
    assert tiles
    assert [request.url for request in requested if not on_live_server(request.url, live_server)] == []
    # Tile servers learn which site the map is on, never the search in the page's address.
    assert {tile.header_value("referer") for tile in tiles} == {live_server.url + "/"}

    page.get_by_role("button", name="Hide map").click()
    expect(page.get_by_role("region", name="Map of the providers on this page")).to_be_hidden()
    expect(page.get_by_role("button", name="Show map")).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Lakeside Residential")).to_be_visible()


def test_a_keyboard_user_opens_the_map_and_a_markers_link(live_server, test_tiles, listings, page, requested):
    page.goto(live_server.url + listings["nairobi"].get_absolute_url())

    page.get_by_role("button", name="Show map").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Map of where this provider is")).to_be_visible()
    page.get_by_role("button", name=HOSTILE_NAME).focus()
    page.keyboard.press("Enter")

    popup_link = page.locator(".leaflet-popup-content a")
    expect(popup_link).to_have_text(HOSTILE_NAME)
    expect(popup_link).to_have_attribute("href", listings["nairobi"].get_absolute_url())
    assert page.evaluate("window.pwned") is None
    assert "/pwned.png" not in paths(requested)


@pytest.mark.parametrize("page", [False], indirect=True, ids=["javascript-off"])
def test_without_javascript_nothing_of_the_map_shows(live_server, test_tiles, listings, page, requested):
    page.goto(live_server.url + "/providers/?country=KE")
    expect(page.get_by_role("link", name="Lakeside Residential")).to_be_visible()
    expect(page.get_by_role("button", name="Show map")).to_have_count(0)
    expect(page.get_by_text("Showing the map loads")).to_be_hidden()

    page.goto(live_server.url + listings["mombasa"].get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Medication Clinic")
    expect(page.get_by_role("button", name="Show map")).to_have_count(0)

    assert_only_this_site_and_no_map(requested, live_server)


def test_with_the_default_tiles_openstreetmap_is_not_contacted_until_asked(
    live_server, settings, listings, page, requested
):
    settings.MAP_TILE_URL = OSM_TILE_URL

    page.goto(live_server.url + "/providers/?country=KE")
    expect(page.locator("[data-map]")).to_have_attribute("data-tile-url", OSM_TILE_URL)
    expect(page.get_by_role("button", name="Show map")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.goto(live_server.url + listings["kisumu"].get_absolute_url())
    expect(page.get_by_role("button", name="Show map")).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert [request.url for request in requested if "openstreetmap" in request.url] == []
    assert_only_this_site_and_no_map(requested, live_server)
