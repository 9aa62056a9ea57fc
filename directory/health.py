"""/healthz: is this app server able to serve pages? For load balancers and uptime checks.

Runs a trivial query on every configured database (``default``, and ``replica`` when
DATABASE_REPLICA_URL is set) and, when REDIS_URL is set, writes and reads back a key in
the shared cache. 200 with ``{"status": "ok", ...}`` when all pass; 503 naming the database
that failed otherwise. A failed cache answers 200 with ``"status": "degraded"``: pages are
then served without it (directory/cache.py), and every app server shares the one Redis, so
taking them out of the load balancer would turn a slower site into no site. The answer never
carries an exception's text (which may hold a host name or a connection string): the failure
is logged here instead, as a warning.

A server that takes the connection and never answers cannot hold the answer for long either:
PostgreSQL gives up after DATABASE_CONNECT_TIMEOUT seconds (settings), Redis after its
half-second socket timeout, and while the cache backs off from a failed Redis the probe does
not touch the network at all.

No cookies, ``Cache-Control: no-store``, and exempt from the HTTPS redirect
(SECURE_REDIRECT_EXEMPT), so a load balancer's plain-HTTP probe gets an answer.
"""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

PROBE_KEY = "healthz:probe"


def _database_ok(alias):
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.warning("Health check: database %r is unreachable.", alias, exc_info=True)
        return False


def _cache_ok():
    token = uuid.uuid4().hex
    try:
        cache.set(PROBE_KEY, token, 10)
        if cache.get(PROBE_KEY) == token:
            return True
        if cache.backing_off():
            logger.warning("Health check: the cache is unreachable, and left alone for a few seconds.")
        else:
            logger.warning("Health check: the cache did not return the value just stored.")
    except Exception:
        logger.warning("Health check: the cache is unreachable.", exc_info=True)
    return False


@require_safe
def healthz(request):
    checks = {}
    for alias in connections:
        checks["database" if alias == "default" else f"database_{alias}"] = _database_ok(alias)
    databases_ok = all(checks.values())
    if settings.REDIS_URL:
        checks["cache"] = _cache_ok()
    status = "unavailable" if not databases_ok else "ok" if all(checks.values()) else "degraded"
    body = {"status": status}
    body.update((name, "ok" if passed else "failed") for name, passed in checks.items())
    response = JsonResponse(body, status=200 if databases_ok else 503)
    # Also keeps ConditionalGetMiddleware from adding an ETag: every probe gets a fresh answer.
    response["Cache-Control"] = "no-store"
    return response
