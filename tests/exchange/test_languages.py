"""Languages as partners write them become our ISO 639-1 codes, from pycountry's and Babel's data."""

import json

import pycountry
import pytest

from providers.exchange.languages import language_code
from tests.paths import FIXTURES


@pytest.mark.parametrize(
    ("text", "code"),
    [("es", "es"), ("EN", "en"), ("es-MX", "es"), ("zh_Hant_TW", "zh"), ("pt-BR", "pt")],
)
def test_iso_639_1_codes_with_or_without_a_region(text, code):
    assert language_code(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("eng", "en"), ("spa", "es"), ("fas", "fa"), ("per", "fa"), ("fre", "fr"), ("URD", "ur"), ("ara", "ar")],
)
def test_iso_639_2_and_3_codes_bibliographic_ones_too(text, code):
    assert language_code(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("iw", "he"), ("in", "id"), ("cmn", "zh"), ("pes", "fa"), ("prs", "fa")],
)
def test_retired_codes_and_individual_languages_of_a_macrolanguage(text, code):
    assert language_code(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("English", "en"),
        ("Spanish", "es"),
        ("Persian", "fa"),
        ("Chinese", "zh"),
        ("Punjabi", "pa"),
        ("Haitian Creole", "ht"),
        ("Dari", "fa"),
        ("Swahili", "sw"),
    ],
)
def test_english_names(text, code):
    assert language_code(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("español", "es"), ("français", "fr"), ("العربية", "ar"), ("Deutsch", "de"), ("فارسی", "fa"), ("Kiswahili", "sw")],
)
def test_native_names(text, code):
    assert language_code(text) == code


@pytest.mark.parametrize(("text", "code"), [("Farsi", "fa"), ("Mandarin", "zh"), ("anglais", "en"), ("inglés", "en")])
def test_names_in_other_languages(text, code):
    assert language_code(text) == code


@pytest.mark.parametrize("text", ["ENGLISH", "  english ", "Espanol", "FRANCAIS", "Francais", "farsi"])
def test_names_ignore_case_accents_and_spaces(text):
    assert language_code(text) is not None


@pytest.mark.parametrize("text", ["Klingon", "Elvish", "Cantonese", "Hmong", "Sign language", "xx", "", "Other"])
def test_a_language_without_an_iso_639_1_code_or_no_language_gives_none(text):
    assert language_code(text) is None


def test_the_iso_639_codes_give_exactly_our_language_terms():
    shipped = {
        entry["fields"]["slug"]
        for entry in json.loads((FIXTURES / "taxonomy.json").read_text(encoding="utf-8"))
        if entry["model"] == "providers.language"
    }
    given = {language_code(language.alpha_3) for language in pycountry.languages} - {None}

    assert given == shipped
