"""The SAMHSA 2015 directory conversion behind the demo fixture."""

import json

import pytest

from providers.exchange.formats import samhsa
from tests.exchange.helpers import samhsa_row, write_our_csv

HEADER = [
    "Name1", "Name2", "Name3", "Address1", "Address2", "Address3", "City", "State", "ZIP_Code",
    "Contact", "Note", "Keys", "ID", "Longitude", "Latitude", "Match Score",
]  # fmt: skip


def write_rows(path, rows):
    return write_our_csv(path, rows, columns=HEADER)


row = samhsa_row


def read(tmp_path, *rows):
    return samhsa.read(write_rows(tmp_path / "directory.csv", rows))


def test_it_maps_service_codes_to_taxonomy_slugs(tmp_path):
    [record] = read(tmp_path, row(Keys="SAF/SA/MM/BU/NXN/VTRL/OP/RES/HH/NP/SS/MD/PW/VET/SP/F28/"))

    assert record.terms == {
        "modalities": ["mat"],
        "medications": ["methadone", "buprenorphine", "naltrexone", "extended-release-naltrexone"],
        "care_settings": ["outpatient", "inpatient", "aftercare"],
        "payment_options": ["free", "sliding-scale", "public-insurance"],
        "populations": ["pregnant-women", "veterans"],
        "languages": ["es", "fr"],
    }
    assert record.unmapped == []


def test_codes_it_cannot_map_are_reported_not_dropped(tmp_path):
    [record] = read(tmp_path, row(Keys="SA/OP/N2/Methadone/"))

    assert record.unmapped == ["N2", "Methadone"]


def test_languages_without_an_iso_639_1_code_are_kept_in_the_description(tmp_path):
    [record] = read(tmp_path, row(Keys="SA/OP/N18/N13/", Note="Methadone Clients Only"))

    assert "languages" not in record.terms
    assert record.values["description"] == "Methadone Clients Only. Also offers services in Lakota, Hopi."


def test_detoxification_is_stated_in_the_description(tmp_path):
    [record] = read(tmp_path, row(Keys="SA/DT/OP/"))

    assert record.values["description"] == "Offers detoxification."


def test_placeholders_count_as_blank(tmp_path):
    [record] = read(tmp_path, row(Name2="N/A", Address2="-", Note="none"))

    assert record.values["name"] == "Shelby County Treatment Center"
    assert (record.values["street_address_2"], record.values["description"]) == ("", "")


def test_it_splits_main_and_intake_numbers():
    assert samhsa.split_contact("(334)428-5050 Intake: (334)428-5040") == ("(334)428-5050", "(334)428-5040", "")
    assert samhsa.split_contact("(205)216-0200x12 Intakes: (205)216-0201x3 (205)216- 0202") == (
        "(205)216-0200x12",
        "(205)216-0201x3",
        "",
    )
    assert samhsa.split_contact("(205)216-0200 Hotline: (800)555-0100") == ("(205)216-0200", "", "(800)555-0100")


def test_programmes_sharing_a_site_id_get_stable_distinct_external_ids(tmp_path):
    records = read(
        tmp_path,
        row(ID="1086AL36420", Name1="South Central Alabama CMHC", Name2="Covington Cnty Adult SA OP"),
        row(ID="1086AL36420", Name1="South Central Alabama CMHC", Name2="First Step"),
        row(ID="1086AL36420", Name1="South Central Alabama CMHC", Name2="First Step"),
        row(ID="9999AL00001"),
    )

    assert [record.external_id for record in records] == [
        "1086AL36420-covington-cnty-adult-sa-op",
        "1086AL36420-first-step",
        "1086AL36420-first-step-2",
        "9999AL00001",
    ]


def test_us_territories_become_their_own_iso_countries(tmp_path):
    [puerto_rico, guam, alabama] = read(
        tmp_path, row(State="PR", ZIP_Code="907"), row(State="GU", ZIP_Code="96910"), row(State="AL")
    )

    assert [puerto_rico.values[name] for name in ("country", "region", "postal_code")] == ["PR", "", "00907"]
    assert guam.values["country"] == "GU"
    assert [alabama.values["country"], alabama.values["region"]] == ["US", "Alabama"]


def test_low_confidence_geocodes_are_left_out(tmp_path):
    [confident, doubtful] = read(tmp_path, row(), row(ID="2", **{"Match Score": "72.5"}))

    assert (confident.values["latitude"], confident.values["longitude"]) == (33.213457, -86.787385)
    assert (doubtful.values["latitude"], doubtful.values["longitude"]) == (None, None)


def test_every_mapped_slug_is_a_shipped_taxonomy_term(settings):
    shipped = {
        (entry["model"], entry["fields"]["slug"])
        for entry in json.loads((settings.BASE_DIR / "fixtures" / "taxonomy.json").read_text(encoding="utf-8"))
    }
    models = {
        "modalities": "providers.modality",
        "care_settings": "providers.caresetting",
        "medications": "providers.medication",
        "payment_options": "providers.paymentoption",
        "populations": "providers.population",
        "languages": "providers.language",
    }
    mapped = {(models[field], slug) for terms in samhsa.CODE_TERMS.values() for field, slug in terms}

    assert mapped <= shipped


def test_the_mapping_covers_every_code_of_the_legend(settings):
    legend_path = settings.BASE_DIR.parent / "shared" / "data" / "samhsa-2015" / "service_codes_2015.json"
    if not legend_path.exists():
        pytest.fail(f"The SAMHSA legend is missing at {legend_path}; CI runs with ../shared beside the checkout.")
    legend = json.loads(legend_path.read_text(encoding="utf-8"))
    known = set(samhsa.CODE_TERMS) | set(samhsa.OTHER_LANGUAGES) | samhsa.DESCRIPTIVE_CODES

    # N13N18 is a garbled legend entry ("None") that no row uses.
    assert set(legend) - known == {"N13N18"}
