"""Import provider records: validate everything, then write everything, or nothing.

Phase one builds each provider from its record and runs the model's own
validation (the same ``full_clean`` the admin runs), merges it with what is
stored under (source, external id) field by field (``three_way``: curators'
corrections survive, conflicts are recorded) and sorts it into created / updated /
unchanged / rejected. A record whose fingerprint matches what its source delivered
last time is unchanged without being validated again. Phase two writes every
accepted change in one transaction. A dry run stops after phase one.
"""

import getpass
import hashlib
import json
import multiprocessing
import os
import pickle
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.text import slugify

from providers.caching import listings_changed
from providers.exchange import bulk_sql, three_way
from providers.exchange.records import (
    ORGANIZATION_FIELDS,
    SCALAR_FIELDS,
    TERM_FIELDS,
    ImportFileError,
    Record,
    no_cyclic_garbage_collection,
)
from providers.models import (
    HOURS_FIELDS,
    TAXONOMY_FIELDS,
    WEEK_COLUMNS,
    ImportConflict,
    ImportRun,
    OpeningInterval,
    Organization,
    Provider,
    Source,
    SourceRecord,
    keywords,
    places,
    term_tokens,
    weeks,
)
from providers.models.history import ProviderHistoryExtras
from providers.models.naming import first_free
from providers.search.planner_statistics import refresh_statistics

# Model fields the importer does not validate per record: it sets or checks them itself, once per file.
_NOT_VALIDATED = ["id", "slug", "organization", "source", "last_import_run", "created_at", "updated_at"]
Channel = ProviderHistoryExtras.Channel
# What a record may say about its organization besides the slug that identifies it.
ORGANIZATION_DETAILS = ("name", "website", "description")
# Those an organization may lack: an invalid one is set aside, not a reason to reject the record.
OPTIONAL_ORGANIZATION_DETAILS = ("website", "description")
# The message the database constraint would give, for a record that repeats an opening time.
_DUPLICATE_START = next(
    constraint.violation_error_message
    for constraint in OpeningInterval._meta.constraints
    if constraint.name == "openinginterval_unique_start"
)
# Part of every fingerprint: a change to how records are read into listings must plan every record again.
FINGERPRINT_VERSION = "1"
# What happens to a source's listings that a complete file no longer holds.
MISSING_FLAG = "flag"
MISSING_ARCHIVE = "archive"


@dataclass
class ImportOptions:
    source: str = ""
    country: str = ""
    status: str = ""
    dry_run: bool = False
    skip_invalid: bool = False
    # Reject a record for any invalid value, instead of setting an invalid optional value aside.
    strict: bool = False
    # MISSING_FLAG or MISSING_ARCHIVE.
    missing: str = MISSING_FLAG
    # The file holds only some of the source's listings: none is missing from it.
    partial: bool = False
    file_name: str = ""
    format: str = ""
    user: object = None
    # Plan large files in forked processes: for the command line only, never inside a web request,
    # whose server process (threads, open connections) must not be forked.
    parallel: bool = False
    # A run recorded before the import started (a queued background import): filled in, with
    # progress, instead of a new one.
    run: ImportRun | None = None


@dataclass
class Conflict:
    field: str
    ours: object
    partner_old: object
    partner_new: object


@dataclass
class Change:
    record: Record | None
    provider: Provider
    # The listing's fields this import changes.
    changed_fields: list = field(default_factory=list)
    terms: dict = field(default_factory=dict)
    # The provider's new intervals by HOURS_FIELDS name; a name absent leaves those stored hours alone.
    hours: dict = field(default_factory=dict)
    # The organization the listing is linked to (ORGANIZATION_FIELDS, {} for none); None leaves it alone.
    organization: dict | None = None
    # What the record says of its organization, with invalid optional details set aside.
    organization_details: dict | None = None
    # What the source delivers now, as SourceRecord.values keeps it, and the record's fingerprint.
    delivered: dict = field(default_factory=dict)
    fingerprint: str = ""
    conflicts: list = field(default_factory=list)
    # (field, the value set aside, why) for each invalid optional value blanked.
    warnings: list = field(default_factory=list)


@dataclass
class Missing:
    """A listing of the file's source that the file does not hold."""

    pk: int
    external_id: str
    name: str
    source_id: int
    has_source_record: bool


@dataclass
class ImportReport:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: int = 0
    # Records that change no listing but change what their source delivered (a kept or locked field).
    remembered: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    unmapped: Counter = field(default_factory=Counter)
    new_sources: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    # Changes archiving missing listings (--missing archive).
    archived: list = field(default_factory=list)
    run: ImportRun | None = None
    written: bool = False

    @property
    def error_lines(self) -> list[str]:
        return [
            f"{_record_label(record)}: {name}: {message}"
            for record, errors in self.rejected
            for name, message in errors
        ]

    @property
    def conflicts(self) -> list[tuple[Record, Conflict]]:
        return [(change.record, conflict) for change in self.updated + self.remembered for conflict in change.conflicts]

    @property
    def conflict_lines(self) -> list[str]:
        return [
            f"{_record_label(record)}: {conflict.field}: kept ours {_shown(conflict.ours)}; "
            f"the partner's was {_shown(conflict.partner_old)}, now {_shown(conflict.partner_new)}"
            for record, conflict in self.conflicts
        ]

    @property
    def warning_lines(self) -> list[str]:
        return [
            f"{_record_label(change.record)}: {name}{'' if value is None else ' ' + _shown(value)} set aside: {message}"
            for change in self.created + self.updated + self.remembered
            for name, value, message in change.warnings
        ]

    @property
    def has_changes(self) -> bool:
        return bool(self.created or self.updated or self.remembered or self.archived)


def _record_label(record):
    return f"record {record.number} (external id {record.external_id or '-'})"


def _shown(value):
    if value is None or value == "" or value == []:
        return "(blank)"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return repr(value) if isinstance(value, str) else str(value)


def fingerprint(record, options):
    """A hash of everything the import reads from ``record`` and the options that change what it makes of it."""
    content = (
        FINGERPRINT_VERSION,
        options.country,
        options.status,
        options.strict,
        record.values,
        record.terms,
        record.organization,
        record.opening_hours,
        record.walk_in_hours,
        record.slug,
    )
    # Pickling plain values is byte-for-byte repeatable, and several times faster than repr().
    return hashlib.blake2b(pickle.dumps(content, protocol=5), digest_size=16).hexdigest()


# Above this many listings to load, one query per table for the whole source beats queries by id.
_LOAD_BY_SOURCE_ABOVE = 5000


class _Context:
    """What validation needs from the database, loaded once per import rather than once per record.

    Every listing of the file's sources is read lightly (id, external id, fingerprint); only
    those whose record changed, or which are to be archived, are loaded whole, with their
    terms, hours and what their source delivered last.
    """

    def __init__(self, records, options):
        self.options = options
        self.sources = {source.slug: source for source in Source.objects.all()}
        self.term_ids = {}
        for name in TERM_FIELDS:
            model = Provider._meta.get_field(name).related_model
            self.term_ids[name] = dict(model.objects.values_list("slug", "pk"))
        self.term_slugs = {name: {pk: slug for slug, pk in ids.items()} for name, ids in self.term_ids.items()}
        self.organizations = {org.slug: org for org in Organization.objects.all()}
        self.organization_slugs = {org.pk: slug for slug, org in self.organizations.items()}
        self.blank_provider = Provider()
        self.field_names = [field.name for field in Provider._meta.concrete_fields]
        self.attnames = [field.attname for field in Provider._meta.concrete_fields if field.name != "source"]
        self.validated_when_new = {name for name in self.field_names if name not in _NOT_VALIDATED}
        self.optional = {field.name for field in Provider._meta.concrete_fields if field.blank}
        self.cleaned = {}
        self.first_record = {}
        for record in records:
            self.first_record.setdefault((options.source or record.source, record.external_id), record.number)
        self.file_sources = {slug for slug, _external_id in self.first_record} - {""}
        self.known = [self.sources[slug] for slug in self.file_sources if slug in self.sources]
        self.listed = self._listed()
        self.unchanged, self.returning, to_load, in_file = set(), [], [], set()
        for record in records:
            source = self.sources.get(options.source or record.source)
            if source is None or source.pk is None:
                continue
            key = (source.pk, record.external_id)
            in_file.add(key)
            listed = self.listed.get(key)
            if listed is None:
                continue
            pk, stored_fingerprint, missing_since = listed
            if not record.errors and stored_fingerprint == fingerprint(record, options):
                self.unchanged.add(record.number)
                if missing_since is not None:
                    self.returning.append(pk)
            else:
                to_load.append(pk)
        self.missing = self._missing(in_file)
        if options.missing == MISSING_ARCHIVE:
            to_load += [listing.pk for listing in self.missing]
        self.existing = {
            (provider.source_id, provider.external_id): provider for provider in self._load(Provider.objects, to_load)
        }
        self.source_records = {record.pk: record for record in self._load(SourceRecord.objects, to_load, by="provider")}
        without = [pk for pk in to_load if pk not in self.source_records]
        self.trusted = three_way.trusted_as_base(without) if without else set()
        self.existing_by_pk = {provider.pk: provider for provider in self.existing.values()}
        # When each was loaded as it stood: a listing changed since is not written over (_drop_changed_meanwhile).
        self.loaded_at = {pk: provider.updated_at for pk, provider in self.existing_by_pk.items()}
        self.existing_terms = self._existing_terms(to_load)
        self.existing_hours = self._existing_hours(to_load)
        self.checked_intervals = {}

    def _listed(self):
        """{(source id, external id): (listing id, fingerprint, missing since)} of the file's sources."""
        if not self.known:
            return {}
        rows = (
            Provider.objects.filter(source__in=self.known)
            .exclude(external_id="")
            .values_list("source_id", "external_id", "pk", "source_record__fingerprint", "source_record__missing_since")
        )
        return {(source_id, external_id): rest for source_id, external_id, *rest in rows}

    def _missing(self, in_file):
        """The file's sources' listings, not archived, that the file does not hold (none for a partial file)."""
        if self.options.partial or not self.known:
            return []
        absent = [key for key in self.listed if key not in in_file]
        if not absent:
            return []
        ids = [self.listed[key][0] for key in absent]
        missing = []
        for start in range(0, len(ids), 500):
            rows = (
                Provider.objects.filter(pk__in=ids[start : start + 500])
                .exclude(status=Provider.Status.ARCHIVED)
                .values_list("pk", "external_id", "name", "source_id", "source_record__pk")
            )
            missing += [
                Missing(pk, external_id, name, source, record is not None)
                for pk, external_id, name, source, record in rows
            ]
        return sorted(missing, key=lambda listing: (listing.name, listing.pk))

    def _batches(self, manager, ids, by="provider"):
        """Querysets of ``manager``'s rows for the listings ``ids`` (the field ``by`` names them): by id,
        500 at a time, or for many, one for the whole source, whose rows the caller picks by id."""
        if len(ids) > _LOAD_BY_SOURCE_ABOVE:
            return [manager.filter(**{"source__in" if by == "pk" else f"{by}__source__in": self.known})]
        return [manager.filter(**{f"{by}__in": ids[start : start + 500]}) for start in range(0, len(ids), 500)]

    def _load(self, manager, ids, by="pk"):
        """Rows of ``manager`` for the listings ``ids``."""
        wanted, id_name = set(ids), "pk" if by == "pk" else f"{by}_id"
        return [row for batch in self._batches(manager, ids, by) for row in batch if getattr(row, id_name) in wanted]

    def _existing_terms(self, ids):
        terms = {pk: {name: set() for name in TERM_FIELDS} for pk in ids}
        for name in TERM_FIELDS:
            relation = Provider._meta.get_field(name)
            column = relation.m2m_reverse_field_name() + "_id"
            for batch in self._batches(relation.remote_field.through.objects, ids):
                for provider_id, term_id in batch.values_list("provider_id", column):
                    if provider_id in terms:
                        terms[provider_id][name].add(term_id)
        return terms

    def _existing_hours(self, ids):
        """{listing id: {HOURS_FIELDS name: its intervals as records give them, in order}}."""
        wanted = set(ids)
        rows = (
            row
            for batch in self._batches(OpeningInterval.objects, ids)
            for row in batch.values_list(*WEEK_COLUMNS)
            if row[0] in wanted
        )
        return weeks(rows)

    def source_for(self, slug, report):
        if slug not in self.sources:
            # A new source is created with the import (or only announced by a dry run).
            self.sources[slug] = Source(slug=slug, name=slug)
            report.new_sources.append(slug)
        return self.sources[slug]

    def base(self, provider):
        """What ``provider``'s source delivered last, field by field, as the merge compares it.

        A listing without remembered values that only imports have changed counts as holding them.
        """
        stored = self.source_records.get(provider.pk)
        if stored is not None and stored.values:
            return stored.values
        if provider.pk in self.trusted:
            return self.ours(provider)
        return {}

    def locked(self, provider):
        stored = self.source_records.get(provider.pk)
        return set(stored.locked_fields) if stored is not None else set()

    def ours(self, provider):
        """The listing's values as the merge compares them."""
        values = {name: three_way.delivered_value(getattr(provider, name)) for name in SCALAR_FIELDS}
        stored_terms = self.existing_terms.get(provider.pk, {})
        for name in TERM_FIELDS:
            values[name] = sorted(self.term_slugs[name][pk] for pk in stored_terms.get(name, ()))
        stored_hours = self.existing_hours.get(provider.pk, {})
        for name in HOURS_FIELDS:
            values[name] = [list(interval) for interval in stored_hours.get(name, [])]
        values[three_way.ORGANIZATION] = self.organization_slugs.get(provider.organization_id)
        return values


def import_records(records, options: ImportOptions, progress=None) -> ImportReport:
    """Validate ``records`` and, unless this is a dry run or a record is invalid, write them.

    ``progress``, when given, is called with the number of records validated so far.
    """
    records = list(records)
    started_at = timezone.now()
    run = options.run
    if run is not None:
        ImportRun.objects.filter(pk=run.pk).update(records_read=len(records))
    report = ImportReport()
    # Loading what is stored, planning and writing build objects by the hundred thousand, all alive
    # until the end: the collector would only scan them.
    with no_cyclic_garbage_collection():
        context = _Context(records, options)
        for slug in sorted(context.file_sources):
            if slugify(slug) == slug:
                context.source_for(slug, report)
        for record in records:
            report.unmapped.update(record.unmapped)
        report.unchanged = len(context.unchanged)
        report.missing = context.missing
        for record, change, errors in _plan_all(records, context, _progress_reporter(options, progress)):
            if errors:
                report.rejected.append((record, errors))
            elif change is None:
                report.unchanged += 1
            elif change.provider.pk is None:
                report.created.append(change)
            elif change.changed_fields:
                report.updated.append(change)
            else:
                report.unchanged += 1
                report.remembered.append(change)
    if options.missing == MISSING_ARCHIVE:
        report.archived = [_archiving(listing, context) for listing in context.missing]
    if options.dry_run:
        return report
    if report.rejected and not options.skip_invalid:
        report.run = _record_run(report, options, started_at, ImportRun.Outcome.FAILED, context)
        return report
    with transaction.atomic(), bulk_sql.roomy_page_cache(), no_cyclic_garbage_collection():
        for source in context.sources.values():
            if source.pk is None:
                source.save()
        report.run = _record_run(report, options, started_at, ImportRun.Outcome.RUNNING, context)
        _write(report, context)
        outcome = ImportRun.Outcome.PARTIAL if report.rejected else ImportRun.Outcome.SUCCEEDED
        _record_run(report, options, started_at, outcome, context, run=report.run)
    listings_changed()
    report.written = True
    return report


# How often a recorded run's progress is saved: often enough to watch, rarely enough to cost nothing.
_PROGRESS_EVERY = 1000


def _progress_reporter(options, progress):
    run = options.run

    def report(done, total):
        if progress and (done % 500 == 0 or done == total):
            progress(done)
        if run is not None and (done % _PROGRESS_EVERY == 0 or done == total):
            ImportRun.objects.filter(pk=run.pk).update(records_planned=done)

    return report


def _archiving(listing, context):
    """The change that archives a listing missing from its source's complete file."""
    existing = context.existing[(listing.source_id, listing.external_id)]
    provider = _copy(existing)
    provider.status = Provider.Status.ARCHIVED
    return Change(None, provider, ["status"])


# Below this many records, starting processes costs more than it saves.
PARALLEL_MIN_RECORDS = 4000
# Planning in forked processes reads these; set only while a pool runs.
_FORKED_WORK = None


def _plan_all(records, context, progress):
    """(record, change, errors) for every record not known unchanged, in file order.

    Large files are planned in one forked process per processor: validation is
    pure computation on data loaded before the fork (the database is never used
    there), and it is most of an import's time.
    """
    records = [record for record in records if record.number not in context.unchanged]
    workers = min(len(os.sched_getaffinity(0)), 8)
    forking = context.options.parallel and "fork" in multiprocessing.get_all_start_methods()
    if not forking or len(records) < PARALLEL_MIN_RECORDS or workers < 2:
        for done, record in enumerate(records, start=1):
            progress(done, len(records))
            yield (record, *_plan(record, context))
        return
    global _FORKED_WORK
    _FORKED_WORK = (records, context)
    size = -(-len(records) // workers)
    bounds = [(start, start + size) for start in range(0, len(records), size)]
    mine = bounds[0][1]
    try:
        # This process plans the first slice itself, keeping its changes as they are, while the forked
        # ones plan the rest.
        with multiprocessing.get_context("fork").Pool(len(bounds) - 1) as pool:
            others = pool.map_async(_plan_chunk, bounds[1:])
            planned = [(record, *_plan(record, context)) for record in records[:mine]]
            sent = [result for chunk in others.get() for result in chunk]
    finally:
        _FORKED_WORK = None
    progress(len(records), len(records))
    yield from planned
    options = context.options
    for record, (plain, errors) in zip(records[mine:], sent, strict=True):
        change = None
        if plain is not None:
            values, change = plain
            source = context.sources[options.source or record.source]
            existing = context.existing.get((source.pk, record.external_id)) if source.pk else None
            provider = _copy(context.blank_provider if existing is None else existing)
            provider.__dict__.update(values)
            provider.source = source
            change.record, change.provider = record, provider
        yield record, change, errors


def _plan_chunk(bounds):
    """Plan a slice of the records; send back plain values, which pickle far faster than models."""
    records, context = _FORKED_WORK
    start, stop = bounds
    results = []
    for record in records[start:stop]:
        change, errors = _plan(record, context)
        if change is None:
            results.append((None, errors))
        else:
            values = {name: change.provider.__dict__[name] for name in context.attnames}
            change.record = change.provider = None
            results.append(((values, change), errors))
    return results


def _plan(record, context):
    """The change ``record`` asks for, and its errors.

    A stored listing's change is what the three-way merge (``three_way``) leaves of the record.
    """
    options = context.options
    errors, set_aside = [], []
    for name, message in record.errors:
        # What the reader could not read at all for an optional field is set aside like an invalid value.
        if name in context.optional and not options.strict:
            set_aside.append((name, None, message))
        else:
            errors.append((name, message))
    source_slug = options.source or record.source
    if not source_slug:
        errors.append(("source", "no source given; name one with --source"))
    elif slugify(source_slug) != source_slug:
        errors.append(("source", f"{source_slug!r} is not a valid source slug"))
    if not record.external_id:
        errors.append(("external_id", "is required to match the record on a later import"))
    first = context.first_record.get((source_slug, record.external_id), record.number)
    if record.external_id and first != record.number:
        errors.append(("external_id", f"{record.external_id!r} already appears in record {first}"))
    if errors:
        return None, errors

    source = context.sources[source_slug]
    existing = context.existing.get((source.pk, record.external_id)) if source.pk else None
    provider = _copy(context.blank_provider if existing is None else existing)
    values = dict(record.values)
    if options.country and not values.get("country"):
        values["country"] = options.country
    # An empty status means the file does not say: a new listing is published, a stored one keeps its status.
    if options.status:
        values["status"] = options.status
    elif not values.get("status"):
        values.pop("status", None)
        if existing is None:
            values["status"] = Provider.Status.PUBLISHED
    provider.source = source
    provider.external_id = record.external_id
    for name, _value, _message in set_aside:
        values.pop(name, None)
    field_errors, warnings, values = _validate(provider, values, existing is None, context)
    errors.extend(field_errors)
    warnings = set_aside + warnings

    terms = {}
    for name, slugs in record.terms.items():
        ids = context.term_ids[name]
        unknown = [slug for slug in slugs if slug not in ids]
        if unknown:
            errors.append((name, "unknown term(s) " + ", ".join(unknown)))
        terms[name] = {ids[slug] for slug in slugs if slug in ids}
    organization = record.organization
    if organization:
        organization, organization_errors, organization_warnings = _check_organization(organization, options.strict)
        errors.extend(organization_errors)
        warnings += organization_warnings
    hours = {}
    for name in HOURS_FIELDS:
        if (intervals := getattr(record, name)) is not None:
            hours[name], hour_errors = _check_hours(name, intervals, context)
            errors.extend(hour_errors)
    if errors:
        return None, errors

    delivered = {name: three_way.delivered_value(getattr(provider, name)) for name in values}
    for name, ids in terms.items():
        delivered[name] = sorted(context.term_slugs[name][pk] for pk in ids)
    for name, intervals in hours.items():
        delivered[name] = [list(interval) for interval in intervals]
    if organization is not None:
        delivered[three_way.ORGANIZATION] = _organization_slug(organization)
    change = Change(
        record,
        provider,
        terms=terms,
        hours=hours,
        organization=organization,
        organization_details=organization,
        delivered=delivered,
        fingerprint=fingerprint(record, options),
        warnings=warnings,
    )
    if existing is None:
        change.changed_fields = list(values) + [name for name, intervals in hours.items() if intervals]
        _derive_time_zone(change)
        return change, []
    _merge(change, existing, context)
    if existing.merged_into_id is not None:
        # A listing merged into another lives on in its keeper: its record must not become a second public listing.
        provider.status = Provider.Status.ARCHIVED
    _derive_time_zone(change)
    changed = [name for name in SCALAR_FIELDS if getattr(provider, name) != getattr(existing, name)]
    stored_terms = context.existing_terms.get(existing.pk, {})
    changed += [name for name, ids in change.terms.items() if ids != stored_terms.get(name, set())]
    stored_hours = context.existing_hours.get(existing.pk, {})
    changed += [name for name, intervals in change.hours.items() if intervals != stored_hours.get(name, [])]
    current_organization = context.organization_slugs.get(existing.organization_id)
    if change.organization is not None and _organization_slug(change.organization) != current_organization:
        changed.append("organization")
    change.changed_fields = changed
    change.terms = {name: ids for name, ids in change.terms.items() if name in changed}
    change.hours = {name: intervals for name, intervals in change.hours.items() if name in changed}
    if "organization" not in changed:
        change.organization = None
    return change, []


def _merge(change, existing, context):
    """Leave on ``change`` only what the three-way merge applies; keep ours, and note conflicts, elsewhere."""
    base, ours, locked = context.base(existing), context.ours(existing), context.locked(existing)
    for name, theirs in change.delivered.items():
        outcome = three_way.merge(base.get(name, three_way.ABSENT), ours[name], theirs, locked=name in locked)
        if outcome is three_way.Outcome.APPLY:
            continue
        if outcome is three_way.Outcome.CONFLICT:
            change.conflicts.append(Conflict(name, ours[name], base.get(name), theirs))
        if name in SCALAR_FIELDS:
            setattr(change.provider, name, getattr(existing, name))
        elif name in TERM_FIELDS:
            del change.terms[name]
        elif name in HOURS_FIELDS:
            del change.hours[name]
        else:
            change.organization = None


def _derive_time_zone(change):
    provider = change.provider
    if any(change.hours.values()) and not provider.time_zone and provider.has_coordinates:
        # Hours mean nothing without a zone. Derived only then: loading the gazetteer costs a second.
        provider.time_zone = places.time_zone_at(provider.latitude, provider.longitude)


def _check_hours(name, intervals, context):
    """The record's intervals as stored ("HH:MM" text, in order), and an error for each the model refuses.

    Each distinct interval is validated once per import: a file repeats the same few many times.
    """
    checked, errors, starts = [], [], set()
    for interval in intervals:
        if interval not in context.checked_intervals:
            context.checked_intervals[interval] = _check_interval(*interval)
        stored, message = context.checked_intervals[interval]
        if message:
            errors.append((name, f"{_interval_label(*interval)}: {message}"))
        elif stored[:2] in starts:
            errors.append((name, f"{_interval_label(*interval)}: {_DUPLICATE_START}"))
        else:
            starts.add(stored[:2])
            checked.append(stored)
    return sorted(checked), errors


def _check_interval(weekday, opens, closes):
    interval = OpeningInterval(weekday=weekday, opens=opens, closes=closes)
    try:
        interval.full_clean(exclude=["provider"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        messages = (message for field_messages in error.message_dict.values() for message in field_messages)
        return None, " ".join(dict.fromkeys(messages))
    return (interval.weekday, f"{interval.opens:%H:%M}", f"{interval.closes:%H:%M}"), ""


def _interval_label(weekday, opens, closes):
    day = OpeningInterval.Weekday(weekday).label if weekday in OpeningInterval.Weekday.values else weekday
    return f"{day} {opens}-{closes}"


def _validate(provider, values, is_new, context):
    """Set ``values`` on ``provider`` and validate it as ``full_clean`` would: (errors, warnings, values).

    An invalid value of an optional field the record carries is set aside (blanked), with a
    warning, so the listing is still imported; ``ImportOptions.strict`` rejects the record instead.
    ``values`` comes back with those fields blanked.
    """
    errors = _field_errors(provider, values, is_new, context)
    warnings = []
    while errors and not context.options.strict:
        set_aside = {
            name: messages
            for name, messages in errors.items()
            if name in context.optional and values.get(name) not in (None, "")
        }
        for one, other in (("latitude", "longitude"), ("longitude", "latitude")):
            # A point needs both coordinates: one missing or set aside takes the other with it.
            if one in errors and other not in set_aside and values.get(other) is not None:
                set_aside[other] = [f"{one}: {' '.join(errors[one])}"]
        if not set_aside:
            break
        warnings += [(name, values[name], " ".join(messages)) for name, messages in set_aside.items()]
        values = {**values, **{name: None if not _is_text(name) else "" for name in set_aside}}
        errors = _field_errors(provider, values, is_new, context)
    return [(name, message) for name, messages in errors.items() for message in messages], warnings, values


def _field_errors(provider, values, is_new, context):
    """{field: [message]} of the model's validation of ``values`` set on ``provider``.

    Field validation depends on the value alone, so a value already accepted
    in this file (a country, a status, a city) is taken from ``context.cleaned``
    instead of being validated again. A stored listing's fields the record does
    not carry were validated when they were stored. ``Provider.clean()``, which
    looks across fields (phones against the country), always runs.
    """
    to_validate = {}
    for name, value in values.items():
        if value is None and _is_text(name):
            value = ""
        cleaned = context.cleaned.get((name, value), _UNSEEN)
        if cleaned is _UNSEEN:
            to_validate[name] = value
            cleaned = value
        setattr(provider, name, cleaned)
    # A new listing's fields the record leaves out hold defaults, which must still pass (a blank name does not).
    validated = to_validate.keys() | (context.validated_when_new - values.keys() if is_new else set())
    errors = {}
    try:
        # A set: clean_fields looks each of the model's fields up in it.
        provider.clean_fields(exclude={name for name in context.field_names if name not in validated})
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    for name, value in to_validate.items():
        if name not in errors:
            context.cleaned[(name, value)] = getattr(provider, name)
    try:
        provider.clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    return ValidationError(errors).message_dict if errors else {}


_UNSEEN = object()


NOT_TEXT_FIELDS = frozenset(
    {"latitude", "longitude", "address_hidden", "telehealth", "accepting_new_clients", "last_verified"}
)


def _is_text(name):
    return name not in NOT_TEXT_FIELDS


def _copy(provider):
    """A detached copy of ``provider``'s field values.

    Copying a dictionary is several times cheaper than ``Provider()``, whose
    per-field default handling was the largest cost of validating a record.
    """
    clone = Provider.__new__(Provider)
    clone.__dict__ = {key: value for key, value in provider.__dict__.items() if key != "_state"}
    clone._state = ModelState()
    clone._state.adding = provider._state.adding
    clone._state.db = provider._state.db
    return clone


def _organization_slug(organization):
    """The slug of the organization a record names; None for an empty one (no organization)."""
    if not organization:
        return None
    return organization.get("slug") or slugify(organization.get("name", ""), allow_unicode=True)


def _check_organization(data, strict):
    """(the organization's details as imported, errors, warnings): an invalid optional detail (a
    website, a description) is set aside like a listing's, unless ``strict``; an invalid name rejects."""
    organization = Organization(**{name: data.get(name, "") or "" for name in ORGANIZATION_FIELDS})
    organization.slug = _organization_slug(data)
    try:
        organization.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        invalid = error.message_dict
    else:
        return data, [], []
    set_aside = (
        {}
        if strict
        else {name: messages for name, messages in invalid.items() if name in OPTIONAL_ORGANIZATION_DETAILS}
    )
    errors = [
        (f"organization {name}", message)
        for name, messages in invalid.items()
        if name not in set_aside
        for message in messages
    ]
    warnings = [(f"organization {name}", data.get(name), " ".join(messages)) for name, messages in set_aside.items()]
    return {**data, **dict.fromkeys(set_aside, "")}, errors, warnings


def _record_run(report, options, started_at, outcome, context, run=None):
    """The run's record: ``run`` or ``options.run`` filled in, or a new one."""
    user = options.user if getattr(options.user, "pk", None) else None
    slugs = context.file_sources
    source = context.sources.get(next(iter(slugs))) if len(slugs) == 1 else None
    written = outcome != ImportRun.Outcome.FAILED
    run = (
        run
        or options.run
        or ImportRun(
            file_name=options.file_name[:255],
            format=options.format,
            started_by=user,
            started_by_name=user.get_username() if user else _system_user(),
            started_at=started_at,
            records_read=report.unchanged + len(report.remembered + report.created + report.updated + report.rejected),
        )
    )
    run.source = source if source is not None and source.pk else None
    run.finished_at = None if outcome == ImportRun.Outcome.RUNNING else timezone.now()
    run.outcome = outcome
    run.created = len(report.created)
    run.updated = len(report.updated)
    run.unchanged = report.unchanged
    run.rejected = len(report.rejected)
    run.records_planned = run.records_read = report.unchanged + len(
        report.remembered + report.created + report.updated + report.rejected
    )
    run.records_written = len(report.created) + len(report.updated) + len(report.archived) if written else 0
    run.conflicts_kept = len(report.conflicts)
    run.missing = len(report.missing)
    run.archived = len(report.archived) if written else 0
    run.errors = report.error_lines
    run.warnings = report.warning_lines
    run.unmapped_terms = dict(report.unmapped.most_common())
    run.save()
    return run


def _system_user():
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _write(report, context):
    now = timezone.now()
    organizations = _save_organizations(report, context)
    organization_names = {organization.pk: organization.name for organization in organizations.values()}
    # Every stored slug, which only new listings need: a re-import that changes nothing skips reading them.
    taken = set(Provider.objects.values_list("slug", flat=True)) if report.created else set()
    created = [change.provider for change in report.created]
    for change in report.created:
        provider = change.provider
        # A source new with this import was saved after being assigned; reassigning takes its id and keeps it cached.
        provider.source = provider.source
        provider.slug = first_free(Provider.slug_base(change.record.slug or provider.slug_text), taken)
        _link_organization(change, organizations)
        provider.search_text = keywords.listing_text(provider, organization_names.get(provider.organization_id, ""))
        provider.term_tokens = _term_tokens(change, context)
        provider.last_import_run = report.run
        provider.created_at = provider.updated_at = now
    bulk_sql.insert_listings(created, report.run)
    _drop_changed_meanwhile(report, context)
    changes = report.updated + report.archived
    fields = {"updated_at", "last_import_run"}
    for change in changes:
        _link_organization(change, organizations)
        change.provider.updated_at = now
        change.provider.last_import_run = report.run
        fields.update(name for name in change.changed_fields if name in SCALAR_FIELDS)
        if "organization" in change.changed_fields:
            fields.add("organization")
        text = keywords.listing_text(change.provider, organization_names.get(change.provider.organization_id, ""))
        if text != change.provider.search_text:
            change.provider.search_text = text
            fields.add("search_text")
        tokens = _term_tokens(change, context)
        if tokens != change.provider.term_tokens:
            change.provider.term_tokens = tokens
            fields.add("term_tokens")
    if changes:
        Provider.objects.bulk_update([change.provider for change in changes], sorted(fields), batch_size=500)
    _write_terms(report)
    _write_hours(report)
    _write_history(report, context, now)
    _write_source_records(report, context)
    _write_conflicts(report)
    _flag_missing(report, now)
    if len(report.created) + len(changes) >= REFRESH_STATISTICS_AFTER:
        refresh_statistics(connection)


def _drop_changed_meanwhile(report, context):
    """Leave out the stored listings someone changed while this import was planning: writing what was
    planned would undo their edit. Their records count as rejected; the next import merges them again."""
    planned = {change.provider.pk: change for change in report.updated + report.remembered + report.archived}
    ids = list(planned)
    changed = set()
    for start in range(0, len(ids), 500):
        rows = Provider.objects.filter(pk__in=ids[start : start + 500]).values_list("pk", "updated_at")
        changed.update(pk for pk, updated_at in rows if updated_at != context.loaded_at[pk])
    if not changed:
        return
    message = "the listing was changed while this file was being imported; import the file again to merge it"
    for name in ("updated", "remembered", "archived"):
        kept = []
        for change in getattr(report, name):
            if change.provider.pk not in changed:
                kept.append(change)
            elif change.record is not None:
                report.rejected.append((change.record, [("listing", message)]))
        setattr(report, name, kept)


def _write_source_records(report, context):
    """Remember, for every listing planned from its record, what the source delivered and its fingerprint."""
    rows = []
    for change in report.created + report.updated + report.remembered:
        stored = context.source_records.get(change.provider.pk)
        existing = context.existing_by_pk.get(change.provider.pk)
        values = {**(context.base(existing) if existing is not None else {}), **change.delivered}
        locked = stored.locked_fields if stored is not None else []
        rows.append((change.provider.pk, json.dumps(values), change.fingerprint, json.dumps(locked), None))
    replaced = [row[0] for row in rows if row[0] in context.source_records]
    for start in range(0, len(replaced), 500):
        SourceRecord.objects.filter(provider_id__in=replaced[start : start + 500]).delete()
    columns = ("provider_id", "values", "fingerprint", "locked_fields", "missing_since")
    bulk_sql.insert_rows(SourceRecord._meta.db_table, columns, rows)
    for start in range(0, len(context.returning), 500):
        SourceRecord.objects.filter(provider_id__in=context.returning[start : start + 500]).update(missing_since=None)


def _write_conflicts(report):
    """Record the conflicts; an open conflict on the same field of the same listing is superseded."""
    conflicts = [
        ImportConflict(
            provider_id=change.provider.pk,
            import_run=report.run,
            field=conflict.field,
            our_value=conflict.ours,
            partner_old_value=conflict.partner_old,
            partner_new_value=conflict.partner_new,
        )
        for change in report.updated + report.remembered
        for conflict in change.conflicts
    ]
    fields = {(conflict.provider_id, conflict.field) for conflict in conflicts}
    ids = sorted({provider_id for provider_id, _field in fields})
    superseded = []
    for start in range(0, len(ids), 500):
        open_conflicts = ImportConflict.objects.open().filter(provider_id__in=ids[start : start + 500])
        superseded += [
            pk for pk, *key in open_conflicts.values_list("pk", "provider_id", "field") if tuple(key) in fields
        ]
    for start in range(0, len(superseded), 500):
        ImportConflict.objects.filter(pk__in=superseded[start : start + 500]).update(
            resolution=ImportConflict.Resolution.SUPERSEDED, resolved_at=report.run.finished_at
        )
    ImportConflict.objects.bulk_create(conflicts, batch_size=500)


def _flag_missing(report, now):
    """Flag the listings the file no longer holds (unless they were archived), from when first missed."""
    if report.archived:
        return
    flagged = [listing.pk for listing in report.missing if listing.has_source_record]
    for start in range(0, len(flagged), 500):
        SourceRecord.objects.filter(provider_id__in=flagged[start : start + 500], missing_since__isnull=True).update(
            missing_since=now
        )
    rows = [
        (listing.pk, "{}", "", "[]", bulk_sql.database_value(SourceRecord._meta.get_field("missing_since"))(now))
        for listing in report.missing
        if not listing.has_source_record
    ]
    bulk_sql.insert_rows(
        SourceRecord._meta.db_table, ("provider_id", "values", "fingerprint", "locked_fields", "missing_since"), rows
    )


def _term_tokens(change, context):
    """The listing's term tokens (see providers.models.term_tokens) as this import leaves its country and terms."""
    stored_terms = context.existing_terms.get(change.provider.pk, {})
    return term_tokens.tokens_text(
        change.provider.country,
        {param: change.terms.get(name, stored_terms.get(name, ())) for param, name in TAXONOMY_FIELDS.items()},
    )


# After writing this many listings, the query planner's statistics describe another table:
# without fresh ones PostgreSQL took 90 ms instead of 1 ms for a page of 100,000 fresh listings.
REFRESH_STATISTICS_AFTER = 1000


def _save_organizations(report, context):
    wanted = {}
    for change in report.created + report.updated:
        data = change.organization_details
        if data:
            wanted.setdefault(_organization_slug(data), data)
    for slug, data in wanted.items():
        organization = context.organizations.get(slug)
        if organization is None:
            organization = Organization(slug=slug)
            context.organizations[slug] = organization
        for name in ORGANIZATION_DETAILS:
            if data.get(name) is not None:
                setattr(organization, name, data.get(name) or "")
        organization.save()
    return context.organizations


def organization_changes(records) -> dict[str, list[str]]:
    """The stored organizations ``records`` name with other details, by slug, with the fields that differ.

    The first record naming an organization speaks for it, as when the import writes it.
    """
    named = {}
    for record in records:
        if record.organization:
            named.setdefault(_organization_slug(record.organization), record.organization)
    changes = {}
    for organization in Organization.objects.filter(slug__in=named):
        data = named[organization.slug]
        fields = [
            name
            for name in ORGANIZATION_DETAILS
            if data.get(name) is not None and (data.get(name) or "") != getattr(organization, name)
        ]
        if fields:
            changes[organization.slug] = fields
    return changes


def _link_organization(change, organizations):
    data = change.organization
    if data is not None:
        change.provider.organization = organizations[_organization_slug(data)] if data else None


def _write_terms(report):
    """Replace the terms of every changed provider, in multi-row INSERTs (bulk_sql)."""
    rows = {name: [] for name in TERM_FIELDS}
    # One pass over the changes for the six tables, each listing's id read once, not once per term.
    for change in report.created + report.updated:
        pk = change.provider.pk
        for name, ids in change.terms.items():
            rows[name] += [(pk, term_id) for term_id in sorted(ids)]
    for name in TERM_FIELDS:
        relation = Provider._meta.get_field(name)
        through = relation.remote_field.through
        column = relation.m2m_reverse_field_name() + "_id"
        replaced = [change.provider.pk for change in report.updated if name in change.terms]
        for start in range(0, len(replaced), 500):
            through.objects.filter(provider_id__in=replaced[start : start + 500]).delete()
        bulk_sql.insert_rows(through._meta.db_table, ("provider_id", column), rows[name])


def _write_hours(report):
    """Replace the hours (of each HOURS_FIELDS week) of every provider whose hours changed, in multi-row INSERTs."""
    for name, walk_in in HOURS_FIELDS.items():
        replaced = [change.provider.pk for change in report.updated if name in change.hours]
        for start in range(0, len(replaced), 500):
            OpeningInterval.objects.filter(provider_id__in=replaced[start : start + 500], walk_in=walk_in).delete()
    opens, closes = (bulk_sql.database_value(OpeningInterval._meta.get_field(name)) for name in ("opens", "closes"))
    rows = [
        (change.provider.pk, HOURS_FIELDS[name], weekday, opens(opening), closes(closing))
        for change in report.created + report.updated
        for name, intervals in change.hours.items()
        for weekday, opening, closing in intervals
    ]
    columns = ("provider_id", "walk_in", "weekday", "opens", "closes")
    bulk_sql.insert_rows(OpeningInterval._meta.db_table, columns, rows)


def _write_history(report, context, now):
    """One version of each created or changed listing, as this import left it (bulk_sql.insert_versions)."""
    run = {
        "history_date": now,
        "history_change_reason": f"Import run #{report.run.pk}",
        "history_user_id": report.run.started_by_id,
        "history_channel": Channel.IMPORT,
    }
    slugs = {name: {pk: slug for slug, pk in ids.items()} for name, ids in context.term_ids.items()}
    versions = []
    for history_type, changes in (("+", report.created), ("~", report.updated + report.archived)):
        for change in changes:
            pk = change.provider.pk
            stored_terms = context.existing_terms.get(pk, {})
            terms = {
                name: sorted(slugs[name][term] for term in change.terms.get(name, stored_terms.get(name, ())))
                for name in TERM_FIELDS
            }
            hours = {**context.existing_hours.get(pk, {}), **change.hours}
            weeks = [json.dumps(hours.get(name, [])) for name in HOURS_FIELDS]
            versions.append((pk, history_type, json.dumps(terms), *weeks))
    bulk_sql.insert_versions(versions, run)


__all__ = ["ImportFileError", "ImportOptions", "ImportReport", "import_records"]
