"""On a phone the results come first: the filters wait behind one disclosure and the map takes no room
until asked for; wider screens keep the filters beside the results."""

from datetime import time

import pytest
from playwright.sync_api import expect

from providers.models import OpeningInterval
from tests.browser.helpers import BROWSER_TEST_MARKS, chromium_page

pytestmark = BROWSER_TEST_MARKS

PHONE_HEIGHT = 844
WIDE = {"width": 1280, "height": 900}

# Layout shifts nobody caused (no recent input), summed the way CLS sums them within one page's life.
RECORD_LAYOUT_SHIFTS = """() => {
  window.unaskedShifts = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (!entry.hadRecentInput) window.unaskedShifts += entry.value;
    }
  }).observe({type: "layout-shift", buffered: true});
}"""


@pytest.fixture(params=[True, False], ids=["javascript-on", "javascript-off"])
def page(request, live_server, transactional_db):
    with chromium_page(live_server, javascript=request.param, block_other_hosts=True) as page:
        yield page


@pytest.fixture
def javascript_page(live_server, transactional_db):
    with chromium_page(live_server, block_other_hosts=True) as page:
        yield page


@pytest.fixture
def listings(make_provider):
    """Kenyan listings as long as the longest real ones: an address, a region, two types of help, a phone,
    opening hours, ways in and walk-in hours each."""
    towns = [("Mombasa", -4.0435, 39.6682), ("Kisumu", -0.0917, 34.768), ("Nakuru", -0.3031, 36.08)]
    providers = [
        make_provider(
            name=f"{town} Community Medication and Counselling Centre",
            street_address="12 Nkrumah Road",
            city=town,
            region="Coast Province",
            country="KE",
            latitude=latitude,
            longitude=longitude,
            time_zone="Africa/Nairobi",
            phone=f"+25472212345{number}",
            modalities=["mat", "counseling"],
            care_settings=["outpatient"],
            entry_routes=["walk-in", "appointment", "referral"],
        )
        for number, (town, latitude, longitude) in enumerate(towns)
    ]
    OpeningInterval.objects.bulk_create(
        OpeningInterval(
            provider=provider, walk_in=walk_in, weekday=day, opens=time(8), closes=time(11 if walk_in else 17)
        )
        for provider in providers
        for walk_in in (False, True)
        for day in range(5)
    )
    return providers


def first_call_link_top(page):
    call = page.locator("a.call-link").first
    expect(call).to_be_visible()
    return call.bounding_box()["y"]


@pytest.mark.parametrize(
    "path", ["/providers/?country=KE&modality=mat", "/providers/", "/ar/providers/?country=KE&modality=mat"]
)
def test_the_first_results_call_link_is_on_the_first_screen_of_a_phone(live_server, listings, page, path):
    page.goto(live_server.url + path)

    assert first_call_link_top(page) < PHONE_HEIGHT
    expect(page.locator(".filters-disclosure")).not_to_have_attribute("open", "")
    expect(page.locator("form[role=search]")).to_be_hidden()


def test_the_filters_open_from_one_summary_and_still_search(live_server, listings, page):
    page.goto(live_server.url + "/providers/")
    page.get_by_text("Filters", exact=True).click()

    page.get_by_label("Country").select_option("KE")
    page.get_by_role("checkbox", name="Medication for opioid use disorder (MAT)").check()
    page.get_by_text("More filters").click()
    page.get_by_label("Sort by").select_option("name")
    page.get_by_role("button", name="Show providers").click()

    expect(page.get_by_role("status")).to_have_text("3 providers found")
    # The sort order narrows nothing, so it is not counted.
    expect(page.locator(".filters-disclosure > summary")).to_have_text("Filters · 2 active")
    expect(page.get_by_label("Country")).to_be_hidden()


@pytest.mark.parametrize(
    ("path", "summary"),
    [
        ("/providers/", "Filters"),
        ("/providers/?q=clinic&radius=50&sort=name&page=1", "Filters · 1 active"),
        ("/providers/?country=KE&modality=mat&modality=counseling&near=Mombasa", "Filters · 3 active"),
        # A value the search cannot use is left out of it, and of the count.
        ("/providers/?country=XX&modality=mat", "Filters · 1 active"),
        ("/es/providers/?country=KE", "Filtros · 1 activo"),
        ("/fr/providers/?country=KE&modality=mat", "Filtres · 2 actifs"),
        ("/pt/providers/?country=KE&modality=mat", "Filtros · 2 ativos"),
        ("/ar/providers/", "عوامل التصفية"),
        ("/ar/providers/?country=KE&modality=mat", "عوامل التصفية · عاملان نشطان"),
        ("/ar/providers/?country=KE&modality=mat&setting=outpatient", "عوامل التصفية · 3 عوامل نشطة"),
    ],
)
def test_the_summary_says_how_many_filters_are_active(live_server, listings, page, path, summary):
    page.goto(live_server.url + path)

    expect(page.locator(".filters-disclosure > summary")).to_have_text(summary)


@pytest.mark.parametrize("width", [768, 1280])
@pytest.mark.parametrize("prefix", ["", "/ar"], ids=["left-to-right", "right-to-left"])
def test_wider_screens_show_the_filters_beside_the_results_with_nothing_to_open(
    live_server, listings, page, prefix, width
):
    page.set_viewport_size({**WIDE, "width": width})
    page.goto(live_server.url + prefix + "/providers/?country=KE&modality=mat")

    expect(page.locator(".filters-disclosure > summary")).to_be_hidden()
    form = page.get_by_role("search")
    expect(form).to_be_visible()
    expect(form.locator("select[name=country]")).to_be_visible()
    filters, results = form.bounding_box(), page.locator("article.result").first.bounding_box()
    assert filters["y"] < results["y"] + results["height"] and results["y"] < filters["y"] + filters["height"]
    if prefix:
        assert filters["x"] >= results["x"] + results["width"]
    else:
        assert filters["x"] + filters["width"] <= results["x"]
    assert first_call_link_top(page) < WIDE["height"]


@pytest.mark.parametrize("where", ["results", "provider"])
def test_the_map_takes_no_room_until_asked_for_and_opening_it_shifts_nothing_unasked(
    live_server, test_tiles, listings, javascript_page, where
):
    page = javascript_page
    page.goto(live_server.url + ("/providers/?country=KE" if where == "results" else listings[0].get_absolute_url()))
    page.evaluate(RECORD_LAYOUT_SHIFTS)
    show = page.get_by_role("button", name="Show map")
    expect(show).to_be_visible()
    canvas = page.locator("#provider-map")

    expect(canvas).to_be_hidden()
    assert page.evaluate("document.getElementById('provider-map').offsetHeight") == 0
    # The region holds the button and a one-line note, nothing kept for a map.
    assert page.locator("[data-map]").bounding_box()["height"] < 120

    show.click()
    expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
    assert canvas.bounding_box()["height"] > 200
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.unaskedShifts") <= 0.05


@pytest.mark.parametrize("page", [False], indirect=True, ids=["javascript-off"])
def test_without_javascript_the_map_takes_no_room_at_all(live_server, listings, page):
    page.goto(live_server.url + "/providers/?country=KE")

    expect(page.locator("a.call-link").first).to_be_visible()
    expect(page.locator("[data-map]")).to_be_attached()
    expect(page.locator("[data-map]")).to_be_hidden()


def test_a_printed_results_page_leaves_out_the_filters(live_server, listings, javascript_page):
    page = javascript_page
    page.emulate_media(media="print")
    page.goto(live_server.url + "/providers/?country=KE&modality=mat")

    expect(page.locator(".filters-disclosure")).to_be_hidden()
    expect(page.get_by_role("link", name="Mombasa Community Medication and Counselling Centre")).to_be_visible()
