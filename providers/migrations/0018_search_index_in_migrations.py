"""The full-text indexes over ``search_text`` and ``term_tokens``, made by this migration.

Until now ``post_migrate`` created them (see 0015 and 0017); here they become part of the
schema's history. Every statement tolerates what that code already made, so a database
migrated before this one ends up the same as a new one.

SQLite: an FTS5 table per column holding only the index (its content is the provider
table), kept in step by triggers. SQLite drops a table's triggers when a migration rebuilds
the table (most ``AlterField`` on SQLite do): such a migration must run ``CREATE_SQLITE``
below again (written into it), or tests/search/test_index.py fails.
PostgreSQL: a stored tsvector column generated from each, with a GIN index.

The statements are written here, not imported, so what this migration does never changes.
"""

from django.db import migrations

# (column, FTS5 table, FTS5 options, tsvector column)
INDEXED = [
    ("search_text", "providers_provider_search", "tokenize='unicode61 remove_diacritics 0'", "search_vector"),
    ("term_tokens", "providers_provider_terms", "detail=none", "term_vector"),
]


def sqlite_statements(column, fts, options):
    return [
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(
            {column}, content='providers_provider', content_rowid='id', {options})""",
        f"""CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON providers_provider BEGIN
            INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});
            END""",
        f"""CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON providers_provider BEGIN
            INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});
            END""",
        f"""CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF {column} ON providers_provider BEGIN
            INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column});
            INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column});
            END""",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def postgresql_statements(column, vector):
    return [
        f"""ALTER TABLE providers_provider ADD COLUMN IF NOT EXISTS {vector} tsvector
            GENERATED ALWAYS AS (to_tsvector('simple', {column})) STORED""",
        f"CREATE INDEX IF NOT EXISTS providers_provider_{vector} ON providers_provider USING gin ({vector})",
    ]


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    for column, fts, options, vector in INDEXED:
        if connection.vendor == "sqlite":
            statements = sqlite_statements(column, fts, options)
        elif connection.vendor == "postgresql":
            statements = postgresql_statements(column, vector)
        else:
            statements = []
        for statement in statements:
            schema_editor.execute(statement)


def drop_index(apps, schema_editor):
    connection = schema_editor.connection
    for _column, fts, _options, vector in INDEXED:
        if connection.vendor == "sqlite":
            for trigger in ("insert", "delete", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")
        elif connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE providers_provider DROP COLUMN IF EXISTS {vector}")


class Migration(migrations.Migration):
    dependencies = [("providers", "0017_term_tokens")]

    operations = [migrations.RunPython(create_index, drop_index)]
