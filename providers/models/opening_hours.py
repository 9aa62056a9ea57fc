from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# A listing's two weeks of hours, by the name records, imports, history and conflicts give each -> its
# intervals' ``walk_in``.
HOURS_FIELDS = {"opening_hours": False, "walk_in_hours": True}
# The columns ``weeks`` reads, as values_list gives them.
WEEK_COLUMNS = ("provider_id", "walk_in", "weekday", "opens", "closes")


def weeks(rows):
    """{provider id: {HOURS_FIELDS name: [(weekday, "HH:MM", "HH:MM"), ...] in order}} of (provider id,
    walk_in, weekday, opens, closes) rows: the form records, imports, history and conflicts hold hours in."""
    names = {walk_in: name for name, walk_in in HOURS_FIELDS.items()}
    held = {}
    for provider_id, walk_in, weekday, opens, closes in rows:
        held.setdefault(provider_id, {}).setdefault(names[walk_in], []).append(
            (weekday, f"{opens:%H:%M}", f"{closes:%H:%M}")
        )
    return {provider_id: {name: sorted(week) for name, week in named.items()} for provider_id, named in held.items()}


class OpeningIntervalManager(models.Manager):
    def get_by_natural_key(self, provider_slug, walk_in, weekday, opens):
        return self.get(provider__slug=provider_slug, walk_in=walk_in, weekday=weekday, opens=opens)


class OpeningInterval(models.Model):
    """One stretch of a provider's weekly opening hours, in the provider's own time zone.

    A day may have several intervals; a day with none is closed. An interval
    that closes at or before it opens runs past midnight; 00:00 to 00:00 is
    open all day. Walk-in intervals are a second week of the same shape: when a
    person can come without an appointment or referral.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="At or before the opening time means the next day; 00:00 to 00:00 is 24 hours.")
    walk_in = models.BooleanField(
        "walk-in hours",
        default=False,
        help_text="When a person can come without an appointment, rather than when the place is open.",
    )

    objects = OpeningIntervalManager()

    class Meta:
        ordering = ["weekday", "opens"]
        indexes = [models.Index(fields=["weekday", "opens"], name="openinginterval_day_opens")]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "walk_in", "weekday", "opens"],
                name="openinginterval_unique_start",
                violation_error_message="This day already has an interval opening at that time.",
            )
        ]

    def __str__(self):
        text = f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"
        return f"{text} (walk-in)" if self.walk_in else text

    def natural_key(self):
        # The fields of openinginterval_unique_start: fixtures load hours by listing, kind, day and opening time.
        return (*self.provider.natural_key(), self.walk_in, self.weekday, self.opens)

    natural_key.dependencies = ["providers.provider"]

    def clean(self):
        opens, closes = self.opens, self.closes
        # A time that failed field validation is still the raw text here; that error is already reported.
        if not isinstance(opens, time) or not isinstance(closes, time):
            return
        errors = {
            name: "Enter a time in whole minutes (HH:MM)."
            for name, value in (("opens", opens), ("closes", closes))
            if value.second or value.microsecond
        }
        if opens == closes and opens != time(0):
            errors.setdefault(
                "closes",
                "An interval cannot close when it opens; for a day open around the clock enter 00:00 to 00:00.",
            )
        if errors:
            raise ValidationError(errors)
