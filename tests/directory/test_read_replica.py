"""An optional read replica (DATABASE_REPLICA_URL): anonymous visitors read from it, everything else from
the primary."""

import copy

import pytest
from django.db import OperationalError, connections
from django.test import RequestFactory

from directory.routers import ReplicaRouter, read_from_replica, replica_reads, replica_safe
from providers.models import Provider
from tests.directory import fresh_settings


@pytest.fixture(scope="module", autouse=True)
def replica_alias(django_db_setup):
    """A "replica" alias for this module's tests, the test mirror of the primary that DATABASE_REPLICA_URL sets up.

    Added once the test databases exist. It shares the primary's connection (a second
    connection would not see the data a test writes inside its transaction, and SQLite's
    in-memory test database would lock it out), so these tests check where reads are sent
    (RecordingRouter), not replication.
    """
    connections.settings["replica"] = {**connections["default"].settings_dict, "TEST": {"MIRROR": "default"}}
    connections["replica"] = connections["default"]
    yield
    del connections["replica"]
    del connections.settings["replica"]


class RecordingRouter(ReplicaRouter):
    """The replica router, noting the database it picks for each read."""

    def __init__(self):
        self.reads = []

    def db_for_read(self, model, **hints):
        chosen = super().db_for_read(model, **hints)
        self.reads.append(chosen)
        return chosen


@pytest.fixture
def recording_router(settings):
    router = RecordingRouter()
    settings.DATABASE_ROUTERS = [router]
    return router


@pytest.fixture
def router():
    return ReplicaRouter()


@pytest.fixture
def replica_request():
    """Reads made inside it are marked as a replica-safe request's."""
    token = replica_reads.set(True)
    yield
    replica_reads.reset(token)


def test_reads_of_a_replica_safe_request_go_to_the_replica(router, replica_request):
    assert router.db_for_read(Provider) == "replica"


def test_other_reads_are_left_on_the_primary(router):
    # None: Django's default choice, the primary (or the database a related object came from).
    assert router.db_for_read(Provider) is None


def test_writes_always_go_to_the_primary(router, replica_request):
    assert router.db_for_write(Provider) == "default"


def test_objects_from_either_database_may_be_related(router):
    primary, replica = Provider(), Provider()
    primary._state.db, replica._state.db = "default", "replica"

    assert router.allow_relation(primary, replica)


def test_migrations_run_on_the_primary_only(router):
    assert router.allow_migrate("default", "providers")
    assert not router.allow_migrate("replica", "providers")


@pytest.mark.parametrize(
    ("method", "path", "cookies", "safe"),
    [
        ("GET", "/providers/", {}, True),
        ("HEAD", "/es/", {}, True),
        ("GET", "/api/v1/providers/", {}, True),
        # A signed-in curator must see their own edits at once.
        ("GET", "/providers/", {"sessionid": "abc"}, False),
        ("GET", "/admin/login/", {}, False),
        ("POST", "/suggest/", {}, False),
    ],
)
def test_which_requests_may_read_from_the_replica(method, path, cookies, safe):
    request = RequestFactory().generic(method, path)
    request.COOKIES.update(cookies)

    assert replica_safe(request) is safe


def test_the_mark_lasts_for_the_request_only():
    seen = []
    middleware = read_from_replica(lambda request: seen.append(replica_reads.get()))

    middleware(RequestFactory().get("/providers/"))

    assert seen == [True]
    assert replica_reads.get() is False


@pytest.mark.django_db(databases=["default", "replica"])
@pytest.mark.parametrize("page", ["provider", "search", "home", "api"])
def test_public_pages_work_reading_from_the_replica(client, make_provider, recording_router, page):
    provider = make_provider(name="Replica Recovery House")
    url = {
        "provider": provider.get_absolute_url(),
        "search": "/providers/?q=Replica",
        "home": "/es/",
        "api": "/api/v1/providers/",
    }[page]
    recording_router.reads.clear()

    response = client.get(url)

    assert response.status_code == 200
    if page != "home":
        assert b"Replica Recovery House" in response.content
    assert recording_router.reads
    assert set(recording_router.reads) == {"replica"}


@pytest.mark.django_db(databases=["default", "replica"])
def test_a_signed_in_curator_reads_from_the_primary(client, curator, make_provider, recording_router):
    provider = make_provider(name="Replica Recovery House")
    client.force_login(curator)
    recording_router.reads.clear()

    assert client.get(provider.get_absolute_url()).status_code == 200
    assert client.get("/admin/providers/provider/").status_code == 200
    assert recording_router.reads
    assert "replica" not in recording_router.reads


@pytest.mark.django_db(databases=["default", "replica"])
def test_a_form_post_reads_from_the_primary(client, make_provider, recording_router):
    make_provider(name="Replica Recovery House")

    response = client.post("/suggest/", {})

    assert response.status_code in {200, 302}
    assert "replica" not in recording_router.reads


@pytest.mark.django_db(databases=["default", "replica"])
def test_the_health_check_checks_the_replica_too(client, settings):
    settings.REDIS_URL = ""  # the cache's check is not this test's subject
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "database_replica": "ok"}


@pytest.mark.django_db(databases=["default", "replica"])
def test_the_health_check_fails_when_the_replica_is_down(client, settings):
    settings.REDIS_URL = ""

    def refuse():
        raise OperationalError("replica unreachable")

    unreachable = copy.copy(connections["default"])
    unreachable.cursor = refuse
    connections["replica"] = unreachable
    try:
        response = client.get("/healthz")
    finally:
        connections["replica"] = connections["default"]

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "database_replica": "failed"}


SHOW_DATABASES = (
    "import directory.settings as s; "
    "print(sorted(s.DATABASES), getattr(s, 'DATABASE_ROUTERS', []), s.DATABASES.get('replica', {}).get('TEST'))"
)


def load_settings(**environment):
    """The databases and routers the settings build in a fresh interpreter with exactly these variables set."""
    return fresh_settings.run(SHOW_DATABASES, **environment)


def test_without_the_variable_there_is_no_replica():
    result = load_settings()

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['default'] [] None"


def test_the_variable_adds_the_replica_and_its_router():
    result = load_settings(DATABASE_REPLICA_URL="postgres://reader@replica.internal:5432/directory")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['default', 'replica'] ['directory.routers.ReplicaRouter'] {'MIRROR': 'default'}"
