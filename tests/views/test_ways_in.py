"""How to get in (issue 19): each listing may say whether a person can walk in (and when), must book, or
needs a referral; result cards and provider pages say so, and the search filters on it."""

from datetime import time

import pytest

from providers.models import OpeningInterval

SEARCH = "/providers/"


@pytest.fixture
def walk_in_clinic(make_provider):
    clinic = make_provider(
        name="Harbour Walk-in Clinic",
        city="Mombasa",
        country="KE",
        phone="+254722123456",
        time_zone="Africa/Nairobi",
        entry_routes=["walk-in", "appointment"],
    )
    # Walk in any time of any day; its opening hours are not given.
    OpeningInterval.objects.bulk_create(
        OpeningInterval(provider=clinic, walk_in=True, weekday=day, opens=time(0), closes=time(0)) for day in range(7)
    )
    return clinic


@pytest.fixture
def referral_only(make_provider):
    return make_provider(name="Residential Programme", country="KE", entry_routes=["referral"])


def test_the_search_filters_on_walk_in(client, walk_in_clinic, referral_only):
    response = client.get(SEARCH + "?entry=walk-in")

    assert [provider.name for provider in response.context["page_obj"]] == ["Harbour Walk-in Clinic"]


def test_the_filter_offers_every_way_in_with_its_count(client, walk_in_clinic, referral_only):
    choices = dict(client.get(SEARCH).context["filter"].form.fields["entry"].choices)

    assert choices == {"walk-in": "Walk in (1)", "appointment": "By appointment (1)", "referral": "By referral (1)"}


def test_a_result_card_says_how_to_get_in_and_whether_walk_in_is_open_now(client, walk_in_clinic):
    content = client.get(SEARCH + "?entry=walk-in").content.decode()

    assert "How to get in:</strong> Walk in · By appointment" in content
    assert "Walk-in: Open now · open 24 hours" in content


def test_the_provider_page_shows_the_walk_in_hours_apart_from_the_opening_hours(client, walk_in_clinic):
    response = client.get(walk_in_clinic.get_absolute_url())
    content = response.content.decode()

    assert ">Walk-in hours <span" in content
    assert ">Opening hours" not in content  # none are given
    assert response.context["provider"].open_status.is_known is False


def test_a_saved_list_carries_the_walk_in_hours(client, walk_in_clinic):
    content = client.get(f"/list/?p={walk_in_clinic.slug}").content.decode()

    assert "Walk-in hours" in content and "How to get in:" in content


def test_it_is_said_in_the_visitors_language(client, walk_in_clinic):
    content = client.get("/es" + walk_in_clinic.get_absolute_url()).content.decode()

    assert "Cómo acceder:</strong> Sin cita · Con cita previa" in content
    assert "Horario sin cita" in content


def test_a_listing_that_says_nothing_shows_nothing(client, make_provider):
    silent = make_provider(name="Quiet Clinic")

    content = client.get(silent.get_absolute_url()).content.decode()

    assert "How to get in" not in content and "Walk-in" not in content


def test_the_api_lists_the_ways_in_and_filters_on_them(client, walk_in_clinic, referral_only):
    listed = client.get("/api/v1/providers/?entry=walk-in").json()["results"]

    assert [(item["name"], item["entry_routes"]) for item in listed] == [
        ("Harbour Walk-in Clinic", ["walk-in", "appointment"])
    ]
    slugs = [term["slug"] for term in client.get("/api/v1/entry-routes/").json()]
    assert slugs == ["walk-in", "appointment", "referral"]
