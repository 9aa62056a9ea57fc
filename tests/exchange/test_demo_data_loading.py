"""Loading the demo data: on a fresh database, once; and the fixture, rebuilt from the shared data, is the same."""

import io
import json

import pytest
from django.core.management import call_command

from providers.models import Modality, OpeningInterval, Provider

pytestmark = pytest.mark.django_db


SEVERAL_FILTERS = "/api/v1/providers/?modality=mat&setting=outpatient&per_page=100"


def load_demo():
    call_command("loaddata", "taxonomy", "demo_providers", verbosity=0)


def test_loading_twice_creates_no_duplicates_and_finds_the_same_listings(client):
    def state():
        return (
            Provider.objects.count(),
            Modality.objects.count(),
            Provider.modalities.through.objects.count(),
            OpeningInterval.objects.count(),
            {provider["slug"] for provider in client.get(SEVERAL_FILTERS).json()["results"]},
        )

    load_demo()
    first = state()

    load_demo()

    assert first[-1]
    assert state() == first


def test_load_demo_data_only_fills_an_empty_database(make_provider):
    make_provider(name="Curated listing")

    call_command("load_demo_data", "--if-empty", verbosity=0)

    assert list(Provider.objects.values_list("name", flat=True)) == ["Curated listing"]


def test_load_demo_data_fills_an_empty_database():
    call_command("load_demo_data", "--if-empty", verbosity=0)

    assert Provider.objects.count() > 200


def test_the_fixture_is_rebuilt_identically_from_the_shared_data(settings, tmp_path):
    data = settings.BASE_DIR.parent / "shared" / "data"
    source_csv = data / "samhsa-2015" / "nssats_2015_directory_geocoded.csv"
    for path in (source_csv, data / "findtreatment-sample" / "facilities.json", data / "nhs-england-2014"):
        if not path.exists():
            pytest.fail(f"The data set is missing at {path}; CI runs with ../shared beside the checkout.")
    rebuilt = tmp_path / "demo_providers.json"

    call_command("build_demo_fixture", "--input", str(source_csv), "--output", str(rebuilt), stdout=io.StringIO())

    committed = settings.BASE_DIR / "fixtures" / "demo_providers.json"
    assert json.loads(rebuilt.read_text(encoding="utf-8")) == json.loads(committed.read_text(encoding="utf-8"))
