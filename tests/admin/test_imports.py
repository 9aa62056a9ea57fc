"""Importing a partner file in the admin: upload, dry run (in a worker), confirm; and the record of import runs."""

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from providers.exchange import importer, tasks
from providers.exchange.tasks import dry_run_upload, import_upload
from providers.models import ImportRun, Modality, PendingImport, Provider, Source
from tests.exchange.helpers import samhsa_row

pytestmark = pytest.mark.django_db

UPLOAD = "/admin/providers/importrun/upload/"
RUNS = "/admin/providers/importrun/"
HEADER = ("source", "external_id", "name", "city", "country", "phone", "modalities", "latitude", "longitude")
SAMHSA_HEADER = (
    "Name1", "Name2", "Name3", "Address1", "Address2", "Address3", "City", "State", "ZIP_Code",
    "Contact", "Note", "Keys", "ID", "Longitude", "Latitude", "Match Score",
)  # fmt: skip


def pending_url(pending):
    """The upload's own page: its dry run, and where its import is confirmed or cancelled."""
    return f"{UPLOAD}{pending.pk}/"


def run_url(run):
    return f"{RUNS}{run.pk}/change/"


def listing(external_id="A-1", **values):
    row = {
        "source": "test-partner",
        "external_id": external_id,
        "name": "Hope House",
        "city": "Montgomery",
        "country": "US",
        "phone": "+13346732143",
        "modalities": "mat;counseling",
        "latitude": "32.3668",
        "longitude": "-86.3000",
    }
    row.update(values)
    return row


def csv_file(*rows, header=HEADER, name="providers.csv"):
    handle = io.StringIO()
    writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, handle.getvalue().encode(), content_type="text/csv")


TWO_LISTINGS = (listing("A-1"), listing("B-2", name="Second Chance Clinic", city="Mobile", modalities="counseling"))


def upload(client, file, follow=True, **fields):
    """Upload ``file``; followed, the response is the upload's page once its dry run has ended (tasks run at once)."""
    data = {"file": file, "format": "", "source": "", "country": "", "status": ""}
    data.update(fields)
    return client.post(UPLOAD, data, follow=follow)


def file_errors(response, field="file"):
    assert response.status_code == 200
    assert response.templates[0].name == "admin/providers/importrun/upload.html"
    return " ".join(response.context["form"].errors.get(field, []))


def nothing_written():
    return not Provider.objects.exists() and not ImportRun.objects.exists()


def message_texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def held_tasks(settings):
    """Enqueued tasks wait, as they would for a worker (django-tasks' dummy backend keeps them)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def dry_run(curator_client):
    """Upload the two listings and return the dry-run response."""
    return upload(curator_client, csv_file(*TWO_LISTINGS))


def pending_of(response):
    return response.context["pending"]


# --- Pages and permissions ----------------------------------------------------------------------


def test_curator_sees_the_upload_form(curator_client):
    response = curator_client.get(UPLOAD)

    assert response.status_code == 200
    assert set(response.context["form"].fields) == {
        "file",
        "format",
        "source",
        "country",
        "status",
        "skip_invalid",
        "strict",
        "partial",
        "missing",
    }
    assert b'enctype="multipart/form-data"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_upload_form_suggests_the_existing_sources(curator_client, source):
    response = curator_client.get(UPLOAD)

    assert b'<option value="test-partner">Test partner</option>' in response.content


def test_the_import_runs_list_links_to_the_upload_page(curator_client):
    response = curator_client.get(RUNS)

    assert response.status_code == 200
    assert f'href="{UPLOAD}"'.encode() in response.content
    assert b"Import a file" in response.content


def test_staff_without_permissions_is_refused(client, dry_run):
    stranger = User.objects.create_user(username="stranger", is_staff=True)
    client.force_login(stranger)

    assert client.get(UPLOAD).status_code == 403
    assert client.post(UPLOAD, {"file": csv_file(*TWO_LISTINGS)}).status_code == 403
    assert client.get(pending_url(pending_of(dry_run))).status_code == 403
    assert client.post(pending_url(pending_of(dry_run))).status_code == 403
    assert client.get(RUNS).status_code == 403
    assert nothing_written()


def test_viewing_runs_does_not_allow_importing(client):
    viewer = User.objects.create_user(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_importrun"))
    client.force_login(viewer)

    changelist = client.get(RUNS)

    assert changelist.status_code == 200
    assert b"Import a file" not in changelist.content
    assert client.get(UPLOAD).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(UPLOAD)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_runs_cannot_be_added_or_edited_through_the_admin_forms(admin_client):
    run = make_run()

    assert admin_client.get(f"{RUNS}add/").status_code == 403
    assert admin_client.get(f"{RUNS}{run.pk}/delete/").status_code == 403
    response = admin_client.post(run_url(run), {"file_name": "changed.csv"})
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.file_name == "partner.csv"


# --- Dry run -------------------------------------------------------------------------------------


def test_upload_shows_a_dry_run_and_writes_nothing(dry_run, curator):
    content = dry_run.content.decode()

    assert dry_run.status_code == 200
    assert dry_run.redirect_chain == [(pending_url(pending_of(dry_run)), 302)]
    assert 'http-equiv="refresh"' not in content
    assert "2 created, 0 updated, 0 unchanged, 0 rejected." in content
    assert "Dry run: nothing was written." in content
    assert "Would create source(s): test-partner." in content
    assert "Second Chance Clinic" in content
    assert "Confirm import" in content
    assert nothing_written()
    assert not Source.objects.exists()
    pending = PendingImport.objects.get()
    assert pending.uploaded_by == curator
    assert pending.file_name == "providers.csv"
    assert bytes(pending.data).startswith(b"source,external_id,name")
    assert pending.options == {
        "format": "csv",
        "source": "",
        "country": "",
        "status": "",
        "skip_invalid": False,
        "strict": False,
        "partial": False,
        "missing": "flag",
    }


def test_confirming_imports_the_file(curator_client, curator, dry_run):
    response = curator_client.post(pending_url(pending_of(dry_run)))

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == run_url(run)
    assert run.started_by == curator
    assert run.started_by_name == "curator"
    assert run.file_name == "providers.csv"
    assert run.format == "csv"
    assert run.outcome == ImportRun.Outcome.SUCCEEDED
    assert (run.created, run.updated, run.unchanged, run.rejected) == (2, 0, 0, 0)
    hope = Provider.objects.get(external_id="A-1")
    assert hope.name == "Hope House"
    assert hope.phone == "+13346732143"
    assert hope.source.slug == "test-partner"
    assert sorted(hope.modalities.values_list("slug", flat=True)) == ["counseling", "mat"]
    assert set(Provider.objects.values_list("last_import_run", flat=True)) == {run.pk}
    assert not PendingImport.objects.exists()
    assert message_texts(response) == ["Importing providers.csv: this page shows how far the import has got."]


def test_uploading_the_same_file_again_says_there_are_no_changes(curator_client, dry_run):
    curator_client.post(pending_url(pending_of(dry_run)))

    again = upload(curator_client, csv_file(*TWO_LISTINGS))

    assert "0 created, 0 updated, 2 unchanged, 0 rejected." in again.content.decode()
    assert b"No changes: the directory already matches this file." in again.content
    assert b"Confirm import" not in again.content
    assert curator_client.post(pending_url(pending_of(again))).status_code == 404
    assert ImportRun.objects.count() == 1


def test_dry_run_lists_the_fields_an_update_changes(curator_client, dry_run):
    curator_client.post(pending_url(pending_of(dry_run)))

    changed = upload(curator_client, csv_file(listing("A-1", name="Hope House Montgomery", phone="+13346730000")))

    content = changed.content.decode()
    assert "0 created, 1 updated, 0 unchanged, 0 rejected." in content
    assert "updated record 1 (external id A-1): name, phone" in content
    assert Provider.objects.get(external_id="A-1").name == "Hope House"


def test_an_invalid_record_blocks_the_import(curator_client):
    response = upload(curator_client, csv_file(listing("A-1"), listing("B-2", name="")))

    content = response.content.decode()
    assert response.status_code == 200
    assert "record 2 (external id B-2): name: " in content
    assert "Nothing can be imported" in content
    assert f'href="{UPLOAD}"' in content
    assert "Confirm import" not in content
    assert curator_client.post(pending_url(pending_of(response))).status_code == 404
    assert bytes(PendingImport.objects.get().data) == b"", "a file that cannot be imported is not kept"
    assert nothing_written()


def test_skip_invalid_imports_the_valid_records(curator_client):
    response = upload(curator_client, csv_file(listing("A-1"), listing("B-2", name="")), skip_invalid="on")
    assert b"The 1 rejected record will be skipped." in response.content

    curator_client.post(pending_url(pending_of(response)))

    run = ImportRun.objects.get()
    assert run.outcome == ImportRun.Outcome.PARTIAL
    assert (run.created, run.rejected) == (1, 1)
    assert list(Provider.objects.values_list("external_id", flat=True)) == ["A-1"]


def test_unknown_terms_are_rejected_with_their_record(curator_client):
    response = upload(curator_client, csv_file(listing("A-1", modalities="mat;astrology")))

    assert b"record 1 (external id A-1): modalities: unknown term(s) astrology" in response.content
    assert nothing_written()


def test_options_apply_to_every_record(curator_client):
    rows = (listing("A-1", source="", country=""), listing("B-2", source="", country=""))
    response = upload(curator_client, csv_file(*rows), source="moh-kenya", country="KE", status="draft")

    assert b"Would create source(s): moh-kenya." in response.content
    curator_client.post(pending_url(pending_of(response)))

    assert set(Provider.objects.values_list("source__slug", "country", "status")) == {("moh-kenya", "KE", "draft")}
    assert ImportRun.objects.get().source.slug == "moh-kenya"


# --- The dry run runs in a worker ----------------------------------------------------------------

REFRESH = '<meta http-equiv="refresh" content="2">'


def test_the_upload_queues_its_dry_run_and_sends_the_curator_to_its_page(curator_client, held_tasks):
    response = upload(curator_client, csv_file(*TWO_LISTINGS), follow=False)

    pending = PendingImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == pending_url(pending)
    [queued] = dry_run_upload.get_backend().results
    assert queued.args == [pending.pk]
    assert pending.dry_run is None
    assert nothing_written()


def test_a_queued_dry_run_s_page_says_it_waits_and_reloads_itself(curator_client, held_tasks):
    page = upload(curator_client, csv_file(*TWO_LISTINGS))

    content = page.content.decode()
    assert REFRESH in content
    assert "Waiting for a worker to start the dry run of providers.csv." in content
    assert "This page reloads itself every 2 seconds until the dry run ends." in content
    assert "Confirm import" not in content
    assert PendingImport.objects.get().dry_run is None


def test_a_running_dry_run_s_page_says_how_far_it_has_got(curator_client, held_tasks):
    page = upload(curator_client, csv_file(*TWO_LISTINGS))
    PendingImport.objects.update(checking_since=timezone.now(), records_read=100_000, records_checked=1500)

    content = curator_client.get(pending_url(pending_of(page))).content.decode()

    assert REFRESH in content
    assert "Checking providers.csv: 1,500 of 100,000 records checked." in content
    assert "Confirm import" not in content


def test_an_import_cannot_be_confirmed_before_its_dry_run_ends(curator_client, held_tasks):
    page = upload(curator_client, csv_file(*TWO_LISTINGS))

    assert curator_client.post(pending_url(pending_of(page))).status_code == 404
    assert nothing_written()


def test_an_upload_can_be_cancelled_while_it_is_checked(curator_client, held_tasks):
    page = upload(curator_client, csv_file(*TWO_LISTINGS))

    response = curator_client.post(pending_url(pending_of(page)), {"cancel": "Cancel"})

    assert response["Location"] == RUNS
    assert not PendingImport.objects.exists()


def test_a_failed_dry_run_says_so_and_offers_to_upload_again(curator_client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(tasks, "import_records", broken)

    page = upload(curator_client, csv_file(*TWO_LISTINGS))

    content = page_text(page)
    assert "The dry run stopped with an error (RuntimeError: disk full). Nothing was written." in content
    assert f'href="{UPLOAD}"' in content
    assert "Confirm import" not in content
    assert 'http-equiv="refresh"' not in content
    assert curator_client.post(pending_url(pending_of(page))).status_code == 404
    assert nothing_written()


def test_a_dry_run_that_cannot_be_queued_says_so(curator_client, monkeypatch):
    class Unreachable:
        def enqueue(self, *args):
            raise ConnectionError("Connection refused.")

    monkeypatch.setattr(tasks, "dry_run_upload", Unreachable())

    page = upload(curator_client, csv_file(*TWO_LISTINGS))

    assert "The dry run could not be queued (ConnectionError: Connection refused.)." in page_text(page)
    assert nothing_written()


def test_a_dry_run_whose_worker_was_lost_is_shown_failed(curator_client, held_tasks, settings):
    settings.IMPORT_TIME_LIMIT = 600
    page = upload(curator_client, csv_file(*TWO_LISTINGS))
    PendingImport.objects.update(checking_since=timezone.now() - timedelta(hours=1))

    content = curator_client.get(pending_url(pending_of(page))).content.decode()

    assert "The dry run did not end within 10 minutes: its worker was stopped or lost." in content
    assert 'http-equiv="refresh"' not in content


def test_an_expired_upload_s_page_sends_the_curator_to_upload_it_again(curator_client, dry_run):
    PendingImport.objects.update(created_at=timezone.now() - timedelta(days=2))

    response = curator_client.get(pending_url(pending_of(dry_run)))

    assert response["Location"] == UPLOAD
    assert message_texts(response) == ["The upload of providers.csv has expired; upload it again."]
    assert not PendingImport.objects.exists()


def test_the_page_of_a_confirmed_upload_sends_the_curator_to_its_run(curator_client, dry_run, held_tasks):
    curator_client.post(pending_url(pending_of(dry_run)))

    response = curator_client.get(pending_url(pending_of(dry_run)))

    assert response["Location"] == run_url(ImportRun.objects.get())


# --- File problems are form errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The submitted file is empty."),
        (b"\r\n  \r\n", "providers.csv is empty."),
        ("external_id,name\r\nA-1,Café\r\n".encode("latin-1"), "providers.csv is not UTF-8"),
        (b"external_id;name\r\nA-1;Hope House\r\n", "providers.csv separates columns with semicolons"),
        (b"name,city\r\nHope House,Montgomery\r\n", "providers.csv is missing the required column(s): external_id."),
        (b"external_id,name\r\n", "providers.csv holds no records."),
        ("external_id,name\r\n".encode("utf-16"), "providers.csv is encoded as UTF-16"),
    ],
    ids=["empty", "blank", "latin-1", "semicolons", "missing-column", "header-only", "utf-16"],
)
def test_unreadable_files_are_form_errors(curator_client, content, expected):
    response = upload(curator_client, SimpleUploadedFile("providers.csv", content, content_type="text/csv"))

    assert expected in file_errors(response)
    assert not PendingImport.objects.exists()
    assert nothing_written()


def test_a_broken_zip_is_a_form_error(curator_client):
    broken = SimpleUploadedFile("package.zip", b"PK\x03\x04 not really a zip", content_type="application/zip")

    response = upload(curator_client, broken)

    assert "package.zip is not a valid .zip archive." in file_errors(response)
    assert nothing_written()


def test_the_wrong_format_is_a_form_error(curator_client):
    response = upload(curator_client, csv_file(*TWO_LISTINGS), format="json")

    assert "providers.csv is not valid JSON" in file_errors(response)


def test_a_file_over_the_size_limit_is_refused(curator_client, settings):
    settings.IMPORT_MAX_BYTES = 100

    response = upload(curator_client, csv_file(*TWO_LISTINGS))

    assert "the limit is 100 bytes" in file_errors(response)
    assert not PendingImport.objects.exists()
    assert nothing_written()


def test_a_file_name_with_a_path_is_reduced_to_its_name(curator_client):
    response = upload(curator_client, csv_file(*TWO_LISTINGS, name="../../etc/providers.csv"))

    assert response.status_code == 200
    assert PendingImport.objects.get().file_name == "providers.csv"


@pytest.mark.parametrize(
    ("fields", "field", "expected"),
    [
        ({"source": "Not a slug"}, "source", "Enter a valid “slug”"),
        ({"source": "Samhsa"}, "source", "Use lowercase letters"),
        ({"country": "XX"}, "country", "Select a valid choice."),
        ({"status": "deleted"}, "status", "Select a valid choice."),
    ],
)
def test_invalid_options_are_form_errors(curator_client, fields, field, expected):
    response = upload(curator_client, csv_file(*TWO_LISTINGS), **fields)

    assert expected in file_errors(response, field)
    assert nothing_written()


def test_a_samhsa_file_needs_a_source(curator_client):
    row = samhsa_row()

    without = upload(curator_client, csv_file(row, header=SAMHSA_HEADER, name="directory.csv"))
    assert "The SAMHSA 2015 directory CSV format names no source" in file_errors(without, "source")

    with_source = upload(
        curator_client, csv_file(row, header=SAMHSA_HEADER, name="directory.csv"), source="samhsa-2015"
    )
    assert with_source.status_code == 200
    assert with_source.context["format"].name == "samhsa"
    assert b"1 created, 0 updated, 0 unchanged, 0 rejected." in with_source.content
    assert nothing_written()


# --- Confirming ----------------------------------------------------------------------------------


def test_another_user_can_neither_see_nor_confirm_someone_elses_upload(client, dry_run):
    other = User.objects.create_user(username="other-curator", is_staff=True)
    other.groups.add(Group.objects.get(name="Curators"))
    client.force_login(other)
    url = pending_url(pending_of(dry_run))

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert client.post(url, {"cancel": "Cancel"}).status_code == 404
    assert PendingImport.objects.exists()
    assert nothing_written()


def test_a_large_upload_is_planned_and_imported_without_forking_the_web_server(curator_client, monkeypatch):
    """Forking a server process (its threads, its open connections) inside a request is never safe."""
    monkeypatch.setattr(importer, "PARALLEL_MIN_RECORDS", 1)

    def refuse(*args, **kwargs):
        raise AssertionError("the web request forked")

    monkeypatch.setattr(importer.multiprocessing, "get_context", refuse)
    dry_run = upload(curator_client, csv_file(*TWO_LISTINGS))
    response = curator_client.post(pending_url(pending_of(dry_run)))

    assert response.status_code == 302
    assert Provider.objects.count() == 2


def test_opening_the_upload_s_page_again_imports_nothing(curator_client, dry_run):
    again = curator_client.get(pending_url(pending_of(dry_run)))

    assert b"2 created, 0 updated, 0 unchanged, 0 rejected." in again.content
    assert nothing_written()


def test_confirming_twice_imports_once(curator_client, dry_run):
    url = pending_url(pending_of(dry_run))

    curator_client.post(url)
    second = curator_client.post(url)

    assert second.status_code == 404
    assert ImportRun.objects.count() == 1
    assert Provider.objects.count() == 2


def test_a_double_click_on_confirm_queues_one_import(curator_client, dry_run, held_tasks):
    url = pending_url(pending_of(dry_run))

    first = curator_client.post(url)
    second = curator_client.post(url)

    run = ImportRun.objects.get()
    assert first["Location"] == run_url(run)
    assert second.status_code == 404
    assert len(import_upload.get_backend().results) == 1
    assert run.outcome == ImportRun.Outcome.QUEUED


def test_a_queue_that_cannot_be_reached_fails_the_run_and_says_so(curator_client, dry_run, monkeypatch):
    class Unreachable:
        def enqueue(self, *args):
            raise ConnectionError("Connection refused.")

    monkeypatch.setattr(tasks, "import_upload", Unreachable())

    response = curator_client.post(pending_url(pending_of(dry_run)))

    run = ImportRun.objects.get()
    assert response["Location"] == run_url(run)
    assert message_texts(response) == ["The import of providers.csv could not be queued; nothing was written."]
    assert run.outcome == ImportRun.Outcome.FAILED
    assert run.errors == ["The import could not be queued (ConnectionError: Connection refused.); nothing was written."]
    assert not PendingImport.objects.exists()


def test_a_queued_upload_can_no_longer_be_cancelled(curator_client, dry_run, held_tasks):
    url = pending_url(pending_of(dry_run))
    curator_client.post(url)

    response = curator_client.post(url, {"cancel": "Cancel"})

    assert response.status_code == 404
    assert ImportRun.objects.get().outcome == ImportRun.Outcome.QUEUED
    assert PendingImport.objects.exists()


def test_cancelling_discards_the_upload(curator_client, dry_run):
    response = curator_client.post(pending_url(pending_of(dry_run)), {"cancel": "Cancel"})

    assert response.status_code == 302
    assert response["Location"] == RUNS
    assert not PendingImport.objects.exists()
    assert nothing_written()


def test_an_expired_upload_is_not_imported(curator_client, dry_run):
    pending = pending_of(dry_run)
    PendingImport.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=2))

    response = curator_client.post(pending_url(pending))

    assert response.status_code == 302
    assert response["Location"] == UPLOAD
    assert message_texts(response) == ["The upload of providers.csv has expired; upload it again."]
    assert nothing_written()


def test_a_new_upload_deletes_expired_ones(curator_client, curator):
    stale = PendingImport.objects.create(data=b"old", file_name="old.csv", uploaded_by=curator)
    PendingImport.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=2))
    recent = PendingImport.objects.create(data=b"new", file_name="new.csv", uploaded_by=curator)

    upload(curator_client, csv_file(*TWO_LISTINGS))

    assert set(PendingImport.objects.values_list("file_name", flat=True)) == {recent.file_name, "providers.csv"}


def test_a_record_invalid_by_confirmation_time_writes_nothing(curator_client, dry_run):
    # Between the dry run and the confirmation an administrator removes a term the file uses.
    Modality.objects.filter(slug="mat").delete()

    response = curator_client.post(pending_url(pending_of(dry_run)))

    run = ImportRun.objects.get()
    assert response["Location"] == run_url(run)
    assert run.outcome == ImportRun.Outcome.FAILED
    assert "modalities: unknown term(s) mat" in run.errors[0]
    assert not Provider.objects.exists()
    page = curator_client.get(run_url(run)).content.decode()
    assert "Failed, nothing written" in page
    assert "modalities: unknown term(s) mat" in page


# --- The record of import runs -------------------------------------------------------------------


def make_run(**fields):
    now = timezone.now()
    values = {
        "file_name": "partner.csv",
        "format": "csv",
        "started_by_name": "curator",
        "started_at": now,
        "finished_at": now,
        "outcome": ImportRun.Outcome.PARTIAL,
        "created": 1,
        "rejected": 1,
        "errors": ["record 2 (external id B-2): latitude: Ensure this value is less than or equal to 90."],
        "unmapped_terms": {"HH": 3, "<script>": 1},
    }
    values.update(fields)
    return ImportRun.objects.create(**values)


def test_the_run_page_lists_errors_unmapped_terms_and_changed_providers(curator_client, make_provider):
    run = make_run()
    make_provider(name="Hope House", last_import_run=run)

    response = curator_client.get(run_url(run))

    content = response.content.decode()
    assert response.status_code == 200
    assert "<div>record 2 (external id B-2): latitude: Ensure this value is less than or equal to 90.</div>" in content
    assert "<td>HH</td><td>3</td>" in content
    assert "<td>&lt;script&gt;</td>" in content
    link = f"/admin/providers/provider/?last_import_run__id__exact={run.pk}"
    assert f'<a href="{link}">1 provider</a>' in content
    assert 'name="_save"' not in content


def test_the_changed_providers_link_filters_the_provider_list(curator_client, make_provider):
    run = make_run()
    make_provider(name="Hope House", last_import_run=run)
    make_provider(name="Elsewhere")

    response = curator_client.get(f"/admin/providers/provider/?last_import_run__id__exact={run.pk}")

    assert response.status_code == 200
    assert [provider.name for provider in response.context["cl"].result_list] == ["Hope House"]


def test_the_runs_list_shows_the_counts_and_filters(curator_client, source):
    make_run(source=source)
    make_run(file_name="other.json", format="json", outcome=ImportRun.Outcome.SUCCEEDED, errors=[])

    response = curator_client.get(RUNS, {"outcome": "partial"})

    assert response.status_code == 200
    assert [run.file_name for run in response.context["cl"].result_list] == ["partner.csv"]
    assert b"Succeeded, some records rejected" in response.content


# --- The run of a queued or running import -------------------------------------------------------


def test_confirming_queues_the_import_and_sends_the_curator_to_its_run(curator_client, dry_run, held_tasks):
    response = curator_client.post(pending_url(pending_of(dry_run)), follow=True)

    run = ImportRun.objects.get()
    assert response.redirect_chain == [(run_url(run), 302)]
    assert run.outcome == ImportRun.Outcome.QUEUED
    assert not Provider.objects.exists()
    content = response.content.decode()
    assert REFRESH in content
    assert "Waiting for a worker to start the import." in content
    assert "Importing providers.csv: this page shows how far the import has got." in content


def test_the_page_of_a_running_import_shows_its_progress_and_reloads_itself(curator_client):
    run = make_run(
        outcome=ImportRun.Outcome.RUNNING,
        finished_at=None,
        records_read=1200,
        records_planned=800,
        records_written=0,
        conflicts_kept=3,
        warnings=["record 7 (external id C-7): phone_2: set aside"] * 2,
    )

    response = curator_client.get(run_url(run))

    content = response.content.decode()
    assert REFRESH in content
    assert "This page reloads itself every 2 seconds until the import finishes." in content
    for label, value in [
        ("Records read", "1200"),
        ("Records planned", "800"),
        ("Records written", "0"),
        ("Conflicts", "3"),
        ("Warnings", "2"),
    ]:
        assert re.search(rf'<label[^>]*>{label}:</label>\s*<div class="readonly">{value}</div>', content), label


def test_a_finished_run_s_page_does_not_reload(curator_client):
    response = curator_client.get(run_url(make_run(warnings=["record 3 (external id C-3): website: set aside"])))

    content = response.content.decode()
    assert 'http-equiv="refresh"' not in content
    assert "<div>record 3 (external id C-3): website: set aside</div>" in content


def test_a_run_whose_worker_was_lost_is_shown_failed(curator_client, settings):
    settings.IMPORT_TIME_LIMIT = 600
    run = make_run(outcome=ImportRun.Outcome.RUNNING, finished_at=None, started_at=timezone.now() - timedelta(hours=1))

    response = curator_client.get(run_url(run))

    content = response.content.decode()
    assert 'http-equiv="refresh"' not in content
    assert "Failed, nothing written" in content
    assert "The import did not finish within 10 minutes: its worker was stopped or lost." in content


# --- Missing listings and invalid optional values from the upload form ------------------------------


def test_the_upload_can_archive_the_sources_listings_the_file_no_longer_holds(curator_client):
    curator_client.post(pending_url(pending_of(upload(curator_client, csv_file(*TWO_LISTINGS)))))

    dry_run = upload(curator_client, csv_file(TWO_LISTINGS[0]), missing="archive")
    assert "1 listing(s) of the file's source not in this file, would be archived:" in page_text(dry_run)
    curator_client.post(pending_url(pending_of(dry_run)))

    assert Provider.objects.get(external_id="B-2").status == Provider.Status.ARCHIVED
    run = ImportRun.objects.latest("pk")
    assert (run.missing, run.archived) == (1, 1)


def test_the_upload_flags_missing_listings_by_default_and_not_for_a_partial_file(curator_client):
    curator_client.post(pending_url(pending_of(upload(curator_client, csv_file(*TWO_LISTINGS)))))

    partial = upload(curator_client, csv_file(listing("A-1", phone="+13346732199")), partial="on")
    assert "not in this file" not in page_text(partial)
    flagged = upload(curator_client, csv_file(listing("A-1", phone="+13346732199")))
    assert "1 listing(s) of the file's source not in this file, would be flagged for curators:" in page_text(flagged)


def test_strict_rejects_an_invalid_optional_value_the_default_sets_aside(curator_client):
    bad_website = csv_file(listing("A-1", website="not a url"), header=(*HEADER, "website"))
    forgiving = upload(curator_client, bad_website)
    bad_website.seek(0)
    strict = upload(curator_client, bad_website, strict="on")

    assert "website 'not a url' set aside: Enter a valid URL." in page_text(forgiving)
    assert strict.context["found"]["blocked"] and "website: Enter a valid URL." in page_text(strict)


def page_text(response):
    return html.unescape(response.content.decode())
