"""python manage.py export_providers --format csv|json|hsds --output PATH [the search page's filters]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from providers.exchange.formats import ours
from providers.exchange.records import iter_export_records
from providers.models import Provider
from providers.search.filters import ProviderFilter

# Filters that take several values on the search page take the option several times here.
_REPEATABLE = {"country", "modality", "setting", "medication", "payment", "population", "language"}


class Command(BaseCommand):
    help = "Export providers as our CSV or JSON, or as an Open Referral HSDS 3.0 data package."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "json", "hsds"], required=True)
        parser.add_argument(
            "--output",
            type=Path,
            required=True,
            help="File to write; for hsds a folder, or a .zip when it ends in .zip.",
        )
        parser.add_argument(
            "--include-unpublished", action="store_true", help="Export drafts and archived listings too."
        )
        for name, filter_ in ProviderFilter.base_filters.items():
            if name in ("sort",):
                continue
            parser.add_argument(
                f"--{name}",
                action="append" if name in _REPEATABLE else "store",
                help=f"{filter_.label} (as on the search page{'; repeatable' if name in _REPEATABLE else ''}).",
            )

    def handle(self, *args, format, output, include_unpublished, **options):
        data = QueryDict(mutable=True)
        for name in ProviderFilter.base_filters:
            value = options.get(name)
            if value is None:
                continue
            data.setlist(name, value if isinstance(value, list) else [value])
        queryset = Provider.objects.all() if include_unpublished else Provider.objects.published()
        providers = ProviderFilter(data, queryset=queryset)
        if not providers.is_valid():
            problems = "; ".join(f"--{name}: {' '.join(errors)}" for name, errors in providers.errors.items())
            raise CommandError(f"Invalid filter: {problems}")
        records = iter_export_records(providers.qs)
        if format == "hsds":
            from providers.exchange.formats import hsds

            count = hsds.write(records, output)
        else:
            if output.is_dir():
                raise CommandError(f"{output} is a folder; give a file name for {format} output.")
            writer = ours.write_csv if format == "csv" else ours.write_json
            with open(output, "w", encoding="utf-8", newline="") as handle:
                count = writer(records, handle)
        self.stdout.write(f"Exported {count} providers to {output}.")
