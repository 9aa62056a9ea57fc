from django.conf import settings
from django.db import models


class SourceManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Source(models.Model):
    """Where listings come from: a partner or a public data set."""

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

    objects = SourceManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)
