"""Convert a sample of the 2015 SAMHSA directory into fixtures/demo_providers.json.

Rerunnable: the same input and options always give the same file. Every
record passes the model's validation before it is written, and every taxonomy
slug must exist, so the fixture always loads.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from providers.exchange.formats import samhsa
from providers.models import TAXONOMY_FIELDS, Provider, Source
from providers.models.naming import first_free

DEFAULT_INPUT = settings.BASE_DIR.parent / "shared" / "data" / "samhsa-2015" / "nssats_2015_directory_geocoded.csv"
DEFAULT_OUTPUT = settings.BASE_DIR / "fixtures" / "demo_providers.json"


class Command(BaseCommand):
    help = "Build the demo provider fixture from the SAMHSA 2015 directory CSV."

    def add_arguments(self, parser):
        parser.add_argument("--input", type=Path, default=DEFAULT_INPUT, help="SAMHSA directory CSV.")
        parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
        parser.add_argument(
            "--every", type=int, default=40, help="Keep every Nth row (default 40: about 300 providers)."
        )
        parser.add_argument(
            "--as-of",
            default="2026-11-24T00:00:00Z",
            help="Timestamp written as created/updated (the conversion date).",
        )

    def handle(self, *args, input, output, every, as_of, **options):
        if every < 1:
            raise CommandError("--every must be 1 or more.")
        if not input.is_file():
            raise CommandError(f"No SAMHSA directory at {input}.")
        known_terms = self._known_terms()
        source_entry = self._source_entry()
        # Unsaved: the command writes the fixture, never the database.
        self.source = Source(**source_entry["fields"])
        entries = [source_entry]
        slugs: set[str] = set()
        unmapped: dict[str, int] = {}
        for record in samhsa.read(input):
            if (record.number - 1) % every:
                continue
            for code in record.unmapped:
                unmapped[code] = unmapped.get(code, 0) + 1
            entries.append(self._provider_entry(record, known_terms, slugs, as_of))
        output.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        self.stdout.write(f"Wrote {len(entries) - 1} providers to {output}.")
        if unmapped:
            listed = ", ".join(f"{code} ×{count}" for code, count in sorted(unmapped.items()))
            self.stdout.write(f"Codes with no mapping (not imported): {listed}")

    def _known_terms(self):
        known = {}
        for field in TAXONOMY_FIELDS.values():
            model = Provider._meta.get_field(field).related_model
            known[field] = set(model.objects.values_list("slug", flat=True))
        return known

    def _source_entry(self):
        return {
            "model": "providers.source",
            "fields": {
                "slug": samhsa.SOURCE_SLUG,
                "name": samhsa.SOURCE_NAME,
                "url": samhsa.SOURCE_URL,
                "description": samhsa.SOURCE_DESCRIPTION,
            },
        }

    def _provider_entry(self, record, known_terms, slugs, as_of):
        fields = record.values
        provider = Provider(
            **fields, status=Provider.Status.PUBLISHED, source=self.source, external_id=record.external_id
        )
        try:
            provider.full_clean(exclude=["slug"], validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise CommandError(
                f"record {record.number} (external id {record.external_id}): {error.message_dict}"
            ) from None
        for field, values in record.terms.items():
            missing = set(values) - known_terms[field]
            if missing:
                raise CommandError(
                    f"record {record.number}: unknown {field} terms {sorted(missing)}; run migrate first."
                )
        slug = first_free(Provider.slug_base(f"{fields['name']} {fields['city']}"), slugs)
        data = {name: getattr(provider, name) for name in fields}
        data["country"] = provider.country.code
        data.update(
            slug=slug,
            status=provider.status,
            source=[samhsa.SOURCE_SLUG],
            external_id=record.external_id,
            created_at=as_of,
            updated_at=as_of,
        )
        for field in TAXONOMY_FIELDS.values():
            data[field] = [[slug] for slug in record.terms.get(field, [])]
        return {"model": "providers.provider", "fields": data}
