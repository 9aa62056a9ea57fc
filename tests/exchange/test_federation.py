"""Two instances of the directory in sync: B pulls A's /api/hsds/ as a feed.

A runs as its own server process on its own SQLite database, filled with real data (the
FindTreatment.gov sample, and England's pharmacies through the shipped mapping, which carry
opening hours); B is the test's database. Both are compared through their own CSV exports.
"""

import csv
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.core.management import call_command

from providers.exchange.feeds import pull_source
from providers.models import ImportRun, Provider, Source
from tests.paths import FIXTURES, REPOSITORY, SHARED

# What makes two copies of a listing the same listing to a person looking for help.
COMPARED = (
    "name", "description", "street_address", "street_address_2", "city", "region", "postal_code", "country",
    "latitude", "longitude", "phone", "intake_phone", "hotline_phone", "email", "website", "opening_hours",
    "modalities", "care_settings", "medications", "payment_options", "populations", "languages",
)  # fmt: skip


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Instance:
    """Another instance of this directory: its own database, and a server on its own port."""

    def __init__(self, folder):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/hsds/"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{folder / 'a.sqlite3'}",
            "PAGE_CACHE_SECONDS": "0",
            "DJANGO_SETTINGS_MODULE": "directory.settings",
        }
        self.env.pop("REDIS_URL", None)
        self.folder = folder
        self.server = None

    def manage(self, *args):
        return subprocess.run(
            [sys.executable, "manage.py", *map(str, args)],
            cwd=REPOSITORY,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def start(self):
        self.server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=REPOSITORY,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url, timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("instance A did not start")

    def stop(self):
        self.server.terminate()
        self.server.wait(timeout=10)

    def listings(self):
        output = self.folder / "a-export.csv"
        self.manage("export_providers", "--format", "csv", "--output", output)
        return listings_in(output.read_text(encoding="utf-8"))


def listings_in(text):
    return sorted(tuple(row[column] for column in COMPARED) for row in csv.DictReader(io.StringIO(text)))


def listings_of_b(tmp_path):
    output = tmp_path / "b-export.csv"
    call_command("export_providers", "--format", "csv", "--output", str(output), stdout=io.StringIO())
    return listings_in(output.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def instance_a(tmp_path_factory):
    instance = Instance(tmp_path_factory.mktemp("instance-a"))
    instance.manage("migrate", "--noinput")
    instance.manage(
        "import_providers", SHARED / "data" / "findtreatment-sample" / "facilities.json", "--source", "findtreatment"
    )
    instance.manage(
        "import_providers", SHARED / "data" / "nhs-england-2014" / "Pharmacy.csv", "--source", "nhs-england",
        "--mapping", FIXTURES / "mappings" / "nhs-england-pharmacies.json",
    )  # fmt: skip
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def feed_of_a(db, settings, instance_a):
    settings.IMPORT_ALLOW_PRIVATE_URLS = True
    return Source.objects.create(slug="directory-a", name="Directory A", feed_url=instance_a.url, feed_schedule="daily")


def test_b_pulls_a_and_ends_with_the_same_listings(instance_a, feed_of_a, tmp_path):
    run = pull_source(feed_of_a)

    assert run.outcome == ImportRun.Outcome.SUCCEEDED
    assert run.created == 491
    assert listings_of_b(tmp_path) == instance_a.listings()


def test_a_second_pull_writes_nothing(instance_a, feed_of_a):
    pull_source(feed_of_a)
    before = dict(Provider.objects.values_list("pk", "updated_at"))

    run = pull_source(feed_of_a)

    assert (run.created, run.updated) == (0, 0)
    assert dict(Provider.objects.values_list("pk", "updated_at")) == before


def test_a_listing_changed_in_a_reaches_b_on_the_next_pull(instance_a, feed_of_a, tmp_path):
    pull_source(feed_of_a)
    instance_a.manage(
        "shell",
        "-c",
        "from providers.models import Provider; listing = Provider.objects.get(external_id='25049'); "
        "listing.phone = '+441924000000'; listing.save()",
    )

    run = pull_source(feed_of_a)

    # Only the listings changed since the newest one pulled before were asked for: the pharmacies,
    # which A imported in one go, and not the 41 older FindTreatment listings.
    assert (run.created, run.updated, run.unchanged, run.missing) == (0, 1, 449, 0)
    assert Provider.objects.get(name="Savile Town Pharmacy").phone == "+441924000000"
    assert listings_of_b(tmp_path) == instance_a.listings()
