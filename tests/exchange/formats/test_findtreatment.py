"""The FindTreatment.gov locator JSON reader, on the real Virginia sample and on small hand-made files."""

import json

import pytest

from providers.exchange.formats import FORMATS, detect_format, findtreatment
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import TERM_FIELDS, ImportFileError
from providers.models import Provider
from tests.paths import FIXTURES, SHARED

SAMPLE = SHARED / "data" / "findtreatment-sample" / "facilities.json"
TAXONOMY = FIXTURES / "taxonomy.json"

MOHR_CENTER = "811a908f82269778a2fe2a8bc603afa08df868f3e2fa56aa62e214d03997dea1"
PRESTON_AVENUE_MENTAL_HEALTH = "a1e806914f668fd6a36b204da022a61d8ba326606c1ae99cd3b47f0a1bab4fe8"
LOUISA_COUNTY_OFFICE = "edbf46a911a0c674ab07a797e7dcaeb9335c11311d8176855325bf8f6ec7061d"
HARRISONBURG_TREATMENT_CENTER = "74c222d65212ee529860cb990bdd0e92df4f406b4f0dc465cfc96165d8dc002a"
BOXWOOD_DETOX = "8a5bce9a48d1bbaf70aa42ed8b31920f12a27bb9adf6bdfade71a6635710ca40"


def import_options():
    return ImportOptions(source="findtreatment", file_name="facilities.json", format="findtreatment")


@pytest.fixture(scope="module")
def sample():
    if not SAMPLE.exists():
        pytest.fail(f"The FindTreatment.gov sample is missing at {SAMPLE}; CI runs with ../shared beside the checkout.")
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def records(sample):
    return {record.external_id: record for record in findtreatment.read(SAMPLE)}


def as_sets(terms):
    return {name: set(slugs) for name, slugs in terms.items()}


def labels(facility):
    return {
        (service["f2"], " ".join(label.split()))
        for service in facility["services"]
        for label in service["f3"].split(";")
        if label.strip()
    }


def facility(**fields):
    base = {
        "frid": "f1",
        "name1": "Blue Ridge Recovery",
        "name2": "",
        "street1": "1 Main Street",
        "street2": "",
        "city": "Charlottesville",
        "state": "VA",
        "zip": "22902",
        "phone": "434-555-0100",
        "intake1": None,
        "hotline1": None,
        "website": "",
        "latitude": "38.03",
        "longitude": "-78.48",
        "services": [],
    }
    base.update(fields)
    return base


def write(tmp_path, data, name="facilities.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def read_one(tmp_path, **fields):
    [record] = findtreatment.read(write(tmp_path, [facility(**fields)]))
    return record


# --- The real sample -----------------------------------------------------------------------------


def test_it_reads_every_facility_of_the_sample_under_its_frid(sample, records):
    assert len(records) == 41
    assert set(records) == {item["frid"] for item in sample}


def test_the_mohr_center_is_read_field_by_field(records):
    record = records[MOHR_CENTER]

    assert record.values == {
        "name": "Region Ten Community Services Board – Mohr Center",
        "street_address": "1014 East Market Street",
        "street_address_2": "",
        "city": "Charlottesville",
        "region": "Virginia",
        "postal_code": "22902",
        "country": "US",
        "latitude": 38.0282239,
        "longitude": -78.4725231,
        "phone": "434-979-8871",
        "intake_phone": "434-972-1800",
        "hotline_phone": "",
        "website": "http://www.regionten.org",
        "telehealth": None,
        "description": "",
    }
    assert as_sets(record.terms) == {
        "modalities": {"counseling", "peer-support", "holistic"},
        "care_settings": {"inpatient", "aftercare"},
        "medications": set(),
        "payment_options": {"public-funding", "public-insurance", "private-insurance", "self-pay", "sliding-scale"},
        "populations": {"men", "adults", "young-adults"},
        "languages": set(),
    }
    assert record.errors == []


def test_an_opioid_treatment_programme_gets_its_medications(records):
    record = records[HARRISONBURG_TREATMENT_CENTER]

    assert record.values["phone"] == "540-908-3917 x15605"
    assert record.values["street_address_2"] == "Suites 170 and 180"
    assert as_sets(record.terms) == {
        "modalities": {"mat", "counseling", "peer-support"},
        "care_settings": {"outpatient"},
        "medications": {"methadone", "buprenorphine"},
        "payment_options": {"private-insurance", "self-pay"},
        "populations": {
            "young-adults", "adults", "women", "men", "pregnant-women", "seniors", "lgbtq", "justice-involved",
            "co-occurring", "sexual-abuse-survivors", "domestic-violence-survivors", "trauma-survivors",
        },
        "languages": {"es"},
    }  # fmt: skip


def test_a_residential_detox_programme_without_opioid_medication(records):
    record = records[BOXWOOD_DETOX]

    assert record.values["description"] == "Offers detoxification."
    assert set(record.terms["care_settings"]) == {"inpatient", "aftercare"}
    assert record.terms["medications"] == []
    assert "mat" not in record.terms["modalities"]


def test_a_mental_health_facility_says_so_and_offers_telehealth(records):
    record = records[PRESTON_AVENUE_MENTAL_HEALTH]

    assert record.values["name"] == "Region Ten Community Services Board"
    assert record.values["description"] == "Offers mental health treatment."
    assert record.values["telehealth"] is True
    assert record.values["intake_phone"] == ""


def test_language_dui_and_deaf_services_of_the_louisa_office(records):
    record = records[LOUISA_COUNTY_OFFICE]

    assert record.terms["languages"] == ["de"]
    assert {"dui-dwi", "deaf-or-hard-of-hearing", "adolescents"} <= set(record.terms["populations"])


def test_no_label_of_the_sample_is_left_unmapped(records):
    assert {external_id: record.unmapped for external_id, record in records.items() if record.unmapped} == {}


def test_telehealth_is_true_only_where_the_locator_lists_it(sample, records):
    telehealth_labels = {("SET", "Telemedicine/telehealth"), ("SET", "Computerized treatment/telemedicine")}
    expected = {item["frid"]: True if labels(item) & telehealth_labels else None for item in sample}

    assert {external_id: record.values["telehealth"] for external_id, record in records.items()} == expected
    assert list(expected.values()).count(True) == 11


def test_the_double_spaced_suboxone_label_still_maps(sample, records):
    suboxone = "Buprenorphine with naloxone  (Suboxone®)"
    with_suboxone = [item["frid"] for item in sample if any(suboxone in service["f3"] for service in item["services"])]

    assert len(with_suboxone) == 7
    assert all("buprenorphine" in records[frid].terms["medications"] for frid in with_suboxone)


# --- The mapping table ---------------------------------------------------------------------------


def test_every_mapped_slug_is_a_shipped_taxonomy_term():
    shipped = {(entry["model"], entry["fields"]["slug"]) for entry in json.loads(TAXONOMY.read_text(encoding="utf-8"))}
    mapped = {
        (Provider._meta.get_field(name).related_model._meta.label_lower, value)
        for entries in findtreatment.LABEL_TERMS.values()
        for name, value in entries
        if name in TERM_FIELDS
    }

    assert mapped - shipped == set()


def test_the_table_only_sets_terms_telehealth_and_description_sentences():
    others = {
        (name, value)
        for entries in findtreatment.LABEL_TERMS.values()
        for name, value in entries
        if name not in TERM_FIELDS
    }

    assert others == {
        ("telehealth", True),
        ("description", "Offers detoxification."),
        ("description", "Offers mental health treatment."),
    }


def test_a_label_is_either_mapped_or_descriptive_never_both():
    mapped_codes = {code for code, _label in findtreatment.LABEL_TERMS}
    labelled_codes = {code for code, _label in findtreatment.DESCRIPTIVE_LABELS}

    assert findtreatment.DESCRIPTIVE_LABELS & set(findtreatment.LABEL_TERMS) == set()
    assert findtreatment.DESCRIPTIVE_CODES & (mapped_codes | labelled_codes) == set()


def test_every_code_of_the_sample_is_mapped_or_descriptive(sample):
    known = {code for code, _label in findtreatment.LABEL_TERMS} | findtreatment.DESCRIPTIVE_CODES
    codes = {service["f2"] for item in sample for service in item["services"]}

    assert codes - known == {findtreatment.LANGUAGES}


def test_every_language_of_the_sample_maps_to_a_language(records):
    assert not any(label.startswith(f"{findtreatment.LANGUAGES}:") for r in records.values() for label in r.unmapped)


# --- Small files ---------------------------------------------------------------------------------


def test_labels_it_does_not_know_are_reported_not_dropped(tmp_path):
    record = read_one(
        tmp_path,
        services=[
            {"f1": "Service Settings", "f2": "SET", "f3": "Outpatient; Moon base"},
            {"f1": "New category", "f2": "NEW", "f3": "Something"},
            {"f1": "Facility Smoking Policy", "f2": "SMP", "f3": "Smoking on the roof only"},
        ],
    )

    assert record.terms["care_settings"] == ["outpatient"]
    assert record.unmapped == ["SET: Moon base", "NEW: Something"]


def test_deliberately_descriptive_labels_map_to_nothing_and_are_not_reported(tmp_path):
    record = read_one(
        tmp_path,
        services=[{"f2": "OT", "f3": "Do not use medication for opioid addiction; Does not treat opioid addiction"}],
    )

    assert all(slugs == [] for slugs in record.terms.values())
    assert record.unmapped == []


def test_languages_without_an_iso_639_1_code_are_kept_in_the_description(tmp_path):
    record = read_one(tmp_path, services=[{"f2": "OL", "f3": "Spanish; Hmong; Lakota"}])

    assert record.terms["languages"] == ["es"]
    assert record.values["description"] == "Also offers services in Hmong, Lakota."


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("Spanish", "es"),
        ("Farsi", "fa"),
        ("Dari", "fa"),
        ("Mandarin", "zh"),
        ("Cantonese", "zh"),
        ("Haitian Creole", "ht"),
    ],
)
def test_language_names_map_to_their_iso_639_1_code(tmp_path, label, code):
    record = read_one(tmp_path, services=[{"f2": "OL", "f3": label}])

    assert record.terms["languages"] == [code]


def test_a_language_name_nothing_knows_is_reported(tmp_path):
    assert read_one(tmp_path, services=[{"f2": "OL", "f3": "Elvish"}]).unmapped == ["OL: Elvish"]


def test_placeholders_count_as_blank(tmp_path):
    record = read_one(tmp_path, street2="-", phone="N/A", intake1="none", website="http://", zip="unknown")

    blanked = ("street_address_2", "phone", "intake_phone", "website", "postal_code")
    assert {name: record.values[name] for name in blanked} == dict.fromkeys(blanked, "")


def test_every_taxonomy_the_locator_speaks_of_is_stated_even_when_empty(tmp_path):
    record = read_one(tmp_path)

    # How to get in is not among the locator's services: curators' values stay.
    assert record.terms == {name: [] for name in TERM_FIELDS if name != "entry_routes"}
    assert record.values["telehealth"] is None
    assert record.values["description"] == ""


def test_the_locators_paged_response_is_read_from_its_rows(tmp_path):
    path = write(tmp_path, {"page": 1, "totalPages": 1, "recordCount": 2, "rows": [facility(), facility(frid="f2")]})

    assert [record.external_id for record in findtreatment.read(path)] == ["f1", "f2"]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("22902", "22902"), ("22902-1234", "22902-1234"), ("229021234", "22902-1234"), (2134, "02134"), ("", "")],
)
def test_zip_codes_keep_five_digits_and_zip_plus_four(tmp_path, raw, stored):
    assert read_one(tmp_path, zip=raw).values["postal_code"] == stored


def test_us_territories_become_their_own_iso_countries(tmp_path):
    puerto_rico = read_one(tmp_path, state="PR", zip="00907")

    assert [puerto_rico.values[name] for name in ("country", "region", "postal_code")] == ["PR", "", "00907"]


@pytest.mark.parametrize(
    ("latitude", "longitude", "expected"),
    [
        ("", "", (None, None)),
        (None, None, (None, None)),
        ("38.5", "-78.25", (38.5, -78.25)),
        (38.5, -78.25, (38.5, -78.25)),
    ],
)
def test_coordinates_are_read_as_numbers(tmp_path, latitude, longitude, expected):
    record = read_one(tmp_path, latitude=latitude, longitude=longitude)

    assert (record.values["latitude"], record.values["longitude"]) == expected


def test_unreadable_coordinates_pass_on_for_validation_to_reject(tmp_path):
    record = read_one(tmp_path, latitude="north", longitude="nan")

    assert record.values["latitude"] == "north"
    assert record.values["longitude"] is None
    assert record.errors == [("longitude", "'nan' is not a coordinate")]


def test_a_repeated_frid_is_passed_on_for_the_importer_to_reject(tmp_path):
    records = findtreatment.read(write(tmp_path, [facility(), facility(name1="Copy")]))

    assert [record.external_id for record in records] == ["f1", "f1"]


# --- Files it refuses ----------------------------------------------------------------------------


def test_invalid_json_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match=r"facilities.json is not valid JSON: .* \(line 1\)"):
        findtreatment.read(write(tmp_path, '[{"frid": "f1",'))


def test_an_object_instead_of_a_list_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match=r"must hold a JSON list of FindTreatment\.gov facilities"):
        findtreatment.read(write(tmp_path, facility()))


def test_a_facility_without_frid_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="facility 2 has no frid"):
        findtreatment.read(write(tmp_path, [facility(), facility(frid="")]))


def test_a_facility_that_is_not_an_object_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="facility 1 is not a JSON object"):
        findtreatment.read(write(tmp_path, ["f1"]))


def test_services_that_are_not_a_list_of_objects_are_refused(tmp_path):
    with pytest.raises(ImportFileError, match=r"facility 1 \(frid f1\): services must be a list of objects"):
        findtreatment.read(write(tmp_path, [facility(services="Outpatient")]))


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="is empty"):
        findtreatment.read(write(tmp_path, ""))


# --- Registry and import -------------------------------------------------------------------------


def test_the_sample_is_recognised_as_the_findtreatment_format():
    assert detect_format(SAMPLE) is FORMATS["findtreatment"]
    assert not FORMATS["findtreatment"].carries_source


@pytest.mark.django_db
def test_importing_the_sample_publishes_41_providers_and_a_second_import_changes_nothing():
    first = import_records(FORMATS["findtreatment"].read(SAMPLE), import_options())

    assert first.written and first.rejected == [] and len(first.created) == 41
    assert Provider.objects.filter(source__slug="findtreatment", status=Provider.Status.PUBLISHED).count() == 41
    assert first.unmapped == {}

    second = import_records(findtreatment.read(SAMPLE), import_options())

    assert second.created == [] and second.updated == [] and second.unchanged == 41


@pytest.mark.django_db
def test_the_imported_mohr_center(records):
    import_records(records.values(), import_options())
    provider = Provider.objects.get(source__slug="findtreatment", external_id=MOHR_CENTER)

    assert provider.name == "Region Ten Community Services Board – Mohr Center"
    assert provider.address_lines == [
        "1014 East Market Street", "Charlottesville, Virginia 22902", "United States of America",
    ]  # fmt: skip
    assert (provider.phone, provider.intake_phone, provider.hotline_phone) == ("+14349798871", "+14349721800", "")
    assert provider.website == "http://www.regionten.org"
    assert (provider.latitude, provider.longitude) == (38.0282239, -78.4725231)
    assert provider.telehealth is None
    assert set(provider.care_settings.values_list("slug", flat=True)) == {"inpatient", "aftercare"}
    assert set(provider.modalities.values_list("slug", flat=True)) == {"counseling", "peer-support", "holistic"}
    assert set(provider.payment_options.values_list("slug", flat=True)) == {
        "public-funding", "public-insurance", "private-insurance", "self-pay", "sliding-scale",
    }  # fmt: skip


@pytest.mark.django_db
def test_a_phone_extension_survives_the_import(records):
    import_records(records.values(), import_options())

    provider = Provider.objects.get(external_id=HARRISONBURG_TREATMENT_CENTER)
    assert (provider.phone, provider.intake_phone) == ("+15409083917;ext=15605", "+15409083917")


@pytest.mark.django_db
def test_a_service_the_locator_stops_listing_is_removed_on_the_next_import(tmp_path):
    services = [
        {"f2": "SET", "f3": "Outpatient; Telemedicine/telehealth"},
        {"f2": "PAY", "f3": "Medicaid; Cash or self-payment"},
    ]
    import_records(findtreatment.read(write(tmp_path, [facility(services=services)])), import_options())

    services = [{"f2": "SET", "f3": "Outpatient"}]
    report = import_records(findtreatment.read(write(tmp_path, [facility(services=services)])), import_options())

    assert [sorted(change.changed_fields) for change in report.updated] == [["payment_options", "telehealth"]]
    provider = Provider.objects.get(external_id="f1")
    assert provider.telehealth is None
    assert list(provider.payment_options.all()) == []


@pytest.mark.django_db
def test_the_importer_rejects_a_repeated_frid(tmp_path):
    records = findtreatment.read(write(tmp_path, [facility(), facility(name1="Copy")]))

    report = import_records(records, import_options())

    assert not report.written
    assert report.error_lines == ["record 2 (external id f1): external_id: 'f1' already appears in record 1"]
