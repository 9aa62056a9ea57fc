"""Taxonomies: small curator-editable vocabularies that providers are tagged with.

Each is its own table with the same shape (slug, name, description, order),
so curators can add terms and names can be translated without a code change.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language

from providers.models.validators import validate_language_code


def translated_name(name, translations, language=None):
    """``name`` as ``translations`` (a term's name_translations) give it in ``language``, else ``name``."""
    language = language or get_language() or settings.LANGUAGE_CODE
    return (translations or {}).get(language) or name


class TermManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Term(models.Model):
    slug = models.SlugField(max_length=60, unique=True, help_text="Stable identifier used in URLs and data exchange.")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers are listed first.")
    name_translations = models.JSONField(
        "translated names",
        default=dict,
        blank=True,
        help_text="The name in each of the site's other languages; the English name shows where one is missing.",
    )

    objects = TermManager()

    class Meta:
        abstract = True
        ordering = ["order", "name"]

    def __str__(self):
        return self.name

    def translated_name(self, language=None):
        """The name in ``language`` (default: the active one), else the English name."""
        return translated_name(self.name, self.name_translations, language)

    def natural_key(self):
        return (self.slug,)


class Modality(Term):
    class Meta(Term.Meta):
        verbose_name_plural = "modalities"


class CareSetting(Term):
    class Meta(Term.Meta):
        verbose_name = "care setting"


class EntryRoute(Term):
    """How a person gets in: walking in, by appointment, by referral."""

    class Meta(Term.Meta):
        verbose_name = "way in"
        verbose_name_plural = "ways in"


class Medication(Term):
    pass


class PaymentOption(Term):
    class Meta(Term.Meta):
        verbose_name = "payment option"


class Population(Term):
    class Meta(Term.Meta):
        verbose_name = "population served"
        verbose_name_plural = "populations served"


class Language(Term):
    slug = models.SlugField(
        "ISO 639-1 code",
        max_length=2,
        unique=True,
        validators=[validate_language_code],
        help_text="Two-letter ISO 639-1 code, such as en or es.",
    )
