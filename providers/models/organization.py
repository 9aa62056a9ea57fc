import uuid

from django.db import models

from providers.models.hsds_ids import organization_id


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

    @classmethod
    def from_db(cls, db, field_names, values):
        organization = super().from_db(db, field_names, values)
        organization._stored_name = organization.__dict__.get("name")
        return organization

    def save(self, *args, **kwargs):
        renamed = not self._state.adding and self.name != getattr(self, "_stored_name", self.name)
        super().save(*args, **kwargs)
        self._stored_name = self.name
        if renamed:
            # Keyword search looks through the organisation's name too (see providers.models.keywords).
            self.providers.refresh_search_text()

    def assign_hsds_ids(self):
        self.hsds_id = uuid.UUID(organization_id(self.slug))

    def natural_key(self):
        return (self.slug,)
