"""Resolving the conflicts imports record (``ImportConflict``): take the partner's value, or keep ours.

Either way a version of the listing is recorded, naming the conflict, so its history shows
who decided and when. Taking the partner's value is refused when the listing's value is no
longer the one the conflict kept: someone changed it since, and their edit must not be
silently overwritten.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from providers.curation import history
from providers.models import (
    HOURS_FIELDS,
    TAXONOMY_FIELDS,
    WEEK_COLUMNS,
    ImportConflict,
    OpeningInterval,
    Organization,
    Provider,
    weeks,
)

Channel = history.Channel
ORGANIZATION = "organization"


def current_value(provider, field):
    """The listing's value of ``field`` as conflicts hold values (see providers.exchange.three_way)."""
    if field in TAXONOMY_FIELDS.values():
        return sorted(getattr(provider, field).values_list("slug", flat=True))
    if field in HOURS_FIELDS:
        held = weeks(provider.opening_hours.filter(walk_in=HOURS_FIELDS[field]).values_list(*WEEK_COLUMNS))
        return [list(interval) for interval in held.get(provider.pk, {}).get(field, [])]
    if field == ORGANIZATION:
        return provider.organization.slug if provider.organization_id else None
    value = getattr(provider, field)
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "code", value)


def take_partner_value(conflict, user):
    """Give the listing the value the partner sent, as a new version; ValidationError if it cannot be."""
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=conflict.provider_id)
        if current_value(provider, conflict.field) != conflict.our_value:
            raise ValidationError(
                f"The listing's {conflict.field} has changed since this conflict was recorded; "
                "look at the listing as it is now."
            )
        _set(provider, conflict.field, conflict.partner_new_value)
        provider._history_user = user
        provider._history_channel = Channel.ADMIN
        provider._change_reason = f"Conflict #{conflict.pk}: took the partner's {conflict.field}"
        # Saved after the terms and hours changed, so its version holds them.
        provider.save()
        _resolve(conflict, ImportConflict.Resolution.TAKEN, user)


def keep_ours(conflict, user):
    """Settle the conflict for the listing's value; a version records the decision."""
    with transaction.atomic():
        provider = Provider.objects.select_for_update().get(pk=conflict.provider_id)
        history.record_versions(
            [provider],
            user=user,
            channel=Channel.ADMIN,
            reason=f"Conflict #{conflict.pk}: kept our {conflict.field}",
            when=timezone.now(),
        )
        _resolve(conflict, ImportConflict.Resolution.KEPT, user)


def _resolve(conflict, resolution, user):
    conflict.resolution = resolution
    conflict.resolved_by = user
    conflict.resolved_at = timezone.now()
    conflict.save(update_fields=["resolution", "resolved_by", "resolved_at"])


def _set(provider, field, value):
    if field in TAXONOMY_FIELDS.values():
        terms = list(Provider._meta.get_field(field).related_model.objects.filter(slug__in=value))
        missing = sorted(set(value) - {term.slug for term in terms})
        if missing:
            raise ValidationError(f"The term(s) {', '.join(missing)} no longer exist.")
        getattr(provider, field).set(terms)
    elif field in HOURS_FIELDS:
        walk_in = HOURS_FIELDS[field]
        provider.opening_hours.filter(walk_in=walk_in).delete()
        OpeningInterval.objects.bulk_create(
            OpeningInterval(provider=provider, walk_in=walk_in, weekday=weekday, opens=opens, closes=closes)
            for weekday, opens, closes in value
        )
    elif field == ORGANIZATION:
        provider.organization = Organization.objects.filter(slug=value).first() if value else None
    else:
        model_field = Provider._meta.get_field(field)
        setattr(provider, field, model_field.to_python(value))
        try:
            provider.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise ValidationError(error.message_dict.get(field) or error.messages) from None
