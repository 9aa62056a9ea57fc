from django.core.management import call_command
from django.core.management.base import BaseCommand

from providers.models import Provider


class Command(BaseCommand):
    help = "Load the taxonomy and the demo providers (fixtures taxonomy and demo_providers)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database already holds providers."
        )

    def handle(self, *args, if_empty, **options):
        if if_empty and Provider.objects.exists():
            self.stdout.write("The database already holds providers; demo data not loaded.")
            return
        call_command("loaddata", "taxonomy", "demo_providers", verbosity=options["verbosity"])
