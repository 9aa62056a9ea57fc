"""Keyword search: the words of a listing, and a person's query, in one normal form.

A listing's words (name, organisation, city, region, description) are stored in
``Provider.search_text`` and indexed by the database: a full-text table (FTS5) on
SQLite, a stored tsvector with a GIN index on PostgreSQL (see
``providers.models.search_index``). Both index the same text, normalised here: lower case,
accents removed, only letters and digits. A query goes through the same
normalisation, so "Bogotá" finds "BOGOTA" on either database, and whatever a person
types ("quotes", NEAR(, OR, unbalanced parentheses) reaches the database only as
plain words, never as search syntax.
"""

import re
import unicodedata

# How many words of a query are used; more only slows the query.
MAX_QUERY_WORDS = 8

# Letters and digits; FTS5's unicode61 tokenizer and PostgreSQL's parser split on everything else too.
_WORD = re.compile(r"[^\W_]+")


def words(text):
    """The words of ``text``, lower case and without accents: "Sainte-Thérèse" -> ["sainte", "therese"]."""
    if text.isascii():
        # ASCII text has no accents to remove and decomposes to itself: skip the walk over each character.
        return _WORD.findall(text.casefold())
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(character for character in decomposed if not unicodedata.combining(character))
    return _WORD.findall(bare.casefold())


# The listing's fields whose words are searched (and its organisation's name).
SEARCHED_FIELDS = frozenset({"name", "organization", "city", "region", "description"})


def listing_text(provider, organization_name):
    """What a keyword search looks through for ``provider``, as stored in ``search_text``."""
    parts = (provider.name, organization_name, provider.city, provider.region, provider.description)
    return " ".join(word for part in parts if part for word in words(part))


def query_words(text):
    """The words of a query that are searched for (at most MAX_QUERY_WORDS, each once)."""
    return list(dict.fromkeys(words(text)))[:MAX_QUERY_WORDS]


# Shorter words are matched whole: as prefixes, "an" or "de" would match nearly every listing
# ("and", "description") and read the whole index for nothing.
MIN_PREFIX_LENGTH = 3


def fts5_query(words):
    """An FTS5 MATCH expression: every word, as a prefix from three letters on ("meth" finds "methadone")."""
    return " ".join(f'"{word}"*' if len(word) >= MIN_PREFIX_LENGTH else f'"{word}"' for word in words)


def tsquery(words):
    """A PostgreSQL to_tsquery expression: every word, as a prefix from three letters on."""
    return " & ".join(f"'{word}':*" if len(word) >= MIN_PREFIX_LENGTH else f"'{word}'" for word in words)
