from django.core.management.base import BaseCommand

from providers.caching import listings_changed
from providers.models import Provider


class Command(BaseCommand):
    help = (
        "Report listings whose indexed text (the words keyword search reads, the tokens term filters read) "
        "differs from their fields and terms; with --repair, derive it again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Rewrite the indexed text of the listings found.")

    def handle(self, *args, repair, **options):
        drifted = Provider.objects.with_drifted_indexed_text()
        if not drifted:
            self.stdout.write("Every listing's indexed text matches its fields and terms.")
            return
        shown = ", ".join(str(pk) for pk in drifted[:20]) + (" ..." if len(drifted) > 20 else "")
        self.stdout.write(f"{len(drifted)} listing(s) with indexed text out of step: {shown}")
        if repair:
            Provider.objects.filter(pk__in=drifted).refresh_indexed_text()
            listings_changed()
            self.stdout.write(f"Repaired {len(drifted)} listing(s).")
        else:
            self.stdout.write("Run again with --repair to derive it again.")
