"""Write what loadtest/locustfile.py requests, sampled from the current (scratch) database.

``make loadtest`` runs it before starting the server: the locustfile does not import
Django, so the provider slugs, cities, countries and terms it draws from come from this
JSON file (its path is passed to locust in ``LOADTEST_PLAN``).
"""

import json
import math
import random
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count

from devtools.management.commands.bench_search import add_data_arguments, ensure_providers
from providers.models import CareSetting, Modality, Provider, places

# Enough that a run starts with most pages not yet stored (directory.page_cache); small enough to write in a second.
SLUGS = 500
CITIES = 300
CITY_POPULATION = 100_000
# Words of the synthetic listings' names and description (each matches most of them), words that
# match none (the whole table is still read), and, added below, city names.
KEYWORDS = ("counselling", "recovery", "medication", "walk-ins", "assessment", "detox", "alcohol", "methadone")


class Command(BaseCommand):
    help = "Sample provider slugs, cities, countries and terms for the load test (make loadtest)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, required=True, help="The JSON file to write.")
        add_data_arguments(parser)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, output, providers, data, seed, **options):
        if providers is not None:
            ensure_providers(providers, data, self.stdout)
        published = Provider.objects.published()
        total = published.count()
        if not total:
            raise CommandError("No published providers: fill the database first (--providers N).")
        rng = random.Random(seed)
        # Random rows without ORDER BY RANDOM() over the whole table: draw ids, keep the published ones.
        ids = list(published.values_list("pk", flat=True))
        slugs = list(published.filter(pk__in=rng.sample(ids, min(SLUGS, len(ids)))).values_list("slug", flat=True))
        countries = [
            [row["country"], row["n"]]
            for row in published.values("country").annotate(n=Count("pk")).order_by("-n", "country")[:60]
        ]
        in_use = {code for code, _count in countries}
        large = [
            place
            for place in places.gazetteer().places
            if place.population >= CITY_POPULATION and place.country in in_use
        ]
        # People search where people live: cities drawn by population, each once.
        chosen = {}
        while large and len(chosen) < min(CITIES, len(large)):
            place = rng.choices(large, weights=[place.population for place in large])[0]
            chosen[(place.name, place.country)] = place
        cities = [[place.name, round(place.latitude, 4), round(place.longitude, 4)] for place in chosen.values()]
        plan = {
            "database": connection.vendor,
            "providers": total,
            "pages": math.ceil(total / settings.PROVIDERS_PER_PAGE),
            "slugs": slugs,
            "cities": cities,
            "countries": countries,
            "modalities": list(Modality.objects.values_list("slug", flat=True)),
            "settings": list(CareSetting.objects.values_list("slug", flat=True)),
            "keywords": [*KEYWORDS, *(name for name, _lat, _lon in cities[:20])],
            "languages": [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE],
        }
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(plan, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        self.stdout.write(
            f"{output}: {total} providers, {len(slugs)} slugs, {len(cities)} cities, {len(countries)} countries"
        )
