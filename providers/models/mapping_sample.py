from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from providers.models.source import Source


class MappingSample(models.Model):
    """A sample of a partner's export uploaded in the admin, and the mapping a curator is building from it.

    The admin's mapping builder is several plain forms, one request each: the sample and the draft live
    in the database between them because app servers share nothing else.
    """

    # A mapping is built in one sitting; a forgotten sample should not stay longer than a day.
    LIFETIME = timedelta(days=1)

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="mapping_samples")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mapping_samples")
    file_name = models.CharField(max_length=255)
    data = models.BinaryField()
    draft = models.JSONField(
        default=dict, blank=True, help_text="The mapping being built (docs/IMPORT.md, Mappings), perhaps incomplete."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.file_name} for {self.source_id}, uploaded by {self.uploaded_by_id}"

    @property
    def expired(self) -> bool:
        return self.created_at < timezone.now() - self.LIFETIME

    @classmethod
    def keep(cls, **fields) -> "MappingSample":
        """A new sample; older ones than LIFETIME go, so forgotten samples do not pile up."""
        cls.objects.filter(created_at__lt=timezone.now() - cls.LIFETIME).delete()
        return cls.objects.create(**fields)
