"""Configuration from the environment, and production's refusal to start unsafely."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from directory.env import env_bool, env_int, env_list
from tests.directory import fresh_settings

PRODUCTION_KEY = "k" * 50


def load_settings(**environment):
    """Import the settings in a fresh interpreter with exactly these variables set."""
    return fresh_settings.run(
        "import directory.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'])",
        **environment,
    )


def database_settings(**environment):
    """settings.DATABASES as a fresh interpreter reads it with exactly these variables set."""
    return fresh_settings.read("s.DATABASES", **environment)


def test_development_defaults_need_no_configuration():
    result = load_settings()

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "True"
    assert "sqlite3" in result.stdout


def test_database_url_switches_to_postgresql():
    result = load_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/directory")

    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout


def test_postgresql_gives_up_on_a_server_that_does_not_answer():
    """Without a connect timeout libpq waits for ever, and /healthz with it until the worker is killed."""
    databases = database_settings(
        DATABASE_URL="postgres://postgres@db.internal:5432/directory",
        DATABASE_REPLICA_URL="postgres://postgres@replica.internal:5432/directory",
    )

    for alias in ("default", "replica"):
        assert 0 < databases[alias]["OPTIONS"]["connect_timeout"] <= 5, alias
    assert "connect_timeout" not in database_settings()["default"]["OPTIONS"]


def test_the_connect_timeout_is_set_by_the_environment_or_in_the_database_url():
    environment = database_settings(
        DATABASE_URL="postgres://postgres@db.internal:5432/directory", DATABASE_CONNECT_TIMEOUT="2"
    )
    url = database_settings(
        DATABASE_URL="postgres://postgres@db.internal:5432/directory?connect_timeout=3&sslmode=require",
        DATABASE_CONNECT_TIMEOUT="2",
    )

    assert environment["default"]["OPTIONS"]["connect_timeout"] == 2
    assert url["default"]["OPTIONS"] == {"connect_timeout": 3, "sslmode": "require"}


def test_a_connect_timeout_of_zero_which_would_wait_for_ever_is_refused():
    result = load_settings(DATABASE_URL="postgres://postgres@db.internal:5432/directory", DATABASE_CONNECT_TIMEOUT="0")

    assert result.returncode != 0
    assert "DATABASE_CONNECT_TIMEOUT must be at least 1" in result.stderr


def test_production_refuses_the_development_secret_key():
    result = load_settings(DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="example.org")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = load_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=PRODUCTION_KEY)

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must list" in result.stderr


def test_production_starts_when_configured():
    result = load_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=PRODUCTION_KEY, DJANGO_ALLOWED_HOSTS="example.org")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False ['example.org']")


def test_a_misspelt_boolean_fails_loudly(monkeypatch):
    monkeypatch.setenv("DJANGO_DEBUG", "ture")

    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG must be one of"):
        env_bool("DJANGO_DEBUG", True)


def test_numbers_and_lists_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("PROVIDERS_PER_PAGE", "50")
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "a.example, b.example,")

    assert env_int("PROVIDERS_PER_PAGE", 20) == 50
    assert env_list("DJANGO_ALLOWED_HOSTS") == ["a.example", "b.example"]


def test_a_number_that_is_not_a_number_fails_loudly(monkeypatch):
    monkeypatch.setenv("PROVIDERS_PER_PAGE", "twenty")

    with pytest.raises(ImproperlyConfigured, match="PROVIDERS_PER_PAGE must be a whole number"):
        env_int("PROVIDERS_PER_PAGE", 20)
