"""Benchmark the public search: server time per request over N providers shaped like real ones.

A benchmark, not a test: ``make bench`` (every size, both databases) and ``make bench-search``
(one size) run it on scratch databases.

Two data shapes. **real** (the default): the real rows of SAMHSA 2015, FindTreatment.gov's
sample and England's pharmacies, as their readers give them, then repeated, each copy moved to
a city drawn by population and renamed after another real listing: the terms keep their real
skew (outpatient on most listings, several terms on none), names their real words ("recovery",
"treatment", "center"), and places their real crowding. **synthetic**: providers spread around
real cities, every term on a large share of them, names carrying their city.
"""

import dataclasses
import json
import random
import re
import statistics
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import phonenumbers
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries
from django.db.models import Count
from django.http import QueryDict
from django.test import Client
from django.test.utils import override_settings

from devtools.management.commands.bench_import import TERMS
from devtools.management.commands.build_demo_fixture import (
    DEFAULT_FINDTREATMENT,
    DEFAULT_INPUT,
    DEFAULT_NHS,
    findtreatment_sample,
    nhs_sample,
    samhsa_sample,
)
from providers import caching
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import TERM_FIELDS, Record
from providers.models import TAXONOMY_FIELDS, Provider, Source, places
from providers.models.fields import COUNTRY_CODES
from providers.models.provider import PHONE_FIELDS
from providers.search.choice_counts import fill_one_value_tallies
from providers.search.filters import ProviderFilter

BENCH_SOURCES = {"real": "benchmark-real-shaped", "synthetic": "benchmark-search"}


def real_records():
    """Every row of the three real data sets, as their readers give them."""
    for demo in (
        samhsa_sample(DEFAULT_INPUT, 1),
        findtreatment_sample(DEFAULT_FINDTREATMENT),
        nhs_sample(DEFAULT_NHS, 1),
    ):
        yield from demo.records


def real_shaped_records(count, seed=2015):
    """``count`` records: the real ones first, then copies of them moved to cities drawn by population.

    A copy keeps its listing's terms, description, street and hours and takes the name of another
    real listing (with that listing's city swapped for its own where the name carries one), so the
    words of names keep their real frequencies. Phones become international, which stays valid in
    any country.
    """
    rng = random.Random(seed)
    real = list(real_records())
    cities = [place for place in places.gazetteer().places if place.country in COUNTRY_CODES]
    weights = [place.population for place in cities]
    for number in range(count):
        record = real[number % len(real)]
        values, copy = dict(record.values), number // len(real)
        if copy:
            city, namesake = rng.choices(cities, weights=weights)[0], rng.choice(real).values
            name = namesake["name"]
            if namesake.get("city") and namesake["city"] in name:
                name = name.replace(namesake["city"], city.name)
            values.update(
                name=name,
                city=city.name,
                region=city.region,
                postal_code="",
                country=city.country,
                latitude=round(max(-90, min(90, city.latitude + rng.gauss(0, 0.1))), 6),
                longitude=round((city.longitude + rng.gauss(0, 0.1) + 180) % 360 - 180, 6),
                time_zone=city.time_zone,
                **{field: _international(values.get(field, ""), record.values["country"]) for field in PHONE_FIELDS},
            )
        yield dataclasses.replace(
            record, number=number + 1, external_id=f"R-{number:07d}", source=BENCH_SOURCES["real"], values=values
        )


def _international(number, country):
    try:
        parsed = phonenumbers.parse(number, country)
    except phonenumbers.NumberParseException:
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


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
            source=BENCH_SOURCES["synthetic"],
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


DATA_SHAPES = {"real": real_shaped_records, "synthetic": synthetic_records}


def add_data_arguments(parser):
    """--providers and --data, for the commands that run on the benchmark's databases."""
    parser.add_argument(
        "--providers",
        type=int,
        help="First leave exactly this many providers (as bench_search does); scratch databases only.",
    )
    parser.add_argument("--data", choices=list(DATA_SHAPES), default="real", help="Their shape (bench_search).")


def ensure_providers(count, shape, stdout):
    """Leave exactly ``count`` providers of ``shape`` in a scratch database, generating them if needed.

    A real-shaped record the importer refuses (the real data has impossible values) is left out,
    so the count is of records offered: the listings are a few fewer.
    """
    source = BENCH_SOURCES[shape]
    if Provider.objects.exclude(source__slug=source).exists():
        raise CommandError("The database holds other listings; run the benchmark on a scratch database of its own.")
    bench_source = Source.objects.filter(slug=source).first()
    if bench_source is not None and bench_source.description == str(count):
        return
    Provider.objects.filter(source__slug=source).delete()
    stdout.write(f"Generating {count} {shape}-shaped providers...")
    started = time.perf_counter()
    report = import_records(DATA_SHAPES[shape](count), ImportOptions(file_name=shape, format="bench"))
    if not report.written:
        raise CommandError("The providers did not import: " + "; ".join(report.error_lines[:3]))
    # How many records were offered, so that the next run knows the data is already there.
    Source.objects.filter(slug=source).update(description=str(count))
    stdout.write(
        f"  done in {time.perf_counter() - started:.1f} s: {len(report.created)} listings, "
        f"{len(report.rejected)} records refused"
    )


# Scenarios served from the page cache (directory.page_cache), after a first request stored them;
# all others are measured with it off. The stored provider pages are drawn from this many.
STORED_PAGE_SCENARIOS = ("provider page, stored", "search, stored")
STORED_PAGES = 20
MATCHES_SAMPLED = 20


def bench_scenarios(rng):
    """{scenario: a function giving the next URL}: the matrix of what people and partners ask for.

    Values are drawn from what the database holds, whatever its shape: every term of every
    taxonomy (those no listing holds and those most hold included), the commonest and rare words
    of listing names, the places with the most listings and places with none, first and deep
    pages, the provider page and the API.
    """
    published = Provider.objects.published()
    total = max(1, published.count())
    countries = [code for code, _count in published.values_list("country").annotate(n=Count("pk")).order_by("-n")[:40]]
    slugs = list(published.order_by("?").values_list("slug", flat=True)[:1000])
    pages = max(1, min(published.count(), settings.SEARCH_RESULTS_LISTED) // settings.PROVIDERS_PER_PAGE)
    terms = term_holders(published)
    by_share = {
        "none": [term for term, held in terms if held == 0],
        "rare": [term for term, held in terms if 0 < held < total / 100],
        "common": [term for term, held in terms if held > total / 2],
    }
    common_words, rare_words = name_words(published)
    dense, empty = dense_and_empty_places(published, countries)

    def any_term(param):
        return rng.choice([term for term in terms if term[0][0] == param])[0][1]

    def term_with(share):
        # A share no term has (no term held by none, say) falls back to any term.
        param, slug = rng.choice(by_share[share] or [term for term, _held in terms])
        return f"{param}={slug}"

    def near(places):
        place = rng.choice(places)
        return f"near={place.latitude:.4f},{place.longitude:.4f}&radius=50"

    search = "/providers/?"
    scenarios = {
        "no filter, pages 1–5": lambda: search + f"page={rng.randint(1, 5)}",
        "one country": lambda: search + "country=" + rng.choice(countries),
        **{
            f"one {param} (any of its terms)": (lambda param=param: search + f"{param}={any_term(param)}")
            for param in TAXONOMY_FIELDS
        },
        "a term no listing holds": lambda: search + term_with("none"),
        "a rare term (< 1 % hold it)": lambda: search + term_with("rare"),
        "a common term (> 50 % hold it)": lambda: search + term_with("common"),
        "two modalities + a setting": lambda: (
            search + f"modality={any_term('modality')}&modality={any_term('modality')}&setting={any_term('setting')}"
        ),
        "country + modality + setting": lambda: (
            search + f"country={rng.choice(countries)}&modality={any_term('modality')}&setting={any_term('setting')}"
        ),
        "a common word of names": lambda: search + "q=" + rng.choice(common_words),
        "a rare word of names": lambda: search + "q=" + rng.choice(rare_words),
        "near the densest places, 50 km": lambda: search + near(dense),
        "near a dense place by name": lambda: search + f"near={rng.choice(dense).name}&radius=50",
        "near an empty region, 50 km": lambda: search + near(empty),
        "near 50 km + modality": lambda: search + near(dense) + f"&modality={any_term('modality')}",
        "deep page (20–50)": lambda: search + f"page={rng.randint(min(20, pages), pages)}",
        "provider page": lambda: f"/providers/{rng.choice(slugs)}/",
        "API list": lambda: f"/api/v1/providers/?page={rng.randint(1, 5)}",
        "API list, one modality": lambda: f"/api/v1/providers/?modality={any_term('modality')}",
        "API list, a term no listing holds": lambda: "/api/v1/providers/?" + term_with("none"),
        "API list, near 50 km": lambda: "/api/v1/providers/?" + near(dense),
        "provider page, stored": lambda: f"/providers/{rng.choice(slugs[:STORED_PAGES])}/",
        "search, stored": lambda: search + f"modality={any_term('modality')}",
    }
    return scenarios


def term_holders(published):
    """[((search parameter, slug), how many published listings hold it)] for every term of every taxonomy the
    search offers: all of them, but of the 184 languages only those listings speak (the form offers no other)."""
    held = []
    for param, field in TAXONOMY_FIELDS.items():
        model = Provider._meta.get_field(field).related_model
        counts = dict(
            model.objects.filter(providers__in=published).values_list("slug").annotate(n=Count("providers")).order_by()
        )
        slugs = counts if param == "language" else model.objects.values_list("slug", flat=True)
        held += [((param, slug), counts.get(slug, 0)) for slug in slugs]
    return held


def name_words(published, sample=20_000):
    """The 20 commonest words of listing names (a sample of them), and words only two to five names hold."""
    counts = Counter(
        word
        for name in published.order_by().values_list("name", flat=True)[:sample]
        for word in set(re.findall(r"[^\W\d_]{4,}", name.lower()))
    )
    common = [word for word, _count in counts.most_common(20)]
    rare = [word for word, count in counts.items() if 2 <= count <= 5][:200] or common
    return common, rare


def dense_and_empty_places(published, countries):
    """Cities of 100,000 people or more: the 20 whose names most listings give as their city, and 20 in
    countries no listing is in."""
    listed_cities = Counter(
        (country, city.casefold())
        for country, city in published.order_by().values_list("country", "city")[:200_000]
        if city
    )
    large = [place for place in places.gazetteer().places if place.population >= 100_000]
    dense = sorted(large, key=lambda place: -listed_cities[place.country, place.name.casefold()])[:20]
    in_use = set(published.order_by().values_list("country", flat=True).distinct())
    empty = [place for place in large if place.country not in in_use][:20] or dense
    return dense, empty


def percentile(timings, share):
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Measure search and API server time (p50/p95, queries per request) over N real-shaped providers."

    def add_arguments(self, parser):
        parser.add_argument("--providers", type=int, default=100_000)
        parser.add_argument("--data", choices=list(DATA_SHAPES), default="real", help="The data's shape (see above).")
        parser.add_argument("--requests", type=int, default=200, help="Requests per scenario.")
        parser.add_argument("--output", type=Path, help="Also write the results as JSON here.")
        parser.add_argument(
            "--choice-counts",
            choices=["kept", "cold", "off"],
            default="kept",
            help="The counts beside the search choices (issue 19): kept as the site keeps them with a shared cache "
            "(default: the commonest searches' tallies counted first, as the task worker does after a change, the "
            "others on first use); cold, counted afresh on every request (the listings changed before each); off, "
            "not shown (before issue 19).",
        )
        parser.add_argument("--only", action="append", help="Measure only this scenario (repeatable).")

    def handle(self, *args, providers, data, requests, output, choice_counts, only, **options):
        ensure_providers(providers, data, self.stdout)
        scenarios = bench_scenarios(random.Random(7))
        if only:
            scenarios = {name: make_query for name, make_query in scenarios.items() if name in only}
        results = {
            "database": connection.vendor,
            "providers": providers,
            "data": data,
            "requests": requests,
            "choice_counts": choice_counts,
            "scenarios": {},
        }
        client = Client(HTTP_HOST="localhost")
        with ExitStack() as stack:
            if choice_counts == "off":
                stack.enter_context(mock.patch("providers.views.choice_counts", lambda filterset: {}))
            if choice_counts == "kept":
                # One process: its memory is to it what Redis is to app servers, where the task worker counts
                # the commonest searches' tallies after a change (providers.search.choice_counts); and like
                # Redis (an LRU bounded by memory) it keeps more than the 300 entries a process keeps.
                stack.enter_context(mock.patch.object(caching, "is_shared", lambda: True))
                default = settings.CACHES["default"]
                options = {**default.get("OPTIONS", {}), "MAX_ENTRIES": 1_000_000}
                caches = {**settings.CACHES, "default": {**default, "OPTIONS": options}}
                stack.enter_context(override_settings(CACHES=caches))
                started = time.perf_counter()
                searches = fill_one_value_tallies()
                results["fill_seconds"] = round(time.perf_counter() - started, 1)
                self.stdout.write(f"Counted the tallies of {searches} searches in {results['fill_seconds']} s")
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
