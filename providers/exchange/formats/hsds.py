"""Open Referral HSDS 3.0: read partners' data packages and JSON documents, write ours.

One provider is one HSDS service at one location (a ``service_at_location``).
Every input is first turned into full nested ``service`` documents (a tabular
package is nested along ``RELATIONS``), and only those are mapped to records.
Writing goes the other way: ``document_for`` builds the nested document of a
record, and ``write`` flattens it along the same ``RELATIONS`` into the
package's tables. The mapping is described in docs/IMPORT.md ("Open Referral
HSDS 3.0"); the vocabulary tables below are its only copy in code.
"""

import csv
import io
import itertools
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

from django.utils.text import slugify

from providers.exchange.formats.files import Archive, read_csv_rows, read_text
from providers.exchange.languages import language_code
from providers.exchange.records import (
    TERM_FIELDS,
    ImportFileError,
    Record,
    blank_placeholder,
    normalise_clock,
    parse_yes_no,
)
from providers.models import Provider
from providers.models.hsds_ids import (
    organization_id,
    placeholder_organization_id,
    service_at_location_id,
    service_id,
    stable_id,
)
from providers.models.provider import PHONE_FIELDS

# Vocabulary ---------------------------------------------------------------

# Marks what we write ourselves, so the reader can tell it from a partner's own schemes.
SCHEME = "treatment-directory"
# location.external_identifier_type of our export: this prefix, then the provider's source slug.
SOURCE_SCHEME_PREFIX = f"{SCHEME}-source:"
# organization_identifiers.identifier_type of the row that carries our organization slug.
ORGANIZATION_SLUG_TYPE = f"{SCHEME}-organization-slug"
# Organization ids of partner files become slugs with this prefix.
PARTNER_ORGANIZATION_PREFIX = "hsds-"

# Our taxonomies: one per term field carried as attributes (languages have HSDS's own table),
# and "flags" for what HSDS has no field for. Term codes are our slugs.
FLAGS = "flags"
ATTRIBUTE_FIELDS = tuple(name for name in TERM_FIELDS if name != "languages")
TAXONOMIES = {
    **{
        name: (
            f"{SCHEME}/{name.replace('_', '-')}",
            f"Treatment Directory {name.replace('_', ' ')}; codes are our slugs.",
        )
        for name in ATTRIBUTE_FIELDS
    },
    FLAGS: (
        f"{SCHEME}/flags",
        "Treatment Directory facts HSDS has no field for; the attribute value is true or false, "
        "or for time-zone an IANA time zone name.",
    ),
}
# Flag term code -> provider field; "no-organization" marks the organization HSDS made us invent.
FLAG_FIELDS = {"telehealth": "telehealth", "accepting-new-clients": "accepting_new_clients"}
NO_ORGANIZATION = "no-organization"
# HSDS gives a schedule only a fixed UTC offset, which daylight saving breaks; the IANA name travels as a flag.
TIME_ZONE = "time-zone"
# A location whose street address is withheld; HSDS 3.1's draft calls such a location "redacted", which 3.0's
# location_type does not allow, so ours say it with this flag and read both.
ADDRESS_HIDDEN = "address-hidden"
REDACTED = "redacted"
FLAG_TERMS = {
    "telehealth": ("Offers telehealth", "Treatment is also offered by phone or video."),
    "accepting-new-clients": ("Accepting new clients", "The provider is taking new clients."),
    NO_ORGANIZATION: (
        "No organization",
        "The provider belongs to no organization; this organization record exists only because HSDS requires one.",
    ),
    ADDRESS_HIDDEN: (
        "Address hidden",
        "The location's street address is withheld (a shelter, a programme for people fleeing violence); "
        "its coordinates are rounded to about 1 km.",
    ),
    TIME_ZONE: (
        "Time zone",
        "The IANA time zone (the attribute value, e.g. Africa/Nairobi) of the location's schedules' local times.",
    ),
}

# RFC 5545 day codes of schedules' "byday", Monday first like our weekdays.
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Rule parts that limit a schedule to some weeks, or days of a month or year: weekly hours cannot say that.
NARROWING_RULE_PARTS = ("byweekno", "bymonthday", "byyearday")
# HSDS asks for an offset after a schedule's times; our times are local to the provider's time zone.
_UTC_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE)

STATUS_TO_HSDS = {"published": "active", "draft": "inactive", "archived": "defunct"}
STATUS_FROM_HSDS = {"active": "published", "inactive": "draft", "defunct": "archived", "temporarily closed": "draft"}

# Phone descriptions we write; the reader recognises the roles by these words.
PHONE_DESCRIPTIONS = {"phone": "Main line", "intake_phone": "Intake line", "hotline_phone": "Hotline"}
HOTLINE_WORDS = ("hotline", "crisis")
INTAKE_WORDS = ("intake",)
# Phone types no one can call.
UNCALLABLE_PHONE_TYPES = {"fax", "pager"}

_MAT = ("modalities", "mat")
# Term names partners use (Open Eligibility and free text), matched case-insensitively, and the
# terms each one states. Like the SAMHSA table, a name maps only to what it says: "Detox" states
# no setting, so it maps to nothing.
FOREIGN_TERM_NAMES = {
    _MAT: (
        "Medication Assisted Treatment",
        "Medication-Assisted Treatment",
        "MAT",
        "MOUD",
        "Medication for Opioid Use Disorder",
        "Medications for Addiction",
        "Opioid Treatment Program",
        "Methadone",
        "Methadone Maintenance",
        "Buprenorphine",
        "Suboxone",
        "Naltrexone",
        "Vivitrol",
    ),
    ("modalities", "counseling"): ("Counseling", "Counselling", "Individual Counseling", "Group Counseling", "Therapy"),
    ("modalities", "peer-support"): ("Peer Support", "Support Groups", "12-Step", "Recovery Coaching"),
    ("modalities", "faith-based"): ("Faith-based", "Faith Based"),
    ("care_settings", "inpatient"): (
        "Residential",
        "Residential Treatment",
        "Residential Recovery",
        "Inpatient",
        "Inpatient Treatment",
    ),
    ("care_settings", "outpatient"): ("Outpatient", "Outpatient Treatment", "Intensive Outpatient"),
    ("care_settings", "aftercare"): ("Sober Living", "Recovery Housing", "Halfway House", "Aftercare"),
    ("entry_routes", "walk-in"): ("Walk-in", "Walk-In Services", "Drop-in", "No Appointment Needed"),
    ("entry_routes", "appointment"): ("Appointment Required", "By Appointment"),
    ("entry_routes", "referral"): ("Referral Required", "Referral Needed"),
    ("medications", "methadone"): ("Methadone", "Methadone Maintenance"),
    ("medications", "buprenorphine"): ("Buprenorphine", "Suboxone"),
    ("medications", "naltrexone"): ("Naltrexone",),
    ("medications", "extended-release-naltrexone"): ("Vivitrol",),
    ("medications", "naloxone"): ("Naloxone", "Narcan"),
    ("payment_options", "free"): ("Free",),
    ("payment_options", "sliding-scale"): ("Sliding Scale",),
    ("payment_options", "public-insurance"): ("Medicaid", "Medicare"),
    ("payment_options", "military-insurance"): ("TRICARE",),
    ("payment_options", "private-insurance"): ("Private Insurance",),
    ("payment_options", "self-pay"): ("Self-pay", "Self Pay"),
    ("populations", "adolescents"): ("Adolescents", "Teens"),
    ("populations", "young-adults"): ("Young Adults",),
    ("populations", "adults"): ("Adults",),
    ("populations", "seniors"): ("Seniors", "Older Adults"),
    ("populations", "women"): ("Women",),
    ("populations", "men"): ("Men",),
    ("populations", "pregnant-women"): ("Pregnant Women", "Pregnancy"),
    ("populations", "lgbtq"): ("LGBTQ", "LGBTQ+"),
    ("populations", "veterans"): ("Veterans",),
}


def _by_name(table):
    terms = {}
    for term, names in table.items():
        for name in names:
            terms.setdefault(name.casefold(), []).append(term)
    return terms


FOREIGN_TERMS = _by_name(FOREIGN_TERM_NAMES)

# Package layout -----------------------------------------------------------

# The HSDS 3.0 tabular resources we use: the file, then the fields in order, as in the HSDS 3.0
# data package descriptor. "name" is a string, "name:uuid|email|uri" a string in that format,
# "name:number|date|datetime" another type; "!" marks a required field, "*" a unique one.
RESOURCES = {
    "organization": (
        "organizations.csv",
        "id:uuid!* name! alternate_name description! email:email website:uri tax_status tax_id",
        "year_incorporated:number legal_status logo uri:uri parent_organization_id:uuid",
    ),
    "organization_identifier": (
        "organization_identifiers.csv",
        "id:uuid!* organization_id:uuid! identifier_scheme identifier_type! identifier!",
    ),
    "service": (
        "services.csv",
        "id:uuid!* organization_id:uuid! program_id:uuid name! alternate_name description url:uri email:email",
        "status! interpretation_services application_process fees_description wait_time fees accreditations",
        "eligibility_description minimum_age:number maximum_age:number assured_date:date assurer_email:email",
        "licenses alert last_modified:datetime",
    ),
    "location": (
        "locations.csv",
        "id:uuid!* location_type! url:uri organization_id:uuid name alternate_name description transportation",
        "latitude:number longitude:number external_identifier external_identifier_type",
    ),
    "address": (
        "addresses.csv",
        "id:uuid!* location_id:uuid attention address_1! address_2 city! region state_province! postal_code!",
        "country! address_type!",
    ),
    "service_at_location": ("service_at_location.csv", "id:uuid!* service_id:uuid! location_id:uuid! description"),
    "schedule": (
        "schedules.csv",
        "id:uuid!* service_id:uuid location_id:uuid service_at_location_id:uuid valid_from:date valid_to:date",
        "dtstart:date timezone:number until:date count:number wkst freq interval:number byday byweekno bymonthday",
        "byyearday description opens_at:time closes_at:time schedule_link:uri attending_type notes",
    ),
    "phone": (
        "phones.csv",
        "id:uuid!* location_id:uuid service_id:uuid organization_id:uuid contact_id:uuid",
        "service_at_location_id:uuid number! extension:number type description",
    ),
    "language": ("languages.csv", "id:uuid!* service_id:uuid location_id:uuid phone_id:uuid name code note"),
    "taxonomy": ("taxonomies.csv", "id:uuid!* name! description! uri:uri version"),
    "taxonomy_term": (
        "taxonomy_terms.csv",
        "id:uuid!* code* name! description! parent_id:uuid taxonomy language taxonomy_id:uuid term_uri:uri",
    ),
    "attribute": ("attributes.csv", "id:uuid!* link_id:uuid! taxonomy_term_id:uuid! link_type link_entity! value"),
}
ENUMS = {
    ("service", "status"): ["active", "inactive", "defunct", "temporarily closed"],
    ("location", "location_type"): ["physical", "postal", "virtual"],
    ("address", "address_type"): ["physical", "postal", "virtual"],
    ("schedule", "wkst"): list(DAY_CODES),
    ("schedule", "freq"): ["WEEKLY", "MONTHLY"],
}
_FORMATS = {"uuid", "email", "uri"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    format: str
    required: bool
    unique: bool


def _parse_field(spec: str) -> Field:
    name, _, kind = spec.rstrip("!*").partition(":")
    flags = spec[len(spec.rstrip("!*")) :]
    return Field(
        name=name,
        type="string" if kind in _FORMATS or not kind else kind,
        format=kind if kind in _FORMATS else "",
        required="!" in flags,
        unique="*" in flags,
    )


FIELDS = {
    resource: [_parse_field(spec) for line in lines for spec in line.split()]
    for resource, (_path, *lines) in RESOURCES.items()
}


@dataclass(frozen=True)
class Relation:
    """How a nested HSDS document maps to tables: ``many`` children point at their parent's id
    through ``link``; otherwise the parent points at its one child through ``link``."""

    parent: str
    key: str
    child: str
    link: str
    many: bool


RELATIONS = (
    Relation("service", "organization", "organization", "organization_id", many=False),
    Relation("service", "service_at_locations", "service_at_location", "service_id", many=True),
    Relation("service", "phones", "phone", "service_id", many=True),
    Relation("service", "languages", "language", "service_id", many=True),
    Relation("service", "attributes", "attribute", "link_id", many=True),
    Relation("service", "schedules", "schedule", "service_id", many=True),
    Relation("service_at_location", "location", "location", "location_id", many=False),
    Relation("service_at_location", "phones", "phone", "service_at_location_id", many=True),
    Relation("service_at_location", "schedules", "schedule", "service_at_location_id", many=True),
    Relation("service_at_location", "attributes", "attribute", "link_id", many=True),
    Relation("location", "addresses", "address", "location_id", many=True),
    Relation("location", "phones", "phone", "location_id", many=True),
    Relation("location", "languages", "language", "location_id", many=True),
    Relation("location", "attributes", "attribute", "link_id", many=True),
    Relation("location", "schedules", "schedule", "location_id", many=True),
    Relation("organization", "organization_identifiers", "organization_identifier", "organization_id", many=True),
    Relation("organization", "attributes", "attribute", "link_id", many=True),
    Relation("attribute", "taxonomy_term", "taxonomy_term", "taxonomy_term_id", many=False),
    Relation("taxonomy_term", "taxonomy_detail", "taxonomy", "taxonomy_id", many=False),
)

# Columns the reader cannot do without; HSDS requires more, but partners' files are read leniently.
REQUIRED_COLUMNS = {
    "service": ("id", "name"),
    "service_at_location": ("service_id", "location_id"),
    "location": ("id",),
    "address": ("location_id",),
    "phone": ("number",),
    "language": (),
    "schedule": (),
    "organization": ("id", "name"),
    "organization_identifier": ("organization_id", "identifier_type", "identifier"),
    "attribute": ("link_id", "taxonomy_term_id"),
    "taxonomy_term": ("id", "name"),
    "taxonomy": ("id", "name"),
}


TAXONOMY_IDS = {key: stable_id("taxonomy", name) for key, (name, _description) in TAXONOMIES.items()}


# Reading ------------------------------------------------------------------


def read(path: Path, options=None) -> list[Record]:
    """Records from an HSDS package folder, a .zip of one, or a JSON file of HSDS documents."""
    return _records(*_load(path))


def records_from_documents(items: list, name: str) -> list[Record]:
    """Records from HSDS documents already parsed (services, service_at_locations or organizations), as an
    HSDS API's pages hold them; ``name`` says where they came from in messages."""
    return _records(_documents_of(items, name), set())


def _records(documents, declared):
    numbers = itertools.count(1)
    return [record for document in documents for record in _records_from_service(document, declared, numbers)]


def read_documents(path: Path) -> list[dict]:
    """The full nested HSDS ``service`` documents ``path`` holds, as the reader sees them."""
    return _load(path)[0]


def _load(path):
    """The service documents of ``path``, and which of our taxonomies the package declares."""
    if path.is_dir():
        return _read_folder(path)
    if path.is_file() and (path.suffix.lower() == ".zip" or zipfile.is_zipfile(path)):
        return _read_zip(path)
    return _read_json(path), set()


def _read_folder(folder):
    descriptor = folder / "datapackage.json"
    if not descriptor.is_file():
        raise ImportFileError(f"{folder} has no datapackage.json, so it is not an HSDS data package.")
    root = folder.resolve()

    def read_resource(resource_path):
        target = (folder / resource_path).resolve()
        # A symbolic link could still lead outside the package.
        if not target.is_relative_to(root):
            raise ImportFileError(f"datapackage.json points {resource_path!r} outside the package.")
        if not target.is_file():
            return None
        return read_text(target)

    return _read_package(read_text(descriptor), read_resource)


def _read_zip(path):
    archive = Archive(path)
    try:
        descriptor = archive.find("datapackage.json")
        if descriptor is None:
            raise ImportFileError(f"{path.name} has no datapackage.json at its top level or in one folder.")
        prefix = descriptor.removesuffix("datapackage.json")

        def read_resource(resource_path):
            member = prefix + resource_path
            return archive.read_text(member) if archive.has(member) else None

        return _read_package(archive.read_text(descriptor), read_resource)
    finally:
        archive.close()


def _read_package(descriptor_text, read_resource):
    resources = _resource_paths(_parse_json(descriptor_text, "datapackage.json"))
    if "service" not in resources:
        raise ImportFileError("datapackage.json declares no 'service' resource, so there are no services to read.")
    tables = _Tables()
    for name in RESOURCES:
        if name not in resources:
            continue
        text = read_resource(resources[name])
        if text is None:
            raise ImportFileError(
                f"datapackage.json lists {resources[name]} for the {name!r} resource, but the package has no such file."
            )
        tables.add(name, _read_table(name, resources[name], text))
    declared = {_our_taxonomy(row.get("id"), row.get("name")) for row in tables.rows.get("taxonomy", [])}
    return [tables.nest("service", row) for row in tables.rows["service"]], declared - {None}


def _resource_paths(descriptor):
    """Resource name -> its path inside the package, refusing any path that could lead outside it."""
    resources = descriptor.get("resources") if isinstance(descriptor, dict) else None
    if not isinstance(resources, list):
        raise ImportFileError("datapackage.json has no list of resources.")
    paths = {}
    for resource in resources:
        if not isinstance(resource, dict):
            raise ImportFileError("datapackage.json lists a resource that is not an object.")
        name, path = str(resource.get("name", "")), resource.get("path")
        # Every path is checked, even of resources we skip: a package that points outside itself is not trusted.
        if isinstance(path, str):
            path = _safe_path(name, path)
        if name in RESOURCES:
            if not isinstance(path, str) or not path:
                raise ImportFileError(f"datapackage.json gives the {name!r} resource no single file path.")
            paths.setdefault(name, path)
    return paths


def _safe_path(name, path):
    if "://" in path:
        raise ImportFileError(
            f"datapackage.json points the {name!r} resource at {path!r}; only files inside the package are read."
        )
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", path):
        raise ImportFileError(
            f"datapackage.json gives the {name!r} resource the path {path!r}; "
            "resource paths must stay inside the package (no absolute paths, no '..')."
        )
    return pure.as_posix()


def _read_table(name, path, text):
    header, table = read_csv_rows(text, path)
    missing = [column for column in REQUIRED_COLUMNS[name] if column not in header]
    if missing:
        raise ImportFileError(f"{path} ({name!r} resource) is missing the required column(s): {', '.join(missing)}.")
    fields = {field.name: field for field in FIELDS[name]}
    rows = []
    for number, row in enumerate(table, start=1):
        if None in row:
            raise ImportFileError(f"{path} row {number} has more cells than its header has columns.")
        rows.append(_typed(fields, row))
    return rows


def _typed(fields, row):
    """A CSV row as an HSDS JSON object: numbers as numbers, empty typed cells left out."""
    typed = {}
    for name, value in row.items():
        text = (value or "").strip()
        field = fields.get(name)
        if field and (field.type != "string" or field.format):
            if text:
                typed[name] = _number_or_text(text) if field.type == "number" else text
        else:
            typed[name] = text
    return typed


def _number_or_text(text):
    try:
        return float(text)
    except ValueError:
        return text  # left for the mapping to report against the record


class _Tables:
    """Rows by resource, nested into documents along RELATIONS."""

    def __init__(self):
        self.rows = {}
        self._indexes = {}

    def add(self, resource, rows):
        self.rows[resource] = rows

    def _lookup(self, resource, field, value):
        if (resource, field) not in self._indexes:
            index = {}
            for row in self.rows[resource]:
                index.setdefault(row.get(field), []).append(row)
            self._indexes[resource, field] = index
        return self._indexes[resource, field].get(value, []) if value else []

    def nest(self, resource, row):
        document = dict(row)
        for relation in RELATIONS:
            if relation.parent != resource or relation.child not in self.rows:
                continue
            if relation.many:
                children = self._lookup(relation.child, relation.link, row.get("id"))
                document[relation.key] = [self.nest(relation.child, child) for child in children]
            elif found := self._lookup(relation.child, "id", row.get(relation.link)):
                document[relation.key] = self.nest(relation.child, found[0])
        return document


def _read_json(path):
    data = _parse_json(read_text(path), path.name)
    items = data["contents"] if isinstance(data, dict) and "contents" in data else data
    return _documents_of(items if isinstance(items, list) else [items], path.name)


def _documents_of(items, name):
    documents = []
    for number, item in enumerate(items, start=1):
        documents.extend(_service_documents(item, f"{name}, document {number}"))
    return documents


# Keys only a service, or only an organization, has; an organization listed without services yields no provider.
_SERVICE_KEYS = {"status", "service_at_locations", "organization", "organization_id"}
_ORGANIZATION_KEYS = {"services", "website", "organization_identifiers", "legal_status", "parent_organization_id"}


def _service_documents(item, where):
    """``item`` (a service, service_at_location or organization) as full service documents."""
    if not isinstance(item, dict):
        raise ImportFileError(f"{where} is not a JSON object.")
    if isinstance(item.get("service"), dict) or isinstance(item.get("location"), dict):
        if not isinstance(item.get("service"), dict):
            raise ImportFileError(f"{where} is a service_at_location without its service.")
        at_location = {key: value for key, value in item.items() if key != "service"}
        return [{**item["service"], "service_at_locations": [at_location]}]
    if "name" in item and _SERVICE_KEYS & set(item):
        return [item]
    if _ORGANIZATION_KEYS & set(item):
        organization = {key: value for key, value in item.items() if key != "services"}
        return [{**service, "organization": organization} for service in _objects(item.get("services"))]
    raise ImportFileError(f"{where} is not an HSDS service, service_at_location or organization document.")


def _parse_json(text, name):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFileError(f"{name} is not valid JSON: {error.msg} (line {error.lineno}).") from None


# Mapping a service document to records -------------------------------------


def _records_from_service(service, declared, numbers):
    at_locations = _objects(service.get("service_at_locations"))
    if not at_locations:
        return [_record(next(numbers), service, {}, declared)]
    return [_record(next(numbers), service, at_location, declared) for at_location in at_locations]


def _record(number, service, at_location, declared):
    location = _object(at_location.get("location"))
    record = Record(number=number, external_id="")
    _identify(record, service, at_location, location)
    values = record.values
    values["name"] = _provider_name(service, location)
    values["description"] = _text(service.get("description"))
    values["email"] = _text(service.get("email"))
    values["website"] = _text(service.get("url"))
    _set_status(record, service)
    values["last_verified"] = _date(record, "last_verified", service.get("assured_date"))
    if location:
        _set_place(record, location)
    _set_phones(record, (at_location, service, location))
    _set_terms(record, (service, at_location, location), declared)
    _set_languages(record, (service, location))
    _set_hours(record, (at_location, service, location))
    record.organization = _organization(_object(service.get("organization")))
    return record


def _identify(record, service, at_location, location):
    """Our own export names its source and external id; a partner's file is keyed by HSDS ids."""
    scheme = _text(location.get("external_identifier_type"))
    if scheme.startswith(SOURCE_SCHEME_PREFIX):
        record.source = scheme.removeprefix(SOURCE_SCHEME_PREFIX)
        record.external_id = _text(location.get("external_identifier"))
    record.external_id = record.external_id or _text((at_location or service).get("id"))


def _provider_name(service, location):
    names = [_text(service.get("name")), _text(location.get("name"))]
    if names[0].casefold() == names[1].casefold():
        names.pop()
    return " - ".join(name for name in names if name)


def _set_status(record, service):
    status = _text(service.get("status")).lower()
    if not status:
        return  # the file does not say; the importer decides
    if status in STATUS_FROM_HSDS:
        record.values["status"] = STATUS_FROM_HSDS[status]
    else:
        record.add_error("status", f"{status!r} is not an HSDS service status ({', '.join(STATUS_FROM_HSDS)})")


def _set_place(record, location):
    values = record.values
    if _text(location.get("location_type")).lower() == REDACTED:
        values["address_hidden"] = True
    values["latitude"] = _number(record, "latitude", location.get("latitude"))
    values["longitude"] = _number(record, "longitude", location.get("longitude"))
    address = _main_address(_objects(location.get("addresses")))
    if address is None:
        return
    values["street_address"] = _text(address.get("address_1"))
    values["street_address_2"] = _text(address.get("address_2"))
    values["city"] = _text(address.get("city"))
    values["region"] = _text(address.get("state_province")) or _text(address.get("region"))
    values["postal_code"] = _text(address.get("postal_code"))
    values["country"] = _text(address.get("country"), "country").upper()


def _main_address(addresses):
    physical = [address for address in addresses if _text(address.get("address_type")).lower() == "physical"]
    return (physical or addresses or [None])[0]


def _set_phones(record, holders):
    """The first callable phone of each role, from the service at location, then the service, then the location."""
    lists = [holder["phones"] for holder in holders if holder and "phones" in holder]
    if not lists:
        return
    for field in PHONE_FIELDS:
        record.values[field] = ""
    for phone in itertools.chain.from_iterable(_objects(phones) for phones in lists):
        role = _phone_role(phone)
        number = _phone_number(phone)
        if role and number and not record.values[role]:
            record.values[role] = number


def _phone_role(phone):
    kind = _text(phone.get("type")).lower()
    if kind in UNCALLABLE_PHONE_TYPES:
        return None
    words = f"{kind} {_text(phone.get('description'))}".lower()
    if any(word in words for word in HOTLINE_WORDS):
        return "hotline_phone"
    if any(word in words for word in INTAKE_WORDS):
        return "intake_phone"
    return "phone"


_HAS_EXTENSION = re.compile(r";ext=|\bext\b|\bextension\b|x\s*\d|#\s*\d", re.IGNORECASE)


def _phone_number(phone):
    # Some files (the HSDS examples among them) quote numbers so spreadsheets keep them as text.
    number = _text(phone.get("number")).strip("\"'").strip()
    extension = _number_text(phone.get("extension"))
    if number and extension and not _HAS_EXTENSION.search(number):
        number += f";ext={extension}"
    return number


def _set_terms(record, holders, declared):
    """Terms from the attributes of the service, its service at location and its location."""
    terms = {field: [] for field in ATTRIBUTE_FIELDS if field in declared}
    if FLAGS in declared:
        record.values.update(dict.fromkeys(FLAG_FIELDS.values()))
        record.values["time_zone"] = ""
        record.values.setdefault("address_hidden", False)
    for holder in holders:
        for attribute in _objects(holder.get("attributes")):
            _apply_attribute(record, attribute, terms)
    for field, slugs in terms.items():
        record.terms[field] = list(dict.fromkeys(slugs))


def _apply_attribute(record, attribute, terms):
    term = _object(attribute.get("taxonomy_term"))
    taxonomy = _term_taxonomy(term)
    code = _text(term.get("code"))
    name = _text(term.get("name"))
    if taxonomy == FLAGS and code in FLAG_FIELDS:
        field = FLAG_FIELDS[code]
        record.values[field] = _flag(record, field, attribute.get("value"))
    elif taxonomy == FLAGS and code == TIME_ZONE:
        record.values["time_zone"] = _text(attribute.get("value"))
    elif taxonomy == FLAGS and code == ADDRESS_HIDDEN:
        record.values["address_hidden"] = bool(_flag(record, "address_hidden", attribute.get("value")))
    elif taxonomy in ATTRIBUTE_FIELDS and code:
        terms.setdefault(taxonomy, []).append(code)
    elif taxonomy is None and name.casefold() in FOREIGN_TERMS:
        for field, slug in FOREIGN_TERMS[name.casefold()]:
            terms.setdefault(field, []).append(slug)
    else:
        label = f"{_taxonomy_name(term) or 'no taxonomy'}: {name or code or _text(attribute.get('taxonomy_term_id'))}"
        if label not in record.unmapped:
            record.unmapped.append(label)


def _term_taxonomy(term):
    """Which of our taxonomies ``term`` belongs to, or None for a partner's taxonomy."""
    detail = _object(term.get("taxonomy_detail"))
    for identifier, name in ((term.get("taxonomy_id"), term.get("taxonomy")), (detail.get("id"), detail.get("name"))):
        if taxonomy := _our_taxonomy(identifier, name):
            return taxonomy
    return None


def _our_taxonomy(identifier, name):
    for key, (our_name, _description) in TAXONOMIES.items():
        if _text(identifier) == TAXONOMY_IDS[key] or _text(name).casefold() == our_name:
            return key
    return None


def _taxonomy_name(term):
    return _text(term.get("taxonomy")) or _text(_object(term.get("taxonomy_detail")).get("name"))


def _set_languages(record, holders):
    lists = [holder["languages"] for holder in holders if holder and "languages" in holder]
    if not lists:
        return
    codes = []
    for language in itertools.chain.from_iterable(_objects(languages) for languages in lists):
        name, code = _text(language.get("name")), _text(language.get("code"), "languages")
        if not (name or code):
            continue
        if found := language_code(code) or language_code(name):
            codes.append(found)
        elif (label := f"language: {name or code}") not in record.unmapped:
            record.unmapped.append(label)
    record.terms["languages"] = list(dict.fromkeys(codes))


def _set_hours(record, holders):
    """Weekly hours from the schedules of the service at location, else of the service, else of the location.

    Only schedules that repeat every week on plain days become hours; the others are listed as
    unmapped. When a provider has schedules but none of them can be read, its hours are left
    as they are rather than emptied. Schedules whose ``attending_type`` says walk-in (or drop-in)
    are its walk-in hours, read the same way.
    """
    lists = [_objects(holder["schedules"]) for holder in holders if holder and "schedules" in holder]
    if not lists:
        return
    schedules = next((found for found in lists if found), [])
    opening, walk_in = [], []
    for schedule in schedules:
        (walk_in if _is_walk_in(schedule) else opening).append(schedule)
    _set_week(record, "opening_hours", opening)
    _set_week(record, "walk_in_hours", walk_in)


def _set_week(record, name, schedules):
    hours = [interval for schedule in schedules for interval in _weekly_hours(record, schedule)]
    if hours or not schedules:
        setattr(record, name, sorted(dict.fromkeys(hours)))


# The attending_type of the schedules of walk-in hours; one that starts "walk in" or "drop-in" is read as walk-in
# too ("No walk-ins" is not).
WALK_IN = "walk-in"


def _is_walk_in(schedule):
    words = _text(schedule.get("attending_type")).lower().replace("-", " ")
    return words.startswith(("walk in", "drop in"))


def _weekly_hours(record, schedule):
    reason = _why_not_weekly(schedule)
    if reason:
        label = f"schedule: {reason}"
        if label not in record.unmapped:
            record.unmapped.append(label)
        return []
    opens = _schedule_clock(record, schedule.get("opens_at"))
    closes = _schedule_clock(record, schedule.get("closes_at"), closing=True)
    if opens is None or closes is None:
        return []
    return [(DAY_CODES.index(code), opens, closes) for code in _byday(schedule)]


def _why_not_weekly(schedule):
    """Why ``schedule`` is not plain weekly hours, or "" when it is. A missing freq is read as weekly."""
    freq = _text(schedule.get("freq")).upper()
    if freq not in ("", "WEEKLY"):
        return freq.lower()
    interval = _number_text(schedule.get("interval"))
    if interval not in ("", "1"):
        return f"every {interval} weeks"
    for part in NARROWING_RULE_PARTS:
        if _text(schedule.get(part)):
            return f"{part} {_text(schedule.get(part))}"
    days = _byday(schedule)
    if not days:
        return "no byday"
    if not set(days) <= set(DAY_CODES):
        return f"byday {','.join(days)}"
    if not _text(schedule.get("opens_at")) or not _text(schedule.get("closes_at")):
        return "no opens_at or closes_at"
    return ""


def _byday(schedule):
    return [code.strip().upper() for code in _text(schedule.get("byday")).split(",") if code.strip()]


def _schedule_clock(record, value, closing=False):
    text = _text(value)
    clock = normalise_clock(_UTC_OFFSET.sub("", text), closing=closing)
    if clock is None:
        record.add_error("opening_hours", f"{text!r} is not a time (HH:MM)")
    return clock


def _organization(organization):
    if not organization or _is_placeholder(organization):
        return None
    identifiers = _objects(organization.get("organization_identifiers"))
    ours = [
        _text(item.get("identifier"))
        for item in identifiers
        if _text(item.get("identifier_type")) == ORGANIZATION_SLUG_TYPE
    ]
    identifier = _text(organization.get("id"))
    partner_slug = slugify(PARTNER_ORGANIZATION_PREFIX + identifier, allow_unicode=True)[:120] if identifier else ""
    return {
        "slug": ours[0] if ours else partner_slug,
        "name": _text(organization.get("name")),
        "website": _text(organization.get("website")),
        "description": _text(organization.get("description")),
    }


def _is_placeholder(organization):
    for attribute in _objects(organization.get("attributes")):
        term = _object(attribute.get("taxonomy_term"))
        if _term_taxonomy(term) == FLAGS and _text(term.get("code")) == NO_ORGANIZATION:
            return _text(attribute.get("value")).lower() != "false"
    return False


def _flag(record, field, value):
    try:
        flag = parse_yes_no(_text(value))
    except ValueError:
        flag = None
    if flag is None:
        record.add_error(field, f"{value!r} is not true or false")
    return flag


def _number(record, field, value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = _text(value)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        record.add_error(field, f"{value!r} is not a number")
        return None


def _number_text(value):
    """An extension as digits: 100, 100.0 and "100" all give "100"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _text(value)


def _date(record, field, value):
    text = _text(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        record.add_error(field, f"{text!r} is not a date (YYYY-MM-DD)")
        return None


def _text(value, field_name=""):
    if value is None or isinstance(value, (dict, list)):
        return ""
    return blank_placeholder(str(value).strip(), field_name)


def _object(value):
    return value if isinstance(value, dict) else {}


def _objects(value):
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# Writing ------------------------------------------------------------------


def taxonomy_document(taxonomy):
    name, description = TAXONOMIES[taxonomy]
    return {"id": TAXONOMY_IDS[taxonomy], "name": name, "description": description}


class Vocabulary:
    """Names of our terms, which HSDS taxonomy terms and languages carry alongside the codes."""

    def __init__(self):
        self.terms = {FLAGS: dict(FLAG_TERMS)}
        for field in TERM_FIELDS:
            model = Provider._meta.get_field(field).related_model
            self.terms[field] = {term.slug: (term.name, term.description) for term in model.objects.all()}

    def name(self, taxonomy, code):
        return self.terms[taxonomy].get(code, (code, ""))[0]

    def term_document(self, taxonomy, code):
        name, description = self.terms[taxonomy].get(code, (code, ""))
        return {
            "id": stable_id("taxonomy", TAXONOMIES[taxonomy][0], "term", code),
            "code": code,
            "name": name,
            "description": description,
            "taxonomy": TAXONOMIES[taxonomy][0],
            "taxonomy_detail": taxonomy_document(taxonomy),
        }

    def all_term_documents(self):
        return [self.term_document(taxonomy, code) for taxonomy in TAXONOMIES for code in self.terms[taxonomy]]


def write(records, output: Path) -> int:
    """Write ``records`` as an HSDS 3.0 tabular data package: a folder, or a .zip when ``output`` ends in .zip.

    Returns how many records were written.
    """
    vocabulary = Vocabulary()
    tables = _TableWriter()
    # Every taxonomy is declared, so a reader knows a provider without its terms has none (see _set_terms);
    # the whole vocabulary goes out, so partners can map to it even where no provider uses a term yet.
    for taxonomy in TAXONOMIES:
        tables.flatten("taxonomy", taxonomy_document(taxonomy))
    for term in vocabulary.all_term_documents():
        tables.flatten("taxonomy_term", term)
    count = 0
    for record in records:
        tables.flatten("service", document_for(record, vocabulary))
        count += 1
    files = {"datapackage.json": json.dumps(_descriptor(), indent=2, ensure_ascii=False) + "\n", **tables.files()}
    if output.suffix.lower() == ".zip":
        _write_zip(output, files)
    else:
        _write_folder(output, files)
    return count


def document_for(record: Record, vocabulary: Vocabulary | None = None) -> dict:
    """The full HSDS 3.0 ``service`` document of one provider record."""
    vocabulary = vocabulary or Vocabulary()
    # Every id below the service derives from the service's own, so they all stay put when it does.
    key = (record.hsds_id or service_id(record.source, record.external_id, record.slug),)
    values = record.values
    last_verified = values.get("last_verified")
    service = _compact(
        id=key[0],
        name=_value(values, "name"),
        description=_value(values, "description"),
        url=_value(values, "website"),
        email=_value(values, "email"),
        status=STATUS_TO_HSDS[values["status"]],
        assured_date=last_verified.isoformat() if isinstance(last_verified, date) else last_verified,
        phones=[_phone_document(key, field, values[field]) for field in PHONE_FIELDS if values.get(field)],
        languages=[
            {"id": stable_id(*key, "language", code), "name": vocabulary.name("languages", code), "code": code}
            for code in record.terms.get("languages", [])
        ],
        attributes=_term_attributes(record, key, vocabulary) + _flag_attributes(record, key, vocabulary),
    )
    service["organization"] = _organization_document(record, key, vocabulary)
    service["service_at_locations"] = [
        {
            "id": service_at_location_id(key[0]),
            **_compact(schedules=_schedule_documents(record, key)),
            "location": _location_document(record, key, vocabulary),
        }
    ]
    return service


def _value(values, name):
    value = values.get(name)
    return "" if value is None else str(value)


def _compact(**fields):
    """HSDS types forbid null, so an unknown value is left out."""
    return {name: value for name, value in fields.items() if value not in (None, "", [])}


def _phone_document(key, field, stored):
    number, _, extension = stored.partition(";ext=")
    if extension and not extension.isdigit():
        number, extension = stored, ""
    return _compact(
        id=stable_id(*key, "phone", field),
        number=number,
        extension=int(extension) if extension else None,
        type="voice",
        description=PHONE_DESCRIPTIONS[field],
    )


def _attribute(identifier, entity, term, value=None):
    return _compact(id=identifier, link_entity=entity, value=value, taxonomy_term=term)


def _term_attributes(record, key, vocabulary):
    return [
        _attribute(stable_id(*key, "attribute", field, slug), "service", vocabulary.term_document(field, slug))
        for field in ATTRIBUTE_FIELDS
        for slug in record.terms.get(field, [])
    ]


def _flag_attributes(record, key, vocabulary):
    return [
        _attribute(
            stable_id(*key, "attribute", FLAGS, code),
            "service",
            vocabulary.term_document(FLAGS, code),
            "true" if record.values[field] else "false",
        )
        for code, field in FLAG_FIELDS.items()
        if record.values.get(field) is not None
    ]


def _organization_document(record, key, vocabulary):
    if not record.organization:
        return placeholder_organization_document(key[0], _value(record.values, "name"), vocabulary)
    return organization_document(record.organization)


def organization_document(organization):
    """The HSDS document of an organization given by its ORGANIZATION_FIELDS."""
    slug = organization["slug"]
    return {
        "id": organization_id(slug),
        "name": organization.get("name") or "",
        "description": organization.get("description") or "",
        **_compact(website=organization.get("website")),
        "organization_identifiers": [
            {
                "id": stable_id("organization", slug, "identifier"),
                "identifier_type": ORGANIZATION_SLUG_TYPE,
                "identifier": slug,
            }
        ],
    }


def placeholder_organization_document(service, name, vocabulary):
    """The organization standing in for the listing ``service`` (its id) when it belongs to none.

    HSDS requires every service to have one; it takes the listing's name, and is marked so no reader takes it
    for a real organization.
    """
    return {
        "id": placeholder_organization_id(service),
        "name": name,
        "description": "",
        "attributes": [
            _attribute(
                stable_id(service, "attribute", FLAGS, NO_ORGANIZATION),
                "organization",
                vocabulary.term_document(FLAGS, NO_ORGANIZATION),
                "true",
            )
        ],
    }


def _schedule_documents(record, key):
    """One weekly schedule per distinct pair of opening and closing times, naming the days that share it;
    walk-in hours say so in ``attending_type``."""
    return [
        *_week_documents(record.opening_hours, key),
        *_week_documents(record.walk_in_hours, (*key, WALK_IN), attending_type=WALK_IN),
    ]


def _week_documents(intervals, key, **extra):
    days = {}
    for weekday, opens, closes in intervals or []:
        days.setdefault((opens, closes), []).append(weekday)
    return [
        {
            "id": stable_id(*key, "schedule", opens, closes),
            # RFC 5545's default week start; an empty cell would read back as "", which HSDS's enum refuses.
            "wkst": DAY_CODES[0],
            "freq": "WEEKLY",
            "byday": ",".join(DAY_CODES[weekday] for weekday in sorted(weekdays)),
            "opens_at": opens,
            "closes_at": closes,
            **extra,
        }
        for (opens, closes), weekdays in sorted(days.items(), key=lambda item: (min(item[1]), item[0]))
    ]


def _time_zone_attributes(record, key, vocabulary):
    zone = record.values.get("time_zone")
    if not zone:
        return []
    term = vocabulary.term_document(FLAGS, TIME_ZONE)
    return [_attribute(stable_id(*key, "attribute", FLAGS, TIME_ZONE), "location", term, zone)]


def _address_hidden_attributes(record, key, vocabulary):
    if not record.values.get("address_hidden"):
        return []
    term = vocabulary.term_document(FLAGS, ADDRESS_HIDDEN)
    return [_attribute(stable_id(*key, "attribute", FLAGS, ADDRESS_HIDDEN), "location", term, "true")]


def _location_document(record, key, vocabulary):
    values = record.values
    location = _compact(
        id=stable_id(*key, "location"),
        location_type="physical",
        name=_value(values, "name"),
        latitude=values.get("latitude"),
        longitude=values.get("longitude"),
        external_identifier=record.external_id,
        external_identifier_type=SOURCE_SCHEME_PREFIX + record.source if record.source else "",
        attributes=_time_zone_attributes(record, key, vocabulary) + _address_hidden_attributes(record, key, vocabulary),
    )
    # HSDS requires these address fields even when we do not know them; the country we always know.
    location["addresses"] = [
        {
            "id": stable_id(*key, "address"),
            "address_1": _value(values, "street_address"),
            "address_2": _value(values, "street_address_2"),
            "city": _value(values, "city"),
            "state_province": _value(values, "region"),
            "postal_code": _value(values, "postal_code"),
            "country": _value(values, "country"),
            "address_type": "physical",
        }
    ]
    return location


class _TableWriter:
    """CSV text per resource, filled by flattening nested documents along RELATIONS."""

    def __init__(self):
        self._buffers = {name: io.StringIO() for name in RESOURCES}
        self._writers = {name: csv.writer(buffer, lineterminator="\r\n") for name, buffer in self._buffers.items()}
        self._seen = {name: set() for name in RESOURCES}
        for name, writer in self._writers.items():
            writer.writerow([field.name for field in FIELDS[name]])

    def flatten(self, resource, document):
        row = dict(document)
        relations = [relation for relation in RELATIONS if relation.parent == resource]
        for relation in relations:
            child = row.pop(relation.key, None)
            if not relation.many and child:
                row[relation.link] = child["id"]
        self._add(resource, row)
        for relation in relations:
            child = document.get(relation.key)
            if relation.many:
                for item in child or []:
                    self.flatten(relation.child, {**item, relation.link: document["id"]})
            elif child:
                self.flatten(relation.child, child)

    def _add(self, resource, row):
        # An organization, term or taxonomy shared by many providers is written once.
        if row["id"] in self._seen[resource]:
            return
        self._seen[resource].add(row["id"])
        self._writers[resource].writerow([_cell(row.get(field.name)) for field in FIELDS[resource]])

    def files(self):
        return {RESOURCES[name][0]: buffer.getvalue() for name, buffer in self._buffers.items()}


def _cell(value):
    # Written as is: HSDS consumers read data, and E.164 numbers start with "+" (no spreadsheet guard).
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _descriptor():
    return {
        "name": "human_services_data",
        "title": "Treatment Directory providers (Open Referral HSDS 3.0)",
        "description": "Addiction treatment providers; each provider is one service at one location.",
        "profile": "tabular-data-package",
        "version": "3.0.0",
        "resources": [_resource_descriptor(name) for name in RESOURCES],
    }


def _resource_descriptor(name):
    schema = {"primaryKey": "id", "fields": [_field_descriptor(name, field) for field in FIELDS[name]]}
    foreign_keys = _foreign_keys(name)
    if foreign_keys:
        schema["foreignKeys"] = foreign_keys
    return {
        "name": name,
        "path": RESOURCES[name][0],
        "format": "csv",
        "mediatype": "text/csv",
        "profile": "tabular-data-resource",
        "schema": schema,
    }


def _field_descriptor(resource, field):
    descriptor = {"name": field.name, "type": field.type}
    if field.format:
        descriptor["format"] = field.format
    descriptor["constraints"] = {"required": field.required, "unique": field.unique}
    if (resource, field.name) in ENUMS:
        descriptor["constraints"]["enum"] = ENUMS[resource, field.name]
    return descriptor


def _foreign_keys(resource):
    """The links RELATIONS define, as the package's foreign keys (attributes link to any table, so none there)."""
    keys = {}
    for relation in RELATIONS:
        if relation.link == "link_id":
            continue
        if relation.many and relation.child == resource:
            keys[relation.link] = relation.parent
        elif not relation.many and relation.parent == resource:
            keys[relation.link] = relation.child
    return [
        {"fields": field.name, "reference": {"resource": keys[field.name], "fields": "id"}}
        for field in FIELDS[resource]
        if field.name in keys
    ]


def _write_folder(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text.encode("utf-8"))


def _write_zip(path, files):
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            # A fixed timestamp, so exporting twice gives byte-identical archives.
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
