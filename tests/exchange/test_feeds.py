"""Sources' feeds, pulled on schedule: conditional requests, failures retried, HSDS APIs paged."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management.base import CommandError
from django.db import OperationalError
from django.utils import timezone

from providers.exchange import feeds
from providers.exchange.feeds import pull_source, queue_due_feeds
from providers.management.commands import sync_sources
from providers.models import ImportRun, Provider, Source
from tests.exchange.helpers import run

OUR_CSV = (
    "external_id,name,city,country,phone,modalities\n"
    "h-1,Harbour Clinic,Leeds,GB,0113 496 0000,mat\n"
    "h-2,Quayside Recovery,Hull,GB,01482 496000,counseling\n"
)
# A service as a partner's HSDS API on the 3.1 draft sends it: capacities, additional URLs, a program.
HSDS_31_SERVICE = {
    "id": "7a1b5e2c-0d3f-4c55-9a7e-2f6b1c9d8e01",
    "name": "Harbour Clinic",
    "status": "active",
    "url": "https://harbour.example/",
    "additional_urls": [{"id": "u-1", "url": "https://harbour.example/es", "label": "En español"}],
    "capacities": [
        {"id": "c-1", "unit": {"id": "beds", "name": "Beds"}, "available": 3, "maximum": 12, "updated": "2026-11-30"}
    ],
    "program": {"id": "p-1", "name": "Opioid programme"},
    "last_modified": "2026-11-30T10:00:00+00:00",
    "phones": [{"id": "ph-1", "number": "+44 113 496 0000"}],
    "service_at_locations": [
        {
            "id": "sal-1",
            "location": {
                "id": "loc-1",
                "location_type": "physical",
                "latitude": 53.7997,
                "longitude": -1.5492,
                "addresses": [
                    {
                        "id": "a-1",
                        "address_1": "1 Quay Street",
                        "city": "Leeds",
                        "region": "West Yorkshire",
                        "state_province": "",
                        "postal_code": "LS1 4AP",
                        "country": "GB",
                        "address_type": "physical",
                    }
                ],
            },
        }
    ],
}


class Feed(BaseHTTPRequestHandler):
    """What the partners' servers answer: ``files`` by path, with their ETags, and a small HSDS API."""

    files: dict = {}
    requests: list = []

    def do_GET(self):
        url = urlsplit(self.path)
        self.requests.append(self.path)
        if url.path == "/hsds/":
            return self.send(200, json.dumps({"version": "3.1", "profile": "https://openreferral.org/"}).encode())
        if url.path == "/hsds/services":
            page = int(parse_qs(url.query)["page"][0])
            contents = [HSDS_31_SERVICE] if page == 1 else []
            return self.send(200, json.dumps({"total_pages": 1, "last_page": True, "contents": contents}).encode())
        if url.path not in self.files:
            return self.send(404, b"not here")
        body, etag = self.files[url.path]
        if self.headers.get("If-None-Match") == etag:
            return self.send(304, b"", etag)
        return self.send(200, body, etag)

    def send(self, status, body, etag=""):
        self.send_response(status)
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def partner_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def partner(partner_server, settings):
    settings.IMPORT_ALLOW_PRIVATE_URLS = True
    Feed.files = {"/listings.csv": (OUR_CSV.encode(), '"v1"')}
    Feed.requests = []
    return partner_server


@pytest.fixture
def harbour_feed(db, partner):
    return Source.objects.create(
        slug="harbour", name="Harbour partners", feed_url=f"{partner}/listings.csv", feed_schedule="daily"
    )


class TestFileFeeds:
    def test_sync_pulls_a_due_feed_through_the_import_and_schedules_the_next(self, harbour_feed):
        before = timezone.now()
        output = run("sync_sources")

        assert "queued harbour" in output
        run_ = ImportRun.objects.get()
        assert (run_.outcome, run_.created, run_.source) == (ImportRun.Outcome.SUCCEEDED, 2, harbour_feed)
        harbour_feed.refresh_from_db()
        assert harbour_feed.feed_etag == '"v1"'
        assert before + timedelta(days=1) <= harbour_feed.feed_next_pull <= timezone.now() + timedelta(days=1)
        assert Provider.objects.get(external_id="h-1").phone == "+441134960000"

    def test_an_unchanged_feed_costs_one_request_and_writes_nothing(self, harbour_feed):
        pull_source(harbour_feed)
        Feed.requests.clear()
        before = dict(Provider.objects.values_list("pk", "updated_at"))

        assert pull_source(harbour_feed) is None

        assert Feed.requests == ["/listings.csv"]
        assert ImportRun.objects.count() == 1
        assert dict(Provider.objects.values_list("pk", "updated_at")) == before

    def test_a_changed_feed_is_imported_again(self, harbour_feed):
        pull_source(harbour_feed)
        Feed.files["/listings.csv"] = (OUR_CSV.replace("Hull", "Kingston upon Hull").encode(), '"v2"')

        run_ = pull_source(harbour_feed)

        assert (run_.created, run_.updated) == (0, 1)
        assert Provider.objects.get(external_id="h-2").city == "Kingston upon Hull"

    def test_feeds_not_yet_due_are_left_alone(self, harbour_feed):
        harbour_feed.feed_next_pull = timezone.now() + timedelta(hours=1)
        harbour_feed.save()

        assert queue_due_feeds() == []
        assert not Feed.requests

    def test_a_feed_is_claimed_so_that_two_schedulers_queue_it_once(self, harbour_feed, monkeypatch):
        queued = []

        class Worker:
            @staticmethod
            def enqueue(*args):
                queued.append(args)

        monkeypatch.setattr(feeds, "pull_feed", Worker)

        queue_due_feeds()
        queue_due_feeds()

        assert queued == [(harbour_feed.pk, False)]

    def test_a_source_with_a_saved_mapping_reads_its_feed_through_it(self, harbour_feed, partner):
        Feed.files["/export.csv"] = ("Ref¬Title¬Town\n9¬Harbour Clinic¬Leeds\n".encode("latin-1"), '"x"')
        harbour_feed.feed_url = f"{partner}/export.csv"
        harbour_feed.mapping = {
            "format": "csv",
            "country": "GB",
            "id": "Ref",
            "fields": {"name": "Title", "city": "Town"},
        }
        harbour_feed.save()

        assert pull_source(harbour_feed).created == 1
        assert Provider.objects.get(external_id="9").city == "Leeds"


class TestFailingFeeds:
    def test_a_failing_feed_is_recorded_and_tried_again_later_each_time_later(self, harbour_feed, partner):
        harbour_feed.feed_url = f"{partner}/gone.csv"
        harbour_feed.save()

        first = pull_source(harbour_feed)
        first_retry = harbour_feed.feed_next_pull - first.started_at
        second = pull_source(harbour_feed)

        assert first.outcome == ImportRun.Outcome.FAILED
        assert "answered 404" in first.errors[0]
        assert harbour_feed.feed_failures == 2
        assert first_retry == Source.FEED_FIRST_RETRY
        assert harbour_feed.feed_next_pull - second.started_at == 2 * Source.FEED_FIRST_RETRY
        assert not Provider.objects.exists()

    def test_a_feed_with_an_invalid_record_imports_none_and_is_fetched_again(self, harbour_feed):
        Feed.files["/listings.csv"] = (OUR_CSV.replace("Quayside Recovery", "").encode(), '"v1"')

        run_ = pull_source(harbour_feed)

        assert run_.outcome == ImportRun.Outcome.FAILED
        assert not Provider.objects.exists()
        harbour_feed.refresh_from_db()
        assert (harbour_feed.feed_etag, harbour_feed.feed_failures) == ("", 1)

    def test_a_feed_on_a_private_address_is_refused(self, harbour_feed, settings):
        settings.IMPORT_ALLOW_PRIVATE_URLS = False

        run_ = pull_source(harbour_feed)

        assert "private or internal address" in run_.errors[0]
        assert not Feed.requests

    def test_a_schedule_without_a_feed_is_refused(self, db):
        with pytest.raises(Exception, match="A schedule needs a feed"):
            Source(slug="s", name="S", feed_schedule="daily").full_clean()


class TestHsdsApiFeeds:
    def test_reads_a_partner_api_on_the_31_draft_without_failing(self, db, partner):
        output = run("import_providers", f"{partner}/hsds/", "--source", "partner-api")

        assert "Pulled 1 record(s)" in output
        clinic = Provider.objects.get()
        assert (clinic.name, clinic.city, clinic.postal_code, clinic.phone) == (
            "Harbour Clinic",
            "Leeds",
            "LS1 4AP",
            "+441134960000",
        )
        assert Feed.requests[1].startswith("/hsds/services?full=true&per_page=100&page=1")

    def test_after_the_first_pull_it_asks_only_for_what_changed(self, db, partner):
        source = Source.objects.create(slug="partner-api", name="Partner API", feed_url=f"{partner}/hsds/")
        pull_source(source)
        Feed.requests.clear()

        pull_source(source)

        assert "modified_after=2026-11-30T10%3A00%3A00%2B00%3A00" in Feed.requests[1]

    def test_a_url_needs_a_source(self, db, partner):
        with pytest.raises(CommandError, match="need a source"):
            run("import_providers", f"{partner}/listings.csv")


class TestTheScheduler:
    def test_keeps_queueing_due_feeds_through_a_database_busy_for_a_moment(self, db, monkeypatch):
        turns = []

        def queue(full=False):
            turns.append("queue")
            if len(turns) == 1:
                raise OperationalError("database is locked")
            return []

        class Stop(Exception):
            pass

        def sleep(seconds):
            turns.append(seconds)
            if len(turns) > 3:
                raise Stop

        monkeypatch.setattr(sync_sources, "queue_due_feeds", queue)
        monkeypatch.setattr(sync_sources.time, "sleep", sleep)
        with pytest.raises(Stop):
            run("sync_sources", "--every", "60")

        assert turns == ["queue", 60, "queue", 60]
