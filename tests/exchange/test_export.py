"""Exporting listings for partners: our CSV and JSON, the search page's download, and the round trip."""

import csv
import datetime
import io
import json

import pytest
from django.core.management.base import CommandError

from providers.exchange.formats.ours import guard_formula, unguard_formula
from providers.exchange.records import iter_export_records
from providers.models import ImportRun, Organization, Provider, Source
from tests.exchange.helpers import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def listings(make_provider):
    source = Source.objects.create(slug="ministry", name="Ministry of Health")
    organization = Organization.objects.create(
        slug="coastal", name="Coastal Health", website="https://coastal.example/"
    )
    make_provider(
        name="Harbour Clinic",
        city="Mombasa",
        country="KE",
        latitude=-4.0435,
        longitude=39.6682,
        phone="+254722123456",
        telehealth=True,
        last_verified=datetime.date(2025, 3, 1),
        source=source,
        external_id="KE-1",
        organization=organization,
        modalities=["mat", "counseling"],
        languages=["sw", "en"],
    )
    make_provider(
        name='=HYPERLINK("http://evil.example")', city="-Nairobi", country="KE", source=source, external_id="KE-2"
    )
    make_provider(name="Prairie Centre", country="CA", source=source, external_id="CA-1", modalities=["peer-support"])
    make_provider(name="Draft Place", country="KE", status=Provider.Status.DRAFT, source=source, external_id="KE-3")


def export(tmp_path, fmt, *args):
    path = tmp_path / f"export.{fmt}"
    run("export_providers", "--format", fmt, "--output", path, *args)
    return path


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_it_exports_published_providers_as_our_csv(tmp_path, listings):
    rows = read_rows(export(tmp_path, "csv"))

    assert sorted(row["external_id"] for row in rows) == ["CA-1", "KE-1", "KE-2"]
    harbour = next(row for row in rows if row["external_id"] == "KE-1")
    assert harbour["modalities"] == "mat;counseling"
    assert harbour["languages"] in ("sw;en", "en;sw")
    assert (harbour["latitude"], harbour["longitude"]) == ("-4.0435", "39.6682")
    assert (harbour["telehealth"], harbour["accepting_new_clients"], harbour["last_verified"]) == (
        "yes",
        "",
        "2025-03-01",
    )
    assert (harbour["source"], harbour["organization_slug"], harbour["organization_name"]) == (
        "ministry",
        "coastal",
        "Coastal Health",
    )


def test_it_takes_the_search_pages_filters(tmp_path, listings):
    rows = read_rows(export(tmp_path, "csv", "--country", "KE", "--modality", "mat"))

    assert [row["external_id"] for row in rows] == ["KE-1"]


def test_it_can_include_unpublished_listings(tmp_path, listings):
    rows = read_rows(export(tmp_path, "csv", "--include-unpublished"))

    assert {row["external_id"]: row["status"] for row in rows}["KE-3"] == "draft"


def test_an_invalid_filter_is_refused(tmp_path, listings):
    with pytest.raises(CommandError, match="--country: Select a valid choice"):
        export(tmp_path, "csv", "--country", "XX")


def test_cells_a_spreadsheet_would_run_get_a_leading_apostrophe(tmp_path, listings):
    rows = {row["external_id"]: row for row in read_rows(export(tmp_path, "csv"))}

    assert rows["KE-2"]["name"] == '\'=HYPERLINK("http://evil.example")'
    assert rows["KE-2"]["city"] == "'-Nairobi"
    assert rows["KE-1"]["phone"] == "'+254722123456"
    assert rows["KE-1"]["longitude"] == "39.6682"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-", "@SUM(A1)", "\tx", "\rx", "'=x", "''+x", "'plain", "plain", ""])
def test_the_formula_guard_reads_back_exactly(text):
    assert unguard_formula(guard_formula(text)) == text


def test_json_export_has_the_same_fields_with_real_types(tmp_path, listings):
    data = json.loads(export(tmp_path, "json").read_text(encoding="utf-8"))

    harbour = next(item for item in data if item["external_id"] == "KE-1")
    assert harbour["latitude"] == -4.0435
    assert harbour["telehealth"] is True
    assert harbour["accepting_new_clients"] is None
    assert harbour["modalities"] == ["mat", "counseling"]
    assert harbour["name"] == "Harbour Clinic"


def empty_the_directory():
    Provider.objects.all().delete()
    Organization.objects.all().delete()
    ImportRun.objects.all().delete()
    Source.objects.all().delete()


@pytest.mark.parametrize(("fmt", "suffix"), [("csv", "csv"), ("json", "json"), ("hsds", "zip")])
def test_export_import_into_an_empty_directory_and_export_again_gives_the_same_file(tmp_path, listings, fmt, suffix):
    first = tmp_path / f"first.{suffix}"
    run("export_providers", "--format", fmt, "--output", first)
    empty_the_directory()

    run("import_providers", first)

    again = tmp_path / f"again.{suffix}"
    run("export_providers", "--format", fmt, "--output", again)
    assert again.read_bytes() == first.read_bytes()


def test_the_search_page_offers_its_results_as_csv(client, listings):
    response = client.get("/providers/?country=KE&page=1")

    assert 'href="/providers/export.csv?country=KE"' in response.content.decode()


def test_the_csv_download_holds_the_filtered_results(client, listings):
    response = client.get("/providers/export.csv?country=KE")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="providers.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))
    assert sorted(row["external_id"] for row in rows) == ["KE-1", "KE-2"]


def test_the_csv_download_runs_a_constant_number_of_queries(client, make_provider, django_assert_max_num_queries):
    for number in range(30):
        make_provider(name=f"Clinic {number}", modalities=["mat"], languages=["en"])

    with django_assert_max_num_queries(6):
        response = client.get("/providers/export.csv")
        rows = b"".join(response.streaming_content).decode("utf-8").splitlines()

    assert len(rows) == 31


def download(client, query=""):
    response = client.get("/providers/export.csv?" + query)
    assert response.status_code == 200
    return [row["name"] for row in csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8")))]


def page(client, query=""):
    return [provider.name for provider in client.get("/providers/?" + query).context["page_obj"]]


@pytest.fixture
def around_nairobi(make_provider):
    """Listings created in an order that is neither by name, by distance from central Nairobi nor by verification."""
    make_provider(name="Westlands", latitude=-1.2676, longitude=36.8108, last_verified=datetime.date(2024, 1, 1))
    make_provider(name="Thika", latitude=-1.0388, longitude=37.0834)
    make_provider(name="Centre", latitude=-1.2864, longitude=36.8172, last_verified=datetime.date(2025, 1, 1))
    make_provider(name="Nakuru", latitude=-0.3031, longitude=36.0800, last_verified=datetime.date(2023, 1, 1))


@pytest.mark.parametrize(
    "query",
    [
        "",
        "sort=name",
        "sort=verified",
        "sort=updated",
        "sort=distance",
        "near=Nairobi&radius=50",
        "near=Nairobi&radius=50&sort=name",
    ],
)
def test_the_download_lists_providers_in_the_order_of_the_page(client, around_nairobi, query):
    assert download(client, query) == page(client, query)


def test_the_download_lists_providers_by_name_by_default(client, around_nairobi):
    assert download(client) == ["Centre", "Nakuru", "Thika", "Westlands"]


def test_the_download_lists_the_nearest_first_when_a_place_is_searched(client, around_nairobi):
    assert download(client, "near=-1.2864,36.8172&radius=50") == ["Centre", "Westlands", "Thika"]


def test_records_keep_the_querysets_order_from_one_chunk_to_the_next(around_nairobi):
    records = iter_export_records(Provider.objects.order_by("-name"), chunk_size=3)

    assert [record.values["name"] for record in records] == ["Westlands", "Thika", "Nakuru", "Centre"]


def test_an_unknown_country_gets_400_and_no_rows(client, listings):
    response = client.get("/providers/export.csv?country=XX")

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert "Country: Select a valid choice. XX is not one of the available choices." in text
    assert "external_id" not in text and "Harbour Clinic" not in text


def test_a_keyword_with_a_nul_byte_gets_400(client, listings):
    response = client.get("/providers/export.csv?q=a%00b")

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Keyword: Null characters are not allowed." in response.content.decode()
