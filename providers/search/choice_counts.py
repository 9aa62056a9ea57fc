"""The number beside every search choice: how many listings it would give with the other filters (issue 19).

The count beside an option of a filter is the number of listings the search gives with that
option as the filter's only value and every other filter as it is. Values of one filter combine
with OR, so a chosen option shows what it brings on its own, and an option not chosen yet what
it would give if it were the filter's only value (the current search itself when the filter has
no value yet). "Any country" and "Any language" show the search without that filter. Counts
beyond ``SEARCH_RESULTS_LISTED`` read "1,000+", as the results do.

How they are counted. Every filter that is not set shares one base, the current results; each
set filter has its own, the search without it: a search has one base per set filter plus one.
Each base is tallied in one query reading the listings' ``term_tokens`` (their country and terms
as words, see providers.models.term_tokens), so one pass counts every country and term at once,
with the telehealth flag as one more token: PostgreSQL splits and groups them, SQLite hands the
words to Python, which splits them in half the time json_each took.

Why the tallies are kept. Counting exactly reads every listing of a base, and the capped count
does not help: under one type of help (a fifth of the listings) nearly every country holds fewer
than the cap, so their counts together read the whole base (at 100,000 listings, one LIMITed
count per option took as long as the tally on SQLite and three times as long on PostgreSQL).
A base narrowed by one or two filters is tens of thousands of listings, 100-400 ms to tally;
those bases are few (the terms and countries, and their pairs) and change only with the data.
So each tally is kept in the shared cache under the pages' data version (providers.caching.PAGES,
which every change of the listings forgets) and the base's filters, for TALLY_SECONDS at most;
the page without filters, and every filter's own counts when it is the only one set, use the
tally of all published listings. A base with "open now" is never kept: what it finds changes by
the minute.

Where the app servers share their cache (Redis), the commonest searches (one value of one
filter, and none) do not wait for their first visitor: once a change of the listings commits, a
task counts their tallies again (``fill_choice_counts``), and tallies are kept until the next
change. A process-local cache cannot share them, so there tallies are counted on first use and
kept TALLY_SECONDS. Measurements: docs/PERFORMANCE.md, "Counts beside every choice (issue 19)"
and "Fast on real data (issue 20)".
"""

import hashlib
from collections import Counter
from itertools import chain

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import QueryDict
from django.utils.formats import number_format
from django.utils.translation import gettext
from django_tasks import task

from providers import caching
from providers.models import TAXONOMY_FIELDS, Provider, term_tokens
from providers.search.filter_fields import SharedChoices
from providers.search.filters import ProviderFilter, filter_choices

COUNTRY = term_tokens.COUNTRY
TELEHEALTH = "telehealth"
# The counted filters: the country, every taxonomy and telehealth.
COUNTED = (COUNTRY, *TAXONOMY_FIELDS, TELEHEALTH)
# The token every row of a tally adds once, so the tally knows its base's size.
ROWS = "*"
# Filters that narrow nothing by themselves.
NOT_NARROWING = {"radius", "sort"}
# How long a tally is kept where processes share no cache (the search choices' lifetime), and where
# they do; a change of the listings forgets it sooner, through the data version in its key.
TALLY_SECONDS = 300
SHARED_TALLY_SECONDS = 24 * 3600
# Set while a fill of the tallies is queued and not yet started: changes meanwhile queue no other. A fill
# no worker takes is forgotten after FILL_QUEUED_SECONDS, so the next change queues another.
FILL_QUEUED = "providers:choice-counts:fill-queued"
FILL_QUEUED_SECONDS = 300


def choice_counts(filterset):
    """{filter: {value: count}} for every counted filter of a bound ``ProviderFilter`` over the published
    listings, each count capped at ``SEARCH_RESULTS_LISTED`` + 1; "" is the search without the filter."""
    cleaned = filterset.form.cleaned_data
    set_filters = {name for name in COUNTED if _narrows(name, cleaned.get(name))}
    tallies = {}
    counts = {}
    for name in COUNTED:
        leaving_out = name if name in set_filters else None
        if leaving_out not in tallies:
            tallies[leaving_out] = _base_tally(filterset, cleaned, leaving_out)
        counts[name] = _counts_of(name, tallies[leaving_out], filterset.term_ids)
    return counts


def fill_one_value_tallies(using=DEFAULT_DB_ALIAS):
    """Count and keep the tallies of the search without filters and of every search for one value of one
    counted filter (each term, country, and telehealth), as their pages would; returns how many searches."""
    choices, _term_ids, _generation = filter_choices()
    searches = [QueryDict(f"{param}={value}") for param in (COUNTRY, *TAXONOMY_FIELDS) for value, _ in choices[param]]
    searches.append(QueryDict(f"{TELEHEALTH}=true"))
    for search in searches:
        filterset = ProviderFilter(search, queryset=Provider.objects.using(using).published())
        if filterset.form.is_valid():
            choice_counts(filterset)
    return len(searches)


def queue_fill(using=DEFAULT_DB_ALIAS):
    """Queue ``fill_choice_counts`` after a change of the listings, unless one is queued and not yet started,
    and only where app servers share the cache the tallies are kept in."""
    if caching.is_shared() and cache.add(FILL_QUEUED, True, FILL_QUEUED_SECONDS):
        fill_choice_counts.enqueue(using)


@task()
def fill_choice_counts(using=DEFAULT_DB_ALIAS):
    """The task: the tallies of the commonest searches, counted before visitors ask (see the module)."""
    cache.delete(FILL_QUEUED)  # a change from now on queues the next fill
    fill_one_value_tallies(using)


def label_choices(filterset, counts):
    """Put each count in its choice's label, so it is read out with it; and on each field a key naming its
    counts (``counts_key``), for the fragments of the page rendered from it."""
    shown = _CountLabels()
    for name, field in filterset.form.fields.items():
        if name not in counts:
            continue
        field_counts = counts[name]
        if name == TELEHEALTH:
            # The form made its bound fields while validating, and each took a copy of its label.
            field.label = filterset.form[name].label = shown(field.label, field_counts.get(True, 0))
            field.counts_key = str(field_counts.get(True, 0))
            continue
        # The choices are the cached ones; the labelled copies are this page's only. "" is "Any …".
        field.choices = SharedChoices(
            [(value, shown(label, field_counts.get(value, 0))) for value, label in field.choices]
        )
        field.counts_key = hashlib.blake2b(repr(sorted(field_counts.items())).encode(), digest_size=8).hexdigest()


def with_count(label, count):
    """ "Outpatient (1,204)", "Faith-based (0)", "Adults (1,000+)" in the page's language."""
    return _CountLabels()(label, count)


class _CountLabels:
    """Labels with their counts, the format and each number translated once per page (a page has 500 choices)."""

    def __init__(self):
        self.cap = settings.SEARCH_RESULTS_LISTED
        self.template = gettext("%(label)s (%(count)s)")
        self.numbers = {}

    def __call__(self, label, count):
        if count not in self.numbers:
            shown = number_format(min(count, self.cap), force_grouping=True)
            self.numbers[count] = shown + "+" if count > self.cap else shown
        return self.template % {"label": label, "count": self.numbers[count]}


def _narrows(name, value):
    return name not in NOT_NARROWING and value not in (None, "", [], ()) and not (name == "open_now" and not value)


def _base_tally(filterset, cleaned, leaving_out):
    """The tally of the search without ``leaving_out`` (None: the search itself), kept in the shared cache
    under the data version and the base's filters (see the module's docstring)."""
    base = {name: value for name, value in cleaned.items() if name != leaving_out and _narrows(name, value)}

    def tally():
        if leaving_out is None:
            return _tally(filterset.qs)
        return _tally(filterset.filter_queryset(filterset.queryset.all(), leaving_out=leaving_out))

    if base.get("open_now"):
        return tally()
    if "near" in base:
        base["radius"] = filterset.radius_km
    described = repr(sorted((name, _canonical(value)) for name, value in base.items()))
    key = f"providers:choice-counts:{caching.PAGES.current()}:{hashlib.blake2b(described.encode()).hexdigest()}"
    return caching.Shared(key, SHARED_TALLY_SECONDS if caching.is_shared() else TALLY_SECONDS).get(tally)


def _canonical(value):
    if isinstance(value, (list, tuple)):
        return tuple(sorted(value))
    if hasattr(value, "place"):  # a resolved place (near)
        return (value.place.latitude, value.place.longitude)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _counts_of(name, tally, term_ids):
    if name == TELEHEALTH:
        return {True: tally.get(TELEHEALTH, 0), "": tally.get(ROWS, 0)}
    if name == COUNTRY:
        prefix = term_tokens.token(COUNTRY, "")
        counts = {token[len(prefix) :].upper(): n for token, n in tally.items() if token.startswith(prefix)}
    else:
        counts = {slug: tally.get(term_tokens.token(name, pk), 0) for slug, pk in term_ids[name].items()}
    counts[""] = tally.get(ROWS, 0)
    return counts


def _tally(queryset):
    """{token: number of ``queryset``'s listings holding it, at most the cap + 1}, with ``ROWS`` (every listing)
    and ``TELEHEALTH`` (those offering it) as tokens, from each listing's ``term_tokens`` in one query."""
    cap = settings.SEARCH_RESULTS_LISTED
    try:
        sql, params = queryset.order_by().values_list("term_tokens", "telehealth").query.sql_with_params()
    except EmptyResultSet:  # a search that can find nothing (a keyword of punctuation only) reads no row
        return {}
    with connections[queryset.db].cursor() as cursor:
        if connections[queryset.db].vendor == "postgresql":
            words = f"base.term_tokens || CASE WHEN base.telehealth THEN ' {TELEHEALTH}' ELSE '' END || ' {ROWS}'"
            split = f"unnest(string_to_array({words}, ' ')) token"
            query = f"SELECT token, COUNT(*) FROM ({sql}) base, {split} GROUP BY token"
            cursor.execute(query, params)
            tally = dict(cursor.fetchall())
        else:
            # SQLite splits no strings; splitting in SQL through json_each took twice as long as here, and
            # the rows as the cursor gives them half as long as through the ORM's iterator.
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            tally = Counter(chain.from_iterable(tokens.split() for tokens, _telehealth in rows))
            tally[ROWS] = len(rows)
            tally[TELEHEALTH] = sum(1 for _tokens, telehealth in rows if telehealth)
    return {token: min(count, cap + 1) for token, count in tally.items() if token and count}
