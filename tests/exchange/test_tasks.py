"""Dry runs and imports as background tasks: queued once, run by a worker, and never left unfinished or half-written."""

import io
import signal
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from django_rq.management.commands import rqworker
from django_tasks_db.models import DBTaskResult

from providers.exchange import bulk_sql, tasks
from providers.exchange.tasks import dry_run_upload, fail_abandoned_runs, import_upload, queue_dry_run, queue_import
from providers.models import ImportRun, PendingImport, Provider
from tests.conftest import LOCAL_REDIS, redis_is_running
from tests.directory import fresh_settings

pytestmark = pytest.mark.django_db

Outcome = ImportRun.Outcome
CSV = (
    b"source,external_id,name,city,country,phone,modalities\r\n"
    b"test-partner,A-1,Hope House,Montgomery,US,+13346732143,mat;counseling\r\n"
    b"test-partner,B-2,Second Chance Clinic,Mobile,US,+13346732144,counseling\r\n"
)
OPTIONS = {"format": "csv", "source": "", "country": "", "status": "", "skip_invalid": False}
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
HELD_QUEUE = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def uploader(db):
    return User.objects.create_user(username="amina", is_staff=True)


def upload(user, data=CSV, **options):
    return PendingImport.objects.create(
        data=data, file_name="providers.csv", options={**OPTIONS, **options}, uploaded_by=user
    )


@pytest.fixture
def held(settings):
    """Enqueued tasks wait (django-tasks' dummy backend keeps them), as they would for a worker."""
    settings.TASKS = HELD_QUEUE


@pytest.fixture
def queued(held, uploader):
    """A queued import of two listings, and its upload."""
    pending = upload(uploader)
    return queue_import(pending, uploader), pending


# --- The dry run ---------------------------------------------------------------------------------


def test_the_dry_run_keeps_what_the_import_would_do_on_the_upload(held, uploader):
    pending = upload(uploader)

    dry_run_upload.call(pending.pk)

    pending.refresh_from_db()
    assert pending.dry_run == {
        "lines": [
            "Would create source(s): test-partner.",
            "2 created, 0 updated, 0 unchanged, 0 rejected.",
            "Dry run: nothing was written.",
        ],
        "created": [[1, "A-1", "Hope House", "Montgomery", "US"], [2, "B-2", "Second Chance Clinic", "Mobile", "US"]],
        "created_count": 2,
        "rejected_count": 0,
        "blocked": False,
        "has_changes": True,
    }
    assert pending.importable
    assert (pending.records_read, pending.checking_since is not None) == (2, True)
    assert bytes(pending.data) == CSV
    assert not Provider.objects.exists()
    assert not ImportRun.objects.exists()


def test_a_dry_run_that_blocks_the_import_does_not_keep_the_file(held, uploader):
    pending = upload(uploader, data=CSV.replace(b"Hope House", b""))

    dry_run_upload.call(pending.pk)

    pending.refresh_from_db()
    assert (pending.dry_run["blocked"], pending.dry_run["rejected_count"]) == (True, 1)
    assert not pending.importable
    assert bytes(pending.data) == b""


def test_the_dry_run_saves_how_many_records_it_has_checked(held, uploader, monkeypatch):
    monkeypatch.setattr(tasks, "PROGRESS_SECONDS", 0)
    pending = upload(uploader)

    dry_run_upload.call(pending.pk)

    pending.refresh_from_db()
    assert pending.records_checked == 2


def test_a_dry_run_runs_once_per_upload(held, uploader, monkeypatch):
    pending = upload(uploader)
    dry_run_upload.call(pending.pk)
    found = PendingImport.objects.get().dry_run

    def again(*args, **kwargs):
        raise AssertionError("dry-run twice")

    monkeypatch.setattr(tasks, "import_records", again)
    dry_run_upload.call(pending.pk)

    assert PendingImport.objects.get().dry_run == found


def test_a_dry_run_that_raises_keeps_the_error_on_the_upload(held, uploader, monkeypatch):
    pending = upload(uploader)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tasks, "import_records", broken)

    with pytest.raises(RuntimeError, match="disk full"):
        dry_run_upload.call(pending.pk)

    pending.refresh_from_db()
    assert pending.dry_run == {"error": "The dry run stopped with an error (RuntimeError: disk full)."}
    assert not pending.importable
    assert bytes(pending.data) == b""


def test_a_worker_stopped_during_the_dry_run_says_so_on_the_upload(held, uploader, monkeypatch):
    pending = upload(uploader)

    def stopped(*args, **kwargs):
        raise SystemExit(1)

    monkeypatch.setattr(tasks, "import_records", stopped)

    with pytest.raises(SystemExit):
        dry_run_upload.call(pending.pk)

    assert PendingImport.objects.get().dry_run == {"error": "The worker was stopped during the dry run."}


def test_a_dry_run_of_an_unreadable_file_keeps_the_reader_s_message(held, uploader):
    pending = upload(uploader, data=b"name,city\r\nHope House,Montgomery\r\n")

    dry_run_upload.call(pending.pk)

    assert PendingImport.objects.get().dry_run == {
        "error": "providers.csv is missing the required column(s): external_id."
    }


def test_a_dry_run_of_an_upload_cancelled_or_expired_while_it_waited_does_nothing(held, uploader):
    cancelled = upload(uploader)
    cancelled.delete()
    expired = upload(uploader)
    PendingImport.objects.filter(pk=expired.pk).update(created_at=timezone.now() - timedelta(days=2))

    dry_run_upload.call(cancelled.pk)
    dry_run_upload.call(expired.pk)

    expired.refresh_from_db()
    assert (expired.checking_since, expired.dry_run) == (None, None)


def test_a_dry_run_that_cannot_be_queued_fails_at_once(held, uploader, monkeypatch):
    class Unreachable:
        def enqueue(self, *args):
            raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks, "dry_run_upload", Unreachable())
    pending = upload(uploader)

    queue_dry_run(pending)

    assert PendingImport.objects.get().dry_run == {
        "error": "The dry run could not be queued "
        "(ConnectionError: Error 111 connecting to redis:6379. Connection refused.)."
    }


def test_a_dry_run_started_past_the_time_limit_is_taken_as_lost(settings, uploader):
    settings.IMPORT_TIME_LIMIT = 600
    lost = upload(uploader)
    PendingImport.objects.filter(pk=lost.pk).update(checking_since=timezone.now() - timedelta(seconds=601))
    working = upload(uploader)
    PendingImport.objects.filter(pk=working.pk).update(checking_since=timezone.now() - timedelta(seconds=599))

    assert PendingImport.objects.get(pk=lost.pk).dry_run_lost
    assert not PendingImport.objects.get(pk=working.pk).dry_run_lost


# --- Queueing ------------------------------------------------------------------------------------


def test_queueing_records_a_queued_run_and_enqueues_one_task(queued, uploader):
    run, pending = queued

    assert run.outcome == Outcome.QUEUED
    assert (run.file_name, run.format, run.started_by, run.started_by_name) == (
        "providers.csv",
        "csv",
        uploader,
        "amina",
    )
    assert run.finished_at is None
    [result] = import_upload.get_backend().results
    assert result.args == [pending.pk, run.pk]
    pending.refresh_from_db()
    assert pending.options["run"] == run.pk
    assert not Provider.objects.exists()


def test_an_upload_is_queued_once(queued, uploader):
    run, pending = queued

    assert queue_import(pending, uploader) is None
    assert list(ImportRun.objects.all()) == [run]
    assert len(import_upload.get_backend().results) == 1


def test_a_queue_that_cannot_be_reached_fails_the_run_at_once(held, uploader, monkeypatch):
    class Unreachable:
        def enqueue(self, *args):
            raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks, "import_upload", Unreachable())

    run = queue_import(upload(uploader), uploader)

    assert run.outcome == Outcome.FAILED
    assert run.finished_at is not None
    assert run.errors == [
        "The import could not be queued (ConnectionError: Error 111 connecting to redis:6379. Connection refused.); "
        "nothing was written."
    ]
    assert not PendingImport.objects.exists()


# --- The task ------------------------------------------------------------------------------------


def test_the_task_imports_the_upload_into_its_run_and_forgets_the_file(queued):
    run, pending = queued

    assert import_upload.call(pending.pk, run.pk) == Outcome.SUCCEEDED

    run.refresh_from_db()
    assert run.outcome == Outcome.SUCCEEDED
    assert (run.created, run.records_read, run.records_planned, run.records_written) == (2, 2, 2, 2)
    assert run.finished_at is not None
    assert ImportRun.objects.count() == 1
    assert set(Provider.objects.values_list("last_import_run", flat=True)) == {run.pk}
    assert not PendingImport.objects.exists()


def test_enqueued_on_the_immediate_backend_it_runs_at_once(uploader):
    run = queue_import(upload(uploader), uploader)

    run.refresh_from_db()
    assert run.outcome == Outcome.SUCCEEDED
    assert Provider.objects.count() == 2


def test_a_task_delivered_twice_imports_once(queued):
    run, pending = queued
    import_upload.call(pending.pk, run.pk)

    assert import_upload.call(pending.pk, run.pk) == Outcome.SUCCEEDED

    assert Provider.objects.count() == 2
    assert ImportRun.objects.count() == 1


def test_an_import_that_raises_leaves_its_run_failed_with_nothing_written(queued, monkeypatch):
    run, pending = queued

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # History is written after the listings, in the same transaction.
    monkeypatch.setattr(bulk_sql, "insert_versions", broken)

    with pytest.raises(RuntimeError, match="disk full"):
        import_upload.call(pending.pk, run.pk)

    run.refresh_from_db()
    assert run.outcome == Outcome.FAILED
    assert run.errors == ["The import stopped with an error (RuntimeError: disk full); nothing was written."]
    assert run.finished_at is not None
    assert run.records_written == 0
    assert not Provider.objects.exists()
    assert not PendingImport.objects.exists()


def test_a_worker_stopped_during_the_import_leaves_its_run_failed(queued, monkeypatch):
    run, pending = queued

    def stopped(*args, **kwargs):
        raise SystemExit(1)

    monkeypatch.setattr(tasks, "import_records", stopped)

    with pytest.raises(SystemExit):
        import_upload.call(pending.pk, run.pk)

    run.refresh_from_db()
    assert run.outcome == Outcome.FAILED
    assert run.errors == ["The worker was stopped during the import; nothing was written. Upload the file again."]


def test_an_unreadable_file_fails_the_run_with_the_reader_s_message(held, uploader):
    pending = upload(uploader, data=b"name,city\r\nHope House,Montgomery\r\n")
    run = queue_import(pending, uploader)

    assert import_upload.call(pending.pk, run.pk) == Outcome.FAILED

    run.refresh_from_db()
    assert run.errors == ["Nothing was imported: providers.csv is missing the required column(s): external_id."]


def test_an_upload_gone_before_the_task_started_fails_the_run(queued):
    run, pending = queued
    pending.delete()

    assert import_upload.call(pending.pk, run.pk) == Outcome.FAILED

    run.refresh_from_db()
    assert "The uploaded file was gone before the import started" in run.errors[0]


def test_records_rejected_by_the_importer_fail_the_run_with_their_errors(held, uploader):
    pending = upload(uploader, data=CSV.replace(b"Hope House", b""))
    run = queue_import(pending, uploader)

    assert import_upload.call(pending.pk, run.pk) == Outcome.FAILED

    run.refresh_from_db()
    assert run.errors[0].startswith("record 1 (external id A-1): name: ")
    assert not Provider.objects.exists()


# --- Runs whose worker was killed ----------------------------------------------------------------


def make_run(outcome, started_ago):
    return ImportRun.objects.create(
        file_name="partner.csv", format="csv", started_at=timezone.now() - started_ago, outcome=outcome
    )


def test_a_run_still_running_past_the_time_limit_is_marked_failed(settings):
    settings.IMPORT_TIME_LIMIT = 600
    lost = make_run(Outcome.RUNNING, timedelta(seconds=601))
    working = make_run(Outcome.RUNNING, timedelta(seconds=599))

    assert fail_abandoned_runs() == 1

    lost.refresh_from_db()
    working.refresh_from_db()
    assert lost.outcome == Outcome.FAILED
    assert lost.finished_at is not None
    assert lost.errors == [
        "The import did not finish within 10 minutes: its worker was stopped or lost. "
        "Nothing was written; upload the file again."
    ]
    assert working.outcome == Outcome.RUNNING


def test_a_run_no_worker_started_within_a_day_is_marked_failed():
    forgotten = make_run(Outcome.QUEUED, PendingImport.LIFETIME + timedelta(minutes=1))
    waiting = make_run(Outcome.QUEUED, timedelta(hours=2))

    assert fail_abandoned_runs() == 1

    forgotten.refresh_from_db()
    waiting.refresh_from_db()
    assert forgotten.outcome == Outcome.FAILED
    assert "No worker started the import within a day" in forgotten.errors[0]
    assert waiting.outcome == Outcome.QUEUED


def test_a_task_that_starts_after_its_run_was_given_up_does_nothing(queued):
    run, pending = queued
    ImportRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(days=2))

    assert import_upload.call(pending.pk, run.pk) == Outcome.FAILED

    assert not Provider.objects.exists()
    assert not PendingImport.objects.exists()


def test_finished_runs_are_left_alone(settings):
    settings.IMPORT_TIME_LIMIT = 60
    done = make_run(Outcome.SUCCEEDED, timedelta(days=3))

    assert fail_abandoned_runs() == 0

    done.refresh_from_db()
    assert done.outcome == Outcome.SUCCEEDED


# --- Settings ------------------------------------------------------------------------------------


def test_tasks_queue_in_the_database_by_default_and_in_redis_with_redis_url():
    assert fresh_settings.read("s.TASKS['default']['BACKEND']") == "django_tasks_db.DatabaseBackend"

    redis = fresh_settings.read(
        "[s.TASKS['default']['BACKEND'], s.RQ_QUEUES, 'django_rq' in s.INSTALLED_APPS]",
        REDIS_URL="redis://cache.internal:6379/0",
    )
    assert redis == [
        "django_tasks_rq.RQBackend",
        {"default": {"URL": "redis://cache.internal:6379/0", "DEFAULT_TIMEOUT": 1800}},
        True,
    ]


# --- Through a real worker -----------------------------------------------------------------------
# Last in this module: these tests commit as a worker does, and the database is emptied after each;
# serialized_rollback gives the next such test what the migrations made, restore_migrated_data the
# next module.


@contextmanager
def own_signal_handlers():
    """The workers take over SIGINT and SIGTERM for their graceful shutdown; give them back to pytest."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("restore_migrated_data")
def test_the_database_worker_runs_a_queued_import(settings, uploader):
    settings.TASKS = DATABASE_QUEUE
    run = queue_import(upload(uploader), uploader)
    assert DBTaskResult.objects.get().status == "READY"

    with own_signal_handlers():
        call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0, stdout=io.StringIO())

    run.refresh_from_db()
    assert run.outcome == Outcome.SUCCEEDED
    assert run.records_written == 2
    assert Provider.objects.count() == 2
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert not PendingImport.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("restore_migrated_data")
def test_the_database_worker_runs_a_queued_dry_run(settings, uploader):
    settings.TASKS = DATABASE_QUEUE
    pending = upload(uploader)
    queue_dry_run(pending)
    assert DBTaskResult.objects.get().status == "READY"

    with own_signal_handlers():
        call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0, stdout=io.StringIO())

    pending.refresh_from_db()
    assert pending.dry_run["lines"][1] == "2 created, 0 updated, 0 unchanged, 0 rejected."
    assert pending.importable
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert not Provider.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("restore_migrated_data")
def test_the_database_worker_records_a_failed_import_as_failed(settings, uploader, monkeypatch):
    settings.TASKS = DATABASE_QUEUE
    run = queue_import(upload(uploader), uploader)
    monkeypatch.setattr(bulk_sql, "insert_versions", lambda *args: 1 / 0)

    with own_signal_handlers():
        call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0, stdout=io.StringIO())

    run.refresh_from_db()
    assert run.outcome == Outcome.FAILED
    assert "ZeroDivisionError" in run.errors[0]
    assert not Provider.objects.exists()
    task = DBTaskResult.objects.get()
    assert task.status == "FAILED"
    assert task.exception_class_path == "builtins.ZeroDivisionError"


@pytest.mark.skipif(not redis_is_running(), reason="no Redis server on 127.0.0.1:6379")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("restore_migrated_data")
def test_an_rq_worker_runs_a_queued_import(settings, uploader, monkeypatch):
    # A queue of this test's own, so that no other worker on this Redis takes the job.
    queue = f"test-imports-{uuid.uuid4().hex}"
    settings.RQ_QUEUES = {queue: {"URL": LOCAL_REDIS, "DEFAULT_TIMEOUT": 60}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [queue]}}
    monkeypatch.setattr(tasks, "import_upload", import_upload.using(queue_name=queue))
    run = queue_import(upload(uploader), uploader)

    with own_signal_handlers():
        # SimpleWorker runs the job in this process: a forked one would not see SQLite's in-memory test database.
        call_command(
            rqworker.Command(),
            queue,
            burst=True,
            worker_class="rq.worker.SimpleWorker",
            job_class="django_tasks_rq.Job",
            verbosity=0,
        )

    run.refresh_from_db()
    assert run.outcome == Outcome.SUCCEEDED
    assert Provider.objects.count() == 2
