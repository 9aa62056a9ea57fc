"""The import's hand-built SQL, and only it: multi-row INSERTs of plain values, and versions copied
from the rows just written.

The ORM's ``bulk_create`` builds a model instance per row and prepares every value through its
field; these values are already clean. Measured against ``bulk_create`` on the same rows
(docs/PERFORMANCE.md, "The import's write path"): 60,000 term rows 0.52 s instead of 3.05 s on
SQLite, 1.25 s instead of 3.67 s on PostgreSQL; 100,000 opening-hours rows 3.3 s instead of
7.2 s, 4.4 s instead of 7.6 s. Everything else the import writes goes through the ORM.
"""

import sqlite3
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections

from providers.models import HOURS_FIELDS, Provider


def database_value(field):
    """A function giving ``field``'s value as the database takes it (dates, times, UUIDs, countries)."""
    # The connection itself, not the thread-local proxy, which costs a lookup on each of a million calls.
    database = connections[DEFAULT_DB_ALIAS]

    def prepare(value):
        return field.get_db_prep_save(value, database)

    return prepare


def _database_column(field, values):
    """``values`` of ``field`` as the database takes them, each distinct value prepared once: a file's
    listings share their timestamps, and most share a country."""
    prepare, prepared = database_value(field), {}
    column = []
    for value in values:
        if value not in prepared:
            prepared[value] = prepare(value)
        column.append(prepared[value])
    return column


def _parameters_per_statement():
    """How many parameters one statement may carry.

    Django assumes 999 for SQLite, the limit of versions before 3.32; the library in use says its
    own (32,766 by default since), and fewer, larger statements write faster (docs/PERFORMANCE.md).
    """
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 30000


@contextmanager
def roomy_page_cache():
    """On SQLite, a 64 MiB page cache while an import writes, instead of the default 2 MiB.

    A listing's row touches some twenty B-trees (the table, its indexes, three of them on random
    UUIDs, and the full-text indexes); once they outgrow the cache, every INSERT reads pages back
    (docs/PERFORMANCE.md). The cache is given back afterwards, so the connection does not keep the memory.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-64 * 1024}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def insert_rows(table, columns, rows, batch_size=None):
    """INSERT ``rows`` (tuples of database values, in ``columns`` order) into ``table``, many per statement."""
    quote = connection.ops.quote_name
    batch_size = batch_size or max(1, min(1000, _parameters_per_statement() // len(columns)))
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(column) for column in columns)}) VALUES "
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            cursor.execute(head + ", ".join([placeholder] * len(batch)), [value for row in batch for value in row])


def insert_listings(providers, run):
    """INSERT new listings (all written by import run ``run``) as plain rows, then read back their ids.

    Only dates, times, UUIDs and countries need converting for the database.
    """
    if not providers:
        return
    fields = [field for field in Provider._meta.concrete_fields if not field.primary_key]
    for provider in providers:
        provider.assign_hsds_ids()
    listings = [provider.__dict__ for provider in providers]
    # Column by column, so that each column's conversion is chosen once rather than once per value.
    columns = []
    for field in fields:
        column = [listing[field.attname] for listing in listings]
        if field.get_internal_type() in ("DateField", "DateTimeField", "UUIDField") or field.name == "country":
            column = _database_column(field, column)
        columns.append(column)
    insert_rows(Provider._meta.db_table, [field.column for field in fields], list(zip(*columns, strict=True)))
    ids = {
        (source_id, external_id): pk
        for pk, source_id, external_id in Provider.objects.filter(last_import_run=run).values_list(
            "pk", "source_id", "external_id"
        )
    }
    for provider in providers:
        provider.pk = ids[(provider.source_id, provider.external_id)]
        provider._state.adding = False


def insert_versions(versions, run):
    """One history version per (listing id, history type, terms JSON, and one hours JSON per HOURS_FIELDS
    week) of ``versions``, with the values ``run`` gives every version (who, when, why, through what).

    Each version copies its listing's row, just written, inside the database (INSERT ... SELECT);
    only what the row lacks travels as parameters: the terms and hours, which the import holds
    in memory. Sending every column of every version as parameters took three times as long.
    """
    model = Provider.history.model
    quote = connection.ops.quote_name
    copied = [quote(field.column) for field in model.tracked_fields]
    run = {**run, "history_date": database_value(model._meta.get_field("history_date"))(run["history_date"])}
    json_type = model._meta.get_field("history_terms").db_type(connection)
    json_columns = ["history_terms", *(f"history_{name}" for name in HOURS_FIELDS)]
    width = 2 + len(json_columns)
    json_values = [f"CAST(version.column{number} AS {json_type})" for number in range(3, width + 1)]
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join([*copied, *map(quote, ['history_type', *json_columns, *run])])}) "
        f"SELECT {', '.join('provider.' + column for column in copied)}, version.column2, "
        f"{', '.join(json_values)}, {', '.join(['%s'] * len(run))} "
        f"FROM {quote(Provider._meta.db_table)} provider "
        f"JOIN (VALUES {{versions}}) version ON version.column1 = provider.{quote('id')}"
    )
    # As many versions per statement as the database takes parameters, up to 30,000: each statement
    # joins its versions to the listings, and fewer, larger joins cost less.
    batch_size = (min(_parameters_per_statement(), 30000) - len(run)) // width
    with connection.cursor() as cursor:
        for start in range(0, len(versions), batch_size):
            batch = versions[start : start + batch_size]
            cursor.execute(
                statement.format(versions=", ".join([f"({', '.join(['%s'] * width)})"] * len(batch))),
                [*run.values(), *(value for version in batch for value in version)],
            )
