"""Every language in a real browser: private until the map is asked for, usable by keyboard, mirrored in Arabic."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import BROWSER_TEST_MARKS, LANGUAGE_PREFIXES, chromium_page, on_live_server

pytestmark = BROWSER_TEST_MARKS

RESULTS_WITH_FILTERS = "/providers/?country=KE&modality=mat&near=Mombasa&radius=50"
# Enough for any of these pages' tab order; a loop that needs more has lost its way.
MAX_TABS = 60


@pytest.fixture(params=LANGUAGE_PREFIXES.items(), ids=LANGUAGE_PREFIXES.keys())
def language(request):
    """A (code, URL prefix) pair."""
    return request.param


@pytest.fixture
def page(live_server, transactional_db):
    with chromium_page(live_server, block_other_hosts=True) as page:
        yield page


def is_tile_or_leaflet(url):
    path = urlsplit(url).path
    return "leaflet" in path or path.startswith("/test-tiles/")


def test_pages_contact_only_this_site_and_set_no_cookie_until_the_map_is_asked_for(
    live_server, test_tiles, harbour_clinic, language, page, requested
):
    """Translations must not bring in fonts, scripts or the map from elsewhere, nor remember the language
    in a cookie."""
    code, prefix = language
    for path in ("/", RESULTS_WITH_FILTERS, harbour_clinic.get_absolute_url()):
        page.goto(live_server.url + prefix + path)
        expect(page.locator("html")).to_have_attribute("lang", code)
        page.wait_for_load_state("networkidle")

    assert requested
    assert [request.url for request in requested if not on_live_server(request.url, live_server)] == []
    assert [request.url for request in requested if is_tile_or_leaflet(request.url)] == []
    expect(page.locator("script[src*='leaflet'], link[href*='leaflet']")).to_have_count(0)

    page.locator("[data-map] button").click()
    expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert [request for request in requested if urlsplit(request.url).path.startswith("/test-tiles/")]
    assert [request.url for request in requested if not on_live_server(request.url, live_server)] == []
    assert page.context.cookies() == []


# --- Keyboard only -------------------------------------------------------------------------------


def describe_focus(page):
    return page.evaluate(
        """() => {
            const element = document.activeElement;
            if (!element || element === document.body) return "(nothing: body)";
            const text = (element.innerText || element.value || "").trim().replace(/\\s+/g, " ").slice(0, 40);
            const href = element.getAttribute("href");
            return `<${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""}`
                + `${element.name ? ` name=${element.name}` : ""}${href ? ` href=${href}` : ""}> ${text}`;
        }"""
    )


def tab_to(page, selector):
    """Press Tab until the focused element matches ``selector``; fail listing where focus went."""
    visited = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("selector => document.activeElement.matches(selector)", selector):
            return page.locator("*:focus")
        visited.append(describe_focus(page))
    pytest.fail(f"Tab never reached {selector} in {MAX_TABS} presses; focus went to:\n" + "\n".join(visited))


def focus_indicator(page):
    """The focused element's outline style and box shadow: one of them must show where focus is."""
    return page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return {outline: style.outlineStyle, shadow: style.boxShadow};
        }"""
    )


def assert_focus_is_visible(page):
    expect(page.locator("*:focus")).to_be_visible()
    indicator = focus_indicator(page)
    assert indicator["outline"] != "none" or indicator["shadow"] != "none", (describe_focus(page), indicator)


@pytest.fixture
def listings(harbour_clinic, make_provider):
    return {
        "mombasa": harbour_clinic,
        "kisumu": make_provider(name="Lakeside Residential", city="Kisumu", country="KE", phone="+254733000111"),
    }


@pytest.mark.parametrize("language", [("en", ""), ("ar", "/ar")], ids=["en", "ar"], indirect=True)
def test_a_keyboard_user_searches_opens_a_provider_and_reaches_its_phone(live_server, listings, language, page):
    """Someone who cannot use a mouse or touch screen gets from the home page to the number to call."""
    code, prefix = language
    clinic = listings["mombasa"]
    page.goto(live_server.url + prefix + "/")

    tab_to(page, "input[name=q]")
    assert_focus_is_visible(page)
    page.keyboard.type("Mombasa")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/providers/\?.*q=Mombasa"))
    expect(page.locator("html")).to_have_attribute("lang", code)
    page.wait_for_load_state()

    result = tab_to(page, f"article.result h3 a[href='{prefix}{clinic.get_absolute_url()}']")
    assert_focus_is_visible(page)
    expect(result).to_have_text(clinic.name)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(clinic.name)
    page.wait_for_load_state()

    # The crisis lines at the top of every page are phone links too: the skip link passes them.
    tab_to(page, "a.skip-link")
    assert_focus_is_visible(page)
    page.keyboard.press("Enter")
    phone = tab_to(page, 'a[href^="tel:"]')
    expect(phone).to_have_attribute("href", "tel:+254722123456")
    assert_focus_is_visible(page)


# --- Right to left --------------------------------------------------------------------------------


def quick_exit_box(page):
    return page.locator("[data-quick-exit]").bounding_box()


def test_arabic_mirrors_the_layout(live_server, transactional_db, page):
    """Arabic reads right to left: the page's start, and with it the Quick exit button, swap sides."""
    width = page.viewport_size["width"]

    page.goto(live_server.url + "/")
    assert quick_exit_box(page)["x"] >= width / 2
    assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"

    page.goto(live_server.url + "/ar/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert quick_exit_box(page)["x"] < width / 2
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
