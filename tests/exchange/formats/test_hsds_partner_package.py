"""A partner's HSDS 3.0 package as partners really write them, shaped like a Canadian partner's.

Its languages come as names without codes (English, Farsi, français) or as ISO 639-2 codes,
and where the partner had no value it wrote one anyway: a website of ``http://``, an e-mail of
``N/A``, a second phone of ``-``. The whole package imports, every language kept, every
placeholder blank.
"""

import csv
import json

import pytest

from providers.exchange.formats import hsds
from providers.exchange.importer import ImportOptions, import_records
from providers.models import Organization, Provider

pytestmark = pytest.mark.django_db

ORGANIZATIONS = [
    {"id": "org-harbour", "name": "Harbourfront Community Health", "website": "https://harbourfront.example.ca/"},
    {"id": "org-prairie", "name": "Prairie Recovery Society", "website": "http://"},
    {"id": "org-north", "name": "Northern Lights Wellness", "website": "N/A", "email": "none"},
]
LOCATIONS = [
    ("loc-toronto", "Harbourfront Clinic", "Toronto", "ON", "M5V 2T6", 43.6389, -79.3817),
    ("loc-regina", "Regina House", "Regina", "SK", "S4P 3Y2", 50.4452, -104.6189),
    ("loc-saskatoon", "Saskatoon Centre", "Saskatoon", "SK", "S7K 1J5", 52.1332, -106.6700),
    ("loc-yellowknife", "Yellowknife Drop-in", "Yellowknife", "NT", "X1A 2L9", 62.4540, -114.3718),
]
# (id, organization, location, name, e-mail, website)
SERVICES = [
    ("svc-oat", "org-harbour", "loc-toronto", "Opioid Agonist Therapy", "oat@harbourfront.example.ca", "-"),
    ("svc-youth", "org-harbour", "loc-toronto", "Youth Counselling", "N/A", ""),
    ("svc-residential", "org-prairie", "loc-regina", "Residential Treatment", "intake@prairie.example.ca", "http://"),
    ("svc-withdrawal", "org-prairie", "loc-saskatoon", "Withdrawal Management", "", "https://"),
    ("svc-outreach", "org-north", "loc-yellowknife", "Harm Reduction Outreach", "unknown", ""),
    ("svc-family", "org-north", "loc-yellowknife", "Family Support Group", "", "https://northernlights.example.ca/"),
]
# (service, number, description)
PHONES = [
    ("svc-oat", "416-555-0123", "Reception"),
    ("svc-oat", "-", "Intake line"),
    ("svc-youth", "416-555-0124", "Reception"),
    ("svc-residential", "306-555-0150", "Main"),
    ("svc-residential", "N/A", "24/7 crisis line"),
    ("svc-withdrawal", "306-555-0151", "Main"),
    ("svc-outreach", "867-555-0170", "Outreach van"),
]
# (service, name, code): names without codes, as the partner wrote them, and ISO 639-2 codes.
LANGUAGES = [
    ("svc-oat", "English", ""),
    ("svc-oat", "Farsi", ""),
    ("svc-youth", "Spanish", ""),
    ("svc-youth", "français", ""),
    ("svc-residential", "", "eng"),
    ("svc-residential", "", "spa"),
    ("svc-withdrawal", "English", "N/A"),
    ("svc-withdrawal", "Persian", "per"),
    ("svc-withdrawal", "N/A", ""),
    ("svc-outreach", "Deutsch", ""),
]
EXPECTED_LANGUAGES = {
    "Opioid Agonist Therapy - Harbourfront Clinic": ["en", "fa"],
    "Youth Counselling - Harbourfront Clinic": ["es", "fr"],
    "Residential Treatment - Regina House": ["en", "es"],
    "Withdrawal Management - Saskatoon Centre": ["en", "fa"],
    "Harm Reduction Outreach - Yellowknife Drop-in": ["de"],
    "Family Support Group - Yellowknife Drop-in": [],
}


def write_table(folder, resource, rows):
    """Write ``rows`` (dicts) as the CSV of ``resource`` with HSDS's columns; return its descriptor entry."""
    path = hsds.RESOURCES[resource][0]
    with open(folder / path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[field.name for field in hsds.FIELDS[resource]])
        writer.writeheader()
        writer.writerows(rows)
    return {"name": resource, "path": path}


@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "partner-package"
    folder.mkdir()
    tables = {
        "organization": ORGANIZATIONS,
        "service": [
            {"id": identifier, "organization_id": org, "name": name, "email": email, "url": url, "status": "active"}
            for identifier, org, _location, name, email, url in SERVICES
        ],
        "location": [
            {"id": identifier, "location_type": "physical", "name": name, "latitude": lat, "longitude": lon}
            for identifier, name, _city, _province, _postal_code, lat, lon in LOCATIONS
        ],
        "address": [
            {
                "id": f"address-{identifier}",
                "location_id": identifier,
                "address_1": "100 Main Street",
                "city": city,
                "state_province": province,
                "postal_code": postal_code,
                "country": "CA",
                "address_type": "physical",
            }
            for identifier, _name, city, province, postal_code, _lat, _lon in LOCATIONS
        ],
        "service_at_location": [
            {"id": f"at-{identifier}", "service_id": identifier, "location_id": location}
            for identifier, _org, location, _name, _email, _url in SERVICES
        ],
        "phone": [
            {"id": f"phone-{index}", "service_id": service, "number": number, "type": "voice", "description": words}
            for index, (service, number, words) in enumerate(PHONES)
        ],
        "language": [
            {"id": f"language-{index}", "service_id": service, "name": name, "code": code}
            for index, (service, name, code) in enumerate(LANGUAGES)
        ],
    }
    resources = [write_table(folder, resource, rows) for resource, rows in tables.items()]
    descriptor = {"name": "partner-services", "profile": "tabular-data-package", "resources": resources}
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    return folder


def import_package(package, **options):
    return import_records(hsds.read(package), ImportOptions(source="prairie-partner", format="hsds", **options))


def test_the_dry_run_takes_every_service_and_maps_every_language(package):
    report = import_package(package, dry_run=True)

    assert report.error_lines == []
    assert len(report.created) == 6 and not report.written
    assert not report.unmapped
    # Placeholders are blank, not invalid values set aside with a warning.
    assert report.warning_lines == []


def test_the_import_takes_every_service_with_its_languages(package):
    report = import_package(package)

    assert report.error_lines == [] and report.written
    assert {
        provider.name: sorted(provider.languages.values_list("slug", flat=True)) for provider in Provider.objects.all()
    } == EXPECTED_LANGUAGES


def test_placeholder_websites_and_emails_are_blank(package):
    import_package(package)

    assert dict(Organization.objects.values_list("name", "website")) == {
        "Harbourfront Community Health": "https://harbourfront.example.ca/",
        "Prairie Recovery Society": "",
        "Northern Lights Wellness": "",
    }
    assert {
        provider.name.partition(" - ")[0]: (provider.email, provider.website) for provider in Provider.objects.all()
    } == {
        "Opioid Agonist Therapy": ("oat@harbourfront.example.ca", ""),
        "Youth Counselling": ("", ""),
        "Residential Treatment": ("intake@prairie.example.ca", ""),
        "Withdrawal Management": ("", ""),
        "Harm Reduction Outreach": ("", ""),
        "Family Support Group": ("", "https://northernlights.example.ca/"),
    }


def test_a_placeholder_second_phone_leaves_its_role_empty_and_the_main_phone_stands(package):
    import_package(package)

    phones = {
        provider.name.partition(" - ")[0]: (provider.phone, provider.intake_phone, provider.hotline_phone)
        for provider in Provider.objects.all()
    }
    assert phones == {
        "Opioid Agonist Therapy": ("+14165550123", "", ""),
        "Youth Counselling": ("+14165550124", "", ""),
        "Residential Treatment": ("+13065550150", "", ""),
        "Withdrawal Management": ("+13065550151", "", ""),
        "Harm Reduction Outreach": ("+18675550170", "", ""),
        "Family Support Group": ("", "", ""),
    }
