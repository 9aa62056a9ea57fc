"""Partners' feeds: a file at a URL, or another directory's HSDS API, pulled into the same import as an upload.

A source's feed is either the URL of a file (CSV, JSON or .zip: one of our formats, or the
partner's own export read through the source's saved mapping), or the base URL of an Open Referral
HSDS API, such as another instance of this directory's /api/hsds/. ``pull_records`` tells the
two apart by what the URL answers (an HSDS API's root document names its version and OpenAPI).

- A file is asked for with the ETag and Last-Modified of the last one imported: an unchanged
  file costs one request and writes nothing.
- An HSDS API is paged through in full the first time, then asked only for the services changed
  since the newest one already pulled (``modified_after``, judged by the partner's own clock).
- Everything is fetched before anything is imported, and the import writes all of it or none
  (``import_records``): a feed that fails half-way is never half-imported. The failure is
  recorded as a failed import run and the feed tried again later, sooner after one failure
  than after several (``Source.next_pull_after``).

``sync_sources`` queues ``pull_feed`` for every source whose feed is due; every pull that brings
something is an ImportRun through the three-way merge.
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks import task

from providers.exchange.fetching import FetchError, fetch
from providers.exchange.formats import hsds, read_file
from providers.exchange.formats.files import on_disk
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import ImportFileError
from providers.models import ImportRun, Source

logger = logging.getLogger(__name__)

HSDS_PAGE_SIZE = 100
# However a partner's API pages, a pull stops here: 1,000,000 services at HSDS_PAGE_SIZE.
MAX_HSDS_PAGES = 10_000
# The keys of an HSDS API's root document ("/"): its version, and its profile or OpenAPI document.
_HSDS_ROOT_KEYS = {"openapi_url", "profile"}


@dataclass
class Pulled:
    """What a feed brought: its records, or word that nothing changed."""

    url: str
    format: str = ""
    records: list = field(default_factory=list)
    not_modified: bool = False
    # Sent back with the next request of a file, so that an unchanged one is not sent again.
    etag: str = ""
    last_modified: str = ""
    # An HSDS API: the newest change among the services pulled, where the next pull starts.
    modified_through: datetime | None = None
    # An incremental HSDS pull holds only what changed: none of the source's other listings is missing.
    partial: bool = False


def is_url(text: str) -> bool:
    return "://" in text


def pull_records(url: str, source: str, *, etag="", last_modified="", modified_after=None, mapping=None) -> Pulled:
    """Fetch the feed at ``url`` for the source ``source`` and read its records; FetchError or ImportFileError
    (saying why) when it cannot be. ``mapping`` reads a file as the source's saved mapping would."""
    fetched = fetch(url, etag=etag, last_modified=last_modified)
    if fetched.not_modified:
        return Pulled(url, not_modified=True, etag=etag, last_modified=last_modified)
    root = _json_object(fetched.content)
    if root is not None and "version" in root and _HSDS_ROOT_KEYS & set(root):
        return _pull_hsds(fetched.url, modified_after)
    with on_disk(fetched.content, _file_name(fetched.url)) as path:
        chosen, records = read_file(path, "", source, mapping)
    return Pulled(url, chosen.name, records, etag=fetched.etag, last_modified=fetched.last_modified)


def _json_object(content):
    if not content.lstrip().startswith(b"{"):
        return None
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _file_name(url):
    """The file's name as the URL gives it, so that messages name it and a .zip is known for one."""
    return PurePosixPath(urlsplit(url).path).name or "feed"


def _pull_hsds(base_url, modified_after):
    services_url = base_url.rstrip("/") + "/services"
    documents = []
    for number in range(1, MAX_HSDS_PAGES + 1):
        query = {"full": "true", "per_page": HSDS_PAGE_SIZE, "page": number}
        if modified_after is not None:
            query["modified_after"] = modified_after.isoformat()
        page_url = f"{services_url}?{urlencode(query)}"
        page = _json_object(fetch(page_url, accept="application/json").content)
        contents = page.get("contents") if page is not None else None
        if not isinstance(contents, list):
            raise FetchError(f"{page_url} did not answer with a page of HSDS services.")
        documents.extend(contents)
        if not contents or page.get("last_page", number >= (page.get("total_pages") or number)):
            break
    pulled = Pulled(
        base_url, "hsds", modified_through=_newest_change(documents, modified_after), partial=modified_after is not None
    )
    pulled.records = hsds.records_from_documents(documents, services_url)
    for record in pulled.records:
        # The partner's listings come from its own sources: their ids are unique together with them.
        if record.source:
            record.external_id = f"{record.source}:{record.external_id}"
            record.source = ""
    return pulled


def _newest_change(documents, since):
    changes = [
        moment
        for document in documents
        if isinstance(document, dict) and (moment := parse_datetime(str(document.get("last_modified") or "")))
    ]
    return max(changes, default=since)


def pull_source(source: Source, *, full: bool = False, user=None) -> ImportRun | None:
    """Pull ``source``'s feed and import what it brings; the run, or None when the feed had not changed.

    ``full`` pages through an HSDS API in full, flagging the listings it no longer holds as missing.
    """
    started_at = timezone.now()
    try:
        pulled = pull_records(
            source.feed_url,
            source.slug,
            etag=source.feed_etag,
            last_modified=source.feed_last_modified,
            modified_after=None if full else source.feed_modified_through,
        )
        if pulled.not_modified:
            _pulled(source, started_at, failed=False)
            return None
        report = import_records(
            pulled.records,
            ImportOptions(
                source=source.slug,
                file_name=source.feed_url[:255],
                format=pulled.format,
                partial=pulled.partial,
                user=user,
            ),
        )
    except ImportFileError as error:
        run = failed_run(source, started_at, str(error))
        _pulled(source, started_at, failed=True)
        return run
    failed = report.run.outcome == ImportRun.Outcome.FAILED
    _pulled(source, started_at, failed=failed, pulled=None if failed else pulled)
    return report.run


def failed_run(source, started_at, message):
    """Record a pull of ``source``'s feed that failed before anything could be imported."""
    return ImportRun.objects.create(
        source=source,
        file_name=source.feed_url[:255],
        format="feed",
        started_by_name="feed",
        started_at=started_at,
        finished_at=timezone.now(),
        outcome=ImportRun.Outcome.FAILED,
        errors=[f"Nothing was imported: {message}"],
    )


def _pulled(source, pulled_at, *, failed, pulled=None):
    """Schedule the feed's next pull; after a pull imported, remember where the next one starts."""
    source.feed_failures = source.feed_failures + 1 if failed else 0
    source.feed_next_pull = source.next_pull_after(pulled_at, failed=failed)
    fields = ["feed_failures", "feed_next_pull"]
    if pulled is not None:
        source.feed_etag, source.feed_last_modified = pulled.etag[:200], pulled.last_modified[:100]
        source.feed_modified_through = pulled.modified_through
        fields += ["feed_etag", "feed_last_modified", "feed_modified_through"]
    source.save(update_fields=fields)


def queue_due_feeds(now=None, *, full=False) -> list[Source]:
    """Enqueue ``pull_feed`` for every source whose feed is due, and return them.

    Each is claimed first, its next pull moved past the time an import may take, so that two
    schedulers running at once, or a pull still running, never pull a feed twice.
    """
    now = now or timezone.now()
    queued = []
    for source in Source.objects.feeds_due(now):
        claim = now + timedelta(seconds=settings.IMPORT_TIME_LIMIT)
        if Source.objects.feeds_due(now).filter(pk=source.pk).update(feed_next_pull=claim):
            pull_feed.enqueue(source.pk, full)
            queued.append(source)
    return queued


@task()
def pull_feed(source_id: int, full: bool = False) -> str:
    """Pull the feed of the source ``source_id``; return the run's outcome, or "not modified"."""
    source = Source.objects.filter(pk=source_id).exclude(feed_url="").first()
    if source is None:
        return ""
    started_at = timezone.now()
    try:
        run = pull_source(source, full=full)
    except BaseException as error:
        # A lost database or a stopped worker: the import wrote nothing, and the feed is tried again.
        logger.exception("The pull of %s's feed stopped.", source.slug)
        failed_run(source, started_at, f"the pull stopped with an error ({type(error).__name__}: {error}).")
        _pulled(source, started_at, failed=True)
        raise
    return run.outcome if run is not None else "not modified"
