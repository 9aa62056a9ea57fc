"""The public search page, /providers/: what a person looking for help can filter on and what they see."""

import datetime

import pytest
from django.core.paginator import Page
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from providers.curation.history import update_with_history
from providers.models import Organization, Provider
from providers.search.filters import ProviderFilter

pytestmark = pytest.mark.django_db

SEARCH = "/providers/"
FILTERS_ALERT = "Some filters could not be used"


def search(client, query=""):
    response = client.get(SEARCH + ("?" + query if query else ""))
    assert response.status_code == 200
    return response


def names(response):
    return {provider.name for provider in response.context["page_obj"]}


def ordered_names(response):
    return [provider.name for provider in response.context["page_obj"]]


# The page itself


def test_the_url_name_is_providers_list():
    assert reverse("providers:list") == SEARCH


def test_it_lists_published_providers(client, make_provider):
    make_provider(name="Open Door")

    assert names(search(client)) == {"Open Door"}


def test_it_never_lists_drafts(client, make_provider):
    make_provider(name="Open Door")
    make_provider(name="Unfinished", status=Provider.Status.DRAFT)

    assert names(search(client)) == {"Open Door"}


def test_it_never_lists_archived_providers(client, make_provider):
    make_provider(name="Open Door")
    make_provider(name="Closed Down", status=Provider.Status.ARCHIVED)

    assert names(search(client)) == {"Open Door"}


def test_it_hides_drafts_and_archived_providers_even_when_they_match_every_filter(client, make_provider):
    for status in Provider.Status:
        make_provider(name=f"Clinic {status.label}", status=status, modalities=["mat"], country="KE")

    response = search(client, "modality=mat&country=KE&q=clinic")

    assert names(response) == {"Clinic Published"}


def test_the_context_holds_a_page_of_results(client, make_provider):
    make_provider()

    assert isinstance(search(client).context["page_obj"], Page)


def test_the_context_holds_the_filter(client):
    assert isinstance(search(client).context["filter"], ProviderFilter)


def test_it_shows_the_number_of_providers_found(client, make_provider):
    make_provider(name="A")
    make_provider(name="B")

    assert "2 providers found" in search(client).text


def test_it_says_so_when_nothing_matches(client, make_provider):
    make_provider(name="Open Door")

    response = search(client, "q=nothing-like-this")

    assert names(response) == set()
    assert "No providers match all of these filters." in response.text


# Keyword: q


def test_it_searches_names_by_keyword(client, make_provider):
    make_provider(name="Harbour House")
    make_provider(name="Open Door")

    assert names(search(client, "q=harbour")) == {"Harbour House"}


def test_the_keyword_search_ignores_case(client, make_provider):
    make_provider(name="Harbour House")

    assert names(search(client, "q=HARBOUR")) == {"Harbour House"}


def test_it_searches_organisation_names_by_keyword(client, make_provider):
    health = Organization.objects.create(name="Coastal Health Trust", slug="coastal-health")
    make_provider(name="Harbour House", organization=health)
    make_provider(name="Open Door")

    assert names(search(client, "q=coastal")) == {"Harbour House"}


def test_it_searches_cities_by_keyword(client, make_provider):
    make_provider(name="Harbour House", city="Mombasa", country="KE")
    make_provider(name="Open Door", city="Nairobi", country="KE")

    assert names(search(client, "q=mombasa")) == {"Harbour House"}


def test_it_searches_regions_by_keyword(client, make_provider):
    make_provider(name="Harbour House", region="Alabama")
    make_provider(name="Open Door", region="Ohio")

    assert names(search(client, "q=alabama")) == {"Harbour House"}


def test_it_searches_descriptions_by_keyword(client, make_provider):
    make_provider(name="Harbour House", description="Walk-in methadone clinic by the port.")
    make_provider(name="Open Door", description="Residential programme.")

    assert names(search(client, "q=walk-in")) == {"Harbour House"}


def test_every_word_of_the_keyword_must_match(client, make_provider):
    make_provider(name="Harbour House", city="Mombasa", country="KE")
    make_provider(name="Harbour Lights", city="Nairobi", country="KE")
    make_provider(name="Open Door", city="Mombasa", country="KE")

    assert names(search(client, "q=harbour+mombasa")) == {"Harbour House"}


def test_the_words_of_the_keyword_may_match_different_fields(client, make_provider):
    make_provider(name="Harbour House", description="Peer-led recovery groups.")

    assert names(search(client, "q=HOUSE+peer-led")) == {"Harbour House"}


def test_an_overlong_keyword_is_a_form_error_not_a_failure(client, make_provider):
    make_provider(name="Open Door")

    response = search(client, "q=" + "x" * 300)

    assert "q" in response.context["filter"].form.errors
    assert FILTERS_ALERT in response.text


@pytest.mark.parametrize(
    "keyword",
    [
        "%",
        "_",
        "100%",
        "a_b",
        "'",
        '"',
        "O'Brien",
        "'; DROP TABLE providers_provider; --",
        "São Paulo",
        "🙂",
        "\\",
        "%00",
    ],
)
def test_odd_characters_in_the_keyword_are_searched_safely(client, make_provider, keyword):
    make_provider(name="Open Door")

    response = client.get(SEARCH, {"q": keyword})

    assert response.status_code == 200


def test_percent_and_underscore_in_the_keyword_are_not_wildcards(client, make_provider):
    make_provider(name="Open Door")
    make_provider(name="100% Recovery")

    assert names(search(client, "q=100%25")) == {"100% Recovery"}
    assert names(search(client, "q=%25")) == set()
    assert names(search(client, "q=_")) == set()
    assert names(search(client, "q=do_r")) == set()


def test_it_finds_keywords_with_accents(client, make_provider):
    make_provider(name="Centro Esperança", city="São Paulo", country="BR")
    make_provider(name="Open Door")

    response = client.get(SEARCH, {"q": "São Paulo"})

    assert names(response) == {"Centro Esperança"}


def test_the_providers_table_survives_a_keyword_that_looks_like_sql(client, make_provider):
    make_provider(name="Open Door")

    client.get(SEARCH, {"q": "'; DROP TABLE providers_provider; --"})

    assert names(search(client)) == {"Open Door"}


# Place


def test_it_filters_by_city(client, make_provider):
    make_provider(name="Harbour House", city="Mombasa", country="KE")
    make_provider(name="Open Door", city="Nairobi", country="KE")

    assert names(search(client, "place=mombasa")) == {"Harbour House"}


def test_the_city_must_match_exactly(client, make_provider):
    make_provider(name="Springfield Centre", city="Springfield")
    make_provider(name="West Springfield Centre", city="West Springfield")

    assert names(search(client, "place=springfield")) == {"Springfield Centre"}


def test_it_filters_by_region(client, make_provider):
    make_provider(name="Harbour House", region="Alabama")
    make_provider(name="Open Door", region="Ohio")

    assert names(search(client, "place=ALABAMA")) == {"Harbour House"}


def test_it_filters_by_the_start_of_a_postal_code(client, make_provider):
    make_provider(name="Harbour House", postal_code="36301")
    make_provider(name="Open Door", postal_code="43001")

    assert names(search(client, "place=363")) == {"Harbour House"}


def test_the_postal_code_must_start_with_the_place(client, make_provider):
    make_provider(name="Harbour House", postal_code="36301")

    assert names(search(client, "place=301")) == set()


def test_a_city_and_region_must_both_match(client, make_provider):
    make_provider(name="Illinois Centre", city="Springfield", region="Illinois")
    make_provider(name="Massachusetts Centre", city="Springfield", region="Massachusetts")
    make_provider(name="Chicago Centre", city="Chicago", region="Illinois")

    response = client.get(SEARCH, {"place": "Springfield, Illinois"})

    assert names(response) == {"Illinois Centre"}


def test_empty_parts_of_a_place_are_ignored(client, make_provider):
    make_provider(name="Illinois Centre", city="Springfield", region="Illinois")

    response = client.get(SEARCH, {"place": " , Springfield,, "})

    assert names(response) == {"Illinois Centre"}


# Country


def test_it_filters_by_country(client, make_provider):
    make_provider(name="Nairobi Centre", country="KE")
    make_provider(name="Lagos Centre", country="NG")

    assert names(search(client, "country=KE")) == {"Nairobi Centre"}


def test_it_accepts_a_lowercase_country_code(client, make_provider):
    make_provider(name="Nairobi Centre", country="KE")
    make_provider(name="Lagos Centre", country="NG")

    assert names(search(client, "country=ke")) == {"Nairobi Centre"}


def test_the_country_may_be_repeated(client, make_provider):
    make_provider(name="Nairobi Centre", country="KE")
    make_provider(name="Lagos Centre", country="NG")
    make_provider(name="Accra Centre", country="GH")

    assert names(search(client, "country=KE&country=ng")) == {"Nairobi Centre", "Lagos Centre"}


def test_a_valid_country_without_providers_finds_nothing_without_an_error(client, make_provider):
    make_provider(name="Nairobi Centre", country="KE")

    response = search(client, "country=FR")

    assert names(response) == set()
    assert not response.context["filter"].form.errors
    assert FILTERS_ALERT not in response.text


def test_an_unknown_country_is_a_form_error(client, make_provider):
    make_provider(name="Nairobi Centre", country="KE")

    response = search(client, "country=XX")

    assert "country" in response.context["filter"].form.errors
    assert FILTERS_ALERT in response.text


def test_an_unknown_country_leaves_the_other_filters_working(client, make_provider):
    make_provider(name="Nairobi MAT", country="KE", modalities=["mat"])
    make_provider(name="Nairobi Peers", country="KE", modalities=["peer-support"])

    response = search(client, "country=XX&modality=mat")

    assert names(response) == {"Nairobi MAT"}


# Taxonomies


def test_it_filters_by_modality(client, make_provider):
    make_provider(name="MAT Clinic", modalities=["mat"])
    make_provider(name="Peer Hub", modalities=["peer-support"])
    make_provider(name="Untagged")

    assert names(search(client, "modality=mat")) == {"MAT Clinic"}


def test_it_filters_by_setting(client, make_provider):
    make_provider(name="Residential", care_settings=["inpatient"])
    make_provider(name="Day Centre", care_settings=["outpatient"])

    assert names(search(client, "setting=inpatient")) == {"Residential"}


def test_it_filters_by_medication(client, make_provider):
    make_provider(name="Methadone Clinic", medications=["methadone"])
    make_provider(name="Bupe Clinic", medications=["buprenorphine"])

    assert names(search(client, "medication=methadone")) == {"Methadone Clinic"}


def test_it_filters_by_payment(client, make_provider):
    make_provider(name="Free Clinic", payment_options=["free"])
    make_provider(name="Private Clinic", payment_options=["private-insurance"])

    assert names(search(client, "payment=free")) == {"Free Clinic"}


def test_it_filters_by_population(client, make_provider):
    make_provider(name="Youth Service", populations=["adolescents"])
    make_provider(name="Veterans Service", populations=["veterans"])

    assert names(search(client, "population=veterans")) == {"Veterans Service"}


def test_it_filters_by_language(client, make_provider):
    make_provider(name="Swahili Service", languages=["sw"])
    make_provider(name="French Service", languages=["fr"])

    assert names(search(client, "language=sw")) == {"Swahili Service"}


def test_it_accepts_an_uppercase_language_code(client, make_provider):
    make_provider(name="Swahili Service", languages=["sw"])
    make_provider(name="French Service", languages=["fr"])

    assert names(search(client, "language=SW")) == {"Swahili Service"}


def test_a_valid_language_without_providers_finds_nothing_without_an_error(client, make_provider):
    make_provider(name="Swahili Service", languages=["sw"])

    response = search(client, "language=de")

    assert names(response) == set()
    assert not response.context["filter"].form.errors
    assert FILTERS_ALERT not in response.text


def test_an_unknown_language_is_a_form_error(client, make_provider):
    make_provider(name="Swahili Service", languages=["sw"])

    response = search(client, "language=zz")

    assert "language" in response.context["filter"].form.errors
    assert FILTERS_ALERT in response.text


def test_an_unknown_language_leaves_the_other_filters_working(client, make_provider):
    make_provider(name="Nairobi", country="KE", languages=["sw"])
    make_provider(name="Lagos", country="NG", languages=["sw"])

    response = search(client, "language=zz&country=KE")

    assert names(response) == {"Nairobi"}


def test_an_unknown_modality_is_a_form_error(client, make_provider):
    make_provider(name="MAT Clinic", modalities=["mat"])

    response = search(client, "modality=nope")

    assert "modality" in response.context["filter"].form.errors
    assert FILTERS_ALERT in response.text


def test_an_unknown_modality_leaves_the_other_filters_working(client, make_provider):
    make_provider(name="Residential", care_settings=["inpatient"])
    make_provider(name="Day Centre", care_settings=["outpatient"])

    response = search(client, "modality=nope&setting=inpatient")

    assert names(response) == {"Residential"}


def test_repeated_values_of_one_filter_match_any_of_them(client, make_provider):
    make_provider(name="MAT Clinic", modalities=["mat"])
    make_provider(name="Peer Hub", modalities=["peer-support"])
    make_provider(name="Counselling Rooms", modalities=["counseling"])

    response = search(client, "modality=mat&modality=peer-support")

    assert names(response) == {"MAT Clinic", "Peer Hub"}


def test_different_filters_must_all_match(client, make_provider):
    make_provider(name="Match", modalities=["mat"], care_settings=["inpatient"], country="KE")
    make_provider(name="Wrong Setting", modalities=["mat"], care_settings=["outpatient"], country="KE")
    make_provider(name="Wrong Country", modalities=["mat"], care_settings=["inpatient"], country="NG")
    make_provider(name="Wrong Modality", modalities=["counseling"], care_settings=["inpatient"], country="KE")

    response = search(client, "modality=mat&setting=inpatient&country=KE")

    assert names(response) == {"Match"}


def test_a_provider_matching_several_chosen_terms_appears_once(client, make_provider):
    make_provider(name="Both", modalities=["mat", "peer-support"], care_settings=["inpatient", "outpatient"])
    make_provider(name="One", modalities=["mat"], care_settings=["inpatient"])

    response = search(client, "modality=mat&modality=peer-support&setting=inpatient&setting=outpatient")

    assert ordered_names(response) == ["Both", "One"]
    assert response.context["page_obj"].paginator.count == 2


# Telehealth


def test_it_filters_by_telehealth(client, make_provider):
    make_provider(name="Online", telehealth=True)
    make_provider(name="In Person", telehealth=False)
    make_provider(name="Unknown", telehealth=None)

    assert names(search(client, "telehealth=true")) == {"Online"}


def test_the_telehealth_filter_leaves_out_providers_that_did_not_say(client, make_provider):
    make_provider(name="Unknown", telehealth=None)

    assert names(search(client, "telehealth=true")) == set()


def test_without_the_telehealth_filter_every_provider_is_listed(client, make_provider):
    make_provider(name="Online", telehealth=True)
    make_provider(name="In Person", telehealth=False)
    make_provider(name="Unknown", telehealth=None)

    assert names(search(client)) == {"Online", "In Person", "Unknown"}


# Sorting


def test_it_sorts_by_name_by_default(client, make_provider):
    make_provider(name="Cedar", last_verified=datetime.date(2025, 1, 1))
    make_provider(name="Alder", last_verified=datetime.date(2023, 1, 1))
    make_provider(name="Birch", last_verified=datetime.date(2024, 1, 1))

    assert ordered_names(search(client)) == ["Alder", "Birch", "Cedar"]


def test_it_sorts_by_name_when_asked(client, make_provider):
    for name in ["Cedar", "Alder", "Birch"]:
        make_provider(name=name)

    assert ordered_names(search(client, "sort=name")) == ["Alder", "Birch", "Cedar"]


def test_it_sorts_the_most_recently_verified_first(client, make_provider):
    make_provider(name="Old", last_verified=datetime.date(2023, 5, 1))
    make_provider(name="New", last_verified=datetime.date(2025, 5, 1))
    make_provider(name="Middle", last_verified=datetime.date(2024, 5, 1))

    assert ordered_names(search(client, "sort=verified")) == ["New", "Middle", "Old"]


def test_sorting_by_verification_puts_never_verified_providers_last(client, make_provider):
    make_provider(name="Alder", last_verified=None)
    make_provider(name="Old", last_verified=datetime.date(2023, 5, 1))
    make_provider(name="New", last_verified=datetime.date(2025, 5, 1))

    assert ordered_names(search(client, "sort=verified")) == ["New", "Old", "Alder"]


def test_sorting_by_verification_breaks_ties_by_name(client, make_provider):
    for name in ["Cedar", "Alder", "Birch"]:
        make_provider(name=name, last_verified=datetime.date(2024, 5, 1))

    assert ordered_names(search(client, "sort=verified")) == ["Alder", "Birch", "Cedar"]


def test_it_sorts_the_most_recently_updated_first(client, make_provider):
    for name, day in [("Old", 1), ("New", 3), ("Middle", 2)]:
        provider = make_provider(name=name)
        Provider.objects.filter(pk=provider.pk).update(updated_at=datetime.datetime(2025, 1, day, tzinfo=datetime.UTC))

    assert ordered_names(search(client, "sort=updated")) == ["New", "Middle", "Old"]


def test_an_unknown_sort_is_a_form_error(client, make_provider):
    make_provider()

    response = search(client, "sort=bogus")

    assert "sort" in response.context["filter"].form.errors
    assert FILTERS_ALERT in response.text


def test_an_unknown_sort_leaves_the_filters_working_and_sorts_by_name(client, make_provider):
    make_provider(name="Cedar", modalities=["mat"])
    make_provider(name="Alder", modalities=["mat"])
    make_provider(name="Birch", modalities=["counseling"])

    response = search(client, "sort=bogus&modality=mat")

    assert ordered_names(response) == ["Alder", "Cedar"]


# Paging


@pytest.fixture
def five_providers(make_provider, settings):
    settings.PROVIDERS_PER_PAGE = 2
    for name in ["A1", "A2", "A3", "A4", "A5"]:
        make_provider(name=name, modalities=["mat"])


def test_it_pages_results(client, five_providers):
    response = search(client, "page=2")

    assert ordered_names(response) == ["A3", "A4"]


def test_a_page_that_is_not_a_number_gives_the_first_page(client, five_providers):
    response = search(client, "page=abc")

    assert response.context["page_obj"].number == 1


def test_a_page_past_the_end_gives_the_last_page(client, five_providers):
    response = search(client, "page=9999")

    assert response.context["page_obj"].number == 3
    assert ordered_names(response) == ["A5"]


@pytest.mark.parametrize("page", ["0", "-1", "9" * 400, "1.5", "", "%00"])
def test_a_bad_page_number_never_fails(client, five_providers, page):
    response = search(client, "page=" + page)

    assert 1 <= response.context["page_obj"].number <= 3


def test_pagination_links_keep_the_filters(client, make_provider, settings):
    settings.PROVIDERS_PER_PAGE = 2
    for name in ["A1", "A2", "A3"]:
        make_provider(name=name, modalities=["mat"], country="KE")
    make_provider(name="Other", modalities=["counseling"], country="KE")

    response = search(client, "modality=mat&country=KE")

    assert 'href="?modality=mat&amp;country=KE&amp;page=2"' in response.text


def test_the_previous_page_link_keeps_the_filters(client, make_provider, settings):
    settings.PROVIDERS_PER_PAGE = 2
    for name in ["A1", "A2", "A3"]:
        make_provider(name=name, modalities=["mat"])

    response = search(client, "modality=mat&page=2")

    assert 'href="?modality=mat&amp;page=1"' in response.text


# Beyond SEARCH_RESULTS_LISTED matches the search neither counts nor pages further.


def test_more_matches_than_are_listed_are_announced_as_more_than_the_limit(client, five_providers, settings):
    settings.SEARCH_RESULTS_LISTED = 4

    response = search(client)

    assert "More than 4 providers found" in response.text
    assert "5 providers found" not in response.text
    assert response.context["page_obj"].paginator.num_pages == 2


def test_the_last_listed_page_says_how_to_see_the_rest(client, five_providers, settings):
    settings.SEARCH_RESULTS_LISTED = 4

    response = search(client, "page=2")

    assert ordered_names(response) == ["A3", "A4"]
    assert "Only the first 4 providers are listed" in response.text
    assert "page=3" not in response.text
    assert 'href="/providers/export.csv' in response.text


def test_a_page_past_the_limit_gives_the_last_listed_page(client, five_providers, settings):
    settings.SEARCH_RESULTS_LISTED = 4

    response = search(client, "page=3")

    assert response.context["page_obj"].number == 2
    assert ordered_names(response) == ["A3", "A4"]


def test_exactly_the_limit_is_counted_exactly(client, five_providers, settings):
    settings.SEARCH_RESULTS_LISTED = 5

    response = search(client, "page=3")

    assert "5 providers found" in response.text
    assert "More than" not in response.text
    assert "Only the first" not in response.text
    assert ordered_names(response) == ["A5"]


def test_the_limit_applies_to_a_search_near_a_place(client, make_provider, settings):
    settings.SEARCH_RESULTS_LISTED = 2
    for number in range(3):
        make_provider(name=f"Nairobi {number}", country="KE", latitude=-1.28 + number / 100, longitude=36.82)

    response = search(client, "near=-1.28,36.82&radius=10")

    assert "More than 2 providers found within 10 km of" in response.text


def test_the_count_reads_no_further_than_the_limit(client, five_providers, settings):
    settings.SEARCH_RESULTS_LISTED = 3

    with CaptureQueriesContext(connection) as queries:
        search(client)

    count = next(query["sql"] for query in queries if "COUNT(" in query["sql"].upper())
    assert "LIMIT 4" in count.upper()


def test_there_are_no_pagination_links_for_one_page(client, make_provider, settings):
    settings.PROVIDERS_PER_PAGE = 2
    make_provider(name="A1")

    assert "page=" not in search(client).text


# Result cards


@pytest.fixture
def harbour_house(make_provider):
    return make_provider(
        name="Harbour House",
        city="Dothan",
        region="Alabama",
        country="US",
        phone="+13346732143",
        modalities=["mat"],
        care_settings=["outpatient"],
    )


def test_a_result_links_to_the_provider_page(client, harbour_house):
    response = search(client)

    assert f'<a href="/providers/{harbour_house.slug}/">Harbour House</a>' in response.text


def test_a_result_shows_the_city_and_country(client, harbour_house):
    assert "Dothan, Alabama, United States of America</p>" in search(client).text


def test_a_result_shows_the_city_and_country_without_a_region(client, make_provider):
    make_provider(name="Nairobi Centre", city="Nairobi", country="KE")

    assert "Nairobi, Kenya</p>" in search(client).text


def test_a_result_shows_modality_labels(client, harbour_house):
    assert "Medication for opioid use disorder (MAT)" in search(client).text


def test_a_result_shows_setting_labels(client, harbour_house):
    assert "Outpatient" in search(client).text


def test_a_result_has_a_call_link(client, harbour_house):
    response = search(client)

    assert 'href="tel:+13346732143"' in response.text
    assert 'Call <bdi dir="ltr">(334) 673-2143</bdi>' in response.text


def test_a_result_without_a_phone_has_no_call_link(client, make_provider):
    make_provider(name="No Phone")

    assert "tel:" not in search(client).text


# Query counts


def every_filter():
    return (
        "q=centre&place=nairobi&country=KE&modality=mat&setting=inpatient&medication=methadone"
        "&payment=free&population=adults&language=sw&telehealth=true&sort=verified"
    )


def make_matching_providers(make_provider, count, start=0):
    for number in range(start, start + count):
        make_provider(
            name=f"Centre {number:02}",
            city="Nairobi",
            country="KE",
            phone="+254202222222",
            telehealth=True,
            modalities=["mat", "counseling"],
            care_settings=["inpatient", "outpatient"],
            medications=["methadone"],
            payment_options=["free"],
            populations=["adults"],
            languages=["sw", "en"],
        )


def test_a_search_with_every_filter_runs_at_most_ten_queries(client, make_provider, django_assert_max_num_queries):
    make_matching_providers(make_provider, 3)

    # The counts beside the choices (issue 19) read, the first time, one base per choice filter set
    # (eight here) and the results: nine queries more. They are kept until the listings change.
    with django_assert_max_num_queries(10 + 9):
        response = search(client, every_filter())
    with django_assert_max_num_queries(10):
        search(client, every_filter() + "&page=1")

    assert len(response.context["page_obj"]) == 3


def test_the_number_of_queries_does_not_grow_with_the_results(client, make_provider, settings):
    settings.PROVIDERS_PER_PAGE = 50
    make_matching_providers(make_provider, 3)
    with CaptureQueriesContext(connection) as few:
        small = search(client, every_filter())
    make_matching_providers(make_provider, 27, start=3)

    with CaptureQueriesContext(connection) as many:
        large = search(client, every_filter())

    assert (len(small.context["page_obj"]), len(large.context["page_obj"])) == (3, 30)
    assert len(many.captured_queries) == len(few.captured_queries)


# Home page


def test_the_url_name_home_is_the_root():
    assert reverse("home") == "/"


def test_the_home_page_has_a_search_form_that_gets_the_search_page(client):
    response = client.get("/")

    assert response.status_code == 200
    assert '<form method="get" action="/providers/"' in response.text


@pytest.mark.parametrize("field", ["q", "near", "radius", "country", "modality", "setting"])
def test_the_home_page_search_form_has_the_field(client, field):
    response = client.get("/")

    assert f'name="{field}"' in response.text


def test_the_home_page_shows_how_many_providers_are_listed(client, make_provider):
    make_provider(name="A", country="KE")
    make_provider(name="B", country="NG")
    make_provider(name="C", country="NG")
    make_provider(name="Draft", status=Provider.Status.DRAFT)

    response = client.get("/")

    assert "A free directory of 3 treatment providers in 2 countries" in response.text


def test_the_home_pages_totals_follow_every_change(client, make_provider, settings, curator):
    settings.PAGE_CACHE_SECONDS = 0  # the totals' own cache, not the stored page
    make_provider(name="A", country="KE")
    client.get("/")

    listing = make_provider(name="B", country="NG")
    assert "A free directory of 2 treatment providers in 2 countries" in client.get("/").text

    update_with_history(
        Provider.objects.filter(pk=listing.pk),
        user=curator,
        channel="admin",
        reason="test",
        status=Provider.Status.ARCHIVED,
    )
    assert "A free directory of 1 treatment provider in 1 country" in client.get("/").text
