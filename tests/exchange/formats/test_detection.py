"""Telling formats apart when a partner does not say which one a file is in."""

from pathlib import Path

import pytest
from django.conf import settings

from providers.exchange.formats import detect_format
from providers.exchange.records import ImportFileError

SHARED = Path(settings.BASE_DIR).parent / "shared"
HSDS_EXAMPLES = SHARED / "reference" / "hsds-3.0" / "examples"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (SHARED / "data" / "samhsa-2015" / "nssats_2015_directory_geocoded.csv", "samhsa"),
        (SHARED / "data" / "findtreatment-sample" / "facilities.json", "findtreatment"),
        (HSDS_EXAMPLES / "csv", "hsds"),
        (HSDS_EXAMPLES / "service_full.json", "hsds"),
        (HSDS_EXAMPLES / "service_list.json", "hsds"),
        (HSDS_EXAMPLES / "service_at_location_full.json", "hsds"),
        (HSDS_EXAMPLES / "organization_full.json", "hsds"),
        (HSDS_EXAMPLES / "organization_list.json", "hsds"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_shared_files_are_recognised(path, expected):
    assert detect_format(path).name == expected


def test_our_csv_and_json_are_recognised(tmp_path):
    (tmp_path / "ours.csv").write_text("external_id,name\n1,Open Door\n", encoding="utf-8")
    (tmp_path / "ours.json").write_text('[{"external_id": "1", "name": "Open Door"}]', encoding="utf-8")

    assert detect_format(tmp_path / "ours.csv").name == "csv"
    assert detect_format(tmp_path / "ours.json").name == "json"


def test_the_locators_paged_response_is_recognised(tmp_path):
    (tmp_path / "page.json").write_text('{"page": 1, "rows": [{"frid": "abc", "name1": "X"}]}', encoding="utf-8")

    assert detect_format(tmp_path / "page.json").name == "findtreatment"


def test_a_zip_is_an_hsds_package(tmp_path):
    (tmp_path / "package.zip").write_bytes(b"PK\x03\x04rest")

    assert detect_format(tmp_path / "package.zip").name == "hsds"


def test_a_folder_without_a_datapackage_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match=r"without a datapackage\.json"):
        detect_format(tmp_path)


def test_json_of_no_known_shape_is_refused(tmp_path):
    (tmp_path / "odd.json").write_text('{"hello": "world"}', encoding="utf-8")

    with pytest.raises(ImportFileError, match="not in a format we know"):
        detect_format(tmp_path / "odd.json")
