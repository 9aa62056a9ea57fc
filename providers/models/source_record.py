from django.conf import settings
from django.db import models


class SourceRecord(models.Model):
    """What a listing's source last delivered for it: the base of the three-way merge of its next file.

    ``values`` holds each field as the importer last read and cleaned it from the source
    ({field: value}, terms as sorted slug lists, opening hours as [weekday, "HH:MM", "HH:MM"]
    lists, the organization as its slug). A field the partner delivers again unchanged is
    left as curators keep it; a changed one is applied unless curators changed it too, which
    is a conflict (ImportConflict). Its own table, so the listing table that every search
    reads stays narrow.
    """

    provider = models.OneToOneField(
        "providers.Provider", primary_key=True, on_delete=models.CASCADE, related_name="source_record"
    )
    values = models.JSONField(default=dict, help_text="What the source last delivered, field by field.")
    # A hash of the record as read: an unchanged record skips validation and writing.
    fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    locked_fields = models.JSONField(
        default=list,
        blank=True,
        help_text="Fields curators keep: the source's values for them never apply and raise no conflict.",
    )
    missing_since = models.DateTimeField(
        null=True, blank=True, help_text="When a complete file of the source first came without this listing."
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["missing_since"], name="sourcerecord_missing", condition=models.Q(missing_since__isnull=False)
            )
        ]

    def __str__(self):
        return f"What the source last delivered for listing {self.provider_id}"


class ImportConflictQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolution=ImportConflict.Resolution.OPEN)


class ImportConflict(models.Model):
    """A field both the partner and curators changed: the import kept the curators' value."""

    class Resolution(models.TextChoices):
        OPEN = "", "Open"
        KEPT = "kept", "Kept ours"
        TAKEN = "taken", "Took the partner's value"
        SUPERSEDED = "superseded", "Superseded by a later file"

    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="import_conflicts")
    import_run = models.ForeignKey("providers.ImportRun", on_delete=models.CASCADE, related_name="conflicts")
    field = models.CharField(max_length=40)
    our_value = models.JSONField(null=True, help_text="The listing's value, which the import kept.")
    partner_old_value = models.JSONField(null=True, help_text="What the source delivered before.")
    partner_new_value = models.JSONField(null=True, help_text="What the source delivers now.")
    resolution = models.CharField(max_length=10, choices=Resolution.choices, blank=True, default=Resolution.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ImportConflictQuerySet.as_manager()

    class Meta:
        ordering = ["-import_run__started_at", "provider", "field"]
        indexes = [
            models.Index(fields=["provider", "field"], name="importconflict_open", condition=models.Q(resolution=""))
        ]

    def __str__(self):
        return f"{self.field} of listing {self.provider_id} in import run {self.import_run_id}"
