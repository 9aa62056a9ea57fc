from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class PendingImport(models.Model):
    """A file uploaded in the admin, waiting for its uploader to confirm the import after the dry run.

    The file lives in the database rather than on disk or in memory because the
    confirming request may reach a different app server.
    """

    # Long enough to read a dry run over lunch; short enough that forgotten uploads do not pile up.
    LIFETIME = timedelta(days=1)

    data = models.BinaryField()
    file_name = models.CharField(max_length=255)
    options = models.JSONField(default=dict, help_text="The ImportOptions chosen on the upload form.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_imports")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.file_name} uploaded by {self.uploaded_by_id} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def expired(self) -> bool:
        return self.created_at < timezone.now() - self.LIFETIME

    @classmethod
    def delete_expired(cls) -> None:
        cls.objects.filter(created_at__lt=timezone.now() - cls.LIFETIME).delete()
