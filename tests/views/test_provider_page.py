"""A provider's own page, /providers/<slug>/: everything a person needs to get in touch."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from providers.models import Organization, Provider

pytestmark = pytest.mark.django_db


def page(client, provider):
    response = client.get(provider.get_absolute_url())
    assert response.status_code == 200
    return response


def row(label, value):
    """A <dt>/<dd> pair of the page's description lists, whatever the whitespace between them."""
    return re.compile(rf"<dt[^>]*>{re.escape(label)}</dt>\s*<dd[^>]*>{re.escape(value)}</dd>")


@pytest.fixture
def harbour_house(make_provider, source):
    return make_provider(
        name="Harbour House",
        street_address="1 Harbour Road",
        street_address_2="Suite 4",
        city="Dothan",
        region="Alabama",
        postal_code="36301",
        country="US",
        latitude=31.2232,
        longitude=-85.3905,
        phone="+13346732143",
        intake_phone="+13346732150",
        hotline_phone="+18006624357",
        email="help@harbour.example",
        website="https://harbour.example/",
        telehealth=True,
        last_verified=datetime.date(2025, 3, 4),
        source=source,
        modalities=["mat", "counseling"],
        care_settings=["outpatient", "inpatient"],
        medications=["methadone", "buprenorphine"],
        populations=["adults", "veterans"],
        languages=["en", "es"],
        payment_options=["free", "self-pay"],
    )


@pytest.fixture
def curator(db):
    user = User.objects.create_user("curator", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Curators"))
    return user


def test_the_url_name_is_providers_detail():
    assert reverse("providers:detail", kwargs={"slug": "harbour-house"}) == "/providers/harbour-house/"


@pytest.mark.parametrize("language", ["en", "es", "ar"])
@pytest.mark.parametrize("slug", ["harbour-house-mombasa", "al-başrah-clinic", "центр-надежда", "o_k-2"])
def test_a_providers_address_is_the_one_its_url_pattern_gives(db, language, slug):
    with translation.override(language):
        assert Provider(slug=slug).get_absolute_url() == reverse("providers:detail", kwargs={"slug": slug})


def test_it_shows_the_providers_name(client, harbour_house):
    assert re.search(r"<h1[^>]*>Harbour House</h1>", page(client, harbour_house).text)


# Phones


def test_it_links_the_main_phone(client, harbour_house):
    response = page(client, harbour_house)

    assert 'href="tel:+13346732143"' in response.text
    assert 'Main: <bdi dir="ltr">(334) 673-2143</bdi>' in response.text


def test_it_links_the_intake_phone(client, harbour_house):
    response = page(client, harbour_house)

    assert 'href="tel:+13346732150"' in response.text
    assert 'Intake: <bdi dir="ltr">(334) 673-2150</bdi>' in response.text


def test_it_links_the_hotline(client, harbour_house):
    response = page(client, harbour_house)

    assert 'href="tel:+18006624357"' in response.text
    assert 'Hotline: <bdi dir="ltr">(800) 662-4357</bdi>' in response.text


def test_it_lists_the_main_phone_first(client, harbour_house):
    # The listing itself: the crisis strip above it has tel: links of its own.
    text = page(client, harbour_house).text.partition("<main")[2]

    assert text.index("tel:+13346732143") < text.index("tel:+13346732150") < text.index("tel:+18006624357")


def test_it_links_a_phone_with_an_extension(client, make_provider):
    provider = make_provider(phone="+13346732143;ext=12")

    response = page(client, provider)

    assert 'href="tel:+13346732143;ext=12"' in response.text
    assert "(334) 673-2143 ext. 12" in response.text


def test_it_shows_a_foreign_number_in_international_form(client, make_provider):
    provider = make_provider(country="KE", phone="+13346732143")

    assert "+1 334-673-2143" in page(client, provider).text


def test_it_says_when_no_phone_is_listed(client, make_provider):
    provider = make_provider()

    response = page(client, provider)

    assert "No phone number is listed." in response.text
    assert "tel:" not in response.text.partition("<main")[2]


# Email, website, address


def test_it_links_the_email_address(client, harbour_house):
    assert '<a href="mailto:help@harbour.example">help@harbour.example</a>' in page(client, harbour_house).text


def test_it_links_the_website_without_a_referrer(client, harbour_house):
    link = re.search(r'<a href="https://harbour.example/"[^>]*>', page(client, harbour_house).text)

    assert link is not None
    assert "noreferrer" in re.search(r'rel="([^"]*)"', link.group(0)).group(1).split()


def test_it_shows_the_organisation_that_runs_the_provider(client, make_provider):
    provider = make_provider(organization=Organization.objects.create(name="Coastal Health", slug="coastal"))

    assert "Run by Coastal Health" in page(client, provider).text


def test_it_shows_the_address_lines(client, harbour_house):
    text = page(client, harbour_house).text

    assert "1 Harbour Road<br>Suite 4<br>Dothan, Alabama 36301<br>United States of America</address>" in text


def test_it_links_directions_to_the_coordinates(client, harbour_house):
    text = page(client, harbour_house).text

    assert 'href="https://www.openstreetmap.org/directions?route=%3B31.2232%2C-85.3905"' in text


def test_without_coordinates_it_links_a_map_search_for_the_address(client, make_provider):
    provider = make_provider(street_address="1 Harbour Road", city="Dothan", region="Alabama", country="US")

    text = page(client, provider).text

    assert (
        'href="https://www.openstreetmap.org/search?query=1+Harbour+Road%2C+Dothan%2C+Alabama%2C+United+States+of+America"'
        in text
    )


# What is offered, who is served


@pytest.mark.parametrize(
    "label, value",
    [
        ("Type of help", "Medication for opioid use disorder (MAT), Counselling and therapy"),
        ("Setting", "Inpatient and residential, Outpatient"),
        ("Medications", "Methadone, Buprenorphine"),
        ("Programmes for", "Adults, Veterans"),
        ("Languages", "English, Spanish"),
        ("Payment", "Free of charge, Cash or self-payment"),
    ],
)
def test_it_lists_every_taxonomy_in_the_curators_order(client, harbour_house, label, value):
    assert row(label, value).search(page(client, harbour_house).text)


@pytest.mark.parametrize("label", ["Type of help", "Setting", "Medications", "Programmes for", "Languages", "Payment"])
def test_it_says_when_a_taxonomy_is_not_listed(client, make_provider, label):
    provider = make_provider()

    assert row(label, "Not listed").search(page(client, provider).text)


@pytest.mark.parametrize("telehealth, shown", [(True, "Yes"), (False, "No"), (None, "Not known")])
def test_it_shows_whether_telehealth_is_offered(client, make_provider, telehealth, shown):
    provider = make_provider(telehealth=telehealth)

    assert row("Telehealth", shown).search(page(client, provider).text)


# About this listing


def test_it_shows_when_the_listing_was_last_verified(client, harbour_house):
    text = page(client, harbour_house).text

    assert 'Last verified by a curator on <time datetime="2025-03-04">4 March 2025</time>' in text


def test_it_says_when_the_listing_was_never_verified(client, make_provider):
    provider = make_provider(last_verified=None)

    assert "Not yet verified by a curator" in page(client, provider).text


def test_it_names_the_source_of_the_listing(client, harbour_house):
    assert "Source: Test partner." in page(client, harbour_house).text


# Who may see it


def test_a_draft_is_not_found(client, make_provider):
    provider = make_provider(status=Provider.Status.DRAFT)

    response = client.get(provider.get_absolute_url())

    assert response.status_code == 404
    assert "We could not find that page" in response.text


def test_an_unknown_address_is_not_found(client):
    response = client.get("/providers/no-such-provider/")

    assert response.status_code == 404
    assert "We could not find that page" in response.text


def test_an_archived_listing_is_gone(client, make_provider):
    provider = make_provider(name="Closed Down", status=Provider.Status.ARCHIVED)

    response = client.get(provider.get_absolute_url())

    assert response.status_code == 410
    assert "no longer active" in response.text


def test_an_archived_listing_points_to_providers_in_the_same_country(client, make_provider):
    provider = make_provider(status=Provider.Status.ARCHIVED, country="KE")

    assert 'href="/providers/?country=KE"' in client.get(provider.get_absolute_url()).text


def test_a_curator_can_preview_a_draft(client, make_provider, curator):
    provider = make_provider(status=Provider.Status.DRAFT)
    client.force_login(curator)

    response = client.get(provider.get_absolute_url())

    assert response.status_code == 200
    assert "Curator preview" in response.text


def test_a_signed_in_person_without_curator_rights_cannot_see_a_draft(client, make_provider):
    provider = make_provider(status=Provider.Status.DRAFT)
    client.force_login(User.objects.create_user("someone", password="pw", is_staff=True))

    assert client.get(provider.get_absolute_url()).status_code == 404


def test_the_public_sees_no_curator_preview_note(client, harbour_house):
    assert "Curator preview" not in page(client, harbour_house).text


# Query counts


def test_the_page_runs_at_most_six_queries(client, harbour_house, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        page(client, harbour_house)


def test_the_number_of_queries_does_not_depend_on_the_terms(client, make_provider, harbour_house):
    bare = make_provider(name="Bare Bones")
    with CaptureQueriesContext(connection) as few:
        page(client, bare)

    with CaptureQueriesContext(connection) as many:
        page(client, harbour_house)

    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_provider_with_a_unicode_slug_has_a_working_page(client, make_provider):
    provider = make_provider(name="Центр помощи", city="Київ", country="UA")

    response = client.get(provider.get_absolute_url())

    assert response.status_code == 200
    assert "Центр помощи" in response.content.decode()
