"""Counts beside every choice (issue 19): each option of each filter says how many listings it would give.

The count beside an option of a filter is the number of listings the search gives with that
option as the filter's only value and every other filter as it is; "Any country" and "Any
language" count the search without their filter. Counts beyond SEARCH_RESULTS_LISTED read
"N+". The expected numbers here come from plain ORM filters (and distances worked out in the
test), never from the search code.
"""

import math
import random
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers import caching
from providers.models import TAXONOMY_FIELDS, Provider
from providers.search import choice_counts

pytestmark = pytest.mark.django_db

SEARCH = "/providers/"
NAIROBI = (-1.2864, 36.8172)
COUNTED = ("country", *TAXONOMY_FIELDS, "telehealth")
SLUGS = {
    "modality": ["mat", "counseling", "peer-support"],  # never "faith-based": its count must read 0
    "setting": ["inpatient", "outpatient", "aftercare"],
    "entry": ["walk-in", "appointment"],  # never "referral"
    "medication": ["methadone", "buprenorphine"],
    "payment": ["free", "sliding-scale", "self-pay"],
    "population": ["adults", "women", "veterans"],
    "language": ["en", "es", "fr"],
}
COUNT_IN_LABEL = re.compile(r"^(?P<label>.*) \((?P<count>[\d,]+)(?P<more>\+?)\)$")


@pytest.fixture
def listings(make_provider):
    """Forty listings in three countries, around Nairobi or without coordinates, with random terms (seeded)."""
    rng = random.Random(19)
    for number in range(40):
        terms = {TAXONOMY_FIELDS[param]: rng.sample(slugs, rng.randint(0, 2)) for param, slugs in SLUGS.items()}
        located = rng.random() < 0.7
        make_provider(
            name=f"Listing {number:02d}",
            country=rng.choice(["KE", "KE", "US", "GB"]),
            telehealth=rng.choice([True, False, None]),
            latitude=NAIROBI[0] + rng.uniform(-0.8, 0.8) if located else None,
            longitude=NAIROBI[1] + rng.uniform(-0.8, 0.8) if located else None,
            **terms,
        )
    make_provider(name="Draft", status=Provider.Status.DRAFT, modalities=["faith-based"], country="KE")


def distance_km(latitude, longitude, point):
    """Great-circle distance by the haversine formula, worked out here rather than by the search code."""
    lat1, lon1, lat2, lon2 = map(math.radians, (latitude, longitude, *point))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def expected_count(filters):
    """How many published listings match ``filters`` ({parameter: values}), by plain ORM filters."""
    listings = Provider.objects.published()
    for param, values in filters.items():
        if param == "country":
            listings = listings.filter(country__in=values)
        elif param == "telehealth":
            listings = listings.filter(telehealth=True)
        elif param == "near":
            point, radius = values
            near = [
                pk
                for pk, latitude, longitude in listings.exclude(latitude=None).values_list(
                    "pk", "latitude", "longitude"
                )
                if distance_km(latitude, longitude, point) <= radius
            ]
            listings = listings.filter(pk__in=near)
        else:
            holders = Provider.objects.filter(**{f"{TAXONOMY_FIELDS[param]}__slug__in": values})
            listings = listings.filter(pk__in=holders.values("pk"))
    return listings.count()


def query_string(filters):
    parts = []
    for param, values in filters.items():
        if param == "near":
            (latitude, longitude), radius = values
            parts += [f"near={latitude},{longitude}", f"radius={radius}"]
        elif param == "telehealth":
            parts.append("telehealth=true")
        else:
            parts += [f"{param}={value}" for value in values]
    return "&".join(parts)


def shown_counts(response):
    """{filter: {value: (label without count, count shown, capped)}} as the page labels its choices."""
    form = response.context["filter"].form
    shown = {}
    for name in COUNTED:
        field = form.fields[name]
        labels = [(True, field.label)] if name == "telehealth" else field.choices
        shown[name] = {}
        for value, label in labels:
            match = COUNT_IN_LABEL.match(str(label))
            assert match, f"{name}={value}: no count in {label!r}"
            shown[name][value] = (match["label"], int(match["count"].replace(",", "")), bool(match["more"]))
    return shown


def search(client, filters):
    response = client.get(SEARCH + "?" + query_string(filters))
    assert response.status_code == 200
    return response


COMBINATIONS = [
    pytest.param({}, id="no filter"),
    pytest.param({"modality": ["mat"]}, id="one type of help"),
    pytest.param({"modality": ["mat", "counseling"], "setting": ["outpatient"]}, id="two values and a setting"),
    pytest.param({"country": ["KE"], "payment": ["free"], "telehealth": True}, id="country, payment, telehealth"),
    pytest.param({"language": ["es"], "population": ["adults", "women"], "medication": ["methadone"]}, id="three"),
    pytest.param({"near": (NAIROBI, 50), "modality": ["mat"]}, id="near a place with a radius"),
    pytest.param({"near": (NAIROBI, 25), "country": ["KE"], "setting": ["inpatient"]}, id="near, country, setting"),
    pytest.param({"entry": ["walk-in"], "modality": ["mat"]}, id="walk-in and a type of help"),
]


@pytest.mark.parametrize("filters", COMBINATIONS)
def test_each_choice_counts_the_listings_it_gives_with_the_other_filters(client, listings, filters):
    shown = search(client, filters)
    counts = shown_counts(shown)

    for name in COUNTED:
        others = {param: values for param, values in filters.items() if param != name}
        for value, (_label, count, capped) in counts[name].items():
            if value == "":
                expected = expected_count(others)  # "Any country": the search without this filter
            elif name == "telehealth":
                expected = expected_count({**others, "telehealth": True})
            else:
                expected = expected_count({**others, name: [value]})
            assert (count, capped) == (expected, False), f"{name}={value!r} under {filters}"


def test_a_chosen_option_counts_what_it_gives_as_its_filters_only_value(client, listings):
    response = search(client, {"modality": ["mat", "counseling"]})
    counts = shown_counts(response)

    assert counts["modality"]["mat"][1] == expected_count({"modality": ["mat"]})
    assert counts["modality"]["counseling"][1] == expected_count({"modality": ["counseling"]})
    # Values of one filter combine with OR: together they give at least as many as either.
    total = response.context["page_obj"].paginator.count
    assert total == expected_count({"modality": ["mat", "counseling"]}) >= counts["modality"]["mat"][1]


def test_an_option_no_listing_holds_reads_zero_and_can_still_be_chosen(client, listings):
    counts = shown_counts(search(client, {}))
    assert counts["modality"]["faith-based"][1] == 0  # only a draft holds it

    response = search(client, {"modality": ["faith-based"]})
    page = response.content.decode()
    checkbox = re.search(r'<input[^>]*value="faith-based"[^>]*>', page)[0]
    assert "disabled" not in checkbox
    assert "checked" in checkbox
    assert response.context["page_obj"].paginator.count == 0
    assert shown_counts(response)["modality"]["faith-based"][1] == 0


def test_the_count_is_part_of_each_choices_label_text(client, listings):
    outpatient = expected_count({"setting": ["outpatient"]})
    kenya = expected_count({"country": ["KE"]})
    telehealth = expected_count({"telehealth": True})

    page = search(client, {}).content.decode()

    # Checkbox labels, drop-down options and the telehealth checkbox's label: what a screen reader reads out.
    assert re.search(rf'<label[^>]*for="id_setting_\d+"[^>]*>\s*Outpatient \({outpatient}\)\s*</label>', page)
    assert f'<option value="KE">Kenya ({kenya})</option>' in page
    assert re.search(rf"<label[^>]*>\s*Offers telehealth \({telehealth}\)\s*</label>", page)
    assert "(0)" in page


def test_counts_beyond_the_cap_read_as_the_cap_and_more(client, listings, settings):
    settings.SEARCH_RESULTS_LISTED = 5
    kenya = expected_count({"country": ["KE"]})
    assert kenya > 5

    response = search(client, {"modality": ["mat"]})
    counts = shown_counts(response)

    assert counts["country"]["KE"][1:] == (5, True) or expected_count({"country": ["KE"], "modality": ["mat"]}) <= 5
    assert counts["country"][""][1:] == (5, True)  # "Any country" under the type of help, 40 listings
    for name in COUNTED:
        others = {param: values for param, values in {"modality": ["mat"]}.items() if param != name}
        for value, (_label, count, capped) in counts[name].items():
            if value == "":
                expected = expected_count(others)
            elif name == "telehealth":
                expected = expected_count({**others, "telehealth": True})
            else:
                expected = expected_count({**others, name: [value]})
            assert (count, capped) == ((5, True) if expected > 5 else (expected, False)), f"{name}={value!r}"
    assert "Kenya (5+)" in response.content.decode() or counts["country"]["KE"][2] is False


def test_counts_follow_a_change_of_the_listings(client, listings, make_provider):
    before = shown_counts(search(client, {}))["modality"]["faith-based"][1]

    make_provider(name="New faith-based", modalities=["faith-based"])

    assert before == 0
    assert shown_counts(search(client, {}))["modality"]["faith-based"][1] == 1


def tallies(captured):
    """The queries that read the tokens of a base of the counts (and nothing else of its listings)."""
    tally = '"term_tokens" AS "term_tokens", "providers_provider"."telehealth" AS "telehealth" FROM'
    return [query["sql"] for query in captured.captured_queries if tally in query["sql"]]


def test_counting_takes_a_query_per_filter_set_and_one_more_kept_until_the_listings_change(
    client, listings, make_provider
):
    with CaptureQueriesContext(connection) as first:
        search(client, {"modality": ["mat"], "setting": ["outpatient"]})
    # Another page of the same search (not a stored page) finds the same bases counted.
    with CaptureQueriesContext(connection) as again:
        client.get(SEARCH + "?modality=mat&setting=outpatient&sort=updated")
    make_provider(name="New", modalities=["mat"], care_settings=["outpatient"])
    with CaptureQueriesContext(connection) as after_a_change:
        client.get(SEARCH + "?modality=mat&setting=outpatient&sort=verified")

    assert len(tallies(first)) == 3  # the results, the search without the type of help, without the setting
    assert tallies(again) == []
    assert len(tallies(after_a_change)) == 3


# The commonest searches counted before anyone asks (where app servers share the cache)


@pytest.fixture
def shared_cache(monkeypatch):
    """As with Redis: every app server reads the tallies a task worker counted."""
    monkeypatch.setattr(caching, "is_shared", lambda: True)


def test_after_a_change_a_task_counts_every_one_value_search_before_anyone_asks(
    client, listings, make_provider, shared_cache, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_provider(name="New", modalities=["faith-based"], country="KE")
    searches = ({}, {"modality": ["faith-based"]}, {"country": ["US"]}, {"language": ["es"]}, {"telehealth": True})

    kept = {}
    for number, filters in enumerate(searches):
        with CaptureQueriesContext(connection) as captured:
            kept[number] = shown_counts(search(client, filters))
        assert tallies(captured) == [], filters
    caching.forget(caching.PAGES)  # counted afresh, on first use
    assert kept == {number: shown_counts(search(client, filters)) for number, filters in enumerate(searches)}


@pytest.fixture
def queued(monkeypatch):
    """The databases the fill is queued for, instead of running it."""
    queued = []
    monkeypatch.setattr(choice_counts, "fill_choice_counts", SimpleNamespace(enqueue=queued.append))
    caching.cache.delete(choice_counts.FILL_QUEUED)
    return queued


def test_one_fill_is_queued_however_many_changes_come_before_it_starts(
    listings, make_provider, shared_cache, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_provider(name="One")
    with django_capture_on_commit_callbacks(execute=True):
        make_provider(name="Two")

    assert queued == ["default"]


def test_without_a_shared_cache_nothing_is_queued(listings, make_provider, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_provider(name="One")

    assert queued == []
