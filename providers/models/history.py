from django.db import models


class ProviderHistoryExtras(models.Model):
    """What django-simple-history's copy of a provider does not hold: how the change came, and the terms.

    Taxonomy terms and opening hours live in other tables; a snapshot of them makes each
    historical record a whole listing, so reverting restores them too.
    """

    class Channel(models.TextChoices):
        ADMIN = "admin", "Admin"
        IMPORT = "import", "Import"
        SUGGESTION = "suggestion", "Suggestion"
        MERGE = "merge", "Merge"
        REVERT = "revert", "Revert"
        OTHER = "other", "Other"

    history_channel = models.CharField("through", max_length=12, choices=Channel.choices, default=Channel.OTHER)
    # {"modalities": ["mat", ...], ...} for every taxonomy field.
    history_terms = models.JSONField("terms", default=dict, blank=True)
    # [[weekday, "HH:MM", "HH:MM"], ...], and so for walk-in hours: history_<HOURS_FIELDS name>.
    history_opening_hours = models.JSONField("opening hours", default=list, blank=True)
    history_walk_in_hours = models.JSONField("walk-in hours", default=list, blank=True)

    class Meta:
        abstract = True
