"""Partners' own exports, read through a mapping (docs/IMPORT.md, "Mappings")."""

import json
import zipfile

import pytest
from django.core.management.base import CommandError

from providers.exchange.formats import MissingSourceError, read_file
from providers.exchange.formats.mapped import Export, MappingError, load_mapping, parse_mapping, records
from providers.exchange.records import ImportFileError
from providers.models import ImportRun, Provider, Source
from tests.exchange.helpers import run
from tests.paths import FIXTURES, SHARED

NHS_FOLDER = SHARED / "data" / "nhs-england-2014"
NHS_MAPPING = FIXTURES / "mappings" / "nhs-england-pharmacies.json"

# The shape of a 2025 JSON export of California facilities: FindTreatment labels in one text.
CALIFORNIA = [
    {
        "name": "Bay Area Addiction Research and Treatment",
        "city": "San Francisco",
        "state": "CA",
        "zip": "94103",
        "phone": "(415) 863-3883",
        "website": "https://www.baartprograms.com",
        "latitude": "37.7726",
        "longitude": "-122.4099",
        "all_services": "Buprenorphine used in Treatment; Methadone; Cognitive behavioral therapy; Medicaid; "
        "Adult men; Spanish; Smoking cessation",
    },
    {
        "name": "Sober Living by the Sea",
        "city": "Newport Beach",
        "state": "CA",
        "zip": "92663",
        "phone": "949-220-5990",
        "website": "",
        "latitude": "33.6189",
        "longitude": "-117.9298",
        "all_services": "Cognitive behavioral therapy; Private health insurance; Smoking cessation",
    },
]
CALIFORNIA_MAPPING = {
    "format": "json",
    "country": "US",
    "id": ["name", "zip"],
    "fields": {
        "name": "name",
        "city": "city",
        "region": "state",
        "postal_code": "zip",
        "phone": "phone",
        "website": "website",
        "latitude": "latitude",
        "longitude": "longitude",
    },
    "terms": {
        "modalities": {
            "column": "all_services",
            "split": "; ",
            "values": {
                "Buprenorphine used in Treatment": "mat",
                "Methadone": "mat",
                "Cognitive behavioral therapy": "counseling",
            },
        },
        "medications": {
            "column": "all_services",
            "split": "; ",
            "values": {"Buprenorphine used in Treatment": "buprenorphine", "Methadone": "methadone"},
        },
        "payment_options": {
            "column": "all_services",
            "split": "; ",
            "values": {"Medicaid": "public-insurance", "Private health insurance": "private-insurance"},
        },
        "populations": {"column": "all_services", "split": "; ", "values": {"Adult men": ["adults", "men"]}},
        "languages": {"column": "all_services", "split": "; ", "values": {"Spanish": "es"}},
    },
}

# The shape of the 2017 SAMHSA directory CSV: no id column, codes separated by spaces.
SAMHSA_2017_HEADER = "Year,Page,Center_name,Street_address,City,State,Postal_code,Phone,Keys\n"
SAMHSA_2017_ROWS = (
    '2017,12,Shelby County Treatment Center,750 Highway 31 South,Alabaster,AL,35007,(205)216-0200,"SA OP CBT MM"\n'
    '2017,12,Bradford Health Services,1600 Corporate Drive,Birmingham,AL,35242,(205)437-2000,"SA RES DBT PEER"\n'
    '2017,13,Twelve Steps House,12 Main Street,Huntsville,AL,35801,(256)533-1234,"SA HH TWFA XYZ"\n'
)
SAMHSA_2017_MAPPING = {
    "format": "csv",
    "country": "US",
    "id": ["Center_name", "Postal_code"],
    "fields": {
        "name": "Center_name",
        "street_address": "Street_address",
        "city": "City",
        "region": "State",
        "postal_code": "Postal_code",
        "phone": "Phone",
    },
    "terms": {
        "modalities": {
            "column": "Keys",
            "split": " ",
            "values": {"MM": "mat", "CBT": "counseling", "DBT": "counseling", "PEER": "peer-support", "TWFA": None},
        },
        "care_settings": {
            "column": "Keys",
            "split": " ",
            "values": {"OP": "outpatient", "RES": "inpatient", "HH": "aftercare", "SA": []},
        },
    },
}


def write_json(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def california(tmp_path):
    return write_json(tmp_path / "california.json", CALIFORNIA), write_json(tmp_path / "map.json", CALIFORNIA_MAPPING)


@pytest.fixture
def samhsa_2017(tmp_path):
    csv_path = tmp_path / "samhsa-2017.csv"
    csv_path.write_text(SAMHSA_2017_HEADER + SAMHSA_2017_ROWS, encoding="utf-8")
    return csv_path, write_json(tmp_path / "map.json", SAMHSA_2017_MAPPING)


class TestACaliforniaJsonExport:
    def test_imports_whole_with_its_labels_as_our_terms(self, db, california):
        export, mapping = california
        output = run("import_providers", export, "--mapping", mapping, "--source", "california-2025")

        assert "2 created" in output
        clinic = Provider.objects.get(name="Bay Area Addiction Research and Treatment")
        assert clinic.region == "California"
        assert clinic.phone == "+14158633883"
        assert (float(clinic.latitude), float(clinic.longitude)) == (37.7726, -122.4099)
        assert {term.slug for term in clinic.modalities.all()} == {"mat", "counseling"}
        assert {term.slug for term in clinic.medications.all()} == {"buprenorphine", "methadone"}
        assert {term.slug for term in clinic.populations.all()} == {"adults", "men"}
        assert [term.slug for term in clinic.languages.all()] == ["es"]

    def test_lists_the_labels_it_does_not_map_with_their_counts(self, db, california):
        export, mapping = california
        output = run("import_providers", export, "--mapping", mapping, "--source", "california-2025")

        assert "all_services: Smoking cessation ×2" in output
        assert ImportRun.objects.get().unmapped_terms == {"all_services: Smoking cessation": 2}

    def test_sent_again_updates_and_never_duplicates(self, db, california, tmp_path):
        export, mapping = california
        run("import_providers", export, "--mapping", mapping, "--source", "california-2025")
        changed = [dict(CALIFORNIA[0], phone="(415) 863-0000"), CALIFORNIA[1]]
        output = run(
            "import_providers", write_json(tmp_path / "again.json", changed), "--mapping", mapping, "--source",
            "california-2025",
        )  # fmt: skip

        assert "0 created, 1 updated, 1 unchanged" in output
        assert Provider.objects.count() == 2

    def test_reaches_into_nested_objects_with_dotted_paths(self, db, tmp_path):
        document = {"data": {"items": [{"facility": {"title": "Harbour Clinic", "town": "Leeds"}, "ref": 7}]}}
        mapping = parse_mapping(
            {
                "format": "json",
                "records": "data.items",
                "country": "GB",
                "id": "ref",
                "fields": {"name": "facility.title", "city": "facility.town"},
            }
        )
        (record,) = records(Export(write_json(tmp_path / "nested.json", document), mapping))

        assert record.external_id == "7"
        assert record.values == {"name": "Harbour Clinic", "city": "Leeds", "country": "GB"}

    def test_a_records_path_that_is_not_there_is_a_clear_error(self, db, tmp_path):
        mapping = parse_mapping({"format": "json", "records": "data.items", "id": "id", "fields": {"name": "n"}})
        with pytest.raises(ImportFileError, match=r"has no 'data.items'.*no 'items' there"):
            Export(write_json(tmp_path / "flat.json", {"data": []}), mapping)


class TestASamhsa2017Csv:
    def test_imports_whole_keyed_by_name_and_postal_code(self, db, samhsa_2017):
        export, mapping = samhsa_2017
        output = run("import_providers", export, "--mapping", mapping, "--source", "samhsa-2017")

        assert "3 created" in output
        bradford = Provider.objects.get(external_id="Bradford Health Services|35242")
        assert {term.slug for term in bradford.modalities.all()} == {"counseling", "peer-support"}
        assert [term.slug for term in bradford.care_settings.all()] == ["inpatient"]

    def test_codes_mapped_to_nothing_on_purpose_are_not_reported(self, db, samhsa_2017):
        export, mapping = samhsa_2017
        output = run("import_providers", export, "--mapping", mapping, "--source", "samhsa-2017", "--dry-run")

        assert "1 unmapped term(s), not imported: Keys: XYZ ×1" in output

    def test_a_source_with_a_saved_mapping_uses_it_without_the_flag(self, db, samhsa_2017):
        export, _ = samhsa_2017
        Source.objects.create(slug="samhsa-2017", name="SAMHSA 2017", mapping=SAMHSA_2017_MAPPING)
        output = run("import_providers", export, "--source", "samhsa-2017")

        assert "Read through the mapping saved on samhsa-2017." in output
        assert "3 created" in output


class TestEnglandsPharmacies:
    """The shipped mapping for ../shared/data/nhs-england-2014: three ¬-separated Latin-1 tables."""

    def test_reads_the_pharmacies_offering_treatment_and_leaves_out_the_others(self, db):
        read = records(Export(NHS_FOLDER / "Pharmacy.csv", load_mapping(NHS_MAPPING)))

        assert len(read) == 450
        assert read.left_out == 11349
        assert not [record for record in read if record.unmapped or record.errors]

    def test_imports_them_with_uk_phones_postcodes_coordinates_and_hours(self, db):
        output = run(
            "import_providers", NHS_FOLDER / "Pharmacy.csv", "--mapping", NHS_MAPPING, "--source", "nhs-england"
        )

        assert "450 created" in output
        assert "Left out 11349 record(s)" in output
        # Its City column is blank: the town is the first address line that is not.
        pharmacy = Provider.objects.get(source__slug="nhs-england", external_id="25049")
        assert (pharmacy.name, pharmacy.city, pharmacy.postal_code) == ("Savile Town Pharmacy", "Dewsbury", "WF12 9NB")
        assert pharmacy.country.code == "GB"
        assert pharmacy.phone == "+441924454729"
        assert (round(float(pharmacy.latitude), 3), round(float(pharmacy.longitude), 3)) == (53.684, -1.632)
        assert [
            (interval.weekday, f"{interval.opens:%H:%M}", f"{interval.closes:%H:%M}")
            for interval in pharmacy.opening_hours.all()
        ][:2] == [(0, "09:00", "13:00"), (0, "14:00", "18:30")]
        held = Provider.objects.filter(source__slug="nhs-england")
        assert held.filter(modalities__slug="mat").count() == 358
        assert held.filter(modalities__slug="harm-reduction").exists()


class TestFilesAsPartnersWriteThem:
    def test_encoding_and_separator_are_detected(self, db, tmp_path):
        mapping = parse_mapping({"format": "csv", "id": "Ref", "fields": {"name": "Nom", "city": "Ville"}})
        for name, data in {
            "cp1252-semicolons.csv": "Ref;Nom;Ville\n1;Clinique Émile;Liège\n".encode("cp1252"),
            "bom-tabs.csv": "\ufeffRef\tNom\tVille\n1\tClinique Émile\tLiège\n".encode(),
            "latin1-not-signs.csv": "Ref¬Nom¬Ville\n1¬Clinique Émile¬Liège\n".encode("latin-1"),
        }.items():
            (tmp_path / name).write_bytes(data)
            (record,) = records(Export(tmp_path / name, mapping))
            assert record.values == {"name": "Clinique Émile", "city": "Liège"}, name

    def test_a_column_of_walk_in_hours_maps_to_ours(self, db, tmp_path):
        fields = {"name": "Name", "opening_hours": "Open", "walk_in_hours": "Drop-in"}
        mapping = parse_mapping({"format": "csv", "id": "Ref", "fields": fields})
        (tmp_path / "clinics.csv").write_text("Ref,Name,Open,Drop-in\n1,Harbour,Mo-Fr 08:00-17:00,Mo 09:00-11:00\n")

        (record,) = records(Export(tmp_path / "clinics.csv", mapping))

        assert record.opening_hours == [(day, "08:00", "17:00") for day in range(5)]
        assert record.walk_in_hours == [(0, "09:00", "11:00")]

    def test_a_zip_of_several_tables_names_its_main_one(self, db, tmp_path):
        archive = tmp_path / "export.zip"
        with zipfile.ZipFile(archive, "w") as handle:
            handle.writestr("export/sites.csv", "id,name\n1,Harbour Clinic\n")
            handle.writestr("export/services.csv", "site,service\n1,Methadone\n1,Needle exchange\n")
        mapping = parse_mapping(
            {
                "format": "csv",
                "file": "sites.csv",
                "id": "id",
                "fields": {"name": "name"},
                "tables": {"services": {"file": "services.csv", "id": "site"}},
                "terms": {
                    "modalities": {
                        "table": "services",
                        "column": "service",
                        "values": {"methadone": "mat", "NEEDLE EXCHANGE": "harm-reduction"},
                    }
                },
            }
        )
        (record,) = records(Export(archive, mapping))

        assert record.terms == {"modalities": ["mat", "harm-reduction"]}


class TestBadMappings:
    def test_every_problem_is_listed_at_once(self):
        with pytest.raises(MappingError) as error:
            parse_mapping(
                {
                    "format": "xlsx",
                    "fileds": {},
                    "fields": {"nmae": "Name", "modalities": "Keys"},
                    "terms": {"modality": {"column": "Keys"}},
                }
            )
        message = str(error.value)
        for expected in (
            "unknown key(s) 'fileds'",
            '"format" must be "csv" or "json"',
            '"id" must name the column',
            "'nmae', which is not one of our fields",
            "'modalities', a taxonomy",
            "'modality', which is not one of our taxonomies",
            "which column holds the name",
        ):
            assert expected in message

    def test_a_misspelt_key_inside_an_entry_is_not_taken_for_one_left_out(self):
        with pytest.raises(MappingError) as error:
            parse_mapping(
                {
                    "format": "csv",
                    "id": "Ref",
                    "fields": {"name": "Name"},
                    "terms": {"modalities": {"column": "Keys", "spilt": " ", "values": ["MM"]}},
                }
            )

        assert "'modalities' has unknown key(s) 'spilt' (known: column, split, values, table)" in str(error.value)

    def test_a_misspelt_column_is_named_rather_than_leaving_every_record_blank(self, db, samhsa_2017, tmp_path):
        export, _ = samhsa_2017
        wrong = dict(SAMHSA_2017_MAPPING, fields={**SAMHSA_2017_MAPPING["fields"], "city": "Cty"})
        with pytest.raises(CommandError, match=r"samhsa-2017.csv has no column 'Cty' \(it has Year, Page, Center_name"):
            run("import_providers", export, "--mapping", write_json(tmp_path / "wrong.json", wrong), "--source", "s")

    def test_a_term_we_do_not_have_stops_the_import_before_reading(self, db, samhsa_2017, tmp_path):
        export, _ = samhsa_2017
        wrong = dict(SAMHSA_2017_MAPPING, terms={"modalities": {"column": "Keys", "values": {"MM": "methadone"}}})
        with pytest.raises(CommandError, match="names terms we do not have: modalities: methadone"):
            run("import_providers", export, "--mapping", write_json(tmp_path / "wrong.json", wrong), "--source", "s")

    def test_a_mapping_that_is_not_json_says_where(self, db, samhsa_2017, tmp_path):
        export, _ = samhsa_2017
        broken = tmp_path / "broken.json"
        broken.write_text('{"format": "csv",\n "id": }', encoding="utf-8")
        with pytest.raises(CommandError, match=r"broken.json is not valid JSON: .* \(line 2\)"):
            run("import_providers", export, "--mapping", broken, "--source", "samhsa-2017")

    def test_a_mapped_format_needs_a_source(self, db, samhsa_2017):
        export, mapping = samhsa_2017
        with pytest.raises(MissingSourceError, match="give one with --source"):
            read_file(export, mapping=load_mapping(mapping))
