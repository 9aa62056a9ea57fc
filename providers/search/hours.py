"""Opening hours: whether a provider is open at a moment, when that changes, and its week.

Hours are wall-clock times in the provider's own time zone (``Provider.time_zone``). An
interval that closes at or before it opens ends the next day, so 22:00–02:00 runs past
midnight and 00:00–00:00 is a whole day. Both the Python status and the database filter
compare local wall-clock times, never instants, so they agree on every day, daylight saving
changes included: on the day the clocks go forward an opening time inside the skipped hour
counts as reached once the clock has jumped past it, and nothing builds a local time that
does not exist.

Walk-in hours are a second week of the same shape (``OpeningInterval.walk_in``), read the same
way; "open now" asks only the opening hours.

A provider with no intervals has unknown hours, not a closed door. A provider with hours
but no time zone is read in UTC: a fallback only, since the time zone is filled from the
coordinates.
"""

import operator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import reduce
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, OuterRef, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from providers.models import OpeningInterval
from providers.models.validators import available_time_zones

UTC = ZoneInfo("UTC")
MIDNIGHT = time(0)
DAY_NAMES = tuple(label for _value, label in OpeningInterval.Weekday.choices)
ONE_DAY = timedelta(days=1)
# Yesterday (whose overnight hours may still run), today and the seven days after it:
# enough to find the next opening of any weekly schedule.
WINDOW_DAYS = 9


def provider_zone(name: str) -> ZoneInfo:
    """The zone opening hours are read in: the provider's, or UTC when it has none we know."""
    return ZoneInfo(name) if name in available_time_zones() else UTC


def clock_text(value: time) -> str:
    return value.strftime("%H:%M")


def interval_text(interval) -> str:
    return f"{clock_text(interval.opens)}–{clock_text(interval.closes)}"


def is_all_day(interval) -> bool:
    return interval.opens == MIDNIGHT and interval.closes == MIDNIGHT


@dataclass(frozen=True)
class OpenStatus:
    """Open or closed at one moment, and what changes next; ``is_open`` is None when the hours are unknown."""

    is_open: bool | None
    change: str = ""

    @property
    def is_known(self) -> bool:
        return self.is_open is not None

    @property
    def label(self) -> str:
        if self.is_open is None:
            return ""
        return _("Open now") if self.is_open else _("Closed")


UNKNOWN = OpenStatus(None)


@dataclass(frozen=True)
class DayHours:
    """One row of the weekly table: "Closed", "Open 24 hours" or the day's intervals."""

    weekday: int
    name: str
    text: str
    is_today: bool = False


class OpeningHours:
    """A provider's weekly intervals (anything with ``weekday``, ``opens`` and ``closes``) in its time zone."""

    def __init__(self, intervals, time_zone: str = ""):
        self.intervals = sorted(intervals, key=lambda interval: (interval.weekday, interval.opens))
        self.zone = provider_zone(time_zone)

    @property
    def is_known(self) -> bool:
        return bool(self.intervals)

    def local_clock(self, now: datetime) -> datetime:
        """``now`` as the provider's naive wall-clock time."""
        return now.astimezone(self.zone).replace(tzinfo=None)

    def is_open(self, now: datetime) -> bool | None:
        return self.status(now).is_open

    def status(self, now: datetime) -> OpenStatus:
        if not self.intervals:
            return UNKNOWN
        clock = self.local_clock(now)
        today = clock.date()
        start, end = next(block for block in self._blocks(today - ONE_DAY) if clock < block[1])
        if start <= clock:
            return OpenStatus(True, _closing_text(start, end, today))
        return OpenStatus(False, _opening_text(start, today))

    def week(self, now: datetime | None = None) -> list[DayHours]:
        """Monday to Sunday, today marked when ``now`` is given; empty when the hours are unknown."""
        if not self.intervals:
            return []
        today = self.local_clock(now).weekday() if now else None
        return [
            DayHours(weekday, DAY_NAMES[weekday], _day_text(self._starting_on(weekday)), weekday == today)
            for weekday in range(7)
        ]

    def _starting_on(self, weekday):
        return [interval for interval in self.intervals if interval.weekday == weekday]

    def _occurrences(self, first_day: date):
        for offset in range(WINDOW_DAYS):
            day = first_day + timedelta(days=offset)
            for interval in self._starting_on(day.weekday()):
                closing_day = day + ONE_DAY if interval.closes <= interval.opens else day
                yield datetime.combine(day, interval.opens), datetime.combine(closing_day, interval.closes)

    def _blocks(self, first_day: date):
        """Stretches of continuous opening, in order: overlapping or touching intervals joined."""
        blocks = []
        for start, end in sorted(self._occurrences(first_day)):
            if blocks and start <= blocks[-1][1]:
                blocks[-1] = (blocks[-1][0], max(blocks[-1][1], end))
            else:
                blocks.append((start, end))
        return blocks


def _closing_text(start: datetime, end: datetime, today: date) -> str:
    midnight = datetime.combine(today, MIDNIGHT)
    if start <= midnight and end >= midnight + ONE_DAY:
        return _("open 24 hours")
    # A closing at midnight ends the day before it, so 18:00–00:00 "closes 00:00" today.
    closing_day = (end - timedelta(microseconds=1)).date()
    if closing_day == today:
        return _("closes %(time)s") % {"time": clock_text(end.time())}
    if closing_day == today + ONE_DAY:
        return _("closes tomorrow %(time)s") % {"time": clock_text(end.time())}
    return _("closes %(day)s %(time)s") % {"day": DAY_NAMES[closing_day.weekday()], "time": clock_text(end.time())}


def _opening_text(start: datetime, today: date) -> str:
    if start.date() == today:
        return _("opens %(time)s") % {"time": clock_text(start.time())}
    return _("opens %(day)s %(time)s") % {"day": DAY_NAMES[start.weekday()], "time": clock_text(start.time())}


def _day_text(intervals) -> str:
    if not intervals:
        return _("Closed")
    if any(is_all_day(interval) for interval in intervals):
        return _("Open 24 hours")
    return ", ".join(interval_text(interval) for interval in intervals)


def attach_hours(providers, now: datetime | None = None):
    """Set ``open_status`` and ``opening_week``, and ``walk_in_status`` and ``walk_in_week``, on every provider,
    loading all their hours in one query."""
    providers = list(providers)
    prefetch_related_objects(providers, "opening_hours")
    now = now or timezone.now()
    for provider in providers:
        intervals = provider.opening_hours.all()
        hours = OpeningHours([interval for interval in intervals if not interval.walk_in], provider.time_zone)
        provider.open_status, provider.opening_week = hours.status(now), hours.week(now)
        walk_in = OpeningHours([interval for interval in intervals if interval.walk_in], provider.time_zone)
        provider.walk_in_status, provider.walk_in_week = walk_in.status(now), walk_in.week(now)
    return providers


def open_now_filter(queryset, now: datetime):
    """The providers of ``queryset`` open at ``now``, decided by the database.

    One query lists the time zones of the providers with hours; each zone then gets a
    condition on its own local weekday and time, so the filter costs the same for three
    providers or thirty thousand.
    """
    has_hours = Exists(OpeningInterval.objects.filter(provider=OuterRef("pk"), walk_in=False))
    zones = list(queryset.filter(has_hours).order_by().values_list("time_zone", flat=True).distinct())
    if not zones:
        return queryset.none()
    return queryset.filter(reduce(operator.or_, (_open_in_zone(zone, now) for zone in zones)))


def _open_in_zone(zone: str, now: datetime) -> Q:
    local = now.astimezone(provider_zone(zone))
    open_intervals = OpeningInterval.objects.filter(_intervals_open_at(local.weekday(), local.time()), walk_in=False)
    return Q(time_zone=zone) & Exists(open_intervals.filter(provider=OuterRef("pk")))


def _intervals_open_at(weekday: int, clock: time) -> Q:
    """Intervals open at ``clock`` on ``weekday``: begun today, or begun yesterday and running past midnight."""
    overnight = Q(closes__lte=F("opens"))
    begun_today = Q(weekday=weekday, opens__lte=clock) & (Q(closes__gt=clock) | overnight)
    from_yesterday = Q(weekday=(weekday - 1) % 7, closes__gt=clock) & overnight
    return begun_today | from_yesterday
