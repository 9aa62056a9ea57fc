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

from django.db import connections
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
    f"{FTS_TABLE}_update": f"""CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE OF search_text ON {TABLE} BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) VALUES ('delete', old.id, old.search_text);
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
}

_POSTGRESQL_OBJECTS = {
    VECTOR_COLUMN: f"""ALTER TABLE {TABLE} ADD COLUMN {VECTOR_COLUMN} tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED""",
    f"{TABLE}_{VECTOR_COLUMN}": f"CREATE INDEX {TABLE}_{VECTOR_COLUMN} ON {TABLE} USING gin ({VECTOR_COLUMN})",
}

_MATCHING_IDS = {
    "sqlite": (f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", keywords.fts5_query),
    "postgresql": (f"SELECT id FROM {TABLE} WHERE {VECTOR_COLUMN} @@ to_tsquery('simple', %s)", keywords.tsquery),
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


def matching_ids(words, using):
    """A subquery of the ids of listings holding every word (each as a prefix), for database ``using``."""
    sql, expression = _MATCHING_IDS[connections[using].vendor]
    return RawSQL(sql, [expression(words)])
