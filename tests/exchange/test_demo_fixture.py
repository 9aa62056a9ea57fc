"""The demo data: real SAMHSA, FindTreatment.gov and NHS England listings, in two countries."""

import json

import pytest
from django.core.management import call_command
from django.db import transaction

from providers.exchange.formats import samhsa
from providers.models import Provider, Source

FINDTREATMENT = "findtreatment-sample"
NHS = "nhs-england-2014"

pytestmark = pytest.mark.django_db


def load_demo():
    call_command("loaddata", "taxonomy", "demo_providers", verbosity=0)


@pytest.fixture(scope="module", autouse=True)
def demo_data(django_db_setup, django_db_blocker):
    """The demo data, loaded once for the module's tests (which only read it) in a transaction rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        load_demo()
        yield
        transaction.set_rollback(True)


def test_it_loads_a_few_hundred_published_providers_in_two_countries_with_their_sources():
    assert 300 <= Provider.objects.published().count() <= 600
    assert set(Provider.objects.values_list("source__slug", flat=True)) == {samhsa.SOURCE_SLUG, FINDTREATMENT, NHS}
    assert {"US", "GB"} <= set(Provider.objects.values_list("country", flat=True))
    assert Provider.objects.filter(source__slug=FINDTREATMENT, country="US").count() == 41
    assert 80 <= Provider.objects.filter(source__slug=NHS).count() <= 120
    assert set(Provider.objects.filter(source__slug=NHS).values_list("country", flat=True)) == {"GB"}
    assert "public domain" in Source.objects.get(slug=samhsa.SOURCE_SLUG).description
    assert "public domain + CC0" in Source.objects.get(slug=FINDTREATMENT).description
    assert "Open Government Licence v2.0" in Source.objects.get(slug=NHS).description


def test_the_findtreatment_listings_give_counselling_peer_support_and_holistic_results(client):
    for modality in ("counseling", "peer-support", "holistic"):
        results = client.get(f"/api/v1/providers/?modality={modality}&per_page=100").json()["results"]
        found = Provider.objects.filter(slug__in=[provider["slug"] for provider in results])
        assert found.filter(source__slug=FINDTREATMENT).exists(), modality


def test_the_nhs_pharmacies_carry_uk_phones_postcodes_hours_harm_reduction_and_their_mapping(settings):
    pharmacies = Provider.objects.filter(source__slug=NHS)
    # Stored in E.164; a few pharmacies listed no phone at all.
    phones = [phone for phone in pharmacies.values_list("phone", flat=True) if phone]
    assert len(phones) >= 0.9 * pharmacies.count()
    assert all(phone.startswith("+44") for phone in phones)
    assert all(pharmacies.values_list("postal_code", flat=True))
    assert not pharmacies.filter(opening_hours__isnull=True).exists()
    assert set(pharmacies.values_list("time_zone", flat=True)) == {"Europe/London"}
    # Lords Pharmacy Newmarket, as NHS Choices listed it.
    pharmacy = pharmacies.get(external_id="13043")
    assert (pharmacy.phone, pharmacy.postal_code, pharmacy.city) == ("+441638428022", "CB8 8EQ", "Newmarket")
    assert [str(interval) for interval in pharmacy.opening_hours.all()] == [
        *(f"{day} 07:30–22:30" for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")),
        "Sunday 09:00–19:00",
    ]
    assert pharmacies.published().filter(modalities__slug="harm-reduction").exists()
    shipped = settings.BASE_DIR / "fixtures" / "mappings" / "nhs-england-pharmacies.json"
    assert Source.objects.get(slug=NHS).mapping == json.loads(shipped.read_text(encoding="utf-8"))


def test_a_search_near_leeds_lists_nhs_pharmacies(client):
    response = client.get("/providers/?near=Leeds")

    assert response.status_code == 200
    found = list(response.context["page_obj"])
    assert len(found) >= 5
    assert {provider.source.slug for provider in found} == {NHS}
    assert {provider.country.code for provider in found} == {"GB"}
    assert "Leeds" in {provider.city for provider in found}


def test_demo_listings_keep_the_facts_of_their_record():
    provider = Provider.objects.get(external_id="0611AZ85206")
    assert provider.name == "New Hope Behavioral Health Center Inc"
    assert (provider.phone, provider.intake_phone) == ("+14809811022", "+14809814072")
    assert (provider.city, provider.region, provider.country.code) == ("Mesa", "Arizona", "US")
    assert provider.description == "Methadone Clients Only. Offers detoxification."
    assert set(provider.medications.values_list("slug", flat=True)) == {"methadone"}
    assert set(provider.modalities.values_list("slug", flat=True)) == {"mat"}
    assert set(provider.care_settings.values_list("slug", flat=True)) == {"outpatient"}


def test_the_about_page_credits_every_demo_source(client):
    content = client.get("/about/").content.decode()

    assert "SAMHSA National Directory of Drug and Alcohol Abuse Treatment Facilities, 2015" in content
    assert "FindTreatment.gov" in content
    assert "Contains public sector information licensed under the" in content
    assert "Open Government Licence v2.0" in content
    # The licence keeps its English name in every language.
    assert "Open Government Licence v2.0" in client.get("/fr/about/").content.decode()
