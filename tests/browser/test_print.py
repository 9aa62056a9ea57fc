"""A person prints a provider page or a list of results to take along: the details, without the screen's controls."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import BROWSER_TEST_MARKS, chromium_page

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def page(live_server, transactional_db):
    with chromium_page(live_server, block_other_hosts=True) as page:
        page.emulate_media(media="print")
        yield page


def test_a_printed_provider_page_keeps_the_details_and_drops_the_controls(live_server, harbour_clinic, page):
    page.goto(live_server.url + harbour_clinic.get_absolute_url())

    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Medication Clinic")
    expect(page.get_by_text("12 Nkrumah Road")).to_be_visible()
    phone = page.get_by_role("link", name="Call Main: 0722 123456")
    expect(phone).to_be_visible()
    # Written out as plain text, not drawn as a button.
    expect(phone).to_have_css("background-color", "rgba(0, 0, 0, 0)")
    expect(phone).to_have_css("color", "rgb(0, 0, 0)")
    for hidden in (
        page.get_by_role("navigation", name="Site"),
        page.get_by_role("link", name="Quick exit"),
        page.get_by_role("link", name="Skip to main content"),
        page.get_by_role("button", name="Show map"),
        page.get_by_role("link", name="All providers"),
        page.get_by_role("link", name="Report a problem or suggest an update"),
    ):
        expect(hidden).to_be_hidden()


def test_a_printed_results_list_is_compact_and_has_no_filters(live_server, harbour_clinic, page):
    page.goto(live_server.url + "/providers/?country=KE")

    expect(page.get_by_role("link", name="Harbour Medication Clinic")).to_be_visible()
    expect(page.get_by_role("link", name="Call 0722 123456")).to_be_visible()
    expect(page.get_by_role("search", name="Filter providers")).to_be_hidden()
    expect(page.get_by_role("button", name="Show map")).to_be_hidden()
    expect(page.get_by_role("link", name="Download these results (CSV)")).to_be_hidden()
    expect(page.locator(".result .card-body")).to_have_css("padding-top", "0px")
