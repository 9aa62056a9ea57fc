import os
import socket
import uuid

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import connection

from providers.models import TAXONOMY_FIELDS, CrisisLine, Provider, Source
from providers.search import vocabulary

# With REDIS_URL set the tests share one Redis database, and cache.clear() would empty it for
# every pytest-xdist worker at once: each worker keeps its keys under its own prefix and clears
# only those (below). Set here, before anything has used the cache.
if settings.REDIS_URL:
    settings.CACHES["default"]["KEY_PREFIX"] = "test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")


LOCAL_REDIS = "redis://127.0.0.1:6379/14"


def clear_cache():
    """Empty the cache, or with Redis only this test process's keys."""
    if not settings.REDIS_URL or settings.CACHES["default"]["BACKEND"] != "directory.cache.ForgivingRedisCache":
        cache.clear()
        return
    delete_redis_keys(settings.CACHES["default"]["LOCATION"], settings.CACHES["default"]["KEY_PREFIX"])


def delete_redis_keys(location, prefix):
    client = redis.Redis.from_url(location)
    keys = list(client.scan_iter(match=prefix + ":*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def redis_is_running():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def redis_cache(settings):
    """The cache on the local Redis, as REDIS_URL configures it, under keys of this test's own."""
    if not redis_is_running():
        pytest.skip("no Redis server on 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}"
    settings.REDIS_URL = LOCAL_REDIS
    settings.CACHES = {
        "default": {
            "BACKEND": "directory.cache.ForgivingRedisCache",
            "LOCATION": LOCAL_REDIS,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    yield
    delete_redis_keys(LOCAL_REDIS, prefix)


@pytest.fixture(autouse=True)
def empty_cache(request):
    """Each test starts with an empty cache, as cached search choices would outlive a test's data.

    The crisis lines every page shows and the terms listings are named from are then read
    back, as a running site already holds them, so tests that count a page's queries count
    only that page's own.
    """
    clear_cache()
    database = next((name for name in ("transactional_db", "db") if name in request.fixturenames), None)
    if database is None and request.node.get_closest_marker("django_db") is None:
        return
    if database:
        request.getfixturevalue(database)
    CrisisLine.objects.by_country()
    vocabulary.all_terms()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    """Background tasks run at once, inside the request that enqueues them (tests of a worker switch back)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def curator(db):
    """A staff account in the Curators group, which a migration creates."""
    user = User.objects.create_user(username="curator", password="curator-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Curators"))
    return user


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


@pytest.fixture
def source(db):
    return Source.objects.create(slug="test-partner", name="Test partner")


@pytest.fixture
def make_provider(db):
    """Create a provider; taxonomy fields take lists of slugs of the shipped terms.

    Defaults give a published provider in the United States with no terms.
    """

    def make(**fields):
        terms = {field: fields.pop(field) for field in TAXONOMY_FIELDS.values() if field in fields}
        fields.setdefault("name", "Test Recovery Centre")
        fields.setdefault("country", "US")
        fields.setdefault("status", Provider.Status.PUBLISHED)
        provider = Provider.objects.create(**fields)
        for field, slugs in terms.items():
            related = Provider._meta.get_field(field).related_model
            getattr(provider, field).set(related.objects.filter(slug__in=slugs))
        return provider

    return make


@pytest.fixture
def harbour_clinic(make_provider):
    """The published listing the browser tests open: a clinic with an address, a phone and coordinates."""
    return make_provider(
        name="Harbour Medication Clinic",
        street_address="12 Nkrumah Road",
        city="Mombasa",
        country="KE",
        latitude=-4.0435,
        longitude=39.6682,
        phone="+254722123456",
        modalities=["mat"],
        care_settings=["outpatient"],
    )


@pytest.fixture
def requested(page):
    """Every request a browser test's page makes, in order (each browser module defines its ``page``)."""
    requests = []
    page.on("request", lambda request: requests.append(request))
    return requests


@pytest.fixture
def test_tiles(settings, live_server):
    """Map tiles from the live server itself (tests/map_urls.py), so no test reaches a real tile server."""
    settings.ROOT_URLCONF = "tests.map_urls"
    settings.MAP_TILE_URL = live_server.url + "/test-tiles/{z}/{x}/{y}.png"


@pytest.fixture(scope="module")
def restore_migrated_data(django_db_setup, django_db_blocker):
    """Put back what the migrations created once a module's last live-server test has flushed every table.

    Tests from other files may run after it on the same worker, and they rely
    on the shipped taxonomy and the Curators group.
    """
    yield
    with django_db_blocker.unblock():
        connection.creation.deserialize_db_from_string(connection._test_serialized_contents)
