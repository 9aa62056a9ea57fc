"""The curator admin at /admin/: provider lists, filters, bulk actions, forms and the Curators group."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from providers.models import Modality, Organization, Provider, Source

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/providers/provider/"
ADD = "/admin/providers/provider/add/"
BULK_ACTIONS = ("publish", "unpublish", "archive", "mark_verified_today")


def change_url(provider):
    return f"/admin/providers/provider/{provider.pk}/change/"


def listed(response):
    """Names of the providers on a changelist page, in display order."""
    assert response.status_code == 200
    return [provider.name for provider in response.context["cl"].result_list]


# The management forms of the opening hours inline, holding no intervals, and of what a source delivered
# (shown for listings that have a source), left as it is.
NO_OPENING_HOURS = {
    "opening_hours-TOTAL_FORMS": "0",
    "opening_hours-INITIAL_FORMS": "0",
    "source_record-TOTAL_FORMS": "0",
    "source_record-INITIAL_FORMS": "0",
}


def form_data(**overrides):
    """POST data for the provider add/change form: a valid draft in the United States."""
    data = {
        "name": "Hope House",
        "slug": "",
        "organization": "",
        "status": Provider.Status.DRAFT,
        "description": "",
        "phone": "",
        "intake_phone": "",
        "hotline_phone": "",
        "email": "",
        "website": "",
        "street_address": "",
        "street_address_2": "",
        "city": "",
        "region": "",
        "postal_code": "",
        "country": "US",
        "latitude": "",
        "longitude": "",
        "telehealth": "unknown",
        "accepting_new_clients": "unknown",
        "last_verified": "",
        "source": "",
        "external_id": "",
        "time_zone": "",
        **NO_OPENING_HOURS,
    }
    data.update(overrides)
    return data


def form_errors(response):
    assert response.status_code == 200
    return response.context["adminform"].form.errors


# --- Pages render ------------------------------------------------------------------------------


def test_superuser_sees_the_provider_changelist(admin_client, make_provider):
    make_provider(name="Hope House", city="Nairobi", country="KE")

    response = admin_client.get(CHANGELIST)

    assert listed(response) == ["Hope House"]
    assert b"Nairobi" in response.content


def test_superuser_sees_the_provider_add_form(admin_client):
    response = admin_client.get(ADD)

    assert response.status_code == 200
    assert set(form_data()) - set(NO_OPENING_HOURS) <= set(response.context["adminform"].form.fields) | {
        "created_at",
        "updated_at",
    }


def test_superuser_sees_the_provider_change_form(admin_client, make_provider, source):
    provider = make_provider(
        name="Hope House", source=source, external_id="A-1", modalities=["mat"], languages=["en", "sw"]
    )

    response = admin_client.get(change_url(provider))

    assert response.status_code == 200
    assert response.context["original"] == provider
    assert b"Hope House" in response.content


def test_admin_index_shows_the_treatment_directory_app(admin_client):
    response = admin_client.get("/admin/")

    assert response.status_code == 200
    assert "Treatment directory" in [app["name"] for app in response.context["app_list"]]
    assert b"Treatment directory" in response.content


# --- Query count -------------------------------------------------------------------------------


def create_listings(count, start=0):
    """Providers with everything the changelist shows or filters on: source, organisation, terms."""
    sources = [Source.objects.get_or_create(slug=f"source-{n}", defaults={"name": f"Source {n}"})[0] for n in range(3)]
    organization, _ = Organization.objects.get_or_create(slug="moh", defaults={"name": "Ministry of Health"})
    modalities = list(Modality.objects.all())
    countries = ["US", "KE", "GB", "IN", "BR"]
    today = timezone.localdate()
    for number in range(start, start + count):
        provider = Provider.objects.create(
            name=f"Provider {number:03}",
            city=f"City {number}",
            country=countries[number % len(countries)],
            status=Provider.Status.PUBLISHED if number % 2 else Provider.Status.DRAFT,
            source=sources[number % len(sources)],
            external_id=f"EXT-{number}",
            organization=organization,
            last_verified=today - timedelta(days=number * 10),
        )
        provider.modalities.set(modalities[: number % len(modalities) + 1])


def changelist_queries(client, url=CHANGELIST):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries)


@pytest.mark.parametrize("query", ["", "?status__exact=published&country=KE", "?q=Provider"])
def test_changelist_runs_the_same_number_of_queries_for_5_and_60_providers(admin_client, query):
    create_listings(5)
    changelist_queries(admin_client, CHANGELIST + query)  # warm the session and content type caches
    response, few = changelist_queries(admin_client, CHANGELIST + query)
    shown_few = len(response.context["cl"].result_list)

    create_listings(55, start=5)
    response, many = changelist_queries(admin_client, CHANGELIST + query)

    assert len(response.context["cl"].result_list) > shown_few
    assert many == few


def test_changelist_shows_all_60_providers_on_one_page(admin_client):
    create_listings(60)

    response = admin_client.get(CHANGELIST)

    assert len(listed(response)) == 60


# --- Filters -----------------------------------------------------------------------------------


def test_changelist_filters_by_status(admin_client, make_provider):
    make_provider(name="Open", status=Provider.Status.PUBLISHED)
    make_provider(name="Draft", status=Provider.Status.DRAFT)
    make_provider(name="Closed", status=Provider.Status.ARCHIVED)

    assert listed(admin_client.get(CHANGELIST + "?status__exact=published")) == ["Open"]
    assert listed(admin_client.get(CHANGELIST + "?status__exact=draft")) == ["Draft"]
    assert listed(admin_client.get(CHANGELIST + "?status__exact=archived")) == ["Closed"]


def test_country_filter_offers_only_countries_in_use_and_filters_by_them(admin_client, make_provider):
    make_provider(name="Nairobi clinic", country="KE")
    make_provider(name="Mombasa clinic", country="KE")
    make_provider(name="Montgomery clinic", country="US")

    page = admin_client.get(CHANGELIST).content.decode()
    assert 'href="?country=KE"' in page
    assert 'href="?country=US"' in page
    assert 'href="?country=GB"' not in page

    assert listed(admin_client.get(CHANGELIST + "?country=KE")) == ["Mombasa clinic", "Nairobi clinic"]
    assert listed(admin_client.get(CHANGELIST + "?country=US")) == ["Montgomery clinic"]


def test_changelist_filters_by_modality(admin_client, make_provider):
    make_provider(name="Methadone clinic", modalities=["mat", "counseling"])
    make_provider(name="Peer group", modalities=["peer-support"])
    make_provider(name="Untagged")
    mat = Modality.objects.get(slug="mat")

    page = admin_client.get(CHANGELIST).content.decode()
    assert f'href="?modalities__id__exact={mat.pk}"' in page
    assert listed(admin_client.get(CHANGELIST + f"?modalities__id__exact={mat.pk}")) == ["Methadone clinic"]
    assert listed(admin_client.get(CHANGELIST + "?modalities__isnull=True")) == ["Untagged"]


def test_changelist_filters_by_source(admin_client, make_provider, source):
    make_provider(name="Imported", source=source, external_id="A-1")
    make_provider(name="Hand made")

    assert listed(admin_client.get(CHANGELIST + f"?source__id__exact={source.pk}")) == ["Imported"]


@pytest.fixture
def verified_listings(make_provider):
    """One provider per verification age, named for the bucket it belongs in."""
    today = timezone.localdate()
    ages = {
        "Never verified": None,
        "Verified today": 0,
        "Verified 182 days ago": 182,
        "Verified 183 days ago": 183,
        "Verified 300 days ago": 300,
        "Verified 364 days ago": 364,
        "Verified 365 days ago": 365,
        "Verified 3 years ago": 3 * 365,
    }
    for name, days in ages.items():
        make_provider(name=name, last_verified=None if days is None else today - timedelta(days=days))
    return ages


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("never", {"Never verified"}),
        ("6m", {"Verified today", "Verified 182 days ago"}),
        ("12m", {"Verified 183 days ago", "Verified 300 days ago", "Verified 364 days ago"}),
        ("old", {"Verified 365 days ago", "Verified 3 years ago"}),
    ],
)
def test_verification_age_filter(admin_client, verified_listings, value, expected):
    assert set(listed(admin_client.get(CHANGELIST + f"?verified={value}"))) == expected


def test_every_provider_falls_in_exactly_one_verification_age(admin_client, verified_listings):
    seen = []
    for value in ("never", "6m", "12m", "old"):
        seen += listed(admin_client.get(CHANGELIST + f"?verified={value}"))

    assert sorted(seen) == sorted(verified_listings)


def test_verification_age_filter_links_are_offered(admin_client, make_provider):
    make_provider()

    page = admin_client.get(CHANGELIST).content.decode()

    for value in ("never", "6m", "12m", "old"):
        assert f'href="?verified={value}"' in page


def test_filters_combine(admin_client, make_provider):
    today = timezone.localdate()
    make_provider(name="Kenya recent", country="KE", last_verified=today)
    make_provider(name="Kenya never", country="KE")
    make_provider(name="US recent", country="US", last_verified=today)

    assert listed(admin_client.get(CHANGELIST + "?country=KE&verified=6m")) == ["Kenya recent"]


# --- Search ------------------------------------------------------------------------------------


def test_search_by_name(admin_client, make_provider):
    make_provider(name="Hope House")
    make_provider(name="Serenity Centre")

    assert listed(admin_client.get(CHANGELIST, {"q": "hope"})) == ["Hope House"]


def test_search_by_external_id(admin_client, make_provider, source):
    make_provider(name="Imported", source=source, external_id="4041AL35007")
    make_provider(name="Other", source=source, external_id="9999XX00000")

    assert listed(admin_client.get(CHANGELIST, {"q": "4041AL35007"})) == ["Imported"]


def test_search_by_stored_phone_and_city(admin_client, make_provider):
    make_provider(name="Montgomery clinic", city="Montgomery", phone="+13346732143")
    make_provider(name="Selma clinic", city="Selma")

    assert listed(admin_client.get(CHANGELIST, {"q": "+13346732143"})) == ["Montgomery clinic"]
    assert listed(admin_client.get(CHANGELIST, {"q": "selma"})) == ["Selma clinic"]


# --- Bulk actions ------------------------------------------------------------------------------


def run_action(client, action, providers):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [p.pk for p in providers]}, follow=True)


@pytest.mark.parametrize(
    ("action", "before", "after"),
    [
        ("publish", Provider.Status.DRAFT, Provider.Status.PUBLISHED),
        ("unpublish", Provider.Status.PUBLISHED, Provider.Status.DRAFT),
        ("archive", Provider.Status.PUBLISHED, Provider.Status.ARCHIVED),
    ],
)
def test_status_actions_change_only_the_selected_providers(admin_client, make_provider, action, before, after):
    selected = [make_provider(name=f"Selected {n}", status=before) for n in range(3)]
    untouched = make_provider(name="Not selected", status=before)

    response = run_action(admin_client, action, selected)

    assert response.status_code == 200
    assert set(Provider.objects.filter(pk__in=[p.pk for p in selected]).values_list("status", flat=True)) == {after}
    untouched.refresh_from_db()
    assert untouched.status == before
    assert "3 providers" in next(str(message) for message in response.context["messages"])


def test_status_actions_touch_updated_at(admin_client, make_provider):
    provider = make_provider(status=Provider.Status.DRAFT)
    Provider.objects.filter(pk=provider.pk).update(updated_at=timezone.now() - timedelta(days=30))

    run_action(admin_client, "publish", [provider])

    provider.refresh_from_db()
    assert timezone.now() - provider.updated_at < timedelta(minutes=5)


def test_mark_verified_today_sets_last_verified_to_today(admin_client, make_provider):
    today = timezone.localdate()
    never = make_provider(name="Never verified")
    stale = make_provider(name="Stale", last_verified=today - timedelta(days=400))
    untouched = make_provider(name="Not selected", last_verified=today - timedelta(days=400))

    response = run_action(admin_client, "mark_verified_today", [never, stale])

    assert response.status_code == 200
    for provider in (never, stale):
        provider.refresh_from_db()
        assert provider.last_verified == today
        assert provider.status == Provider.Status.PUBLISHED
    untouched.refresh_from_db()
    assert untouched.last_verified == today - timedelta(days=400)
    assert "2 providers marked verified today." in [str(message) for message in response.context["messages"]]


def test_verified_today_providers_then_show_in_the_6_month_filter(admin_client, make_provider):
    provider = make_provider(name="Stale", last_verified=timezone.localdate() - timedelta(days=400))

    run_action(admin_client, "mark_verified_today", [provider])

    assert listed(admin_client.get(CHANGELIST + "?verified=6m")) == ["Stale"]


# --- Add and change forms ----------------------------------------------------------------------


def test_saving_the_add_form_creates_a_provider_with_a_normalised_phone_and_a_slug(admin_client):
    data = form_data(
        name="Hope  House", city="Nairobi", country="KE", phone="0722 123456", latitude="-1.28", longitude="36.82"
    )

    response = admin_client.post(ADD, data)

    assert response.status_code == 302
    provider = Provider.objects.get()
    assert provider.name == "Hope House"
    assert provider.slug == "hope-house-nairobi"
    assert provider.phone == "+254722123456"
    assert (provider.latitude, provider.longitude) == (-1.28, 36.82)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"intake_phone": "not a phone"}, "intake_phone"),
        ({"latitude": "200", "longitude": "0"}, "latitude"),
        ({"longitude": "-181", "latitude": "0"}, "longitude"),
        ({"latitude": "10"}, "longitude"),
        ({"country": "ZZ"}, "country"),
        ({"external_id": "A-1"}, "source"),
        ({"email": "nobody"}, "email"),
    ],
)
def test_saving_the_add_form_with_invalid_data_shows_the_error_and_creates_nothing(admin_client, overrides, field):
    response = admin_client.post(ADD, form_data(**overrides))

    errors = form_errors(response)
    assert field in errors
    assert b"errornote" in response.content
    assert not Provider.objects.exists()


def test_add_form_rejects_a_duplicate_external_id_within_a_source(admin_client, make_provider, source):
    make_provider(name="First", source=source, external_id="A-1")

    response = admin_client.post(ADD, form_data(name="Second", source=source.pk, external_id="A-1"))

    assert "Another provider from this source already has this external id." in str(form_errors(response))
    assert Provider.objects.count() == 1


def test_change_form_keeps_the_slug_when_the_name_changes(admin_client, make_provider):
    provider = make_provider(name="Hope House", city="Nairobi", country="KE")

    response = admin_client.post(
        change_url(provider),
        form_data(name="Hope House Recovery", slug=provider.slug, city="Nairobi", country="KE", status="published"),
    )

    assert response.status_code == 302
    provider.refresh_from_db()
    assert (provider.name, provider.slug) == ("Hope House Recovery", "hope-house-nairobi")


# --- The Curators group ------------------------------------------------------------------------


def test_curators_group_exists_after_migrations():
    assert Group.objects.filter(name="Curators").exists()


def test_curator_sees_the_changelist(curator_client, make_provider):
    make_provider(name="Hope House")

    assert listed(curator_client.get(CHANGELIST)) == ["Hope House"]


def test_curator_sees_the_admin_index_with_the_treatment_directory_only(curator_client):
    response = curator_client.get("/admin/")

    assert response.status_code == 200
    assert [app["name"] for app in response.context["app_list"]] == ["Treatment directory"]


def test_curator_can_add_a_provider(curator_client):
    assert curator_client.get(ADD).status_code == 200

    response = curator_client.post(ADD, form_data(name="Curated listing", phone="(334) 673-2143"))

    assert response.status_code == 302
    assert Provider.objects.get().phone == "+13346732143"


def test_curator_can_change_a_provider(curator_client, make_provider):
    provider = make_provider(name="Hope House")
    assert curator_client.get(change_url(provider)).status_code == 200

    response = curator_client.post(
        change_url(provider), form_data(name="Hope House", slug=provider.slug, status="archived")
    )

    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.status == Provider.Status.ARCHIVED


@pytest.mark.parametrize("action", BULK_ACTIONS)
def test_curator_may_run_the_bulk_actions(curator_client, make_provider, action):
    provider = make_provider(status=Provider.Status.DRAFT if action == "publish" else Provider.Status.PUBLISHED)
    before = (provider.status, provider.last_verified)

    run_action(curator_client, action, [provider])

    provider.refresh_from_db()
    assert (provider.status, provider.last_verified) != before


@pytest.mark.parametrize(
    "url",
    [
        "/admin/providers/modality/",
        "/admin/providers/modality/add/",
        "/admin/providers/caresetting/",
        "/admin/providers/medication/",
        "/admin/providers/paymentoption/",
        "/admin/providers/population/",
        "/admin/providers/language/",
        "/admin/providers/language/add/",
        "/admin/providers/organization/",
        "/admin/providers/source/",
    ],
)
def test_curator_can_open_taxonomy_and_reference_admin_pages(curator_client, url):
    assert curator_client.get(url).status_code == 200


def test_curator_can_open_a_term_change_page(curator_client):
    mat = Modality.objects.get(slug="mat")

    assert curator_client.get(f"/admin/providers/modality/{mat.pk}/change/").status_code == 200


@pytest.mark.parametrize("url", ["/admin/auth/user/", "/admin/auth/group/", "/admin/auth/user/add/"])
def test_curator_cannot_manage_users_or_groups(curator_client, url):
    assert curator_client.get(url).status_code == 403


def test_curator_has_no_delete_permission_on_directory_records(curator):
    assert curator.has_perm("providers.change_provider")
    assert curator.has_perm("providers.add_provider")
    assert not curator.has_perm("providers.delete_provider")
    for model in ("organization", "source", "modality", "language"):
        assert not curator.has_perm(f"providers.delete_{model}")
    assert not any(perm.startswith("auth.") for perm in curator.get_all_permissions())


def test_curator_is_not_offered_the_delete_action(curator_client, make_provider):
    make_provider()

    actions = [name for name, _label in curator_client.get(CHANGELIST).context["action_form"].fields["action"].choices]

    assert "delete_selected" not in actions
    assert set(BULK_ACTIONS) <= set(actions)


def test_curator_cannot_delete_a_provider_through_the_action_or_the_delete_page(curator_client, make_provider):
    provider = make_provider()

    curator_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [provider.pk], "post": "yes"})
    assert curator_client.get(f"/admin/providers/provider/{provider.pk}/delete/").status_code == 403
    assert curator_client.post(f"/admin/providers/provider/{provider.pk}/delete/", {"post": "yes"}).status_code == 403

    assert Provider.objects.filter(pk=provider.pk).exists()


def test_superuser_is_offered_the_delete_action_and_the_bulk_actions(admin_client, make_provider):
    make_provider()

    actions = [name for name, _label in admin_client.get(CHANGELIST).context["action_form"].fields["action"].choices]

    assert {"delete_selected", *BULK_ACTIONS} <= set(actions)


def test_staff_without_the_group_cannot_see_providers(client, make_provider):
    user = User.objects.create_user(username="staff", password="x", is_staff=True)
    client.force_login(user)

    assert client.get(CHANGELIST).status_code == 403
