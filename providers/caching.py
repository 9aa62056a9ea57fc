"""Everything the site keeps in a cache, in one place: what, under which key, for how long, and what forgets it.

In Django's cache (local memory per process, or Redis shared by every app server):

- public pages (``cached_page``): ``pages:<PAGES version>:<address>[...]``, PAGE_CACHE_SECONDS;
  forgotten when listings change (a new PAGES version).
- search choices: ``providers:filter-choices``, 300 s; forgotten when listings change.
- home page totals: ``providers:totals``, 300 s; forgotten when listings change.
- the counts beside the search page's choices (providers.search.choice_counts), per search
  without one of its filters: ``providers:choice-counts:<PAGES version>:<hash of that search>``,
  300 s (a day where the cache is shared); forgotten when listings change (a new PAGES version),
  never kept for "open now". Once a
  change commits, a task counts again those of every one-value search and of the search without
  filters (``fill_choice_counts``), queued at most once at a time
  (``providers:choice-counts:fill-queued``, 300 s).
- whether few listings hold a term filter's terms (providers.models.search_index.few_hold, SQLite):
  ``providers:few-hold:<database>:<PAGES version>:<hash of the terms>``, 300 s; forgotten when
  listings change (a new PAGES version).
- suggestions sent per address: ``suggestions:sent:<keyed hash>`` (providers.views), for
  SUGGESTION_RATE_PERIOD; never forgotten, they expire.
- API requests per address: DRF's ``throttle_anon_<address>``, for API_ANONYMOUS_RATE's period;
  never forgotten, they expire.

In each process's memory, checked on use against a version number in Django's cache:

- vocabulary (every term): ``providers:vocabulary-version``, 3600 s; forgotten when a term changes.
- crisis lines: ``providers:crisis-lines-version``, 3600 s; forgotten when a crisis line changes.

In each process's memory for a time, per database (KEYWORD_STATISTICS): PostgreSQL's statistics
of the keyword index (providers.models.search_index), 600 s; nothing forgets them, since they
change only when PostgreSQL gathers them again.

"Listings change" means any listing, organisation, source, opening hours, term or crisis line
(the receivers in providers.signals), and every import or bulk change, whose ``update()`` and bulk
writes send no signals and call ``listings_changed`` themselves. The lifetimes bound staleness
only where processes do not share a cache.

Forgetting happens at the change and again when it commits (``transaction.on_commit``): forgotten
only inside the transaction, a visitor arriving before the commit would read the old rows and store
them again for their whole lifetime.

Besides these, a few pure functions keep their answers per process (``functools.cache``): the
gazetteer (providers.models.places), country names in each language (providers.search.filters),
a provider page's address around its slug (providers.models.provider) and the SQL of
``term_labels`` (providers.search.vocabulary). They depend on code and packages only, never on
data, so nothing needs to forget them.
"""

import functools
import hashlib
import time
import uuid
from typing import NamedTuple

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpResponse

from providers.visitor import language_region


class Version:
    """A version number in the shared cache, naming the current generation of what is built on it."""

    def __init__(self, key, seconds=None):
        self.key = key
        # None: no limit; changes delete the key. A limit bounds staleness where processes share no cache.
        self.seconds = seconds

    def current(self):
        version = cache.get(self.key)
        if version is None:
            # add(), not set(): two processes starting a version at once agree on the first one.
            cache.add(self.key, uuid.uuid4().hex, self.seconds)
            version = cache.get(self.key) or "unshared"
        return version


class Shared:
    """A value computed from the database, kept in the shared cache for ``seconds``."""

    def __init__(self, key, seconds):
        self.key = key
        self.seconds = seconds

    def get(self, load):
        value = cache.get(self.key)
        if value is None:
            value = load()
            cache.set(self.key, value, self.seconds)
        return value


class ProcessCopy:
    """A small table every page needs, kept in each process's memory while ``version`` stays the same.

    A page then reads only the version number; forgetting the version makes every process,
    on every app server sharing the cache, load the table again.
    """

    def __init__(self, version, load):
        self.version = version
        self.load = load
        self._loaded = (None, None)

    def get(self):
        version = self.version.current()
        loaded = self._loaded
        if loaded[0] != version:
            # One assignment, so a thread reading meanwhile sees the old value or the new one.
            loaded = self._loaded = (version, self.load())
        return loaded[1]


class ProcessTimed:
    """Values each process keeps for ``seconds``, one per key, then reads again (nothing forgets them)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self._values = {}

    def get(self, key, load):
        read_at, value = self._values.get(key, (None, None))
        if read_at is None or time.monotonic() - read_at > self.seconds:
            value = load()
            self._values[key] = (time.monotonic(), value)
        return value


PAGES = Version("pages:data-version")
FILTER_CHOICES = Shared("providers:filter-choices", 300)
TOTALS = Shared("providers:totals", 300)
VOCABULARY = Version("providers:vocabulary-version", 3600)
CRISIS_LINES = Version("providers:crisis-lines-version", 3600)
# PostgreSQL's statistics of the keyword index, per database: they change only with ANALYZE.
KEYWORD_STATISTICS = ProcessTimed(600)

# What public pages show of the listings.
LISTINGS = (PAGES, FILTER_CHOICES, TOTALS)


# Sent once a change of the listings is committed and their pages forgotten (providers.signals queues
# the counts beside the search choices to be counted again then).
listings_forgotten = Signal()


def is_shared():
    """Whether every app server reads this cache (Redis), rather than each process its own memory."""
    return not isinstance(caches[DEFAULT_CACHE_ALIAS], (LocMemCache, DummyCache))


def forget(*entries, using=None):
    """Drop ``entries`` now, so that the rest of this transaction reads the change, and again when it
    commits: meanwhile a visitor reading the committed rows may have stored the old ones."""
    keys = [entry.key for entry in entries]
    cache.delete_many(keys)

    def committed():
        cache.delete_many(keys)
        if PAGES in entries:
            listings_forgotten.send(sender=Version, using=using)

    if transaction.get_connection(using).in_atomic_block:
        transaction.on_commit(committed, using=using)
    else:
        committed()


def listings_changed(using=None):
    """Forget everything public pages show of the listings (after imports and bulk changes, and a receiver)."""
    forget(*LISTINGS, using=using)


def cached_page(view):
    """Serve ``view``'s page from the cache when it is the same for every anonymous visitor.

    Only what is the same for every anonymous visitor is stored: GET and HEAD without a
    session cookie (curators, who may see drafts, are never served a stored page) or a
    person's saved list in the address, answers 200 that set no cookie and hold no CSRF
    token. A page whose crisis lines follow the visitor's Accept-Language is stored once
    per language region.
    """

    @functools.wraps(view)
    def serve(request, *args, **kwargs):
        if not _may_use_cache(request):
            return view(request, *args, **kwargs)
        keys = _PageKeys.of(request)
        # Each key holds one kind of value, whatever order visitors come in: the address's page,
        # the mark that the address has a page per region, and this visitor's region's page.
        stored = cache.get_many([keys.page, keys.by_region, keys.region_page])
        if keys.by_region in stored:
            request.varies_on_accept_language = True
            page = stored.get(keys.region_page)
        else:
            page = stored.get(keys.page)
        if page is not None:
            status, content_type, content = page
            return HttpResponse(content, status=status, content_type=content_type)
        response = view(request, *args, **kwargs)
        if _may_store(request, response):
            page = (response.status_code, response["Content-Type"], response.content)
            if getattr(request, "varies_on_accept_language", False):
                entries = {keys.by_region: True, keys.region_page: page}
            else:
                entries = {keys.page: page}
            cache.set_many(entries, settings.PAGE_CACHE_SECONDS)
        return response

    return serve


# The query parameter that carries one person's saved list from page to page (providers/saved_lists.py):
# a page with it is never stored.
SAVED_LIST_PARAMETER = "list"


def _may_use_cache(request):
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and SAVED_LIST_PARAMETER not in request.GET
    )


def _may_store(request, response):
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        # get_token() was called: the page holds a CSRF token meant for this visitor only.
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    )


class _PageKeys(NamedTuple):
    page: str
    by_region: str
    region_page: str

    @classmethod
    def of(cls, request):
        address = "\n".join((request.scheme, request.get_host(), request.LANGUAGE_CODE, request.get_full_path()))
        key = f"pages:{PAGES.current()}:{hashlib.sha256(address.encode()).hexdigest()}"
        region = language_region(request.headers.get("Accept-Language", ""))
        return cls(page=key, by_region=f"{key}:by-region", region_page=f"{key}:region:{region}")
