"""SQLite (the development and small-site database) in WAL mode: an import that writes does not lock out readers."""

import pytest
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(
    connections["default"].vendor != "sqlite",
    reason="WAL and the busy timeout are SQLite settings; the default database here is not SQLite",
)


@pytest.fixture
def database_file(tmp_path, django_db_blocker):
    """Open connections to an SQLite file with the settings' options (the test database itself lives in memory)."""
    opened = []

    def connect():
        wrapper = DatabaseWrapper(
            {**connections["default"].settings_dict, "NAME": str(tmp_path / "directory.sqlite3")},
            alias=f"file{len(opened)}",
        )
        opened.append(wrapper)
        return wrapper

    with django_db_blocker.unblock():
        yield connect
        for wrapper in opened:
            wrapper.close()


def test_the_database_is_in_wal_mode(database_file):
    with database_file().cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def test_a_writer_waits_for_another_rather_than_failing(database_file):
    with database_file().cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 20_000


def test_transactions_take_the_write_lock_when_they_start(database_file):
    connection = database_file()
    connection.ensure_connection()

    assert connection.transaction_mode == "IMMEDIATE"


def test_readers_are_not_blocked_while_an_import_writes(database_file):
    importer, visitor = database_file(), database_file()
    with importer.cursor() as cursor:
        cursor.execute("CREATE TABLE listing (name TEXT)")
        cursor.execute("INSERT INTO listing VALUES ('Harbour Clinic')")

    importer.set_autocommit(False)
    try:
        with importer.cursor() as cursor:
            cursor.execute("INSERT INTO listing VALUES ('New Clinic')")
        # The import's transaction is still open: the visitor reads what was there before it.
        with visitor.cursor() as cursor:
            cursor.execute("SELECT name FROM listing")
            assert cursor.fetchall() == [("Harbour Clinic",)]
    finally:
        importer.rollback()
        importer.set_autocommit(True)
