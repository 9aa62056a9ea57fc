"""Privacy and safety in a real browser: a quick way out, a strict Content-Security-Policy, no referrer."""

from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from providers.models import Suggestion
from tests.browser.helpers import BROWSER_TEST_MARKS, chromium_page, on_live_server

pytestmark = BROWSER_TEST_MARKS

EXIT_URL = "https://weather.example/"


@pytest.fixture
def curator(django_user_model):
    return django_user_model.objects.create_superuser("curator", "curator@example.org", "a-long-test-passphrase")


@pytest.fixture
def exit_url(settings):
    settings.QUICK_EXIT_URL = EXIT_URL
    return EXIT_URL


@contextmanager
def routed_page(live_server, *, javascript=True):
    """A browser in which the neutral site answers locally and no other host is reached."""

    def route(route):
        if route.request.url.startswith(EXIT_URL):
            route.fulfill(content_type="text/html", body="<title>Weather</title><h1>Today's weather</h1>")
        elif on_live_server(route.request.url, live_server):
            route.continue_()
        else:
            route.abort()

    with chromium_page(live_server, javascript=javascript) as page:
        page.context.route("**/*", route)
        yield page


@pytest.fixture(params=[True, False], ids=["javascript-on", "javascript-off"])
def page(request, live_server, transactional_db):
    with routed_page(live_server, javascript=request.param) as page:
        yield page


@pytest.fixture
def js_page(live_server, transactional_db):
    with routed_page(live_server) as page:
        yield page


def test_quick_exit_comes_right_after_the_skip_link_and_leaves_in_one_tap(live_server, harbour_clinic, exit_url, page):
    page.goto(live_server.url + harbour_clinic.get_absolute_url())

    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    quick_exit = page.get_by_role("link", name="Quick exit")
    expect(quick_exit).to_be_focused()
    expect(quick_exit).to_be_visible()
    box = quick_exit.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44

    quick_exit.click()
    expect(page.get_by_role("heading", name="Today's weather")).to_be_visible()
    assert page.url == EXIT_URL


def test_escape_leaves_and_back_does_not_return_to_the_directory(live_server, harbour_clinic, exit_url, js_page):
    js_page.goto(live_server.url + "/providers/?country=KE")

    js_page.keyboard.press("Escape")

    expect(js_page.get_by_role("heading", name="Today's weather")).to_be_visible()
    js_page.go_back()
    assert not on_live_server(js_page.url, live_server)


def test_pressing_the_link_with_javascript_replaces_the_page_in_the_history(
    live_server, harbour_clinic, exit_url, js_page
):
    js_page.goto(live_server.url + "/")
    js_page.goto(live_server.url + harbour_clinic.get_absolute_url())

    js_page.get_by_role("link", name="Quick exit").click()
    expect(js_page.get_by_role("heading", name="Today's weather")).to_be_visible()
    js_page.go_back()

    # Back skips the provider page that was open, to the page before it.
    assert js_page.url == live_server.url + "/"


def collect_csp_violations(page):
    violations = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    return violations


def test_the_pages_run_under_the_content_security_policy_without_violations(
    live_server, harbour_clinic, curator, js_page
):
    violations = collect_csp_violations(js_page)

    js_page.goto(live_server.url + "/")
    js_page.goto(live_server.url + "/providers/?country=KE")
    js_page.get_by_role("button", name="Show map").click()
    expect(js_page.locator(".leaflet-container")).to_be_visible()
    js_page.goto(live_server.url + harbour_clinic.get_absolute_url())
    js_page.goto(live_server.url + "/suggest/")
    js_page.goto(live_server.url + "/admin/login/")
    js_page.get_by_label("Username").fill("curator")
    js_page.get_by_label("Password").fill("a-long-test-passphrase")
    js_page.get_by_role("button", name="Log in").click()
    expect(js_page.get_by_role("heading", name="Listings and vocabularies")).to_be_visible()
    js_page.goto(live_server.url + "/admin/providers/provider/")
    js_page.goto(live_server.url + "/admin/providers/provider/add/")

    assert violations == []


def test_the_api_docs_run_under_their_narrow_exception(live_server, js_page):
    violations = collect_csp_violations(js_page)

    js_page.goto(live_server.url + "/api/docs/")

    expect(js_page.get_by_role("heading", name="Treatment Directory API")).to_be_visible()
    assert violations == []


def test_without_same_origin_a_form_post_carries_origin_null_and_csrf_refuses_it(live_server, transactional_db):
    """Why pages with a form send "same-origin" rather than the site-wide "no-referrer"."""

    def force_no_referrer(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "referrer-policy": "no-referrer"})

    with routed_page(live_server) as page:
        page.route(live_server.url + "/suggest/", force_no_referrer)
        origins = []
        page.on("request", lambda request: request.method == "POST" and origins.append(request.headers.get("origin")))
        page.goto(live_server.url + "/suggest/")
        fill_in_a_new_provider(page)
        expect(page.get_by_role("heading", level=1)).not_to_have_text("Thank you")

    assert origins == ["null"]
    assert not Suggestion.objects.exists()


def fill_in_a_new_provider(page):
    page.get_by_label("Name of the provider").fill("Riverside Recovery")
    page.get_by_label("Country").select_option("KE")
    page.get_by_label("Town or city").fill("Nairobi")
    page.get_by_role("button", name="Send to the curators").click()


def test_a_suggestion_is_accepted_from_its_form_which_sends_same_origin(live_server, transactional_db):
    with routed_page(live_server) as page:
        form = page.goto(live_server.url + "/suggest/")
        fill_in_a_new_provider(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        policy = form.headers["referrer-policy"]

    assert policy == "same-origin"
    assert Suggestion.objects.count() == 1


def test_search_and_provider_pages_send_no_referrer(live_server, harbour_clinic, js_page):
    sent = []
    js_page.on("request", lambda request: sent.append(request.headers.get("referer")))
    search = js_page.goto(live_server.url + "/providers/?country=KE")
    with js_page.expect_navigation() as provider:
        js_page.get_by_role("link", name="Harbour Medication Clinic").click()

    assert search.headers["referrer-policy"] == provider.value.headers["referrer-policy"] == "no-referrer"
    # No request carried a Referer: neither the provider page nor its styles and scripts learnt the search.
    assert len(sent) > 2 and set(sent) == {None}
