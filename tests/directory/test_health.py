"""/healthz: the load balancer's question "can this app server serve pages?"."""

import json
import socket

import pytest
from django.db import OperationalError, connections

from tests.directory import fresh_settings

pytestmark = pytest.mark.django_db


def unreachable_redis(location):
    return {
        "default": {
            "BACKEND": "directory.cache.ForgivingRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "test-healthz",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture(autouse=True)
def without_redis(settings):
    """Tests check Redis only where they configure it, even when the suite runs with REDIS_URL."""
    settings.REDIS_URL = ""


@pytest.fixture
def database_down(monkeypatch):
    """The default database refuses connections, saying more than a visitor should read."""

    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "db.internal", port 5432 failed: password=hunter2')

    monkeypatch.setattr(connections["default"], "cursor", refuse)


def configured_database(url, **environment):
    """The default database as Django, started with these settings in a fresh interpreter, connects to it."""
    result = fresh_settings.run(
        "import json, django; django.setup(); from django.db import connections; "
        "print(json.dumps(connections['default'].settings_dict))",
        **environment,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="directory.settings",
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def silent_database(monkeypatch):
    """A PostgreSQL server that takes the connection and never answers, as the settings configure it.

    Added beside the test database under its own alias, which /healthz checks like any other,
    so the test means the same whichever database the suite runs on.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        monkeypatch.setitem(
            connections.settings,
            "silent",
            configured_database(f"postgres://postgres@127.0.0.1:{port}/directory", DATABASE_CONNECT_TIMEOUT="1"),
        )
        yield connections["silent"]
        del connections["silent"]


def test_answers_503_when_a_database_takes_the_connection_and_never_answers(client, silent_database):
    assert silent_database.get_connection_params()["connect_timeout"] == 1

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "database_silent": "failed"}


def test_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}


def test_answers_503_when_the_database_is_down(client, database_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "failed"}


def test_a_failure_shows_no_error_text_or_connection_details(client, database_down):
    body = client.get("/healthz").content.decode()

    assert "hunter2" not in body
    assert "db.internal" not in body
    assert "Traceback" not in body


def test_a_redis_outage_is_reported_but_keeps_the_server_in_service(client, settings):
    """Pages are served without the cache meanwhile, and every server shares the one Redis."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = unreachable_redis(settings.REDIS_URL)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "failed"}


def test_checks_redis_when_it_is_configured(client, redis_cache):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_without_redis_the_local_cache_is_not_checked(client, settings):
    settings.REDIS_URL = ""

    assert "cache" not in client.get("/healthz").json()


def test_sets_no_cookie_and_is_never_stored(client):
    response = client.get("/healthz")

    assert not response.cookies
    assert response["Cache-Control"] == "no-store"
    assert not response.has_header("ETag")


def test_answers_head_requests(client):
    response = client.head("/healthz")

    assert response.status_code == 200
    assert response.content == b""


def test_refuses_posts(client):
    assert client.post("/healthz").status_code == 405


def test_a_plain_http_probe_is_answered_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/").status_code == 301
    assert client.get("/healthz").status_code == 200


def test_is_outside_the_language_prefixes(client):
    assert client.get("/es/healthz").status_code == 404
