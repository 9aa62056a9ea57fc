from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class PendingImport(models.Model):
    """A file uploaded in the admin: its dry run, which a worker runs, then its uploader's confirmation.

    The file lives in the database rather than on disk or in memory because the
    dry run and the import run in a worker, and the confirming request may reach
    a different app server.
    """

    # Long enough to read a dry run over lunch; short enough that forgotten uploads do not pile up.
    LIFETIME = timedelta(days=1)

    data = models.BinaryField()
    file_name = models.CharField(max_length=255)
    options = models.JSONField(default=dict, help_text="The ImportOptions chosen on the upload form.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_imports")
    created_at = models.DateTimeField(auto_now_add=True)
    # The dry run's progress, while a worker runs it.
    checking_since = models.DateTimeField(null=True, blank=True, help_text="When a worker started the dry run.")
    records_read = models.PositiveIntegerField(default=0)
    records_checked = models.PositiveIntegerField(default=0)
    dry_run = models.JSONField(
        null=True,
        blank=True,
        help_text="What the dry run found, as its page shows it ({'error': ...} if it failed); empty until it ends.",
    )

    def __str__(self):
        return f"{self.file_name} uploaded by {self.uploaded_by_id} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def expired(self) -> bool:
        return self.created_at < timezone.now() - self.LIFETIME

    @property
    def importable(self) -> bool:
        """Whether its dry run has ended finding something to import, and nothing that blocks it."""
        found = self.dry_run or {}
        return found.get("has_changes", False) and not found.get("blocked", True)

    @property
    def dry_run_lost(self) -> bool:
        """Whether its dry run started and has not ended within IMPORT_TIME_LIMIT: its worker was stopped or lost.

        Worked out when asked rather than written down, so the page that asks every few seconds writes nothing.
        """
        if self.dry_run is not None or self.checking_since is None:
            return False
        return self.checking_since < timezone.now() - timedelta(seconds=settings.IMPORT_TIME_LIMIT)

    @classmethod
    def delete_expired(cls) -> None:
        cls.objects.filter(created_at__lt=timezone.now() - cls.LIFETIME).delete()
