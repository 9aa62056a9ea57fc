"""HSDS query parameters on /api/hsds/services and /api/hsds/service_at_locations."""

import datetime

import pytest
from django.utils import timezone

from providers.exchange.formats import hsds
from providers.models import Provider
from tests.api.test_hsds import listings  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def names(client, query, path="/api/hsds/services"):
    response = client.get(path, query)
    assert response.status_code == 200, response.content
    return [item.get("name") or item["service"]["name"] for item in response.json()["contents"]]


def term_id(taxonomy, code):
    return hsds.Vocabulary().term_document(taxonomy, code)["id"]


def test_search_looks_in_names_places_and_descriptions(client, listings):
    assert names(client, {"search": "methadone"}) == ["Harbour Clinic"]
    assert names(client, {"search": "kampala"}) == ["Lakeside Centre"]
    assert names(client, {"search": "nowhere at all"}) == []


def test_taxonomy_term_id_keeps_services_linking_that_term(client, listings):
    assert names(client, {"taxonomy_term_id": term_id("modalities", "mat")}) == ["Harbour Clinic"]
    assert names(client, {"taxonomy_term_id": term_id("modalities", "peer-support")}) == []


def test_a_flag_term_matches_the_services_whose_document_carries_it(client, listings):
    """Harbour says whether it offers telehealth; Lakeside does not say, so it has no such attribute."""
    assert names(client, {"taxonomy_term_id": term_id(hsds.FLAGS, "telehealth")}) == ["Harbour Clinic"]
    assert names(client, {"taxonomy_term_id": term_id(hsds.FLAGS, hsds.NO_ORGANIZATION)}) == ["Lakeside Centre"]


def test_taxonomy_id_keeps_services_with_any_term_of_it(client, listings):
    assert names(client, {"taxonomy_id": hsds.TAXONOMY_IDS["modalities"]}) == ["Harbour Clinic"]
    assert names(client, {"taxonomy_id": hsds.TAXONOMY_IDS["populations"]}) == []


@pytest.mark.parametrize("parameter", ["taxonomy_term_id", "taxonomy_id", "organization_id"])
@pytest.mark.parametrize("value", ["not-an-id", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_id_matches_nothing(client, listings, parameter, value):
    assert names(client, {parameter: value}) == []


def test_organization_id_keeps_the_organizations_services(client, listings):
    organization = client.get("/api/hsds/organizations").json()["contents"][0]
    assert names(client, {"organization_id": organization["id"]}) == ["Harbour Clinic"]


def test_modified_after_keeps_services_changed_at_or_after_it(client, listings):
    old = timezone.now() - datetime.timedelta(days=30)
    Provider.objects.filter(pk=listings["lakeside"].pk).update(updated_at=old)
    assert names(client, {"modified_after": (old + datetime.timedelta(days=1)).isoformat()}) == ["Harbour Clinic"]
    assert names(client, {"modified_after": old.isoformat()}) == ["Harbour Clinic", "Lakeside Centre"]


def test_services_say_when_they_last_changed(client, listings):
    listed = client.get("/api/hsds/services").json()["contents"][0]
    stored = Provider.objects.get(pk=listings["harbour"].pk).updated_at
    assert datetime.datetime.fromisoformat(listed["last_modified"]) == stored


@pytest.mark.parametrize("value", ["yesterday", "2026-13-45"])
def test_a_bad_modified_after_is_a_clear_400(client, listings, value):
    response = client.get("/api/hsds/services", {"modified_after": value})
    assert response.status_code == 400
    assert "modified_after" in response.json()


def test_a_postcode_alone_matches_the_postal_code(client, listings):
    assert names(client, {"postcode": "80100"}, "/api/hsds/service_at_locations") == ["Harbour Clinic"]
    assert names(client, {"postcode": "99999"}, "/api/hsds/service_at_locations") == []


def test_proximity_is_metres_from_the_postcode(client, listings, make_provider):
    make_provider(name="Kilifi Post", country="KE", city="Kilifi", latitude=-3.6305, longitude=39.8499)
    # Kilifi is about 50 km up the coast from Mombasa's 80100.
    assert names(client, {"postcode": "80100", "proximity": "10000"}, "/api/hsds/service_at_locations") == [
        "Harbour Clinic"
    ]
    assert names(client, {"postcode": "80100", "proximity": "60000"}, "/api/hsds/service_at_locations") == [
        "Harbour Clinic",
        "Kilifi Post",
    ]


@pytest.mark.parametrize("proximity", ["far", "0", "-5", "99999999"])
def test_a_bad_proximity_is_a_clear_400(client, listings, proximity):
    response = client.get("/api/hsds/service_at_locations", {"postcode": "80100", "proximity": proximity})
    assert response.status_code == 400
    assert "proximity" in response.json()


def test_filters_combine(client, listings):
    query = {"search": "harbour", "taxonomy_id": hsds.TAXONOMY_IDS["modalities"], "per_page": 1}
    body = client.get("/api/hsds/services", query).json()
    assert body["total_items"] == 1
    assert [service["name"] for service in body["contents"]] == ["Harbour Clinic"]


def test_ndjson_dumps_honour_the_filters(client, listings):
    response = client.get("/api/hsds/services", {"format": "ndjson", "search": "kampala"})
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 1
    assert '"Lakeside Centre"' in lines[0]


def test_search_narrows_organizations_and_taxonomy_terms(client, listings):
    assert client.get("/api/hsds/organizations", {"search": "coastal"}).json()["total_items"] == 1
    assert client.get("/api/hsds/organizations", {"search": "inland"}).json()["total_items"] == 0
    terms = client.get("/api/hsds/taxonomy_terms", {"search": "telehealth"}).json()["contents"]
    assert [term["code"] for term in terms] == ["telehealth"]


def test_an_organization_lists_its_services(client, listings):
    organization = client.get("/api/hsds/organizations").json()["contents"][0]
    detail = client.get(f"/api/hsds/organizations/{organization['id']}").json()
    assert [service["name"] for service in detail["services"]] == ["Harbour Clinic"]
    assert "service_at_locations" not in detail["services"][0]
    full = client.get(f"/api/hsds/organizations/{organization['id']}", {"full_service": "true"}).json()
    assert full["services"][0]["service_at_locations"]


def test_a_page_number_beyond_any_database_offset_is_an_empty_page(client, listings):
    body = client.get("/api/hsds/services", {"page": str(10**30)}).json()
    assert body["contents"] == []


@pytest.mark.parametrize(("path", "value"), [("/api/hsds/services", "xml"), ("/api/hsds/taxonomies", "ndjson")])
def test_an_unknown_format_is_a_clear_400(client, listings, path, value):
    response = client.get(path, {"format": value})
    assert response.status_code == 400
    assert "format" in response.json()


def test_json_is_the_format_asked_or_not(client, listings):
    assert client.get("/api/hsds/taxonomies", {"format": "json"}).status_code == 200
