"""Our own CSV and JSON: what the reader makes of the cells partners fill in by hand."""

import csv
import json
from datetime import time

import pytest

from providers.exchange.formats import ours
from providers.exchange.records import iter_export_records
from providers.models import OpeningInterval, Provider
from tests.exchange.helpers import write_our_csv

A_ROW_FILLED_BY_HAND = {
    "external_id": "NA-1",
    "name": "Namibia Recovery Centre",
    "country": "NA",
    "city": "-",
    "phone": "N/A",
    "email": "none",
    "website": "http://",
    "latitude": "n/a",
    "telehealth": "unknown",
    "last_verified": "—",
    "languages": "na;en",
    "organization_name": "Recovery Trust",
    "organization_website": "https://",
}
BLANKED = {
    "city": "",
    "phone": "",
    "email": "",
    "website": "",
    "latitude": None,
    "telehealth": None,
    "last_verified": None,
}


def read_csv(tmp_path, row):
    return ours.read_csv(write_our_csv(tmp_path / "partner.csv", [row], columns=list(row)))


def read_json(tmp_path, row):
    path = tmp_path / "partner.json"
    path.write_text(json.dumps([row]), encoding="utf-8")
    return ours.read_json(path)


@pytest.mark.parametrize("read", [read_csv, read_json], ids=["csv", "json"])
def test_placeholders_count_as_blank_but_na_stays_a_code(tmp_path, read):
    [record] = read(tmp_path, A_ROW_FILLED_BY_HAND)

    assert record.errors == []
    assert {name: record.values[name] for name in BLANKED} == BLANKED
    assert (record.values["name"], record.values["country"]) == ("Namibia Recovery Centre", "NA")
    assert record.terms["languages"] == ["na", "en"]
    assert record.organization["website"] == ""


@pytest.mark.parametrize("read", [read_csv, read_json], ids=["csv", "json"])
def test_a_placeholder_name_leaves_the_record_nameless(tmp_path, read):
    [record] = read(tmp_path, {"external_id": "KE-1", "name": "NA", "country": "KE"})

    assert record.values["name"] == ""


# Walk-in hours: a second week in its own column, in the same text as opening hours


HARBOUR = {"external_id": "KE-1", "name": "Harbour Clinic", "country": "KE"}


@pytest.mark.parametrize("read", [read_csv, read_json], ids=["csv", "json"])
def test_the_walk_in_hours_column_reads_into_walk_in_hours_beside_opening_hours(tmp_path, read):
    row = {**HARBOUR, "opening_hours": "Mo-Fr 08:00-17:00", "walk_in_hours": "Mo-We 09:00-12:00; Sa 10:00-11:30"}

    [record] = read(tmp_path, row)

    assert record.errors == []
    assert record.walk_in_hours == [
        (0, "09:00", "12:00"),
        (1, "09:00", "12:00"),
        (2, "09:00", "12:00"),
        (5, "10:00", "11:30"),
    ]
    assert ours.format_opening_hours(record.opening_hours) == (
        "Mo 08:00-17:00; Tu 08:00-17:00; We 08:00-17:00; Th 08:00-17:00; Fr 08:00-17:00"
    )


@pytest.mark.parametrize("read", [read_csv, read_json], ids=["csv", "json"])
def test_an_empty_walk_in_cell_says_there_are_none(tmp_path, read):
    [record] = read(tmp_path, {**HARBOUR, "walk_in_hours": ""})

    assert (record.walk_in_hours, record.opening_hours, record.errors) == ([], None, [])


@pytest.mark.parametrize("read", [read_csv, read_json], ids=["csv", "json"])
def test_a_bad_walk_in_cell_is_an_error_on_walk_in_hours_only(tmp_path, read):
    [record] = read(tmp_path, {**HARBOUR, "opening_hours": "Mo 09:00-17:00", "walk_in_hours": "Mo 9-12"})

    assert record.errors == [
        ("walk_in_hours", "'9-12' in 'Mo 9-12' is not an opening and a closing time (HH:MM-HH:MM)")
    ]
    assert record.walk_in_hours is None
    assert record.opening_hours == [(0, "09:00", "17:00")]


def test_json_walk_in_hours_must_be_text(tmp_path):
    [record] = read_json(tmp_path, {**HARBOUR, "walk_in_hours": [[0, "09:00", "12:00"]]})

    assert record.errors == [("walk_in_hours", 'must be text like "Mo-Fr 09:00-17:00; Sa 10:00-13:00"')]


@pytest.mark.parametrize("read", [read_csv, read_json], ids=["csv", "json"])
def test_a_file_without_the_walk_in_column_does_not_say(tmp_path, read):
    [record] = read(tmp_path, {**HARBOUR, "opening_hours": "Mo 09:00-17:00"})

    assert record.walk_in_hours is None
    assert record.opening_hours == [(0, "09:00", "17:00")]


@pytest.mark.django_db
def test_our_export_writes_walk_in_hours_in_their_own_column(tmp_path, make_provider):
    harbour = make_provider(name="Harbour Clinic", country="KE", external_id="KE-1")
    OpeningInterval.objects.bulk_create(
        [
            OpeningInterval(provider=harbour, weekday=0, opens=time(8), closes=time(17)),
            OpeningInterval(provider=harbour, walk_in=True, weekday=0, opens=time(9), closes=time(11)),
            OpeningInterval(provider=harbour, walk_in=True, weekday=3, opens=time(14), closes=time(16)),
        ]
    )
    make_provider(name="Prairie Centre", country="CA", external_id="CA-1")
    listings = Provider.objects.order_by("pk")
    with open(tmp_path / "export.csv", "w", encoding="utf-8", newline="") as handle:
        ours.write_csv(iter_export_records(listings), handle)
    with open(tmp_path / "export.json", "w", encoding="utf-8") as handle:
        ours.write_json(iter_export_records(listings), handle)

    with open(tmp_path / "export.csv", encoding="utf-8", newline="") as handle:
        rows = {row["external_id"]: row for row in csv.DictReader(handle)}
    items = {item["external_id"]: item for item in json.loads((tmp_path / "export.json").read_text(encoding="utf-8"))}
    for written in (rows, items):
        assert (written["KE-1"]["opening_hours"], written["KE-1"]["walk_in_hours"]) == (
            "Mo 08:00-17:00",
            "Mo 09:00-11:00; Th 14:00-16:00",
        )
        assert written["CA-1"]["walk_in_hours"] == ""
    assert [record.walk_in_hours for record in ours.read_csv(tmp_path / "export.csv")] == [
        [(0, "09:00", "11:00"), (3, "14:00", "16:00")],
        [],
    ]
