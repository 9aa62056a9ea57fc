"""axe-core finds no accessibility problem (WCAG 2.0/2.1/2.2 A and AA and its best practices) on the pages people use."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser import BROWSER_TEST_MARKS, chromium_page

pytestmark = BROWSER_TEST_MARKS


@pytest.fixture
def page(live_server, transactional_db):
    with chromium_page(live_server, block_other_hosts=True) as page:
        yield page


def violations(page):
    """axe-core's default rule set, as the issue asks: every rule it enables by default."""
    return [
        (violation["id"], [node["target"] for node in violation["nodes"]])
        for violation in Axe().run(page).response["violations"]
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/providers/?country=KE&modality=mat&near=Mombasa&radius=50",
        "/providers/?q=nothing-matches-this",
        "{harbour_clinic}",
        "{harbour_clinic}suggest/",
        "/suggest/",
        "/crisis-lines/",
    ],
)
def test_axe_finds_nothing(live_server, harbour_clinic, page, path):
    page.goto(live_server.url + path.format(harbour_clinic=harbour_clinic.get_absolute_url()))
    assert violations(page) == []
