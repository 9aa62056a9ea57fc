from django.db import models


class OrganizationManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Organization(models.Model):
    """The body that runs one or more providers (a health service, an NGO, a ministry)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True, allow_unicode=True)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)

    objects = OrganizationManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)
