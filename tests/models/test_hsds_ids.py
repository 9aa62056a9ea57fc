"""HSDS ids are stored with each listing: found by index, unchanged by later edits, the same in export and API."""

import json
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.exchange.formats import hsds
from providers.exchange.records import iter_export_records
from providers.models import Organization, Provider, Source, hsds_ids
from tests.exchange.helpers import run, write_our_csv
from tests.exchange.test_importer import CLINIC, HOSTEL

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "parts",
    [
        ("samhsa-2015", "4041AL35007", "service"),
        ("ministry", 'KE "1", 2', "location"),
        ("partner", "Café Olé / ñ", "العربية", "😀"),
        ("", ""),
        ("a\\b", "c\nd\te\x00"),
    ],
)
def test_an_id_is_the_uuid5_of_its_parts_as_a_json_list_however_it_is_computed(parts):
    assert hsds_ids.stable_id(*parts) == str(uuid.uuid5(hsds_ids.NAMESPACE, json.dumps(parts)))


def test_a_new_listing_gets_ids_from_its_source_and_external_id(make_provider):
    source = Source.objects.create(slug="ministry", name="Ministry")
    provider = make_provider(name="Harbour Clinic", source=source, external_id="KE-1")

    assert provider.hsds_id == uuid.UUID(hsds_ids.service_id("ministry", "KE-1", provider.slug))
    assert provider.hsds_service_at_location_id == uuid.UUID(hsds_ids.service_at_location_id(str(provider.hsds_id)))


def test_a_listing_without_external_id_is_known_by_its_slug(make_provider):
    provider = make_provider(name="Harbour Clinic", city="Mombasa")
    assert provider.hsds_id == uuid.UUID(hsds_ids.service_id("", "", "harbour-clinic-mombasa"))


def test_the_ids_survive_a_new_slug_and_a_new_source(client, make_provider):
    provider = make_provider(name="Harbour Clinic")
    before = (provider.hsds_id, provider.hsds_service_at_location_id)
    provider.slug = "harbour-clinic-renamed"
    provider.source = Source.objects.create(slug="ministry", name="Ministry")
    provider.external_id = "KE-9"
    provider.save()

    provider.refresh_from_db()
    assert (provider.hsds_id, provider.hsds_service_at_location_id) == before
    assert client.get(f"/api/hsds/services/{before[0]}").json()["name"] == "Harbour Clinic"


def test_the_export_uses_the_stored_ids(make_provider):
    provider = make_provider(name="Harbour Clinic")
    provider.slug = "harbour-clinic-renamed"
    provider.save()

    [record] = iter_export_records(Provider.objects.all())
    document = hsds.document_for(record)
    assert document["id"] == str(provider.hsds_id)
    assert document["service_at_locations"][0]["id"] == str(provider.hsds_service_at_location_id)


def test_imported_listings_get_the_ids_the_export_gives_them(tmp_path, client):
    run("import_providers", write_our_csv(tmp_path / "partner.csv", [CLINIC, HOSTEL]))

    for provider in Provider.objects.select_related("source"):
        assert provider.hsds_id == uuid.UUID(
            hsds_ids.service_id("coastal-ministry", provider.external_id, provider.slug)
        )
        assert client.get(f"/api/hsds/services/{provider.hsds_id}").status_code == 200
        assert client.get(f"/api/hsds/service_at_locations/{provider.hsds_service_at_location_id}").status_code == 200


def test_fixtures_loaded_raw_get_ids_too():
    call_command("loaddata", "demo_providers", verbosity=0)
    assert Provider.objects.count() > 0
    assert not Provider.objects.filter(hsds_id__isnull=True).exists()
    assert not Provider.objects.filter(hsds_service_at_location_id__isnull=True).exists()


def test_an_organization_id_follows_its_slug_as_exchange_formats_know_it_by_slug():
    organization = Organization.objects.create(slug="coastal-health", name="Coastal Health")
    assert organization.hsds_id == uuid.UUID(hsds_ids.organization_id("coastal-health"))
    organization.slug = "coast-health"
    organization.save()
    assert organization.hsds_id == uuid.UUID(hsds_ids.organization_id("coast-health"))


def queries_for_lookup(client, provider, path):
    identifier = provider.hsds_id if path == "services" else provider.hsds_service_at_location_id
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/hsds/{path}/{identifier}").status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["services", "service_at_locations"])
def test_a_lookup_by_id_costs_the_same_at_any_size(client, make_provider, path):
    """The id is an indexed column: the newest listing is found as cheaply among 3 as among 60."""
    providers = [make_provider(name=f"Clinic {number}") for number in range(3)]
    few = queries_for_lookup(client, providers[-1], path)
    providers += [make_provider(name=f"Clinic {number}") for number in range(3, 60)]
    assert queries_for_lookup(client, providers[-1], path) == few


def queries_to_import(tmp_path, count, source):
    rows = [
        {**HOSTEL, "source": source, "external_id": f"X-{number}", "name": f"Hostel {number}"}
        for number in range(count)
    ]
    with CaptureQueriesContext(connection) as queries:
        run("import_providers", write_our_csv(tmp_path / f"{source}.csv", rows))
    return len(queries)


def test_giving_new_listings_their_ids_costs_no_query_per_listing(tmp_path):
    """Their source is new with the import; it must not be read back once per listing (writes go in batches)."""
    few, many = queries_to_import(tmp_path, 2, "first-partner"), queries_to_import(tmp_path, 40, "second-partner")
    assert many - few < 5
