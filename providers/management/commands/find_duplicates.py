"""python manage.py find_duplicates [--country XX ...] [--source SLUG] [--limit N] [--format text|csv]"""

import argparse
import csv
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from providers.curation.duplicates import SAME_PLACE_METRES, attach_providers, candidates, find_duplicates
from providers.exchange.formats.ours import guard_formula
from providers.models import Source
from providers.models.fields import COUNTRY_CODES

CSV_COLUMNS = (
    "group", "reasons", "id", "slug", "name", "status", "source", "external_id",
    "street_address", "city", "region", "postal_code", "country", "phone", "latitude", "longitude",
)  # fmt: skip


def positive_int(text):
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


class Command(BaseCommand):
    help = (
        "List groups of likely duplicate listings (drafts and published): the same name or the same main phone, "
        f"at the same place (within {SAME_PLACE_METRES} m, or the same street address and postal code)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--country", action="append", default=[], help="ISO 3166-1 code; repeatable.")
        parser.add_argument("--source", default="", help="Only groups with at least one listing from this source.")
        parser.add_argument("--limit", type=positive_int, help="Print at most this many groups.")
        parser.add_argument("--format", choices=["text", "csv"], default="text")

    def handle(self, *args, country, source, limit, format, **options):
        listings = candidates()
        codes = [code.strip().upper() for code in country]
        unknown = [code for code in codes if code not in COUNTRY_CODES]
        if unknown:
            raise CommandError(f"--country {unknown[0]!r} is not an ISO 3166-1 alpha-2 country code.")
        if codes:
            listings = listings.in_countries(codes)
        chosen_source = None
        if source:
            chosen_source = Source.objects.filter(slug=source).first()
            if chosen_source is None:
                known = ", ".join(Source.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
                raise CommandError(f"No source has the slug {source!r}. Known sources: {known}.")
        groups = find_duplicates(listings, source=chosen_source)
        shown = attach_providers(groups[:limit] if limit else groups)
        if format == "csv":
            self._write_csv(shown)
        else:
            self._write_text(groups, shown)

    def _write_text(self, groups, shown):
        listings = sum(len(group.ids) for group in groups)
        by_reason = Counter(reason for group in groups for reason in group.reasons)
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(by_reason.items()))
        self.stdout.write(
            f"{len(groups)} group(s) of likely duplicates, {listings} listings"
            + (f" (groups by reason, a group may have both: {reasons})." if groups else ".")
        )
        if len(shown) < len(groups):
            self.stdout.write(f"Showing the first {len(shown)}.")
        for number, group in enumerate(shown, start=1):
            self.stdout.write(f"\n{number}. {group.reason_text}")
            for provider in group.providers:
                source = provider.source.slug if provider.source else "no source"
                place = ", ".join(provider.address_lines[:-1]) or "no address"
                self.stdout.write(
                    f"   #{provider.pk} {provider.name} | {place} | {provider.phone or 'no phone'} | "
                    f"{source} {provider.external_id} | {provider.status} | {provider.get_absolute_url()}"
                )

    def _write_csv(self, groups):
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for number, group in enumerate(groups, start=1):
            for provider in group.providers:
                values = {
                    "group": number,
                    "reasons": "; ".join(group.reasons),
                    "id": provider.pk,
                    "source": provider.source.slug if provider.source else "",
                    "country": provider.country.code,
                    **{name: getattr(provider, name) for name in CSV_COLUMNS[3:] if name not in ("source", "country")},
                }
                writer.writerow(
                    [
                        guard_formula(value) if isinstance(value, str) else value
                        for value in map(values.get, CSV_COLUMNS)
                    ]
                )
