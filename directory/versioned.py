"""A value each process keeps in memory under a version number held in Django's cache.

For small tables every page needs (crisis lines, the terms of every taxonomy): a
page reads only the version number, and forgetting it (when the table changes)
makes every process, on every app server sharing the cache, load the table again.
"""

import uuid

from django.core.cache import cache


def current_version(key, seconds=None):
    """The version number held under ``key``, started if there is none (for ``seconds``; None: no limit)."""
    version = cache.get(key)
    if version is None:
        # add(), not set(): two processes starting a version at once agree on the first one.
        cache.add(key, uuid.uuid4().hex, seconds)
        version = cache.get(key) or "unshared"
    return version


class VersionedMemo:
    def __init__(self, key, seconds, load):
        self.key = key
        # Changes delete the key; the time limit bounds staleness where processes do not share a cache.
        self.seconds = seconds
        self.load = load
        self._loaded = (None, None)

    def get(self):
        version = current_version(self.key, self.seconds)
        loaded = self._loaded
        if loaded[0] != version:
            # One assignment, so a thread reading meanwhile sees the old value or the new one.
            loaded = self._loaded = (version, self.load())
        return loaded[1]

    def forget(self, **kwargs):
        """Make every process load the value again (also a signal receiver)."""
        cache.delete(self.key)
