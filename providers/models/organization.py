import uuid

from django.db import models

from providers.hsds_ids import organization_id


class OrganizationManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Organization(models.Model):
    """The body that runs one or more providers (a health service, an NGO, a ministry)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True, allow_unicode=True)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)
    # Organizations are known by their slug in every exchange format, so their HSDS id follows it.
    hsds_id = models.UUIDField("HSDS organization id", unique=True, null=True, editable=False)

    objects = OrganizationManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def assign_hsds_ids(self):
        self.hsds_id = uuid.UUID(organization_id(self.slug))

    def natural_key(self):
        return (self.slug,)
