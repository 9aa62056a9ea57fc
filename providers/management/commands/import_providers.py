"""python manage.py import_providers PATH [--format ...] [--mapping MAPPING.json] [--source SLUG] [--country XX]
[--dry-run] [--skip-invalid] [--strict] [--missing flag|archive] [--partial]"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from providers.exchange.feeds import is_url, pull_records
from providers.exchange.formats import FORMATS, read_file
from providers.exchange.formats.mapped import load_mapping
from providers.exchange.importer import MISSING_ARCHIVE, MISSING_FLAG, ImportOptions, import_records
from providers.exchange.records import ImportFileError
from providers.exchange.report import describe_report
from providers.models import Provider
from providers.models.fields import COUNTRY_CODES


class Command(BaseCommand):
    help = "Import provider listings from a partner file: validate every record, then write all of them or none."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="File, folder (HSDS data package) or .zip to import, or a feed's URL (a file or an HSDS API)."
        )
        parser.add_argument("--format", choices=sorted(FORMATS), help="The file's format; detected when omitted.")
        parser.add_argument(
            "--mapping",
            type=Path,
            help="A mapping (JSON) that reads a partner's own export; by default the source's saved mapping, if any.",
        )
        parser.add_argument(
            "--source", default="", help="Source slug for every record (required when the format names none)."
        )
        parser.add_argument("--country", default="", help="ISO 3166-1 code for records that carry no country.")
        parser.add_argument(
            "--status",
            choices=[status.value for status in Provider.Status],
            default="",
            help="Status for every imported record (default: the file's, else published).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and show what would change; write nothing."
        )
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Write the valid records and list the rejected ones."
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Reject a record for any invalid value; by default an invalid optional value (a second phone, "
            "an e-mail, a website) is set aside with a warning and the record imported.",
        )
        parser.add_argument(
            "--missing",
            choices=[MISSING_FLAG, MISSING_ARCHIVE],
            default=MISSING_FLAG,
            help="What happens to the source's listings this file does not hold: flagged for curators (default), "
            "or archived.",
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="The file holds only some of the source's listings: none counts as missing.",
        )

    def handle(
        self,
        *args,
        path,
        format,
        mapping,
        source,
        country,
        status,
        dry_run,
        skip_invalid,
        strict,
        missing,
        partial,
        **_,
    ):
        country = country.strip().upper()
        if country and country not in COUNTRY_CODES:
            raise CommandError(f"--country {country!r} is not an ISO 3166-1 alpha-2 country code.")
        try:
            mapping_read = load_mapping(mapping) if mapping else None
            if is_url(path):
                if format:
                    raise CommandError("--format is for files: a feed's format is told from what it sends.")
                if not source:
                    raise CommandError("A feed's listings need a source: give one with --source.")
                pulled = pull_records(path, source, mapping=mapping_read)
                format_name, records = pulled.format, pulled.records
                self.stdout.write(f"Pulled {len(records)} record(s) from {path} ({FORMATS[format_name].label}).")
            else:
                chosen, records = read_file(Path(path), format, source, mapping_read)
                format_name = chosen.name
                if not format and chosen.name != "mapped":
                    self.stdout.write(f"Detected format: {chosen.name} ({chosen.label}).")
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        if format_name == "mapped":
            self.stdout.write(f"Read through {mapping.name if mapping else f'the mapping saved on {source}'}.")
            if records.left_out:
                self.stdout.write(f"Left out {records.left_out} record(s) without the terms the mapping requires.")
        report = import_records(
            records,
            ImportOptions(
                source=source,
                country=country,
                status=status,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                strict=strict,
                missing=missing,
                partial=partial,
                file_name=Path(path).name if not is_url(path) else path[:255],
                format=format_name,
                parallel=True,
            ),
            progress=self._progress(len(records)),
        )
        for line in describe_report(report, dry_run=dry_run):
            self.stdout.write(line)
        if report.rejected and not skip_invalid:
            raise CommandError(
                f"{len(report.rejected)} invalid record(s); nothing was written. "
                "Fix them, or use --skip-invalid to import the others.",
                returncode=1,
            )

    def _progress(self, total):
        """A bar on a terminal; on a pipe or log, a line at every tenth of the way."""
        interactive = self.stdout.isatty()
        step = max(total // 10, 1)

        def report(done):
            if interactive:
                filled = int(30 * done / total)
                self.stdout.write(f"\rValidating [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", ending="")
                if done == total:
                    self.stdout.write("")
            elif done % step == 0 or done == total:
                self.stdout.write(f"Validated {done} of {total} records.")
            sys.stdout.flush()

        return report
