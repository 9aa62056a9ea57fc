"""Keyword search through the database's full-text index: the ``q`` of /providers/ and /api/v1/providers/.

Every word a person types must be the start of a word of the listing's name,
organisation, city, region or description; accents and case do not matter; what
they type is only ever words, never search syntax; and the index follows every
way a listing is written, and is made by the migrations.
"""

import pytest
from django.db import connection

from providers import caching
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import Record
from providers.models import Organization, Provider, search_index

pytestmark = pytest.mark.django_db

SEARCH = "/providers/"
API = "/api/v1/providers/"


def found(client, keyword):
    response = client.get(SEARCH, {"q": keyword})
    assert response.status_code == 200
    return {provider.name for provider in response.context["page_obj"]}


def matching(keyword):
    return set(Provider.objects.matching_keywords(keyword).values_list("name", flat=True))


def record(external_id, name, city, number=1):
    return Record(
        number=number,
        external_id=external_id,
        source="keyword-partner",
        values={"name": name, "country": "KE", "city": city},
    )


def import_options():
    return ImportOptions(file_name="keywords.csv", format="test")


# Words and prefixes


def test_a_word_finds_the_words_it_starts(client, make_provider):
    make_provider(name="Methadone Clinic")
    make_provider(name="Open Door")

    assert found(client, "meth") == {"Methadone Clinic"}


def test_a_word_does_not_find_words_it_only_ends(client, make_provider):
    make_provider(name="Methadone Clinic")

    assert found(client, "adone") == set()


def test_a_prefix_may_stand_for_any_word_of_the_description(client, make_provider):
    make_provider(name="Harbour House", description="Buprenorphine and counselling.")
    make_provider(name="Open Door", description="Residential programme.")

    assert found(client, "bupre couns") == {"Harbour House"}


def test_a_word_of_one_or_two_letters_is_matched_whole(client, make_provider):
    make_provider(name="St Mary Clinic", description="Counselling and detox.")
    make_provider(name="Stanley House", description="An open door.")

    assert found(client, "st") == {"St Mary Clinic"}
    assert found(client, "an") == {"Stanley House"}


@pytest.mark.parametrize("walk_factor", [0, 10**9], ids=["words held by most listings", "rare words"])
def test_common_and_rare_words_find_the_same_listings(make_provider, monkeypatch, walk_factor):
    # PostgreSQL tests a common word on each row in name order and fetches a rare word's matches first.
    monkeypatch.setattr(search_index, "WALK_FACTOR", walk_factor)
    monkeypatch.setattr(search_index, "_keyword_statistics", lambda using: (100, {"mombasa": 0.5, "lagos": 0.5}))
    make_provider(name="Methadone Clinic", city="Mombasa", description="Walk-in counselling.")
    make_provider(name="Harbour House", city="Mombasa")
    make_provider(name="Open Door", city="Lagos")

    assert matching("mombasa") == {"Methadone Clinic", "Harbour House"}
    assert matching("meth mombasa couns") == {"Methadone Clinic"}
    assert matching("lagos door") == {"Open Door"}
    assert list(Provider.objects.matching_keywords("mombasa").order_by("name").values_list("name", flat=True)) == [
        "Harbour House",
        "Methadone Clinic",
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the word statistics are PostgreSQL's")
def test_words_are_planned_by_postgresqls_statistics_once_it_has_gathered_them(make_provider, monkeypatch):
    monkeypatch.setattr(caching.KEYWORD_STATISTICS, "_values", {})
    for number in range(30):
        make_provider(name=f"Recovery Centre {number}", city="Mombasa" if number % 3 else "Lagos")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE providers_provider")

    assert len(matching("recovery mombasa")) == 20
    assert matching("lagos 3") == {"Recovery Centre 3"}


def test_a_query_without_a_letter_or_digit_finds_nothing(make_provider):
    make_provider(name="Open Door")

    assert matching("-- !!") == set()


def test_a_blank_query_filters_nothing(make_provider):
    make_provider(name="Open Door")
    make_provider(name="Harbour House")

    assert matching("   ") == {"Open Door", "Harbour House"}


# Accents, case and scripts


@pytest.mark.parametrize(
    ("name", "country", "query"),
    [
        pytest.param("Centro Bogotá", "CO", "bogota", id="a query without accents finds a name with them"),
        pytest.param("centro bogota", "CO", "BOGOTÁ", id="a query with accents and capitals finds a name without them"),
        pytest.param("مركز الأمل للتعافي", "EG", "الأمل", id="an Arabic name is found by its own words"),
        pytest.param("Центр Надежда", "UA", "НАДЕЖ", id="a Cyrillic name is found by its own words in any case"),
    ],
)
def test_accents_case_and_scripts_do_not_stand_in_the_way(client, make_provider, name, country, query):
    make_provider(name=name, country=country)
    make_provider(name="Open Door")

    assert found(client, query) == {name}


# The organisation


def test_the_organisation_name_is_searched(client, make_provider):
    trust = Organization.objects.create(name="Coastal Health Trust", slug="coastal-health")
    make_provider(name="Harbour House", organization=trust)
    make_provider(name="Open Door")

    assert found(client, "trust") == {"Harbour House"}


def test_renaming_the_organisation_makes_its_listings_findable_by_the_new_name(client, make_provider):
    trust = Organization.objects.create(name="Coastal Health Trust", slug="coastal-health")
    make_provider(name="Harbour House", organization=trust)
    make_provider(name="Lake Hostel", organization=trust)
    make_provider(name="Open Door")

    trust.name = "Lakeside Wellbeing"
    trust.save()

    assert found(client, "wellbeing") == {"Harbour House", "Lake Hostel"}


def test_renaming_the_organisation_stops_the_old_name_finding_its_listings(client, make_provider):
    trust = Organization.objects.create(name="Coastal Health Trust", slug="coastal-health")
    make_provider(name="Harbour House", organization=trust)

    trust.name = "Lakeside Wellbeing"
    trust.save()

    assert found(client, "coastal") == set()


def test_renaming_an_organisation_fetched_again_refreshes_its_listings(client, make_provider):
    Organization.objects.create(name="Coastal Health Trust", slug="coastal-health")
    make_provider(name="Harbour House", organization=Organization.objects.get(slug="coastal-health"))

    trust = Organization.objects.get(slug="coastal-health")
    trust.name = "Lakeside Wellbeing"
    trust.save()

    assert found(client, "lakeside") == {"Harbour House"}
    assert found(client, "coastal") == set()


def test_deleting_the_organisation_stops_its_name_finding_its_listings(client, make_provider):
    trust = Organization.objects.create(name="Coastal Health Trust", slug="coastal-health")
    make_provider(name="Harbour House", organization=trust)

    trust.delete()

    assert Provider.objects.get().organization is None
    assert found(client, "coastal") == set()
    assert found(client, "harbour") == {"Harbour House"}


def test_an_import_renaming_an_organisation_refreshes_its_other_listings(client, make_provider):
    trust = Organization.objects.create(name="Coastal Health Trust", slug="coastal-health")
    make_provider(name="Harbour House", organization=trust)
    imported = record("KW-1", "Tidewater Recovery", "Mombasa")
    imported.organization = {"name": "Lakeside Wellbeing", "slug": "coastal-health"}

    report = import_records([imported], import_options())

    assert report.written, report.rejected
    assert Organization.objects.get(slug="coastal-health").name == "Lakeside Wellbeing"
    assert found(client, "lakeside") == {"Harbour House", "Tidewater Recovery"}
    assert found(client, "coastal") == set()


# The index follows every write


def test_a_new_listing_is_found_at_once(make_provider):
    make_provider(name="Harbour House")

    assert matching("harbour") == {"Harbour House"}


def test_a_renamed_listing_is_found_by_its_new_name_only(make_provider):
    provider = make_provider(name="Harbour House")

    provider.name = "Lighthouse Centre"
    provider.save()

    assert matching("lighthouse") == {"Lighthouse Centre"}
    assert matching("harbour") == set()


def test_a_listing_saved_with_update_fields_is_found_by_its_new_city(make_provider):
    provider = make_provider(name="Harbour House", city="Mombasa", country="KE")

    provider.city = "Kisumu"
    provider.save(update_fields=["city"])

    assert matching("kisumu") == {"Harbour House"}
    assert matching("mombasa") == set()


def test_a_deleted_listing_is_no_longer_found(make_provider):
    provider = make_provider(name="Harbour House")
    make_provider(name="Harbour Lights")

    provider.delete()

    assert matching("harbour") == {"Harbour Lights"}


def test_an_imported_listing_is_found_by_its_name_and_city(client):
    report = import_records(
        [record("KW-1", "Tidewater Recovery", "Mombasa"), record("KW-2", "Lakeshore Hostel", "Kisumu", number=2)],
        import_options(),
    )

    assert report.written, report.rejected
    assert found(client, "tidewater") == {"Tidewater Recovery"}
    assert found(client, "kisumu") == {"Lakeshore Hostel"}
    assert found(client, "recovery mombasa") == {"Tidewater Recovery"}


def test_a_listing_renamed_by_a_new_import_is_found_by_the_new_name_only(client):
    import_records([record("KW-1", "Tidewater Recovery", "Mombasa")], import_options())

    report = import_records([record("KW-1", "Seabreeze Centre", "Mombasa")], import_options())

    assert report.written and len(report.updated) == 1
    assert found(client, "seabreeze") == {"Seabreeze Centre"}
    assert found(client, "tidewater") == set()
    assert found(client, "mombasa") == {"Seabreeze Centre"}


def test_an_imported_listing_is_found_by_its_organisation(client):
    imported = record("KW-1", "Tidewater Recovery", "Mombasa")
    imported.organization = {"name": "Coastal Health Trust"}

    report = import_records([imported], import_options())

    assert report.written, report.rejected
    assert found(client, "coastal trust") == {"Tidewater Recovery"}


def test_an_import_that_does_not_name_the_organisation_keeps_it_searchable(client):
    imported = record("KW-1", "Tidewater Recovery", "Mombasa")
    imported.organization = {"name": "Coastal Health Trust"}
    import_records([imported], import_options())

    report = import_records([record("KW-1", "Seabreeze Centre", "Mombasa")], import_options())

    assert report.written
    assert Provider.objects.get().organization.name == "Coastal Health Trust"
    assert found(client, "coastal seabreeze") == {"Seabreeze Centre"}


# What a person types is only words


# Every word of these is in SYNTAX_WORDS; the rest is the syntax of FTS5 or of to_tsquery.
HOSTILE_WITH_WORDS = [
    '"unbalanced', "NEAR(a b", "a OR b", "NOT", "a AND", "^a", "name:x", "a & b | !c", "a <-> b",
    "'quoted'", "-a", "a:*", "a\\", "AND OR NOT", "a'b", "{a b}", "+a", "a:", "a|", "a-b", "'a':*",
    'x" OR "b', "c*", "NEAR(a, b)",
]  # fmt: skip
HOSTILE_WITHOUT_WORDS = ['"', "((", ")", "*", "\\", "'", "''", "\x00", "::", "!", "<->", "&", "|", ":*", '""*']
SYNTAX_WORDS = {"name": "Unbalanced Quoted Name X", "description": "A b c and or not near."}


@pytest.mark.parametrize("keyword", HOSTILE_WITH_WORDS + HOSTILE_WITHOUT_WORDS)
def test_search_syntax_in_the_keyword_gives_a_page_not_an_error(client, make_provider, keyword):
    make_provider(**SYNTAX_WORDS)

    response = client.get(SEARCH, {"q": keyword})

    assert response.status_code == 200


@pytest.mark.parametrize("keyword", HOSTILE_WITH_WORDS)
def test_search_syntax_in_the_keyword_is_searched_as_its_words(make_provider, keyword):
    make_provider(**SYNTAX_WORDS)
    make_provider(name="Open Door")

    assert matching(keyword) == {"Unbalanced Quoted Name X"}


@pytest.mark.parametrize("keyword", HOSTILE_WITHOUT_WORDS)
def test_search_syntax_without_a_word_matches_nothing(make_provider, keyword):
    make_provider(**SYNTAX_WORDS)

    assert matching(keyword) == set()


@pytest.mark.parametrize("keyword", ["a OR b", "a & b | !c", "a <-> b", '"unbalanced', "NEAR(a b", "name:x"])
def test_search_syntax_in_the_api_keyword_is_searched_as_its_words(client, make_provider, keyword):
    make_provider(**SYNTAX_WORDS)
    make_provider(name="Open Door")

    response = client.get(API, {"q": keyword})

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["results"]] == ["Unbalanced Quoted Name X"]


def test_or_is_searched_as_a_word(client, make_provider):
    make_provider(name="Or Hospital")
    make_provider(name="Open Door")

    assert found(client, "or") == {"Or Hospital"}


def test_or_between_words_is_a_third_word_not_a_choice(client, make_provider):
    make_provider(name="Harbour House", city="Mombasa", country="KE")
    make_provider(name="Harbour Lights", city="Nairobi", country="KE")
    make_provider(name="Or Harbour Centre", city="Mombasa", country="KE")

    assert found(client, "harbour OR mombasa") == {"Or Harbour Centre"}


def test_not_and_near_are_searched_as_words(client, make_provider):
    make_provider(name="Near Not Clinic")
    make_provider(name="Open Door")

    assert found(client, "NOT NEAR") == {"Near Not Clinic"}


def test_punctuation_in_the_keyword_only_separates_words(client, make_provider):
    make_provider(name="Harbour House", city="Mombasa", country="KE")
    make_provider(name="Open Door", city="Mombasa", country="KE")

    assert found(client, '"harbour"* (mombasa)') == {"Harbour House"}


# At most eight words


def test_words_after_the_eighth_are_not_searched_for(client, make_provider):
    make_provider(name="One Two Three Four Five Six Seven Eight")

    assert found(client, "one two three four five six seven eight nine") == {"One Two Three Four Five Six Seven Eight"}


def test_all_of_the_first_eight_words_must_match(client, make_provider):
    make_provider(name="One Two Three Four Five Six Seven Eight")

    assert found(client, "one two three four five six seven nine") == set()


def test_a_repeated_word_counts_once_towards_the_eight(client, make_provider):
    make_provider(name="One Two Three Four Five Six Seven Eight")

    assert found(client, "one one two three four five six seven eight") == {"One Two Three Four Five Six Seven Eight"}


# The index is part of the schema


def index_objects():
    """The names of the full-text index's tables, triggers, columns and indexes the database holds."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'providers_provider_%'")
        else:
            cursor.execute(
                """SELECT column_name FROM information_schema.columns WHERE table_name = 'providers_provider'
                UNION ALL SELECT indexname FROM pg_indexes WHERE tablename = 'providers_provider'"""
            )
        return {name for (name,) in cursor.fetchall()}


def test_the_migrations_leave_every_part_of_the_index_in_place():
    """A later migration that rebuilds the provider table on SQLite drops the triggers: it must make them again."""
    if connection.vendor == "sqlite":
        expected = {
            f"{table}{part}"
            for table in ("providers_provider_search", "providers_provider_terms")
            for part in ("", "_insert", "_delete", "_update")
        }
    else:
        expected = {
            "search_vector",
            "term_vector",
            "providers_provider_search_vector",
            "providers_provider_term_vector",
        }

    assert expected <= index_objects()


# The API


def test_the_api_keyword_finds_by_prefix(client, make_provider):
    make_provider(name="Methadone Clinic")
    make_provider(name="Open Door")

    response = client.get(API, {"q": "meth"})

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["results"]] == ["Methadone Clinic"]


def test_the_api_keyword_ignores_accents_and_searches_organisations(client, make_provider):
    trust = Organization.objects.create(name="Fundación Esperanza", slug="esperanza")
    make_provider(name="Centro Bogotá", country="CO", organization=trust)
    make_provider(name="Open Door")

    response = client.get(API, {"q": "FUNDACION bogota"})

    assert [item["name"] for item in response.json()["results"]] == ["Centro Bogotá"]
