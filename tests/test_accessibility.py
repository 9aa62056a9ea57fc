"""axe-core finds no accessibility problem (WCAG 2.0/2.1/2.2 A and AA and its best practices) on the pages people use."""

import pytest

from tests.browser import CHROMIUM_MISSING, SKIP_REASON, chromium_page, restore_migrated_data  # noqa: F401

if CHROMIUM_MISSING:
    pytest.skip(SKIP_REASON, allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402

# serialized_rollback restores the migrated taxonomy and groups that the live-server flush empties.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("restore_migrated_data"),
]


@pytest.fixture
def clinic(make_provider):
    return make_provider(
        name="Harbour Medication Clinic",
        street_address="12 Nkrumah Road",
        city="Mombasa",
        country="KE",
        latitude=-4.0435,
        longitude=39.6682,
        phone="+254722123456",
        modalities=["mat"],
        care_settings=["outpatient"],
    )


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
        "{clinic}",
        "{clinic}suggest/",
        "/suggest/",
        "/crisis-lines/",
    ],
)
def test_axe_finds_nothing(live_server, clinic, page, path):
    page.goto(live_server.url + path.format(clinic=clinic.get_absolute_url()))
    assert violations(page) == []
