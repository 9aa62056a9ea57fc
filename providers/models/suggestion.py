import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from providers.models import phones
from providers.models.history import ProviderHistoryExtras
from providers.models.provider import PHONE_FIELDS, Provider

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProposedValue:
    """One row of a curator's comparison: a listing field, its current value and the proposed one."""

    field: str
    label: str
    current: str
    proposed: str
    differs: bool


class Suggestion(models.Model):
    """A correction to a listing, or a new provider, sent by anyone from the public site, waiting for a curator."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction to a listing"
        NEW_PROVIDER = "new-provider", "New provider"

    class Problem(models.TextChoices):
        CLOSED = "closed", _("It has closed or moved away")
        PHONE = "phone", _("The phone number is wrong")
        ADDRESS = "address", _("The address is wrong")
        SERVICES = "services", _("The services or hours are wrong")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    # The listing fields a visitor may propose values for; the curator applies them on acceptance.
    PROPOSABLE_FIELDS = (
        "name", "phone", "website", "email", "street_address",
        "city", "region", "postal_code", "country", "description",
    )  # fmt: skip
    MESSAGE_MAX_LENGTH = 2000

    kind = models.CharField(max_length=20, choices=Kind.choices)
    provider = models.ForeignKey(
        "providers.Provider", null=True, blank=True, on_delete=models.CASCADE, related_name="suggestions"
    )
    problem = models.CharField(_("what is wrong"), max_length=20, choices=Problem.choices, blank=True)
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

    @property
    def admin_url(self):
        return reverse("admin:providers_suggestion_change", args=[self.pk])

    def proposed_values(self):
        """The proposed values, PROPOSABLE_FIELDS only and in their order; blanks mean "no change"."""
        values = {}
        for field in self.PROPOSABLE_FIELDS:
            value = self.proposed.get(field)
            if isinstance(value, str) and value.strip():
                values[field] = value.strip()
        return values

    def comparison(self):
        """Every proposable field: the listing's current value beside the proposed one.

        A phone counts as unchanged when it is the same number written another
        way, so the curator's eye goes to real differences only.
        """
        proposed = self.proposed_values()
        provider = self.provider if self.kind == self.Kind.CORRECTION else None
        country = (proposed.get("country") or (provider.country.code if provider else "")) or None
        rows = []
        for field in self.PROPOSABLE_FIELDS:
            current = str(getattr(provider, field) or "") if provider else ""
            new = proposed.get(field, "")
            if field == "country":
                current = provider.country.name if provider else ""
                new = countries.name(new) if new else ""
            rows.append(
                ProposedValue(
                    field=field,
                    label=str(Provider._meta.get_field(field).verbose_name),
                    current=current,
                    proposed=new,
                    differs=bool(new) and not _same_value(field, current, new, country),
                )
            )
        return rows

    def accept(self, curator, note=""):
        """Apply the proposed values to the listing, or create a draft listing from them, in one transaction.

        The listing's own validation runs first (it normalises phones, for one);
        a ValidationError leaves the listing and the suggestion as they were.
        Returns the provider changed or created.
        """
        with transaction.atomic():
            self._lock_pending()
            values = self.proposed_values()
            if self.kind == self.Kind.NEW_PROVIDER:
                provider = Provider(status=Provider.Status.DRAFT, **values)
            else:
                # A fresh copy: a refused suggestion must not leave its values on self.provider.
                provider = Provider.objects.select_for_update().get(pk=self.provider_id)
                for field, value in values.items():
                    setattr(provider, field, value)
                if self.problem == self.Problem.CLOSED:
                    provider.status = Provider.Status.ARCHIVED
            provider.full_clean()
            provider._history_user = curator
            provider._history_channel = ProviderHistoryExtras.Channel.SUGGESTION
            provider._change_reason = f"Suggestion #{self.pk}"
            provider.save()
            if self.kind == self.Kind.NEW_PROVIDER:
                self.created_provider = provider
            self._reviewed(self.Status.ACCEPTED, curator, note)
        return provider

    def reject(self, curator, note):
        """Close the suggestion without changing the listing; the note says why, for other curators."""
        with transaction.atomic():
            self._lock_pending()
            self._reviewed(self.Status.REJECTED, curator, note)

    def _lock_pending(self):
        # The row lock makes a double-clicked "Accept" apply the values once.
        status = Suggestion.objects.select_for_update().values_list("status", flat=True).get(pk=self.pk)
        if status != self.Status.PENDING:
            raise ValidationError(f"This suggestion was already {self.Status(status).label.lower()}.")

    def _reviewed(self, status, curator, note):
        self.status = status
        self.reviewed_by = curator
        self.reviewed_at = timezone.now()
        self.review_note = note
        self.save()

    @staticmethod
    def curator_emails():
        """Where news of a suggestion goes: active curators and superusers with an email address."""
        users = get_user_model().objects.filter(Q(groups__name="Curators") | Q(is_superuser=True), is_active=True)
        return sorted(set(users.exclude(email="").values_list("email", flat=True)))

    def notify_curators(self, change_url):
        """Email the curators a link to review this suggestion; a mail failure is logged, never raised.

        The mail names the listing and the problem only: the visitor's message and
        email address stay in the directory's database.
        """
        recipients = self.curator_emails()
        if not recipients:
            return
        # One line: the subject may hold a name a visitor typed, and a header cannot hold a line break.
        subject = " ".join(str(self).split())
        lines = [f"A suggestion from the public is waiting: {subject}."]
        if self.problem:
            lines.append(f"What is wrong: {self.get_problem_display()}.")
        lines += ["", f"Review it: {change_url}"]
        try:
            send_mail(f"New suggestion: {subject}", "\n".join(lines), None, recipients)
        except OSError:  # smtplib's errors included
            # Whatever the mail server did, the suggestion is saved and waits in the admin queue.
            logger.exception("Could not email curators about suggestion #%s", self.pk)


def _same_value(field, current, proposed, country):
    if field in PHONE_FIELDS:
        try:
            return phones.normalise_phone(proposed, country) == current
        except ValidationError:
            return False
    return proposed.casefold() == current.strip().casefold()
