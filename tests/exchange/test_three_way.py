"""A partner's next file merges into listings curators keep: field by field, against what the partner sent last."""

import pytest
from django.core.management.base import CommandError

from providers.curation import history
from providers.exchange import importer
from providers.exchange.three_way import ABSENT, Outcome, merge
from providers.models import ImportConflict, ImportRun, OpeningInterval, Provider, SourceRecord
from tests.exchange.helpers import run, write_our_csv

pytestmark = pytest.mark.django_db

CLINIC = {
    "source": "ministry",
    "external_id": "KE-1",
    "name": "Harbour Clinic",
    "country": "KE",
    "city": "Mombasa",
    "phone": "+254722123457",
    "description": "Methadone and counselling.",
    "modalities": "mat",
    "opening_hours": "Mo-Fr 08:00-16:00",
}
HOSTEL = {"source": "ministry", "external_id": "KE-2", "name": "Recovery Hostel", "country": "KE"}


def import_rows(tmp_path, rows, *args, name="partner.csv"):
    return run("import_providers", write_our_csv(tmp_path / name, rows), *args)


def correct(external_id, user=None, **values):
    """A curator's correction, saved as the admin saves it."""
    listing = Provider.objects.get(external_id=external_id)
    for name, value in values.items():
        setattr(listing, name, value)
    listing._history_channel = history.Channel.ADMIN
    listing._history_user = user
    listing.save()
    return listing


def listing(external_id="KE-1"):
    return Provider.objects.get(external_id=external_id)


# The rule, field by field


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "locked", "outcome"),
    [
        ("a", "a", "a", False, Outcome.KEEP),
        ("a", "curated", "a", False, Outcome.KEEP),
        ("a", "a", "new", False, Outcome.APPLY),
        ("a", "curated", "new", False, Outcome.CONFLICT),
        ("a", "same", "same", False, Outcome.KEEP),
        ("a", "a", "new", True, Outcome.KEEP),
        ("a", "curated", "new", True, Outcome.KEEP),
        (ABSENT, "", "new", False, Outcome.APPLY),
        (ABSENT, [], ["mat"], False, Outcome.APPLY),
        (ABSENT, "curated", "new", False, Outcome.CONFLICT),
        (ABSENT, "same", "same", False, Outcome.KEEP),
    ],
    ids=[
        "nobody-changed",
        "only-curators-changed",
        "only-the-partner-changed",
        "both-changed",
        "both-changed-alike",
        "locked",
        "locked-and-both-changed",
        "unremembered-blank",
        "unremembered-no-terms",
        "unremembered-filled",
        "unremembered-alike",
    ],
)
def test_each_field_merges_by_who_changed_it(base, ours, theirs, locked, outcome):
    assert merge(base, ours, theirs, locked=locked) is outcome


# A curator's correction and the partner's files


def test_a_curators_correction_survives_the_partners_same_file(tmp_path):
    import_rows(tmp_path, [CLINIC, HOSTEL])
    correct("KE-1", phone="+254733000111")

    output = import_rows(tmp_path, [CLINIC, HOSTEL])

    assert listing().phone == "+254733000111"
    assert "0 created, 0 updated, 2 unchanged, 0 rejected." in output
    assert not ImportConflict.objects.exists()


def test_a_curators_correction_survives_a_changed_file_that_leaves_the_field_alone(tmp_path):
    import_rows(tmp_path, [CLINIC, HOSTEL])
    correct("KE-1", phone="+254733000111")

    output = import_rows(tmp_path, [{**CLINIC, "description": "Methadone, counselling and peer support."}, HOSTEL])

    assert (listing().phone, listing().description) == ("+254733000111", "Methadone, counselling and peer support.")
    assert "updated record 1 (external id KE-1): description" in output
    assert not ImportConflict.objects.exists()


def test_a_change_only_the_partner_made_is_applied(tmp_path):
    import_rows(tmp_path, [CLINIC, HOSTEL])
    correct("KE-2", city="Kilifi")

    output = import_rows(
        tmp_path, [{**CLINIC, "phone": "+254700000001", "modalities": "mat;counseling", "opening_hours": ""}, HOSTEL]
    )

    clinic = listing()
    assert clinic.phone == "+254700000001"
    assert sorted(clinic.modalities.values_list("slug", flat=True)) == ["counseling", "mat"]
    assert not clinic.opening_hours.exists()
    assert listing("KE-2").city == "Kilifi"
    assert "updated record 1 (external id KE-1): phone, modalities, opening_hours" in output


def test_a_field_both_changed_keeps_ours_and_records_a_conflict(tmp_path):
    import_rows(tmp_path, [CLINIC, HOSTEL])
    correct("KE-1", phone="+254733000111")

    output = import_rows(tmp_path, [{**CLINIC, "phone": "+254700000001", "city": "Kilifi"}, HOSTEL])

    clinic = listing()
    assert (clinic.phone, clinic.city) == ("+254733000111", "Kilifi")
    run_record = ImportRun.objects.latest("pk")
    assert run_record.conflicts_kept == 1
    assert "1 conflict(s) kept the curators' values:" in output
    assert (
        "record 1 (external id KE-1): phone: kept ours '+254733000111'; "
        "the partner's was '+254722123457', now '+254700000001'"
    ) in output
    conflict = ImportConflict.objects.get()
    assert (conflict.provider, conflict.import_run, conflict.field) == (clinic, run_record, "phone")
    assert (conflict.our_value, conflict.partner_old_value, conflict.partner_new_value) == (
        "+254733000111",
        "+254722123457",
        "+254700000001",
    )
    assert conflict.resolution == ImportConflict.Resolution.OPEN


def test_the_same_file_again_raises_no_second_conflict_and_a_newer_one_supersedes_it(tmp_path):
    import_rows(tmp_path, [CLINIC, HOSTEL])
    correct("KE-1", phone="+254733000111")
    changed = [{**CLINIC, "phone": "+254700000001"}, HOSTEL]
    import_rows(tmp_path, changed)

    import_rows(tmp_path, changed)
    assert ImportConflict.objects.count() == 1

    import_rows(tmp_path, [{**CLINIC, "phone": "+254700000002"}, HOSTEL])
    older, newer = ImportConflict.objects.order_by("pk")
    assert older.resolution == ImportConflict.Resolution.SUPERSEDED
    assert (newer.resolution, newer.partner_old_value, newer.partner_new_value) == (
        ImportConflict.Resolution.OPEN,
        "+254700000001",
        "+254700000002",
    )
    assert listing().phone == "+254733000111"


def test_terms_and_opening_hours_merge_like_any_field(tmp_path):
    import_rows(tmp_path, [CLINIC])
    clinic = correct("KE-1")
    clinic.modalities.set(clinic.modalities.model.objects.filter(slug__in=["mat", "peer-support"]))
    clinic.opening_hours.all().delete()
    OpeningInterval.objects.create(provider=clinic, weekday=5, opens="09:00", closes="12:00")
    history.record_terms_and_hours(clinic)

    import_rows(tmp_path, [{**CLINIC, "modalities": "mat;counseling", "opening_hours": "Mo-Fr 08:00-18:00"}])

    clinic = listing()
    assert sorted(clinic.modalities.values_list("slug", flat=True)) == ["mat", "peer-support"]
    assert list(clinic.opening_hours.values_list("weekday", flat=True)) == [5]
    assert sorted(ImportConflict.objects.values_list("field", flat=True)) == ["modalities", "opening_hours"]
    modalities = ImportConflict.objects.get(field="modalities")
    assert (modalities.our_value, modalities.partner_old_value, modalities.partner_new_value) == (
        ["mat", "peer-support"],
        ["mat"],
        ["counseling", "mat"],
    )


def test_a_locked_field_never_takes_the_partners_value_and_raises_no_conflict(tmp_path):
    import_rows(tmp_path, [CLINIC])
    SourceRecord.objects.filter(provider=listing()).update(locked_fields=["phone", "description"])

    output = import_rows(tmp_path, [{**CLINIC, "phone": "+254700000001", "description": "New", "city": "Kilifi"}])

    clinic = listing()
    assert (clinic.phone, clinic.description, clinic.city) == ("+254722123457", CLINIC["description"], "Kilifi")
    assert not ImportConflict.objects.exists()
    assert "conflict" not in output
    assert SourceRecord.objects.get(provider=clinic).locked_fields == ["phone", "description"]


# Listings imported before the directory remembered what their source sent


def test_without_remembered_values_a_listing_only_imports_changed_takes_the_file(tmp_path):
    import_rows(tmp_path, [CLINIC])
    SourceRecord.objects.all().delete()

    import_rows(tmp_path, [{**CLINIC, "phone": "+254700000001"}])

    assert listing().phone == "+254700000001"
    assert not ImportConflict.objects.exists()
    assert SourceRecord.objects.get().values["phone"] == "+254700000001"


def test_without_remembered_values_a_listing_a_curator_changed_last_keeps_ours_as_conflicts(tmp_path):
    import_rows(tmp_path, [CLINIC])
    correct("KE-1", phone="+254733000111", city="")
    SourceRecord.objects.all().delete()

    import_rows(tmp_path, [{**CLINIC, "phone": "+254700000001", "city": "Kilifi"}])

    clinic = listing()
    assert (clinic.phone, clinic.city) == ("+254733000111", "Kilifi")
    assert list(ImportConflict.objects.values_list("field", "partner_old_value")) == [("phone", None)]


# Fingerprints


def test_an_unchanged_record_is_neither_validated_nor_written_again(tmp_path, monkeypatch):
    import_rows(tmp_path, [CLINIC, HOSTEL])

    def must_not_plan(record, context):
        raise AssertionError(f"record {record.number} was planned")

    monkeypatch.setattr(importer, "_plan", must_not_plan)
    output = import_rows(tmp_path, [CLINIC, HOSTEL])

    assert "0 created, 0 updated, 2 unchanged, 0 rejected." in output


def test_an_option_that_changes_what_a_record_means_changes_its_fingerprint(tmp_path):
    import_rows(tmp_path, [HOSTEL])

    output = import_rows(tmp_path, [HOSTEL], "--status", "draft")

    assert "updated record 1 (external id KE-2): status" in output
    assert listing("KE-2").status == Provider.Status.DRAFT


def test_a_listing_changed_while_its_file_was_planned_is_not_written_over(tmp_path, monkeypatch):
    import_rows(tmp_path, [CLINIC])
    plan = importer._plan

    def curator_saves_meanwhile(record, context):
        planned = plan(record, context)
        correct("KE-1", phone="+254733000111")
        return planned

    monkeypatch.setattr(importer, "_plan", curator_saves_meanwhile)
    with pytest.raises(CommandError):
        import_rows(tmp_path, [{**CLINIC, "city": "Kilifi"}])
    output = import_rows(tmp_path, [{**CLINIC, "city": "Kilifi"}], "--skip-invalid")

    assert "the listing was changed while this file was being imported" in output
    assert (listing().phone, listing().city) == ("+254733000111", "Mombasa")


# Listings the next file does not hold


def test_a_listing_missing_from_the_next_file_is_flagged_and_kept(tmp_path):
    import_rows(tmp_path, [CLINIC, HOSTEL])

    output = import_rows(tmp_path, [CLINIC])

    hostel = listing("KE-2")
    assert hostel.status == Provider.Status.PUBLISHED
    assert hostel.source_record.missing_since is not None
    assert "1 listing(s) of the file's source not in this file, flagged for curators:" in output
    assert "Recovery Hostel (external id KE-2)" in output
    assert ImportRun.objects.latest("pk").missing == 1
    flagged_at = hostel.source_record.missing_since

    import_rows(tmp_path, [CLINIC])
    assert listing("KE-2").source_record.missing_since == flagged_at

    import_rows(tmp_path, [CLINIC, HOSTEL])
    assert listing("KE-2").source_record.missing_since is None


def test_missing_archive_archives_them_with_history(tmp_path):
    import_rows(tmp_path, [CLINIC, HOSTEL])

    output = import_rows(tmp_path, [CLINIC], "--missing", "archive")

    hostel = listing("KE-2")
    assert hostel.status == Provider.Status.ARCHIVED
    assert "1 listing(s) of the file's source not in this file, archived:" in output
    run_record = ImportRun.objects.latest("pk")
    assert (run_record.missing, run_record.archived) == (1, 1)
    newest = hostel.history.order_by("-history_id").first()
    assert (newest.status, newest.history_channel, newest.history_change_reason) == (
        Provider.Status.ARCHIVED,
        history.Channel.IMPORT,
        f"Import run #{run_record.pk}",
    )


def test_a_partial_file_flags_nothing(tmp_path):
    import_rows(tmp_path, [CLINIC, HOSTEL])

    output = import_rows(tmp_path, [CLINIC], "--partial", "--missing", "archive")

    assert "not in this file" not in output
    assert listing("KE-2").status == Provider.Status.PUBLISHED
    assert listing("KE-2").source_record.missing_since is None


def test_a_dry_run_says_which_listings_are_missing_and_writes_nothing(tmp_path):
    import_rows(tmp_path, [CLINIC, HOSTEL])

    output = import_rows(tmp_path, [CLINIC], "--dry-run", "--missing", "archive")

    assert "1 listing(s) of the file's source not in this file, would be archived:" in output
    assert listing("KE-2").status == Provider.Status.PUBLISHED
