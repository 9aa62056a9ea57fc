"""The search form's choices are cached, and refreshed whenever listings or vocabularies change."""

import re

import pytest

from providers.models import Medication, Modality, Provider
from providers.search.filters import ProviderFilter
from tests.exchange.helpers import run, write_our_csv

pytestmark = pytest.mark.django_db


def country_choices():
    return [code for code, _name in ProviderFilter().form.fields["country"].choices if code]


def test_choices_are_read_once_and_then_served_from_the_cache(make_provider, django_assert_num_queries):
    make_provider(country="KE")
    ProviderFilter()

    with django_assert_num_queries(0):
        ProviderFilter()


def test_a_new_country_appears_when_a_listing_is_saved(make_provider):
    make_provider(country="KE")
    assert country_choices() == ["KE"]

    make_provider(country="UG")

    assert country_choices() == ["KE", "UG"]


def test_publishing_in_the_admin_refreshes_the_choices(admin_client, make_provider):
    make_provider(country="KE")
    draft = make_provider(country="TZ", status=Provider.Status.DRAFT)
    assert country_choices() == ["KE"]

    admin_client.post("/admin/providers/provider/", {"action": "publish", "_selected_action": [draft.pk]})

    assert country_choices() == ["KE", "TZ"]


def test_an_import_refreshes_the_choices(tmp_path, make_provider):
    make_provider(country="KE")
    assert country_choices() == ["KE"]

    run(
        "import_providers",
        write_our_csv(tmp_path / "p.csv", [{"source": "p", "external_id": "1", "name": "X", "country": "RW"}]),
    )

    assert country_choices() == ["KE", "RW"]


def test_a_new_term_appears_when_curators_add_it():
    Modality.objects.create(slug="mutual-aid", name="Mutual aid", order=70)

    assert ("mutual-aid", "Mutual aid") in list(ProviderFilter().form.fields["modality"].choices)


def test_the_pages_folded_filters_show_a_new_term_at_once(client):
    assert "Lofexidine" not in client.get("/providers/").content.decode()

    Medication.objects.create(slug="lofexidine", name="Lofexidine", order=60)

    assert "Lofexidine" in client.get("/providers/").content.decode()


def test_the_folded_filters_keep_what_the_person_chose(client):
    content = client.get("/providers/?medication=methadone").content.decode()

    assert re.search(r'<input[^>]*value="methadone"[^>]*checked', content)
