"""Build fixtures/demo_providers.json from three real public data sets, in two countries.

- SAMHSA's 2015 US directory: every 40th row, about 300 listings.
- The FindTreatment.gov sample: all 41 Virginia facilities (it has the counselling, peer
  support and holistic terms the SAMHSA file lacks).
- England's NHS pharmacies that offer treatment, read through the shipped mapping
  (fixtures/mappings/nhs-england-pharmacies.json, saved on their source so the demo shows one):
  every 5th of the 450, and every one in Leeds, so that a search near Leeds finds help.
  They come with opening hours.

Each data set is a ``DemoSource``: its Source row and the records sampled from it; the
rest of the command treats them all alike. Rerunnable: the same input and options always
give the same file. Every record passes the model's validation before it is written,
and every taxonomy slug must exist, so the fixture always loads.

Opening hours, like every row of the fixture, are identified by natural keys (the
listing's slug, the day and the opening time), so loading the fixture twice updates the
same rows, and loading it beside other listings touches none of theirs.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from providers.exchange.formats import findtreatment, mapped, samhsa
from providers.exchange.records import Record
from providers.models import HOURS_FIELDS, TAXONOMY_FIELDS, OpeningInterval, Provider, Source, places
from providers.models.naming import first_free

DATA = settings.BASE_DIR.parent / "shared" / "data"
DEFAULT_INPUT = DATA / "samhsa-2015" / "nssats_2015_directory_geocoded.csv"
DEFAULT_FINDTREATMENT = DATA / "findtreatment-sample" / "facilities.json"
DEFAULT_NHS = DATA / "nhs-england-2014"
NHS_MAPPING = settings.BASE_DIR / "fixtures" / "mappings" / "nhs-england-pharmacies.json"
DEFAULT_OUTPUT = settings.BASE_DIR / "fixtures" / "demo_providers.json"

FINDTREATMENT_SOURCE = {
    "slug": "findtreatment-sample",
    "name": "FindTreatment.gov locator sample (Virginia)",
    "url": "https://findtreatment.gov/",
    "description": (
        "41 real facilities (Virginia) exactly as the FindTreatment.gov locator API returns them "
        "(SAMHSA/CBHSQ findtreatment front end, src/utils/_DATA.js at commits 1154296c and ef16338e, "
        "de-duplicated on frid). US Government work, public domain + CC0."
    ),
}
NHS_SOURCE = {
    "slug": "nhs-england-2014",
    "name": "NHS Choices pharmacies, England, 2014",
    "url": "https://github.com/JeniT/nhs-choices",
    "description": (
        "Contains public sector information licensed under the Open Government Licence v2.0 "
        "(https://www.nationalarchives.gov.uk/doc/open-government-licence/version/2/). Source: NHS Choices, "
        "the public NHS directory, in its open data files as mirrored in JeniT/nhs-choices (folder sources/, "
        "commit 4e5ac5ca). A 2014 snapshot: these listings are unverified. Pharmacies offering supervised "
        "consumption of opioid substitution medicines, needle and syringe exchange, or alcohol intervention."
    ),
}
# Every pharmacy here is kept whatever the sampling: the demo's search "near Leeds" must find help.
NHS_ALWAYS_CITY = "leeds"
NHS_ALWAYS_POSTCODE_AREA = "LS"


@dataclass
class DemoSource:
    """One data set of the demo: its Source row and the records sampled from it, in order."""

    slug: str
    name: str
    url: str
    description: str
    records: list[Record]
    mapping: dict = field(default_factory=dict)

    def entry(self) -> dict:
        fields = {"slug": self.slug, "name": self.name, "url": self.url, "description": self.description}
        if self.mapping:
            fields["mapping"] = self.mapping
        return {"model": "providers.source", "fields": fields}


def samhsa_sample(path: Path, every: int) -> DemoSource:
    records = [record for record in samhsa.read(path) if (record.number - 1) % every == 0]
    return DemoSource(samhsa.SOURCE_SLUG, samhsa.SOURCE_NAME, samhsa.SOURCE_URL, samhsa.SOURCE_DESCRIPTION, records)


def findtreatment_sample(path: Path) -> DemoSource:
    return DemoSource(**FINDTREATMENT_SOURCE, records=findtreatment.read(path))


def nhs_sample(folder: Path, every: int) -> DemoSource:
    mapping = mapped.load_mapping(NHS_MAPPING)
    records = mapped.read(folder / mapping.file, mapping)
    kept = [record for index, record in enumerate(records) if index % every == 0 or _in_leeds(record)]
    return DemoSource(**NHS_SOURCE, records=kept, mapping=mapping.document)


def _in_leeds(record: Record) -> bool:
    city = record.values.get("city", "").casefold()
    return city == NHS_ALWAYS_CITY or record.values.get("postal_code", "").upper().startswith(NHS_ALWAYS_POSTCODE_AREA)


class Command(BaseCommand):
    help = "Build the demo provider fixture from the SAMHSA 2015 directory, FindTreatment.gov and NHS England samples."

    def add_arguments(self, parser):
        parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="SAMHSA directory CSV.")
        parser.add_argument("--findtreatment", type=Path, default=DEFAULT_FINDTREATMENT, help="FindTreatment JSON.")
        parser.add_argument("--nhs", type=Path, default=DEFAULT_NHS, help="Folder of the NHS England 2014 files.")
        parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
        parser.add_argument(
            "--every", type=int, default=40, help="Keep every Nth SAMHSA row (default 40: about 300 providers)."
        )
        parser.add_argument(
            "--nhs-every",
            type=int,
            default=5,
            help="Keep every Nth NHS pharmacy offering treatment (default 5: about 100 with Leeds's).",
        )
        parser.add_argument(
            "--as-of",
            default="2026-11-24T00:00:00Z",
            help="Timestamp written as created/updated (the conversion date).",
        )

    def handle(self, *args, input, findtreatment, nhs, output, every, nhs_every, as_of, **options):
        if every < 1 or nhs_every < 1:
            raise CommandError("--every and --nhs-every must be 1 or more.")
        for path, what in ((input, "SAMHSA directory"), (findtreatment, "FindTreatment.gov sample")):
            if not path.is_file():
                raise CommandError(f"No {what} at {path}.")
        if not nhs.is_dir():
            raise CommandError(f"No NHS England folder at {nhs}.")
        sources = [samhsa_sample(input, every), findtreatment_sample(findtreatment), nhs_sample(nhs, nhs_every)]
        known_terms = self._known_terms()
        entries, slugs = [], set()
        for demo in sources:
            # Unsaved: the command writes the fixture, never the database.
            source = Source(slug=demo.slug)
            entries.append(demo.entry())
            unmapped: dict[str, int] = {}
            for record in demo.records:
                for value in record.unmapped:
                    unmapped[value] = unmapped.get(value, 0) + 1
                entries += self._provider_entries(demo, source, record, known_terms, slugs, as_of)
            self.stdout.write(f"{demo.slug}: {len(demo.records)} providers.")
            if unmapped:
                listed = ", ".join(f"{value} ×{count}" for value, count in sorted(unmapped.items()))
                self.stdout.write(f"  Values with no mapping (not imported): {listed}")
        output.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        self.stdout.write(f"Wrote {sum(len(demo.records) for demo in sources)} providers to {output}.")

    def _known_terms(self):
        known = {}
        for name in TAXONOMY_FIELDS.values():
            model = Provider._meta.get_field(name).related_model
            known[name] = set(model.objects.values_list("slug", flat=True))
        return known

    def _provider_entries(self, demo, source, record, known_terms, slugs, as_of):
        """The provider's fixture entry, then one per opening interval; CommandError if the model refuses any."""
        where = f"{demo.slug} record {record.number} (external id {record.external_id})"
        if record.errors:
            raise CommandError(f"{where}: {record.errors}")
        fields = dict(record.values)
        has_hours = record.opening_hours or record.walk_in_hours
        if has_hours and not fields.get("time_zone") and fields.get("latitude") is not None:
            # Hours mean nothing without a zone; the importer derives it the same way.
            fields["time_zone"] = places.time_zone_at(fields["latitude"], fields["longitude"])
        provider = Provider(**fields, status=Provider.Status.PUBLISHED, source=source, external_id=record.external_id)
        try:
            provider.full_clean(exclude=["slug"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise CommandError(f"{where}: {error.message_dict}") from None
        for name, values in record.terms.items():
            missing = set(values) - known_terms[name]
            if missing:
                raise CommandError(f"{where}: unknown {name} terms {sorted(missing)}; run migrate first.")
        slug = first_free(Provider.slug_base(f"{fields['name']} {fields.get('city', '')}"), slugs)
        data = {name: getattr(provider, name) for name in fields}
        data["country"] = provider.country.code
        data.update(
            slug=slug,
            status=provider.status,
            source=[demo.slug],
            external_id=record.external_id,
            created_at=as_of,
            updated_at=as_of,
        )
        for name in TAXONOMY_FIELDS.values():
            data[name] = [[term] for term in record.terms.get(name, [])]
        entries = [{"model": "providers.provider", "fields": data}]
        starts = set()
        for name, walk_in in HOURS_FIELDS.items():
            for weekday, opens, closes in getattr(record, name) or []:
                interval = OpeningInterval(walk_in=walk_in, weekday=weekday, opens=opens, closes=closes)
                try:
                    interval.full_clean(exclude=["provider"], validate_unique=False, validate_constraints=False)
                except ValidationError as error:
                    raise CommandError(f"{where}: {name} {weekday} {opens}-{closes}: {error.message_dict}") from None
                if (walk_in, weekday, interval.opens) in starts:
                    raise CommandError(f"{where}: two {name} intervals start on day {weekday} at {opens}.")
                starts.add((walk_in, weekday, interval.opens))
                entries.append(
                    {
                        "model": "providers.openinginterval",
                        "fields": {
                            "provider": [slug],
                            "walk_in": walk_in,
                            "weekday": interval.weekday,
                            "opens": interval.opens.isoformat(),
                            "closes": interval.closes.isoformat(),
                        },
                    }
                )
        return entries
