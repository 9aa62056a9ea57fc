"""The public API, /api/v1/: read-only, filtered like the search page, paged without counting."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.throttling import AnonRateThrottle

from providers.models import Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def listings(make_provider):
    make_provider(name="Harbour Clinic", country="KE", city="Mombasa", latitude=-4.0435, longitude=39.6682,
                  phone="+254722123456", modalities=["mat"], care_settings=["outpatient"],
                  languages=["sw"])  # fmt: skip
    make_provider(
        name="Lake Hostel", country="KE", city="Kisumu", latitude=-0.0917, longitude=34.768, care_settings=["aftercare"]
    )
    make_provider(name="Prairie Centre", country="CA", modalities=["peer-support"])
    make_provider(name="Draft Place", country="KE", status=Provider.Status.DRAFT)


def names(response):
    return [item["name"] for item in response.json()["results"]]


def test_it_lists_published_providers_with_their_terms(client, listings):
    response = client.get("/api/v1/providers/")

    assert response.status_code == 200
    assert names(response) == ["Harbour Clinic", "Lake Hostel", "Prairie Centre"]
    harbour = response.json()["results"][0]
    assert harbour["modalities"] == ["mat"]
    assert harbour["languages"] == ["sw"]
    assert harbour["phone"] == "+254722123456"
    assert harbour["page"] == "http://testserver/providers/harbour-clinic-mombasa/"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=KE", ["Harbour Clinic", "Lake Hostel"]),
        ("country=ke&modality=mat", ["Harbour Clinic"]),
        ("setting=outpatient&setting=aftercare", ["Harbour Clinic", "Lake Hostel"]),
        ("q=prairie", ["Prairie Centre"]),
        ("language=sw", ["Harbour Clinic"]),
        ("near=Mombasa&radius=50", ["Harbour Clinic"]),
        ("near=Nairobi&radius=500", ["Lake Hostel", "Harbour Clinic"]),
    ],
)
def test_it_takes_every_search_filter(client, listings, query, expected):
    assert names(client.get("/api/v1/providers/?" + query)) == expected


def test_a_near_search_reports_distances(client, listings):
    [harbour] = client.get("/api/v1/providers/?near=-4.0435,39.6682&radius=5").json()["results"]

    assert harbour["distance_km"] == 0.0


def test_an_invalid_filter_is_a_400_naming_the_problem(client, listings):
    response = client.get("/api/v1/providers/?country=XX&radius=0")

    assert response.status_code == 400
    assert set(response.json()) == {"country", "radius"}


def test_pages_link_to_each_other_without_counting(client, make_provider, django_assert_num_queries):
    for number in range(5):
        make_provider(name=f"Clinic {number}")

    with CaptureQueriesContext(connection) as queries:
        first = client.get("/api/v1/providers/?per_page=2").json()
    second = client.get(first["next"]).json()
    last = client.get("/api/v1/providers/?per_page=2&page=3").json()

    assert not any("COUNT(" in query["sql"].upper() for query in queries)
    assert [item["name"] for item in first["results"]] == ["Clinic 0", "Clinic 1"]
    assert first["previous"] is None
    assert [item["name"] for item in second["results"]] == ["Clinic 2", "Clinic 3"]
    assert last["next"] is None and [item["name"] for item in last["results"]] == ["Clinic 4"]


def test_a_provider_is_found_by_its_slug(client, listings):
    response = client.get("/api/v1/providers/harbour-clinic-mombasa/")

    assert response.status_code == 200
    assert response.json()["name"] == "Harbour Clinic"


def test_drafts_are_not_in_the_api(client, listings):
    assert client.get("/api/v1/providers/draft-place/").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writing_is_not_allowed(client, listings, method):
    assert getattr(client, method)("/api/v1/providers/harbour-clinic-mombasa/").status_code == 405
    assert getattr(client, method)("/api/v1/providers/").status_code == 405


def test_responses_are_public_cacheable_and_open_to_other_sites(client, listings):
    response = client.get("/api/v1/providers/")

    assert response["Access-Control-Allow-Origin"] == "*"
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert client.get("/api/v1/providers/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_taxonomies_and_countries_are_listed(client, listings):
    modalities = client.get("/api/v1/modalities/").json()
    countries = client.get("/api/v1/countries/").json()

    assert [term["slug"] for term in modalities] == [
        "mat",
        "counseling",
        "peer-support",
        "faith-based",
        "holistic",
        "harm-reduction",
    ]
    assert client.get("/api/v1/care-settings/inpatient/").json()["name"] == "Inpatient and residential"
    assert len(client.get("/api/v1/languages/").json()) == 184
    assert countries == [
        {"code": "CA", "name": "Canada", "providers": 1},
        {"code": "KE", "name": "Kenya", "providers": 2},
    ]


@pytest.mark.parametrize("size", [3, 30])
def test_a_list_runs_at_most_four_queries_whatever_the_size(client, make_provider, size, django_assert_max_num_queries):
    for number in range(size):
        make_provider(name=f"Clinic {number}", modalities=["mat"], languages=["en"], latitude=1, longitude=1)
    client.get("/api/v1/providers/")  # the search choices are cached after the first request

    with django_assert_max_num_queries(4):
        client.get("/api/v1/providers/?modality=mat&near=1,1&radius=100")
    with django_assert_max_num_queries(4):
        client.get("/api/v1/providers/clinic-0/")


def test_the_openapi_schema_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO())


def test_the_schema_and_docs_are_served_from_the_site(client):
    assert client.get("/api/schema/").content.startswith(b"openapi: 3.0")
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()


def test_the_schema_documents_the_errors_beside_each_answer(client):
    """Clients generated from the schema expect them too; tests/api/test_fuzz.py holds every answer to it."""
    paths = client.get("/api/schema/?format=json").json()["paths"]
    answers = {path: set(operations["get"]["responses"]) for path, operations in paths.items()}

    assert answers["/api/v1/providers/"] == {"200", "400", "429"}
    assert answers["/api/v1/providers/{slug}/"] == {"200", "404", "429"}
    assert answers["/api/v1/modalities/"] == {"200", "429"}
    assert answers["/api/v1/modalities/{slug}/"] == {"200", "404", "429"}
    assert answers["/api/v1/countries/"] == {"200", "429"}


def test_anonymous_clients_are_throttled_with_a_retry_after(client, monkeypatch):
    # DRF reads the configured rates once, at import; the test sets a small one directly.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    statuses = [client.get("/api/v1/modalities/").status_code for _ in range(4)]
    refused = client.get("/api/v1/modalities/")

    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def test_modified_after_keeps_what_changed_since(client, make_provider):
    old = make_provider(name="Old")
    Provider.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=30))
    make_provider(name="New")
    since = (timezone.now() - timedelta(days=1)).isoformat()

    assert names(client.get("/api/v1/providers/", {"modified_after": since})) == ["New"]
    assert client.get("/api/v1/providers/?modified_after=yesterday").status_code == 400


def test_a_provider_answers_304_when_unchanged_since(client, listings):
    response = client.get("/api/v1/providers/harbour-clinic-mombasa/")

    assert response["Last-Modified"]
    again = client.get("/api/v1/providers/harbour-clinic-mombasa/", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert again.status_code == 304


def test_a_format_parameter_does_not_change_the_answer(client, listings):
    """The API speaks JSON only; ?format= is not a way to reach another renderer, nor a 404."""
    response = client.get("/api/v1/providers/", {"format": "xml"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
