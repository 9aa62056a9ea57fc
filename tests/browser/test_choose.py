"""Help me choose in a phone-sized browser with JavaScript off: one question per screen, ending on a filtered search."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import BROWSER_TEST_MARKS, LANGUAGE_PREFIXES, chromium_page, on_live_server

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def page(live_server, transactional_db):
    with chromium_page(live_server, javascript=False, block_other_hosts=True) as page:
        yield page


@pytest.fixture
def axe_page(live_server, transactional_db):
    # axe runs as a script in the page, so this one has JavaScript on, as in test_accessibility.py.
    with chromium_page(live_server, block_other_hosts=True) as page:
        yield page


@pytest.fixture
def teen_clinic(make_provider):
    return make_provider(
        name="Teen Methadone Clinic",
        city="Mombasa",
        country="KE",
        phone="+254722123457",
        modalities=["mat"],
        medications=["methadone"],
        care_settings=["outpatient"],
        populations=["adolescents"],
        languages=["en"],
    )


def answer(page, number, label):
    """Answer question ``number`` with the answer labelled ``label`` and go on."""
    expect(page.get_by_text(f"Question {number} of 7")).to_be_visible()
    # Measured once the stylesheets have loaded, not on the first paint of the new step.
    page.wait_for_load_state("load")
    choice = page.get_by_role("radio", name=label, exact=True)
    box = page.locator("label.choose-answer", has=choice).bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300, label
    choice.check()
    page.get_by_role("button", name="Show places" if number == 7 else "Next").click()


def test_a_person_answers_the_questions_and_lands_on_filtered_results(
    live_server, harbour_clinic, teen_clinic, page, requested
):
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Help me choose").click()
    expect(page.get_by_text("This is not a medical assessment")).to_be_visible()

    answer(page, 1, "No")
    answer(page, 2, "A teenager (under 18)")
    answer(page, 3, "Methadone")
    # Back, and the earlier answer is still chosen.
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("radio", name="Methadone")).to_be_checked()
    page.get_by_role("button", name="Next").click()
    answer(page, 4, "Yes: living at home, visiting during the day")
    answer(page, 5, "Not sure / skip")
    expect(page.get_by_role("radio", name="English")).to_be_checked()
    answer(page, 6, "English")
    answer(page, 7, "It does not matter")

    assert page.url.startswith(live_server.url + "/providers/?")
    assert sorted(re.findall(r"(\w+)=([\w-]+)", page.url.split("?")[1])) == [
        ("from", "choose"),
        ("language", "en"),
        ("medication", "methadone"),
        ("modality", "mat"),
        ("population", "adolescents"),
        ("setting", "outpatient"),
    ]
    summary = page.locator(".choose-summary")
    expect(summary).to_contain_text("Showing places that match your answers:")
    expect(summary).to_contain_text("Who is served: Adolescents")
    expect(summary).to_contain_text("Medication: Methadone")
    expect(page.get_by_role("link", name="Teen Methadone Clinic")).to_be_visible()
    expect(page.get_by_role("link", name="Harbour Medication Clinic")).to_have_count(0)

    page.get_by_role("link", name="Change your answers").click()
    expect(page.get_by_text("Question 2 of 7")).to_be_visible()
    expect(page.get_by_role("radio", name="A teenager (under 18)")).to_be_checked()
    assert [request.url for request in requested if not on_live_server(request.url, live_server)] == []


def test_someone_in_danger_is_shown_the_crisis_lines_of_their_country(live_server, transactional_db, page):
    page.goto(live_server.url + "/choose/")

    page.get_by_role("radio", name="Yes", exact=True).check()
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name="Get help now")).to_be_visible()
    page.get_by_label("Show the lines of another country").select_option("KE")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.get_by_role("heading", name="Crisis lines in Kenya")).to_be_visible()
    page.wait_for_load_state("load")
    call = page.locator(".choose-lines .call-link").first
    assert call.get_attribute("href").startswith("tel:")
    assert call.bounding_box()["height"] >= 44

    page.get_by_role("button", name="Continue with the questions").click()
    expect(page.get_by_text("Question 2 of 7")).to_be_visible()


PAGES = {
    "first": "/choose/",
    "who": "/choose/?step=2&who=teen",
    "language": "/choose/?step=6",
    "last": "/choose/?step=7&medicine=methadone",
    "crisis": "/choose/?step=2&danger=unsure&country=KE",
    "results": "/providers/?modality=mat&population=adolescents&from=choose",
}


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
@pytest.mark.parametrize("prefix", LANGUAGE_PREFIXES.values(), ids=LANGUAGE_PREFIXES.keys())
def test_axe_finds_nothing(live_server, harbour_clinic, axe_page, prefix, path):
    requested = []
    axe_page.on("request", lambda request: requested.append(request.url))
    axe_page.goto(live_server.url + prefix + path)

    violations = [
        (violation["id"], [node["target"] for node in violation["nodes"]])
        for violation in Axe().run(axe_page).response["violations"]
    ]
    assert violations == []
    assert [url for url in requested if not on_live_server(url, live_server)] == []
