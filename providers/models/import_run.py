from django.conf import settings
from django.db import models


class ImportRun(models.Model):
    """One import of a partner file: who ran it, what it changed and what it rejected."""

    class Outcome(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PARTIAL = "partial", "Succeeded, some records rejected"
        FAILED = "failed", "Failed, nothing written"

    source = models.ForeignKey(
        "providers.Source",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_runs",
        help_text="Empty when the file named its own sources.",
    )
    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=20)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_runs"
    )
    started_by_name = models.CharField(
        "started by", max_length=150, blank=True, help_text="The account or system user that ran the import."
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    conflicts_kept = models.PositiveIntegerField(
        "conflicts",
        default=0,
        help_text="Fields both the partner and curators changed: the curators' values were kept.",
    )
    missing = models.PositiveIntegerField(default=0, help_text="The source's listings this file did not hold.")
    archived = models.PositiveIntegerField(default=0, help_text="Missing listings archived at the importer's request.")
    # Progress, while the run is queued or running.
    records_read = models.PositiveIntegerField(default=0)
    records_planned = models.PositiveIntegerField(default=0)
    records_written = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="One line per problem found.")
    warnings = models.JSONField(
        default=list, blank=True, help_text="One line per value set aside (blanked) so its record could be imported."
    )
    unmapped_terms = models.JSONField(
        default=dict, blank=True, help_text="Source vocabulary with no mapping, and how often it occurred."
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-started_at"], name="importrun_started")]

    def __str__(self):
        return f"{self.file_name} ({self.format}) at {self.started_at:%Y-%m-%d %H:%M}"
