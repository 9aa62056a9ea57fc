"""A person with JavaScript off reports a wrong phone number in a real browser."""

from playwright.sync_api import expect

from providers.models import Suggestion
from tests.browser.helpers import BROWSER_TEST_MARKS, chromium_page

pytestmark = BROWSER_TEST_MARKS


def test_a_person_reports_a_wrong_phone_number_without_javascript(live_server, make_provider):
    clinic = make_provider(name="Harbour Clinic", city="Mombasa", country="KE", phone="+254711000000")

    with chromium_page(live_server, javascript=False, block_other_hosts=True) as page:
        page.goto(live_server.url + clinic.get_absolute_url())
        page.get_by_role("link", name="Report a problem or suggest an update").click()

        # The honeypot stays out of reach of people and of screen readers.
        expect(page.get_by_label("Leave this field empty")).to_be_hidden()
        expect(page.get_by_role("textbox", name="Leave this field empty")).to_have_count(0)
        page.get_by_label("The phone number is wrong").check()
        page.get_by_label("What should the listing say?").fill("The number rings a pizzeria.")
        page.get_by_label("Correct phone number").fill("0722 123456")
        page.get_by_role("button", name="Send to the curators").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        cookies = {cookie["name"] for cookie in page.context.cookies()}

    assert cookies == {"csrftoken"}
    suggestion = Suggestion.objects.get()
    assert (suggestion.provider, suggestion.problem) == (clinic, Suggestion.Problem.PHONE)
    assert suggestion.proposed == {"phone": "0722 123456"}
