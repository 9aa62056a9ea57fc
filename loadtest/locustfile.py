"""Load test: what people looking for help request, for ``make loadtest`` (docs/PERFORMANCE.md).

Runs in locust, not in Django: the provider slugs, cities, countries and terms come from
the JSON file named by ``LOADTEST_PLAN``, written by ``manage.py loadtest_plan`` from the
database under test. Users have no think time (``constant(0)``): each is one connection
sending its next request as soon as the last one is answered, so the figures are raw
throughput at that concurrency. Static files are left out: whitenoise serves them, with
far-future caching (hashed names), so a browser asks for them once, not on every page.
Every request must answer 200 (redirects are not followed); anything else is a failure.
"""

import json
import os
import random
from pathlib import Path
from urllib.parse import urlencode

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

PLAN = json.loads(Path(os.environ.get("LOADTEST_PLAN", "bench/loadtest-plan.json")).read_text(encoding="utf-8"))
COUNTRY_CODES = [code for code, _count in PLAN["countries"]]
COUNTRY_WEIGHTS = [count for _code, count in PLAN["countries"]]


def query(**params):
    return "?" + urlencode(params, doseq=True)


class Visitor(FastHttpUser):
    # FastHttpUser (geventhttpclient) costs the load generator several times less CPU per request
    # than HttpUser (requests): locust shares the machine's processors with the server.
    wait_time = constant(0)

    def fetch(self, path, name, language="en"):
        headers = {"Accept-Language": language}
        with self.client.get(path, name=name, headers=headers, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            else:
                response.success()

    # The pages a search starts from and ends on.

    def near_coordinates(self):
        _name, latitude, longitude = random.choice(PLAN["cities"])
        return query(near=f"{latitude},{longitude}", radius=random.choice((25, 50)))

    def near_name(self):
        name, _latitude, _longitude = random.choice(PLAN["cities"])
        return query(near=name, radius=random.choice((25, 50)))

    def provider(self):
        return f"providers/{random.choice(PLAN['slugs'])}/"

    @task(10)
    def home(self):
        self.fetch("/", "home")

    @task(8)
    def search_country(self):
        country = random.choices(COUNTRY_CODES, weights=COUNTRY_WEIGHTS)[0]
        self.fetch("/providers/" + query(country=country), "search: country")

    @task(6)
    def search_modality_setting(self):
        params = {"modality": random.sample(PLAN["modalities"], random.randint(1, 2))}
        params["setting"] = random.choice(PLAN["settings"])
        if random.random() < 0.5:
            params["country"] = random.choices(COUNTRY_CODES, weights=COUNTRY_WEIGHTS)[0]
        self.fetch("/providers/" + query(**params), "search: modality + setting")

    @task(10)
    def search_near_coordinates(self):
        self.fetch("/providers/" + self.near_coordinates(), "search: near lat,lon")

    @task(12)
    def search_near_name(self):
        self.fetch("/providers/" + self.near_name(), "search: near city name")

    @task(5)
    def search_keyword(self):
        self.fetch("/providers/" + query(q=random.choice(PLAN["keywords"])), "search: keyword")

    @task(22)
    def provider_page(self):
        self.fetch("/" + self.provider(), "provider page")

    @task(2)
    def deep_results_page(self):
        self.fetch("/providers/" + query(page=random.randint(2, PLAN["pages"])), "search: deep page")

    @task(5)
    def api_list(self):
        self.fetch("/api/v1/providers/" + query(page=random.randint(1, 5)), "API: list")

    @task(5)
    def api_filtered(self):
        if random.random() < 0.5:
            params = {"modality": random.choice(PLAN["modalities"])}
        else:
            _name, latitude, longitude = random.choice(PLAN["cities"])
            params = {"near": f"{latitude},{longitude}", "radius": 50}
        self.fetch("/api/v1/providers/" + query(**params), "API: filtered")

    @task(15)
    def other_language(self):
        language = random.choice(PLAN["languages"])
        page, name = random.choice(
            (
                ("", "home"),
                ("providers/" + self.near_name(), "search: near city name"),
                (self.provider(), "provider page"),
            )
        )
        self.fetch(f"/{language}/{page}", f"{name}, in another language")
