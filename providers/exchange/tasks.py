"""The admin upload's dry run and import, run as background tasks (django-tasks) in a worker, not in the web request.

The uploading request reads the file (so an unreadable one is refused at once),
keeps it with its options as a ``PendingImport`` and enqueues ``dry_run_upload``;
a worker dry-runs it, saving how far it has got, and keeps what it found on the
upload, which the upload's admin page shows. A dry run plans every record as
the import would, so a large file takes as long to check as to plan: far more
than a web server gives a request.

Confirming records the run (queued), claims the uploaded file and enqueues
``import_upload``; a worker then reads the file, imports it into that run, which
the importer fills in with its progress, and forgets the file. The run's admin
page shows that progress.

A run never stays unfinished for ever:

- an exception in the task (a bug, a lost database, RQ's time limit, a worker
  stopped by a second Ctrl+C) marks the run failed before the task ends;
- a worker killed outright (SIGKILL, out of memory, the machine lost) runs no
  code at all, so ``fail_abandoned_runs`` marks failed every run still running
  ``IMPORT_TIME_LIMIT`` seconds after it started, and every run no worker
  started within an upload's lifetime. It runs whenever the runs are shown in
  the admin and whenever a worker starts an import.

Either way nothing is half-written: the importer writes the listings and the
run's outcome in one transaction, which dies with its worker. A dry run writes
nothing but its own upload; one that fails says so there, and one whose worker
was killed is shown failed once ``IMPORT_TIME_LIMIT`` has passed
(``PendingImport.dry_run_lost``).
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from providers.exchange.formats import read_file
from providers.exchange.formats.files import on_disk
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import ImportFileError
from providers.exchange.report import MAX_LISTED, describe_report
from providers.models import ImportRun, PendingImport, Source

logger = logging.getLogger(__name__)

Outcome = ImportRun.Outcome
UNFINISHED = (Outcome.QUEUED, Outcome.RUNNING)


# An upload's options hold its run's id from the moment an import of it is queued.
RUN_OPTION = "run"


def uploads_not_queued():
    """The uploads waiting for their uploader to confirm or cancel them."""
    return PendingImport.objects.exclude(options__has_key=RUN_OPTION)


# A dry run saves how far it has got at most this often: its page reloads every two seconds.
PROGRESS_SECONDS = 1


def queue_dry_run(pending):
    """Enqueue the dry run of the upload ``pending``; one that cannot be enqueued is recorded failed on it."""
    try:
        dry_run_upload.enqueue(pending.pk)
    except Exception as error:
        logger.exception("Could not enqueue the dry run of upload %s.", pending.pk)
        _fail_dry_run(pending.pk, f"The dry run could not be queued ({type(error).__name__}: {error}).")


@task()
def dry_run_upload(pending_id: int) -> None:
    """Dry-run the uploaded file ``pending_id`` and keep what it would do on the upload, for its page."""
    # Only once per upload, and only while it lives: a task delivered twice, or one for an upload
    # cancelled or expired while it waited, does nothing.
    started = PendingImport.objects.filter(
        pk=pending_id, checking_since=None, created_at__gt=timezone.now() - PendingImport.LIFETIME
    ).update(checking_since=timezone.now())
    if not started:
        return
    try:
        _dry_run(pending_id)
    except (KeyboardInterrupt, SystemExit):
        _fail_dry_run(pending_id, "The worker was stopped during the dry run.")
        raise
    except BaseException as error:
        _fail_dry_run(pending_id, f"The dry run stopped with an error ({type(error).__name__}: {error}).")
        raise


def _dry_run(pending_id):
    pending = PendingImport.objects.select_related("uploaded_by").filter(pk=pending_id).first()
    if pending is None:
        return
    options = pending.options
    try:
        with on_disk(bytes(pending.data), pending.file_name) as file_path:
            records = read_file(file_path, options["format"], options["source"])[1]
    except ImportFileError as error:
        _fail_dry_run(pending_id, str(error))
        return
    PendingImport.objects.filter(pk=pending_id).update(records_read=len(records))
    # Not parallel: the admin promises planning without forked processes, wherever it runs.
    report = import_records(
        records,
        ImportOptions(**options, dry_run=True, file_name=pending.file_name, user=pending.uploaded_by),
        progress=_progress_saver(pending_id),
    )
    found = {
        "lines": describe_report(report, dry_run=True),
        "created": [
            [
                change.record.number,
                change.record.external_id,
                change.provider.name,
                change.provider.city,
                change.provider.country.code,
            ]
            for change in report.created[:MAX_LISTED]
        ],
        "created_count": len(report.created),
        "rejected_count": len(report.rejected),
        "blocked": bool(report.rejected) and not options["skip_invalid"],
        "has_changes": report.has_changes,
    }
    pending.dry_run = found
    # A file that will not be imported is not kept: what its dry run found is all its page shows.
    kept = {} if pending.importable else {"data": b""}
    PendingImport.objects.filter(pk=pending_id).update(dry_run=found, **kept)


def _progress_saver(pending_id):
    """The importer's ``progress`` callback for a dry run: saves the records checked, every PROGRESS_SECONDS at most."""
    saved_at = time.monotonic()

    def save(done):
        nonlocal saved_at
        if time.monotonic() - saved_at >= PROGRESS_SECONDS:
            PendingImport.objects.filter(pk=pending_id).update(records_checked=done)
            saved_at = time.monotonic()

    return save


def _fail_dry_run(pending_id, message):
    """Keep ``message`` as what the upload's dry run found, unless it has ended; the file will not be imported."""
    PendingImport.objects.filter(pk=pending_id, dry_run__isnull=True).update(dry_run={"error": message}, data=b"")


def queue_import(pending, user):
    """Record a queued run for the upload ``pending`` and enqueue its import; return the run, as queued.

    None when another request queued it first: the upload is claimed for one run only, so a
    double-clicked button queues one import. A run whose task could not be enqueued (its queue
    unreachable) is returned failed, and its upload deleted.
    """
    options = pending.options
    with transaction.atomic():
        run = ImportRun.objects.create(
            file_name=pending.file_name[:255],
            format=options["format"],
            source=Source.objects.filter(slug=options["source"]).first() if options["source"] else None,
            started_by=user,
            started_by_name=user.get_username(),
            started_at=timezone.now(),
            outcome=Outcome.QUEUED,
        )
        claimed = uploads_not_queued().filter(pk=pending.pk).update(options={**options, RUN_OPTION: run.pk})
        if not claimed:
            transaction.set_rollback(True)
            return None
    # Enqueued once the run is committed, so that a worker never looks for a run that is not there yet.
    try:
        import_upload.enqueue(pending.pk, run.pk)
    except Exception as error:
        logger.exception("Could not enqueue the import of run %s.", run.pk)
        _fail(run.pk, f"The import could not be queued ({type(error).__name__}: {error}); nothing was written.")
        PendingImport.objects.filter(pk=pending.pk).delete()
        run.refresh_from_db()
    return run


@task()
def import_upload(pending_id: int, run_id: int) -> str:
    """Import the uploaded file ``pending_id`` into the queued run ``run_id``; return the run's outcome."""
    fail_abandoned_runs()
    # Only a queued run starts: a task delivered twice, or one that waited past the upload's lifetime, does nothing.
    started = ImportRun.objects.filter(pk=run_id, outcome=Outcome.QUEUED).update(
        outcome=Outcome.RUNNING, started_at=timezone.now()
    )
    try:
        if started:
            _import(pending_id, run_id)
    except (KeyboardInterrupt, SystemExit):
        _fail(run_id, "The worker was stopped during the import; nothing was written. Upload the file again.")
        raise
    except BaseException as error:
        _fail(run_id, f"The import stopped with an error ({type(error).__name__}: {error}); nothing was written.")
        raise
    finally:
        PendingImport.objects.filter(pk=pending_id).delete()
    return ImportRun.objects.filter(pk=run_id).values_list("outcome", flat=True).first() or ""


def _import(pending_id, run_id):
    run = ImportRun.objects.get(pk=run_id)
    pending = PendingImport.objects.select_related("uploaded_by").filter(pk=pending_id).first()
    if pending is None:
        _fail(run_id, "The uploaded file was gone before the import started; nothing was written. Upload it again.")
        return
    options = {name: value for name, value in pending.options.items() if name != RUN_OPTION}
    try:
        with on_disk(bytes(pending.data), pending.file_name) as file_path:
            records = read_file(file_path, options["format"], options["source"])[1]
    except ImportFileError as error:
        _fail(run_id, f"Nothing was imported: {error}")
        return
    # Not parallel: the admin promises planning without forked processes, wherever it runs.
    import_records(records, ImportOptions(**options, file_name=pending.file_name, user=pending.uploaded_by, run=run))


def _fail(run_id, message):
    """Mark the run failed with ``message``, unless it has finished.

    The importer records the outcome in the transaction that writes the listings: a run
    already finished when an error comes had its listings written, and says so.
    """
    ImportRun.objects.filter(pk=run_id, outcome__in=UNFINISHED).update(
        outcome=Outcome.FAILED, finished_at=timezone.now(), records_written=0, errors=[message]
    )


def fail_abandoned_runs() -> int:
    """Mark failed the runs whose worker is gone, and return how many.

    A run still running ``IMPORT_TIME_LIMIT`` seconds after it started lost its worker (RQ
    stops a job at that limit too); a run still queued after an upload's lifetime will find
    its file deleted.
    """
    now = timezone.now()
    lost = ImportRun.objects.filter(
        outcome=Outcome.RUNNING, started_at__lt=now - timedelta(seconds=settings.IMPORT_TIME_LIMIT)
    )
    never_started = ImportRun.objects.filter(outcome=Outcome.QUEUED, started_at__lt=now - PendingImport.LIFETIME)
    # Read first: an UPDATE takes SQLite's write lock even when it matches nothing, and would wait
    # for an import that is writing; the run pages that call this refresh every few seconds.
    if not (lost | never_started).exists():
        return 0
    minutes = settings.IMPORT_TIME_LIMIT // 60
    count = lost.update(
        outcome=Outcome.FAILED,
        finished_at=now,
        records_written=0,
        errors=[
            f"The import did not finish within {minutes} minutes: its worker was stopped or lost. "
            "Nothing was written; upload the file again."
        ],
    )
    count += never_started.update(
        outcome=Outcome.FAILED,
        finished_at=now,
        errors=["No worker started the import within a day; nothing was written. Upload the file again."],
    )
    logger.warning("Marked %d import run(s) failed: their worker was lost, or none started them.", count)
    return count
