"""axe-core finds no accessibility problem (WCAG 2.0/2.1/2.2 A and AA and its best practices) on the pages
people use, in every language."""

from datetime import time

import pytest
from axe_playwright_python.sync_playwright import Axe

from providers.models import EntryRoute, OpeningInterval
from tests.browser.helpers import BROWSER_TEST_MARKS, LANGUAGE_PREFIXES, chromium_page

pytestmark = BROWSER_TEST_MARKS

PAGES = {
    "home": "/",
    "results": "/providers/?country=KE&modality=mat&near=Mombasa&radius=50",
    "no-results": "/providers/?q=nothing-matches-this",
    "provider": "{harbour_clinic}",
    "provider-suggestion": "{harbour_clinic}suggest/",
    "suggestion": "/suggest/",
    "crisis-lines": "/crisis-lines/",
}


@pytest.fixture
def walk_in(harbour_clinic):
    """The clinic says how to get in and when to walk in, so the pages show both."""
    harbour_clinic.entry_routes.set(EntryRoute.objects.filter(slug__in=["walk-in", "referral"]))
    OpeningInterval.objects.create(provider=harbour_clinic, walk_in=True, weekday=0, opens=time(8), closes=time(11))


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


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
@pytest.mark.parametrize("prefix", LANGUAGE_PREFIXES.values(), ids=LANGUAGE_PREFIXES.keys())
def test_axe_finds_nothing(live_server, harbour_clinic, walk_in, page, prefix, path):
    # Translated text changes lengths, contrast-bearing markup and, in Arabic, the direction: each language is checked.
    page.goto(live_server.url + prefix + path.format(harbour_clinic=harbour_clinic.get_absolute_url()))
    assert violations(page) == []
