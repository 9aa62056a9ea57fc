"""Likely duplicates: finding them, listing them (command and admin), and merging or dismissing them."""

import csv
import io
from datetime import time

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from providers.curation.duplicates import Listing, address_key, find_duplicates, group_duplicates, name_key, phone_key
from providers.models import NotDuplicate, OpeningInterval, Organization, Provider, Source, places
from tests.exchange.helpers import run, write_our_csv

pytestmark = pytest.mark.django_db

LIST = "/admin/providers/provider/duplicates/"
MERGE = "/admin/providers/provider/duplicates/merge/"
DISMISS = "/admin/providers/provider/duplicates/dismiss/"

# Charlottesville, Virginia; 0.0005 degrees of latitude is about 56 m, 0.02 about 2.2 km.
LATITUDE, LONGITUDE = 38.0293, -78.4767


@pytest.fixture
def listing(make_provider):
    """A listing at the Charlottesville test spot unless told otherwise."""

    def make(name="Region Ten Community Services Board", **fields):
        fields.setdefault("latitude", LATITUDE)
        fields.setdefault("longitude", LONGITUDE)
        return make_provider(name=name, **fields)

    return make


def groups_of_names():
    return [
        sorted(provider.name for provider in Provider.objects.filter(pk__in=group.ids)) for group in find_duplicates()
    ]


def reasons_of(provider):
    [group] = [group for group in find_duplicates() if provider.pk in group.ids]
    return group.reasons


# Normalisation


@pytest.mark.parametrize(
    "first, second",
    [
        ("The Hope Ctr, Inc.", "Hope Center"),
        ("Saint Mary's Recovery Centre", "St. Marys Recovery Center"),
        ("Café Esperanza & Familia", "Cafe Esperanza and Familia"),
        ("Blue Ridge Health Care Servs LLC", "Blue Ridge HealthCare Services"),
        ("Region Ten Community Services Board – Louisa", "REGION TEN COMMUNITY SERVICES BOARD / LOUISA"),
        ("Alc Trt Prog", "Alcohol Treatment Program"),
    ],
)
def test_names_that_differ_only_in_case_accents_punctuation_and_common_words_match(first, second):
    assert name_key(first) == name_key(second)


@pytest.mark.parametrize(
    "first, second",
    [
        ("Hope Center", "New Hope Center"),
        ("Region Ten – Louisa County Office", "Region Ten – Nelson County Office"),
        ("Women's Recovery House", "Men's Recovery House"),
    ],
)
def test_names_of_different_providers_do_not_match(first, second):
    assert name_key(first) != name_key(second)


def test_a_name_made_only_of_common_words_matches_nothing():
    assert name_key("The Inc. LLC") == ""


def test_phone_numbers_are_compared_without_their_extension():
    assert phone_key("+16022775551;ext=5954") == phone_key("+16022775551;ext=7640") == "+16022775551"
    assert phone_key("") == ""


@pytest.mark.parametrize(
    "first, second",
    [
        (("12 Main Street", "22903"), ("12 Main St.", "22903-1234")),
        (("71 Tan Bark Plaza", "22949"), ("71 Tanbark Plaza", "22949")),
        (("800 North Preston Avenue", "22903"), ("800 N Preston Ave", "22903")),
    ],
)
def test_street_addresses_match_across_spellings_and_zip_plus_four(first, second):
    assert address_key(*first) == address_key(*second) != ""


def test_different_addresses_and_half_known_addresses_do_not_match():
    assert address_key("12 Main Street", "22903") != address_key("14 Main Street", "22903")
    assert address_key("12 Main Street", "22903") != address_key("12 Main Street", "22911")
    assert address_key("12 Main Street", "") == address_key("", "22903") == ""


# Detection rules


def test_the_same_name_at_the_same_place_is_a_likely_duplicate(listing):
    first = listing("Region Ten Community Services Board")
    second = listing("REGION TEN COMMUNITY SERVICES BOARD, INC.", latitude=LATITUDE + 0.0005, phone="+14349721800")

    assert groups_of_names() == [sorted([first.name, second.name])]
    assert reasons_of(first) == ["same name"]


def test_the_same_name_in_another_part_of_town_is_not(listing):
    listing(street_address="800 Preston Avenue", postal_code="22903")
    listing(latitude=LATITUDE + 0.02, street_address="500 Old Lynchburg Road", postal_code="22903")

    assert find_duplicates() == []


def test_the_same_street_address_and_postal_code_match_when_pins_are_far_apart_or_missing(listing):
    listing("Augusta Health", street_address="79 North Medical Park Drive", postal_code="22939")
    listing(
        "Augusta Health", street_address="79 N Medical Park Dr", postal_code="22939-1234", latitude=None, longitude=None
    )
    listing(
        "Augusta Health", street_address="79 North Medical Park Drive", postal_code="22939", latitude=LATITUDE + 0.002
    )

    [group] = find_duplicates()
    assert len(group.ids) == 3


def test_listings_without_pins_or_addresses_are_never_matched_by_name_alone(listing):
    listing("Hope House", latitude=None, longitude=None)
    listing("Hope House", latitude=None, longitude=None)

    assert find_duplicates() == []


def test_the_same_main_phone_at_the_same_place_is_a_likely_duplicate_whatever_the_extension(listing):
    listing("Carl T Hayden VA Medical Center", phone="+16022775551;ext=5954")
    phoenix = listing("Phoenix VA Healthcare System – Substance Abuse Program", phone="+16022775551;ext=7640")

    assert len(find_duplicates()) == 1
    assert reasons_of(phoenix) == ["same phone"]


def test_a_switchboard_shared_by_sites_in_other_towns_is_not(listing):
    listing("Big Island Substance Abuse Council – Hilo", phone="+18089699994")
    listing("Big Island Substance Abuse Council – Kona", phone="+18089699994", latitude=LATITUDE + 0.5)

    assert find_duplicates() == []


def test_intake_and_hotline_numbers_are_not_compared(listing):
    """Organisations share one intake line across many sites."""
    listing("Community Bridges – Globe", phone="+19284252415", intake_phone="+18779319142")
    listing("Community Bridges – Globe Detox", phone="+14808317566", intake_phone="+18779319142")

    assert find_duplicates() == []


def test_pairs_sharing_a_listing_make_one_group_with_every_reason(listing):
    listing("Khepera House", phone="+18056532596")
    listing("Khepera House", phone="+18056530000")
    listing("Khepera House Residential", phone="+18056530000")

    [group] = find_duplicates()
    assert len(group.ids) == 3
    assert group.reasons == ["same name", "same phone"]


def test_archived_listings_are_left_out_and_drafts_are_included(listing):
    listing("Hope House")
    listing("Hope House", status=Provider.Status.DRAFT)
    listing("Hope House", status=Provider.Status.ARCHIVED)

    [group] = find_duplicates()
    assert sorted(Provider.objects.filter(pk__in=group.ids).values_list("status", flat=True)) == ["draft", "published"]


def test_listings_in_different_countries_never_match(listing):
    listing("Hope House", country="US")
    listing("Hope House", country="CA")

    assert find_duplicates() == []


def test_the_source_filter_keeps_groups_with_a_listing_of_that_source(listing, source):
    other = Source.objects.create(slug="other", name="Other")
    listing("Hope House", source=source, external_id="1")
    listing("Hope House", source=other, external_id="2")
    listing("Second Chance", source=other, external_id="3")
    listing("Second Chance", source=other, external_id="4")

    assert len(find_duplicates()) == 2
    [group] = find_duplicates(source=source)
    assert Provider.objects.get(pk=group.ids[0]).name == "Hope House"


def test_a_pair_marked_as_different_providers_is_not_shown_again(listing, curator):
    first, second = listing("Hope House"), listing("Hope House")
    NotDuplicate.objects.record([first, second], curator)

    assert find_duplicates() == []

    third = listing("Hope House")
    [group] = find_duplicates()
    assert group.ids == [first.pk, second.pk, third.pk]


# Scale


def test_finding_duplicates_takes_two_queries_whatever_the_number_of_listings(listing, django_assert_num_queries):
    for number in range(5):
        listing(f"Clinic {number}", latitude=LATITUDE + number * 0.01)
    with django_assert_num_queries(2):
        few = find_duplicates()
    for number in range(60):
        listing(f"Clinic {number % 30}", latitude=LATITUDE + number % 30 * 0.01)
    with django_assert_num_queries(2):
        many = find_duplicates()

    assert few == [] and len(many) == 30


def test_a_name_shared_across_a_country_is_not_compared_pair_by_pair(monkeypatch):
    """10,000 listings of one name, 1 km apart: each is compared with its neighbours only, not with all the others."""
    calls = []
    distance = places.great_circle_km
    monkeypatch.setattr(places, "great_circle_km", lambda *args: calls.append(1) or distance(*args))
    listings = [
        Listing(pk, "Narconon", f"+1202555{pk:04d}", 25 + pk * 0.009, -80.0, f"{pk} Main Street", "", "US", None)
        for pk in range(1, 10_001)
    ]

    assert group_duplicates(listings) == []
    assert len(calls) == 0
    neighbours = [listing._replace(latitude=25 + pk * 0.0002) for pk, listing in enumerate(listings)]
    groups = group_duplicates(neighbours)
    assert len(groups) == 1 and len(groups[0].ids) == 10_000
    assert len(calls) < 10 * 10_000


# The command


@pytest.fixture
def two_groups(listing, source):
    listing("Hope House", source=source, external_id="H-1", phone="+14349721800", street_address="800 Preston Avenue")
    listing("Hope House", source=source, external_id="H-2")
    listing("Blue Ridge Clinic", phone="+14345551234", latitude=LATITUDE + 0.1, country="US")
    listing("Blue Ridge Medical", phone="+14345551234", latitude=LATITUDE + 0.1)


def test_the_command_prints_each_group_with_its_reasons_and_listings(two_groups):
    output = run("find_duplicates")

    assert output.startswith(
        "2 group(s) of likely duplicates, 4 listings "
        "(groups by reason, a group may have both: same name: 1, same phone: 1)."
    )
    assert "1. same phone\n   #" in output
    assert (
        "Blue Ridge Clinic | no address | +14345551234 | no source  | published | /providers/blue-ridge-clinic/"
        in output
    )
    assert "2. same name\n" in output
    assert "Hope House | 800 Preston Avenue | +14349721800 | test-partner H-1 | published" in output


def test_the_command_limits_and_filters(two_groups):
    assert "Showing the first 1." in run("find_duplicates", "--limit", "1")
    assert run("find_duplicates", "--source", "test-partner").startswith("1 group(s)")
    assert run("find_duplicates", "--country", "ke").startswith("0 group(s) of likely duplicates, 0 listings.")


def test_the_command_writes_csv_one_row_per_listing(two_groups):
    rows = list(csv.DictReader(io.StringIO(run("find_duplicates", "--format", "csv"))))

    assert [(row["group"], row["name"]) for row in rows] == [
        ("1", "Blue Ridge Clinic"),
        ("1", "Blue Ridge Medical"),
        ("2", "Hope House"),
        ("2", "Hope House"),
    ]
    assert rows[0]["reasons"] == "same phone"
    # Spreadsheet-safe, like our exports: a leading "+" would start a formula.
    assert rows[0]["phone"] == "'+14345551234"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("--country", "XX"), "--country 'XX' is not an ISO 3166-1 alpha-2 country code."),
        (("--source", "nope"), "No source has the slug 'nope'. Known sources: none yet."),
        (("--limit", "0"), "--limit: must be 1 or more"),
        (("--format", "xml"), "invalid choice: 'xml'"),
    ],
)
def test_the_command_refuses_bad_options_with_a_clear_message(arguments, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        run("find_duplicates", *arguments)


# The admin page


def test_curators_see_each_group_with_links_to_the_listings(curator_client, two_groups):
    response = curator_client.get(LIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert "2 groups of likely duplicates." in content
    hope = Provider.objects.filter(name="Hope House").first()
    assert f'href="/admin/providers/provider/{hope.pk}/change/"' in content
    assert "800 Preston Avenue, US" in content
    assert "Main: (434) 972-1800" in content
    assert 'test-partner <span title="H-1">(H-1)</span>' in content
    assert '<a href="/admin/providers/provider/">Providers</a>' in content  # breadcrumbs


def test_the_page_runs_as_many_queries_for_20_groups_as_for_2(curator_client, listing):
    def queries(groups):
        for number in range(groups):
            listing(f"Clinic {number}", latitude=LATITUDE + number * 0.01, modalities=["mat"])
            listing(f"Clinic {number}", latitude=LATITUDE + number * 0.01, phone="+14349721800")
        with CaptureQueriesContext(connection) as captured:
            assert curator_client.get(LIST).context["group_count"] == groups
        Provider.objects.all().delete()
        return len(captured)

    assert queries(2) == queries(20)


def test_the_page_filters_by_source_and_country_and_says_when_a_country_is_wrong(curator_client, two_groups):
    assert curator_client.get(LIST, {"source": "test-partner"}).context["group_count"] == 1
    assert curator_client.get(LIST, {"country": "ke"}).context["group_count"] == 0

    response = curator_client.get(LIST, {"country": "Narnia"})

    assert response.status_code == 200 and response.context["group_count"] == 2
    [shown] = [str(message) for message in get_messages(response.wsgi_request)]
    assert "“NARNIA” is not a country code" in shown


def test_the_provider_list_links_to_the_page(curator_client):
    assert f'href="{LIST}"' in curator_client.get("/admin/providers/provider/").content.decode()


def test_staff_who_cannot_change_providers_may_not_see_it(client, two_groups):
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_provider"))
    client.force_login(viewer)

    assert client.get(LIST).status_code == 403
    assert client.post(MERGE, {"keep": "1", "merge": ["2"]}).status_code == 403
    assert client.post(DISMISS, {"ids": ["1", "2"]}).status_code == 403


def test_visitors_are_sent_to_the_admin_login(client):
    response = client.get(LIST)

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_not_duplicates_hides_the_group(curator_client, curator, listing):
    first, second = listing("Hope House"), listing("Hope House")

    response = curator_client.post(DISMISS, {"ids": [first.pk, second.pk]})

    assert response.status_code == 302
    assert NotDuplicate.objects.get().decided_by == curator
    assert curator_client.get(LIST).context["group_count"] == 0


@pytest.mark.parametrize(
    "ids", [["1"], ["x", "2"], [], ["1", "99999999999999999999999"], [str(pk) for pk in range(1, 60)]]
)
def test_not_duplicates_needs_two_to_fifty_real_ids(curator_client, ids):
    response = curator_client.post(DISMISS, {"ids": ids})

    assert response.status_code == 302
    assert not NotDuplicate.objects.exists()


# Merging


@pytest.fixture
def pair(listing, source):
    """A published SAMHSA-like listing and a partner's draft of the same provider with more facts."""
    keeper = listing(
        "Region Ten Community Services Board",
        street_address="800 Preston Avenue",
        postal_code="22903",
        phone="+14349721800",
        modalities=["counseling"],
        source=source,
        external_id="R-1",
    )
    other = listing(
        "Region Ten Community Services Board",
        street_address="800 Preston Ave",
        postal_code="22903",
        phone="+14349720000",
        website="https://regionten.org",
        telehealth=True,
        modalities=["mat", "counseling"],
        medications=["buprenorphine"],
        languages=["es"],
        status=Provider.Status.DRAFT,
    )
    return keeper, other


def test_the_confirm_page_shows_what_the_kept_listing_gains(curator_client, pair):
    keeper, other = pair
    OpeningInterval.objects.create(provider=other, weekday=0, opens=time(9), closes=time(17))

    response = curator_client.get(MERGE, {"keep": keeper.pk, "merge": [keeper.pk, other.pk]})

    assert response.status_code == 200
    content = response.content.decode()
    assert "https://regionten.org" in content
    assert "adds Medication for opioid use disorder (MAT)" in content
    assert "adds Buprenorphine" in content
    assert f"those of {other.name} (#{other.pk})" in content
    assert 'name="csrfmiddlewaretoken"' in content
    keeper.refresh_from_db()
    assert keeper.website == ""  # nothing changes before the curator confirms


def test_merging_fills_what_the_keeper_lacks_and_keeps_what_it_has(curator_client, pair):
    keeper, other = pair

    response = curator_client.post(MERGE, {"keep": keeper.pk, "merge": [other.pk]})

    assert response.status_code == 302
    keeper.refresh_from_db()
    assert keeper.phone == "+14349721800"  # its own value stays
    assert keeper.street_address == "800 Preston Avenue"
    assert keeper.website == "https://regionten.org"
    assert keeper.telehealth is True
    assert set(keeper.modalities.values_list("slug", flat=True)) == {"mat", "counseling"}
    assert list(keeper.medications.values_list("slug", flat=True)) == ["buprenorphine"]
    assert list(keeper.languages.values_list("slug", flat=True)) == ["es"]
    assert keeper.status == Provider.Status.PUBLISHED and keeper.merged_into is None
    other.refresh_from_db()
    assert other.status == Provider.Status.ARCHIVED and other.merged_into == keeper
    assert other.website == "https://regionten.org"  # the merged listing keeps its own record
    [shown] = [str(message) for message in get_messages(response.wsgi_request)]
    assert "Merged 1 listing into" in shown
    assert curator_client.get(LIST).context["group_count"] == 0


def test_a_draft_keeper_is_published_when_a_published_listing_is_merged_into_it(curator, pair):
    from providers.curation.merging import merge

    published, draft = pair
    plan = merge(draft.pk, [published.pk], curator)

    draft.refresh_from_db()
    assert plan.publishes and draft.status == Provider.Status.PUBLISHED


def test_coordinates_and_organization_travel_when_the_keeper_has_none(curator, listing):
    from providers.curation.merging import merge

    keeper = listing("Hope House", latitude=None, longitude=None, street_address="1 Main Street", postal_code="22903")
    organization = Organization.objects.create(slug="hope", name="Hope Inc")
    other = listing("Hope House", street_address="1 Main St", postal_code="22903", organization=organization)

    merge(keeper.pk, [other.pk], curator)

    keeper.refresh_from_db()
    assert (keeper.latitude, keeper.longitude) == (LATITUDE, LONGITUDE)
    assert keeper.organization == organization
    assert keeper.time_zone == "America/New_York"


def test_opening_hours_are_taken_only_when_the_keeper_has_none(curator, listing):
    from providers.curation.merging import merge

    with_hours, other_hours, without = listing("A"), listing("A"), listing("A")
    OpeningInterval.objects.create(provider=with_hours, weekday=0, opens=time(9), closes=time(17))
    OpeningInterval.objects.create(provider=other_hours, weekday=5, opens=time(10), closes=time(12))

    merge(with_hours.pk, [other_hours.pk], curator)
    assert [str(interval) for interval in with_hours.opening_hours.all()] == ["Monday 09:00–17:00"]

    merge(without.pk, [with_hours.pk], curator)
    assert [str(interval) for interval in without.opening_hours.all()] == ["Monday 09:00–17:00"]


def intervals_of(provider):
    return [str(interval) for interval in provider.opening_hours.order_by("walk_in", "weekday", "opens")]


def test_a_keeper_without_walk_in_hours_takes_a_duplicates_walk_in_week_and_keeps_its_opening_hours(curator, listing):
    from providers.curation.merging import merge, plan_merge

    keeper, other = listing("A"), listing("A")
    OpeningInterval.objects.create(provider=keeper, weekday=0, opens=time(8), closes=time(17))
    OpeningInterval.objects.create(provider=other, weekday=5, opens=time(10), closes=time(12))
    OpeningInterval.objects.create(provider=other, walk_in=True, weekday=1, opens=time(9), closes=time(11))
    OpeningInterval.objects.create(provider=other, walk_in=True, weekday=3, opens=time(9), closes=time(11))

    plan = plan_merge(keeper.pk, [other.pk])
    assert plan.hours_from == {"walk_in_hours": other}
    assert plan.hours_taken == [("Walk-in hours", other)]

    merge(keeper.pk, [other.pk], curator)

    assert intervals_of(keeper) == [
        "Monday 08:00–17:00",
        "Tuesday 09:00–11:00 (walk-in)",
        "Thursday 09:00–11:00 (walk-in)",
    ]
    newest = Provider.history.filter(id=keeper.pk).order_by("-history_id").first()
    assert newest.history_opening_hours == [[0, "08:00", "17:00"]]
    assert newest.history_walk_in_hours == [[1, "09:00", "11:00"], [3, "09:00", "11:00"]]


def test_a_keeper_with_walk_in_hours_keeps_them_and_may_still_take_opening_hours(curator, listing):
    from providers.curation.merging import merge, plan_merge

    keeper, other, third = listing("A"), listing("A"), listing("A")
    OpeningInterval.objects.create(provider=keeper, walk_in=True, weekday=2, opens=time(13), closes=time(15))
    OpeningInterval.objects.create(provider=other, walk_in=True, weekday=1, opens=time(9), closes=time(11))
    OpeningInterval.objects.create(provider=third, weekday=4, opens=time(9), closes=time(17))

    plan = plan_merge(keeper.pk, [other.pk, third.pk])
    assert plan.hours_from == {"opening_hours": third}

    merge(keeper.pk, [other.pk, third.pk], curator)

    assert intervals_of(keeper) == ["Friday 09:00–17:00", "Wednesday 13:00–15:00 (walk-in)"]


def test_the_confirm_page_names_the_walk_in_hours_the_keeper_takes(curator_client, pair):
    keeper, other = pair
    OpeningInterval.objects.create(provider=keeper, weekday=0, opens=time(9), closes=time(17))
    OpeningInterval.objects.create(provider=other, walk_in=True, weekday=0, opens=time(9), closes=time(11))

    content = curator_client.get(MERGE, {"keep": keeper.pk, "merge": [keeper.pk, other.pk]}).content.decode()

    assert f'<th scope="row">Walk-in hours</th><td>those of {other.name} (#{other.pk})</td>' in content
    assert '<th scope="row">Opening hours</th>' not in content


def test_a_merge_is_recorded_in_history_with_who_how_and_which_listings(curator_client, curator, pair):
    keeper, other = pair

    curator_client.post(MERGE, {"keep": keeper.pk, "merge": [other.pk]})

    kept = keeper.history.first()
    assert kept.history_user == curator
    assert kept.history_channel == "merge"
    assert kept.history_change_reason == f"Merged in Region Ten Community Services Board (#{other.pk})"
    assert kept.website == "https://regionten.org"
    assert kept.history_terms["medications"] == ["buprenorphine"]  # the version holds the terms it gained
    merged = other.history.first()
    assert merged.history_channel == "merge" and merged.status == "archived" and merged.merged_into_id == keeper.pk
    assert merged.history_change_reason == f"Merged into Region Ten Community Services Board (#{keeper.pk})"


def test_a_long_list_of_merged_names_is_cut_to_fit_the_change_reason(curator, listing):
    from providers.curation.merging import merge

    keeper = listing("Hope House")
    others = [listing("Hope House – a programme with a long name that goes on " + str(number)) for number in range(4)]

    merge(keeper.pk, [other.pk for other in others], curator)

    reason = keeper.history.first().history_change_reason
    assert len(reason) == 100 and reason.endswith("…")


def test_the_old_address_of_a_merged_listing_redirects_permanently_to_the_keeper(client, curator, pair):
    from providers.curation.merging import merge

    keeper, other = pair
    merge(keeper.pk, [other.pk], curator)

    response = client.get(other.get_absolute_url())

    assert response.status_code == 301
    assert response["Location"] == keeper.get_absolute_url()
    assert client.get(keeper.get_absolute_url()).status_code == 200


def test_the_api_answers_404_for_a_merged_listing(client, curator, pair):
    """The API lists published listings only; partners find the keeper under its own slug."""
    from providers.curation.merging import merge

    keeper, other = pair
    merge(keeper.pk, [other.pk], curator)

    assert client.get(f"/api/v1/providers/{other.slug}/").status_code == 404
    assert client.get(f"/api/v1/providers/{keeper.slug}/").status_code == 200


def test_listings_merged_earlier_follow_on_to_the_new_keeper(client, curator, listing):
    from providers.curation.merging import merge

    first, second, third = listing("Hope House"), listing("Hope House"), listing("Hope House")
    merge(second.pk, [first.pk], curator)
    merge(third.pk, [second.pk], curator)

    first.refresh_from_db()
    assert first.merged_into == third
    assert client.get(first.get_absolute_url())["Location"] == third.get_absolute_url()


def test_reimporting_a_merged_record_does_not_publish_it_again(tmp_path, curator, listing, source):
    from providers.curation.merging import merge

    row = {"external_id": "R-2", "name": "Region Ten", "country": "US", "city": "Charlottesville"}
    path = write_our_csv(tmp_path / "partner.csv", [row])
    run("import_providers", path, "--source", source.slug)
    imported = Provider.objects.get(source=source, external_id="R-2")
    keeper = listing("Region Ten")
    merge(keeper.pk, [imported.pk], curator)

    write_our_csv(path, [{**row, "city": "Charlottesville, VA", "status": "published"}])
    output = run("import_providers", path, "--source", source.slug, "--status", "published")

    assert "0 created, 1 updated" in output
    imported.refresh_from_db()
    assert imported.status == Provider.Status.ARCHIVED and imported.merged_into == keeper
    assert imported.city == "Charlottesville, VA"
    assert Provider.objects.published().filter(name="Region Ten").count() == 1


@pytest.mark.parametrize(
    "data, message",
    [
        ({"merge": ["1"]}, "Choose the listing to keep."),
        ({"keep": "abc", "merge": ["1"]}, "Listings are chosen by their number"),
        ({"keep": "KEEPER", "merge": ["x"]}, "Listings are chosen by their number"),
        ({"keep": "99999999999999999999999", "merge": ["KEEPER"]}, "Listings are chosen by their number"),
        ({"keep": "-3", "merge": ["KEEPER"]}, "Listings are chosen by their number"),
        ({"keep": "KEEPER", "merge": [str(pk) for pk in range(1000, 1060)]}, "Choose at most 50 listings at a time."),
        ({"keep": "KEEPER"}, "Choose at least one other listing"),
        ({"keep": "KEEPER", "merge": ["KEEPER"]}, "Choose at least one other listing"),
        ({"keep": "KEEPER", "merge": ["999999"]}, "No listing has the id 999999."),
        ({"keep": "KEEPER", "merge": ["ABROAD"]}, "Listings in different countries are different providers"),
        ({"keep": "ARCHIVED", "merge": ["KEEPER"]}, "is archived; keep a listing that is published or a draft."),
        ({"keep": "KEEPER", "merge": ["MERGED"]}, "was already merged into another listing."),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_merge_that_cannot_be_done_says_why_and_changes_nothing(
    curator_client, curator, listing, data, message, method
):
    from providers.curation.merging import merge

    named = {
        "KEEPER": listing("Hope House"),
        "ABROAD": listing("Hope House", country="CA"),
        "ARCHIVED": listing("Hope House", status=Provider.Status.ARCHIVED),
        "MERGED": listing("Hope House"),
    }
    merge(listing("Hope House").pk, [named["MERGED"].pk], curator)
    before = sorted(Provider.objects.values_list("pk", "status", "merged_into", "updated_at"))

    def resolve(value):
        return str(named[value].pk) if value in named else value

    data = {
        key: [resolve(item) for item in value] if isinstance(value, list) else resolve(value)
        for key, value in data.items()
    }
    response = getattr(curator_client, method)(MERGE, data)

    assert response.status_code == 302 and response["Location"] == LIST
    [shown] = [str(item) for item in get_messages(response.wsgi_request)]
    assert shown.startswith("Nothing was merged: ") and message in shown
    assert sorted(Provider.objects.values_list("pk", "status", "merged_into", "updated_at")) == before


def test_a_keeper_that_fails_validation_stops_the_merge(curator_client, pair):
    keeper, other = pair
    Provider.objects.filter(pk=keeper.pk).update(email="not an address")

    response = curator_client.post(MERGE, {"keep": keeper.pk, "merge": [other.pk]})

    [shown] = [str(item) for item in get_messages(response.wsgi_request)]
    assert "Enter a valid email address." in shown
    other.refresh_from_db()
    assert other.status == Provider.Status.DRAFT and other.merged_into is None
    assert not keeper.modalities.filter(slug="mat").exists()


def test_merging_needs_the_csrf_token(curator, pair):
    keeper, other = pair
    client = Client(enforce_csrf_checks=True)
    client.force_login(curator)

    assert client.post(MERGE, {"keep": keeper.pk, "merge": [other.pk]}).status_code == 403
    other.refresh_from_db()
    assert other.merged_into is None


def test_sending_the_merge_twice_merges_once(curator_client, pair):
    keeper, other = pair

    curator_client.post(MERGE, {"keep": keeper.pk, "merge": [other.pk]})
    records = keeper.history.count()
    response = curator_client.post(MERGE, {"keep": keeper.pk, "merge": [other.pk]})

    assert "was already merged" in [str(item) for item in get_messages(response.wsgi_request)][-1]
    assert keeper.history.count() == records
