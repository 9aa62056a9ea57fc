"""Opening hours: open now or closed in the provider's own time zone, the "Open now" filter, pages and admin."""

import datetime
import re
from datetime import time

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers.exchange.formats.ours import parse_opening_hours
from providers.models import OpeningInterval, Provider
from providers.search.hours import OpeningHours, attach_hours, open_now_filter
from tests.admin.test_admin import change_url, form_data

UTC = datetime.UTC
WEEKDAYS = "Mo-Fr 09:00-17:00"


def intervals(text):
    return [
        OpeningInterval(weekday=weekday, opens=time.fromisoformat(opens), closes=time.fromisoformat(closes))
        for weekday, opens, closes in parse_opening_hours(text)
    ]


def at(text):
    """An instant in UTC, "2025-06-10 01:00"."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def status(text, zone, instant):
    found = OpeningHours(intervals(text), zone).status(at(instant))
    return f"{found.label} · {found.change}" if found.is_known else None


def give_hours(provider, text, walk_in=False):
    OpeningInterval.objects.bulk_create(
        OpeningInterval(provider=provider, walk_in=walk_in, weekday=weekday, opens=opens, closes=closes)
        for weekday, opens, closes in parse_opening_hours(text)
    )
    return provider


# Open or closed, and what changes next


def test_the_same_instant_is_open_in_tokyo_and_closed_in_los_angeles():
    # Tuesday 10:00 in Tokyo is Monday 18:00 in Los Angeles.
    instant = "2025-06-10 01:00"

    assert status(WEEKDAYS, "Asia/Tokyo", instant) == "Open now · closes 17:00"
    assert status(WEEKDAYS, "America/Los_Angeles", instant) == "Closed · opens Tuesday 09:00"


def test_a_frozen_clock_decides_through_timezone_now():
    hours = OpeningHours(intervals(WEEKDAYS), "Asia/Kolkata")

    with time_machine.travel(at("2025-06-13 11:29"), tick=False):
        assert hours.status(datetime.datetime.now(UTC)).change == "closes 17:00"
    with time_machine.travel(at("2025-06-13 11:31"), tick=False):
        assert hours.status(datetime.datetime.now(UTC)).change == "opens Monday 09:00"


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2025-06-13 21:00", "Closed · opens 22:00"),  # Friday
        ("2025-06-13 23:00", "Open now · closes tomorrow 02:00"),
        ("2025-06-14 01:00", "Open now · closes 02:00"),  # Saturday: still Friday's night
        ("2025-06-14 02:00", "Closed · opens Friday 22:00"),
    ],
)
def test_an_overnight_interval_runs_into_the_next_day(instant, expected):
    assert status("Fr 22:00-02:00", "UTC", instant) == expected


def test_a_closing_at_midnight_closes_today():
    assert status("Mo 18:00-00:00", "UTC", "2025-06-09 20:00") == "Open now · closes 00:00"
    assert status("Mo 18:00-24:00", "UTC", "2025-06-10 00:00") == "Closed · opens Monday 18:00"


@pytest.mark.parametrize(
    ("text", "instant", "expected"),
    [
        ("Mo 00:00-00:00", "2025-06-09 23:59", "Open now · open 24 hours"),
        ("Mo 00:00-00:00", "2025-06-10 00:00", "Closed · opens Monday 00:00"),
        ("Mo-Su 00:00-00:00", "2025-06-12 04:00", "Open now · open 24 hours"),
        # Monday around the clock runs into Tuesday's morning hours.
        ("Mo 00:00-00:00; Tu 00:00-06:00", "2025-06-09 12:00", "Open now · open 24 hours"),
        ("Mo 00:00-00:00; Tu 00:00-06:00", "2025-06-10 01:00", "Open now · closes 06:00"),
        ("Mo 20:00-00:00; Tu 00:00-00:00; We 00:00-03:00", "2025-06-09 21:00", "Open now · closes Wednesday 03:00"),
    ],
)
def test_twenty_four_hours(text, instant, expected):
    assert status(text, "UTC", instant) == expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2025-06-10 08:59", "Closed · opens 09:00"),
        ("2025-06-10 10:00", "Open now · closes 12:00"),
        ("2025-06-10 12:30", "Closed · opens 13:00"),
        ("2025-06-10 16:59", "Open now · closes 17:00"),
        ("2025-06-10 17:00", "Closed · opens Thursday 09:00"),
    ],
)
def test_several_intervals_a_day(instant, expected):
    assert status("Tu 09:00-12:00,13:00-17:00; Th 09:00-12:00", "UTC", instant) == expected


@pytest.mark.parametrize(
    ("text", "instant", "expected"),
    [
        # 30 March 2025, the last Sunday of March: Berlin's clocks go from 02:00 CET to 03:00 CEST at 01:00 UTC.
        ("Su 09:00-17:00", "2025-03-30 07:30", "Open now · closes 17:00"),  # 09:30 summer time
        ("Sa 22:00-02:30", "2025-03-30 00:45", "Open now · closes 02:30"),  # 01:45 winter time
        ("Sa 22:00-02:30", "2025-03-30 01:15", "Closed · opens Saturday 22:00"),  # 03:15: 02:30 never came
        # An opening inside the skipped hour is reached when the clock jumps past it.
        ("Su 02:30-04:00", "2025-03-30 00:59", "Closed · opens 02:30"),
        ("Su 02:30-04:00", "2025-03-30 01:00", "Open now · closes 04:00"),
        # 26 October 2025: 03:00 CEST becomes 02:00 CET, and 02:30 happens twice.
        ("Su 02:00-03:00", "2025-10-26 00:30", "Open now · closes 03:00"),
        ("Su 02:00-03:00", "2025-10-26 01:30", "Open now · closes 03:00"),
        ("Su 02:00-03:00", "2025-10-26 02:00", "Closed · opens Sunday 02:00"),
    ],
)
def test_daylight_saving_changes_in_berlin(text, instant, expected):
    assert status(text, "Europe/Berlin", instant) == expected


def test_a_provider_without_hours_is_unknown_not_closed():
    hours = OpeningHours([], "Europe/Berlin")

    found = hours.status(at("2025-06-10 12:00"))

    assert (found.is_open, found.is_known, found.label) == (None, False, "")
    assert hours.week(at("2025-06-10 12:00")) == []


def test_hours_without_a_time_zone_are_read_in_utc():
    assert status(WEEKDAYS, "", "2025-06-10 16:30") == "Open now · closes 17:00"
    assert status(WEEKDAYS, "", "2025-06-10 17:30") == "Closed · opens Wednesday 09:00"


def test_the_week_lists_every_day_and_marks_today():
    hours = OpeningHours(intervals("Mo-Th 09:00-17:00; Fr 09:00-12:00,13:00-16:00; Fr 22:00-02:00; Sa 00:00-00:00"), "")

    week = hours.week(at("2025-06-13 12:00"))

    assert [(day.name, day.text) for day in week] == [
        ("Monday", "09:00–17:00"),
        ("Tuesday", "09:00–17:00"),
        ("Wednesday", "09:00–17:00"),
        ("Thursday", "09:00–17:00"),
        ("Friday", "09:00–12:00, 13:00–16:00, 22:00–02:00"),
        ("Saturday", "Open 24 hours"),
        ("Sunday", "Closed"),
    ]
    assert [day.name for day in week if day.is_today] == ["Friday"]


# The model's validation


@pytest.mark.parametrize(
    ("opens", "closes", "field"),
    [(time(9), time(9), "closes"), (time(9, 0, 30), time(17), "opens"), (time(9), time(17, 0, 0, 5), "closes")],
)
def test_an_interval_that_makes_no_sense_is_refused(opens, closes, field):
    with pytest.raises(ValidationError) as raised:
        OpeningInterval(weekday=0, opens=opens, closes=closes).full_clean(exclude=["provider"])

    assert list(raised.value.message_dict) == [field]


@pytest.mark.parametrize(("opens", "closes"), [(time(0), time(0)), (time(22), time(2)), (time(9), time(17))])
def test_sensible_intervals_pass(opens, closes):
    OpeningInterval(weekday=0, opens=opens, closes=closes).full_clean(exclude=["provider"])


# The "Open now" filter, in the database

ZONES = {
    "Asia/Tokyo": "Mo-Fr 09:00-17:00",
    "America/Los_Angeles": "Mo-Fr 08:00-12:00,13:00-18:00; Sa 10:00-14:00",
    "Europe/Berlin": "Sa 22:00-02:30; Su 02:30-04:00; Mo-Fr 09:00-17:00",
    "Asia/Kolkata": "Mo-Su 00:00-00:00",
    "Africa/Nairobi": "Mo-Sa 20:00-06:00",
    "Pacific/Chatham": "Tu 00:00-00:00; We 00:00-03:00; Th 12:00-12:45",
    "": "Mo-Fr 10:00-11:00",
}


@pytest.fixture
def around_the_world(make_provider):
    providers = [
        give_hours(make_provider(name=f"Clinic {zone or 'without zone'}", time_zone=zone), text)
        for zone, text in ZONES.items()
    ]
    make_provider(name="Hours unknown", time_zone="Asia/Tokyo")
    return attach_hours(Provider.objects.filter(pk__in=[provider.pk for provider in providers]))


def open_in_python(providers, instant):
    return {
        provider.name
        for provider in providers
        if OpeningHours(provider.opening_hours.all(), provider.time_zone).is_open(instant)
    }


def open_in_the_database(instant):
    return set(open_now_filter(Provider.objects.all(), instant).values_list("name", flat=True))


def instants():
    """Every 37 minutes of a week, which lands on many minutes of the hour, and Berlin's two DST days."""
    start = at("2025-06-09 00:00")
    week = [start + datetime.timedelta(minutes=37 * step) for step in range(7 * 24 * 60 // 37)]
    dst = [at("2025-03-29 20:00") + datetime.timedelta(minutes=15 * step) for step in range(4 * 12)]
    fall = [at("2025-10-25 20:00") + datetime.timedelta(minutes=15 * step) for step in range(4 * 12)]
    return week + dst + fall


def test_the_database_filter_agrees_with_python_at_every_instant(around_the_world):
    answers = {
        instant: (open_in_the_database(instant), open_in_python(around_the_world, instant)) for instant in instants()
    }

    differences = [(instant, found ^ expected) for instant, (found, expected) in answers.items() if found != expected]
    assert differences == []
    ever_open = set().union(*(expected for _found, expected in answers.values()))
    assert ever_open == {provider.name for provider in around_the_world}


def test_the_filter_includes_the_opening_minute_and_excludes_the_closing_one(around_the_world):
    always = {"Clinic Asia/Kolkata", "Clinic Africa/Nairobi", "Clinic Pacific/Chatham"}
    # Tuesday 08:59 in Tokyo, Monday 16:59 in Los Angeles.
    assert open_in_the_database(at("2025-06-09 23:59")) == always | {"Clinic America/Los_Angeles"}
    # Tuesday 09:00 in Tokyo.
    assert open_in_the_database(at("2025-06-10 00:00")) == always | {"Clinic Asia/Tokyo", "Clinic America/Los_Angeles"}
    # Monday 18:00 in Los Angeles.
    assert open_in_the_database(at("2025-06-10 01:00")) == always | {"Clinic Asia/Tokyo"}


def test_the_filter_runs_two_queries_whatever_the_number_of_zones(around_the_world, django_assert_num_queries):
    with django_assert_num_queries(2):
        list(open_now_filter(Provider.objects.all(), at("2025-06-10 00:00")))


def test_no_provider_with_hours_means_none_is_open(make_provider, django_assert_num_queries):
    make_provider(name="Hours unknown")

    with django_assert_num_queries(1):
        assert list(open_now_filter(Provider.objects.all(), at("2025-06-10 00:00"))) == []


def test_the_search_page_filters_on_open_now(client, around_the_world):
    with time_machine.travel(at("2025-06-10 01:00"), tick=False):
        response = client.get("/providers/?open_now=true")
        everyone = client.get("/providers/")

    assert {provider.name for provider in response.context["page_obj"]} == {
        "Clinic Asia/Tokyo",
        "Clinic Asia/Kolkata",
        "Clinic Africa/Nairobi",
        "Clinic Pacific/Chatham",
    }
    assert len(everyone.context["page_obj"]) == len(ZONES) + 1


# Walk-in hours: a second week, which "open now" does not ask

# Tuesday 10:00 in Tokyo.
TOKYO_TUESDAY_MORNING = "2025-06-10 01:00"


@pytest.fixture
def walk_in_clinics(make_provider):
    """Tokyo listings, on Tuesday morning: walk-in hours only; open but not for walk-ins; walk-ins only later."""
    give_hours(make_provider(name="Walk-in only", time_zone="Asia/Tokyo"), "Mo-Fr 09:00-12:00", walk_in=True)
    open_all_day = give_hours(make_provider(name="Open, walk-ins later", time_zone="Asia/Tokyo"), WEEKDAYS)
    give_hours(open_all_day, "Tu 14:00-16:00", walk_in=True)
    closed = give_hours(make_provider(name="Closed, walk-ins now", time_zone="Asia/Tokyo"), "Sa 10:00-12:00")
    give_hours(closed, "Tu 09:00-11:00", walk_in=True)
    return Provider.objects.order_by("pk")


def test_walk_in_hours_alone_do_not_make_a_listing_open_now(walk_in_clinics):
    assert open_in_the_database(at(TOKYO_TUESDAY_MORNING)) == {"Open, walk-ins later"}


def test_a_listing_with_only_walk_in_hours_is_never_open_now(make_provider, django_assert_num_queries):
    give_hours(make_provider(name="Walk-in only", time_zone="Asia/Tokyo"), "Mo-Su 00:00-00:00", walk_in=True)

    with django_assert_num_queries(1):
        assert list(open_now_filter(Provider.objects.all(), at(TOKYO_TUESDAY_MORNING))) == []


def test_the_search_page_leaves_walk_in_hours_out_of_open_now(client, walk_in_clinics):
    with time_machine.travel(at(TOKYO_TUESDAY_MORNING), tick=False):
        response = client.get("/providers/?open_now=true")

    assert [provider.name for provider in response.context["page_obj"]] == ["Open, walk-ins later"]


def test_attach_hours_reads_each_week_from_its_own_intervals(walk_in_clinics):
    only, later, now = attach_hours(walk_in_clinics, at(TOKYO_TUESDAY_MORNING))

    assert (only.open_status.is_known, only.opening_week) == (False, [])
    assert (only.walk_in_status.label, only.walk_in_status.change) == ("Open now", "closes 12:00")
    assert [day.text for day in only.walk_in_week] == ["09:00–12:00"] * 5 + ["Closed", "Closed"]
    assert [day.name for day in only.walk_in_week if day.is_today] == ["Tuesday"]

    assert (later.open_status.label, later.open_status.change) == ("Open now", "closes 17:00")
    assert (later.walk_in_status.label, later.walk_in_status.change) == ("Closed", "opens 14:00")
    assert [day.text for day in later.opening_week] == ["09:00–17:00"] * 5 + ["Closed", "Closed"]
    assert [day.text for day in later.walk_in_week] == ["Closed", "14:00–16:00", *["Closed"] * 5]

    assert (now.open_status.label, now.open_status.change) == ("Closed", "opens Saturday 10:00")
    assert (now.walk_in_status.label, now.walk_in_status.change) == ("Open now", "closes 11:00")


def test_a_listing_without_walk_in_hours_has_an_unknown_walk_in_status(make_provider):
    [provider] = attach_hours([give_hours(make_provider(name="Tokyo Clinic", time_zone="Asia/Tokyo"), WEEKDAYS)])

    assert (provider.walk_in_status.is_known, provider.walk_in_week) == (False, [])
    assert provider.open_status.is_known


# Pages


def test_a_result_shows_when_it_closes(client, make_provider):
    give_hours(make_provider(name="Tokyo Clinic", time_zone="Asia/Tokyo"), WEEKDAYS)

    with time_machine.travel(at("2025-06-10 01:00"), tick=False):
        text = client.get("/providers/").text

    assert "Open now · closes 17:00</p>" in text


def test_a_result_shows_when_it_opens(client, make_provider):
    give_hours(make_provider(name="Tokyo Clinic", time_zone="Asia/Tokyo"), WEEKDAYS)

    with time_machine.travel(at("2025-06-14 01:00"), tick=False):
        text = client.get("/providers/").text

    assert "Closed · opens Monday 09:00</p>" in text


def test_a_result_without_hours_says_nothing_about_them(client, make_provider):
    make_provider(name="Tokyo Clinic", time_zone="Asia/Tokyo")

    text = client.get("/providers/").text

    assert "open-status" not in text and "Open now ·" not in text and "Closed ·" not in text


def test_the_provider_page_shows_the_status_and_the_week(client, make_provider):
    provider = give_hours(
        make_provider(name="Harbour Clinic", city="Mombasa", country="KE", time_zone="Africa/Nairobi"),
        "Mo-Fr 08:00-12:00,14:00-17:00; Sa 00:00-00:00",
    )

    with time_machine.travel(at("2025-06-13 10:30"), tick=False):  # Friday 13:30 in Nairobi
        text = client.get(provider.get_absolute_url()).text

    assert "Closed · opens 14:00</p>" in text
    table = re.search(r"<table class=\"[^\"]*opening-hours.*?</table>", text, re.S).group()
    assert "<caption" in table and "Opening hours" in table and "Africa/Nairobi" in table
    cells = re.findall(r"<th scope=\"row\">(\w+).*?</th>\s*<td>([^<]*)</td>", table, re.S)
    assert cells == [
        ("Monday", "08:00–12:00, 14:00–17:00"),
        ("Tuesday", "08:00–12:00, 14:00–17:00"),
        ("Wednesday", "08:00–12:00, 14:00–17:00"),
        ("Thursday", "08:00–12:00, 14:00–17:00"),
        ("Friday", "08:00–12:00, 14:00–17:00"),
        ("Saturday", "Open 24 hours"),
        ("Sunday", "Closed"),
    ]
    assert re.search(r'<tr class="table-active" aria-current="date">\s*<th scope="row">Friday', table)


def test_the_provider_page_without_hours_has_no_table(client, make_provider):
    provider = make_provider(name="Harbour Clinic", time_zone="Africa/Nairobi")

    text = client.get(provider.get_absolute_url()).text

    assert "opening-hours" not in text and "open-status" not in text


# Query counts


def make_open_providers(make_provider, count, start=0):
    for number in range(start, start + count):
        give_hours(
            make_provider(name=f"Centre {number:02}", city="Nairobi", country="KE", time_zone="Africa/Nairobi"),
            "Mo-Fr 08:00-12:00,13:00-17:00; Sa 09:00-12:00",
        )


def search_open_now(client):
    with time_machine.travel(at("2025-06-10 07:00"), tick=False):
        return client.get("/providers/?open_now=true&country=KE&sort=name")


def test_a_search_for_providers_open_now_runs_at_most_ten_queries(client, make_provider, django_assert_max_num_queries):
    make_open_providers(make_provider, 3)

    with django_assert_max_num_queries(10):
        response = search_open_now(client)

    assert len(response.context["page_obj"]) == 3


def test_search_queries_do_not_grow_with_providers_with_hours(client, make_provider, settings):
    settings.PROVIDERS_PER_PAGE = 50
    make_open_providers(make_provider, 3)
    with CaptureQueriesContext(connection) as few:
        small = search_open_now(client)
    make_open_providers(make_provider, 27, start=3)

    with CaptureQueriesContext(connection) as many:
        large = search_open_now(client)

    assert (len(small.context["page_obj"]), len(large.context["page_obj"])) == (3, 30)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_provider_page_with_hours_runs_at_most_six_queries(client, make_provider, django_assert_max_num_queries):
    provider = give_hours(make_provider(name="Harbour Clinic", time_zone="Africa/Nairobi"), "Mo-Su 08:00-20:00")

    with django_assert_max_num_queries(6):
        response = client.get(provider.get_absolute_url())

    assert response.status_code == 200


# Admin


def hours_form(*rows, initial=0):
    data = {"opening_hours-TOTAL_FORMS": str(len(rows)), "opening_hours-INITIAL_FORMS": str(initial)}
    for number, (weekday, opens, closes) in enumerate(rows):
        data.update(
            {
                f"opening_hours-{number}-weekday": str(weekday),
                f"opening_hours-{number}-opens": opens,
                f"opening_hours-{number}-closes": closes,
            }
        )
    return data


def test_the_admin_saves_opening_hours_and_the_time_zone(admin_client, make_provider):
    provider = make_provider(name="Hope House", country="US")

    response = admin_client.post(
        change_url(provider),
        {
            **form_data(name="Hope House", slug=provider.slug, status="published", time_zone="America/Chicago"),
            **hours_form((0, "09:00", "17:00"), (4, "22:00", "02:00"), (5, "00:00", "00:00")),
        },
    )

    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.time_zone == "America/Chicago"
    assert [str(interval) for interval in provider.opening_hours.all()] == [
        "Monday 09:00–17:00",
        "Friday 22:00–02:00",
        "Saturday 00:00–00:00",
    ]


def test_the_admin_refuses_an_interval_that_closes_when_it_opens(admin_client, make_provider):
    provider = make_provider(name="Hope House", country="US")

    response = admin_client.post(
        change_url(provider),
        {
            **form_data(name="Hope House", slug=provider.slug, status="published"),
            **hours_form((0, "09:00", "17:00"), (1, "09:00", "09:00")),
        },
    )

    assert response.status_code == 200
    assert "An interval cannot close when it opens" in response.text
    assert not provider.opening_hours.exists()


def test_the_admin_refuses_an_unknown_time_zone(admin_client, make_provider):
    provider = make_provider(name="Hope House", country="US")

    response = admin_client.post(
        change_url(provider),
        form_data(name="Hope House", slug=provider.slug, status="published", time_zone="Mars/Olympus_Mons"),
    )

    assert response.status_code == 200
    assert "is not an IANA time zone" in response.text
