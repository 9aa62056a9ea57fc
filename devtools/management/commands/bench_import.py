"""Benchmark the partner import: validated rows per second for our CSV, and the SAMHSA directory.

A benchmark, not a test: ``make bench-import`` runs it on a scratch database,
since it writes and deletes thousands of listings.
"""

import csv
import json
import random
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import phonenumbers
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from providers.exchange.formats import ours, read_file
from providers.exchange.formats import samhsa as samhsa_module
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import iter_export_records
from providers.models import ImportRun, Provider, Source

BENCH_SOURCE = "benchmark-partner"
COUNTRIES = ["US", "CA", "GB", "KE", "NG", "IN", "BR", "MX", "FR", "DE", "ZA", "AU", "PH", "EG", "UA"]
WORDS = ["Hope", "Harbour", "Bridge", "New Day", "Recovery", "Lakeside", "Community", "Family", "Unity", "Sunrise"]
KINDS = ["Clinic", "Centre", "Health Service", "Treatment Program", "Wellness House"]
TERMS = {
    "modalities": ["mat", "counseling", "peer-support", "faith-based", "holistic"],
    "care_settings": ["inpatient", "outpatient", "aftercare"],
    "entry_routes": ["walk-in", "appointment", "referral"],
    "medications": ["methadone", "buprenorphine", "naltrexone"],
    "payment_options": ["free", "sliding-scale", "public-insurance", "private-insurance", "self-pay"],
    "populations": ["adolescents", "adults", "women", "men", "veterans", "lgbtq"],
    "languages": ["en", "es", "fr", "pt", "ar", "sw"],
}
DEFAULT_SAMHSA = settings.BASE_DIR.parent / "shared" / "data" / "samhsa-2015" / "nssats_2015_directory_geocoded.csv"


def synthetic_rows(count, seed=2015):
    """Rows of our CSV as a partner would send them: many countries, valid phones, every taxonomy."""
    rng = random.Random(seed)
    # Each country's example number with its last four digits varied, so no two listings share a phone.
    phones = {
        code: phonenumbers.format_number(phonenumbers.example_number(code), phonenumbers.PhoneNumberFormat.E164)[:-4]
        for code in COUNTRIES
    }
    for number in range(1, count + 1):
        country = rng.choice(COUNTRIES)
        yield {
            "source": BENCH_SOURCE,
            "external_id": f"B-{number:07d}",
            "name": f"{rng.choice(WORDS)} {rng.choice(KINDS)} {number}",
            "description": "Walk-in assessments on weekdays; call ahead for detoxification places.",
            "country": country,
            "region": f"Region {rng.randint(1, 40)}",
            "city": f"City {rng.randint(1, 500)}",
            "street_address": f"{rng.randint(1, 999)} Main Street",
            "postal_code": str(rng.randint(10000, 99999)),
            "latitude": str(round(rng.uniform(-60, 70), 6)),
            "longitude": str(round(rng.uniform(-180, 180), 6)),
            "phone": f"{phones[country]}{number % 10000:04d}",
            "email": f"intake{number}@example.org",
            "website": f"https://provider{number}.example.org/",
            "telehealth": rng.choice(["yes", "no", ""]),
            "last_verified": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            **{field: ";".join(rng.sample(terms, rng.randint(0, 3))) for field, terms in TERMS.items()},
        }


def samhsa_shaped_rows(directory, count):
    """``count`` rows of the SAMHSA 2015 directory: its real rows, repeated under new identifiers as needed.

    Real rows carry real skew (most listings share a few care settings, few hold a rare term) and
    real faults (impossible phone numbers), which a synthetic file would not.
    """
    with open(directory, encoding="utf-8", newline="") as handle:
        real = list(csv.DictReader(handle))
    for number in range(count):
        row = real[number % len(real)]
        copy = number // len(real)
        yield row if copy == 0 else {**row, "ID": f"{row['ID']}-{copy}"}


def write_rows(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=ours.COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)


class Command(BaseCommand):
    help = "Measure import speed (validated rows per second) on the configured database."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=20000)
        parser.add_argument("--repeat", type=int, default=3, help="Runs per measurement; the median is reported.")
        parser.add_argument("--samhsa", type=Path, default=DEFAULT_SAMHSA, help="The SAMHSA 2015 directory CSV.")
        parser.add_argument("--output", type=Path, help="Also write the results as JSON here.")
        parser.add_argument(
            "--samhsa-rows",
            type=int,
            default=100000,
            help="Rows of the SAMHSA-shaped file imported into an empty directory, then again unchanged.",
        )
        parser.add_argument(
            "--only",
            choices=["samhsa-shaped"],
            help="Measure only this; the other measurements take minutes, which slows trying a change.",
        )

    def handle(self, *args, rows, repeat, samhsa, output, samhsa_rows, only, **options):
        if Provider.objects.exclude(source__slug__in=[BENCH_SOURCE, samhsa_module.SOURCE_SLUG]).exists():
            raise CommandError("The database holds other listings; run the benchmark on a scratch database.")
        self._clear()
        results = {"database": connection.vendor, "runs": repeat}
        if only == "samhsa-shaped":
            if not samhsa.exists():
                raise CommandError(f"{samhsa} does not exist.")
            results.update(self._samhsa_shaped(samhsa, samhsa_rows, repeat))
        else:
            results.update(self._all(rows, repeat, samhsa, samhsa_rows))
        self._clear()
        for name, value in results.items():
            self.stdout.write(f"{name:35} {value}")
        if output:
            output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    def _all(self, rows, repeat, samhsa, samhsa_rows):
        results = {"rows": rows}
        with TemporaryDirectory() as folder:
            path = Path(folder) / "bench.csv"
            write_rows(path, synthetic_rows(rows))
            results["csv_validate_s"] = self._median(repeat, lambda: self._import("csv", path, dry_run=True))
            results["csv_import_s"] = self._median(repeat, lambda: self._import("csv", path), before=self._clear)
            results["csv_reimport_s"] = self._median(repeat, lambda: self._import("csv", path))
        results["csv_validated_rows_per_s"] = round(rows / results["csv_validate_s"])
        results["csv_imported_rows_per_s"] = round(rows / results["csv_import_s"])
        if samhsa.exists():
            results["samhsa_rows"] = len(samhsa_module.read(samhsa))
            results["samhsa_import_s"] = self._median(
                repeat,
                lambda: self._import("samhsa", samhsa, source=samhsa_module.SOURCE_SLUG),
                before=self._clear,
            )
            # The same real listings as a partner would send them in our CSV: what a typical file costs.
            with TemporaryDirectory() as folder:
                path = Path(folder) / "samhsa-ours.csv"
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    ours.write_csv(iter_export_records(Provider.objects.all()), handle)
                self._clear()
                results["samhsa_csv_validate_s"] = self._median(repeat, lambda: self._import("csv", path, dry_run=True))
            results["samhsa_csv_validated_rows_per_s"] = round(
                results["samhsa_rows"] / results["samhsa_csv_validate_s"]
            )
            results.update(self._samhsa_shaped(samhsa, samhsa_rows, repeat))
        return results

    def _samhsa_shaped(self, samhsa, count, repeat):
        """A large SAMHSA-shaped file end to end (read, validate, write, history, indexes) as
        ``import_providers`` runs it: into an empty directory, then again unchanged."""
        results = {"samhsa_shaped_rows": count}
        with TemporaryDirectory() as folder:
            path = Path(folder) / "samhsa-shaped.csv"
            with open(samhsa, encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle))
            with open(path, "w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=header)
                writer.writeheader()
                writer.writerows(samhsa_shaped_rows(samhsa, count))
            first = lambda: self._import("samhsa", path, source=samhsa_module.SOURCE_SLUG, parallel=True)  # noqa: E731
            results["samhsa_shaped_import_s"] = self._median(repeat, first, before=self._clear)
            results["samhsa_shaped_reimport_s"] = self._median(repeat, first)
        results["samhsa_shaped_imported_rows_per_s"] = round(count / results["samhsa_shaped_import_s"])
        results["samhsa_shaped_reimported_rows_per_s"] = round(count / results["samhsa_shaped_reimport_s"])
        return results

    def _import(self, format_name, path, dry_run=False, source="", parallel=False):
        """Read, validate and (unless a dry run) write one file, as the command does."""
        _format, records = read_file(path, format_name, source)
        report = import_records(
            records,
            ImportOptions(
                source=source,
                dry_run=dry_run,
                skip_invalid=True,
                file_name=path.name,
                format="bench",
                parallel=parallel,
            ),
        )
        if report.rejected and len(report.rejected) > 5:
            raise CommandError(f"{len(report.rejected)} benchmark records were rejected: {report.error_lines[:3]}")

    def _median(self, repeat, measure, before=None):
        timings = []
        for _ in range(repeat):
            if before:
                before()
            started = time.perf_counter()
            measure()
            timings.append(time.perf_counter() - started)
        return round(statistics.median(timings), 3)

    def _clear(self):
        Provider.objects.filter(source__slug__in=[BENCH_SOURCE, samhsa_module.SOURCE_SLUG]).delete()
        # Each run starts from the same empty history, as it does from an empty directory.
        Provider.history.filter(source__slug__in=[BENCH_SOURCE, samhsa_module.SOURCE_SLUG]).delete()
        ImportRun.objects.filter(format="bench").delete()
        Source.objects.filter(slug__in=[BENCH_SOURCE, samhsa_module.SOURCE_SLUG], providers__isnull=True).delete()
        if connection.vendor == "postgresql":
            # The deleted rows' dead versions would otherwise stay in the tables and their indexes, and
            # slow the next import into "an empty directory" (docs/PERFORMANCE.md).
            with connection.cursor() as cursor:
                cursor.execute("VACUUM")
