from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class SourceQuerySet(models.QuerySet):
    def feeds_due(self, now=None):
        """The sources whose feed is scheduled and due to be pulled at ``now``."""
        now = now or timezone.now()
        return (
            self.exclude(feed_url="")
            .exclude(feed_schedule="")
            .filter(models.Q(feed_next_pull__isnull=True) | models.Q(feed_next_pull__lte=now))
        )


class SourceManager(models.Manager.from_queryset(SourceQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Source(models.Model):
    """Where listings come from: a partner or a public data set."""

    class FeedSchedule(models.TextChoices):
        HOURLY = "hourly", "Every hour"
        DAILY = "daily", "Every day"
        WEEKLY = "weekly", "Every week"

    FEED_INTERVALS = {
        FeedSchedule.HOURLY: timedelta(hours=1),
        FeedSchedule.DAILY: timedelta(days=1),
        FeedSchedule.WEEKLY: timedelta(days=7),
    }
    # A failed pull is tried again after this, doubled at each further failure, never later than its schedule.
    FEED_FIRST_RETRY = timedelta(minutes=5)

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    url = models.URLField("website", blank=True)
    description = models.TextField(blank=True, help_text="Provenance and licence of the data.")
    partner_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="partner_sources",
        help_text="Partner importers who may import this source's files and edit its listings.",
    )
    mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text="How the source's own export reads as our listings (docs/IMPORT.md, Mappings); "
        "empty when its files are in one of our formats.",
    )
    feed_url = models.URLField(
        "feed",
        max_length=500,
        blank=True,
        help_text="The URL of the source's file (CSV, JSON or .zip), or the base URL of its HSDS API.",
    )
    feed_schedule = models.CharField(
        max_length=10,
        choices=FeedSchedule.choices,
        blank=True,
        help_text="How often sync_sources pulls the feed; empty: only when someone imports it.",
    )
    feed_next_pull = models.DateTimeField(
        null=True, blank=True, help_text="When the feed is next due; empty: at the next sync."
    )
    feed_failures = models.PositiveSmallIntegerField(
        default=0, editable=False, help_text="Pulls that failed in a row; each waits longer before the next try."
    )
    # What the feed's server said of the file last pulled, sent back so an unchanged file is not sent again.
    feed_etag = models.CharField(max_length=200, blank=True, editable=False)
    feed_last_modified = models.CharField(max_length=100, blank=True, editable=False)
    feed_modified_through = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="For an HSDS API: every listing it changed up to this time has been pulled.",
    )

    objects = SourceManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)

    def clean(self):
        if self.feed_schedule and not self.feed_url:
            raise ValidationError({"feed_schedule": "A schedule needs a feed to pull."})

    def next_pull_after(self, pulled_at, *, failed: bool):
        """When the feed is due again after a pull at ``pulled_at``; ``feed_failures`` counts this one if it failed."""
        interval = self.FEED_INTERVALS.get(self.feed_schedule, self.FEED_INTERVALS[self.FeedSchedule.DAILY])
        if not failed:
            return pulled_at + interval
        return pulled_at + min(self.FEED_FIRST_RETRY * 2 ** max(self.feed_failures - 1, 0), interval)
