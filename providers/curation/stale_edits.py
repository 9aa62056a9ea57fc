"""No lost edits: a form that edits a listing is refused when the listing changed after the form was opened.

A form carries, in a hidden field, the version of the listing it shows (``opened_version``): the
listing's ``updated_at``, which every write moves (the admin, imports, bulk actions, merges, reverts,
accepted suggestions, even a writer that records no history), and the id of its newest history
version, which counts a change the clock did not see. When the form comes back, ``changes_since``
locks the listing's row and compares; if the listing changed, it tells from the history who changed
what and when, and the caller saves nothing. Refusing, rather than applying only the fields the form
changed, lets the person decide again on the listing as it is now: the other change may make theirs wrong.

``ListingVersionForm`` does this for a model form of a listing (the admin's; the provider portal's
next); pages that act on a listing without such a form (reverting, accepting a suggestion) call
``opened_version`` and ``changes_since`` themselves. Paths that write only the fields they are about
need no version: bulk actions (``history.update_with_history``) and merges (which fill empty fields
only, under a lock) cannot overwrite another change.
"""

from datetime import datetime
from itertools import pairwise

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from providers.curation import history
from providers.models import Provider

FIELD_NAME = "opened_version"
# A form left open over a week of nightly imports would otherwise bring a page of history.
MOST_TOLD = 5
VALUE_LENGTH = 60


def opened_version(provider):
    """The version of ``provider`` as loaded, for a form showing it to carry and give back to ``changes_since``."""
    # updated_at as the listing was loaded, not as it is now: a change committed after the listing was read
    # and before this query still makes the form stale, though the refusal cannot name it.
    newest = _versions(provider).order_by("-history_id").values_list("history_id", flat=True).first()
    return f"{newest or 0}/{provider.updated_at.isoformat()}"


def changes_since(provider, opened):
    """Who changed what in ``provider`` since the version ``opened`` was given, as a clause; None if nobody did.

    The clause follows "Since you opened this form, ". A form posted without a version is not checked:
    it was opened before forms carried one. Call this inside the transaction that saves the listing:
    it locks the listing's row until then, so that of two forms opened on one version only one is saved.
    """
    if not opened:
        return None
    try:
        opened_id, opened_at = opened.split("/", 1)
        opened_id, opened_at = int(opened_id), datetime.fromisoformat(opened_at)
    except ValueError:
        return "the listing may have changed: this form does not say which version it was opened on"
    # Locked first, so that the versions read next include those of a save that held the lock.
    locked = Provider.objects.select_for_update().filter(pk=provider.pk)
    updated_at = locked.values_list("updated_at", flat=True).first()
    newer = _versions(provider).filter(history_id__gt=opened_id).select_related("history_user")
    newer = list(newer.order_by("history_id"))
    if updated_at == opened_at and not newer:
        return None
    if not newer:
        # Written without recording a version, or committed between the two reads of opened_version.
        return "the listing was changed"
    opened_record = _versions(provider).filter(history_id=opened_id).first()
    names = history.term_names()
    told = [_change(record, older, names) for older, record in pairwise([opened_record, *newer[:MOST_TOLD]])]
    more = len(newer) - MOST_TOLD
    if more > 0:
        told.append(f"{more} more change{'s' if more > 1 else ''} after that (see the listing's history)")
    return "; then ".join(told)


def _versions(provider):
    return Provider.history.filter(id=provider.pk)


def _change(record, older, names):
    """One version as a clause: "curator2 changed main phone (+1… → +1…) on <date> through Admin"."""
    who = record.history_user.get_username() if record.history_user else "someone"
    if record.history_type == "-":
        what = "deleted the listing"
    elif older is None:
        # The listing had no version when the form was opened (it was loaded from a fixture).
        what = "saved the listing"
    else:
        delta = record.diff_against(older, foreign_keys_are_objs=True)
        changes = [
            (Provider._meta.get_field(change.field).verbose_name, *_texts(change.field, change.old, change.new))
            for change in delta.changes
        ]
        changes += history.snapshot_changes(record, older, names)
        # snapshot_changes capitalises its labels, for a table; here they are mid-sentence.
        listed = ", ".join(f"{label[:1].lower()}{label[1:]} ({before} → {after})" for label, before, after in changes)
        what = f"changed {listed}" if listed else "saved the listing unchanged"
    through = f"through {record.get_history_channel_display()}"
    if record.history_change_reason:
        through += f", “{record.history_change_reason}”"
    return f"{who} {what} on {history.when(record)} {through}"


def _texts(name, *values):
    """``values`` of the field ``name`` as a curator reads them."""
    field = Provider._meta.get_field(name)
    texts = []
    for value in values:
        if value is None and isinstance(field, models.BooleanField):
            texts.append("unknown")
        elif value is None or value == "":
            texts.append("empty")
        elif isinstance(value, bool):
            texts.append("yes" if value else "no")
        elif field.choices:
            texts.append(str(dict(field.flatchoices).get(value, value)))
        else:
            texts.append(Truncator(str(value)).chars(VALUE_LENGTH))
    return texts


class VersionField(forms.CharField):
    """The hidden field a listing's form carries its opened version in."""

    widget = forms.HiddenInput

    def has_changed(self, initial, data):
        # The version a form was opened on is no change to the listing (the admin logs changed fields).
        return False


class ListingVersionForm(forms.ModelForm):
    """A model form of a listing that refuses to save it over changes made since the form was opened.

    The refused form comes back with the person's input and the version it was opened on, so saving it
    again is refused again; its message links to the URL named ``reopen_url_name`` (taking the listing's
    id), which opens the listing as it is now.
    """

    reopen_url_name: str

    opened_version = VersionField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.is_bound:
            self.fields[FIELD_NAME].initial = opened_version(self.instance)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None:
            changed = changes_since(self.instance, cleaned.get(FIELD_NAME))
            if changed:
                raise ValidationError(
                    format_html(
                        'Since you opened this form, {}. Nothing was saved. Your input is still below: <a href="{}">'
                        "open the listing as it is now</a> and make your change again.",
                        changed,
                        reverse(self.reopen_url_name, args=[self.instance.pk]),
                    )
                )
        return cleaned
