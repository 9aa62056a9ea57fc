from django.conf import settings
from django.db import models


class Suggestion(models.Model):
    """A correction to a listing, or a new provider, sent by anyone from the public site, waiting for a curator."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction to a listing"
        NEW_PROVIDER = "new-provider", "New provider"

    class Problem(models.TextChoices):
        CLOSED = "closed", "It has closed or moved away"
        PHONE = "phone", "The phone number is wrong"
        ADDRESS = "address", "The address is wrong"
        SERVICES = "services", "The services or hours are wrong"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    # The listing fields a visitor may propose values for; the curator applies them on acceptance.
    PROPOSABLE_FIELDS = (
        "name", "phone", "website", "email", "street_address", "city", "region", "postal_code", "country", "description",
    )  # fmt: skip
    MESSAGE_MAX_LENGTH = 2000

    kind = models.CharField(max_length=20, choices=Kind.choices)
    provider = models.ForeignKey(
        "providers.Provider", null=True, blank=True, on_delete=models.CASCADE, related_name="suggestions"
    )
    problem = models.CharField("what is wrong", max_length=20, choices=Problem.choices, blank=True)
    message = models.TextField(blank=True, max_length=MESSAGE_MAX_LENGTH)
    proposed = models.JSONField(
        default=dict, blank=True, help_text="Proposed values by field name (PROPOSABLE_FIELDS)."
    )
    contact_email = models.EmailField(blank=True, help_text="Only for a curator's question; never shown publicly.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviewed_suggestions"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    created_provider = models.ForeignKey(
        "providers.Provider",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The draft listing an accepted new-provider suggestion became.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"], name="suggestion_status_created")]

    def __str__(self):
        subject = self.provider.name if self.provider_id else self.proposed.get("name", "a new provider")
        return f"{self.get_kind_display()}: {subject}"
