"""The database's full-text indexes over ``Provider.search_text`` (keywords) and
``Provider.term_tokens`` (see providers.models.term_tokens), and the queries that use them.

SQLite: an FTS5 table per column holding only the index (its content is the
provider table), kept in step by triggers, so every way of writing a listing
(admin, importer, ``update()``) keeps it right. PostgreSQL: a stored tsvector
column generated from each, with a GIN index. Migration 0018 creates them, and
says what a later migration rebuilding the provider table on SQLite must do.
"""

import hashlib
import math

from django.db import connections
from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.expressions import RawSQL

from providers import caching
from providers.models import keywords, term_tokens

TABLE = "providers_provider"
FTS_TABLE = "providers_provider_search"
VECTOR_COLUMN = "search_vector"
TERMS_FTS_TABLE = "providers_provider_terms"
TERMS_VECTOR_COLUMN = "term_vector"
# The tsvector column PostgreSQL keeps of each indexed text column (migration 0018).
VECTOR_COLUMNS = {"search_text": VECTOR_COLUMN, "term_tokens": TERMS_VECTOR_COLUMN}


def matching(words, using):
    """A filter condition: listings holding every word (see providers.models.keywords), on database ``using``."""
    if connections[using].vendor == "sqlite":
        fts_match = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        return Q(pk__in=RawSQL(fts_match, [keywords.fts5_query(words)]))
    query = keywords.tsquery(words)
    if _walks_name_order(words, using):
        return Q(_VectorMatches(F("search_text"), Value(query)))
    # The matches first, then their order: listings named after a city sit together in name order, and
    # PostgreSQL, left to walk the name index checking each row, read most of a million for "Tokyo".
    # unnest(ARRAY(...)) hides the number of matches from the planner, which then fetches them by id.
    return Q(
        pk__in=RawSQL(
            f"SELECT unnest(ARRAY(SELECT id FROM {TABLE} WHERE {VECTOR_COLUMN} @@ to_tsquery('simple', %s)))", [query]
        )
    )


def answers_together(chosen, using):
    """Whether the term-token index should answer the filters of ``chosen`` (as holding_terms takes it).

    On SQLite when it holds two or more filters: the index lists every match before the
    name order, which for one filter alone is thousands (a fifth of the listings for one
    type of help), where its EXISTS subquery or the country's index walk the name order and
    stop at a page; for three filters at 100,000 listings it took 78 ms, now 13. One term
    filter too when few listings hold its terms (``few_hold``): walking the name order for
    them reads most of the table, and for a term nobody holds all of it, twice (the page and
    its count). On PostgreSQL whenever it holds a term filter: the vector is tested on the
    row itself where EXISTS probed another table for each row walked (one type of help: 22 →
    14 ms at 100,000; near a city with one: 104 → 58 ms at 1,000,000).
    """
    if connections[using].vendor == "postgresql":
        return bool(chosen.keys() - {term_tokens.COUNTRY})
    if len(chosen) >= 2:
        return True
    # A filter of terms the vocabulary no longer knows holds no id: holding_terms finds nothing at once.
    return bool(chosen.keys() - {term_tokens.COUNTRY}) and (not all(chosen.values()) or few_hold(chosen, using))


# Listings, at most, that a term filter's index lists before their name order is read: the walk of the
# name order that a common term stops early would read, for fewer holders, more rows than this.
FEW_HOLDERS = 5000
# How long the answer is kept where processes share no cache; a change of the listings forgets it sooner.
FEW_HOLD_SECONDS = 300


def few_hold(chosen, using):
    """Whether at most FEW_HOLDERS listings hold the tokens of ``chosen`` (as holding_terms takes it).

    SQLite's index answers by listing at most FEW_HOLDERS + 1 of them; the answer is kept in
    the shared cache under the listings' data version, like the counts beside the choices.
    """
    query = _fts_terms_query(chosen)
    named = hashlib.blake2b(query.encode(), digest_size=16).hexdigest()
    key = f"providers:few-hold:{using}:{caching.PAGES.current()}:{named}"

    def count():
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT rowid FROM {TERMS_FTS_TABLE} WHERE {TERMS_FTS_TABLE} MATCH %s LIMIT %s)",
                [query, FEW_HOLDERS + 1],
            )
            return cursor.fetchone()[0]

    return caching.Shared(key, FEW_HOLD_SECONDS).get(count) <= FEW_HOLDERS


def _fts_terms_query(chosen):
    """The FTS5 query of listings holding one of the chosen values of every parameter of ``chosen``."""
    groups = ([term_tokens.token(param, value) for value in values] for param, values in chosen.items())
    return " AND ".join("(" + " OR ".join(group) + ")" for group in groups)


def holding_terms(chosen, using):
    """A filter condition: listings holding one of the chosen values of every parameter of ``chosen``
    ({search parameter: term ids, or "country": codes}), by their term tokens (see providers.models.term_tokens).

    Tokens are made from parameter names, ids and country codes, so they need no quoting.
    On SQLite the index lists the matches (a few thousand at most of 100,000 for three
    filters). PostgreSQL tests each row's vector while walking the name order, or reads the
    GIN index first where its statistics of each token say the matches are few. A country
    there is the country column's condition, not its token: a country's listings sit together
    in name order (named after its cities), and walking every name read 35,000 rows before
    20 Chinese matches at 1,000,000 listings (117 ms), where the index on status, country and
    name finds them at once (1 ms); intersecting the country's 216,000 postings with the
    terms' cost the count 60 ms.
    """
    if connections[using].vendor == "sqlite":
        if not chosen:
            return Q()
        query = _fts_terms_query(chosen)
        return Q(pk__in=RawSQL(f"SELECT rowid FROM {TERMS_FTS_TABLE} WHERE {TERMS_FTS_TABLE} MATCH %s", [query]))
    groups = {param: [term_tokens.token(param, value) for value in values] for param, values in chosen.items()}
    condition = Q(country__in=chosen[term_tokens.COUNTRY]) if groups.pop(term_tokens.COUNTRY, None) else Q()
    if groups:
        query = " & ".join("(" + " | ".join(group) + ")" for group in groups.values())
        condition &= Q(_VectorMatches(F("term_tokens"), Value(query)))
    return condition


# Walking the name order and testing each row reads about (SEARCH_RESULTS_LISTED + 1) / share rows for
# the page and its capped count, where fetching every match first reads share × rows of them, each
# costing about 24 times more (measured on real-shaped listings: docs/PERFORMANCE.md, issue 20). The two
# cost the same at share = sqrt(WALK_FACTOR / rows): 2 % of 100,000 listings, 0.6 % of 1,000,000.
WALK_FACTOR = 40


def _walks_name_order(words, using):
    """Whether the listings holding every word are common enough to find by walking the name order.

    Their share is estimated from PostgreSQL's statistics as if the words were independent.
    """
    rows, shares = _keyword_statistics(using)
    share = math.prod(_share_holding(word, shares) for word in words)
    return rows > 0 and share >= math.sqrt(WALK_FACTOR / rows)


def _share_holding(word, shares):
    """The share of listings holding ``word`` (as a prefix from three letters), by PostgreSQL's statistics.

    They list the most common lexemes of the tsvector column; a word not among them is rare.
    """
    if len(word) < keywords.MIN_PREFIX_LENGTH:
        return shares.get(word, 0.0)
    return sum(share for lexeme, share in shares.items() if lexeme.startswith(word))


def _keyword_statistics(using):
    """(the listings PostgreSQL last counted, {lexeme: share of listings holding it}) of the keyword index."""
    return caching.KEYWORD_STATISTICS.get(using, lambda: _read_keyword_statistics(using))


def _read_keyword_statistics(using):
    with connections[using].cursor() as cursor:
        cursor.execute(
            """SELECT reltuples, most_common_elems::text::text[], most_common_elem_freqs
            FROM pg_class LEFT JOIN pg_stats ON tablename = relname AND attname = %s WHERE relname = %s""",
            [VECTOR_COLUMN, TABLE],
        )
        row = cursor.fetchone()
    if not row or not row[1]:
        return 0, {}
    # The frequencies end with three more figures (the least and most common, and nulls): zip drops them.
    return row[0], dict(zip(row[1], row[2], strict=False))


class _VectorMatches(Func):
    """``<vector> @@ to_tsquery(...)`` tested on the row itself, so PostgreSQL may walk the name index.

    Django does not know the generated column; its name is put where the query names the
    indexed text column (``search_text`` or ``term_tokens``), under whatever alias the table
    has in the query.
    """

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        text_column, text_params = compiler.compile(self.source_expressions[0])
        query, query_params = compiler.compile(self.source_expressions[1])
        quote = connection.ops.quote_name
        name = self.source_expressions[0].target.column
        vector_column = text_column.replace(quote(name), quote(VECTOR_COLUMNS[name]))
        return f"{vector_column} @@ to_tsquery('simple', {query})", (*text_params, *query_params)
