"""Our own CSV and JSON: what the reader makes of the cells partners fill in by hand."""

import json

import pytest

from providers.exchange.formats import ours
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
