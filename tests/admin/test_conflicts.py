"""Curators settle the conflicts imports record, per source and per listing, and history keeps the decision."""

import html

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from providers.admin.roles import PARTNER_GROUP
from providers.curation import history
from providers.models import ImportConflict, Provider, Source
from tests.exchange.helpers import run, write_our_csv

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:providers_importconflict_changelist")
CLINIC = {
    "source": "ministry",
    "external_id": "KE-1",
    "name": "Harbour Clinic",
    "country": "KE",
    "phone": "+254722123457",
}
SHELTER = {
    "source": "other-partner",
    "external_id": "9",
    "name": "Open Door",
    "country": "KE",
    "phone": "+254722000001",
}


@pytest.fixture
def conflicts(tmp_path):
    """A phone both a partner and a curator changed, in each of two sources' listings."""
    for row, curated, sent in ((CLINIC, "+254733000111", "+254700000001"), (SHELTER, "+254733000222", "+254700000002")):
        run("import_providers", write_our_csv(tmp_path / "first.csv", [row]))
        listing = Provider.objects.get(external_id=row["external_id"])
        listing.phone = curated
        listing._history_channel = history.Channel.ADMIN
        listing.save()
        run("import_providers", write_our_csv(tmp_path / "next.csv", [{**row, "phone": sent}]))
    return ImportConflict.objects.order_by("pk")


def settle(client, conflict, action, listed="open"):
    return client.post(
        f"{CHANGELIST}?resolution={listed}", {"action": action, "_selected_action": [conflict.pk]}, follow=True
    )


def test_curators_list_open_conflicts_per_source_and_per_listing(curator_client, conflicts):
    clinic, shelter = conflicts

    every = curator_client.get(CHANGELIST)
    per_source = curator_client.get(CHANGELIST, {"provider__source__id__exact": Source.objects.get(slug="ministry").pk})
    per_listing = curator_client.get(CHANGELIST, {"provider__id__exact": shelter.provider_id})

    assert list(every.context["cl"].queryset) == list(ImportConflict.objects.order_by("-import_run__started_at"))[:2]
    assert list(per_source.context["cl"].queryset) == [clinic]
    assert list(per_listing.context["cl"].queryset) == [shelter]
    page = every.content.decode()
    assert "+254733000111" in page and "+254722123457" in page and "+254700000001" in page


def test_taking_the_partners_value_changes_the_listing_and_records_who_decided(curator, curator_client, conflicts):
    conflict = conflicts[0]

    response = settle(curator_client, conflict, "take_partner_values")

    assert "1 conflict: took the partner&#x27;s value." in response.content.decode()
    listing = Provider.objects.get(pk=conflict.provider_id)
    assert listing.phone == "+254700000001"
    conflict.refresh_from_db()
    assert (conflict.resolution, conflict.resolved_by) == (ImportConflict.Resolution.TAKEN, curator)
    newest = listing.history.order_by("-history_id").first()
    assert (newest.phone, newest.history_user, newest.history_change_reason) == (
        "+254700000001",
        curator,
        f"Conflict #{conflict.pk}: took the partner's phone",
    )


def test_keeping_ours_leaves_the_listing_and_records_the_decision(curator, curator_client, conflicts):
    conflict = conflicts[0]
    versions = Provider.history.filter(id=conflict.provider_id).count()

    settle(curator_client, conflict, "keep_our_values")

    assert Provider.objects.get(pk=conflict.provider_id).phone == "+254733000111"
    conflict.refresh_from_db()
    assert conflict.resolution == ImportConflict.Resolution.KEPT
    newest = Provider.history.filter(id=conflict.provider_id).order_by("-history_id").first()
    assert Provider.history.filter(id=conflict.provider_id).count() == versions + 1
    assert (newest.history_user, newest.history_change_reason) == (curator, f"Conflict #{conflict.pk}: kept our phone")


def test_the_partners_value_is_not_taken_over_a_newer_edit(curator_client, conflicts):
    conflict = conflicts[0]
    Provider.objects.filter(pk=conflict.provider_id).update(phone="+254799999999")

    response = settle(curator_client, conflict, "take_partner_values")

    assert "phone has changed since this conflict was recorded" in response.content.decode()
    assert Provider.objects.get(pk=conflict.provider_id).phone == "+254799999999"
    conflict.refresh_from_db()
    assert conflict.resolution == ImportConflict.Resolution.OPEN


def test_a_settled_conflict_leaves_the_open_list_and_is_not_settled_twice(curator_client, conflicts):
    conflict = conflicts[0]
    settle(curator_client, conflict, "keep_our_values")

    response = settle(curator_client, conflict, "take_partner_values", listed="all")

    assert "1 conflict was already settled." in response.content.decode()
    assert Provider.objects.get(pk=conflict.provider_id).phone == "+254733000111"
    assert conflict not in curator_client.get(CHANGELIST).context["cl"].queryset


def test_partner_importers_see_no_conflicts(client, conflicts):
    partner = User.objects.create_user(username="partner", password="x", is_staff=True)
    partner.groups.add(Group.objects.get(name=PARTNER_GROUP))
    partner.user_permissions.add(*Permission.objects.filter(codename__in=["view_importconflict", "change_provider"]))
    Source.objects.get(slug="ministry").partner_users.add(partner)
    client.force_login(partner)

    response = client.get(CHANGELIST)

    assert response.status_code == 200 and not list(response.context["cl"].queryset)


def test_the_import_runs_page_names_its_conflicts_and_links_to_settling_them(curator_client, conflicts):
    conflict = conflicts[0]

    page = curator_client.get(reverse("admin:providers_importrun_change", args=[conflict.import_run_id]))

    text = html.unescape(page.content.decode())
    assert (
        "Harbour Clinic (external id KE-1): phone: kept ours +254733000111; "
        "the partner's was +254722123457, now +254700000001 — open"
    ) in text
    assert f"{CHANGELIST}?import_run__id__exact={conflict.import_run_id}&resolution=all" in text
    settle_page = curator_client.get(CHANGELIST, {"import_run__id__exact": conflict.import_run_id, "resolution": "all"})
    assert list(settle_page.context["cl"].queryset) == [conflict]


# --- Walk-in hours -----------------------------------------------------------------------------

HOURS_ROW = {**CLINIC, "opening_hours": "Mo 08:00-17:00", "walk_in_hours": "Mo 09:00-12:00"}


def week(listing, walk_in):
    return [
        (weekday, f"{opens:%H:%M}", f"{closes:%H:%M}")
        for weekday, opens, closes in listing.opening_hours.filter(walk_in=walk_in).values_list(
            "weekday", "opens", "closes"
        )
    ]


@pytest.fixture
def hours_conflict(tmp_path):
    """Walk-in hours both the partner and a curator changed; the opening hours neither did."""
    run("import_providers", write_our_csv(tmp_path / "first.csv", [HOURS_ROW]))
    listing = Provider.objects.get(external_id="KE-1")
    listing.opening_hours.filter(walk_in=True).update(weekday=1)
    listing._history_channel = history.Channel.ADMIN
    listing.save()
    run("import_providers", write_our_csv(tmp_path / "next.csv", [{**HOURS_ROW, "walk_in_hours": "We 10:00-11:00"}]))
    return ImportConflict.objects.get()


def test_an_import_records_a_conflict_on_walk_in_hours_alone(hours_conflict):
    assert hours_conflict.field == "walk_in_hours"
    assert hours_conflict.our_value == [[1, "09:00", "12:00"]]
    assert hours_conflict.partner_new_value == [[2, "10:00", "11:00"]]
    listing = Provider.objects.get(pk=hours_conflict.provider_id)
    assert week(listing, walk_in=True) == [(1, "09:00", "12:00")]
    assert week(listing, walk_in=False) == [(0, "08:00", "17:00")]


def test_taking_the_partners_walk_in_hours_replaces_only_the_walk_in_week(curator, curator_client, hours_conflict):
    listing = Provider.objects.get(pk=hours_conflict.provider_id)
    opening = list(listing.opening_hours.filter(walk_in=False).values_list("pk", flat=True))

    response = settle(curator_client, hours_conflict, "take_partner_values")

    assert "1 conflict: took the partner&#x27;s value." in response.content.decode()
    assert week(listing, walk_in=True) == [(2, "10:00", "11:00")]
    assert list(listing.opening_hours.filter(walk_in=False).values_list("pk", flat=True)) == opening
    hours_conflict.refresh_from_db()
    assert (hours_conflict.resolution, hours_conflict.resolved_by) == (ImportConflict.Resolution.TAKEN, curator)
    newest = listing.history.order_by("-history_id").first()
    assert newest.history_walk_in_hours == [[2, "10:00", "11:00"]]
    assert newest.history_opening_hours == [[0, "08:00", "17:00"]]
    assert newest.history_change_reason == f"Conflict #{hours_conflict.pk}: took the partner's walk_in_hours"


def test_opening_hours_changed_since_do_not_stop_taking_the_partners_walk_in_hours(curator_client, hours_conflict):
    listing = Provider.objects.get(pk=hours_conflict.provider_id)
    listing.opening_hours.filter(walk_in=False).update(weekday=4)

    settle(curator_client, hours_conflict, "take_partner_values")

    assert week(listing, walk_in=True) == [(2, "10:00", "11:00")]
    assert week(listing, walk_in=False) == [(4, "08:00", "17:00")]


def test_walk_in_hours_changed_since_stop_taking_the_partners(curator_client, hours_conflict):
    listing = Provider.objects.get(pk=hours_conflict.provider_id)
    listing.opening_hours.filter(walk_in=True).update(weekday=6)

    response = settle(curator_client, hours_conflict, "take_partner_values")

    assert "walk_in_hours has changed since this conflict was recorded" in response.content.decode()
    assert week(listing, walk_in=True) == [(6, "09:00", "12:00")]
    hours_conflict.refresh_from_db()
    assert hours_conflict.resolution == ImportConflict.Resolution.OPEN
