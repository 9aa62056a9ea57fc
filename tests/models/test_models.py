"""Model validation shared by the admin, the importers and the API, and the Provider query helpers."""

import json
from collections import defaultdict

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from providers.models import (
    CareSetting,
    EntryRoute,
    Language,
    Medication,
    Modality,
    Organization,
    PaymentOption,
    Population,
    Provider,
    Source,
    phones,
)
from providers.models.validators import validate_language_code
from providers.search.vocabulary import TermLabel, attach_terms
from tests.paths import FIXTURES

pytestmark = pytest.mark.django_db

FIXTURE = FIXTURES / "taxonomy.json"
TERM_MODELS = (Modality, CareSetting, EntryRoute, Medication, PaymentOption, Population, Language)


def provider(**fields):
    """An unsaved provider that passes full_clean() unless ``fields`` break it."""
    fields.setdefault("name", "Hope Recovery Centre")
    fields.setdefault("country", "US")
    return Provider(**fields)


def errors_of(instance):
    """The message_dict of full_clean(), or {} when the instance is valid."""
    try:
        instance.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


def save_directly(**fields):
    """Bypass validation and let the database judge; the atomic block keeps the test transaction usable."""
    fields.setdefault("name", "Direct insert")
    fields.setdefault("country", "US")
    with transaction.atomic():
        Provider.objects.create(**fields)


# --- Coordinates -------------------------------------------------------------------------------


@pytest.mark.parametrize("latitude", [-90.0, -89.999, 0.0, 45.5, 90.0])
def test_latitude_within_90_degrees_including_the_poles_is_accepted(latitude):
    assert errors_of(provider(latitude=latitude, longitude=10.0)) == {}


@pytest.mark.parametrize("latitude", [-90.001, 90.001, 91.0, -180.0, 1000.0])
def test_latitude_must_be_within_90_degrees(latitude):
    assert "latitude" in errors_of(provider(latitude=latitude, longitude=10.0))


@pytest.mark.parametrize("longitude", [-180.0, -179.999, 0.0, 179.999, 180.0])
def test_longitude_within_180_degrees_including_the_antimeridian_is_accepted(longitude):
    assert errors_of(provider(latitude=10.0, longitude=longitude)) == {}


@pytest.mark.parametrize("longitude", [-180.001, 180.001, 181.0, 360.0])
def test_longitude_must_be_within_180_degrees(longitude):
    assert "longitude" in errors_of(provider(latitude=10.0, longitude=longitude))


def test_coordinates_may_both_be_missing():
    assert errors_of(provider(latitude=None, longitude=None)) == {}


def test_latitude_without_longitude_is_reported_on_longitude():
    errors = errors_of(provider(latitude=10.0, longitude=None))

    assert errors["longitude"] == ["Give both latitude and longitude, or neither."]
    assert "latitude" not in errors


def test_longitude_without_latitude_is_reported_on_latitude():
    errors = errors_of(provider(latitude=None, longitude=10.0))

    assert errors["latitude"] == ["Give both latitude and longitude, or neither."]
    assert "longitude" not in errors


def test_zero_coordinates_count_as_given():
    assert errors_of(provider(latitude=0.0, longitude=0.0)) == {}


@pytest.mark.parametrize(
    "coordinates",
    [
        {"latitude": 90.5, "longitude": 0.0},
        {"latitude": -91.0, "longitude": 0.0},
        {"latitude": 0.0, "longitude": 180.5},
        {"latitude": 0.0, "longitude": -181.0},
    ],
    ids=["north-of-pole", "south-of-pole", "east-of-antimeridian", "west-of-antimeridian"],
)
def test_database_rejects_out_of_range_coordinates_saved_without_validation(coordinates):
    with pytest.raises(IntegrityError):
        save_directly(**coordinates)

    assert not Provider.objects.exists()


@pytest.mark.parametrize(
    "coordinates",
    [{"latitude": 10.0, "longitude": None}, {"latitude": None, "longitude": 10.0}],
    ids=["latitude-only", "longitude-only"],
)
def test_database_rejects_half_coordinates_saved_without_validation(coordinates):
    with pytest.raises(IntegrityError):
        save_directly(**coordinates)

    assert not Provider.objects.exists()


def test_database_accepts_boundary_coordinates():
    save_directly(latitude=-90.0, longitude=180.0)

    assert Provider.objects.filter(latitude=-90.0, longitude=180.0).exists()


# --- Phones ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "raw", "stored"),
    [
        ("US", "(334) 673-2143", "+13346732143"),
        ("US", "334.673.2143", "+13346732143"),
        ("US", "+1 334 673 2143", "+13346732143"),
        ("KE", "0722 123456", "+254722123456"),
        ("KE", "+254 722 123 456", "+254722123456"),
        ("US", "(334)673-2143x12", "+13346732143;ext=12"),
        ("GB", "020 7946 0000", "+442079460000"),
    ],
)
def test_phone_is_stored_in_e164_read_in_the_providers_country(country, raw, stored):
    listing = provider(country=country, phone=raw)

    listing.full_clean()

    assert listing.phone == stored


def test_international_number_keeps_its_own_country_code_for_a_provider_elsewhere():
    listing = provider(country="KE", phone="+13346732143", intake_phone="+44 20 7946 0000")

    listing.full_clean()

    assert listing.phone == "+13346732143"
    assert listing.intake_phone == "+442079460000"


def test_intake_and_hotline_phones_are_normalised_too():
    listing = provider(country="US", intake_phone="334-673-2143", hotline_phone="(334) 673 2143 ext. 7")

    listing.full_clean()

    assert listing.intake_phone == "+13346732143"
    assert listing.hotline_phone == "+13346732143;ext=7"


def test_normalising_twice_gives_the_same_number():
    listing = provider(country="US", phone="(334)673-2143x12")
    listing.full_clean()

    listing.full_clean()

    assert listing.phone == "+13346732143;ext=12"


def test_blank_phone_stays_blank():
    listing = provider(phone="   ")

    listing.full_clean()

    assert listing.phone == ""


@pytest.mark.parametrize("field", ["phone", "intake_phone", "hotline_phone"])
@pytest.mark.parametrize("raw", ["12", "not a number", "555-1234"])
def test_invalid_phone_is_reported_on_that_field_only(field, raw):
    errors = errors_of(provider(country="US", **{field: raw}))

    assert set(errors) == {field}


def test_national_number_of_another_country_is_invalid():
    # A Kenyan mobile written nationally means nothing when dialled from the United States.
    assert set(errors_of(provider(country="US", phone="0722 123456"))) == {"phone"}


def test_display_phone_is_national_in_the_numbers_own_country():
    assert phones.display_phone("+13346732143", "US") == "(334) 673-2143"
    assert phones.display_phone("+254722123456", "ke") == "0722 123456"


def test_display_phone_is_international_elsewhere_or_without_a_country():
    assert phones.display_phone("+13346732143", "KE") == "+1 334-673-2143"
    assert phones.display_phone("+254722123456", None) == "+254 722 123456"


def test_display_phone_shows_the_extension():
    assert phones.display_phone("+13346732143;ext=12", "US") == "(334) 673-2143 ext. 12"


def test_display_phone_of_nothing_is_empty_and_unparseable_text_is_shown_as_is():
    assert phones.display_phone("", "US") == ""
    assert phones.display_phone("call reception", "US") == "call reception"


def test_tel_uri_dials_the_stored_number_with_its_extension():
    assert phones.tel_uri("+13346732143") == "tel:+13346732143"
    assert phones.tel_uri("+13346732143;ext=12") == "tel:+13346732143;ext=12"
    assert phones.tel_uri("") == ""


def test_contact_phones_lists_given_numbers_main_line_first(make_provider):
    listing = make_provider(country="US", phone="+13346732143", hotline_phone="+442079460000")

    assert listing.contact_phones() == [
        ("Main", "(334) 673-2143", "tel:+13346732143"),
        ("Hotline", "+44 20 7946 0000", "tel:+442079460000"),
    ]


# --- Email, website, country, external ids --------------------------------------------------------


def test_email_must_be_an_email_address():
    assert "email" in errors_of(provider(email="intake at example.org"))
    assert errors_of(provider(email="intake@example.org")) == {}


@pytest.mark.parametrize("website", ["not a url", "example", "ftp//example.org", "javascript:alert(1)"])
def test_website_must_be_a_url(website):
    assert "website" in errors_of(provider(website=website))


@pytest.mark.parametrize("website", ["https://example.org", "http://www.example.co.ke/services?x=1"])
def test_website_accepts_http_and_https_urls(website):
    assert errors_of(provider(website=website)) == {}


@pytest.mark.parametrize("country", ["ZZ", "XX", "XYZ", "Kenya", "us "])
def test_country_must_be_an_iso_3166_code(country):
    assert "country" in errors_of(provider(country=country))


@pytest.mark.parametrize("country", ["KE", "ke", "KEN", "404"])
def test_country_given_as_another_iso_3166_form_is_stored_as_alpha_2(country):
    listing = provider(country=country)

    listing.full_clean()

    assert listing.country.code == "KE"


def test_country_is_required():
    assert "country" in errors_of(provider(country=""))


def test_name_is_required_and_whitespace_is_collapsed():
    assert "name" in errors_of(provider(name=""))

    listing = provider(name="  Hope   Recovery\tCentre ")
    listing.full_clean()
    assert listing.name == "Hope Recovery Centre"


def test_external_id_needs_a_source():
    errors = errors_of(provider(external_id="A-1"))

    assert errors["source"] == ["A record with an external id must name its source."]


def test_external_id_with_a_source_is_valid(source):
    assert errors_of(provider(source=source, external_id="A-1")) == {}


def test_external_id_is_unique_within_its_source(make_provider, source):
    make_provider(source=source, external_id="A-1")

    errors = errors_of(provider(source=source, external_id="A-1"))

    assert errors["__all__"] == ["Another provider from this source already has this external id."]


def test_database_rejects_a_duplicate_external_id_within_a_source(make_provider, source):
    make_provider(source=source, external_id="A-1")

    with pytest.raises(IntegrityError):
        save_directly(source=source, external_id="A-1")


def test_same_external_id_may_appear_in_another_source(make_provider, source):
    other = Source.objects.create(slug="other-partner", name="Other partner")
    make_provider(source=source, external_id="A-1")

    assert errors_of(provider(source=other, external_id="A-1")) == {}


def test_blank_external_ids_may_repeat_within_a_source(make_provider, source):
    make_provider(source=source, external_id="")

    assert errors_of(provider(source=source, external_id="")) == {}
    make_provider(source=source, external_id="")
    assert Provider.objects.filter(source=source, external_id="").count() == 2


def test_a_provider_may_keep_its_own_external_id_when_revalidated(make_provider, source):
    listing = make_provider(source=source, external_id="A-1")

    assert errors_of(listing) == {}


# --- Languages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["en", "es", "sw", "zh", "ar"])
def test_language_code_accepts_iso_639_1_codes(code):
    validate_language_code(code)


@pytest.mark.parametrize("code", ["xx", "EN", "eng", "e", "", "en-US", "zz"])
def test_language_code_must_be_iso_639_1(code):
    with pytest.raises(ValidationError) as raised:
        validate_language_code(code)

    assert raised.value.code == "invalid_language"


@pytest.mark.parametrize("slug", ["xx", "qq", "EN"])
def test_language_slug_must_be_an_iso_639_1_code(slug):
    assert "slug" in errors_of(Language(slug=slug, name="Made up"))


def test_language_slug_longer_than_two_letters_is_rejected():
    assert "slug" in errors_of(Language(slug="eng", name="English"))


def test_language_slug_is_unique():
    assert "slug" in errors_of(Language(slug="en", name="English again"))


def test_a_removed_language_can_be_added_back_with_its_iso_code():
    Language.objects.filter(slug="sw").delete()

    assert errors_of(Language(slug="sw", name="Kiswahili")) == {}


# --- Slugs -------------------------------------------------------------------------------------


def test_slug_is_built_from_name_and_city_on_first_save(make_provider):
    assert make_provider(name="Hope House", city="Nairobi").slug == "hope-house-nairobi"


def test_slug_is_built_from_name_alone_without_a_city(make_provider):
    assert make_provider(name="Hope House").slug == "hope-house"


def test_identical_names_get_numbered_slugs(make_provider):
    first = make_provider(name="Hope House", city="Nairobi")
    second = make_provider(name="Hope House", city="Nairobi")
    third = make_provider(name="Hope House", city="Nairobi")

    assert [first.slug, second.slug, third.slug] == [
        "hope-house-nairobi",
        "hope-house-nairobi-2",
        "hope-house-nairobi-3",
    ]


def test_a_slug_that_merely_starts_the_same_does_not_force_a_number(make_provider):
    make_provider(name="Hope House Nairobi West")

    assert make_provider(name="Hope House", city="Nairobi").slug == "hope-house-nairobi"


def test_slug_does_not_change_when_the_name_changes(make_provider):
    listing = make_provider(name="Hope House", city="Nairobi")

    listing.name = "Hope House Recovery Centre"
    listing.city = "Mombasa"
    listing.save()
    listing.refresh_from_db()

    assert listing.slug == "hope-house-nairobi"


def test_a_given_slug_is_kept(make_provider):
    assert make_provider(name="Hope House", slug="hope").slug == "hope"


def test_slug_fits_the_field_for_very_long_names(make_provider):
    name = ("Very long name " * 13).strip()  # 194 characters; the field allows 200
    first = make_provider(name=name, city="Nairobi")
    second = make_provider(name=name, city="Nairobi")

    max_length = Provider._meta.get_field("slug").max_length
    assert len(first.slug) <= max_length
    assert second.slug == first.slug + "-2"
    assert not first.slug.endswith("-")


def test_a_name_in_another_script_keeps_a_readable_slug(make_provider):
    first = make_provider(name="مركز الأمل", city="")
    second = make_provider(name="مركز الأمل", city="")

    assert first.slug == "مركز-الأمل"
    assert second.slug == "مركز-الأمل-2"


# --- Querysets ---------------------------------------------------------------------------------


def test_published_returns_only_published_providers(make_provider):
    published = make_provider(name="Open", status=Provider.Status.PUBLISHED)
    make_provider(name="Draft", status=Provider.Status.DRAFT)
    make_provider(name="Closed", status=Provider.Status.ARCHIVED)

    assert list(Provider.objects.published()) == [published]


def test_new_providers_are_drafts_by_default():
    listing = Provider.objects.create(name="New", country="US")

    assert listing.status == Provider.Status.DRAFT
    assert not Provider.objects.published().exists()


def test_in_countries_filters_by_country_code(make_provider):
    kenya = make_provider(name="Kenya", country="KE")
    make_provider(name="USA", country="US")

    assert list(Provider.objects.in_countries(["KE", "GB"])) == [kenya]


def test_with_any_term_returns_each_provider_once_when_several_terms_match(make_provider):
    both = make_provider(name="Both", modalities=["mat", "counseling", "peer-support"])
    one = make_provider(name="One", modalities=["counseling"])
    make_provider(name="Other", modalities=["holistic"])
    make_provider(name="Untagged")

    matches = Provider.objects.with_any_term("modalities", ["mat", "counseling", "peer-support"])

    assert list(matches) == [both, one]
    assert matches.count() == 2


def test_with_any_term_works_for_every_taxonomy(make_provider):
    tagged = make_provider(name="Tagged", languages=["sw"], care_settings=["outpatient"])
    make_provider(name="Untagged", languages=["en"])

    assert list(Provider.objects.with_any_term("languages", ["sw", "fr"])) == [tagged]
    assert list(Provider.objects.with_any_term("care_settings", ["outpatient"])) == [tagged]
    assert list(Provider.objects.with_any_term("care_settings", ["inpatient"])) == []


def test_matching_keywords_needs_every_word_somewhere(make_provider):
    organization = Organization.objects.create(name="Ministry of Health", slug="moh")
    match = make_provider(
        name="Hope Clinic", city="Montgomery", organization=organization, description="Methadone programme"
    )
    make_provider(name="Hope House", city="Selma")

    assert list(Provider.objects.matching_keywords("hope MONTGOMERY")) == [match]
    assert list(Provider.objects.matching_keywords("ministry methadone")) == [match]
    assert list(Provider.objects.matching_keywords("hope")) == [match, Provider.objects.get(name="Hope House")]
    assert list(Provider.objects.matching_keywords("hope mombasa")) == []


def test_matching_keywords_with_blank_text_matches_everything(make_provider):
    make_provider(name="A")
    make_provider(name="B")

    assert Provider.objects.matching_keywords("   ").count() == 2


def test_in_place_matches_city_region_or_postal_code_prefix(make_provider):
    springfield_il = make_provider(name="A", city="Springfield", region="IL", postal_code="62701")
    springfield_mo = make_provider(name="B", city="Springfield", region="MO", postal_code="65801")

    assert list(Provider.objects.in_place("springfield")) == [springfield_il, springfield_mo]
    assert list(Provider.objects.in_place("Springfield, IL")) == [springfield_il]
    assert list(Provider.objects.in_place("mo")) == [springfield_mo]
    assert list(Provider.objects.in_place("627")) == [springfield_il]
    assert list(Provider.objects.in_place("Springfield, TX")) == []
    assert list(Provider.objects.in_place("Spring")) == []


# --- Natural keys ------------------------------------------------------------------------------


def test_provider_natural_key_is_its_slug(make_provider):
    listing = make_provider(name="Hope House", city="Nairobi")

    assert listing.natural_key() == ("hope-house-nairobi",)
    assert Provider.objects.get_by_natural_key("hope-house-nairobi") == listing


def test_source_and_organization_natural_keys_are_their_slugs(source):
    organization = Organization.objects.create(name="Ministry of Health", slug="moh")

    assert Source.objects.get_by_natural_key(*source.natural_key()) == source
    assert Organization.objects.get_by_natural_key(*organization.natural_key()) == organization


@pytest.mark.parametrize(
    ("model", "slug"),
    [
        (Modality, "mat"),
        (CareSetting, "outpatient"),
        (Medication, "methadone"),
        (PaymentOption, "free"),
        (Population, "veterans"),
        (Language, "sw"),
    ],
)
def test_term_natural_key_is_its_slug(model, slug):
    term = model.objects.get_by_natural_key(slug)

    assert term.slug == slug
    assert term.natural_key() == (slug,)


# --- attach_terms ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 3, 25])
def test_attach_terms_runs_no_query_for_any_number_of_providers(make_provider, django_assert_num_queries, count):
    listings = [
        make_provider(name=f"Provider {number}", modalities=["mat", "counseling"], languages=["en", "sw"])
        for number in range(count)
    ]

    # The listings' term tokens hold their term ids; the process holds the terms' names.
    with django_assert_num_queries(0):
        attach_terms(listings)

    assert all(len(listing.terms["modalities"]) == 2 for listing in listings)


def test_attach_terms_without_providers_runs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert attach_terms([]) == []


def test_attach_terms_gives_each_provider_its_own_terms_in_the_terms_order(make_provider):
    first = make_provider(
        name="First",
        modalities=["holistic", "mat", "peer-support"],
        care_settings=["aftercare", "inpatient"],
        languages=["sw", "en"],
    )
    second = make_provider(name="Second", modalities=["counseling"])
    untagged = make_provider(name="Untagged")

    attach_terms([first, second, untagged])

    names = {term.slug: term.name for term in Modality.objects.all()}
    assert first.terms["modalities"] == [
        TermLabel("mat", names["mat"]),
        TermLabel("peer-support", names["peer-support"]),
        TermLabel("holistic", names["holistic"]),
    ]
    assert [term.slug for term in first.terms["care_settings"]] == ["inpatient", "aftercare"]
    assert {term.slug for term in first.terms["languages"]} == {"en", "sw"}
    assert second.terms["modalities"] == [TermLabel("counseling", names["counseling"])]
    assert set(untagged.terms) == {
        "modalities",
        "care_settings",
        "entry_routes",
        "medications",
        "payment_options",
        "populations",
        "languages",
    }
    assert all(labels == [] for labels in untagged.terms.values())


def test_attach_terms_follows_the_order_curators_set_not_the_name(make_provider):
    for slug, order in (("mat", 99), ("holistic", 1)):
        term = Modality.objects.get(slug=slug)
        term.order = order
        term.save()
    listing = make_provider(modalities=["mat", "counseling", "holistic"])

    attach_terms([listing])

    assert [term.slug for term in listing.terms["modalities"]] == ["holistic", "counseling", "mat"]


def test_attach_terms_can_be_limited_to_some_taxonomies(make_provider, django_assert_num_queries):
    listing = make_provider(modalities=["mat"], languages=["en"])

    with django_assert_num_queries(0):
        attach_terms([listing], fields=("languages",))

    assert listing.terms == {"languages": [TermLabel("en", Language.objects.get(slug="en").name)]}


def test_attach_terms_names_a_term_as_a_curator_renamed_it(make_provider):
    listing = make_provider(modalities=["mat"])
    attach_terms([listing])
    term = Modality.objects.get(slug="mat")
    term.name = "Medication-assisted treatment"
    term.save()

    attach_terms([listing])

    assert listing.terms["modalities"] == [TermLabel("mat", "Medication-assisted treatment")]


def test_attach_terms_leaves_out_a_term_deleted_since(make_provider):
    listing = make_provider(modalities=["mat", "counseling"])
    Modality.objects.get(slug="counseling").delete()

    attach_terms([listing])

    assert [term.slug for term in listing.terms["modalities"]] == ["mat"]


# --- The shipped taxonomy ----------------------------------------------------------------------


def test_shipped_modalities_are_the_five_kinds_of_treatment_and_harm_reduction():
    assert set(Modality.objects.values_list("slug", flat=True)) == {
        "mat",
        "counseling",
        "peer-support",
        "faith-based",
        "holistic",
        "harm-reduction",
    }
    harm_reduction = Modality.objects.get(slug="harm-reduction")
    assert set(harm_reduction.name_translations) == {"es", "fr", "pt", "ar"}


def test_shipped_care_settings_are_inpatient_outpatient_and_aftercare():
    assert set(CareSetting.objects.values_list("slug", flat=True)) == {"inpatient", "outpatient", "aftercare"}


def test_shipped_languages_are_all_184_iso_639_1_languages():
    assert Language.objects.count() == 184
    for slug in Language.objects.values_list("slug", flat=True):
        validate_language_code(slug)


def test_every_fixture_entry_exists_in_the_migrated_database():
    expected = defaultdict(dict)
    for entry in json.loads(FIXTURE.read_text(encoding="utf-8")):
        fields = entry["fields"]
        expected[entry["model"]][fields["slug"]] = (fields["name"], fields["description"], fields["order"])

    assert {f"providers.{model._meta.model_name}" for model in TERM_MODELS} == set(expected)
    for label, terms in expected.items():
        model = apps.get_model(label)
        rows = model.objects.values_list("slug", "name", "description", "order")
        stored = {slug: (name, description, order) for slug, name, description, order in rows}
        assert stored == terms, label


def test_every_shipped_term_passes_validation():
    for model in TERM_MODELS:
        for term in model.objects.all():
            term.full_clean()
