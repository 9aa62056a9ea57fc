"""The three-way merge of a partner's record into a listing curators may have corrected.

For each field the record carries there are three values: what the source delivered last
time (the base, kept in ``SourceRecord.values``), what the listing holds now (ours) and
what the source delivers now (theirs):

- theirs equals ours: nothing to do;
- the field is locked on the listing: ours stays, and no conflict is raised;
- theirs equals the base (the partner did not change it): ours stays, whatever curators did;
- ours equals the base (curators did not change it): theirs is applied;
- both changed it: ours stays, and the import records a conflict.

With no remembered value for a field, theirs is applied where the listing's value is blank;
otherwise it is a conflict. ``base_for_unremembered`` says when a listing's own values may
stand in for the base.
"""

import enum
from datetime import date

from providers.models import Provider
from providers.models.history import ProviderHistoryExtras

ORGANIZATION = "organization"


class Outcome(enum.Enum):
    KEEP = "keep"
    APPLY = "apply"
    CONFLICT = "conflict"


ABSENT = object()
Channel = ProviderHistoryExtras.Channel
CURATORS_CHANNELS = {Channel.ADMIN, Channel.SUGGESTION, Channel.MERGE, Channel.REVERT}


def merge(base, ours, theirs, *, locked=False) -> Outcome:
    """What to do with one field; values as ``delivered_value`` gives them, ``base`` may be ABSENT."""
    if theirs == ours or locked:
        return Outcome.KEEP
    if base is ABSENT:
        return Outcome.APPLY if ours in ("", None, []) else Outcome.CONFLICT
    if theirs == base:
        return Outcome.KEEP
    if ours == base:
        return Outcome.APPLY
    return Outcome.CONFLICT


def delivered_value(value):
    """A field's value as ``SourceRecord.values`` keeps it (JSON): countries as codes, dates as ISO text."""
    if isinstance(value, date):
        return value.isoformat()
    code = getattr(value, "code", ABSENT)
    if code is not ABSENT:
        return code or ""
    return value


def trusted_as_base(provider_ids):
    """Of these listings, which have no remembered values, those whose own values may stand in for what
    their source last delivered: the ones whose newest version did not come from a curator (through
    the admin, a suggestion, a merge or a revert), or which have no version.

    A listing a curator changed last may hold corrections: every value its source now sends
    differently is then a conflict, never silently applied.
    """
    model = Provider.history.model
    trusted = set(provider_ids)
    for start in range(0, len(provider_ids), 500):
        chunk = provider_ids[start : start + 500]
        newest = model.objects.filter(id__in=chunk).order_by("id", "-history_id")
        seen = set()
        for pk, channel in newest.values_list("id", "history_channel"):
            if pk not in seen:
                seen.add(pk)
                if channel in CURATORS_CHANNELS:
                    trusted.discard(pk)
    return trusted
