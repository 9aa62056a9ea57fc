"""Verification ageing: pages say when a listing was last verified and flag stale ones; curators find and verify."""

import datetime
import os
import re
import subprocess
import sys

import pytest
import time_machine
from django.conf import settings as django_settings

from providers.models import Provider

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 6, 2)
CHANGELIST = "/admin/providers/provider/"


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(datetime.datetime(2025, 6, 2, 12, tzinfo=datetime.UTC), tick=False):
        yield TODAY


def days_ago(days):
    return TODAY - datetime.timedelta(days=days)


def verification_line(client, provider):
    """The verification line of the provider's public page."""
    text = client.get(provider.get_absolute_url()).content.decode()
    start = text.index('<p class="verification')
    return text[start : text.index("</p>", start) + 4]


# --- What the public sees ----------------------------------------------------------------------


def test_a_recently_verified_listing_says_verified_and_the_month(client, make_provider):
    provider = make_provider(last_verified=datetime.date(2025, 3, 4))

    line = verification_line(client, provider)

    assert 'Verified <time datetime="2025-03-04">March 2025</time>' in line
    assert "verification-stale" not in line


def test_a_listing_not_verified_for_over_a_year_says_so_with_an_icon_not_colour_alone(client, make_provider):
    provider = make_provider(last_verified=datetime.date(2024, 3, 4))

    line = verification_line(client, provider)

    assert "Not verified for over a year" in line
    assert '<span class="verification-icon" aria-hidden="true">!</span>' in line
    assert 'last verified <time datetime="2024-03-04">March 2024</time>' in line


def test_a_listing_never_verified_says_so(client, make_provider):
    line = verification_line(client, make_provider(last_verified=None))

    assert "Never verified" in line
    assert '<span class="verification-icon" aria-hidden="true">!</span>' in line


def test_each_search_result_shows_its_verification(client, make_provider):
    make_provider(name="Alder", last_verified=days_ago(10))
    make_provider(name="Birch", last_verified=days_ago(400))
    make_provider(name="Cedar", last_verified=None)

    text = client.get("/providers/").content.decode()

    results = text.split('<article class="result')[1:]
    assert "Verified <time" in results[0]
    assert "Not verified for over a year" in results[1]
    assert "Never verified" in results[2]


def test_the_public_pages_do_not_load_who_verified(client, make_provider, admin_user, django_assert_max_num_queries):
    provider = make_provider(last_verified=days_ago(10), verified_by=admin_user)

    with django_assert_max_num_queries(3):
        response = client.get(provider.get_absolute_url())

    assert "admin" not in verification_line(client, provider)
    assert response.status_code == 200


# --- The threshold -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_verified", "stale"),
    [
        (None, True),
        (days_ago(0), False),
        (days_ago(364), False),
        (days_ago(365), True),
        (days_ago(3 * 365), True),
    ],
)
def test_a_listing_is_stale_after_twelve_months_by_default(make_provider, last_verified, stale):
    provider = make_provider(last_verified=last_verified)

    assert provider.verification_is_stale is stale
    assert (provider in Provider.objects.stale(TODAY)) is stale


def test_the_threshold_is_a_setting(settings, client, make_provider):
    settings.VERIFICATION_STALE_MONTHS = 6
    fresh = make_provider(name="Fresh", last_verified=days_ago(182))
    stale = make_provider(name="Stale", last_verified=days_ago(183))

    assert list(Provider.objects.stale(TODAY)) == [stale]
    assert (fresh.verification_is_stale, stale.verification_is_stale) == (False, True)
    assert "Not verified for over 6 months" in verification_line(client, stale)


@pytest.mark.parametrize(("months", "words"), [(1, "a month"), (18, "18 months"), (24, "2 years")])
def test_the_threshold_is_said_in_words(settings, client, make_provider, months, words):
    settings.VERIFICATION_STALE_MONTHS = months

    assert f"Not verified for over {words}" in verification_line(client, make_provider(last_verified=days_ago(800)))


def stale_months_setting(value):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-c", "import directory.settings as s; print(s.VERIFICATION_STALE_MONTHS)"],
        cwd=django_settings.BASE_DIR,
        env={**environment, "VERIFICATION_STALE_MONTHS": value},
        capture_output=True,
        text=True,
    )


def test_the_threshold_comes_from_the_environment():
    result = stale_months_setting("18")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "18"


@pytest.mark.parametrize("value", ["0", "a year"])
def test_a_threshold_that_is_not_a_positive_number_of_months_stops_the_start(value):
    result = stale_months_setting(value)

    assert result.returncode != 0
    assert "VERIFICATION_STALE_MONTHS must be" in result.stderr


# --- Curators ----------------------------------------------------------------------------------


def listed(response):
    assert response.status_code == 200
    return {provider.name for provider in response.context["cl"].result_list}


@pytest.fixture
def ages(make_provider):
    for name, days in {"Never": None, "Recent": 10, "Months": 200, "Year": 365, "Older": 800}.items():
        make_provider(name=name, last_verified=None if days is None else days_ago(days))


def test_curators_can_list_stale_listings_and_see_how_many(curator_client, ages):
    response = curator_client.get(CHANGELIST + "?verified=stale")

    assert listed(response) == {"Never", "Year", "Older"}
    assert response.context["cl"].result_count == 3
    assert "Stale: over a year ago, or never" in curator_client.get(CHANGELIST).content.decode()


def test_the_over_the_threshold_filter_follows_the_setting(settings, curator_client, ages):
    settings.VERIFICATION_STALE_MONTHS = 24

    assert listed(curator_client.get(CHANGELIST + "?verified=old")) == {"Older"}
    assert listed(curator_client.get(CHANGELIST + "?verified=12m")) == {"Months", "Year"}
    assert listed(curator_client.get(CHANGELIST + "?verified=stale")) == {"Never", "Older"}
    assert "Over 2 years ago" in curator_client.get(CHANGELIST).content.decode()


def test_a_threshold_under_six_months_leaves_out_the_middle_bucket(settings, curator_client, ages):
    settings.VERIFICATION_STALE_MONTHS = 3

    page = curator_client.get(CHANGELIST).content.decode()

    assert "Within 3 months" in page
    assert "?verified=12m" not in page
    assert listed(curator_client.get(CHANGELIST + "?verified=6m")) == {"Recent"}
    assert listed(curator_client.get(CHANGELIST + "?verified=old")) == {"Months", "Year", "Older"}


def test_mark_verified_today_records_who_and_when(curator_client, curator, make_provider):
    stale = make_provider(name="Stale", last_verified=days_ago(400))

    curator_client.post(CHANGELIST, {"action": "mark_verified_today", "_selected_action": [stale.pk]})

    stale.refresh_from_db()
    assert (stale.last_verified, stale.verified_by) == (TODAY, curator)
    assert not stale.verification_is_stale


def change_form(client, provider):
    response = client.get(f"/admin/providers/provider/{provider.pk}/change/")
    assert response.status_code == 200
    return response


def post_change_form(client, provider, **changes):
    """Post the change form with the listing's current values, ``changes`` applied."""
    form = change_form(client, provider).context["adminform"].form
    data = {field.html_name: "" if field.value() is None else field.value() for field in form}
    data.update({"opening_hours-TOTAL_FORMS": "0", "opening_hours-INITIAL_FORMS": "0", **changes})
    response = client.post(f"/admin/providers/provider/{provider.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    provider.refresh_from_db()


def test_ticking_verified_today_on_the_form_records_who_and_when(curator_client, curator, make_provider):
    provider = make_provider(last_verified=days_ago(400))

    post_change_form(curator_client, provider, verified_today="on")

    assert (provider.last_verified, provider.verified_by) == (TODAY, curator)


def test_typing_the_verification_date_records_who_typed_it(curator_client, curator, admin_user, make_provider):
    provider = make_provider(last_verified=days_ago(400), verified_by=admin_user)

    post_change_form(curator_client, provider, last_verified="2025-05-30")
    assert (provider.last_verified, provider.verified_by) == (datetime.date(2025, 5, 30), curator)

    post_change_form(curator_client, provider, last_verified="")
    assert (provider.last_verified, provider.verified_by) == (None, None)


def test_other_edits_keep_who_verified(curator_client, admin_user, make_provider):
    provider = make_provider(last_verified=days_ago(10), verified_by=admin_user)

    post_change_form(curator_client, provider, name="Renamed")

    assert provider.verified_by == admin_user


def test_the_change_page_shows_who_verified_read_only_and_when(curator_client, admin_user, make_provider):
    provider = make_provider(last_verified=days_ago(10), verified_by=admin_user)

    response = change_form(curator_client, provider)

    assert "verified_by" not in response.context["adminform"].form.fields
    page = response.content.decode()
    assert re.search(r'<label>Verified by:</label>\s*<div class="readonly">(<a [^>]*>)?admin(</a>)?</div>', page)
    assert 'name="last_verified" value="2025-05-23"' in page
