"""The database's full-text indexes over ``Provider.search_text`` (keywords) and
``Provider.term_tokens`` (see providers.term_tokens), and the queries that use them.

SQLite: an FTS5 table per column holding only the index (its content is the
provider table), kept in step by triggers, so every way of writing a listing
(admin, importer, ``update()``) keeps it right. PostgreSQL: a stored tsvector
column generated from each, with a GIN index.

Django does not know these objects. SQLite drops a table's triggers whenever a
migration rebuilds it, so ``ensure_search_index`` runs after every ``migrate``
(see ProvidersConfig.ready) and recreates what is missing, re-indexing if it had
to.
"""

import time

from django.db import connections
from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.expressions import RawSQL

from providers import keywords, term_tokens

TABLE = "providers_provider"
FTS_TABLE = "providers_provider_search"
VECTOR_COLUMN = "search_vector"
TERMS_FTS_TABLE = "providers_provider_terms"
TERMS_VECTOR_COLUMN = "term_vector"

# Each indexed text column of the provider table: its FTS5 table on SQLite (and that table's
# options) and its tsvector column on PostgreSQL. Words are stored normalised (see
# providers.keywords), so the tokenizer need not fold accents again; term tokens need no positions.
INDEXED_COLUMNS = {
    "search_text": (FTS_TABLE, "tokenize='unicode61 remove_diacritics 0'", VECTOR_COLUMN),
    "term_tokens": (TERMS_FTS_TABLE, "detail=none", TERMS_VECTOR_COLUMN),
}


def _sqlite_objects(column):
    """{name: CREATE statement} of the FTS5 table over ``column`` and the triggers that keep it in step."""
    fts, options, _vector = INDEXED_COLUMNS[column]
    return {
        fts: f"""CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(
            {column}, content='{TABLE}', content_rowid='id', {options})""",
        f"{fts}_insert": f"""CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {TABLE} BEGIN
            INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});
            END""",
        f"{fts}_delete": f"""CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {TABLE} BEGIN
            INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});
            END""",
        f"{fts}_update": f"""CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF {column} ON {TABLE} BEGIN
            INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});
            INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});
            END""",
    }


def _postgresql_objects(column):
    """{name: statement} of the generated tsvector column over ``column`` and its GIN index."""
    vector = INDEXED_COLUMNS[column][2]
    return {
        vector: f"""ALTER TABLE {TABLE} ADD COLUMN {vector} tsvector
            GENERATED ALWAYS AS (to_tsvector('simple', {column})) STORED""",
        f"{TABLE}_{vector}": f"CREATE INDEX {TABLE}_{vector} ON {TABLE} USING gin ({vector})",
    }


def ensure_search_index(connection):
    """Index every indexed column the table has where the index is missing; True when it had to (and
    so re-indexed). A migration may run before a later one adds a column: that column waits for it."""
    if TABLE not in connection.introspection.table_names():
        return False
    with connection.cursor() as cursor:
        columns = {column.name for column in connection.introspection.get_table_description(cursor, TABLE)}
    created = False
    for column in INDEXED_COLUMNS.keys() & columns:
        created |= _ensure_column_index(connection, column)
    return created


def _ensure_column_index(connection, column):
    if connection.vendor == "sqlite":
        fts = INDEXED_COLUMNS[column][0]
        objects = _sqlite_objects(column)
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE %s", [fts + "%"])
            if {name for (name,) in cursor.fetchall()} >= set(objects):
                return False
            for statement in objects.values():
                cursor.execute(statement)
            cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        return True
    if connection.vendor == "postgresql":
        vector = INDEXED_COLUMNS[column][2]
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name = %s
                UNION ALL SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname = %s""",
                [TABLE, vector, TABLE, f"{TABLE}_{vector}"],
            )
            present = {name for (name,) in cursor.fetchall()}
            missing = [statement for name, statement in _postgresql_objects(column).items() if name not in present]
            for statement in missing:
                cursor.execute(statement)
        return bool(missing)
    return False


def drop_search_index(connection, columns=tuple(INDEXED_COLUMNS)):
    """Remove the index of ``columns`` (migrating back past the migration that created it)."""
    with connection.cursor() as cursor:
        for column in columns:
            fts, _options, vector = INDEXED_COLUMNS[column]
            if connection.vendor == "sqlite":
                for name in _sqlite_objects(column):
                    cursor.execute(f"DROP {'TABLE' if name == fts else 'TRIGGER'} IF EXISTS {name}")
            elif connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS {vector}")


def matching(words, using):
    """A filter condition: listings holding every word (see providers.keywords), on database ``using``."""
    if connections[using].vendor == "sqlite":
        fts_match = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        return Q(pk__in=RawSQL(fts_match, [keywords.fts5_query(words)]))
    query = keywords.tsquery(words)
    if all(_share_holding(word, using) >= COMMON_SHARE for word in words):
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
    stop at a page; for three filters at 100,000 listings it took 78 ms, now 13. On PostgreSQL
    whenever it holds a term filter: the vector is tested on the row itself where EXISTS
    probed another table for each row walked (one type of help: 22 → 14 ms at 100,000; near
    a city with one: 104 → 58 ms at 1,000,000).
    """
    if connections[using].vendor == "postgresql":
        return bool(chosen.keys() - {term_tokens.COUNTRY})
    return len(chosen) >= 2


def holding_terms(chosen, using):
    """A filter condition: listings holding one of the chosen values of every parameter of ``chosen``
    ({search parameter: term ids, or "country": codes}), by their term tokens (see providers.term_tokens).

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
    groups = {param: [term_tokens.token(param, value) for value in values] for param, values in chosen.items()}
    if connections[using].vendor == "sqlite":
        if not groups:
            return Q()
        query = " AND ".join("(" + " OR ".join(group) + ")" for group in groups.values())
        return Q(pk__in=RawSQL(f"SELECT rowid FROM {TERMS_FTS_TABLE} WHERE {TERMS_FTS_TABLE} MATCH %s", [query]))
    condition = Q(country__in=chosen[term_tokens.COUNTRY]) if groups.pop(term_tokens.COUNTRY, None) else Q()
    if groups:
        query = " & ".join("(" + " | ".join(group) + ")" for group in groups.values())
        condition &= Q(_VectorMatches(F("term_tokens"), Value(query)))
    return condition


# Words held by at least this share of listings are spread through the name order: walking it and
# checking each row finds a page at once, where fetching every match first would read most of the table.
COMMON_SHARE = 0.2
# How long a process trusts the statistics it read (PostgreSQL's own change only with ANALYZE).
STATISTICS_SECONDS = 600
_lexeme_shares = {}


def _share_holding(word, using):
    """The share of listings holding ``word`` (as a prefix from three letters), by PostgreSQL's statistics.

    They list the most common lexemes of the tsvector column; a word not among them is rare.
    """
    shares = _common_lexemes(using)
    if len(word) < keywords.MIN_PREFIX_LENGTH:
        return shares.get(word, 0.0)
    return sum(share for lexeme, share in shares.items() if lexeme.startswith(word))


def _common_lexemes(using):
    read_at, shares = _lexeme_shares.get(using, (None, {}))
    if read_at is None or time.monotonic() - read_at > STATISTICS_SECONDS:
        with connections[using].cursor() as cursor:
            cursor.execute(
                """SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats
                WHERE tablename = %s AND attname = %s""",
                [TABLE, VECTOR_COLUMN],
            )
            row = cursor.fetchone()
        shares = dict(zip(row[0], row[1])) if row and row[0] else {}
        _lexeme_shares[using] = (time.monotonic(), shares)
    return shares


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
        vector_column = text_column.replace(quote(name), quote(INDEXED_COLUMNS[name][2]))
        return f"{vector_column} @@ to_tsquery('simple', {query})", (*text_params, *query_params)
