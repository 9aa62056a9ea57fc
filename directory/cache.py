"""Redis as a cache that an outage cannot turn into error pages, nor into slow ones.

Everything this site keeps in the cache can be rebuilt or done without: search
choices and crisis lines come from the database again, a rate-limit count starts
over. So when Redis cannot be reached, reads miss, writes are dropped and the page
is served from the database, a little slower; /healthz reports the cache as failed
so the outage is seen.

A Redis that refuses connections fails at once, but one that takes them and never
answers (hung, or behind a firewall that drops its replies) costs every call its
full socket timeout, and a page makes dozens of calls. So after a failure the cache
is left alone for BACKOFF_SECONDS: every call answers as a miss or does nothing,
without touching the network. The first call after that tries Redis again; another
failure starts another back-off. The back-off is shared by the threads of a process
(each process finds out for itself), and each one is logged once.
"""

import logging
import threading
from time import monotonic

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Long enough that a page, or a burst of them, pays for a silent Redis at most once per process;
# short enough that a Redis that is back is used again within seconds.
BACKOFF_SECONDS = 5

# The monotonic time until which each Redis (by its server list) is left alone.
_backing_off_until = {}
_lock = threading.Lock()


def _forgiving(method, fallback):
    def wrapper(self, *args, **kwargs):
        if self.backing_off():
            return fallback(*args, **kwargs) if callable(fallback) else fallback
        try:
            result = method(self, *args, **kwargs)
        except RedisError:
            self._back_off(method.__name__)
            return fallback(*args, **kwargs) if callable(fallback) else fallback
        if self._servers_key in _backing_off_until:
            self._recovered()
        return result

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    return wrapper


class ForgivingRedisCache(RedisCache):
    get = _forgiving(RedisCache.get, lambda key, default=None, version=None: default)
    get_many = _forgiving(RedisCache.get_many, lambda *args, **kwargs: {})
    has_key = _forgiving(RedisCache.has_key, False)
    set = _forgiving(RedisCache.set, None)
    set_many = _forgiving(RedisCache.set_many, lambda *args, **kwargs: [])
    add = _forgiving(RedisCache.add, False)
    touch = _forgiving(RedisCache.touch, False)
    delete = _forgiving(RedisCache.delete, False)
    delete_many = _forgiving(RedisCache.delete_many, None)
    # A count that cannot be kept lets the request through: a limit is not worth an error page.
    incr = _forgiving(RedisCache.incr, lambda key, delta=1, version=None: delta)
    clear = _forgiving(RedisCache.clear, False)

    def __init__(self, server, params):
        super().__init__(server, params)
        # Django makes a cache object per thread: the back-off is kept by server, for all of them.
        self._servers_key = tuple(self._servers)

    def backing_off(self):
        """True while calls are answered without Redis, after a failure."""
        return monotonic() < _backing_off_until.get(self._servers_key, 0)

    def _back_off(self, method_name):
        with _lock:
            # Threads that failed together start one back-off, and log it once.
            if self.backing_off():
                return
            _backing_off_until[self._servers_key] = monotonic() + BACKOFF_SECONDS
        logger.warning(
            "Cache unavailable: %s() served without it; Redis is left alone for %s seconds.",
            method_name,
            BACKOFF_SECONDS,
            exc_info=True,
        )

    def _recovered(self):
        with _lock:
            if _backing_off_until.pop(self._servers_key, None) is None:
                return
        logger.info("Cache available again.")
