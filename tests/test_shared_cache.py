"""The cache: Redis when REDIS_URL is set, shared by every app server and worker; local memory otherwise."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings


def cache_settings(**environment):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CACHE_"))
    }
    env.update(environment)
    result = subprocess.run(
        [sys.executable, "-c", "import json, directory.settings as s; print(json.dumps(s.CACHES['default']))"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_redis_each_process_caches_in_local_memory():
    assert cache_settings()["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_redis_url_switches_to_redis():
    cache = cache_settings(REDIS_URL="redis://cache.internal:6379/0")

    assert cache["BACKEND"] == "directory.cache.ForgivingRedisCache"
    assert cache["LOCATION"] == "redis://cache.internal:6379/0"
    assert cache["KEY_PREFIX"] == "directory"


def test_several_sites_can_share_one_redis_under_their_own_prefix():
    assert (
        cache_settings(REDIS_URL="redis://cache.internal:6379/0", CACHE_KEY_PREFIX="staging")["KEY_PREFIX"] == "staging"
    )


def test_an_unreachable_redis_fails_fast_rather_than_holding_requests():
    options = cache_settings(REDIS_URL="redis://cache.internal:6379/0")["OPTIONS"]

    assert 0 < options["socket_connect_timeout"] <= 1
    assert 0 < options["socket_timeout"] <= 1


@pytest.fixture
def redis_down(settings):
    """REDIS_URL names a port where nothing listens: every cache call fails."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "directory.cache.ForgivingRedisCache",
            "LOCATION": settings.REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_pages_are_served_from_the_database_while_redis_is_down(client, make_provider, redis_down, caplog):
    provider = make_provider(name="Harbour Clinic", country="KE", modalities=["mat"])

    for path in ("/", "/providers/?country=KE&modality=mat", provider.get_absolute_url(), "/es/providers/",
                 "/api/v1/providers/"):
        assert client.get(path).status_code == 200, path
    assert "Cache unavailable" in caplog.text


def test_a_suggestion_is_still_received_while_redis_is_down(client, make_provider, redis_down):
    provider = make_provider(name="Harbour Clinic", country="KE")

    response = client.post(
        f"{provider.get_absolute_url()}suggest/",
        {"problem": "phone", "message": "The number rings out.", "contact_email": ""},
    )

    assert response.status_code == 302
    assert provider.suggestions.count() == 1
