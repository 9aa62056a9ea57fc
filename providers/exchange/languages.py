"""Languages as partners write them, as our ISO 639-1 codes (the slugs of our Language terms).

Partners give a code (``es``, ``es-MX``, ISO 639-2/3 ``spa``, bibliographic ``per``) or a name:
English (``Spanish``, ``Persian``), the language's own (``español``, ``فارسی``) or another
language's (``Farsi``, ``anglais``). Every code and name comes from ISO 639-3 through pycountry
and its translations, and from the Unicode CLDR through Babel; none is written here.

Names are compared without case or accents, in three sets, each asked only when the ones
before it do not know the name: English names, then each language's names for itself, then
its names in the other languages pycountry translates ISO 639-3 into (the only place "Farsi"
is found). A name a set gives to two languages means neither, and so does a name of a language
ISO 639-1 has no code for (``Cantonese``). A text shaped like a language tag is read as a code
first, so ``mon`` is Mongolian's ISO 639-2 code rather than the English name of the Mon language.

Each set is built once per process, when first needed: the third takes about a second.
"""

import gettext
import pickle
import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

import pycountry
from babel import localedata
from babel.core import get_global

_TAG = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*")


# Bounded: the texts come from partners' files, and a worker reads many files.
@lru_cache(maxsize=4096)
def language_code(text: str) -> str | None:
    """The ISO 639-1 code of the language ``text`` names, or None when it names none that has one."""
    key = _key(text)
    if not key:
        return None
    if (tag := _TAG.fullmatch(key)) and (code := _codes().get(tag[1])):
        return code
    for names in (_english_names, _own_names, _translated_names):
        table = names()
        if key in table:
            return table[key]
    return None


def _key(text):
    folded = text.casefold()
    if not folded.isascii():
        folded = "".join(char for char in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(char))
    return " ".join(folded.split())


@cache
def _codes():
    """Every ISO 639 code and CLDR alias -> its language's ISO 639-1 code, or None when it has none."""
    codes = {}
    for language in pycountry.languages:
        alpha_2 = getattr(language, "alpha_2", None)
        for code in (alpha_2, language.alpha_3, getattr(language, "bibliographic", None)):
            if code:
                codes[code] = alpha_2
    # CLDR's aliases cover retired codes (iw, in) and the individual languages of a macrolanguage
    # (cmn, pes), which ISO 639-1 codes only as the macrolanguage (zh, fa).
    for alias, target in get_global("language_aliases").items():
        if "_" not in alias and not codes.get(alias):
            codes[alias] = codes.get(target.split("_")[0])
    return codes


def _table(pairs):
    """Name key -> code from (name, code) pairs; a name given to two languages maps to None."""
    found = {}
    for name, code in pairs:
        found.setdefault(_key(name), set()).add(code)
    return {key: codes.pop() if len(codes) == 1 else None for key, codes in found.items()}


@cache
def _english_names():
    def pairs():
        for language in pycountry.languages:
            for name in _iso_names(language):
                yield name, _codes()[language.alpha_3]
        for tag, name in _cldr_names("en").items():
            yield name, _codes().get(tag.split("_")[0])

    return _table(pairs())


@cache
def _own_names():
    """Each language's CLDR names for itself and its regional forms (``español de México``)."""

    def pairs():
        for code in sorted({code for code in _codes().values() if code} & set(localedata.locale_identifiers())):
            for tag, name in _cldr_names(code).items():
                if tag.split("_")[0] == code:
                    yield name, code

    return _table(pairs())


@cache
def _translated_names():
    english = {}
    for language in pycountry.languages:
        for name in (*_iso_names(language), getattr(language, "inverted_name", None)):
            if name:
                english.setdefault(name, _codes()[language.alpha_3])

    def pairs():
        for catalog in sorted(Path(pycountry.LOCALES_DIR).glob("*/LC_MESSAGES/iso639-3.mo")):
            with catalog.open("rb") as file:
                translations = gettext.GNUTranslations(file)
            for source, code in english.items():
                translated = translations.gettext(source)
                # An untranslated name is the English one, which the English names already decided.
                if translated != source:
                    for name in translated.split(";"):
                        yield name, code

    return _table(pairs())


def _iso_names(language):
    return [name for name in (language.name, getattr(language, "common_name", None)) if name]


def _cldr_names(locale):
    # Read from the locale's own file: babel.localedata.load keeps every locale it loads, 100 MB for these.
    with open(localedata.resolve_locale_filename(locale), "rb") as file:
        return pickle.load(file).get("languages", {})
