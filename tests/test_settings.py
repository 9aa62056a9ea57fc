"""Configuration from the environment, and production's refusal to start unsafely."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from directory.env import env_bool, env_int, env_list

PRODUCTION_KEY = "k" * 50


def load_settings(**environment):
    """Import the settings in a fresh interpreter with exactly these variables set."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(environment)
    return subprocess.run(
        [sys.executable, "-c", "import directory.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'])"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


def test_development_defaults_need_no_configuration():
    result = load_settings()

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "True"
    assert "sqlite3" in result.stdout


def test_database_url_switches_to_postgresql():
    result = load_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/directory")

    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout


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
