"""Importing partner files: validate every record, write all or nothing, re-import changes nothing."""

import datetime

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.exchange import importer
from providers.models import ImportRun, Organization, Provider, Source
from tests.exchange.helpers import run, write_our_csv

pytestmark = pytest.mark.django_db

CLINIC = {
    "source": "coastal-ministry",
    "external_id": "KE-001",
    "name": "Harbour Medication Clinic",
    "country": "KE",
    "city": "Mombasa",
    "region": "Mombasa County",
    "street_address": "1 Harbour Road",
    "postal_code": "80100",
    "latitude": "-4.0435",
    "longitude": "39.6682",
    "phone": "0722 123456",
    "email": "help@harbour.example",
    "website": "https://harbour.example/",
    "telehealth": "yes",
    "accepting_new_clients": "",
    "last_verified": "2025-03-01",
    "modalities": "mat;counseling",
    "care_settings": "outpatient",
    "medications": "methadone;buprenorphine",
    "languages": "sw;en",
    "organization_name": "Coastal Health",
    "organization_website": "https://coastal.example/",
}
HOSTEL = {
    "source": "coastal-ministry",
    "external_id": "KE-002",
    "name": "Recovery Hostel",
    "country": "KE",
    "care_settings": "aftercare",
}


@pytest.fixture
def partner_file(tmp_path):
    return write_our_csv(tmp_path / "partner.csv", [CLINIC, HOSTEL])


def import_file(*args):
    return run("import_providers", *args)


def test_it_imports_every_field_of_our_csv(partner_file):
    import_file(partner_file)

    clinic = Provider.objects.get(external_id="KE-001")
    assert clinic.source.slug == "coastal-ministry"
    assert clinic.status == Provider.Status.PUBLISHED
    assert (clinic.name, clinic.city, clinic.region, clinic.country.code) == (
        "Harbour Medication Clinic",
        "Mombasa",
        "Mombasa County",
        "KE",
    )
    assert (clinic.latitude, clinic.longitude) == (-4.0435, 39.6682)
    assert clinic.phone == "+254722123456"
    assert (clinic.telehealth, clinic.accepting_new_clients) == (True, None)
    assert clinic.last_verified == datetime.date(2025, 3, 1)
    assert set(clinic.modalities.values_list("slug", flat=True)) == {"mat", "counseling"}
    assert set(clinic.medications.values_list("slug", flat=True)) == {"methadone", "buprenorphine"}
    assert set(clinic.languages.values_list("slug", flat=True)) == {"sw", "en"}
    assert clinic.organization.name == "Coastal Health"
    assert clinic.slug == "harbour-medication-clinic-mombasa"


def test_it_reports_what_it_did_and_records_the_run(partner_file):
    output = import_file(partner_file)

    assert "Detected format: csv (our CSV)." in output
    assert "2 created, 0 updated, 0 unchanged, 0 rejected." in output
    run_ = ImportRun.objects.get()
    assert (run_.file_name, run_.format, run_.outcome) == ("partner.csv", "csv", ImportRun.Outcome.SUCCEEDED)
    assert (run_.created, run_.updated, run_.unchanged, run_.rejected) == (2, 0, 0, 0)
    assert run_.source.slug == "coastal-ministry"
    assert run_.started_by_name
    assert set(Provider.objects.values_list("last_import_run", flat=True)) == {run_.pk}


def test_importing_the_same_file_again_changes_nothing_and_says_so(partner_file):
    import_file(partner_file)
    before = list(Provider.objects.order_by("pk").values_list("pk", "updated_at", "last_import_run"))

    output = import_file(partner_file)

    assert "0 created, 0 updated, 2 unchanged, 0 rejected." in output
    assert "No changes: the directory already matches this file." in output
    assert list(Provider.objects.order_by("pk").values_list("pk", "updated_at", "last_import_run")) == before


def test_a_changed_file_updates_only_what_changed(tmp_path, partner_file):
    import_file(partner_file)
    hostel_before = Provider.objects.get(external_id="KE-002").updated_at
    changed = write_our_csv(tmp_path / "changed.csv", [{**CLINIC, "city": "Kilifi", "modalities": "mat"}, HOSTEL])

    output = import_file(changed)

    assert "0 created, 1 updated, 1 unchanged, 0 rejected." in output
    assert "updated record 1 (external id KE-001): city, modalities" in output
    clinic = Provider.objects.get(external_id="KE-001")
    assert clinic.city == "Kilifi"
    assert set(clinic.modalities.values_list("slug", flat=True)) == {"mat"}
    assert clinic.slug == "harbour-medication-clinic-mombasa"
    assert Provider.objects.get(external_id="KE-002").updated_at == hostel_before


def test_a_dry_run_shows_the_changes_and_writes_nothing(tmp_path, partner_file):
    import_file(partner_file)
    changed = write_our_csv(
        tmp_path / "changed.csv", [{**CLINIC, "phone": "0733 000111"}, HOSTEL, {**HOSTEL, "external_id": "KE-003"}]
    )

    output = import_file(changed, "--dry-run")

    assert "1 created, 1 updated, 1 unchanged, 0 rejected." in output
    assert "updated record 1 (external id KE-001): phone" in output
    assert "Dry run: nothing was written." in output
    assert Provider.objects.count() == 2
    assert Provider.objects.get(external_id="KE-001").phone == "+254722123456"
    assert ImportRun.objects.count() == 1


def test_an_invalid_record_fails_the_whole_file_and_lists_every_error(tmp_path):
    path = write_our_csv(
        tmp_path / "bad.csv",
        [CLINIC, {**HOSTEL, "country": "XX", "status": "open"}],
    )

    with pytest.raises(CommandError) as failure:
        import_file(path)

    assert failure.value.returncode == 1
    assert "nothing was written" in str(failure.value)
    assert Provider.objects.count() == 0
    assert Source.objects.count() == 0
    assert Organization.objects.count() == 0
    run_ = ImportRun.objects.get()
    assert run_.outcome == ImportRun.Outcome.FAILED
    assert "record 2 (external id KE-002): country: Value 'XX' is not a valid choice." in run_.errors
    assert "record 2 (external id KE-002): status: Value 'open' is not a valid choice." in run_.errors


def test_skip_invalid_writes_the_valid_records_and_lists_the_rejected(tmp_path):
    path = write_our_csv(tmp_path / "bad.csv", [CLINIC, {**HOSTEL, "country": "XX"}])

    output = import_file(path, "--skip-invalid")

    assert "1 created, 0 updated, 0 unchanged, 1 rejected." in output
    assert "record 2 (external id KE-002): country: Value 'XX' is not a valid choice." in output
    assert list(Provider.objects.values_list("external_id", flat=True)) == ["KE-001"]
    assert ImportRun.objects.get().outcome == ImportRun.Outcome.PARTIAL


def test_source_option_overrides_the_files_source(partner_file):
    import_file(partner_file, "--source", "national-registry")

    assert set(Provider.objects.values_list("source__slug", flat=True)) == {"national-registry"}


def test_status_option_sets_every_records_status(partner_file):
    import_file(partner_file, "--status", "draft")

    assert set(Provider.objects.values_list("status", flat=True)) == {"draft"}


def test_country_option_fills_records_without_a_country(tmp_path):
    path = write_our_csv(tmp_path / "no-country.csv", [{**HOSTEL, "country": ""}])

    import_file(path, "--country", "ug")

    assert Provider.objects.get().country.code == "UG"


def test_an_unknown_country_option_is_refused(partner_file):
    with pytest.raises(CommandError, match="not an ISO 3166-1 alpha-2 country code"):
        import_file(partner_file, "--country", "XX")


def test_a_file_without_a_source_needs_the_source_option(tmp_path):
    path = write_our_csv(tmp_path / "anonymous.csv", [{**HOSTEL, "source": ""}])

    with pytest.raises(CommandError):
        import_file(path)

    assert (
        "record 1 (external id KE-002): source: no source given; name one with --source"
        in ImportRun.objects.get().errors
    )


def test_unknown_terms_are_errors_in_our_own_format(tmp_path):
    path = write_our_csv(tmp_path / "terms.csv", [{**HOSTEL, "modalities": "mat;yoga"}])

    with pytest.raises(CommandError):
        import_file(path)

    assert "record 1 (external id KE-002): modalities: unknown term(s) yoga" in ImportRun.objects.get().errors


def test_progress_is_reported_in_lines_when_not_on_a_terminal(partner_file):
    assert "Validated 2 of 2 records." in import_file(partner_file)


def test_our_json_imports_like_our_csv(tmp_path):
    path = tmp_path / "partner.json"
    path.write_text(
        '[{"source": "coastal-ministry", "external_id": "KE-9", "name": "Lake Clinic", "country": "KE",'
        ' "latitude": -0.1, "longitude": 34.75, "telehealth": false, "modalities": ["peer-support"]}]',
        encoding="utf-8",
    )

    output = import_file(path)

    assert "Detected format: json (our JSON)." in output
    provider = Provider.objects.get(external_id="KE-9")
    assert (provider.latitude, provider.telehealth) == (-0.1, False)
    assert list(provider.modalities.values_list("slug", flat=True)) == ["peer-support"]


def test_a_django_fixture_is_sent_to_loaddata(tmp_path):
    path = tmp_path / "fixture.json"
    path.write_text('[{"model": "providers.provider", "fields": {"name": "X"}}]', encoding="utf-8")

    with pytest.raises(CommandError, match="loaddata"):
        import_file(path)


def test_planning_in_parallel_processes_gives_the_same_result_as_in_one(tmp_path, monkeypatch):
    rows = [
        {**HOSTEL, "external_id": f"KE-{number}", "name": f"Hostel {number}", "modalities": "peer-support"}
        for number in range(40)
    ]
    rows[7] = {**rows[7], "country": "XX"}
    rows[30] = {**rows[30], "external_id": "KE-3"}
    path = write_our_csv(tmp_path / "many.csv", rows)
    import_file(path, "--skip-invalid")
    rows[12] = {**rows[12], "city": "Eldoret"}
    changed = write_our_csv(tmp_path / "changed.csv", rows)

    serial = import_file(changed, "--skip-invalid", "--dry-run")
    monkeypatch.setattr(importer, "PARALLEL_MIN_RECORDS", 2)
    parallel = import_file(changed, "--skip-invalid", "--dry-run")

    assert parallel == serial
    assert "0 created, 1 updated, 37 unchanged, 2 rejected." in parallel
    assert "updated record 13 (external id KE-12): city" in parallel
    assert "record 31 (external id KE-3): external_id: 'KE-3' already appears in record 4" in parallel


def test_a_large_import_refreshes_the_query_planners_statistics(partner_file, monkeypatch):
    monkeypatch.setattr(importer, "REFRESH_STATISTICS_AFTER", 2)
    with CaptureQueriesContext(connection) as queries:
        import_file(partner_file)

    assert any(query["sql"].startswith("ANALYZE") for query in queries)
