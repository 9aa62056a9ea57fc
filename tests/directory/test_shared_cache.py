"""The cache: Redis when REDIS_URL is set, shared by every app server and worker; local memory otherwise."""

import logging
import socket

import pytest
import redis
from django.core.cache import cache

import directory.cache
from tests.directory import fresh_settings


def cache_settings(**environment):
    return fresh_settings.read("s.CACHES['default']", **environment)


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


def closed_port():
    """A port nothing listens on, this test's own: a Redis that failed in another test is not backed off from here."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return unused.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    """REDIS_URL names a port where nothing listens: every cache call fails."""
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "directory.cache.ForgivingRedisCache",
            "LOCATION": settings.REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_pages_are_served_from_the_database_while_redis_is_down(client, make_provider, redis_down, caplog):
    provider = make_provider(name="Harbour Clinic", country="KE", modalities=["mat"])

    for path in (
        "/",
        "/providers/?country=KE&modality=mat",
        provider.get_absolute_url(),
        "/es/providers/",
        "/api/v1/providers/",
    ):
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


class BlackHole:
    """A Redis that takes connections and never answers: hung, or behind a firewall that drops its replies.

    The listener never accepts by itself, but the system completes each connection as the client
    asks, so by the time a cache call has given up its connection is waiting here to be counted.
    """

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.listener.setblocking(False)
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.held = []

    def connections(self):
        """How many connections the cache has opened so far."""
        while True:
            try:
                connection, _ = self.listener.accept()
            except BlockingIOError:
                return len(self.held)
            self.held.append(connection)

    def close(self):
        for connection in self.held:
            connection.close()
        self.listener.close()


@pytest.fixture
def black_hole(settings):
    """The cache on a Redis that never answers, with a short read timeout so that each call that waits is quick."""
    hole = BlackHole()
    settings.REDIS_URL = hole.url
    settings.CACHES = {
        "default": {
            "BACKEND": "directory.cache.ForgivingRedisCache",
            "LOCATION": hole.url,
            "KEY_PREFIX": "test-black-hole",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.1},
        }
    }
    yield hole
    hole.close()


class Clock:
    """The cache's clock, standing still until moved on."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(directory.cache.monotonic())
    monkeypatch.setattr(directory.cache, "monotonic", clock)
    return clock


def test_after_a_failure_the_cache_answers_without_redis_for_a_while(black_hole, clock):
    assert cache.get("choices") is None
    assert black_hole.connections() == 1

    assert cache.get("choices", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("choices") is False
    assert cache.add("choices", 1) is False
    assert cache.incr("throttle", 3) == 3
    assert cache.touch("choices") is False
    assert cache.delete("choices") is False
    cache.set("choices", 1)
    cache.set_many({"a": 1, "b": 2})
    cache.delete_many(["a", "b"])
    cache.clear()
    assert black_hole.connections() == 1


def test_after_the_backoff_redis_is_tried_again(black_hole, clock):
    cache.get("choices")
    clock.advance(directory.cache.BACKOFF_SECONDS - 0.5)
    cache.get("choices")
    assert black_hole.connections() == 1

    clock.advance(0.5)
    cache.get("choices")
    assert black_hole.connections() == 2

    cache.get("choices")
    assert black_hole.connections() == 2


def test_the_outage_is_logged_once_per_backoff(black_hole, clock, caplog):
    caplog.set_level(logging.WARNING, logger="directory.cache")
    for _ in range(5):
        cache.get("choices")
    assert len(caplog.records) == 1

    clock.advance(directory.cache.BACKOFF_SECONDS)
    for _ in range(5):
        cache.get("choices")
    assert len(caplog.records) == 2


def refuse(*args, **options):
    raise redis.ConnectionError("Connection refused.")


def test_a_redis_that_answers_again_is_used_again_after_the_backoff(redis_cache, clock, monkeypatch):
    with monkeypatch.context() as outage:
        outage.setattr(redis.Redis, "execute_command", refuse)
        cache.set("choices", "stale")

    cache.set("choices", "fresh")
    assert cache.get("choices") is None

    clock.advance(directory.cache.BACKOFF_SECONDS)
    cache.set("choices", "fresh")
    assert cache.get("choices") == "fresh"


def test_pages_are_served_while_redis_never_answers(client, make_provider, black_hole, clock):
    make_provider(name="Harbour Clinic", country="KE", modalities=["mat"])

    for path in ("/providers/?modality=mat", "/api/v1/providers/"):
        assert client.get(path).status_code == 200, path
    assert black_hole.connections() == 1


def test_healthz_reports_a_redis_that_never_answers_and_keeps_the_server_in_service(client, db, black_hole, clock):
    for _ in range(3):
        response = client.get("/healthz")

        assert response.status_code == 200
        assert response.json() == {"status": "degraded", "database": "ok", "cache": "failed"}
    assert black_hole.connections() == 1
