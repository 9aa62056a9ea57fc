"""Every change to a listing is kept: who, when, which fields, through what; curators can revert to a version."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.curation.history import Channel, snapshot_changes, snapshots, term_names
from providers.exchange.formats import read_file
from providers.exchange.importer import ImportOptions, import_records
from providers.models import ImportRun, Modality, OpeningInterval, Provider
from tests.exchange.helpers import run, write_our_csv

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/providers/provider/"
NOON = datetime.datetime(2025, 6, 2, 12, 0, tzinfo=datetime.UTC)


def change_url(provider):
    return f"/admin/providers/provider/{provider.pk}/change/"


def history_url(provider):
    return f"/admin/providers/provider/{provider.pk}/history/"


def revert_url(version):
    return f"/admin/providers/provider/{version.id}/history/{version.history_id}/"


def versions(provider):
    """The provider's versions in the order they were recorded (tests move the clock back and forth)."""
    return list(Provider.history.filter(id=provider.pk).order_by("history_id"))


def values_of(form):
    """A form's current values as the browser would post them."""
    return {field.html_name: "" if field.value() is None else field.value() for field in form}


def edit(client, provider, **changes):
    """Post the provider's admin change form as it stands, with ``changes`` (field name: posted value)."""
    response = client.get(change_url(provider))
    data = values_of(response.context["adminform"].form)
    formset = response.context["inline_admin_formsets"][0].formset
    data.update(values_of(formset.management_form))
    for form in formset.forms:
        data.update(values_of(form))
    data.update(changes)
    response = client.post(change_url(provider), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def term_ids(*slugs):
    return [term.pk for term in Modality.objects.filter(slug__in=slugs)]


def names(*slugs):
    """The modalities' names as the admin lists them."""
    return ", ".join(sorted(Modality.objects.get(slug=slug).name for slug in slugs))


def hours(provider, *intervals, walk_in=False):
    OpeningInterval.objects.bulk_create(
        OpeningInterval(provider=provider, walk_in=walk_in, weekday=weekday, opens=opens, closes=closes)
        for weekday, opens, closes in intervals
    )


@pytest.fixture
def clinic(make_provider):
    """A listing with terms and hours whose first version already holds them, as one saved in the admin would."""
    provider = make_provider(name="Harbour Clinic", city="Mombasa", country="KE", modalities=["mat"])
    hours(provider, (0, "09:00", "17:00"))
    provider.save()
    return provider


# --- Admin edits -------------------------------------------------------------------------------


def test_an_admin_edit_records_who_when_through_what_and_the_changed_fields(curator_client, curator, clinic):
    with time_machine.travel(NOON, tick=False):
        edit(curator_client, clinic, phone="0722 123456")

    version = versions(clinic)[-1]
    assert (version.history_user, version.history_date, version.history_channel) == (curator, NOON, Channel.ADMIN)
    assert version.history_type == "~"
    assert version.diff_against(versions(clinic)[-2]).changed_fields == ["phone"]


def test_a_change_to_terms_only_is_recorded_with_the_new_terms(curator_client, clinic):
    edit(curator_client, clinic, modalities=term_ids("mat", "counseling"))

    before, after = versions(clinic)[-2:]
    assert before.history_terms["modalities"] == ["mat"]
    assert after.history_terms["modalities"] == ["counseling", "mat"]
    assert after.history_channel == Channel.ADMIN


def test_a_change_to_opening_hours_only_is_recorded_with_the_new_hours(curator_client, clinic):
    edit(curator_client, clinic, **{"opening_hours-0-closes": "18:30"})

    before, after = versions(clinic)[-2:]
    assert before.history_opening_hours == [[0, "09:00", "17:00"]]
    assert after.history_opening_hours == [[0, "09:00", "18:30"]]


def test_a_listing_added_in_the_admin_starts_its_history_with_its_terms_and_hours(curator_client, curator):
    data = {
        "name": "Hope House",
        "country": "KE",
        "status": Provider.Status.DRAFT,
        "telehealth": "unknown",
        "accepting_new_clients": "unknown",
        "modalities": term_ids("counseling"),
        "opening_hours-TOTAL_FORMS": "1",
        "opening_hours-INITIAL_FORMS": "0",
        "opening_hours-0-weekday": "2",
        "opening_hours-0-opens": "08:00",
        "opening_hours-0-closes": "12:00",
    }
    assert curator_client.post("/admin/providers/provider/add/", data).status_code == 302

    [version] = versions(Provider.objects.get(name="Hope House"))
    assert (version.history_type, version.history_user, version.history_channel) == ("+", curator, Channel.ADMIN)
    assert version.history_terms["modalities"] == ["counseling"]
    assert version.history_opening_hours == [[2, "08:00", "12:00"]]


def test_each_version_snapshots_every_taxonomy(curator_client, clinic):
    edit(curator_client, clinic, name="Harbour Clinic Mombasa")

    assert versions(clinic)[-1].history_terms == {
        "modalities": ["mat"],
        "care_settings": [],
        "entry_routes": [],
        "medications": [],
        "payment_options": [],
        "populations": [],
        "languages": [],
    }


# --- Bulk actions ------------------------------------------------------------------------------


def run_action(client, action, providers):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [p.pk for p in providers]}, follow=True)


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("publish", "status", Provider.Status.PUBLISHED),
        ("unpublish", "status", Provider.Status.DRAFT),
        ("archive", "status", Provider.Status.ARCHIVED),
        ("mark_verified_today", "last_verified", datetime.date(2025, 6, 2)),
    ],
)
def test_bulk_actions_record_a_version_of_each_provider(curator_client, curator, make_provider, action, field, value):
    status = Provider.Status.DRAFT if action == "publish" else Provider.Status.PUBLISHED
    selected = [make_provider(name=name, status=status, modalities=["mat"]) for name in ("Alder", "Birch")]
    make_provider(name="Not selected")

    with time_machine.travel(NOON, tick=False):
        run_action(curator_client, action, selected)

    for provider in selected:
        version = versions(provider)[-1]
        assert getattr(version, field) == value
        assert (version.history_user, version.history_date, version.history_channel) == (curator, NOON, Channel.ADMIN)
        assert version.history_change_reason.endswith("(bulk action)")
        assert version.history_terms["modalities"] == ["mat"]
    assert len(versions(Provider.objects.get(name="Not selected"))) == 1


def action_queries(client, action, providers):
    with CaptureQueriesContext(connection) as queries:
        run_action(client, action, providers)
    return len(queries)


@pytest.mark.parametrize("action", ["publish", "mark_verified_today"])
def test_bulk_actions_run_the_same_number_of_queries_for_2_and_20_providers(admin_client, make_provider, action):
    few = [make_provider(name=f"Few {number}", modalities=["mat"]) for number in range(2)]
    many = [make_provider(name=f"Many {number}", modalities=["mat"]) for number in range(20)]
    hours(many[0], (0, "09:00", "17:00"))
    action_queries(admin_client, action, few)  # warm the session and content type caches

    assert action_queries(admin_client, action, many) == action_queries(admin_client, action, few)


# --- Imports -----------------------------------------------------------------------------------

ROW = {
    "source": "ministry",
    "external_id": "KE-1",
    "name": "Harbour Clinic",
    "country": "KE",
    "modalities": "mat;counseling",
    "opening_hours": "Mo 09:00-17:00",
}
OTHER = {"source": "ministry", "external_id": "KE-2", "name": "Hill Clinic", "country": "KE"}


def import_rows(tmp_path, rows, user=None):
    path = write_our_csv(tmp_path / "partner.csv", rows)
    _format, records = read_file(path, "csv")
    report = import_records(records, ImportOptions(file_name=path.name, user=user))
    assert report.written, report.error_lines
    return report.run


def test_an_import_records_a_version_of_each_listing_it_creates(tmp_path, curator):
    with time_machine.travel(NOON, tick=False):
        run = import_rows(tmp_path, [ROW, OTHER], user=curator)

    [version] = versions(Provider.objects.get(external_id="KE-1"))
    assert (version.history_type, version.history_channel, version.history_user) == ("+", Channel.IMPORT, curator)
    assert (version.history_change_reason, version.history_date) == (f"Import run #{run.pk}", NOON)
    assert (version.name, version.country.code, version.source.slug) == ("Harbour Clinic", "KE", "ministry")
    assert version.history_terms["modalities"] == ["counseling", "mat"]
    assert version.history_opening_hours == [[0, "09:00", "17:00"]]
    assert len(versions(Provider.objects.get(external_id="KE-2"))) == 1


def test_an_import_records_changed_listings_with_their_whole_terms_and_hours_and_skips_unchanged_ones(tmp_path):
    import_rows(tmp_path, [ROW, OTHER])

    run = import_rows(tmp_path, [{**ROW, "name": "Harbour Clinic Mombasa"}, OTHER])

    harbour = Provider.objects.get(external_id="KE-1")
    before, after = versions(harbour)
    assert (after.history_type, after.history_change_reason) == ("~", f"Import run #{run.pk}")
    assert after.diff_against(before).changed_fields == ["name"]
    assert after.history_terms["modalities"] == ["counseling", "mat"]
    assert after.history_opening_hours == [[0, "09:00", "17:00"]]
    assert len(versions(Provider.objects.get(external_id="KE-2"))) == 1


def test_an_import_that_changes_terms_and_hours_records_the_new_ones(tmp_path):
    import_rows(tmp_path, [ROW])

    import_rows(tmp_path, [{**ROW, "modalities": "peer-support", "opening_hours": "Tu 10:00-14:00"}])

    after = versions(Provider.objects.get(external_id="KE-1"))[-1]
    assert after.history_terms["modalities"] == ["peer-support"]
    assert after.history_opening_hours == [[1, "10:00", "14:00"]]


def test_an_import_from_the_command_line_records_no_user(tmp_path):
    run("import_providers", write_our_csv(tmp_path / "partner.csv", [ROW]))

    [version] = versions(Provider.objects.get(external_id="KE-1"))
    assert (version.history_user, version.history_channel) == (None, Channel.IMPORT)
    assert version.history_change_reason == f"Import run #{ImportRun.objects.get().pk}"


def test_a_dry_run_records_no_history(tmp_path):
    path = write_our_csv(tmp_path / "partner.csv", [ROW])
    _format, records = read_file(path, "csv")

    import_records(records, ImportOptions(dry_run=True))

    assert not Provider.history.exists()


# --- Other code that saves listings ------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.SUGGESTION, Channel.MERGE])
def test_code_that_saves_a_listing_names_the_user_channel_and_reason(clinic, curator, channel):
    clinic.phone = "0722 123456"
    clinic._history_user = curator
    clinic._history_channel = channel
    clinic._change_reason = "Suggestion #12"
    clinic.save()

    version = versions(clinic)[-1]
    assert (version.history_user, version.history_channel, version.history_change_reason) == (
        curator,
        channel,
        "Suggestion #12",
    )
    assert version.history_terms["modalities"] == ["mat"]
    assert version.history_opening_hours == [[0, "09:00", "17:00"]]


def test_a_save_that_names_no_channel_is_recorded_as_other(clinic):
    clinic.save()

    assert versions(clinic)[-1].history_channel == Channel.OTHER


def test_a_long_change_reason_is_shortened_rather_than_failing_the_save(clinic):
    clinic._change_reason = "A reason " * 30
    clinic.save()

    assert len(versions(clinic)[-1].history_change_reason) == 100


# --- The history page --------------------------------------------------------------------------


def test_the_history_page_shows_each_version_with_who_through_what_and_the_changes(curator_client, clinic):
    edit(curator_client, clinic, phone="0722 123456", modalities=term_ids("mat", "counseling"))
    edit(curator_client, clinic, **{"opening_hours-0-closes": "18:30"})

    response = curator_client.get(history_url(clinic))

    assert response.status_code == 200
    newest, middle = response.context["page_obj"].object_list[:2]
    assert (newest.channel, str(newest.history_user)) == ("Admin", "curator")
    assert newest.history_delta_changes == [
        {"field": "Opening hours", "old": "Mon 09:00–17:00", "new": "Mon 09:00–18:30"}
    ]
    assert middle.history_delta_changes == [
        {"field": "Main phone", "old": "", "new": "+254722123456"},
        {"field": "Modalities", "old": names("mat"), "new": names("mat", "counseling")},
    ]
    page = response.content.decode()
    assert names("mat", "counseling") in page
    assert "Mon 09:00–18:30" in page


# --- Reverting ---------------------------------------------------------------------------------


@pytest.fixture
def changed_clinic(curator_client, clinic):
    """The clinic after a curator changed its name, phone, terms and hours; returns the version before."""
    original = versions(clinic)[-1]
    edit(
        curator_client,
        clinic,
        name="Harbour Clinic Mombasa",
        phone="0722 123456",
        modalities=term_ids("counseling"),
        **{"opening_hours-0-weekday": "4", "opening_hours-0-closes": "13:00"},
    )
    return original


def test_the_revert_page_shows_what_reverting_would_change(curator_client, clinic, changed_clinic):
    response = curator_client.get(revert_url(changed_clinic))

    assert response.status_code == 200
    assert {change["field"]: (change["old"], change["new"]) for change in response.context["changes"]} == {
        "Name": ("Harbour Clinic Mombasa", "Harbour Clinic"),
        "Main phone": ("+254722123456", ""),
        "Modalities": (names("counseling"), names("mat")),
        "Opening hours": ("Fri 09:00–13:00", "Mon 09:00–17:00"),
    }
    assert Provider.objects.get(pk=clinic.pk).name == "Harbour Clinic Mombasa"  # only looking changes nothing


def test_reverting_restores_fields_terms_and_hours_as_a_new_version(curator_client, curator, clinic, changed_clinic):
    with time_machine.travel(NOON, tick=False):
        response = curator_client.post(revert_url(changed_clinic), follow=True)

    assert response.redirect_chain[-1][0] == change_url(clinic)
    clinic.refresh_from_db()
    assert (clinic.name, clinic.phone) == ("Harbour Clinic", "")
    assert [term.slug for term in clinic.modalities.all()] == ["mat"]
    assert list(clinic.opening_hours.values_list("weekday", "opens", "closes")) == [
        (0, datetime.time(9), datetime.time(17))
    ]
    version = versions(clinic)[-1]
    assert (version.history_channel, version.history_user, version.history_date) == (Channel.REVERT, curator, NOON)
    assert version.history_change_reason.startswith("Reverted to the version of")
    assert version.history_terms["modalities"] == ["mat"]
    assert version.history_opening_hours == [[0, "09:00", "17:00"]]


def test_a_version_with_a_term_deleted_since_is_not_restored(curator_client, clinic, changed_clinic):
    Modality.objects.filter(slug="mat").delete()
    count = Provider.history.count()

    response = curator_client.post(revert_url(changed_clinic))

    assert response.status_code == 200
    assert response.context["errors"] == ["Modalities: The term “mat” has been deleted since this version."]
    assert "This version cannot be restored, so nothing was changed" in response.content.decode()
    clinic.refresh_from_db()
    assert clinic.name == "Harbour Clinic Mombasa"
    assert [term.slug for term in clinic.modalities.all()] == ["counseling"]
    assert Provider.history.count() == count


def test_a_version_whose_address_another_listing_took_is_not_restored(curator_client, make_provider, source, clinic):
    original = versions(clinic)[-1]
    edit(curator_client, clinic, slug="harbour-clinic-old-town")
    make_provider(name="Another", slug=original.slug, source=source, external_id="B-1")

    response = curator_client.post(revert_url(original))

    assert response.status_code == 200
    assert response.context["errors"] == ["Slug: Provider with this Slug already exists."]
    assert Provider.objects.get(pk=clinic.pk).slug == "harbour-clinic-old-town"


def test_reverting_to_a_version_verified_by_an_account_deleted_since_leaves_who_verified_empty(curator_client, clinic):
    verifier = User.objects.create_user("former-curator")
    clinic.mark_verified(verifier, datetime.date(2025, 3, 4))
    clinic.save()
    verified = versions(clinic)[-1]
    edit(curator_client, clinic, name="Harbour Clinic Mombasa")
    verifier.delete()

    curator_client.post(revert_url(verified))

    clinic.refresh_from_db()
    assert (clinic.name, clinic.last_verified) == ("Harbour Clinic", datetime.date(2025, 3, 4))
    assert clinic.verified_by is None


def test_a_curator_who_may_only_view_cannot_revert(client, clinic, changed_clinic):
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_provider"))
    client.force_login(viewer)

    assert client.post(revert_url(changed_clinic)).status_code == 403
    assert Provider.objects.get(pk=clinic.pk).name == "Harbour Clinic Mombasa"


# --- Walk-in hours -----------------------------------------------------------------------------


@pytest.fixture
def walk_in_clinic(clinic):
    """The clinic with walk-in hours beside its opening hours, saved so that its newest version holds them."""
    hours(clinic, (0, "09:00", "11:00"), (3, "14:00", "16:00"), walk_in=True)
    clinic.save()
    return clinic


def test_a_version_snapshots_walk_in_hours_apart_from_opening_hours(walk_in_clinic):
    version = versions(walk_in_clinic)[-1]

    assert version.history_opening_hours == [[0, "09:00", "17:00"]]
    assert version.history_walk_in_hours == [[0, "09:00", "11:00"], [3, "14:00", "16:00"]]
    assert snapshots([walk_in_clinic.pk])[walk_in_clinic.pk][1] == {
        "history_opening_hours": [[0, "09:00", "17:00"]],
        "history_walk_in_hours": [[0, "09:00", "11:00"], [3, "14:00", "16:00"]],
    }


def test_a_listing_without_walk_in_hours_snapshots_none(clinic):
    assert versions(clinic)[-1].history_walk_in_hours == []


def test_an_admin_edit_that_adds_walk_in_hours_records_them(curator_client, clinic):
    edit(
        curator_client,
        clinic,
        **{
            "opening_hours-1-weekday": "2",
            "opening_hours-1-opens": "10:00",
            "opening_hours-1-closes": "12:00",
            "opening_hours-1-walk_in": "on",
        },
    )

    before, after = versions(clinic)[-2:]
    assert (before.history_walk_in_hours, after.history_walk_in_hours) == ([], [[2, "10:00", "12:00"]])
    assert after.history_opening_hours == before.history_opening_hours == [[0, "09:00", "17:00"]]
    newest = curator_client.get(history_url(clinic)).context["page_obj"].object_list[0]
    assert newest.history_delta_changes == [{"field": "Walk-in hours", "old": "none", "new": "Wed 10:00–12:00"}]


def test_snapshot_changes_name_walk_in_hours_when_they_differ(walk_in_clinic):
    older = versions(walk_in_clinic)[-1]
    OpeningInterval.objects.filter(provider=walk_in_clinic, walk_in=True, weekday=3).delete()
    walk_in_clinic.save()
    newer = versions(walk_in_clinic)[-1]

    assert snapshot_changes(newer, older, term_names()) == [
        ("Walk-in hours", "Mon 09:00–11:00, Thu 14:00–16:00", "Mon 09:00–11:00")
    ]
    assert snapshot_changes(newer, newer, term_names()) == []


def test_reverting_restores_both_weeks_of_hours(curator_client, walk_in_clinic):
    original = versions(walk_in_clinic)[-1]
    OpeningInterval.objects.filter(provider=walk_in_clinic).delete()
    hours(walk_in_clinic, (4, "08:00", "12:00"))
    hours(walk_in_clinic, (5, "10:00", "11:00"), walk_in=True)
    walk_in_clinic.save()

    page = curator_client.get(revert_url(original))
    changes = {change["field"]: (change["old"], change["new"]) for change in page.context["changes"]}
    assert changes == {
        "Opening hours": ("Fri 08:00–12:00", "Mon 09:00–17:00"),
        "Walk-in hours": ("Sat 10:00–11:00", "Mon 09:00–11:00, Thu 14:00–16:00"),
    }

    curator_client.post(revert_url(original))

    stored = walk_in_clinic.opening_hours.order_by("walk_in", "weekday")
    assert list(stored.values_list("walk_in", "weekday", "opens", "closes")) == [
        (False, 0, datetime.time(9), datetime.time(17)),
        (True, 0, datetime.time(9), datetime.time(11)),
        (True, 3, datetime.time(14), datetime.time(16)),
    ]
    version = versions(walk_in_clinic)[-1]
    assert version.history_channel == Channel.REVERT
    assert version.history_walk_in_hours == [[0, "09:00", "11:00"], [3, "14:00", "16:00"]]
    assert version.history_opening_hours == [[0, "09:00", "17:00"]]


def test_reverting_to_a_version_without_walk_in_hours_removes_them(curator_client, clinic):
    original = versions(clinic)[-1]
    hours(clinic, (2, "10:00", "12:00"), walk_in=True)
    clinic.save()

    curator_client.post(revert_url(original))

    assert not clinic.opening_hours.filter(walk_in=True).exists()
    assert list(clinic.opening_hours.values_list("weekday", flat=True)) == [0]
    assert versions(clinic)[-1].history_walk_in_hours == []
