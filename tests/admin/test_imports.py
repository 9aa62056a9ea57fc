"""Importing a partner file in the admin: upload, dry run, confirm; and the record of import runs."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from providers.exchange import importer
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


def confirm_url(pending):
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


def upload(client, file, **fields):
    data = {"file": file, "format": "", "source": "", "country": "", "status": ""}
    data.update(fields)
    return client.post(UPLOAD, data)


def file_errors(response, field="file"):
    assert response.status_code == 200
    assert response.templates[0].name == "admin/providers/importrun/upload.html"
    return " ".join(response.context["form"].errors.get(field, []))


def nothing_written():
    return not Provider.objects.exists() and not ImportRun.objects.exists()


def message_texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


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
    assert set(response.context["form"].fields) == {"file", "format", "source", "country", "status", "skip_invalid"}
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
    assert client.post(confirm_url(pending_of(dry_run))).status_code == 403
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
    assert pending.options == {"format": "csv", "source": "", "country": "", "status": "", "skip_invalid": False}


def test_confirming_imports_the_file(curator_client, curator, dry_run):
    response = curator_client.post(confirm_url(pending_of(dry_run)))

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
    assert message_texts(response) == ["Imported providers.csv: 2 created, 0 updated, 0 unchanged, 0 rejected."]


def test_uploading_the_same_file_again_says_there_are_no_changes(curator_client, dry_run):
    curator_client.post(confirm_url(pending_of(dry_run)))

    again = upload(curator_client, csv_file(*TWO_LISTINGS))

    assert "0 created, 0 updated, 2 unchanged, 0 rejected." in again.content.decode()
    assert b"No changes: the directory already matches this file." in again.content
    assert b"Confirm import" not in again.content
    assert not PendingImport.objects.exists()
    assert ImportRun.objects.count() == 1


def test_dry_run_lists_the_fields_an_update_changes(curator_client, dry_run):
    curator_client.post(confirm_url(pending_of(dry_run)))

    changed = upload(curator_client, csv_file(listing("A-1", name="Hope House Montgomery", phone="+13346730000")))

    content = changed.content.decode()
    assert "0 created, 1 updated, 0 unchanged, 0 rejected." in content
    assert "updated record 1 (external id A-1): name, phone" in content
    assert Provider.objects.get(external_id="A-1").name == "Hope House"


def test_an_invalid_record_blocks_the_import(curator_client):
    response = upload(curator_client, csv_file(listing("A-1"), listing("B-2", latitude="200")))

    content = response.content.decode()
    assert response.status_code == 200
    assert "record 2 (external id B-2): latitude: " in content
    assert "Nothing can be imported" in content
    assert f'href="{UPLOAD}"' in content
    assert "Confirm import" not in content
    assert not PendingImport.objects.exists()
    assert nothing_written()


def test_skip_invalid_imports_the_valid_records(curator_client):
    response = upload(curator_client, csv_file(listing("A-1"), listing("B-2", latitude="200")), skip_invalid="on")
    assert b"The 1 rejected record will be skipped." in response.content

    curator_client.post(confirm_url(pending_of(response)))

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
    curator_client.post(confirm_url(pending_of(response)))

    assert set(Provider.objects.values_list("source__slug", "country", "status")) == {("moh-kenya", "KE", "draft")}
    assert ImportRun.objects.get().source.slug == "moh-kenya"


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


def test_another_user_cannot_confirm_someone_elses_upload(client, dry_run):
    other = User.objects.create_user(username="other-curator", is_staff=True)
    other.groups.add(Group.objects.get(name="Curators"))
    client.force_login(other)

    response = client.post(confirm_url(pending_of(dry_run)))

    assert response.status_code == 404
    assert PendingImport.objects.exists()
    assert nothing_written()


def test_a_large_upload_is_planned_and_imported_without_forking_the_web_server(curator_client, monkeypatch):
    """Forking a server process (its threads, its open connections) inside a request is never safe."""
    monkeypatch.setattr(importer, "PARALLEL_MIN_RECORDS", 1)

    def refuse(*args, **kwargs):
        raise AssertionError("the web request forked")

    monkeypatch.setattr(importer.multiprocessing, "get_context", refuse)
    dry_run = upload(curator_client, csv_file(*TWO_LISTINGS))
    response = curator_client.post(confirm_url(pending_of(dry_run)))

    assert response.status_code == 302
    assert Provider.objects.count() == 2


def test_confirming_needs_a_post(curator_client, dry_run):
    assert curator_client.get(confirm_url(pending_of(dry_run))).status_code == 405
    assert nothing_written()


def test_confirming_twice_imports_once(curator_client, dry_run):
    url = confirm_url(pending_of(dry_run))

    curator_client.post(url)
    second = curator_client.post(url)

    assert second.status_code == 404
    assert ImportRun.objects.count() == 1
    assert Provider.objects.count() == 2


def test_cancelling_discards_the_upload(curator_client, dry_run):
    response = curator_client.post(confirm_url(pending_of(dry_run)), {"cancel": "Cancel"})

    assert response.status_code == 302
    assert response["Location"] == RUNS
    assert not PendingImport.objects.exists()
    assert nothing_written()


def test_an_expired_upload_is_not_imported(curator_client, dry_run):
    pending = pending_of(dry_run)
    PendingImport.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=2))

    response = curator_client.post(confirm_url(pending))

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

    response = curator_client.post(confirm_url(pending_of(dry_run)))

    run = ImportRun.objects.get()
    assert response["Location"] == run_url(run)
    assert run.outcome == ImportRun.Outcome.FAILED
    assert message_texts(response) == ["Nothing was imported from providers.csv: 1 record is invalid now."]
    assert "modalities: unknown term(s) mat" in run.errors[0]
    assert not Provider.objects.exists()


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
