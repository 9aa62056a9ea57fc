"""The benchmark's scenarios answer, each with a constant number of queries whatever the data size.

`make bench` times these same URLs at 10,000 to 1,000,000 providers; here they run on a
handful, so a scenario that breaks, or a query count that grows with the data, shows in the suite.
"""

import random

from django.db import connection
from django.test.utils import CaptureQueriesContext

from devtools.management.commands.bench_import import TERMS
from devtools.management.commands.bench_search import bench_scenarios

# The ceilings: search ≤ 5 queries, API ≤ 4, provider page ≤ 3.
MAX_QUERIES = {"search": 5, "API": 4, "provider page": 3}


def kind(scenario):
    if scenario.startswith("API"):
        return "API"
    return "provider page" if scenario.startswith("provider page") else "search"


def add_providers(make_provider, count, start=0):
    """Listings near three large cities, each with every term the scenarios draw from.

    At least five pages of them, since the scenarios ask for pages 1 to 5: no scenario may
    look at an empty page, which needs fewer queries.
    """
    cities = [("Mombasa", "KE", -4.0435, 39.6682), ("Lagos", "NG", 6.4541, 3.3947), ("Lima", "PE", -12.0464, -77.0428)]
    for number in range(start, start + count):
        city, country, latitude, longitude = cities[number % len(cities)]
        make_provider(
            name=f"{city} Recovery Service {number}",
            city=city,
            country=country,
            latitude=latitude + number / 10_000,
            longitude=longitude,
            **TERMS,
        )


def queries_per_scenario(client):
    counts = {}
    for name, next_url in bench_scenarios(random.Random(7)).items():
        url = next_url()
        # Fills the cached filter choices and this search's choice counts, as a running site has them.
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (name, url)
        counts[name] = len(captured)
    return counts


def test_every_scenario_answers_within_its_query_budget_at_two_sizes(client, make_provider, settings):
    # The work behind each page, as the benchmark measures it; tests/test_caching.py covers stored pages.
    settings.PAGE_CACHE_SECONDS = 0
    add_providers(make_provider, 110)
    small = queries_per_scenario(client)
    add_providers(make_provider, 110, start=110)
    large = queries_per_scenario(client)

    assert large == small
    assert {name: count for name, count in large.items() if count > MAX_QUERIES[kind(name)]} == {}
