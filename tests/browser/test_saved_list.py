"""A person keeps a list of providers to call later, prints it or hands it on: with JavaScript on the device
(localStorage), without it in the address alone; either way nothing reaches another host."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import translation
from playwright.sync_api import expect

from tests.browser.helpers import BROWSER_TEST_MARKS, LANGUAGE_PREFIXES, chromium_page, on_live_server

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def listings(make_provider):
    harbour = make_provider(
        name="Harbour Medication Clinic",
        street_address="12 Nkrumah Road",
        city="Mombasa",
        country="KE",
        phone="+254722123456",
        modalities=["mat"],
    )
    lakeside = make_provider(name="Lakeside Residential", city="Kisumu", country="KE", phone="+254733000111")
    return harbour, lakeside


@pytest.fixture
def js_page(live_server, transactional_db):
    with chromium_page(live_server, block_other_hosts=True) as page:
        yield page


@pytest.fixture
def no_js_page(live_server, transactional_db):
    with chromium_page(live_server, javascript=False, block_other_hosts=True) as page:
        yield page


def requests_of(page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    return requests


def card(page, name):
    """A result or list entry, by its provider's name."""
    return page.locator(".result").filter(has=page.get_by_role("heading", name=name))


def saved_on_device(page):
    return page.evaluate("JSON.parse(localStorage.getItem('savedProviders') || '[]')")


def test_a_person_saves_from_results_and_a_provider_page_and_quick_exit_forgets_them(
    live_server, listings, js_page, settings
):
    harbour, lakeside = listings
    settings.QUICK_EXIT_URL = live_server.url + "/about/"
    requested = requests_of(js_page)

    js_page.goto(live_server.url + "/providers/?country=KE")
    save = card(js_page, "Harbour Medication Clinic").get_by_role("button", name="Save")
    expect(save).to_have_attribute("aria-pressed", "false")
    # Named "Save", described by the provider's name, so a screen reader says which one.
    expect(save).to_have_accessible_description("Harbour Medication Clinic")
    save.click()
    expect(save).to_have_attribute("aria-pressed", "true")
    expect(save).to_have_text("Saved")
    expect(js_page.get_by_role("link", name="Saved list (1)")).to_be_visible()

    js_page.goto(live_server.url + lakeside.get_absolute_url())
    expect(js_page.get_by_role("link", name="Saved list (1)")).to_be_visible()
    save = js_page.locator("button[data-save]")
    expect(save).to_have_accessible_name("Save")
    save.click()
    expect(save).to_have_attribute("aria-pressed", "true")
    expect(save).to_have_text("Saved")
    js_page.get_by_role("link", name="Saved list (2)").click()

    expect(js_page.get_by_role("heading", level=1)).to_have_text("Saved list")
    assert js_page.url == f"{live_server.url}/list/?p={harbour.slug}&p={lakeside.slug}"
    expect(js_page.get_by_role("link", name="Harbour Medication Clinic")).to_be_visible()
    expect(js_page.get_by_role("link", name="Call Main: 0733 000111")).to_have_attribute("href", "tel:+254733000111")
    # The device's own list: nothing to save again.
    expect(card(js_page, "Lakeside Residential").locator("button[data-save]")).to_be_hidden()

    # /list/ alone opens the device's list.
    js_page.goto(live_server.url + "/list/")
    expect(js_page).to_have_url(f"{live_server.url}/list/?p={harbour.slug}&p={lakeside.slug}")

    js_page.get_by_role("link", name="Quick exit").click()
    expect(js_page).to_have_url(live_server.url + "/about/")
    assert saved_on_device(js_page) == []
    js_page.goto(live_server.url + "/list/")
    expect(js_page.get_by_text("No providers are saved yet.")).to_be_visible()
    assert all(on_live_server(url, live_server) for url in requested)


def test_removing_from_the_devices_list_forgets_it_on_the_device(live_server, listings, js_page):
    _harbour, lakeside = listings
    js_page.goto(live_server.url + "/providers/?country=KE")
    card(js_page, "Harbour Medication Clinic").get_by_role("button", name="Save").click()
    card(js_page, "Lakeside Residential").get_by_role("button", name="Save").click()
    js_page.get_by_role("link", name="Saved list (2)").click()

    card(js_page, "Harbour Medication Clinic").get_by_role("link", name="Remove").click()

    expect(js_page).to_have_url(f"{live_server.url}/list/?p={lakeside.slug}")
    assert saved_on_device(js_page) == [lakeside.slug]


def test_someone_elses_list_can_be_kept_on_this_device(live_server, listings, js_page):
    harbour, lakeside = listings
    js_page.goto(f"{live_server.url}/list/?p={harbour.slug}&p={lakeside.slug}")

    save = card(js_page, "Lakeside Residential").get_by_role("button", name="Save")
    save.click()

    expect(save).to_have_attribute("aria-pressed", "true")
    assert saved_on_device(js_page) == [lakeside.slug]


def test_the_link_is_copied_with_one_button(live_server, listings, js_page):
    harbour, _lakeside = listings
    js_page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    js_page.goto(f"{live_server.url}/list/?p={harbour.slug}")

    js_page.get_by_role("button", name="Copy link").click()

    expect(js_page.get_by_role("status").filter(has_text="Link copied")).to_be_visible()
    assert js_page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}/list/?p={harbour.slug}"


def test_without_javascript_a_person_builds_a_list_of_two_from_provider_pages(live_server, listings, no_js_page):
    harbour, lakeside = listings
    requested = requests_of(no_js_page)

    no_js_page.goto(live_server.url + harbour.get_absolute_url())
    no_js_page.get_by_role("link", name="Save", exact=True).click()
    expect(no_js_page).to_have_url(f"{live_server.url}/list/?p={harbour.slug}")

    no_js_page.get_by_role("link", name="Search for more providers").click()
    no_js_page.get_by_role("link", name="Lakeside Residential").click()
    expect(no_js_page.get_by_role("link", name="Saved list (1)")).to_be_visible()
    no_js_page.get_by_role("link", name="Save", exact=True).click()

    expect(no_js_page).to_have_url(f"{live_server.url}/list/?p={harbour.slug}&p={lakeside.slug}")
    expect(no_js_page.get_by_role("heading", level=2, name="Harbour Medication Clinic")).to_be_visible()
    expect(no_js_page.get_by_role("heading", level=2, name="Lakeside Residential")).to_be_visible()
    # Back on a provider page from the list, it says it is saved.
    no_js_page.get_by_role("link", name="Harbour Medication Clinic").click()
    expect(no_js_page.get_by_role("link", name="Saved", exact=True)).to_be_visible()
    expect(no_js_page.get_by_role("link", name="Saved list (2)")).to_be_visible()
    assert all(on_live_server(url, live_server) for url in requested)


def test_a_printed_list_keeps_the_details_and_the_qr_code_and_drops_the_controls(live_server, listings, js_page):
    harbour, lakeside = listings
    js_page.emulate_media(media="print")
    js_page.goto(f"{live_server.url}/list/?p={harbour.slug}&p={lakeside.slug}")

    expect(js_page.get_by_text("12 Nkrumah Road")).to_be_visible()
    expect(js_page.get_by_role("link", name="Call Main: 0722 123456")).to_be_visible()
    expect(js_page.get_by_role("img", name="QR code of the link to this list")).to_be_visible()
    for hidden in (
        card(js_page, "Harbour Medication Clinic").get_by_role("link", name="Remove"),
        js_page.get_by_role("button", name="Copy link"),
        js_page.get_by_role("link", name="Send by email"),
        js_page.get_by_role("link", name="Search for more providers"),
    ):
        expect(hidden).to_be_hidden()


@pytest.mark.parametrize("prefix", LANGUAGE_PREFIXES.values(), ids=LANGUAGE_PREFIXES.keys())
def test_axe_finds_nothing_on_a_list(live_server, listings, js_page, prefix):
    harbour, lakeside = listings
    js_page.goto(f"{live_server.url}{prefix}/list/?p={harbour.slug}&p={lakeside.slug}&p=gone")
    # With the controls saved_list.js shows.
    expect(js_page.locator("[data-copy-link]")).to_be_visible()

    violations = Axe().run(js_page).response["violations"]

    assert [(violation["id"], [node["target"] for node in violation["nodes"]]) for violation in violations] == []


# The call buttons: "Call 0722 123456", never "Call0722 123456", as Chromium itself names and draws them.


def chromium_names(page, role):
    """The accessible names Chromium gives (what screen readers are handed), not Playwright's own reckoning."""
    nodes = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    return [
        node["name"]["value"]
        for node in nodes
        if node.get("role", {}).get("value") == role and not node.get("ignored") and "name" in node
    ]


@pytest.mark.parametrize("language", LANGUAGE_PREFIXES.keys())
def test_call_buttons_keep_the_space_before_the_number(live_server, listings, js_page, language):
    harbour, _lakeside = listings
    prefix = LANGUAGE_PREFIXES[language]
    with translation.override(language):
        call, main = translation.gettext("Call"), translation.pgettext("phone", "Main")

    js_page.goto(f"{live_server.url}{prefix}/providers/?country=KE")
    assert f"{call} 0722 123456" in chromium_names(js_page, "link")
    assert js_page.locator("a[href='tel:+254722123456']").inner_text() == f"{call} 0722 123456"

    js_page.goto(live_server.url + prefix + harbour.get_absolute_url().removeprefix(prefix))
    assert f"{call} {main}: 0722 123456" in chromium_names(js_page, "link")
    # Drawn: the visually hidden "Call" comes first in innerText, on a line of its own.
    assert js_page.locator("a[href='tel:+254722123456']").inner_text().endswith(f"{main}: 0722 123456")
