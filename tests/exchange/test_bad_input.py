"""Bad partner files get a clear message and change nothing."""

import codecs

import pytest
from django.core.management.base import CommandError

from providers.models import ImportRun, Provider, Source
from tests.exchange.helpers import run, write_our_csv

pytestmark = pytest.mark.django_db

GOOD_ROW = {"source": "partner", "external_id": "1", "name": "Open Door", "country": "GB"}


def refuse(path, *args):
    with pytest.raises(CommandError) as failure:
        run("import_providers", path, *args)
    assert Provider.objects.count() == 0
    assert Source.objects.count() == 0
    return str(failure.value)


def rejected_lines():
    return ImportRun.objects.get().errors


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "partner.csv is empty."),
        (b"  \n\n", "partner.csv is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks like a binary file"),
        (codecs.BOM_UTF16_LE + "external_id,name\n".encode("utf-16-le"), "encoded as UTF-16; save it as UTF-8"),
        ("external_id,name,country\n1,Café Olé,FR\n".encode("latin-1"), "is not UTF-8 (byte 0xe9 at position 30)"),
        (b"external_id;name;country\n1;Open Door;GB\n", "separates columns with semicolons; our CSV uses commas"),
        (b"external_id\tname\tcountry\n1\tOpen Door\tGB\n", "separates columns with tabs"),
        (b"name,country\nOpen Door,GB\n", "missing the required column(s): external_id"),
        (b"external_id,name,colour\n1,Open Door,blue\n", "unknown column(s): colour"),
        (b"external_id,name,name\n1,Open Door,Open Door\n", "repeats the column(s): name"),
    ],
    ids=[
        "empty",
        "blank",
        "binary",
        "utf-16",
        "latin-1",
        "semicolons",
        "tabs",
        "missing-column",
        "unknown-column",
        "repeated-column",
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_reason(tmp_path, content, message):
    path = tmp_path / "partner.csv"
    path.write_bytes(content)

    assert message in refuse(path, "--format", "csv", "--source", "partner")


def test_utf8_with_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "partner.csv"
    path.write_bytes(codecs.BOM_UTF8 + b"source,external_id,name,country\npartner,1,Caf\xc3\xa9 Ol\xc3\xa9,FR\n")

    run("import_providers", path)

    assert Provider.objects.get().name == "Café Olé"


def test_a_file_over_the_size_limit_is_refused(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 100
    path = write_our_csv(tmp_path / "big.csv", [GOOD_ROW] * 10)

    assert "the limit is 100 bytes (IMPORT_MAX_BYTES)" in refuse(path)


def test_a_missing_file_is_refused(tmp_path):
    assert "does not exist" in refuse(tmp_path / "nowhere.csv", "--format", "csv")


def test_an_unknown_country_rejects_the_record(tmp_path):
    refuse(write_our_csv(tmp_path / "partner.csv", [{**GOOD_ROW, "country": "QQ"}]))

    assert rejected_lines() == ["record 1 (external id 1): country: Value 'QQ' is not a valid choice."]


@pytest.mark.parametrize(
    ("cells", "line"),
    [
        ({"latitude": "91", "longitude": "0"}, "latitude: Ensure this value is less than or equal to 90.0."),
        ({"latitude": "0", "longitude": "-180.5"}, "longitude: Ensure this value is greater than or equal to -180.0."),
        ({"latitude": "north", "longitude": "0"}, "latitude: 'north' is not a number"),
        ({"latitude": "10"}, "longitude: Give both latitude and longitude, or neither."),
        ({"name": "x" * 201}, "name: Ensure this value has at most 200 characters (it has 201)."),
        ({"phone": "12"}, "phone: 12 is not a valid phone number for the provider's country."),
        ({"website": "not a url"}, "website: Enter a valid URL."),
        ({"telehealth": "maybe"}, "telehealth: 'maybe' is not yes, no or empty"),
        (
            {"last_verified": "yesterday"},
            "last_verified: “yesterday” value has an invalid date format. It must be in YYYY-MM-DD format.",
        ),
        ({"status": "live"}, "status: Value 'live' is not a valid choice."),
        ({"languages": "english"}, "languages: unknown term(s) english"),
    ],
    ids=[
        "latitude-range",
        "longitude-range",
        "latitude-text",
        "half-coordinates",
        "over-long",
        "phone",
        "website",
        "boolean",
        "date",
        "status",
        "language",
    ],
)
def test_strictly_an_invalid_value_rejects_the_record_and_says_why(tmp_path, cells, line):
    refuse(write_our_csv(tmp_path / "partner.csv", [{**GOOD_ROW, **cells}]), "--strict")

    assert f"record 1 (external id 1): {line}" in rejected_lines()


@pytest.mark.parametrize(
    ("cells", "line"),
    [
        (
            {"latitude": "91", "longitude": "0"},
            "latitude 91.0 set aside: Ensure this value is less than or equal to 90.0.",
        ),
        ({"latitude": "91", "longitude": "0"}, "longitude 0.0 set aside: latitude: Ensure this value is less than"),
        ({"latitude": "north", "longitude": "0"}, "latitude set aside: 'north' is not a number"),
        ({"latitude": "10"}, "latitude 10.0 set aside: longitude: Give both latitude and longitude, or neither."),
        ({"phone": "12"}, "phone '12' set aside: 12 is not a valid phone number for the provider's country."),
        ({"website": "not a url"}, "website 'not a url' set aside: Enter a valid URL."),
        ({"telehealth": "maybe"}, "telehealth set aside: 'maybe' is not yes, no or empty"),
        ({"last_verified": "yesterday"}, "last_verified 'yesterday' set aside: “yesterday” value has an invalid date"),
        ({"time_zone": "Africa/Atlantis"}, "time_zone 'Africa/Atlantis' set aside: Africa/Atlantis is not an IANA"),
    ],
    ids=[
        "latitude-range",
        "its-longitude",
        "latitude-text",
        "half-coordinates",
        "phone",
        "website",
        "boolean",
        "date",
        "zone",
    ],
)
def test_an_invalid_optional_value_is_set_aside_with_a_warning_and_the_listing_imported(tmp_path, cells, line):
    run("import_providers", write_our_csv(tmp_path / "partner.csv", [{**GOOD_ROW, **cells}]))

    listing = Provider.objects.get()
    assert all(getattr(listing, name) in ("", None) for name in cells)
    run_record = ImportRun.objects.get()
    assert run_record.errors == [] and run_record.created == 1
    assert any(warning.startswith(f"record 1 (external id 1): {line}") for warning in run_record.warnings), (
        run_record.warnings
    )


@pytest.mark.parametrize(
    ("cells", "line"),
    [
        ({"name": "x" * 201}, "name: Ensure this value has at most 200 characters (it has 201)."),
        ({"name": "N/A"}, "name: This field cannot be blank."),
        ({"status": "live"}, "status: Value 'live' is not a valid choice."),
        ({"languages": "english"}, "languages: unknown term(s) english"),
    ],
    ids=["over-long-name", "placeholder-name", "status", "unknown-term"],
)
def test_an_invalid_required_value_or_an_unknown_term_still_rejects_the_record(tmp_path, cells, line):
    refuse(write_our_csv(tmp_path / "partner.csv", [{**GOOD_ROW, **cells}]))

    assert f"record 1 (external id 1): {line}" in rejected_lines()


def test_an_external_id_used_twice_in_one_file_is_rejected(tmp_path):
    refuse(write_our_csv(tmp_path / "partner.csv", [GOOD_ROW, {**GOOD_ROW, "name": "Other"}]))

    assert rejected_lines() == ["record 2 (external id 1): external_id: '1' already appears in record 1"]


def test_a_record_without_an_external_id_is_rejected(tmp_path):
    refuse(write_our_csv(tmp_path / "partner.csv", [{**GOOD_ROW, "external_id": ""}]))

    assert rejected_lines() == [
        "record 1 (external id -): external_id: is required to match the record on a later import"
    ]


def test_a_row_with_more_cells_than_the_header_is_rejected(tmp_path):
    path = tmp_path / "partner.csv"
    path.write_text("source,external_id,name,country\npartner,1,Open Door,GB,extra\n", encoding="utf-8")

    refuse(path)

    assert rejected_lines() == ["record 1 (external id 1): row: has 5 cells; the header has 4"]


def test_invalid_json_is_refused(tmp_path):
    path = tmp_path / "partner.json"
    path.write_text('[{"name": "Open Door",}]', encoding="utf-8")

    assert "is not valid JSON" in refuse(path, "--format", "json")


def test_json_that_is_not_a_list_of_providers_is_refused(tmp_path):
    path = tmp_path / "partner.json"
    path.write_text('{"name": "Open Door"}', encoding="utf-8")

    assert "must hold a JSON list of provider objects" in refuse(path, "--format", "json")


def test_a_bad_record_among_many_good_ones_writes_nothing(tmp_path):
    rows = [{**GOOD_ROW, "external_id": str(number)} for number in range(1, 300)]
    rows.append({**GOOD_ROW, "external_id": "300", "status": "open"})

    refuse(write_our_csv(tmp_path / "partner.csv", rows))

    assert rejected_lines() == ["record 300 (external id 300): status: Value 'open' is not a valid choice."]


def test_a_cell_too_long_for_csv_is_refused(tmp_path):
    path = tmp_path / "partner.csv"
    path.write_text("source,external_id,name,country\npartner,1," + "x" * 200_000 + ",GB\n", encoding="utf-8")

    assert "is not readable as CSV (line 2: field larger than field limit" in refuse(path)


def test_an_invalid_organization_website_is_set_aside_and_strictly_rejects(tmp_path):
    row = {**GOOD_ROW, "organization_name": "Harbourfront Health", "organization_website": "harbourfront dot ca"}
    path = write_our_csv(tmp_path / "partner.csv", [row])

    refuse(path, "--strict")
    assert rejected_lines() == ["record 1 (external id 1): organization website: Enter a valid URL."]

    run("import_providers", path)
    listing = Provider.objects.select_related("organization").get()
    assert (listing.organization.name, listing.organization.website) == ("Harbourfront Health", "")
    assert ImportRun.objects.latest("pk").warnings == [
        "record 1 (external id 1): organization website 'harbourfront dot ca' set aside: Enter a valid URL."
    ]
