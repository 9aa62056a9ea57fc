"""Roles in the admin: curators, partner importers (their own sources only) and administrators (superusers)."""

import csv
import io

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from providers.models import ImportRun, Organization, PendingImport, Provider, Source
from tests.admin.test_admin import ADD, CHANGELIST, change_url, form_data, listed
from tests.admin.test_imports import SAMHSA_HEADER
from tests.exchange.helpers import samhsa_row

pytestmark = pytest.mark.django_db

UPLOAD = "/admin/providers/importrun/upload/"
RUNS = "/admin/providers/importrun/"
ACCOUNT_PAGES = ("/admin/auth/user/", "/admin/auth/user/add/", "/admin/auth/group/")
OPENING_HOURS = {"add_openinginterval", "change_openinginterval", "delete_openinginterval", "view_openinginterval"}


def permissions(group_name):
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


@pytest.fixture
def harbour(db):
    """The partner's source."""
    return Source.objects.create(slug="harbour-health", name="Harbour Health")


@pytest.fixture
def ministry(db):
    """Another partner's source."""
    return Source.objects.create(slug="ministry", name="Ministry of Health")


@pytest.fixture
def partner(harbour):
    """A partner importer for Harbour Health."""
    user = User.objects.create_user(username="harbour-importer", is_staff=True)
    user.groups.add(Group.objects.get(name="Partner importers"))
    harbour.partner_users.add(user)
    return user


@pytest.fixture
def partner_client(client, partner):
    client.force_login(partner)
    return client


@pytest.fixture
def listings(make_provider, harbour, ministry):
    """One listing of each source and one with none, by name."""
    return {
        "ours": make_provider(name="Harbour Clinic", source=harbour, external_id="H-1"),
        "theirs": make_provider(name="Ministry Clinic", source=ministry, external_id="M-1"),
        "curated": make_provider(name="Curated Clinic"),
    }


def our_csv(*rows, name="providers.csv"):
    """Our CSV with the columns of ``rows`` (dicts), first row first."""
    handle = io.StringIO()
    writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, handle.getvalue().encode(), content_type="text/csv")


def row(external_id="H-9", source="harbour-health", **cells):
    return {"source": source, "external_id": external_id, "name": "Harbour Annex", "country": "KE", **cells}


def upload(client, file, **fields):
    """Upload ``file``, and follow to the upload's page, where the dry run has ended (tasks run at once)."""
    data = {"file": file, "format": "", "source": "", "country": "", "status": "", **fields}
    return client.post(UPLOAD, data, follow=True)


def form_error(response, field="file"):
    assert response.status_code == 200
    assert response.templates[0].name == "admin/providers/importrun/upload.html"
    return " ".join(response.context["form"].errors.get(field, []))


def nothing_imported():
    return not PendingImport.objects.exists() and not ImportRun.objects.exists()


# --- Curators ----------------------------------------------------------------------------------


def test_curators_edit_listings_and_their_hours_import_moderate_and_manage_no_accounts():
    granted = permissions("Curators")

    assert {"providers.add_provider", "providers.change_provider", "providers.view_provider"} <= granted
    assert {f"providers.{codename}" for codename in OPENING_HOURS} <= granted
    assert {"providers.add_importrun", "providers.view_importrun"} <= granted
    assert {"providers.view_suggestion", "providers.change_suggestion"} <= granted
    assert "providers.delete_provider" not in granted
    assert not any(permission.startswith("auth.") for permission in granted)


def test_curators_see_every_source_s_listings(curator_client, listings):
    assert listed(curator_client.get(CHANGELIST)) == ["Curated Clinic", "Harbour Clinic", "Ministry Clinic"]


def test_curators_edit_opening_hours_in_the_listing_form(curator_client, listings):
    provider = listings["theirs"]
    page = curator_client.get(change_url(provider))
    assert [formset.formset.prefix for formset in page.context["inline_admin_formsets"]] == [
        "opening_hours",
        "source_record",
    ]

    response = curator_client.post(
        change_url(provider),
        {
            **form_data(name=provider.name, slug=provider.slug, source=provider.source_id, external_id="M-1"),
            "opening_hours-TOTAL_FORMS": "1",
            "opening_hours-INITIAL_FORMS": "0",
            "opening_hours-0-weekday": "0",
            "opening_hours-0-opens": "09:00",
            "opening_hours-0-closes": "17:00",
        },
    )

    assert response.status_code == 302
    assert [str(interval) for interval in provider.opening_hours.all()] == ["Monday 09:00–17:00"]


def test_curators_do_not_see_or_choose_a_source_s_partner_importers(curator_client, harbour, partner):
    page = curator_client.get(f"/admin/providers/source/{harbour.pk}/change/")

    assert "partner_users" not in page.context["adminform"].form.fields
    response = curator_client.post(
        f"/admin/providers/source/{harbour.pk}/change/",
        {"slug": "harbour-health", "name": "Harbour Health", "url": "", "description": "", "partner_users": []},
    )
    assert response.status_code == 302
    assert list(harbour.partner_users.all()) == [partner]


# --- Partner importers: what the group holds ---------------------------------------------------


def test_partner_importers_hold_listings_hours_imports_and_a_view_of_organizations():
    assert permissions("Partner importers") == {
        "providers.add_provider",
        "providers.change_provider",
        "providers.view_provider",
        *(f"providers.{codename}" for codename in OPENING_HOURS),
        "providers.add_importrun",
        "providers.view_importrun",
        "providers.view_organization",
    }


def test_a_partner_signs_in_to_the_admin_and_sees_listings_imports_and_organizations(partner_client):
    response = partner_client.get("/admin/")

    assert response.status_code == 200
    models = [model["object_name"] for app in response.context["app_list"] for model in app["models"]]
    assert sorted(models) == ["ImportRun", "Organization", "Provider"]


@pytest.mark.parametrize(
    "url",
    [
        *ACCOUNT_PAGES,
        "/admin/providers/modality/",
        "/admin/providers/modality/add/",
        "/admin/providers/language/",
        "/admin/providers/source/",
        "/admin/providers/source/add/",
        "/admin/providers/organization/add/",
        "/admin/providers/suggestion/",
    ],
)
def test_a_partner_manages_no_accounts_vocabularies_sources_organizations_or_suggestions(partner_client, url):
    assert partner_client.get(url).status_code == 403


# --- Partner importers: organizations of their listings and of published ones --------------------


def organization_autocomplete(client, term):
    """The organizations the listing form's autocomplete offers for ``term``."""
    found = client.get(
        "/admin/autocomplete/",
        {"app_label": "providers", "model_name": "provider", "field_name": "organization", "term": term},
    )
    assert found.status_code == 200
    return [result["text"] for result in found.json()["results"]]


def listed_organizations(response):
    assert response.status_code == 200
    return [organization.name for organization in response.context["cl"].result_list]


def test_a_partner_may_look_organizations_up_but_not_change_them(partner_client, make_provider, harbour):
    organization = Organization.objects.create(slug="moh", name="Ministry of Health")
    make_provider(name="Harbour Clinic", source=harbour, external_id="H-1", organization=organization)

    assert listed_organizations(partner_client.get("/admin/providers/organization/")) == ["Ministry of Health"]
    assert organization_autocomplete(partner_client, "ministry") == ["Ministry of Health"]
    response = partner_client.post(
        f"/admin/providers/organization/{organization.pk}/change/", {"slug": "moh", "name": "Renamed"}
    )
    assert response.status_code == 403
    organization.refresh_from_db()
    assert organization.name == "Ministry of Health"


@pytest.fixture
def organizations(make_provider, harbour, ministry):
    """Organizations by the listings that name them: the partner's draft, another source's published listing,
    only another source's draft and archived listings, a listing of no source, none."""
    named = {
        slug: Organization.objects.create(slug=slug, name=name)
        for slug, name in [
            ("ours", "Harbour Health Trust"),
            ("published", "Health Ministry"),
            ("drafts", "Hidden Health Network"),
            ("curated", "Healing Hands"),
            ("unused", "Health Unused"),
        ]
    }
    make_provider(name="Harbour Draft", source=harbour, external_id="H-1", organization=named["ours"], status="draft")
    make_provider(name="Ministry Clinic", source=ministry, external_id="M-1", organization=named["published"])
    make_provider(
        name="Ministry Draft", source=ministry, external_id="M-2", organization=named["drafts"], status="draft"
    )
    make_provider(
        name="Ministry Closed", source=ministry, external_id="M-3", organization=named["drafts"], status="archived"
    )
    make_provider(name="Curated Clinic", organization=named["curated"])
    return named


VISIBLE_TO_THE_PARTNER = ["Harbour Health Trust", "Healing Hands", "Health Ministry"]


def test_a_partner_lists_the_organizations_of_their_listings_and_of_published_ones(partner_client, organizations):
    assert listed_organizations(partner_client.get("/admin/providers/organization/")) == VISIBLE_TO_THE_PARTNER
    assert listed_organizations(partner_client.get("/admin/providers/organization/", {"q": "hidden"})) == []


def test_a_partner_finds_only_those_organizations_in_the_listing_form_s_autocomplete(partner_client, organizations):
    assert organization_autocomplete(partner_client, "h") == VISIBLE_TO_THE_PARTNER
    assert organization_autocomplete(partner_client, "hidden") == []


@pytest.mark.parametrize(
    ("organization", "status"), [("ours", 200), ("published", 200), ("drafts", 404), ("unused", 404)]
)
def test_a_partner_opens_only_those_organizations(partner_client, organizations, organization, status):
    url = f"/admin/providers/organization/{organizations[organization].pk}/change/"

    assert partner_client.get(url).status_code == status


def test_a_partner_cannot_attach_their_listing_to_an_organization_hidden_from_them(
    partner_client, organizations, harbour
):
    provider = Provider.objects.get(name="Harbour Draft")
    data = form_data(name=provider.name, slug=provider.slug, source=harbour.pk, external_id="H-1")

    hidden = partner_client.post(change_url(provider), {**data, "organization": organizations["drafts"].pk})
    assert "Select a valid choice" in str(hidden.context["adminform"].form.errors["organization"])
    shown = partner_client.post(change_url(provider), {**data, "organization": organizations["published"].pk})
    assert shown.status_code == 302
    assert Provider.objects.get(pk=provider.pk).organization == organizations["published"]


def test_curators_see_every_organization(curator_client, organizations):
    every = sorted(organization.name for organization in organizations.values())

    assert listed_organizations(curator_client.get("/admin/providers/organization/")) == every
    assert organization_autocomplete(curator_client, "h") == every
    assert curator_client.get(f"/admin/providers/organization/{organizations['drafts'].pk}/change/").status_code == 200


# --- Partner importers: their own listings only -------------------------------------------------


def test_a_partner_lists_only_their_source_s_listings(partner_client, listings):
    assert listed(partner_client.get(CHANGELIST)) == ["Harbour Clinic"]
    assert listed(partner_client.get(CHANGELIST, {"q": "Clinic"})) == ["Harbour Clinic"]
    assert listed(partner_client.get(CHANGELIST, {"source__id__exact": listings["theirs"].source_id})) == []


def test_a_partner_of_two_sources_lists_both(partner_client, partner, ministry, listings):
    ministry.partner_users.add(partner)

    assert listed(partner_client.get(CHANGELIST)) == ["Harbour Clinic", "Ministry Clinic"]


def test_a_partner_of_no_source_lists_nothing(client, listings):
    user = User.objects.create_user(username="new-partner", is_staff=True)
    user.groups.add(Group.objects.get(name="Partner importers"))
    client.force_login(user)

    assert listed(client.get(CHANGELIST)) == []


def test_the_source_filter_offers_a_partner_only_their_sources(partner_client, listings, harbour, ministry):
    page = partner_client.get(CHANGELIST).content.decode()

    assert f"source__id__exact={harbour.pk}" in page
    assert f"source__id__exact={ministry.pk}" not in page


@pytest.mark.parametrize("listing", ["theirs", "curated"])
@pytest.mark.parametrize("page", ["change/", "history/", "delete/"])
def test_another_source_s_listing_is_out_of_a_partner_s_reach(partner_client, listings, listing, page):
    provider = listings[listing]

    assert partner_client.get(f"/admin/providers/provider/{provider.pk}/{page}").status_code in (403, 404)


def test_an_old_version_from_when_a_listing_was_theirs_gives_a_partner_no_rights(rf, partner, listings, harbour):
    # What a history page hands the admin: the listing as it was, here when it still belonged to Harbour Health.
    old_version = Provider.objects.get(pk=listings["theirs"].pk)
    old_version.source = harbour
    request = rf.get("/admin/")
    request.user = partner
    provider_admin = admin.site._registry[Provider]

    assert not provider_admin.has_view_permission(request, old_version)
    assert not provider_admin.has_change_permission(request, old_version)
    assert provider_admin.has_change_permission(request, listings["ours"])


def test_a_partner_cannot_save_another_source_s_listing(partner_client, listings):
    provider = listings["theirs"]

    response = partner_client.post(change_url(provider), form_data(name="Taken over", slug=provider.slug))

    assert response.status_code == 404
    provider.refresh_from_db()
    assert provider.name == "Ministry Clinic"


def test_a_partner_edits_and_publishes_their_own_listing(partner_client, listings, harbour):
    provider = listings["ours"]
    assert partner_client.get(change_url(provider)).status_code == 200

    response = partner_client.post(
        change_url(provider),
        form_data(name="Harbour Clinic", slug=provider.slug, status="archived", source=harbour.pk, external_id="H-1"),
    )

    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.status == Provider.Status.ARCHIVED


def test_a_partner_is_offered_only_their_sources_for_a_listing(partner_client, listings, harbour):
    field = partner_client.get(change_url(listings["ours"])).context["adminform"].form.fields["source"]

    assert list(field.queryset) == [harbour]
    assert field.required


@pytest.mark.parametrize(("source", "error"), [("other", "Select a valid choice"), ("", "This field is required")])
def test_a_partner_cannot_move_their_listing_to_another_source_or_none(
    partner_client, listings, ministry, source, error
):
    provider = listings["ours"]
    chosen = ministry.pk if source == "other" else ""

    response = partner_client.post(
        change_url(provider), form_data(name="Moved", slug=provider.slug, source=chosen, external_id="H-1")
    )

    assert response.status_code == 200
    assert error in str(response.context["adminform"].form.errors["source"])
    provider.refresh_from_db()
    assert (provider.name, provider.source_id) == ("Harbour Clinic", listings["ours"].source_id)


def test_a_partner_adds_listings_to_their_own_source_only(partner_client, harbour, ministry):
    assert partner_client.get(ADD).context["adminform"].form.initial["source"] == harbour.pk

    refused = partner_client.post(ADD, form_data(name="Elsewhere", source=ministry.pk))
    assert "Select a valid choice" in str(refused.context["adminform"].form.errors["source"])
    unsourced = partner_client.post(ADD, form_data(name="Nowhere", source=""))
    assert "This field is required" in str(unsourced.context["adminform"].form.errors["source"])
    added = partner_client.post(ADD, form_data(name="Harbour Annex", source=harbour.pk, external_id="H-2"))

    assert added.status_code == 302
    assert list(Provider.objects.values_list("name", "source__slug")) == [("Harbour Annex", "harbour-health")]


def test_bulk_actions_of_a_partner_skip_other_sources_listings(partner_client, listings):
    everything = [provider.pk for provider in listings.values()]

    partner_client.post(CHANGELIST, {"action": "unpublish", "_selected_action": everything})

    statuses = dict(Provider.objects.values_list("name", "status"))
    assert statuses == {"Harbour Clinic": "draft", "Ministry Clinic": "published", "Curated Clinic": "published"}


def test_a_partner_deletes_nothing(partner_client, listings):
    ours = listings["ours"]

    actions = [name for name, _ in partner_client.get(CHANGELIST).context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert partner_client.post(f"/admin/providers/provider/{ours.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Provider.objects.filter(pk=ours.pk).exists()


def test_a_partner_previews_their_own_drafts_only(partner_client, make_provider, harbour, ministry):
    ours = make_provider(name="Harbour Draft", source=harbour, external_id="H-3", status=Provider.Status.DRAFT)
    theirs = make_provider(name="Ministry Draft", source=ministry, external_id="M-3", status=Provider.Status.DRAFT)

    assert partner_client.get(ours.get_absolute_url()).status_code == 200
    assert partner_client.get(theirs.get_absolute_url()).status_code == 404


# --- Partner importers: imports into their own sources only -------------------------------------


def test_a_partner_imports_a_file_of_their_source(partner_client, partner, harbour):
    dry_run = upload(partner_client, our_csv(row("H-9"), row("H-10", name="Harbour Outreach")))
    assert b"2 created, 0 updated, 0 unchanged, 0 rejected." in dry_run.content

    partner_client.post(f"{UPLOAD}{dry_run.context['pending'].pk}/")

    assert set(Provider.objects.values_list("external_id", "source__slug")) == {
        ("H-9", "harbour-health"),
        ("H-10", "harbour-health"),
    }
    assert ImportRun.objects.get().started_by == partner


def test_a_file_with_another_source_s_records_is_refused_whole(partner_client, ministry):
    response = upload(partner_client, our_csv(row("H-9"), row("M-9", source="ministry"), row("X-1", source="new-one")))

    assert form_error(response) == (
        "providers.csv has records of source(s) ministry, new-one; "
        "you may import into your own sources only: harbour-health."
    )
    assert nothing_imported()
    assert not Source.objects.filter(slug="new-one").exists()


@pytest.mark.parametrize("chosen", ["ministry", "new-one"])
def test_choosing_another_source_for_every_record_is_refused(partner_client, ministry, chosen):
    response = upload(partner_client, our_csv(row("H-9", source="")), source=chosen)

    assert form_error(response, "source") == "You may import into your own sources only: harbour-health."
    assert nothing_imported()


def test_a_format_without_sources_imports_into_the_partner_s_chosen_source(partner_client, harbour, ministry):
    def samhsa_file():
        handle = io.StringIO()
        writer = csv.DictWriter(handle, fieldnames=SAMHSA_HEADER, lineterminator="\r\n")
        writer.writeheader()
        writer.writerow(samhsa_row())
        return SimpleUploadedFile("directory.csv", handle.getvalue().encode(), content_type="text/csv")

    refused = upload(partner_client, samhsa_file(), source="ministry")
    assert form_error(refused, "source") == "You may import into your own sources only: harbour-health."

    accepted = upload(partner_client, samhsa_file(), source="harbour-health")
    assert b"1 created, 0 updated, 0 unchanged, 0 rejected." in accepted.content


def test_a_partner_imports_their_own_export_through_their_source_s_saved_mapping(partner_client, harbour):
    harbour.mapping = {"format": "csv", "country": "KE", "id": "Ref", "fields": {"name": "Title"}}
    harbour.save()
    export = SimpleUploadedFile("export.csv", "Ref;Title\r\n7;Harbour Annex\r\n".encode("cp1252"))

    dry_run = upload(partner_client, export, source="harbour-health")
    assert b"1 created, 0 updated, 0 unchanged, 0 rejected." in dry_run.content
    partner_client.post(f"{UPLOAD}{dry_run.context['pending'].pk}/")

    assert list(Provider.objects.values_list("external_id", "name")) == [("7", "Harbour Annex")]


def test_a_partner_cannot_rename_an_organization_other_sources_listings_belong_to(
    partner_client, make_provider, ministry
):
    shared = Organization.objects.create(slug="moh", name="Ministry of Health")
    make_provider(name="Ministry Clinic", source=ministry, external_id="M-1", organization=shared)

    renamed = upload(partner_client, our_csv(row(organization_slug="moh", organization_name="Harbour Health Ltd")))
    assert form_error(renamed) == (
        "providers.csv would change organization(s) that other sources' listings belong to: moh (name). "
        "Give them as the directory has them, or ask a curator to change them."
    )
    assert nothing_imported()

    as_stored = upload(partner_client, our_csv(row(organization_slug="moh", organization_name="Ministry of Health")))
    assert b"1 created" in as_stored.content


def test_a_partner_may_describe_an_organization_only_their_listings_belong_to(partner_client, make_provider, harbour):
    own = Organization.objects.create(slug="harbour", name="Harbour")
    make_provider(name="Harbour Clinic", source=harbour, external_id="H-1", organization=own)
    Organization.objects.create(slug="unused", name="Unused")

    response = upload(
        partner_client,
        our_csv(
            row("H-1", organization_slug="harbour", organization_name="Harbour Health Ltd"),
            row("H-2", organization_slug="unused", organization_name="Now Used"),
            row("H-3", organization_slug="fresh", organization_name="Fresh Start"),
        ),
    )

    assert b"2 created, 1 updated, 0 unchanged, 0 rejected." in response.content


def test_an_organization_of_a_listing_without_source_is_not_the_partner_s(partner_client, make_provider):
    curated = Organization.objects.create(slug="ngo", name="Recovery NGO")
    make_provider(name="Curated Clinic", organization=curated)

    response = upload(partner_client, our_csv(row(organization_slug="ngo", organization_name="Renamed NGO")))

    assert "would change organization(s)" in form_error(response)


def test_a_partner_who_lost_the_source_before_confirming_imports_nothing(partner_client, partner, harbour):
    dry_run = upload(partner_client, our_csv(row("H-9")))
    harbour.partner_users.remove(partner)

    response = partner_client.post(f"{UPLOAD}{dry_run.context['pending'].pk}/", follow=True)

    assert [str(message) for message in response.context["messages"]] == [
        "Nothing was imported: You are not a partner of any source yet: ask an administrator to add you to yours."
    ]
    assert not Provider.objects.exists()
    assert nothing_imported()


def test_a_partner_of_no_source_is_told_so(client):
    user = User.objects.create_user(username="new-partner", is_staff=True)
    user.groups.add(Group.objects.get(name="Partner importers"))
    client.force_login(user)

    response = upload(client, our_csv(row("H-9")))

    assert response.context["form"].non_field_errors() == [
        "You are not a partner of any source yet: ask an administrator to add you to yours."
    ]
    assert nothing_imported()


def test_the_upload_form_suggests_only_the_partner_s_sources(partner_client, harbour, ministry):
    page = partner_client.get(UPLOAD)

    assert list(page.context["sources"]) == [harbour]


def import_file(client, file):
    dry_run = upload(client, file)
    client.post(f"{UPLOAD}{dry_run.context['pending'].pk}/")
    return ImportRun.objects.latest("started_at")


def test_a_partner_sees_only_the_import_runs_they_started(partner_client, curator, ministry):
    curator_client = Client()
    curator_client.force_login(curator)
    ours = import_file(partner_client, our_csv(row("H-9")))
    theirs = import_file(curator_client, our_csv(row("M-9", source="ministry")))

    assert list(partner_client.get(RUNS).context["cl"].result_list) == [ours]
    assert partner_client.get(f"{RUNS}{ours.pk}/change/").status_code == 200
    assert partner_client.get(f"{RUNS}{theirs.pk}/change/").status_code == 404


# --- Administrators ----------------------------------------------------------------------------


def test_administrators_are_superusers_and_see_everything(admin_client, listings):
    assert listed(admin_client.get(CHANGELIST)) == ["Curated Clinic", "Harbour Clinic", "Ministry Clinic"]
    for url in ACCOUNT_PAGES:
        assert admin_client.get(url).status_code == 200


def test_administrators_choose_a_source_s_partner_importers(admin_client, ministry, partner):
    url = f"/admin/providers/source/{ministry.pk}/change/"
    assert "partner_users" in admin_client.get(url).context["adminform"].form.fields

    response = admin_client.post(
        url,
        {"slug": "ministry", "name": "Ministry of Health", "url": "", "description": "", "partner_users": [partner.pk]},
    )

    assert response.status_code == 302
    assert list(ministry.partner_users.all()) == [partner]


@pytest.mark.parametrize(
    "path", ["/admin/providers/provider/duplicates/", "/admin/providers/provider/duplicates/merge/?ids=1&ids=2"]
)
def test_partner_importers_cannot_reach_duplicates_across_sources(partner_client, listings, path):
    assert partner_client.get(path).status_code == 403


def test_curators_reach_the_duplicates(curator_client, listings):
    assert curator_client.get("/admin/providers/provider/duplicates/").status_code == 200
