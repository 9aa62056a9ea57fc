"""Five languages: the URL names the language, everything a visitor reads follows it.

English is at the unprefixed addresses; Spanish, French, Portuguese and Arabic
under /es/, /fr/, /pt/ and /ar/. Arabic is written right to left.
"""

import re
from datetime import date
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import translation

from providers.models import Language, Modality, Provider
from tests.browser.helpers import LANGUAGE_PREFIXES

LOCALE = Path(settings.BASE_DIR) / "locale"
OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]


def catalog(code):
    with open(LOCALE / code / "LC_MESSAGES" / "django.po", "rb") as po:
        return read_po(po, locale=code)


def translated_english(code, min_words):
    """The English messages of ``min_words`` words or more that ``code``'s catalogue translates: none may
    show in English on a page in that language (messages with placeholders or markup are left out)."""
    return sorted(
        {
            message.id
            for message in catalog(code)
            if isinstance(message.id, str)
            and message.string
            and message.string != message.id
            and "%" not in message.id
            and "<" not in message.id
            and len(message.id.split()) >= min_words
        }
    )


def visible_text(response):
    """The page's text as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def in_language(code, text, context=None):
    with translation.override(code):
        return translation.pgettext(context, text) if context else translation.gettext(text)


@pytest.fixture
def clinic(harbour_clinic):
    """The browser tests' clinic, verified on a known date and speaking Swahili and English."""
    harbour_clinic.last_verified = date(2025, 3, 4)
    harbour_clinic.telehealth = True
    harbour_clinic.save()
    harbour_clinic.languages.set(Language.objects.filter(slug__in=["sw", "en"]))
    return harbour_clinic


def pages(clinic):
    return {
        "home": "/",
        "results": "/providers/?country=KE&modality=mat",
        "provider": clinic.get_absolute_url(),
        "suggestion form": f"{clinic.get_absolute_url()}suggest/",
        "new provider form": "/suggest/",
        "crisis lines": "/crisis-lines/",
        "about": "/about/",
    }


# The catalogues


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_message_is_translated_and_keeps_its_placeholders(code):
    messages = [message for message in catalog(code) if message.id]

    assert messages
    untranslated = [
        message.id
        for message in messages
        if message.fuzzy or not all(message.string if isinstance(message.string, tuple) else [message.string])
    ]
    assert untranslated == []
    # Babel's checks: the same python-format placeholders, the right number of plural forms.
    assert [(message.id, str(error)) for message in messages for error in message.check(catalog(code))] == []


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_message_keeps_its_html_tags(code):
    tags = re.compile(r"</?[a-z]+[^>]*>")
    mismatched = []
    for message in catalog(code):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(tags.findall(ids[0]))
        mismatched += [(ids[0], string) for string in strings if sorted(tags.findall(string)) != expected]
    assert mismatched == []


# The language lives in the address


@pytest.mark.parametrize("code", ["en", *OTHER_LANGUAGES])
def test_each_language_has_its_own_addresses(client, clinic, code):
    for name, path in pages(clinic).items():
        response = client.get(LANGUAGE_PREFIXES[code] + path)
        assert response.status_code == 200, name
        assert f'<html lang="{code}" dir="{"rtl" if code == "ar" else "ltr"}">' in response.text, name
        assert response["Content-Language"] == code


def test_the_browsers_language_does_not_choose_the_page_language(client, db):
    response = client.get("/", headers={"accept-language": "es-MX,es;q=0.9"})

    assert response.status_code == 200
    assert '<html lang="en"' in response.text
    assert response.cookies == {}


def test_a_language_page_sets_no_cookie_and_does_not_redirect(client, clinic):
    for path in pages(clinic).values():
        if "suggest" in path:
            continue  # The forms set their CSRF cookie, in every language alike.
        response = client.get("/fr" + path)
        assert (response.status_code, response.cookies) == (200, {}), path


def test_the_admin_and_the_api_are_not_under_a_language(client, db):
    assert client.get("/es/admin/login/").status_code == 404
    assert client.get("/es/api/v1/providers/").status_code == 404
    assert client.get("/api/v1/providers/", headers={"accept-language": "es"})["Content-Language"] == "en"


def test_a_missing_page_answers_in_the_language_of_its_address(client, db):
    response = client.get("/es/no-such-page/")

    assert response.status_code == 404
    assert in_language("es", "We could not find that page") in response.text
    assert 'class="language-switcher' not in response.text


# Translated interface


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_no_english_interface_text_is_left_on_a_translated_page(client, clinic, code):
    """Every message of three words or more that the catalogue translates must not show in English."""
    english = translated_english(code, 3)
    assert len(english) > 50
    for name, path in pages(clinic).items():
        text = visible_text(client.get(LANGUAGE_PREFIXES[code] + path))
        assert [message for message in english if message in text] == [], name


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_headings_and_buttons_are_in_the_pages_language(client, clinic, code):
    home = client.get(LANGUAGE_PREFIXES[code] + "/").text
    provider = client.get(LANGUAGE_PREFIXES[code] + clinic.get_absolute_url()).text

    for text in ("Find addiction and opioid treatment", "Search", "Quick exit", "In danger right now?"):
        assert in_language(code, text) != text
        assert in_language(code, text) in unescape(home)
    assert f'{in_language(code, "Main", "phone")}: <bdi dir="ltr">0722 123456</bdi>' in provider


# Vocabularies, countries, dates and numbers


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_taxonomy_names_are_translated_in_filters_and_listings(client, clinic, code):
    mat = Modality.objects.get(slug="mat")
    translated = mat.name_translations[code]
    assert translated != mat.name

    results = unescape(client.get(LANGUAGE_PREFIXES[code] + "/providers/?country=KE").text)
    provider = unescape(client.get(LANGUAGE_PREFIXES[code] + clinic.get_absolute_url()).text)

    assert translated in results and translated in provider
    assert mat.name not in results and mat.name not in provider


def test_language_names_in_the_language_filter_are_in_the_pages_language(client, clinic):
    text = client.get("/es/providers/").text

    # Each option carries the number of listings it gives (issue 19): the one clinic speaks both.
    assert '<option value="sw">Suajili (1)</option>' in text
    assert '<option value="en">Inglés (1)</option>' in text


def test_a_curator_edits_a_translated_name_and_the_search_shows_it(curator_client, clinic):
    mat = Modality.objects.get(slug="mat")
    form = curator_client.get(f"/admin/providers/modality/{mat.pk}/change/")
    assert 'name="name_es"' in form.text and 'name="name_ar"' in form.text

    response = curator_client.post(
        f"/admin/providers/modality/{mat.pk}/change/",
        {
            "slug": "mat",
            "name": mat.name,
            "description": mat.description,
            "order": mat.order,
            "name_es": "Medicamentos (MAT)",
            "name_fr": "",
            "name_pt": mat.name_translations["pt"],
            "name_ar": "",
        },
    )

    assert response.status_code == 302
    mat.refresh_from_db()
    assert mat.name_translations == {"es": "Medicamentos (MAT)", "pt": mat.name_translations["pt"]}
    assert "Medicamentos (MAT)" in curator_client.get("/es/providers/").text
    # No French name now: the English one shows.
    assert mat.name in unescape(curator_client.get("/fr/providers/").text)


def test_the_api_keeps_english_names_and_codes_whatever_the_browser_asks(client, clinic):
    data = client.get("/api/v1/providers/", headers={"accept-language": "es"}).json()

    assert data["results"][0]["modalities"] == ["mat"]


@pytest.mark.parametrize(
    ("code", "country", "month"),
    [
        ("en", "Kenya", "March"),
        ("es", "Kenia", "marzo"),
        ("fr", "Kenya", "mars"),
        ("pt", "Quénia", "março"),
        ("ar", "كينيا", "مارس"),
    ],
)
def test_country_names_and_dates_follow_the_language(client, clinic, code, country, month):
    text = client.get(LANGUAGE_PREFIXES[code] + clinic.get_absolute_url()).text

    assert country in text
    assert '<time datetime="2025-03-04">' in text
    assert month.lower() in text.lower()


def test_dates_are_written_the_way_each_language_writes_them(client, clinic):
    assert ">4 March 2025</time>" in client.get(clinic.get_absolute_url()).text
    assert ">4 de marzo de 2025</time>" in client.get("/es" + clinic.get_absolute_url()).text
    assert ">4 mars 2025</time>" in client.get("/fr" + clinic.get_absolute_url()).text


@pytest.mark.parametrize(
    ("code", "announced"),
    [
        ("es", "Más de 2 centros encontrados"),
        ("fr", "Plus de 2 structures trouvées"),
        ("pt", "Mais de 2 serviços encontrados"),
        ("ar", "تم العثور على أكثر من 2 جهة علاجية"),
    ],
)
def test_more_matches_than_are_listed_are_announced_in_the_pages_language(client, db, settings, code, announced):
    settings.SEARCH_RESULTS_LISTED = 2
    for number in range(3):
        Provider.objects.create(name=f"Clinic {number}", country="KE", status="published")

    text = client.get(f"/{code}/providers/").text

    assert announced in text
    assert "More than" not in text


def test_counts_and_distances_use_the_languages_separators(client, db, settings):
    settings.SEARCH_RESULTS_LISTED = 5000
    Provider.objects.bulk_create(
        Provider(
            name=f"Clinic {number}",
            slug=f"clinic-{number}",
            country="KE",
            status="published",
            latitude=-1.2864,
            longitude=36.8172 + number / 100_000,
        )
        for number in range(1234)
    )

    assert "1,234 providers found" in client.get("/providers/").text
    assert "1\xa0234" in client.get("/es/providers/").text
    assert "1\xa0234" in client.get("/fr/providers/").text
    assert "1.234" in client.get("/pt/providers/").text
    # The nearest clinic is 3.2 km east of the last one.
    assert '<strong class="distance">3,2 km</strong>' in client.get("/es/providers/?near=-1.2864,36.8583").text


# Right to left


def test_arabic_pages_are_right_to_left_with_the_mirrored_stylesheet(client, clinic):
    text = client.get("/ar" + clinic.get_absolute_url()).text

    assert '<html lang="ar" dir="rtl">' in text
    assert "bootstrap/css/bootstrap.rtl.min.css" in text
    assert "bootstrap/css/bootstrap.min.css" not in text


def test_phone_numbers_stay_left_to_right_inside_arabic_text(client, clinic):
    text = client.get("/ar" + clinic.get_absolute_url()).text

    assert '<bdi dir="ltr">0722 123456</bdi>' in text
    assert re.search(r'<a class="text-nowrap" dir="ltr" href="tel:', text)


# The switcher


def test_the_switcher_offers_this_page_in_every_language_and_keeps_the_search(client, clinic):
    text = client.get("/es/providers/?country=KE&modality=mat").text
    switcher = re.search(r'<nav class="language-switcher.*?</nav>', text, re.S).group(0)

    for code, name in settings.LANGUAGES:
        href = f"{LANGUAGE_PREFIXES[code]}/providers/?country=KE&amp;modality=mat"
        assert f'<a href="{href}" hreflang="{code}" lang="{code}"' in switcher
        assert f">{name}</a>" in switcher
    assert 'hreflang="es" lang="es" aria-current="true"' in switcher


def test_search_engines_are_told_of_every_language_version(client, clinic):
    text = client.get(clinic.get_absolute_url()).text

    for code in LANGUAGE_PREFIXES:
        assert (
            f'<link rel="alternate" hreflang="{code}" href="http://testserver{LANGUAGE_PREFIXES[code]}{clinic.get_absolute_url()}">'
            in text
        )
    assert f'<link rel="alternate" hreflang="x-default" href="http://testserver{clinic.get_absolute_url()}">' in text
