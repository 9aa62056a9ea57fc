"""A person in a real browser: search, filter, open a provider, reach the phone number."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import BROWSER_TEST_MARKS, chromium_page

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture(params=[True, False], ids=["javascript-on", "javascript-off"])
def page(request, live_server, transactional_db):
    with chromium_page(live_server, javascript=request.param) as page:
        yield page


@pytest.fixture
def listings(make_provider):
    make_provider(
        name="Harbour Medication Clinic",
        city="Mombasa",
        country="KE",
        latitude=-4.0435,
        longitude=39.6682,
        phone="+254722123456",
        modalities=["mat"],
        care_settings=["outpatient"],
    )
    make_provider(
        name="Lakeside Residential", city="Kisumu", country="KE", modalities=["counseling"], care_settings=["inpatient"]
    )
    make_provider(name="Prairie Peer Centre", city="Regina", country="CA", modalities=["peer-support"])


def test_a_person_finds_a_provider_and_reaches_its_phone(live_server, listings, page):
    page.goto(live_server.url + "/")
    page.get_by_label("Country").select_option("KE")
    page.get_by_role("checkbox", name="Medication for opioid use disorder (MAT)").check()
    page.get_by_role("button", name="Search").click()

    expect(page.get_by_role("status")).to_have_text("1 provider found")
    page.get_by_role("link", name="Harbour Medication Clinic").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Medication Clinic")
    call = page.get_by_role("link", name="Call Main: 0722 123456")
    expect(call).to_have_attribute("href", "tel:+254722123456")


def test_filters_narrow_the_results_on_the_results_page(live_server, listings, page):
    page.goto(live_server.url + "/providers/")
    expect(page.get_by_role("status")).to_have_text("3 providers found")

    # On a phone the results come first; the filters wait behind one disclosure.
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Country").select_option("KE")
    page.get_by_role("checkbox", name="Inpatient and residential").check()
    page.get_by_role("button", name="Show providers").click()

    expect(page.get_by_role("status")).to_have_text("1 provider found")
    expect(page.get_by_role("link", name="Lakeside Residential")).to_be_visible()
    assert "setting=inpatient" in page.url and "country=KE" in page.url


def test_the_skip_link_leads_keyboard_users_to_the_content(live_server, listings, page):
    page.goto(live_server.url + "/providers/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()


@pytest.fixture
def curator(django_user_model):
    return django_user_model.objects.create_superuser("curator", "curator@example.org", "a-long-test-passphrase")


def test_a_curator_can_sign_in_to_the_admin(live_server, curator, page):
    # A real browser sends an Origin header on form posts; the referrer policy must keep CSRF checks passing.
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill("a-long-test-passphrase")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Listings and vocabularies")).to_be_visible()


@pytest.fixture
def located_page(live_server, transactional_db):
    with chromium_page(
        live_server, permissions=["geolocation"], geolocation={"latitude": -4.04351, "longitude": 39.66818}
    ) as page:
        yield page


def test_use_my_location_fills_the_place_with_rounded_coordinates(live_server, listings, located_page):
    located_page.goto(live_server.url + "/")
    located_page.get_by_role("button", name="Use my location").click()

    expect(located_page.get_by_label("Near")).to_have_value("-4.044,39.668")
    located_page.get_by_role("button", name="Search").click()
    expect(located_page.get_by_role("link", name="Harbour Medication Clinic")).to_be_visible()
