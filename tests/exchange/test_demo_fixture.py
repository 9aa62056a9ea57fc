"""The demo data: real SAMHSA listings that load on a fresh database, once."""

import json

import pytest
from django.core.management import call_command

from providers.exchange.formats import samhsa
from providers.models import Modality, Provider, Source

pytestmark = pytest.mark.django_db


def load_demo():
    call_command("loaddata", "taxonomy", "demo_providers", verbosity=0)


def test_it_loads_a_few_hundred_published_providers_with_their_source():
    load_demo()

    assert 200 <= Provider.objects.published().count() <= 500
    assert set(Provider.objects.values_list("source__slug", flat=True)) == {samhsa.SOURCE_SLUG}
    assert "public domain" in Source.objects.get(slug=samhsa.SOURCE_SLUG).description


def test_loading_twice_creates_no_duplicates():
    load_demo()
    counts = (Provider.objects.count(), Modality.objects.count(), Provider.modalities.through.objects.count())

    load_demo()

    assert (Provider.objects.count(), Modality.objects.count(), Provider.modalities.through.objects.count()) == counts


def test_searches_with_several_filters_find_the_same_listings_after_loading_twice(client):
    load_demo()
    wanted = "/api/v1/providers/?modality=mat&setting=outpatient&per_page=100"
    first = {provider["slug"] for provider in client.get(wanted).json()["results"]}

    load_demo()
    again = {provider["slug"] for provider in client.get(wanted).json()["results"]}

    assert first
    assert again == first


def test_load_demo_data_only_fills_an_empty_database(make_provider):
    make_provider(name="Curated listing")

    call_command("load_demo_data", "--if-empty", verbosity=0)

    assert list(Provider.objects.values_list("name", flat=True)) == ["Curated listing"]


def test_load_demo_data_fills_an_empty_database():
    call_command("load_demo_data", "--if-empty", verbosity=0)

    assert Provider.objects.count() > 200


def test_the_fixture_is_rebuilt_identically_from_the_samhsa_file(settings, tmp_path):
    source_csv = settings.BASE_DIR.parent / "shared" / "data" / "samhsa-2015" / "nssats_2015_directory_geocoded.csv"
    if not source_csv.exists():
        pytest.fail(f"The SAMHSA directory is missing at {source_csv}; CI runs with ../shared beside the checkout.")
    rebuilt = tmp_path / "demo_providers.json"

    call_command("build_demo_fixture", "--input", str(source_csv), "--output", str(rebuilt), verbosity=0)

    committed = settings.BASE_DIR / "fixtures" / "demo_providers.json"
    assert json.loads(rebuilt.read_text(encoding="utf-8")) == json.loads(committed.read_text(encoding="utf-8"))


def test_demo_listings_keep_the_facts_of_their_record():
    load_demo()

    provider = Provider.objects.get(external_id="0611AZ85206")
    assert provider.name == "New Hope Behavioral Health Center Inc"
    assert (provider.phone, provider.intake_phone) == ("+14809811022", "+14809814072")
    assert (provider.city, provider.region, provider.country.code) == ("Mesa", "Arizona", "US")
    assert provider.description == "Methadone Clients Only. Offers detoxification."
    assert set(provider.medications.values_list("slug", flat=True)) == {"methadone"}
    assert set(provider.modalities.values_list("slug", flat=True)) == {"mat"}
    assert set(provider.care_settings.values_list("slug", flat=True)) == {"outpatient"}
