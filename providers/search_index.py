"""The database's full-text index over ``Provider.search_text``, and the query that uses it.

SQLite: an FTS5 table holding only the index (its content is the provider
table), kept in step by triggers, so every way of writing a listing (admin,
importer, ``update()``) keeps it right. PostgreSQL: a stored tsvector column
generated from ``search_text``, with a GIN index.

Django does not know these objects. SQLite drops a table's triggers whenever a
migration rebuilds it, so ``ensure_search_index`` runs after every ``migrate``
(see ProvidersConfig.ready) and recreates what is missing, re-indexing if it had
to.
"""

import time

from django.db import connections
from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.expressions import RawSQL

from providers import keywords

TABLE = "providers_provider"
FTS_TABLE = "providers_provider_search"
VECTOR_COLUMN = "search_vector"

# Words are stored normalised (see providers.keywords), so the tokenizer need not fold accents again.
_SQLITE_OBJECTS = {
    FTS_TABLE: f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        search_text, content='{TABLE}', content_rowid='id', tokenize='unicode61 remove_diacritics 0')""",
    f"{FTS_TABLE}_insert": f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON {TABLE} BEGIN
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
    f"{FTS_TABLE}_delete": f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON {TABLE} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
        END""",
    f"{FTS_TABLE}_update": f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update
        AFTER UPDATE OF search_text ON {TABLE} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
}

_POSTGRESQL_OBJECTS = {
    VECTOR_COLUMN: f"""ALTER TABLE {TABLE} ADD COLUMN {VECTOR_COLUMN} tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED""",
    f"{TABLE}_{VECTOR_COLUMN}": f"CREATE INDEX {TABLE}_{VECTOR_COLUMN} ON {TABLE} USING gin ({VECTOR_COLUMN})",
}

def ensure_search_index(connection):
    """Create the index where it is missing; returns True when it had to (and so re-indexed)."""
    if TABLE not in connection.introspection.table_names():
        return False
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE %s", [FTS_TABLE + "%"])
            present = {name for (name,) in cursor.fetchall()}
            if present >= set(_SQLITE_OBJECTS):
                return False
            for statement in _SQLITE_OBJECTS.values():
                cursor.execute(statement)
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
        return True
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name = %s
                UNION ALL SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname = %s""",
                [TABLE, VECTOR_COLUMN, TABLE, f"{TABLE}_{VECTOR_COLUMN}"],
            )
            present = {name for (name,) in cursor.fetchall()}
            missing = [statement for name, statement in _POSTGRESQL_OBJECTS.items() if name not in present]
            for statement in missing:
                cursor.execute(statement)
        return bool(missing)
    return False


def drop_search_index(connection):
    """Remove the index (migrating back past the migration that created it)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in _SQLITE_OBJECTS:
                cursor.execute(f"DROP {'TABLE' if name == FTS_TABLE else 'TRIGGER'} IF EXISTS {name}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS {VECTOR_COLUMN}")


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
    """``search_vector @@ to_tsquery(...)`` tested on the row itself, so PostgreSQL may walk the name index.

    Django does not know the generated column; its name is put where the query names
    ``search_text``, under whatever alias the table has in the query.
    """

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        text_column, text_params = compiler.compile(self.source_expressions[0])
        query, query_params = compiler.compile(self.source_expressions[1])
        quote = connection.ops.quote_name
        vector_column = text_column.replace(quote("search_text"), quote(VECTOR_COLUMN))
        return f"{vector_column} @@ to_tsquery('simple', {query})", (*text_params, *query_params)
