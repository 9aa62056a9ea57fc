"""Importing the real 2015 SAMHSA directory (../shared/data/samhsa-2015)."""

import csv
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.base import CommandError

from providers.models import Provider
from tests.exchange.helpers import run

pytestmark = pytest.mark.django_db

DIRECTORY = Path(settings.BASE_DIR).parent / "shared" / "data" / "samhsa-2015" / "nssats_2015_directory_geocoded.csv"


@pytest.fixture
def directory():
    if not DIRECTORY.exists():
        pytest.fail(f"The SAMHSA directory is missing at {DIRECTORY}; CI runs with ../shared beside the checkout.")
    return DIRECTORY


@pytest.fixture
def alabama(directory, tmp_path):
    """The directory's first 200 rows (Alabama and Alaska), as a file of their own."""
    with open(directory, encoding="utf-8", newline="") as source:
        lines = source.readlines()[:201]
    path = tmp_path / "samhsa-first-200.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_it_is_detected_and_needs_a_source(alabama):
    with pytest.raises(CommandError, match="names no source: give one with --source"):
        run("import_providers", alabama)


def test_every_row_becomes_its_own_provider(alabama):
    output = run("import_providers", alabama, "--source", "samhsa-2015")

    assert "Detected format: samhsa (SAMHSA 2015 directory CSV)." in output
    assert "200 created, 0 updated, 0 unchanged, 0 rejected." in output
    assert Provider.objects.filter(source__slug="samhsa-2015").count() == 200


def test_programmes_at_one_site_stay_separate_with_suffixed_external_ids(alabama):
    run("import_providers", alabama, "--source", "samhsa-2015")

    site = Provider.objects.filter(external_id__startswith="1086AL36420").order_by("external_id")
    assert [(provider.external_id, provider.phone) for provider in site] == [
        ("1086AL36420-covington-cnty-adult-sa-op", "+13344285050"),
        ("1086AL36420-first-step", "+13344285002"),
    ]


def test_the_mapping_reaches_the_database(alabama):
    run("import_providers", alabama, "--source", "samhsa-2015")

    provider = Provider.objects.get(external_id="4041AL35007")
    assert provider.name == "Shelby County Treatment Center"
    assert set(provider.modalities.values_list("slug", flat=True)) == {"mat"}
    assert set(provider.medications.values_list("slug", flat=True)) == {
        "methadone",
        "buprenorphine",
        "naltrexone",
        "extended-release-naltrexone",
    }
    assert set(provider.care_settings.values_list("slug", flat=True)) == {"outpatient"}
    assert "pregnant-women" in set(provider.populations.values_list("slug", flat=True))
    assert list(provider.languages.values_list("slug", flat=True)) == ["es"]


def test_importing_it_again_changes_nothing(alabama):
    run("import_providers", alabama, "--source", "samhsa-2015")

    output = run("import_providers", alabama, "--source", "samhsa-2015")

    assert "0 created, 0 updated, 200 unchanged, 0 rejected." in output


def test_the_whole_directory_imports_with_a_warning_for_each_of_five_impossible_phone_numbers(directory):
    output = run("import_providers", directory, "--source", "samhsa-2015", "--dry-run")

    assert "11928 created, 0 updated, 0 unchanged, 0 rejected." in output
    assert "5 invalid optional value(s) set aside, their records imported without them:" in output
    assert (
        "record 263 (external id 6187AZ85653): phone '(520)068-4111' set aside: "
        "(520)068-4111 is not a valid phone number"
    ) in output
    assert "N2 ×2" in output
    with open(directory, encoding="utf-8", newline="") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 11928
    assert Provider.objects.count() == 0
