"""Open Referral HSDS 3.0: reading partners' packages and documents, writing ours, and the round trip."""

import csv
import dataclasses
import datetime
import functools
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from providers.exchange.formats import hsds
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import ImportFileError, Record, iter_export_records, record_from_provider
from providers.models import OpeningInterval, Organization, Provider, Source
from providers.search.vocabulary import attach_terms
from tests.exchange.helpers import weekly
from tests.paths import SHARED

pytestmark = pytest.mark.django_db

HSDS = SHARED / "reference" / "hsds-3.0"
EXAMPLES = HSDS / "examples"
SCHEMAS = HSDS / "schema"

SERVICE_AT_LOCATION_ID = "e94c9f38-1e8f-4564-91d4-d53501ab1765"
EXAMPLE_VALUES = {
    "name": "Community Counselling - MyCity Civic Center",
    "description": (
        "Counselling Services provided by trained professionals. Suitable for people with mental health "
        "conditions such as anxiety, depression, or eating disorders as well as people experiencing difficult "
        "life events and circumstances."
    ),
    "email": "email@example.com",
    "website": "http://example.com/counselling",
    "status": "published",
    "last_verified": datetime.date(2005, 1, 1),
    "latitude": 100.0,
    "longitude": 101.0,
    "street_address": "1-30 Main Street",
    "street_address_2": "MyVillage",
    "city": "MyCity",
    "region": "MyState",
    "postal_code": "ABC 1234",
    "country": "US",
    "phone": "+44 1234 234567;ext=100",
    "intake_phone": "",
    "hotline_phone": "",
}
EXAMPLE_ORGANIZATION = {
    "slug": "hsds-d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610",
    "name": "Example Organization Inc.",
    "website": "http://example.com",
    "description": (
        "Example Org is a non-profit organization dedicated to providing services to qualified beneficiaries"
    ),
}


@pytest.fixture(autouse=True)
def reference():
    if not HSDS.is_dir():
        pytest.fail(f"The HSDS 3.0 reference is missing at {HSDS}; CI runs with ../shared beside the checkout.")


# The example's one schedule is limited to weeks 41 and 42 of the year, which weekly opening hours cannot say.
EXAMPLE_SCHEDULE = "schedule: byweekno 41,42"


def example_record(unmapped=()):
    return Record(
        number=1,
        external_id=SERVICE_AT_LOCATION_ID,
        values=EXAMPLE_VALUES,
        terms={"languages": ["ur"]},
        organization=EXAMPLE_ORGANIZATION,
        # Its one schedule is not weekly hours, and not walk-in: the record has no walk-in hours.
        walk_in_hours=[],
        unmapped=[*unmapped, EXAMPLE_SCHEDULE],
    )


def zip_folder(folder, path, prefix=""):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, prefix + file.name)
    return path


def copy_examples(tmp_path):
    return Path(shutil.copytree(EXAMPLES / "csv", tmp_path / "package"))


def write_json(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def edit_csv(path, change):
    """Rewrite the CSV at ``path`` with ``change(header, rows)`` -> (header, rows)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = change(rows[0], rows[1:])
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *body])


# Reading partners' files


def test_it_reads_the_example_package_folder():
    assert hsds.read(EXAMPLES / "csv") == [example_record()]


@pytest.mark.parametrize("prefix", ["", "hsds-export/"], ids=["top level", "in one folder"])
def test_it_reads_the_example_package_zipped(tmp_path, prefix):
    path = zip_folder(EXAMPLES / "csv", tmp_path / "package.zip", prefix)

    assert hsds.read(path) == [example_record()]


@pytest.mark.parametrize("name", ["service_full.json", "service_at_location_full.json", "organization_full.json"])
def test_it_reads_the_example_json_documents(name):
    # The examples tag the service with a term "name" of a taxonomy "taxonomy", which maps to nothing of ours.
    assert hsds.read(EXAMPLES / name) == [example_record(unmapped=["taxonomy: name"])]


def test_it_reads_a_page_of_services_without_locations():
    [record] = hsds.read(EXAMPLES / "service_list.json")

    assert record.external_id == "ac148810-d857-441c-9679-408f346de14b"
    assert record.values["name"] == "Community Counselling"
    assert "country" not in record.values and "latitude" not in record.values
    assert record.organization["slug"] == EXAMPLE_ORGANIZATION["slug"]


def test_organizations_listed_without_services_give_no_providers():
    assert hsds.read(EXAMPLES / "organization_list.json") == []


def service(**fields):
    return {"id": "svc-1", "name": "Harbour Clinic", "status": "active", **fields}


def location(identifier, **fields):
    return {"id": identifier, "location_type": "physical", **fields}


def test_a_service_at_several_locations_is_one_provider_per_location(tmp_path):
    document = service(
        service_at_locations=[
            {
                "id": "sal-1",
                "location": location("loc-1", name="Mombasa", addresses=[{"city": "Mombasa", "country": "ke"}]),
            },
            {"id": "sal-2", "location": location("loc-2", name="Harbour Clinic", latitude=-1.29, longitude="36.82")},
        ]
    )
    alone = {"id": "svc-2", "name": "Phone Line", "status": "inactive"}

    records = hsds.read(write_json(tmp_path / "services.json", [document, alone]))

    assert [(record.number, record.external_id, record.values["name"]) for record in records] == [
        (1, "sal-1", "Harbour Clinic - Mombasa"),
        (2, "sal-2", "Harbour Clinic"),
        (3, "svc-2", "Phone Line"),
    ]
    assert (records[0].values["city"], records[0].values["country"]) == ("Mombasa", "KE")
    assert (records[1].values["latitude"], records[1].values["longitude"]) == (-1.29, 36.82)
    assert "city" not in records[1].values
    assert records[2].values["status"] == "draft" and "country" not in records[2].values


def test_it_prefers_the_physical_address(tmp_path):
    addresses = [
        {"address_1": "PO Box 12", "city": "Post Town", "address_type": "postal", "country": "GB"},
        {
            "address_1": "1 High Street",
            "city": "Leeds",
            "region": "Yorkshire",
            "address_type": "physical",
            "country": "GB",
        },
    ]
    document = service(service_at_locations=[{"id": "sal-1", "location": location("loc-1", addresses=addresses)}])

    [record] = hsds.read(write_json(tmp_path / "service.json", document))

    assert (record.values["street_address"], record.values["city"], record.values["region"]) == (
        "1 High Street",
        "Leeds",
        "Yorkshire",
    )


def test_it_assigns_phones_by_role_and_keeps_extensions(tmp_path):
    document = service(
        phones=[
            {"id": "p1", "number": "+1 555 0100", "type": "fax"},
            {"id": "p2", "number": "+1 800 662 4357", "type": "voice", "description": "24/7 crisis line"},
            {"id": "p3", "number": "+1 555 0101 ext. 7", "extension": 9, "description": "Main"},
        ],
        service_at_locations=[
            {
                "id": "sal-1",
                "phones": [
                    {"id": "p4", "number": "+1 555 0102", "extension": 12.0, "description": "Intake and admissions"}
                ],
                "location": location("loc-1", phones=[{"id": "p5", "number": "+1 555 0103"}]),
            }
        ],
    )

    [record] = hsds.read(write_json(tmp_path / "service.json", document))

    assert record.values["intake_phone"] == "+1 555 0102;ext=12"
    assert record.values["hotline_phone"] == "+1 800 662 4357"
    assert record.values["phone"] == "+1 555 0101 ext. 7"


def test_it_maps_foreign_terms_and_lists_every_term_it_cannot_map(tmp_path):
    def tagged(name, taxonomy="Open Eligibility"):
        return {
            "id": f"a-{name}",
            "taxonomy_term": {"id": f"t-{name}", "name": name, "description": "", "taxonomy": taxonomy},
        }

    names = [
        "Medication Assisted Treatment",
        "methadone",
        "RESIDENTIAL",
        "Outpatient",
        "Peer Support",
        "Counseling",
        "Faith-based",
        "Detox",
    ]
    document = service(
        attributes=[tagged(name) for name in names],
        languages=[
            {"id": "l1", "code": "en-GB"},
            {"id": "l2", "name": "Klingon"},
            {"id": "l3", "name": "Urdu", "code": "urd"},
        ],
        service_at_locations=[
            {
                "id": "sal-1",
                "attributes": [tagged("Veterans", "AIRS")],
                "location": location("loc-1", languages=[{"id": "l4", "code": "es"}]),
            }
        ],
    )

    [record] = hsds.read(write_json(tmp_path / "service.json", document))

    assert record.terms == {
        "modalities": ["mat", "peer-support", "counseling", "faith-based"],
        "medications": ["methadone"],
        "care_settings": ["inpatient", "outpatient"],
        "populations": ["veterans"],
        "languages": ["en", "ur", "es"],
    }
    assert record.unmapped == ["Open Eligibility: Detox", "language: Klingon"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("active", "published"), ("inactive", "draft"), ("defunct", "archived"), ("temporarily closed", "draft")],
)
def test_it_maps_the_service_status(tmp_path, status, expected):
    [record] = hsds.read(write_json(tmp_path / "service.json", service(status=status)))

    assert record.values["status"] == expected


def test_a_service_without_status_leaves_the_status_to_the_importer(tmp_path):
    [record] = hsds.read(
        write_json(tmp_path / "service.json", {"id": "svc-1", "name": "Clinic", "organization_id": "o1"})
    )

    assert "status" not in record.values


def test_values_it_cannot_read_become_record_errors(tmp_path):
    flag = {"id": "t1", "code": "telehealth", "name": "Offers telehealth", "taxonomy": "treatment-directory/flags"}
    document = service(
        status="open",
        assured_date="last spring",
        attributes=[{"id": "a1", "value": "sometimes", "taxonomy_term": flag}],
        service_at_locations=[{"id": "sal-1", "location": location("loc-1", latitude="north")}],
    )

    [record] = hsds.read(write_json(tmp_path / "service.json", document))

    assert [name for name, _message in record.errors] == ["status", "last_verified", "latitude", "telehealth"]


def test_every_foreign_term_maps_to_a_shipped_term():
    for field, slug in hsds.FOREIGN_TERM_NAMES:
        model = Provider._meta.get_field(field).related_model
        assert model.objects.filter(slug=slug).exists(), (field, slug)


def test_a_partners_location_identifier_is_not_taken_for_a_source(tmp_path):
    document = service(
        service_at_locations=[
            {
                "id": "sal-1",
                "location": location("loc-1", external_identifier="10092008082", external_identifier_type="UPRN"),
            }
        ]
    )

    [record] = hsds.read(write_json(tmp_path / "service.json", document))

    assert (record.source, record.external_id) == ("", "sal-1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('[{"id": "x", "title": "neither"}]', "document 1 is not an HSDS service"),
        ('{"id": "sal", "location": {"id": "l"}}', "service_at_location without its service"),
    ],
)
def test_unreadable_json_is_refused_with_a_clear_message(tmp_path, text, message):
    path = tmp_path / "services.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ImportFileError, match=message):
        hsds.read(path)


# Refusing unsafe or broken packages


def descriptor_with_path(path):
    return json.dumps({"resources": [{"name": "service", "path": path}]})


@pytest.mark.parametrize("resource_path", ["../evil.csv", "/tmp/evil.csv", "data/../../evil.csv", "..\\evil.csv"])
def test_a_zip_whose_resource_leaves_the_package_is_refused(tmp_path, resource_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("datapackage.json", descriptor_with_path(resource_path))
        archive.writestr("../evil.csv", "id,name\nx,Evil\n")
        archive.writestr("services.csv", "id,name\n")
    before = sorted(tmp_path.parent.iterdir())

    with pytest.raises(ImportFileError, match="must stay inside the package"):
        hsds.read(path)

    assert sorted(tmp_path.parent.iterdir()) == before
    assert sorted(tmp_path.iterdir()) == [path]


def test_a_resource_it_does_not_read_may_span_several_files(tmp_path):
    folder = copy_examples(tmp_path)
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    contacts = next(resource for resource in descriptor["resources"] if resource["name"] == "contact")
    contacts["path"] = ["contacts.csv", "more_contacts.csv"]
    write_json(folder / "datapackage.json", descriptor)

    assert hsds.read(folder) == [example_record()]


def test_a_folder_whose_resource_leaves_the_package_is_refused(tmp_path):
    (tmp_path / "evil.csv").write_text("id,name\nx,Evil\n", encoding="utf-8")
    folder = tmp_path / "package"
    folder.mkdir()
    (folder / "datapackage.json").write_text(descriptor_with_path("../evil.csv"), encoding="utf-8")

    with pytest.raises(ImportFileError, match="must stay inside the package"):
        hsds.read(folder)


def test_a_resource_linked_outside_the_package_is_refused(tmp_path):
    (tmp_path / "elsewhere.csv").write_text("id,name\nx,Evil\n", encoding="utf-8")
    folder = tmp_path / "package"
    folder.mkdir()
    (folder / "services.csv").symlink_to(tmp_path / "elsewhere.csv")
    (folder / "datapackage.json").write_text(descriptor_with_path("services.csv"), encoding="utf-8")

    with pytest.raises(ImportFileError, match="outside the package"):
        hsds.read(folder)


def test_a_zip_that_expands_beyond_the_limit_is_refused(tmp_path, settings):
    settings.IMPORT_MAX_EXPANDED_BYTES = 100_000
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("datapackage.json", descriptor_with_path("services.csv"))
        archive.writestr("services.csv", "id,name\n" + "0" * 10_000_000)
    assert path.stat().st_size < settings.IMPORT_MAX_EXPANDED_BYTES

    with pytest.raises(ImportFileError, match="IMPORT_MAX_EXPANDED_BYTES"):
        hsds.read(path)


@pytest.mark.parametrize("zipped", [False, True], ids=["folder", "zip"])
def test_a_package_missing_a_resource_file_is_refused(tmp_path, zipped):
    folder = copy_examples(tmp_path)
    (folder / "phones.csv").unlink()
    path = zip_folder(folder, tmp_path / "package.zip") if zipped else folder

    with pytest.raises(
        ImportFileError, match=r"lists phones\.csv for the 'phone' resource, but the package has no such file"
    ):
        hsds.read(path)


def test_a_package_missing_a_required_column_is_refused(tmp_path):
    folder = copy_examples(tmp_path)
    edit_csv(
        folder / "services.csv",
        lambda header, rows: ([c for c in header if c != "name"], [r[:3] + r[4:] for r in rows]),
    )

    with pytest.raises(
        ImportFileError, match=r"services.csv \('service' resource\) is missing the required column\(s\): name"
    ):
        hsds.read(folder)


@pytest.mark.parametrize(
    ("descriptor", "message"),
    [
        (None, "has no datapackage.json"),
        ("{oops", "datapackage.json is not valid JSON"),
        ('{"resources": [{"name": "organization", "path": "organizations.csv"}]}', "declares no 'service' resource"),
        (
            '{"resources": [{"name": "service", "path": "https://example.com/services.csv"}]}',
            "only files inside the package",
        ),
    ],
)
def test_a_broken_package_is_refused_with_a_clear_message(tmp_path, descriptor, message):
    folder = copy_examples(tmp_path)
    (folder / "datapackage.json").unlink()
    if descriptor is not None:
        (folder / "datapackage.json").write_text(descriptor, encoding="utf-8")

    for path in (folder, zip_folder(folder, tmp_path / "package.zip")):
        with pytest.raises(ImportFileError, match=message):
            hsds.read(path)


# Importing a partner's package


def test_it_imports_the_example_package_for_a_partner(tmp_path):
    folder = copy_examples(tmp_path)
    options = ImportOptions(source="partner", file_name="package", format="hsds")

    rejected = import_records(hsds.read(folder), dataclasses.replace(options, strict=True))

    # The example places its location at latitude 100, which the model refuses.
    assert [name for _record, errors in rejected.rejected for name, _message in errors] == ["latitude"]
    assert not Provider.objects.exists()
    forgiven = import_records(hsds.read(folder), dataclasses.replace(options, dry_run=True))
    assert forgiven.warning_lines[0].startswith("record 1 (external id ") and not forgiven.rejected
    assert "latitude 100.0 set aside: Ensure this value is less than or equal to 90.0." in forgiven.warning_lines[0]

    edit_csv(
        folder / "locations.csv", lambda header, rows: (header, [r[:8] + ["51.5072", "-0.1276"] + r[10:] for r in rows])
    )
    report = import_records(hsds.read(folder), options)

    assert len(report.created) == 1 and report.written
    provider = Provider.objects.select_related("organization", "source").get()
    assert (provider.source.slug, provider.external_id) == ("partner", SERVICE_AT_LOCATION_ID)
    assert provider.name == "Community Counselling - MyCity Civic Center"
    assert (provider.street_address, provider.city, provider.region, provider.postal_code, provider.country.code) == (
        "1-30 Main Street",
        "MyCity",
        "MyState",
        "ABC 1234",
        "US",
    )
    assert (provider.latitude, provider.longitude) == (51.5072, -0.1276)
    assert provider.phone == "+441234234567;ext=100"
    assert provider.status == Provider.Status.PUBLISHED
    assert provider.last_verified == datetime.date(2005, 1, 1)
    assert list(provider.languages.values_list("slug", flat=True)) == ["ur"]
    assert (provider.organization.slug, provider.organization.name) == (
        EXAMPLE_ORGANIZATION["slug"],
        "Example Organization Inc.",
    )


# Writing our own package


@pytest.fixture
def listings(make_provider):
    ministry = Source.objects.create(slug="ministry", name="Ministry of Health")
    registry = Source.objects.create(slug="registry", name="Provider registry")
    coastal = Organization.objects.create(
        slug="coastal-health",
        name="Coastal Health",
        website="https://coastal.example/",
        description="Clinics on the coast.",
    )
    make_provider(
        name="Harbour Clinic",
        description="Methadone and counselling by the harbour.",
        country="KE",
        region="Mombasa County",
        city="Mombasa",
        street_address="Moi Avenue 12",
        street_address_2="Second floor",
        postal_code="80100",
        latitude=-4.0435,
        longitude=39.6682,
        phone="+254722123456",
        intake_phone="+254722123457;ext=12",
        email="help@harbour.example",
        website="https://harbour.example/",
        telehealth=True,
        accepting_new_clients=False,
        last_verified=datetime.date(2025, 3, 1),
        source=ministry,
        external_id="KE-1",
        organization=coastal,
        modalities=["mat", "counseling"],
        medications=["methadone"],
        care_settings=["outpatient"],
        payment_options=["free"],
        populations=["women"],
        languages=["sw", "en"],
    )
    make_provider(
        name="Prairie Centre",
        country="CA",
        city="Regina",
        hotline_phone="+18006624357",
        status=Provider.Status.DRAFT,
        source=ministry,
        external_id="CA:1/x",
        populations=["veterans"],
    )
    make_provider(
        name="Old Bridge",
        country="GB",
        status=Provider.Status.ARCHIVED,
        source=registry,
        external_id="GB-9",
        organization=coastal,
    )
    return Provider.objects.order_by("pk")


def exported(queryset):
    return list(iter_export_records(queryset))


def export(listings, output):
    hsds.write(iter_export_records(listings), output)
    return output


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def compiled_validator(name):
    schema = json.loads((SCHEMAS / "compiled" / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@functools.cache
def table_validator(name):
    """A validator for one of the per-table schemas, whose "$ref"s name sibling files (e.g. "taxonomy.json")."""
    registry = Registry().with_resources(
        (
            path.name,
            Resource.from_contents(json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT202012),
        )
        for path in SCHEMAS.glob("*.json")
    )
    return Draft202012Validator(
        registry.contents(name), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def problems(validator, document):
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]


def ids_in(value):
    if isinstance(value, dict):
        return {value.get("id")} | {found for item in value.values() for found in ids_in(item)}
    if isinstance(value, list):
        return {found for item in value for found in ids_in(item)}
    return set()


def as_json(row):
    # CSV cells are strings; an empty identifier or URI cell means the field is absent.
    return {key: value for key, value in row.items() if value or not key.endswith(("_id", "uri"))}


def test_every_row_of_our_export_belongs_to_a_valid_hsds_document(tmp_path, listings):
    folder = export(listings, tmp_path / "package")

    services = hsds.read_documents(folder)
    assert len(services) == 3
    for document in services:
        assert problems(compiled_validator("service.json"), document) == []
        for at_location in document["service_at_locations"]:
            at_location = {**at_location, "service": {k: v for k, v in document.items() if k != "service_at_locations"}}
            assert problems(compiled_validator("service_at_location.json"), at_location) == []

    taxonomies = {row["id"]: as_json(row) for row in read_csv(folder / "taxonomies.csv")}
    terms = [
        {**as_json(row), "taxonomy_detail": taxonomies[row["taxonomy_id"]]}
        for row in read_csv(folder / "taxonomy_terms.csv")
    ]
    for term in terms:
        assert problems(table_validator("taxonomy_term.json"), term) == []

    documented = ids_in(services) | ids_in(terms)
    for file in sorted(folder.glob("*.csv")):
        assert {row["id"] for row in read_csv(file)} <= documented, file.name


def test_document_for_gives_a_valid_service_document(listings):
    for record in exported(listings):
        document = hsds.document_for(record)

        assert problems(compiled_validator("service.json"), document) == []
        assert document["name"] == record.values["name"]


def test_document_for_shows_the_provider_the_hsds_way(listings):
    harbour, prairie, _old = exported(listings)

    document = hsds.document_for(harbour)

    assert document["status"] == "active" and document["assured_date"] == "2025-03-01"
    [at_location] = document["service_at_locations"]
    assert at_location["location"]["external_identifier"] == "KE-1"
    assert at_location["location"]["external_identifier_type"] == "treatment-directory-source:ministry"
    assert at_location["location"]["addresses"][0]["country"] == "KE"
    assert [(phone["number"], phone.get("extension")) for phone in document["phones"]] == [
        ("+254722123456", None),
        ("+254722123457", 12),
    ]
    assert [(language["code"], language["name"]) for language in document["languages"]] == [
        ("en", "English"),
        ("sw", "Swahili (macrolanguage)"),
    ]
    flags = {
        a["taxonomy_term"]["code"]: a["value"]
        for a in document["attributes"]
        if a["taxonomy_term"]["taxonomy"] == "treatment-directory/flags"
    }
    assert flags == {"telehealth": "true", "accepting-new-clients": "false"}
    assert document["organization"]["organization_identifiers"][0]["identifier"] == "coastal-health"
    assert hsds.document_for(prairie)["status"] == "inactive"


def test_a_provider_without_organization_gets_a_marked_placeholder(tmp_path, listings):
    folder = export(listings, tmp_path / "package")

    organizations = {row["name"]: row for row in read_csv(folder / "organizations.csv")}
    assert sorted(organizations) == ["Coastal Health", "Prairie Centre"]
    placeholder = organizations["Prairie Centre"]
    terms = {row["id"]: row for row in read_csv(folder / "taxonomy_terms.csv")}
    marks = [
        (terms[row["taxonomy_term_id"]]["code"], row["value"])
        for row in read_csv(folder / "attributes.csv")
        if row["link_id"] == placeholder["id"]
    ]
    assert marks == [("no-organization", "true")]
    assert [record.organization for record in hsds.read(folder)][1] is None


def test_the_datapackage_describes_our_resources_as_hsds_does(tmp_path, listings):
    folder = export(listings, tmp_path / "package")
    ours = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    official = {
        resource["name"]: resource
        for resource in json.loads((EXAMPLES / "csv" / "datapackage.json").read_text(encoding="utf-8"))["resources"]
    }

    def essentials(field):
        return {key: field[key] for key in ("name", "type", "format", "constraints") if key in field}

    assert ours["profile"] == "tabular-data-package"
    assert {resource["path"] for resource in ours["resources"]} == {path.name for path in folder.glob("*.csv")}
    for resource in ours["resources"]:
        reference = official[resource["name"]]
        assert resource["path"] == reference["path"]
        assert [essentials(field) for field in resource["schema"]["fields"]] == [
            essentials(field) for field in reference["schema"]["fields"]
        ]
        for foreign_key in resource["schema"].get("foreignKeys", []):
            assert foreign_key in reference["schema"]["foreignKeys"]
        with open(folder / resource["path"], encoding="utf-8", newline="") as handle:
            assert next(csv.reader(handle)) == [field["name"] for field in reference["schema"]["fields"]]


@pytest.mark.parametrize("name", ["package", "package.zip"])
def test_our_export_reads_back_as_the_same_records(tmp_path, listings, name):
    path = export(listings, tmp_path / name)

    # HSDS has no field for our provider slug, so the reader leaves it to the importer; ids are the importer's too.
    assert hsds.read(path) == [dataclasses.replace(record, slug="", hsds_id="") for record in exported(listings)]


def test_the_round_trip_matches_record_from_provider(tmp_path, listings):
    providers = attach_terms(listings.select_related("organization", "source"))
    expected = [
        dataclasses.replace(record_from_provider(provider, number), slug="", hsds_id="")
        for number, provider in enumerate(providers, start=1)
    ]

    assert hsds.read(export(listings, tmp_path / "package.zip")) == expected


def test_importing_our_export_again_changes_nothing(tmp_path, listings):
    report = import_records(
        hsds.read(export(listings, tmp_path / "package")), ImportOptions(file_name="package", format="hsds")
    )

    assert (report.created, report.updated, report.rejected, report.unchanged) == ([], [], [], 3)


def test_a_provider_without_external_id_is_keyed_by_its_stable_service_at_location(tmp_path, make_provider):
    make_provider(name="Curated Clinic", country="NZ")

    first = hsds.read(export(Provider.objects.all(), tmp_path / "first"))
    second = hsds.read(export(Provider.objects.all(), tmp_path / "second"))

    [record] = first
    assert record.source == "" and record.external_id
    assert record.external_id == read_csv(tmp_path / "first" / "service_at_location.csv")[0]["id"]
    assert second == first


@pytest.mark.parametrize("name", ["package", "package.zip"])
def test_exporting_twice_gives_identical_files(tmp_path, listings, name):
    first = export(listings, tmp_path / "one" / name)
    second = export(listings, tmp_path / "two" / name)

    if first.is_dir():
        files = sorted(path.name for path in first.iterdir())
        assert files == sorted(path.name for path in second.iterdir())
        assert all((first / file).read_bytes() == (second / file).read_bytes() for file in files)
    else:
        assert first.read_bytes() == second.read_bytes()


def test_write_counts_the_providers_it_wrote(tmp_path, listings):
    assert hsds.write(iter_export_records(listings), tmp_path / "package") == 3


# Walk-in hours: schedules whose attending_type says walk-in


def give_hours(provider, intervals, walk_in=False):
    OpeningInterval.objects.bulk_create(
        OpeningInterval(
            provider=provider,
            walk_in=walk_in,
            weekday=weekday,
            opens=datetime.time.fromisoformat(opens),
            closes=datetime.time.fromisoformat(closes),
        )
        for weekday, opens, closes in intervals
    )


def test_walk_in_hours_are_written_as_walk_in_schedules_and_read_back(tmp_path, listings):
    harbour = listings.get(external_id="KE-1")
    give_hours(harbour, [(0, "08:00", "17:00"), (2, "08:00", "17:00")])
    give_hours(harbour, [(0, "09:00", "12:00"), (3, "09:00", "12:00"), (5, "10:00", "11:00")], walk_in=True)

    folder = export(listings, tmp_path / "package")

    schedules = read_csv(folder / "schedules.csv")
    assert [(row["byday"], row["opens_at"], row["closes_at"], row["attending_type"]) for row in schedules] == [
        ("MO,WE", "08:00", "17:00", ""),
        ("MO,TH", "09:00", "12:00", "walk-in"),
        ("SA", "10:00", "11:00", "walk-in"),
    ]
    assert len({row["id"] for row in schedules}) == 3
    harbour_record = hsds.read(folder)[0]
    assert harbour_record.opening_hours == [(0, "08:00", "17:00"), (2, "08:00", "17:00")]
    assert harbour_record.walk_in_hours == [(0, "09:00", "12:00"), (3, "09:00", "12:00"), (5, "10:00", "11:00")]
    [document] = [hsds.document_for(record) for record in exported(listings) if record.external_id == "KE-1"]
    assert problems(compiled_validator("service.json"), document) == []


def test_the_round_trip_with_walk_in_hours_matches_record_from_provider_and_changes_nothing(tmp_path, listings):
    # The same times in both weeks are two schedules, told apart by their attending_type.
    give_hours(listings.get(external_id="KE-1"), [(0, "09:00", "12:00")])
    give_hours(listings.get(external_id="KE-1"), [(0, "09:00", "12:00"), (4, "13:00", "15:00")], walk_in=True)
    give_hours(listings.get(external_id="CA:1/x"), [(1, "09:00", "17:00")])

    package = export(listings, tmp_path / "package.zip")
    [harbour] = [hsds.document_for(record) for record in exported(listings) if record.external_id == "KE-1"]
    [at_location] = harbour["service_at_locations"]
    schedules = [(s["byday"], s["opens_at"], s.get("attending_type")) for s in at_location["schedules"]]
    assert schedules == [("MO", "09:00", None), ("MO", "09:00", "walk-in"), ("FR", "13:00", "walk-in")]
    assert len({schedule["id"] for schedule in at_location["schedules"]}) == 3

    assert hsds.read(package) == [dataclasses.replace(record, slug="", hsds_id="") for record in exported(listings)]
    report = import_records(hsds.read(package), ImportOptions(file_name="package.zip", format="hsds"))
    assert (report.created, report.updated, report.rejected, report.unchanged) == ([], [], [], 3)


def scheduled(*schedules):
    return service(service_at_locations=[{"id": "sal-1", "schedules": list(schedules), "location": location("loc-1")}])


@pytest.mark.parametrize("attending_type", ["Drop-in", "walk-in", "Walk In", "drop in sessions"])
def test_a_partners_walk_in_or_drop_in_schedule_is_walk_in_hours(tmp_path, attending_type):
    document = scheduled(
        weekly("MO,TU", "08:00", "17:00", attending_type="In person"),
        weekly("WE", "10:00", "12:00", attending_type=attending_type),
    )

    [record] = hsds.read(write_json(tmp_path / "service.json", document))

    assert record.opening_hours == [(0, "08:00", "17:00"), (1, "08:00", "17:00")]
    assert record.walk_in_hours == [(2, "10:00", "12:00")]
    assert record.errors == [] and record.unmapped == []


def test_a_schedule_that_says_no_walk_ins_is_opening_hours(tmp_path):
    document = scheduled(weekly("MO", "08:00", "17:00", attending_type="No walk-ins: call first"))

    [record] = hsds.read(write_json(tmp_path / "service.json", document))

    assert (record.opening_hours, record.walk_in_hours) == ([(0, "08:00", "17:00")], [])


def test_a_partners_schedules_without_a_walk_in_one_say_there_are_no_walk_in_hours(tmp_path):
    [record] = hsds.read(write_json(tmp_path / "service.json", scheduled(weekly("FR", "09:00", "17:00"))))

    assert (record.opening_hours, record.walk_in_hours) == ([(4, "09:00", "17:00")], [])


def test_an_unreadable_walk_in_schedule_leaves_the_walk_in_hours_alone(tmp_path):
    monthly = {**weekly("1SA", "10:00", "12:00", attending_type="Drop-in"), "freq": "MONTHLY"}

    [record] = hsds.read(write_json(tmp_path / "service.json", scheduled(weekly("MO", "09:00", "17:00"), monthly)))

    assert record.opening_hours == [(0, "09:00", "17:00")]
    assert record.walk_in_hours is None
    assert record.unmapped == ["schedule: monthly"]


def test_a_partners_drop_in_schedule_is_imported_as_walk_in_intervals(tmp_path):
    document = scheduled(weekly("MO", "09:00", "17:00"), weekly("MO,TH", "09:00", "11:00", attending_type="Drop-in"))
    document["service_at_locations"][0]["location"]["addresses"] = [{"city": "Mombasa", "country": "KE"}]

    report = import_records(
        hsds.read(write_json(tmp_path / "service.json", document)),
        ImportOptions(file_name="service.json", format="hsds", source="partner"),
    )

    assert len(report.created) == 1
    intervals = OpeningInterval.objects.filter(provider__external_id="sal-1").order_by("walk_in", "weekday")
    assert [(i.walk_in, i.weekday, f"{i.opens:%H:%M}", f"{i.closes:%H:%M}") for i in intervals] == [
        (False, 0, "09:00", "17:00"),
        (True, 0, "09:00", "11:00"),
        (True, 3, "09:00", "11:00"),
    ]
