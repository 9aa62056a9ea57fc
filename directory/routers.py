"""Send anonymous visitors' reads to the read replica (DATABASE_REPLICA_URL), everything else to the primary.

A replica lags its primary by a moment. Reading from it is harmless for a visitor
browsing the directory (a listing edited a second ago shows its new text a second
later), but not for whoever made the change: a curator saving a listing in the admin
must see the saved version, a signed-in session must be found right after sign-in.
So replica reads are opt-in, per request, and only for requests that cannot be anyone's
own change:

- ``read_from_replica`` (middleware, always installed) marks a request as replica-safe
  when it is a GET or HEAD, carries no session cookie (public visitors never get one;
  signed-in curators always have one) and is not for the admin (``/admin/``, where the
  sign-in page is). Everything else, posts of the suggestion form included, is unmarked.
- ``ReplicaRouter`` (installed only when DATABASE_REPLICA_URL is set) sends the reads of a
  marked request to ``replica``; all other reads, and every write, go to ``default``.
  Management commands (imports), the shell and tests are never marked, so they read
  from the primary too.

A context variable carries the mark, so it is per request whether the server uses
processes or threads, and it is reset when the view returns: the body of a streamed
response reads from the primary, which is safe.
"""

from contextvars import ContextVar

from django.conf import settings

PRIMARY = "default"
REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD"})
ADMIN_PREFIX = "/admin/"

replica_reads = ContextVar("replica_reads", default=False)


def replica_safe(request):
    """True when nothing this request reads can be the requester's own recent change."""
    return (
        request.method in SAFE_METHODS
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and not request.path_info.startswith(ADMIN_PREFIX)
    )


def read_from_replica(get_response):
    """Mark replica-safe requests for ReplicaRouter (does nothing else; harmless without a replica)."""

    def middleware(request):
        token = replica_reads.set(replica_safe(request))
        try:
            return get_response(request)
        finally:
            replica_reads.reset(token)

    return middleware


class ReplicaRouter:
    """Reads of replica-safe requests from ``replica``; everything else, and all writes, on ``default``."""

    def db_for_read(self, model, **hints):
        # None leaves Django's own choice: the database the related instance came from, else default.
        return REPLICA if replica_reads.get() else None

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data.
        return obj1._state.db in {PRIMARY, REPLICA} and obj2._state.db in {PRIMARY, REPLICA}

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica copies the primary's schema through replication.
        return db == PRIMARY
