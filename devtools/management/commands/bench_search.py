"""Benchmark the public search: server time per request over N synthetic providers.

A benchmark, not a test: ``make bench`` (every size, both databases) and ``make bench-search``
(one size) run it on scratch databases.
Providers are spread around real cities, weighted by population, so a search
near a city finds as many listings as it would in a large directory.
"""

import json
import random
import statistics
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.db.models import Count
from django.http import QueryDict
from django.test import Client
from django.test.utils import override_settings

from devtools.management.commands.bench_import import TERMS
from providers import caching
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import TERM_FIELDS, Record
from providers.models import Provider, places
from providers.models.fields import COUNTRY_CODES
from providers.search.filters import ProviderFilter

BENCH_SOURCE = "benchmark-search"


def synthetic_records(count, seed=2026):
    """Providers scattered within about 30 km of cities drawn by population."""
    rng = random.Random(seed)
    # GeoNames has places in Kosovo (XK), which ISO 3166-1 and so our country field do not list.
    cities = [
        place for place in places.gazetteer().places if place.population >= 50_000 and place.country in COUNTRY_CODES
    ]
    weights = [place.population for place in cities]
    for number, city in enumerate(rng.choices(cities, weights=weights, k=count), start=1):
        yield Record(
            number=number,
            external_id=f"S-{number:07d}",
            source=BENCH_SOURCE,
            values={
                "name": f"{city.name} Recovery Service {number}",
                "description": "Assessment, medication and counselling; walk-ins on weekdays.",
                "country": city.country,
                "city": city.name,
                "latitude": round(max(-90, min(90, city.latitude + rng.gauss(0, 0.15))), 6),
                "longitude": round((city.longitude + rng.gauss(0, 0.15) + 180) % 360 - 180, 6),
                "time_zone": city.time_zone,
            },
            terms={field: rng.sample(TERMS[field], rng.randint(0, 2)) for field in TERM_FIELDS},
        )


def ensure_synthetic_providers(count, stdout):
    """Leave exactly ``count`` synthetic providers in a scratch database, generating them if needed."""
    if Provider.objects.exclude(source__slug=BENCH_SOURCE).exists():
        raise CommandError("The database holds other listings; run the benchmark on a scratch database.")
    if Provider.objects.filter(source__slug=BENCH_SOURCE).count() == count:
        return
    Provider.objects.filter(source__slug=BENCH_SOURCE).delete()
    stdout.write(f"Generating {count} providers...")
    started = time.perf_counter()
    report = import_records(synthetic_records(count), ImportOptions(file_name="synthetic", format="bench"))
    if not report.written:
        raise CommandError("The synthetic providers did not import: " + "; ".join(report.error_lines[:3]))
    stdout.write(f"  done in {time.perf_counter() - started:.1f} s")


# Scenarios served from the page cache (directory.page_cache), after a first request stored them;
# all others are measured with it off. The stored provider pages are drawn from this many.
STORED_PAGE_SCENARIOS = ("provider page, stored", "search, stored")
STORED_PAGES = 20
MATCHES_SAMPLED = 20


def bench_scenarios(rng):
    """{scenario: a function giving the next URL}: the matrix of what people and partners ask for.

    Every filter alone, two combinations, a keyword, near a place, a deep page, the API and a
    provider page; the values are drawn at random, from what the synthetic data holds.
    """
    cities = [place for place in places.gazetteer().places if place.population >= 500_000]
    published = Provider.objects.published()
    countries = [code for code, _count in published.values_list("country").annotate(n=Count("pk")).order_by("-n")[:40]]
    slugs = list(published.order_by("?").values_list("slug", flat=True)[:1000])
    pages = max(1, published.count() // settings.PROVIDERS_PER_PAGE)

    def term(field):
        return rng.choice(TERMS[field])

    def near_coordinates():
        city = rng.choice(cities)
        return f"near={city.latitude:.4f},{city.longitude:.4f}&radius=50"

    search = "/providers/?"
    return {
        "no filter": lambda: search + f"page={rng.randint(1, 5)}",
        "country": lambda: search + "country=" + rng.choice(countries),
        "modality": lambda: search + "modality=" + term("modalities"),
        "setting": lambda: search + "setting=" + term("care_settings"),
        "medication": lambda: search + "medication=" + term("medications"),
        "payment": lambda: search + "payment=" + term("payment_options"),
        "population": lambda: search + "population=" + term("populations"),
        "language": lambda: search + "language=" + term("languages"),
        "country + modality + setting": lambda: (
            search + f"country={rng.choice(countries)}&modality={term('modalities')}&setting={term('care_settings')}"
        ),
        "modality + payment + population": lambda: (
            search + f"modality={term('modalities')}&payment={term('payment_options')}&population={term('populations')}"
        ),
        "keyword (a city)": lambda: search + "q=" + rng.choice(cities).name,
        "near 50 km (lat,lon)": lambda: search + near_coordinates(),
        "near 50 km (city name)": lambda: search + f"near={rng.choice(cities).name}&radius=50",
        "near 50 km + modality": lambda: search + near_coordinates() + "&modality=" + term("modalities"),
        "deep page": lambda: search + f"page={rng.randint(max(1, pages // 2), pages)}",
        "provider page": lambda: f"/providers/{rng.choice(slugs)}/",
        "API list": lambda: f"/api/v1/providers/?page={rng.randint(1, 5)}",
        "API list, modality": lambda: "/api/v1/providers/?modality=" + term("modalities"),
        "API list, near 50 km": lambda: "/api/v1/providers/?" + near_coordinates(),
        "provider page, stored": lambda: f"/providers/{rng.choice(slugs[:STORED_PAGES])}/",
        "search, stored": lambda: search + "modality=" + term("modalities"),
    }


def percentile(timings, share):
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Measure search and API server time (p50/p95, queries per request) over N synthetic providers."

    def add_arguments(self, parser):
        parser.add_argument("--providers", type=int, default=100_000)
        parser.add_argument("--requests", type=int, default=200, help="Requests per scenario.")
        parser.add_argument("--output", type=Path, help="Also write the results as JSON here.")
        parser.add_argument(
            "--choice-counts",
            choices=["kept", "cold", "off"],
            default="kept",
            help="The counts beside the search choices (issue 19): kept as the site keeps them (default); cold, "
            "counted afresh on every request (the listings changed before each); off, not shown (before issue 19).",
        )
        parser.add_argument("--only", action="append", help="Measure only this scenario (repeatable).")

    def handle(self, *args, providers, requests, output, choice_counts, only, **options):
        ensure_synthetic_providers(providers, self.stdout)
        scenarios = bench_scenarios(random.Random(7))
        if only:
            scenarios = {name: make_query for name, make_query in scenarios.items() if name in only}
        results = {
            "database": connection.vendor,
            "providers": providers,
            "requests": requests,
            "choice_counts": choice_counts,
            "scenarios": {},
        }
        client = Client(HTTP_HOST="localhost")
        with ExitStack() as stack:
            if choice_counts == "off":
                stack.enter_context(mock.patch("providers.views.choice_counts", lambda filterset: {}))
            self._measure(scenarios, client, requests, choice_counts, results)
        if output:
            output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    def _measure(self, scenarios, client, requests, choice_counts, results):
        for name, make_query in scenarios.items():
            stored = name in STORED_PAGE_SCENARIOS
            client.get(make_query())  # warm the gazetteer and caches
            timings, queries, found = [], [], []
            # The matrix measures the work behind a page; the "stored" rows what serving a stored copy costs.
            with override_settings(DEBUG=True, PAGE_CACHE_SECONDS=settings.PAGE_CACHE_SECONDS if stored else 0):
                for _ in range(requests):
                    url = make_query()
                    if choice_counts == "cold":
                        caching.forget(caching.PAGES)  # a new data version: every tally is counted again
                    reset_queries()
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                    queries.append(len(connection.queries))
                    # A search or an API list: how many it matched, outside the timing (an exact count, so
                    # only for the first requests: at a million listings it takes longer than the page).
                    if "?" in url and len(found) < MATCHES_SAMPLED:
                        found.append(ProviderFilter(QueryDict(urlsplit(url).query)).qs.count())
                    if response.status_code != 200:
                        raise CommandError(f"{name}: status {response.status_code}")
            results["scenarios"][name] = {
                "mean_results": round(statistics.mean(found), 1) if found else None,
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(percentile(timings, 0.95), 1),
                "queries": max(queries),
            }
            row = results["scenarios"][name]
            matched = "" if row["mean_results"] is None else f"   results {row['mean_results']:.0f} on average"
            self.stdout.write(
                f"{name:32} p50 {row['p50_ms']:6.1f} ms   p95 {row['p95_ms']:6.1f} ms   "
                f"queries {row['queries']}{matched}"
            )
