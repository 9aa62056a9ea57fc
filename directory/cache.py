"""Redis as a cache that an outage cannot turn into error pages.

Everything this site keeps in the cache can be rebuilt or done without: search
choices and crisis lines come from the database again, a rate-limit count starts
over. So when Redis cannot be reached, reads miss, writes are dropped and the page
is served from the database, a little slower; each failure is logged, and /healthz
reports the cache as failed so the outage is seen.
"""

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _forgiving(method, fallback):
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError:
            logger.warning("Cache unavailable: %s() served without it.", method.__name__, exc_info=True)
            return fallback(*args, **kwargs) if callable(fallback) else fallback

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
