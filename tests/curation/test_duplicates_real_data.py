"""Likely duplicates in the real data: the 2015 SAMHSA directory and the FindTreatment.gov Virginia sample.

Both files are imported once for the module with the real importer, the findings
are kept as plain values, and the import is rolled back before the first test.

What the numbers mean (SAMHSA alone, 11,928 listings): 290 groups, 635 listings.
The directory lists 408 sites on several rows (917 rows, separate programmes at one
site, see ../shared/data/README.md); at 195 of them two or more rows share a main
phone number or a name, and those are flagged, the README's "about 195 near-identical
groups". 190 groups lie within one site; the 100 others join listings at neighbouring
addresses (within 100 m, or the same street address and postal code) with one name or
number: often one organisation's houses on one street, sometimes one building spelled
two ways ("300 East Hampden Avenue" and "300 Hampden Street"). Programmes at one site
with a name and a number of their own are not flagged.
"""

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from providers.curation.duplicates import attach_providers, candidates, find_duplicates, phone_key
from providers.curation.merging import merge
from providers.models import Provider, Source
from tests.exchange.helpers import run

SHARED = Path(settings.BASE_DIR).parent / "shared" / "data"
SAMHSA = SHARED / "samhsa-2015" / "nssats_2015_directory_geocoded.csv"
FINDTREATMENT = SHARED / "findtreatment-sample" / "facilities.json"


@dataclass(frozen=True)
class Seen:
    source: str
    external_id: str
    name: str
    street_address: str

    @property
    def site(self):
        """The SAMHSA site id: external ids of programmes sharing one carry a suffix after it."""
        return self.external_id.split("-")[0] if self.source == "samhsa-2015" else None


@dataclass(frozen=True)
class Group:
    reasons: tuple
    listings: tuple

    def has(self, source, external_id):
        return any(seen.source == source and seen.external_id == external_id for seen in self.listings)


@dataclass
class Findings:
    import_output: str
    samhsa: list
    everything: list
    seconds: float
    # FindTreatment external id -> the SAMHSA external ids with the same main phone.
    shared_phones: dict

    def group_of(self, source, external_id):
        return next((group for group in self.everything if group.has(source, external_id)), None)


def _plain(groups):
    return [
        Group(
            tuple(group.reasons),
            tuple(Seen(p.source.slug, p.external_id, p.name, p.street_address) for p in group.providers),
        )
        for group in attach_providers(groups)
    ]


def known_sources():
    """The two sources, stored before importing, as in a directory that has imported them before.

    A source that is new with an import costs the importer a query per record (when it assigns HSDS ids).
    """
    Source.objects.create(slug="samhsa-2015", name="SAMHSA directory 2015")
    Source.objects.create(slug="findtreatment", name="FindTreatment.gov")


@pytest.fixture(scope="module")
def findings(django_db_setup, django_db_blocker):
    for path in (SAMHSA, FINDTREATMENT):
        if not path.exists():
            pytest.fail(f"{path} is missing; CI runs with ../shared beside the checkout.")
    with django_db_blocker.unblock(), transaction.atomic():
        known_sources()
        output = run("import_providers", SAMHSA, "--source", "samhsa-2015", "--skip-invalid")
        output += run("import_providers", FINDTREATMENT, "--source", "findtreatment")
        samhsa = _plain(find_duplicates(candidates().filter(source__slug="samhsa-2015")))
        started = time.perf_counter()
        everything = find_duplicates()
        seconds = time.perf_counter() - started
        by_phone = {}
        for external_id, phone in Provider.objects.filter(source__slug="samhsa-2015").values_list(
            "external_id", "phone"
        ):
            by_phone.setdefault(phone_key(phone), []).append(external_id)
        shared = {
            external_id: by_phone[phone_key(phone)]
            for external_id, phone in Provider.objects.filter(source__slug="findtreatment").values_list(
                "external_id", "phone"
            )
            if phone and phone_key(phone) in by_phone
        }
        findings = Findings(output, samhsa, _plain(everything), seconds, shared)
        transaction.set_rollback(True)
    return findings


def test_both_files_are_imported(findings):
    assert "11928 created, 0 updated, 0 unchanged, 0 rejected." in findings.import_output
    assert "5 invalid optional value(s) set aside" in findings.import_output
    assert "41 created, 0 updated, 0 unchanged, 0 rejected." in findings.import_output


def test_the_whole_directory_is_searched_in_well_under_a_second(findings):
    # About 0.3 s on a laptop, on SQLite and PostgreSQL alike; the bound leaves room for slow CI machines.
    assert findings.seconds < 3


def test_samhsa_groups_by_reason(findings):
    groups = findings.samhsa
    both = [group for group in groups if group.reasons == ("same name", "same phone")]
    phone_only = [group for group in groups if group.reasons == ("same phone",)]
    name_only = [group for group in groups if group.reasons == ("same name",)]

    assert (len(groups), len(phone_only), len(name_only), len(both)) == (290, 251, 8, 31)
    assert sum(len(group.listings) for group in groups) == 635
    assert max(len(group.listings) for group in groups) == 6


def test_programmes_listed_on_several_rows_of_one_site_are_flagged_at_195_sites(findings):
    within_one_site = [group for group in findings.samhsa if len({seen.site for seen in group.listings}) == 1]
    flagged_sites = {
        seen.site
        for group in findings.samhsa
        for seen in group.listings
        if sum(other.site == seen.site for other in group.listings) >= 2
    }

    assert len(within_one_site) == 190
    assert len(flagged_sites) == 195


def test_known_duplicates_of_the_directory_are_found(findings):
    khepera = findings.group_of("samhsa-2015", "2671CA93001-khepera-house")
    assert [seen.external_id for seen in khepera.listings] == [
        "2671CA93001-khepera-house",
        "2671CA93001-khepera-house-2",
        "2671CA93001-khepera-house-3",
        "2671CA93001-khepera-house-4",
    ]
    assert khepera.reasons == ("same name", "same phone")
    # One switchboard (602-277-5551), one address, two names and two extensions.
    phoenix_va = findings.group_of("samhsa-2015", "7031AZ85012-carl-t-hayden-va-medical-center")
    assert phoenix_va.has("samhsa-2015", "7031AZ85012-substance-abuse-treatment-program")
    assert phoenix_va.reasons == ("same phone",)


def test_clearly_different_providers_are_not_grouped(findings):
    # Big Island Substance Abuse Council gives one number (808-969-9994) for 32 listings across the island.
    big_island = [
        group
        for group in findings.everything
        if any("Big Island Substance Abuse" in seen.name for seen in group.listings)
    ]
    assert big_island and all(len(group.listings) == 2 for group in big_island)
    # Selfrefind: eleven towns of Kentucky, one name, mostly one toll-free number; no two at one place.
    assert not any(seen.name == "Selfrefind" for group in findings.everything for seen in group.listings)
    # Khepera House's other building, 277 West Harrison Avenue, is another site of the same name and number.
    assert findings.group_of("samhsa-2015", "4215CA93001") is None


# FindTreatment.gov × SAMHSA

REGION_TEN = "a1e806914f668fd6a36b204da022a61d8ba326606c1ae99cd3b47f0a1bab4fe8"
REGION_TEN_CHILDREN_AND_FAMILY = "67774a118c295f86bcf9f836e85f3dc9cafe85188e4f3f6e75c3b4e368dc10e4"
GREENE_COUNTY_OFFICE = (
    "58fd306582a851179fda747ea73a26e0bebeb830f25ea1040cf6fb08ba6d899a",
    "ce1ca08b3d265d38b8efd5cb0e919262dd1d9c101ac273e8e4c7688f3fdc09e7",
)
AUGUSTA_HEALTH = "f0b09a6012555620fca0f17260f460216edb7f24d664ef73d7aaa154352cc939"
NELSON_COUNTY_OFFICE = "95a5afc4f1c66f82ef7564535ef6b16a16de6d069f69bb4b8538e712ccf99b85"
ROCKINGHAM_MEMORIAL = "14f1d707e57feac8569fb7e9d32a84e7582e1da9f2812ce7e0ee0893a7169759"


def samhsa_partners(findings, external_id):
    group = findings.group_of("findtreatment", external_id)
    return [seen.external_id for seen in group.listings if seen.source == "samhsa-2015"] if group else []


def test_14_of_the_17_facilities_sharing_a_phone_with_samhsa_are_found_with_that_listing(findings):
    """The 3 others are right to be left out: they are not at the SAMHSA listing's place.

    Region Ten's Children and Family Services uses the board's main number 4.3 km from its
    800 Preston Avenue office; Region Ten's Greene County Office (listed twice by the locator)
    was at 24 Rectory Lane in 2015 and is at 9963 Spotswood Trail now, 2.1 km away: a move
    detection cannot tell from a second site.
    """
    assert len(findings.shared_phones) == 17
    found = {
        external_id
        for external_id, samhsa_ids in findings.shared_phones.items()
        if set(samhsa_ids) & set(samhsa_partners(findings, external_id))
    }
    assert len(found) == 14
    assert set(findings.shared_phones) - found == {REGION_TEN_CHILDREN_AND_FAMILY, *GREENE_COUNTY_OFFICE}


def test_a_slightly_different_name_or_address_of_the_same_place_is_found(findings):
    assert samhsa_partners(findings, REGION_TEN) == ["1643VA22903"]
    # "Augusta Health" and "Augusta Health – Recovery Choice", 211 m apart by the two geocoders,
    # at the same street address: found by the phone at that address.
    assert samhsa_partners(findings, AUGUSTA_HEALTH) == ["4974VA22939"]
    # "71 Tanbark Plaza" and "71 Tan Bark Plaza".
    assert samhsa_partners(findings, NELSON_COUNTY_OFFICE) == ["7207VA22949"]
    # Another phone number, but the same name at the same door.
    assert samhsa_partners(findings, ROCKINGHAM_MEMORIAL) == ["6725VA22801"]
    assert findings.group_of("findtreatment", ROCKINGHAM_MEMORIAL).reasons == ("same name",)


def test_fifteen_of_the_41_facilities_are_found_in_ten_groups_with_samhsa_listings(findings):
    mixed = [
        group
        for group in findings.everything
        if {seen.source for seen in group.listings} == {"samhsa-2015", "findtreatment"}
    ]
    facilities = {seen.external_id for group in mixed for seen in group.listings if seen.source == "findtreatment"}

    assert len(mixed) == 10
    assert len(facilities) == 15
    # The locator itself lists five offices twice (e.g. "Fluvanna County" and "Fluvanna County Office").
    assert sum(sum(seen.source == "findtreatment" for seen in group.listings) == 2 for group in mixed) == 5


# Merging the Virginia findings


@pytest.fixture
def virginia(db, tmp_path):
    """The SAMHSA directory's Virginia rows and the FindTreatment.gov sample, imported; the SAMHSA file's path."""
    with open(SAMHSA, encoding="utf-8", newline="") as source:
        reader = csv.DictReader(source)
        rows = [row for row in reader if row["State"] == "VA"]
        header = reader.fieldnames
    known_sources()
    path = tmp_path / "samhsa-virginia.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    run("import_providers", path, "--source", "samhsa-2015", "--skip-invalid")
    run("import_providers", FINDTREATMENT, "--source", "findtreatment")
    return path


def test_merging_every_cross_source_group_into_its_samhsa_listing_and_importing_again(virginia, curator, client):
    published = Provider.objects.published().count()
    groups = [
        group
        for group in attach_providers(find_duplicates())
        if {provider.source.slug for provider in group.providers} == {"samhsa-2015", "findtreatment"}
    ]
    merged = []
    for group in groups:
        [keeper] = [provider for provider in group.providers if provider.source.slug == "samhsa-2015"]
        others = [provider.pk for provider in group.providers if provider is not keeper]
        merge(keeper.pk, others, curator)
        merged += others

    assert len(groups) == 10 and len(merged) == 15
    assert Provider.objects.published().count() == published - 15
    region_ten = Provider.objects.get(source__slug="samhsa-2015", external_id="1643VA22903")
    assert region_ten.website  # SAMHSA's 2015 file has no websites; the locator's record gave one
    sources_left = [
        {provider.source.slug for provider in group.providers} for group in attach_providers(find_duplicates())
    ]
    assert {"samhsa-2015", "findtreatment"} not in sources_left
    old = Provider.objects.get(source__slug="findtreatment", external_id=REGION_TEN)
    response = client.get(old.get_absolute_url())
    assert response.status_code == 301 and response["Location"] == region_ten.get_absolute_url()

    output = run("import_providers", FINDTREATMENT, "--source", "findtreatment")
    output += run("import_providers", virginia, "--source", "samhsa-2015", "--skip-invalid")

    assert "0 created, 0 updated, 41 unchanged" in output
    assert "0 created," in output.split("Detected")[-1]
    assert Provider.objects.published().count() == published - 15
    assert set(Provider.objects.filter(pk__in=merged).values_list("status", flat=True)) == {"archived"}
