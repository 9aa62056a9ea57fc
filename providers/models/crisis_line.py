"""Emergency numbers and crisis or addiction helplines, shown on every page.

Every page needs the lines of one country, so each process keeps the whole
(small) table in memory (providers.caching.CRISIS_LINES).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from providers import caching
from providers.models.fields import CountryCodeField
from providers.models.phones import normalise_phone

# 988, 112, 116 123, 3114: dialled as they are, never with a country code.
SHORT_CODE_MAX_DIGITS = 6


def _digits(phone: str) -> str:
    return "".join(char for char in phone if char.isdigit())


class CrisisLineManager(models.Manager):
    def get_by_natural_key(self, country, name):
        return self.get(country=country, name=name)

    def by_country(self) -> dict[str, list["CrisisLine"]]:
        """{country code: its lines in order}; "" holds the international fallback."""
        return _LINES.get()

    def for_country(self, *codes: str) -> list["CrisisLine"]:
        """The lines of the first of ``codes`` that has any, else the international fallback."""
        lines = self.by_country()
        for code in codes:
            if code and lines.get(code.upper()):
                return lines[code.upper()]
        return lines.get("", [])


def _load_lines():
    lines = {}
    for line in CrisisLine.objects.order_by("order", "pk"):
        lines.setdefault(line.country.code or "", []).append(line)
    return lines


_LINES = caching.ProcessCopy(caching.CRISIS_LINES, _load_lines)


class CrisisLine(models.Model):
    class Kind(models.TextChoices):
        EMERGENCY = "emergency", _("Emergency number")
        CRISIS = "crisis", _("Crisis line")
        ADDICTION = "addiction", _("Addiction helpline")

    country = CountryCodeField(blank=True, help_text="Leave empty for the line shown where no country has its own.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=120)
    phone = models.CharField(
        max_length=40,
        blank=True,
        help_text="As dialled inside the country: 988, 116 123, 0300 123 6600. "
        "Empty only for the international fallback, which links to its source instead.",
    )
    hours = models.CharField(max_length=120, blank=True, help_text="e.g. 24/7, or Monday to Friday 9:00–17:00.")
    notes = models.CharField(
        max_length=300, blank=True, help_text="Shown on the list of all lines, e.g. text or chat options."
    )
    source_url = models.URLField("source", help_text="An official or authoritative page giving this number.")
    checked_on = models.DateField(
        null=True,
        blank=True,
        help_text="When a curator last compared the number with its source; empty until someone has.",
    )
    order = models.PositiveSmallIntegerField(
        default=0, help_text="Lower numbers are shown first; the first three appear on every page."
    )

    objects = CrisisLineManager()

    class Meta:
        ordering = ["country", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["country", "name"], name="crisis_line_unique_name")]

    def __str__(self):
        return f"{self.name} ({self.country.code or 'international'})"

    def natural_key(self):
        return (self.country.code, self.name)

    def clean(self):
        if self.country and not self.phone:
            raise ValidationError({"phone": "A country's line needs a phone number."})
        if self.phone and len(_digits(self.phone)) > SHORT_CODE_MAX_DIGITS:
            normalise_phone(self.phone, self.country.code)

    @property
    def dial(self) -> str:
        """What a tel: link dials: E.164 for full numbers, the short code itself otherwise."""
        digits = _digits(self.phone)
        if len(digits) <= SHORT_CODE_MAX_DIGITS:
            return digits
        try:
            return normalise_phone(self.phone, self.country.code)
        except ValidationError:
            return digits

    @property
    def tel_href(self) -> str:
        return f"tel:{self.dial}" if self.phone else ""
