"""The read-only Open Referral HSDS 3.0 API at /api/hsds/."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.api import hsds_views
from providers.exchange.formats import hsds
from providers.exchange.records import iter_export_records
from providers.models import Organization, Provider, Source, hsds_ids
from tests.exchange.formats.test_hsds import compiled_validator, problems

pytestmark = pytest.mark.django_db


@pytest.fixture
def listings(make_provider):
    ministry = Source.objects.create(slug="ministry", name="Ministry of Health")
    coastal = Organization.objects.create(
        slug="coastal-health", name="Coastal Health", website="https://coastal.example/", description="Clinics."
    )
    harbour = make_provider(
        name="Harbour Clinic",
        description="Methadone and counselling by the harbour.",
        country="KE",
        city="Mombasa",
        street_address="Moi Avenue 12",
        postal_code="80100",
        latitude=-4.0435,
        longitude=39.6682,
        phone="+254722123456",
        intake_phone="+254722123457;ext=12",
        email="help@harbour.example",
        website="https://harbour.example/",
        telehealth=True,
        last_verified=datetime.date(2025, 3, 1),
        source=ministry,
        external_id="KE-1",
        organization=coastal,
        modalities=["mat", "counseling"],
        languages=["sw", "en"],
    )
    lakeside = make_provider(name="Lakeside Centre", country="UG", city="Kampala")
    draft = make_provider(name="Prairie Centre", country="CA", status=Provider.Status.DRAFT)
    return {"harbour": harbour, "lakeside": lakeside, "draft": draft}


def id_of(provider):
    provider.refresh_from_db()
    return str(provider.hsds_id)


def assert_page(body, **expected):
    for key in ("total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"):
        assert key in body
    for key, value in expected.items():
        assert body[key] == value, key


def test_the_root_names_the_version_and_the_openapi_document(client):
    response = client.get("/api/hsds/")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "3.0"
    assert body["profile"].startswith("https://openreferral.org")
    assert body["openapi_url"].endswith("openapi.json")


def test_services_are_the_published_providers_in_hsds_list_form(client, listings):
    response = client.get("/api/hsds/services")
    assert response.status_code == 200
    body = response.json()
    assert_page(body, total_items=2, total_pages=1, page_number=1, first_page=True, last_page=True, empty=False)
    assert [service["name"] for service in body["contents"]] == ["Harbour Clinic", "Lakeside Centre"]
    assert body["contents"][0]["id"] == id_of(listings["harbour"])
    for service in body["contents"]:
        assert problems(compiled_validator("service_list.json"), service) == []


def test_full_services_validate_as_full_services(client, listings):
    body = client.get("/api/hsds/services?full=true").json()
    assert len(body["contents"]) == 2
    for service in body["contents"]:
        assert problems(compiled_validator("service.json"), service) == []
        assert service["service_at_locations"]


def test_services_are_paged(client, make_provider):
    for number in range(5):
        make_provider(name=f"Clinic {number}")
    first = client.get("/api/hsds/services?per_page=2").json()
    assert_page(first, total_items=5, total_pages=3, page_number=1, size=2, first_page=True, last_page=False)
    assert [service["name"] for service in first["contents"]] == ["Clinic 0", "Clinic 1"]
    last = client.get("/api/hsds/services?per_page=2&page=3").json()
    assert_page(last, page_number=3, first_page=False, last_page=True, empty=False)
    assert [service["name"] for service in last["contents"]] == ["Clinic 4"]
    beyond = client.get("/api/hsds/services?per_page=2&page=9").json()
    assert_page(beyond, contents=[], empty=True, last_page=True)


def test_page_size_is_capped_and_bad_values_fall_back(client, listings):
    assert client.get("/api/hsds/services?per_page=1000").json()["size"] == 100
    assert client.get("/api/hsds/services?per_page=x&page=-1").json()["size"] == 50
    assert client.get("/api/hsds/services?per_page=x&page=-1").json()["page_number"] == 1


def test_the_count_is_capped(client, listings, monkeypatch):
    monkeypatch.setattr(hsds_views, "COUNT_CAP", 1)
    body = client.get("/api/hsds/services?per_page=1").json()
    assert body["total_items"] == 1
    assert len(body["contents"]) == 1


def test_a_service_is_found_by_its_id(client, listings):
    response = client.get(f"/api/hsds/services/{id_of(listings['harbour'])}")
    assert response.status_code == 200
    service = response.json()
    assert problems(compiled_validator("service.json"), service) == []
    assert service["name"] == "Harbour Clinic"
    assert service["organization"]["name"] == "Coastal Health"
    assert {language["code"] for language in service["languages"]} == {"sw", "en"}


def test_a_provider_without_source_or_organization_is_found_too(client, listings):
    service = client.get(f"/api/hsds/services/{id_of(listings['lakeside'])}").json()
    assert problems(compiled_validator("service.json"), service) == []
    assert service["name"] == "Lakeside Centre"


@pytest.mark.parametrize("identifier", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_service_is_a_404(client, listings, identifier):
    assert client.get(f"/api/hsds/services/{identifier}").status_code == 404


def test_a_draft_is_not_served(client, listings):
    assert client.get(f"/api/hsds/services/{id_of(listings['draft'])}").status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/hsds/", "/api/hsds/services", "/api/hsds/organizations", "/api/hsds/taxonomies"]
)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writing_is_not_allowed(client, listings, path, method):
    assert getattr(client, method)(path).status_code == 405


def test_a_service_detail_post_is_not_allowed(client, listings):
    assert client.post(f"/api/hsds/services/{id_of(listings['harbour'])}").status_code == 405


def test_responses_are_public_cacheable_and_open_to_other_sites(client, listings):
    response = client.get("/api/hsds/services")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "public" in response["Cache-Control"]


def test_ndjson_streams_one_full_service_per_line(client, listings):
    response = client.get("/api/hsds/services?format=ndjson")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert response["Access-Control-Allow-Origin"] == "*"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 2
    documents = [json.loads(line) for line in lines]
    for document in documents:
        assert problems(compiled_validator("service.json"), document) == []
    assert [document["name"] for document in documents] == ["Harbour Clinic", "Lakeside Centre"]


def test_organizations_are_those_with_published_providers(client, listings):
    Organization.objects.create(slug="idle", name="Idle Org")
    listings["draft"].organization = Organization.objects.create(slug="drafting", name="Drafting Org")
    listings["draft"].save()
    body = client.get("/api/hsds/organizations").json()
    assert_page(body, total_items=2)
    assert [organization["name"] for organization in body["contents"]] == ["Coastal Health", "Lakeside Centre"]
    for organization in body["contents"]:
        assert problems(compiled_validator("organization_list.json"), organization) == []
    for idle in Organization.objects.filter(slug__in=["idle", "drafting"]):
        assert client.get(f"/api/hsds/organizations/{idle.hsds_id}").status_code == 404
    assert client.get("/api/hsds/organizations/00000000-0000-0000-0000-000000000000").status_code == 404


def organization_ids_named(client):
    return {service["organization_id"] for service in client.get("/api/hsds/services?per_page=100").json()["contents"]}


def organizations_listed(client, query=""):
    return client.get(f"/api/hsds/organizations?per_page=100&{query}").json()["contents"]


def test_every_organization_a_service_names_is_listed(client, listings):
    assert len(organization_ids_named(client)) == 2
    assert {organization["id"] for organization in organizations_listed(client)} == organization_ids_named(client)


def test_every_organization_a_service_names_can_be_fetched(client, listings):
    services = client.get("/api/hsds/services?per_page=100").json()["contents"]
    for service in services:
        response = client.get(f"/api/hsds/organizations/{service['organization_id']}")
        assert response.status_code == 200, service["name"]
        organization = response.json()
        assert problems(compiled_validator("organization.json"), organization) == []
        assert organization["id"] == service["organization_id"]
        assert service["id"] in {named["id"] for named in organization["services"]}


def test_a_listing_without_an_organization_is_represented_by_one_of_its_own(client, listings):
    lakeside = id_of(listings["lakeside"])
    named = client.get(f"/api/hsds/services/{lakeside}").json()["organization"]
    assert named["id"] == hsds_ids.placeholder_organization_id(lakeside)
    assert named["name"] == "Lakeside Centre"
    listed = {organization["id"]: organization for organization in organizations_listed(client, "full=true")}
    assert listed[named["id"]] == named
    assert [attribute["taxonomy_term"]["code"] for attribute in named["attributes"]] == [hsds.NO_ORGANIZATION]

    detail = client.get(f"/api/hsds/organizations/{named['id']}").json()
    assert [service["name"] for service in detail["services"]] == ["Lakeside Centre"]
    full = client.get(f"/api/hsds/organizations/{named['id']}", {"full_service": "true"}).json()
    assert full["services"][0]["service_at_locations"]
    assert problems(compiled_validator("organization.json"), full) == []


def test_services_can_be_narrowed_to_the_organization_standing_for_a_listing(client, listings):
    placeholder = hsds_ids.placeholder_organization_id(id_of(listings["lakeside"]))
    services = client.get("/api/hsds/services", {"organization_id": placeholder}).json()["contents"]
    assert [service["name"] for service in services] == ["Lakeside Centre"]


def test_a_draft_without_an_organization_is_represented_by_none(client, listings):
    placeholder = hsds_ids.placeholder_organization_id(id_of(listings["draft"]))
    assert placeholder not in {organization["id"] for organization in organizations_listed(client)}
    assert client.get(f"/api/hsds/organizations/{placeholder}").status_code == 404


def test_placeholders_are_searched_by_the_listings_name(client, listings):
    assert [organization["name"] for organization in organizations_listed(client, "search=lake")] == ["Lakeside Centre"]


def test_organizations_are_paged_across_real_ones_and_placeholders(client, make_provider):
    for number in range(3):
        organization = Organization.objects.create(slug=f"org-{number}", name=f"Org {number}")
        make_provider(name=f"Clinic {number}", organization=organization)
        make_provider(name=f"Alone {number}")
    pages = [client.get(f"/api/hsds/organizations?per_page=4&page={number}").json() for number in (1, 2, 3)]
    assert_page(pages[0], total_items=6, total_pages=2, size=4, first_page=True, last_page=False)
    assert_page(pages[1], page_number=2, last_page=True, empty=False)
    assert_page(pages[2], contents=[], empty=True)
    listed = [organization["name"] for page in pages for organization in page["contents"]]
    assert listed == ["Org 0", "Org 1", "Org 2", "Alone 0", "Alone 1", "Alone 2"]
    assert {organization["id"] for page in pages for organization in page["contents"]} == organization_ids_named(client)


def test_the_organization_ids_match_the_export(client, listings):
    """The export's organizations, placeholders included, are the API's, so a partner can join the two."""
    records = iter_export_records(Provider.objects.published())
    exported = {hsds.document_for(record)["organization"]["id"] for record in records}
    assert {organization["id"] for organization in organizations_listed(client)} == exported


@pytest.mark.parametrize("full", ["false", "true"])
def test_a_page_of_organizations_runs_a_constant_number_of_queries(client, make_provider, full):
    def queries_for_a_page():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/hsds/organizations?per_page=100&full={full}").status_code == 200
        return len(queries)

    def add(count):
        for _ in range(count):
            organization = Organization.objects.create(slug=f"org-{Organization.objects.count()}", name="Org")
            make_provider(name="Clinic", organization=organization)
            make_provider(name="Alone")

    add(2)
    client.get("/api/hsds/organizations")  # warm up anything cached per process
    few = queries_for_a_page()
    add(30)
    assert queries_for_a_page() == few


def test_taxonomies_and_terms_are_listed_and_found(client, listings):
    taxonomies = client.get("/api/hsds/taxonomies").json()
    assert taxonomies["total_items"] == len(taxonomies["contents"]) > 0
    taxonomy = taxonomies["contents"][0]
    assert client.get(f"/api/hsds/taxonomies/{taxonomy['id']}").json() == taxonomy
    terms = client.get(f"/api/hsds/taxonomy_terms?taxonomy_id={taxonomy['id']}&per_page=100").json()
    assert terms["contents"]
    assert {term["taxonomy_detail"]["id"] for term in terms["contents"]} == {taxonomy["id"]}
    term = terms["contents"][0]
    assert client.get(f"/api/hsds/taxonomy_terms/{term['id']}").json() == term
    assert client.get("/api/hsds/taxonomy_terms/00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_service_ids_match_the_export(client, listings):
    """The API's ids are the HSDS export's, so a partner can join the two."""
    exported = {hsds.document_for(record)["id"] for record in iter_export_records(Provider.objects.published())}
    listed = {service["id"] for service in client.get("/api/hsds/services").json()["contents"]}
    assert listed == exported


def test_service_at_locations_are_listed_and_found(client, listings):
    body = client.get("/api/hsds/service_at_locations").json()
    assert_page(body, total_items=2)
    for at_location in body["contents"]:
        assert problems(compiled_validator("service_at_location_list.json"), at_location) == []
    first = body["contents"][0]
    assert first["service_id"] == id_of(listings["harbour"])
    assert first["service"]["name"] == "Harbour Clinic"
    detail = client.get(f"/api/hsds/service_at_locations/{first['id']}")
    assert detail.status_code == 200
    assert problems(compiled_validator("service_at_location.json"), detail.json()) == []
    assert detail.json()["location_id"] == first["location_id"]
    assert client.get("/api/hsds/service_at_locations/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_page_of_services_runs_a_constant_number_of_queries(client, make_provider, django_assert_max_num_queries):
    for number in range(30):
        make_provider(name=f"Clinic {number}", languages=["en"], modalities=["mat"])
    client.get("/api/hsds/services")  # warm up anything cached per process
    with django_assert_max_num_queries(20):
        assert len(client.get("/api/hsds/services?per_page=30").json()["contents"]) == 30
