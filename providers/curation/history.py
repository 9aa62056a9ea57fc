"""A provider's history: every change, with who made it, when, through what, and the whole listing.

django-simple-history records a version of the provider's own fields whenever it is saved.
This module adds what that copy lacks (ProviderHistoryExtras): the channel the change came
through and a snapshot of the listing's terms and opening hours, which live in other tables.
Code that saves a provider may set, before saving:

- ``provider._history_user``: who made the change;
- ``provider._history_channel``: a ``Channel`` (the admin sets ``admin``);
- ``provider._change_reason``: why, in a few words ("Suggestion #12").

Bulk paths that bypass ``save()`` record their versions here too: the admin's actions
(``update_with_history``) and the importer.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator, capfirst

from providers import caching
from providers.models import HOURS_FIELDS, TAXONOMY_FIELDS, WEEK_COLUMNS, OpeningInterval, Provider, weeks
from providers.models.history import ProviderHistoryExtras
from providers.search.vocabulary import term_labels

Channel = ProviderHistoryExtras.Channel
WEEKDAYS = {day.value: day.label[:3] for day in OpeningInterval.Weekday}


def snapshots(ids):
    """{provider id: (terms, hours)} as stored now, in two queries, in the form versions keep them; hours are
    the ``history_<name>`` values of each HOURS_FIELDS week."""
    labels = term_labels(ids)
    held = weeks(OpeningInterval.objects.filter(provider_id__in=ids).values_list(*WEEK_COLUMNS))
    return {
        pk: (
            {field: sorted(term.slug for term in terms) for field, terms in labels[pk].items()},
            {
                f"history_{name}": [list(interval) for interval in held.get(pk, {}).get(name, [])]
                for name in HOURS_FIELDS
            },
        )
        for pk in ids
    }


def fill_history_extras(sender, instance, history_instance, **kwargs):
    """pre_create_historical_record: the channel and the terms and hours of the version being saved."""
    history_instance.history_channel = getattr(instance, "_history_channel", Channel.OTHER)
    if history_instance.history_change_reason:
        # The column holds 100 characters; a longer reason would fail the save it describes.
        history_instance.history_change_reason = Truncator(history_instance.history_change_reason).chars(100)
    # A listing being created has no terms or hours yet, and a deleted one has none left.
    if history_instance.history_type == "~":
        terms, hours = snapshots([instance.pk])[instance.pk]
        history_instance.history_terms = terms
        for column, intervals in hours.items():
            setattr(history_instance, column, intervals)


def record_terms_and_hours(provider):
    """Put the provider's current terms and hours into its newest version.

    For code that saves the provider before its terms and hours, as the admin does: the
    version ``save()`` recorded holds the ones from before.
    """
    # The newest by id, not by date: the one just saved, whatever the clock says.
    versions = Provider.history.filter(id=provider.pk).order_by("-history_id")
    newest = versions.values_list("history_id", flat=True).first()
    terms, hours = snapshots([provider.pk])[provider.pk]
    Provider.history.filter(history_id=newest).update(history_terms=terms, **hours)


def version(provider, terms, hours, **extras):
    """An unsaved historical record of ``provider`` as it is in memory, with these terms and hours (as
    ``snapshots`` gives them)."""
    model = Provider.history.model
    values = {field.attname: getattr(provider, field.attname) for field in model.tracked_fields}
    return model(**values, history_terms=terms, **hours, **extras)


def update_with_history(listings, *, user, channel, reason, **values):
    """``listings.update(**values)`` that also records a version of each listing, in a few queries per 500.

    ``update()`` sends no signals, so django-simple-history would record nothing.
    Returns the number of listings updated.
    """
    with transaction.atomic(using=listings.db):
        providers = list(listings)
        now = timezone.now()
        # Batches keep each statement under SQLite's limit on parameters.
        for start in range(0, len(providers), 500):
            batch = providers[start : start + 500]
            Provider.objects.filter(pk__in=[provider.pk for provider in batch]).update(updated_at=now, **values)
            for provider in batch:
                for name, value in {**values, "updated_at": now}.items():
                    setattr(provider, name, value)
            record_versions(batch, user=user, channel=channel, reason=reason, when=now)
        # update() sends no signals.
        caching.listings_changed(using=listings.db)
    return len(providers)


def record_versions(providers, *, user, channel, reason, when):
    """Record a version of each of ``providers`` (changed, not created) as they are in memory, in bulk."""
    stored = snapshots([provider.pk for provider in providers])
    Provider.history.model.objects.bulk_create(
        [
            version(
                provider,
                *stored[provider.pk],
                history_type="~",
                history_date=when,
                history_user=user,
                history_channel=channel,
                history_change_reason=reason,
            )
            for provider in providers
        ],
        batch_size=500,
    )


def revert(record, user):
    """Restore the listing as ``record`` holds it, its terms and opening hours included, as a new version.

    The version is validated as the admin validates a listing, with its terms looked up by
    slug; if it no longer passes (a term deleted since, a slug taken by another listing),
    this raises ValidationError and changes nothing.
    """
    restored = record.instance
    restored._state.adding = False  # so that its own slug does not count as taken
    for name in ("verified_by", "merged_into", "last_import_run"):
        field = Provider._meta.get_field(name)
        linked = getattr(restored, field.attname)
        # These links were emptied on the listing when what they point to was deleted (SET_NULL); so here.
        if linked is not None and not field.related_model.objects.filter(pk=linked).exists():
            setattr(restored, field.attname, None)
    errors = {}
    terms = {}
    for field in TAXONOMY_FIELDS.values():
        slugs = record.history_terms.get(field, [])
        found = list(Provider._meta.get_field(field).related_model.objects.filter(slug__in=slugs))
        missing = sorted(set(slugs) - {term.slug for term in found})
        if missing:
            errors[field] = [f"The term “{slug}” has been deleted since this version." for slug in missing]
        terms[field] = found
    try:
        restored.full_clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        restored._history_user = user
        restored._history_channel = Channel.REVERT
        restored._change_reason = f"Reverted to the version of {when(record)}"
        restored.save()
        for field, found in terms.items():
            getattr(restored, field).set(found)
        restored.opening_hours.all().delete()
        OpeningInterval.objects.bulk_create(
            OpeningInterval(provider=restored, walk_in=walk_in, weekday=weekday, opens=opens, closes=closes)
            for name, walk_in in HOURS_FIELDS.items()
            for weekday, opens, closes in getattr(record, f"history_{name}")
        )
        record_terms_and_hours(restored)
    return restored


def when(record):
    """The date and time of a version, as the admin names it."""
    return date_format(timezone.localtime(record.history_date), "DATETIME_FORMAT")


def snapshot_changes(newer, older, names):
    """(label, before, after) for each taxonomy and the opening hours that differ between two versions.

    ``names`` is term_names(); a term deleted since shows as its slug.
    """
    changes = []
    for field in TAXONOMY_FIELDS.values():
        before, after = (set(record.history_terms.get(field, [])) for record in (older, newer))
        if before != after:
            label = capfirst(Provider._meta.get_field(field).verbose_name)
            changes.append((label, _terms_text(before, names[field]), _terms_text(after, names[field])))
    for name in HOURS_FIELDS:
        before, after = (getattr(record, f"history_{name}") for record in (older, newer))
        if before != after:
            changes.append((hours_label(name), _hours_text(before), _hours_text(after)))
    return changes


def hours_label(name):
    """ "Opening hours" or "Walk-in hours", for a HOURS_FIELDS name."""
    return capfirst(Provider.history.model._meta.get_field(f"history_{name}").verbose_name)


def term_names():
    """{taxonomy field: {slug: name}} of every term, to show snapshots by name."""
    return {
        field: dict(Provider._meta.get_field(field).related_model.objects.values_list("slug", "name"))
        for field in TAXONOMY_FIELDS.values()
    }


def _terms_text(slugs, names):
    return ", ".join(sorted(names.get(slug, slug) for slug in slugs)) or "none"


def _hours_text(hours):
    return ", ".join(f"{WEEKDAYS[weekday]} {opens}–{closes}" for weekday, opens, closes in hours) or "none"
