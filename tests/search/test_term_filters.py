"""Several term filters at once: answered by the full-text index over each listing's term tokens.

Two or more of type of help, setting, medication, payment, who is served and
language, or a country and one of them, find exactly the listings holding one
chosen term of every filter, the same as each filter alone would keep; and the
tokens follow the terms and the country whichever way they change, so the index
never answers from terms a listing no longer has.
"""

import io
import itertools
import random
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from providers.curation.history import revert
from providers.curation.merging import merge
from providers.exchange.importer import ImportOptions, import_records
from providers.exchange.records import Record
from providers.models import TAXONOMY_FIELDS, CareSetting, Modality, PaymentOption, Provider, search_index
from providers.search.filters import ProviderFilter
from providers.search.planner_statistics import ensure_statistics

pytestmark = pytest.mark.django_db

SEARCH = "/providers/"

SLUGS = {
    "modality": ["mat", "counseling", "peer-support", "faith-based"],
    "setting": ["inpatient", "outpatient", "aftercare"],
    "payment": ["free", "sliding-scale", "self-pay"],
    "population": ["adults", "women", "veterans"],
    "language": ["en", "es", "fr"],
}


def found(client, **filters):
    response = client.get(SEARCH, filters)
    assert response.status_code == 200
    return {provider.name for provider in response.context["page_obj"]}


def filtered(query):
    return set(ProviderFilter(QueryDict(query)).qs.values_list("name", flat=True))


def tokens(provider):
    return set(Provider.objects.get(pk=provider.pk).term_tokens.split())


def expected_tokens(provider):
    """The tokens a listing's country and terms call for, its terms read from the term tables."""
    provider = Provider.objects.get(pk=provider.pk)
    return {f"country{provider.country.code.lower()}"} | {
        f"{param}{term_id}"
        for param, field in TAXONOMY_FIELDS.items()
        for term_id in getattr(provider, field).values_list("pk", flat=True)
    }


@pytest.fixture
def listings(make_provider):
    """Thirty listings with random terms of every filtered taxonomy (seeded: the same each run)."""
    rng = random.Random(8)
    made = []
    for number in range(30):
        terms = {TAXONOMY_FIELDS[param]: rng.sample(slugs, rng.randint(0, 2)) for param, slugs in SLUGS.items()}
        made.append((make_provider(name=f"Listing {number:02d}", **terms), terms))
    return made


def holders(listings, chosen):
    """The reference answer: names of the listings holding one chosen slug of every filter."""
    return {
        provider.name
        for provider, terms in listings
        if all(set(slugs) & set(terms[TAXONOMY_FIELDS[param]]) for param, slugs in chosen.items())
    }


# What several filters find


COMBINATIONS = [
    {"modality": ["mat"], "setting": ["outpatient"]},
    {"modality": ["mat", "counseling"], "payment": ["free"]},
    {"modality": ["counseling"], "payment": ["sliding-scale"], "population": ["women"]},
    {"setting": ["inpatient", "aftercare"], "population": ["adults", "veterans"], "language": ["es"]},
    {param: slugs[:2] for param, slugs in SLUGS.items()},
]


@pytest.mark.parametrize("chosen", COMBINATIONS)
def test_several_filters_find_the_listings_holding_a_chosen_term_of_each(listings, chosen):
    query = "&".join(f"{param}={slug}" for param, slugs in chosen.items() for slug in slugs)

    assert filtered(query) == holders(listings, chosen)


def test_every_pair_of_single_terms_finds_what_the_filters_one_at_a_time_find(listings):
    for (first, first_slugs), (second, second_slugs) in itertools.combinations(SLUGS.items(), 2):
        for first_slug, second_slug in itertools.product(first_slugs, second_slugs):
            chosen = {first: [first_slug], second: [second_slug]}
            assert filtered(f"{first}={first_slug}&{second}={second_slug}") == holders(listings, chosen), chosen


# One filter: the index lists the holders of a term few listings hold; the name order is walked for the others


@pytest.mark.parametrize("few_holders", [0, 5000], ids=["every term common", "every term few"])
def test_one_filter_finds_its_holders_whether_its_terms_are_few_or_common(listings, few_holders, monkeypatch):
    monkeypatch.setattr(search_index, "FEW_HOLDERS", few_holders)
    for param, slugs in [*SLUGS.items(), ("modality", ["holistic"])]:  # no listing is holistic
        for chosen in ([slugs[0]], slugs[:2]):
            query = "&".join(f"{param}={slug}" for slug in chosen)
            assert filtered(query) == holders(listings, {param: chosen}), query


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's planner knows how many hold a term")
def test_how_many_hold_a_term_is_read_once_per_version_of_the_listings(listings, make_provider):
    faith_based = {"modality": [Modality.objects.get(slug="faith-based").pk]}

    def asks(chosen):
        with CaptureQueriesContext(connection) as captured:
            few = search_index.few_hold(chosen, "default")
        return few, len(captured)

    assert asks(faith_based) == (True, 1)
    assert asks(faith_based) == (True, 0)
    make_provider(name="New listing", modalities=["faith-based"])
    assert asks(faith_based) == (True, 1)


def test_several_filters_combine_with_the_country_and_keyword(client, make_provider):
    make_provider(name="Harbour Clinic", country="KE", modalities=["mat"], care_settings=["outpatient"])
    make_provider(name="Harbour House", country="UG", modalities=["mat"], care_settings=["outpatient"])
    make_provider(name="Lakeside Clinic", country="KE", modalities=["mat"], care_settings=["outpatient"])
    make_provider(name="Harbour Annex", country="KE", modalities=["mat"], care_settings=["inpatient"])

    assert found(client, country="KE", q="harbour", modality="mat", setting="outpatient") == {"Harbour Clinic"}


@pytest.mark.parametrize("countries", [["KE"], ["KE", "UG"], ["TZ"]])
def test_a_country_and_a_term_filter_find_the_listings_with_both(make_provider, countries):
    make_provider(name="Nairobi Clinic", country="KE", modalities=["mat"])
    make_provider(name="Kampala Clinic", country="UG", modalities=["mat", "counseling"])
    make_provider(name="Mombasa House", country="KE", modalities=["counseling"])

    expected = {"KE": {"Nairobi Clinic"}, "UG": {"Kampala Clinic"}, "TZ": set()}
    query = "&".join(f"country={code}" for code in countries) + "&modality=mat"

    assert filtered(query) == set().union(*(expected[code] for code in countries))


def test_the_queryset_answers_a_country_alone_and_nothing_chosen(make_provider):
    make_provider(name="Nairobi Clinic", country="KE", modalities=["mat"])
    make_provider(name="Kampala Clinic", country="UG")

    assert set(Provider.objects.holding_terms({"country": ["KE"]}).values_list("name", flat=True)) == {"Nairobi Clinic"}
    assert Provider.objects.holding_terms({}).count() == 2
    assert not Provider.objects.holding_terms({"modality": []}).exists()


def test_several_filters_find_nothing_when_no_listing_holds_both(client, make_provider):
    make_provider(name="Methadone Clinic", modalities=["mat"], care_settings=["outpatient"])
    make_provider(name="Retreat", modalities=["faith-based"], care_settings=["inpatient"])

    assert found(client, modality="mat", setting="inpatient") == set()


def test_several_filters_leave_out_unpublished_listings(client, make_provider):
    make_provider(name="Open Clinic", modalities=["mat"], care_settings=["outpatient"])
    make_provider(name="Draft Clinic", modalities=["mat"], care_settings=["outpatient"], status=Provider.Status.DRAFT)

    assert found(client, modality="mat", setting="outpatient") == {"Open Clinic"}


def test_the_api_answers_several_filters_the_same(client, listings):
    chosen = COMBINATIONS[2]
    response = client.get("/api/v1/providers/", {**chosen, "page_size": 100})

    assert response.status_code == 200
    assert {provider["name"] for provider in response.json()["results"]} == holders(listings, chosen)


# The tokens follow the terms


def test_a_new_listing_holds_a_token_per_term(make_provider):
    provider = make_provider(modalities=["mat", "counseling"], languages=["es"])
    mat, counseling = Modality.objects.get(slug="mat"), Modality.objects.get(slug="counseling")

    assert tokens(provider) == expected_tokens(provider)
    assert {"countryus", f"modality{mat.pk}", f"modality{counseling.pk}"} < tokens(provider)
    assert len(tokens(provider)) == 4


def test_adding_removing_and_clearing_terms_updates_the_tokens(client, make_provider):
    provider = make_provider(name="Changing Clinic", modalities=["mat"], care_settings=["outpatient"])
    provider.care_settings.add(CareSetting.objects.get(slug="inpatient"))
    assert found(client, modality="mat", setting="inpatient") == {"Changing Clinic"}

    provider.modalities.remove(Modality.objects.get(slug="mat"))
    assert found(client, modality="mat", setting="inpatient") == set()

    provider.care_settings.clear()
    assert tokens(provider) == expected_tokens(provider) == {"countryus"}


def test_changing_terms_from_the_terms_side_updates_the_tokens(client, make_provider):
    first = make_provider(name="First", care_settings=["outpatient"])
    second = make_provider(name="Second", care_settings=["outpatient"])
    mat = Modality.objects.get(slug="mat")

    mat.providers.add(first, second)
    assert found(client, modality="mat", setting="outpatient") == {"First", "Second"}

    mat.providers.remove(first)
    assert found(client, modality="mat", setting="outpatient") == {"Second"}

    mat.providers.clear()
    assert found(client, modality="mat", setting="outpatient") == set()
    assert tokens(first) == expected_tokens(first) and tokens(second) == expected_tokens(second)


@pytest.mark.parametrize("update_fields", [None, ["country"]], ids=["saved", "saved with update_fields"])
def test_moving_a_listing_to_another_country_changes_its_country_token(client, make_provider, update_fields):
    provider = make_provider(name="Moving Clinic", country="KE", modalities=["mat"])
    provider.country = "UG"
    provider.save(update_fields=update_fields)

    assert tokens(provider) == expected_tokens(provider)
    assert found(client, country="UG", modality="mat") == {"Moving Clinic"}
    assert found(client, country="KE", modality="mat") == set()


def test_deleting_a_term_takes_its_token_from_its_listings(make_provider):
    provider = make_provider(payment_options=["free", "self-pay"])
    PaymentOption.objects.get(slug="free").delete()

    assert tokens(provider) == expected_tokens(provider)
    assert len(tokens(provider)) == 2


def test_terms_set_in_the_admin_are_searchable_at_once(admin_client, client, make_provider):
    from tests.admin.test_admin import form_data

    provider = make_provider(name="Hope House")
    data = form_data(
        name="Hope House",
        status=Provider.Status.PUBLISHED,
        modalities=[Modality.objects.get(slug="mat").pk],
        care_settings=[CareSetting.objects.get(slug="aftercare").pk],
    )

    response = admin_client.post(f"/admin/providers/provider/{provider.pk}/change/", data)

    assert response.status_code == 302
    assert found(client, modality="mat", setting="aftercare") == {"Hope House"}


def test_a_merge_gives_the_keeper_the_tokens_of_the_terms_it_gained(client, curator, make_provider):
    keeper = make_provider(name="Keeper Clinic", phone="+12025550143", modalities=["mat"])
    other = make_provider(name="Keeper Clinic", phone="+12025550143", care_settings=["outpatient"])

    merge(keeper.pk, [other.pk], curator)

    assert tokens(keeper) == expected_tokens(keeper)
    assert found(client, modality="mat", setting="outpatient") == {"Keeper Clinic"}


def test_reverting_to_a_version_restores_its_tokens(client, curator, make_provider):
    provider = make_provider(name="Reverted Clinic", modalities=["mat"], care_settings=["outpatient"])
    provider.save()  # a version holding its terms
    original = provider.history.first()
    provider.care_settings.set([CareSetting.objects.get(slug="inpatient")])
    provider.save()

    revert(original, curator)

    assert tokens(provider) == expected_tokens(provider)
    assert found(client, modality="mat", setting="outpatient") == {"Reverted Clinic"}


def import_record(external_id, terms):
    return Record(
        number=1,
        external_id=external_id,
        source="token-partner",
        values={"name": "Imported Clinic", "country": "KE"},
        terms=terms,
    )


def test_imported_listings_hold_the_tokens_of_their_terms(client):
    import_records([import_record("T-1", {"modalities": ["mat"], "care_settings": ["outpatient"]})], options())
    provider = Provider.objects.get(external_id="T-1")

    assert tokens(provider) == expected_tokens(provider)
    assert found(client, modality="mat", setting="outpatient") == {"Imported Clinic"}


def test_a_reimport_changing_one_taxonomy_keeps_the_tokens_of_the_others(client):
    import_records([import_record("T-1", {"modalities": ["mat"], "care_settings": ["outpatient"]})], options())
    import_records([import_record("T-1", {"care_settings": ["inpatient"]})], options())
    provider = Provider.objects.get(external_id="T-1")

    assert tokens(provider) == expected_tokens(provider)
    assert found(client, modality="mat", setting="inpatient") == {"Imported Clinic"}
    assert found(client, modality="mat", setting="outpatient") == set()


def test_a_reimport_moving_a_listing_to_another_country_changes_its_country_token(client):
    import_records([import_record("T-1", {"modalities": ["mat"]})], options())
    moved = import_record("T-1", {})
    moved.values["country"] = "UG"
    import_records([moved], options())
    provider = Provider.objects.get(external_id="T-1")

    assert tokens(provider) == expected_tokens(provider)
    assert found(client, country="UG", modality="mat") == {"Imported Clinic"}


def options():
    return ImportOptions(file_name="tokens.csv", format="test")


def test_the_demo_data_holds_the_tokens_of_its_terms():
    call_command("load_demo_data", verbosity=0)

    for provider in Provider.objects.order_by("?")[:50]:
        assert tokens(provider) == expected_tokens(provider), provider.name


def test_the_migration_fills_the_tokens_the_listings_would_compute(listings):
    Provider.objects.update(term_tokens="")
    # The migration's step needs only the editor's connection; SQLite allows no schema editor inside a test.
    migration = import_module("providers.migrations.0017_term_tokens")
    migration.fill_term_tokens(None, SimpleNamespace(connection=connection))

    filled = dict(Provider.objects.values_list("pk", "term_tokens"))
    computed = Provider.objects.all().refresh_term_tokens()
    assert filled == computed
    assert all(filled.values())


def test_the_check_reports_and_repairs_listings_whose_tokens_drifted(client, listings):
    drifted = Provider.objects.filter(modalities__slug="mat").first()
    # A write that bypasses every receiver, as raw SQL or a restored backup would.
    Provider.objects.filter(pk=drifted.pk).update(term_tokens="countryzz")
    report = io.StringIO()

    call_command("check_indexed_text", stdout=report)
    call_command("check_indexed_text", "--repair", stdout=report)
    call_command("check_indexed_text", stdout=report)

    lines = report.getvalue().splitlines()
    assert lines[0] == f"1 listing(s) with indexed text out of step: {drifted.pk}"
    assert "Repaired 1 listing(s)." in lines
    assert lines[-1] == "Every listing's indexed text matches its fields and terms."
    assert tokens(Provider.objects.get(pk=drifted.pk)) == expected_tokens(drifted)


# The planner's statistics


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's autovacuum gathers its own statistics")
def test_sqlite_statistics_are_gathered_again_when_a_migration_dropped_them(make_provider):
    make_provider()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'providers_provider'")

    ensure_statistics(connection)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'providers_provider'")
        assert cursor.fetchone()[0] > 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's autovacuum gathers its own statistics")
def test_migrating_back_to_before_a_listing_table_existed_gathers_nothing(make_provider):
    """As after ``migrate providers 0005``: the opening hours table is gone, and statistics wait for it."""
    make_provider()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'providers_provider'")
        # Inside the test's transaction, which SQLite rolls back with the table's removal.
        cursor.execute("DROP TABLE providers_openinginterval")

    ensure_statistics(connection)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'providers_provider'")
        assert cursor.fetchone()[0] == 0
