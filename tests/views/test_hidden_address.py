"""A listing whose street address is hidden (a shelter) shows only its city and region, everywhere."""

import io
import json

import pytest
from django.core.management import call_command

from providers.exchange.formats import hsds
from providers.models import Provider

STREET, SECOND_LINE, POSTCODE = "12 Refuge Lane", "Back entrance", "LS6 9ZZ"
SECRETS = (STREET, SECOND_LINE, POSTCODE, "53.8123", "-1.5567")


@pytest.fixture
def shelter(make_provider):
    listing = Provider(
        name="Safe Harbour Women's Refuge",
        street_address=STREET,
        street_address_2=SECOND_LINE,
        postal_code=POSTCODE,
        city="Leeds",
        region="West Yorkshire",
        country="GB",
        latitude=53.812345,
        longitude=-1.556789,
        phone="0113 496 0123",
        address_hidden=True,
        status=Provider.Status.PUBLISHED,
    )
    listing.full_clean()
    listing.save()
    return listing


def leaks(text):
    return [secret for secret in SECRETS if secret in text]


def test_its_location_is_kept_only_to_about_a_kilometre(shelter):
    assert (shelter.latitude, shelter.longitude) == (53.81, -1.56)


def test_its_page_shows_the_city_and_region_and_no_street_or_postal_code(client, shelter):
    content = client.get(shelter.get_absolute_url()).content.decode()

    assert "Leeds" in content and "West Yorkshire" in content
    assert leaks(content) == []
    # No pin for directions: a search for the town.
    assert "openstreetmap.org/search?query=Leeds" in content
    assert "openstreetmap.org/directions" not in content


@pytest.mark.parametrize("page", ["{url}suggest/", "/list/?p={slug}"])
def test_its_correction_form_and_saved_lists_show_no_address_either(client, shelter, page):
    content = client.get(page.format(url=shelter.get_absolute_url(), slug=shelter.slug)).content.decode()

    assert "Safe Harbour" in content
    assert leaks(content) == []


def test_search_results_and_their_map_data_give_no_address_or_marker(client, shelter):
    content = client.get("/providers/", {"near": "Leeds"}).content.decode()

    assert "Safe Harbour" in content
    assert leaks(content) == []
    assert '"lat"' not in content
    assert '<strong class="distance">about ' in content


def test_its_postal_code_names_no_place_and_finds_nothing(client, shelter):
    search = client.get("/providers/", {"near": POSTCODE}).context["filter"]

    assert search.resolution is None
    assert "near" in search.form.errors
    assert client.get("/api/hsds/services", {"postcode": POSTCODE}).json()["contents"] == []


def test_the_csv_download_and_the_export_leave_the_address_out(client, shelter, tmp_path):
    download = b"".join(client.get("/providers/export.csv").streaming_content).decode()
    output = tmp_path / "export.csv"
    call_command("export_providers", "--format", "csv", "--output", str(output), stdout=io.StringIO())

    for text in (download, output.read_text(encoding="utf-8")):
        assert "Safe Harbour" in text
        assert leaks(text) == []


def test_the_api_gives_the_city_and_region_and_says_the_address_is_hidden(client, shelter):
    listed = client.get("/api/v1/providers/", {"near": "Leeds"}).json()["results"][0]
    detail = client.get(f"/api/v1/providers/{shelter.slug}/").json()

    for data in (listed, detail):
        assert (data["street_address"], data["street_address_2"], data["postal_code"]) == ("", "", "")
        assert (data["city"], data["region"], data["address_hidden"]) == ("Leeds", "West Yorkshire", True)
        assert (data["latitude"], data["longitude"]) == (53.81, -1.56)
    # A distance from a rounded point is itself only about right.
    assert listed["distance_km"] == round(listed["distance_km"])


@pytest.mark.parametrize(
    "path",
    [
        "/api/hsds/services?full=true",
        "/api/hsds/services?format=ndjson",
        "/api/hsds/service_at_locations?full=true",
        "/api/hsds/services/{hsds_id}",
        "/api/hsds/service_at_locations/{hsds_at_location_id}",
    ],
)
def test_the_hsds_api_leaves_the_address_out_and_flags_the_location(client, shelter, path):
    response = client.get(path.format(hsds_id=shelter.hsds_id, hsds_at_location_id=shelter.hsds_service_at_location_id))
    text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()

    assert response.status_code == 200
    assert "Safe Harbour" in text
    assert leaks(text) == []
    assert hsds.ADDRESS_HIDDEN in text


def test_an_hsds_export_of_it_reads_back_hidden_and_a_redacted_location_is_hidden(shelter, tmp_path):
    output = tmp_path / "export.json"
    call_command("export_providers", "--format", "hsds", "--output", str(tmp_path / "package"), stdout=io.StringIO())
    (record,) = hsds.read(tmp_path / "package")
    assert record.values["address_hidden"] is True

    partner = {
        "id": "s-1",
        "name": "Shelter",
        "status": "active",
        "service_at_locations": [
            {"id": "sal-1", "location": {"id": "l-1", "location_type": "redacted", "latitude": 51.5, "longitude": 0}}
        ],
    }
    output.write_text(json.dumps([partner]), encoding="utf-8")
    (redacted,) = hsds.read(output)
    assert redacted.values["address_hidden"] is True


def test_curators_hide_an_address_in_our_csv(make_provider, tmp_path):
    listing = tmp_path / "listings.csv"
    listing.write_text(
        "external_id,name,country,street_address,latitude,longitude,address_hidden\n"
        "r-1,Refuge,GB,1 Hidden Road,51.501234,-0.141234,yes\n",
        encoding="utf-8",
    )
    call_command("import_providers", str(listing), "--source", "partner", stdout=io.StringIO())

    refuge = Provider.objects.get(external_id="r-1")
    assert (refuge.address_hidden, refuge.latitude, refuge.longitude) == (True, 51.5, -0.14)
    # Kept for curators, shown to nobody.
    assert refuge.street_address == "1 Hidden Road"
    assert refuge.address_lines == ["United Kingdom"]
