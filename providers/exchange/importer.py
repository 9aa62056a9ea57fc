"""Import provider records: validate everything, then write everything, or nothing.

Phase one builds each provider from its record and runs the model's own
validation (the same ``full_clean`` the admin runs), compares it with what is
stored under (source, external id) and sorts it into created / updated /
unchanged / rejected. Phase two writes every accepted change in one
transaction. A dry run stops after phase one.
"""

import getpass
import json
import multiprocessing
import os
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.text import slugify

from providers.caching import listings_changed
from providers.exchange import bulk_sql
from providers.exchange.records import (
    ORGANIZATION_FIELDS,
    SCALAR_FIELDS,
    TERM_FIELDS,
    ImportFileError,
    Record,
    no_cyclic_garbage_collection,
)
from providers.models import (
    TAXONOMY_FIELDS,
    ImportRun,
    OpeningInterval,
    Organization,
    Provider,
    Source,
    keywords,
    places,
    term_tokens,
)
from providers.models.history import ProviderHistoryExtras
from providers.models.naming import first_free
from providers.search.planner_statistics import refresh_statistics

# Model fields the importer does not validate per record: it sets or checks them itself, once per file.
_NOT_VALIDATED = ["id", "slug", "organization", "source", "last_import_run", "created_at", "updated_at"]
HOURS = "opening_hours"
Channel = ProviderHistoryExtras.Channel
# What a record may say about its organization besides the slug that identifies it.
ORGANIZATION_DETAILS = ("name", "website", "description")
# The message the database constraint would give, for a record that repeats an opening time.
_DUPLICATE_START = next(
    constraint.violation_error_message
    for constraint in OpeningInterval._meta.constraints
    if constraint.name == "openinginterval_unique_start"
)


@dataclass
class ImportOptions:
    source: str = ""
    country: str = ""
    status: str = ""
    dry_run: bool = False
    skip_invalid: bool = False
    file_name: str = ""
    format: str = ""
    user: object = None
    # Plan large files in forked processes: for the command line only, never inside a web request,
    # whose server process (threads, open connections) must not be forked.
    parallel: bool = False


@dataclass
class Change:
    record: Record
    provider: Provider
    changed_fields: list = field(default_factory=list)
    terms: dict = field(default_factory=dict)
    # The provider's new intervals; None leaves its stored hours alone.
    opening_hours: list | None = None


@dataclass
class ImportReport:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: int = 0
    rejected: list = field(default_factory=list)
    unmapped: Counter = field(default_factory=Counter)
    new_sources: list = field(default_factory=list)
    run: ImportRun | None = None
    written: bool = False

    @property
    def error_lines(self) -> list[str]:
        return [
            f"record {record.number} (external id {record.external_id or '-'}): {name}: {message}"
            for record, errors in self.rejected
            for name, message in errors
        ]

    @property
    def has_changes(self) -> bool:
        return bool(self.created or self.updated)


class _Context:
    """What validation needs from the database, loaded once per import rather than once per record."""

    def __init__(self, records, options):
        self.options = options
        self.sources = {source.slug: source for source in Source.objects.all()}
        self.term_ids = {}
        for name in TERM_FIELDS:
            model = Provider._meta.get_field(name).related_model
            self.term_ids[name] = dict(model.objects.values_list("slug", "pk"))
        self.organizations = {org.slug: org for org in Organization.objects.all()}
        self.organization_slugs = {org.pk: slug for slug, org in self.organizations.items()}
        self.blank_provider = Provider()
        self.field_names = [field.name for field in Provider._meta.concrete_fields]
        self.attnames = [field.attname for field in Provider._meta.concrete_fields if field.name != "source"]
        self.validated_when_new = {name for name in self.field_names if name not in _NOT_VALIDATED}
        self.cleaned = {}
        self.file_sources = {options.source or record.source for record in records} - {""}
        self.first_record = {}
        for record in records:
            self.first_record.setdefault((options.source or record.source, record.external_id), record.number)
        known = [self.sources[slug] for slug in self.file_sources if slug in self.sources]
        self.existing = {}
        if known:
            stored = Provider.objects.filter(source__in=known).exclude(external_id="")
            self.existing = {(provider.source_id, provider.external_id): provider for provider in stored}
        self.existing_terms = self._existing_terms()
        self.existing_hours = self._existing_hours()
        self.checked_intervals = {}

    def _existing_terms(self):
        ids = [provider.pk for provider in self.existing.values()]
        terms = {pk: {name: set() for name in TERM_FIELDS} for pk in ids}
        if not ids:
            return terms
        for name in TERM_FIELDS:
            relation = Provider._meta.get_field(name)
            through = relation.remote_field.through
            column = relation.m2m_reverse_field_name() + "_id"
            source_ids = {provider.source_id for provider in self.existing.values()}
            rows = through.objects.filter(provider__source_id__in=source_ids).values_list("provider_id", column)
            for provider_id, term_id in rows:
                if provider_id in terms:
                    terms[provider_id][name].add(term_id)
        return terms

    def _existing_hours(self):
        if not self.existing:
            return {}
        hours = {}
        source_ids = {provider.source_id for provider in self.existing.values()}
        stored = OpeningInterval.objects.filter(provider__source_id__in=source_ids)
        for provider_id, weekday, opens, closes in stored.values_list("provider_id", "weekday", "opens", "closes"):
            hours.setdefault(provider_id, []).append((weekday, f"{opens:%H:%M}", f"{closes:%H:%M}"))
        return {provider_id: sorted(intervals) for provider_id, intervals in hours.items()}

    def source_for(self, slug, report):
        if slug not in self.sources:
            # A new source is created with the import (or only announced by a dry run).
            self.sources[slug] = Source(slug=slug, name=slug)
            report.new_sources.append(slug)
        return self.sources[slug]


def import_records(records, options: ImportOptions, progress=None) -> ImportReport:
    """Validate ``records`` and, unless this is a dry run or a record is invalid, write them.

    ``progress``, when given, is called with the number of records validated so far.
    """
    records = list(records)
    started_at = timezone.now()
    report = ImportReport()
    context = _Context(records, options)
    for slug in sorted(context.file_sources):
        if slugify(slug) == slug:
            context.source_for(slug, report)
    changes_created, changes_updated = [], []
    with no_cyclic_garbage_collection():
        for record, change, errors in _plan_all(records, context, progress):
            report.unmapped.update(record.unmapped)
            if errors:
                report.rejected.append((record, errors))
            elif change is None:
                report.unchanged += 1
            elif change.provider.pk is None:
                changes_created.append(change)
            else:
                changes_updated.append(change)
    report.created, report.updated = changes_created, changes_updated
    if options.dry_run:
        return report
    if report.rejected and not options.skip_invalid:
        report.run = _record_run(report, options, started_at, ImportRun.Outcome.FAILED, context)
        return report
    with transaction.atomic():
        for source in context.sources.values():
            if source.pk is None:
                source.save()
        outcome = ImportRun.Outcome.PARTIAL if report.rejected else ImportRun.Outcome.SUCCEEDED
        report.run = _record_run(report, options, started_at, outcome, context)
        _write(report, context)
    listings_changed()
    report.written = True
    return report


# Below this many records, starting processes costs more than it saves.
PARALLEL_MIN_RECORDS = 4000
# Planning in forked processes reads these; set only while a pool runs.
_FORKED_WORK = None


def _plan_all(records, context, progress):
    """(record, change, errors) for every record, in file order.

    Large files are planned in one forked process per processor: validation is
    pure computation on data loaded before the fork (the database is never used
    there), and it is most of an import's time.
    """
    workers = min(len(os.sched_getaffinity(0)), 8)
    forking = context.options.parallel and "fork" in multiprocessing.get_all_start_methods()
    if not forking or len(records) < PARALLEL_MIN_RECORDS or workers < 2:
        for done, record in enumerate(records, start=1):
            if progress and (done % 500 == 0 or done == len(records)):
                progress(done)
            yield (record, *_plan(record, context))
        return
    global _FORKED_WORK
    _FORKED_WORK = (records, context)
    size = -(-len(records) // workers)
    bounds = [(start, start + size) for start in range(0, len(records), size)]
    try:
        # This process plans the first slice itself while the forked ones plan the rest.
        with multiprocessing.get_context("fork").Pool(len(bounds) - 1) as pool:
            others = pool.map_async(_plan_chunk, bounds[1:])
            chunks = [_plan_chunk(bounds[0]), *others.get()]
    finally:
        _FORKED_WORK = None
    if progress:
        progress(len(records))
    options = context.options
    for record, (planned, errors) in zip(records, (result for chunk in chunks for result in chunk), strict=True):
        change = None
        if planned is not None:
            values, changed_fields, terms, hours = planned
            source = context.sources[options.source or record.source]
            existing = context.existing.get((source.pk, record.external_id)) if source.pk else None
            provider = _copy(context.blank_provider if existing is None else existing)
            provider.__dict__.update(values)
            provider.source = source
            change = Change(record, provider, changed_fields, terms, hours)
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
            results.append(((values, change.changed_fields, change.terms, change.opening_hours), errors))
    return results


def _plan(record, context):
    """The change ``record`` asks for (None when nothing changes), and its errors."""
    errors = list(record.errors)
    options = context.options
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
    if existing is not None and existing.merged_into_id is not None:
        # A listing merged into another lives on in its keeper: its record must not become a second public listing.
        values["status"] = Provider.Status.ARCHIVED
    provider.source = source
    provider.external_id = record.external_id
    errors.extend(_validate(provider, values, existing is None, context))

    terms = {}
    for name, slugs in record.terms.items():
        ids = context.term_ids[name]
        unknown = [slug for slug in slugs if slug not in ids]
        if unknown:
            errors.append((name, "unknown term(s) " + ", ".join(unknown)))
        terms[name] = {ids[slug] for slug in slugs if slug in ids}
    if record.organization:
        errors.extend(_check_organization(record.organization))
    hours = None
    if record.opening_hours is not None:
        hours, hour_errors = _check_hours(record.opening_hours, context)
        errors.extend(hour_errors)
    if errors:
        return None, errors
    if hours and not provider.time_zone and provider.has_coordinates:
        # Hours mean nothing without a zone. Derived only then: loading the gazetteer costs a second.
        provider.time_zone = places.time_zone_at(provider.latitude, provider.longitude)

    if existing is None:
        fields = list(values) + ([HOURS] if hours else [])
        return Change(record, provider, fields, terms, hours), []
    changed = [name for name in SCALAR_FIELDS if getattr(provider, name) != getattr(existing, name)]
    stored_terms = context.existing_terms.get(existing.pk, {})
    changed += [name for name, ids in terms.items() if ids != stored_terms.get(name, set())]
    if hours is not None and hours != context.existing_hours.get(existing.pk, []):
        changed.append(HOURS)
    current_organization = context.organization_slugs.get(existing.organization_id)
    if record.organization is not None and _organization_slug(record.organization) != current_organization:
        changed.append("organization")
    if not changed:
        return None, []
    changed_terms = {name: terms[name] for name in changed if name in terms}
    return Change(record, provider, changed, changed_terms, hours if HOURS in changed else None), []


def _check_hours(intervals, context):
    """The record's intervals as stored ("HH:MM" text, in order), and an error for each the model refuses.

    Each distinct interval is validated once per import: a file repeats the same few many times.
    """
    checked, errors, starts = [], [], set()
    for interval in intervals:
        if interval not in context.checked_intervals:
            context.checked_intervals[interval] = _check_interval(*interval)
        stored, message = context.checked_intervals[interval]
        if message:
            errors.append((HOURS, f"{_interval_label(*interval)}: {message}"))
        elif stored[:2] in starts:
            errors.append((HOURS, f"{_interval_label(*interval)}: {_DUPLICATE_START}"))
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
    """Set ``values`` on ``provider`` and run the model's validation, as ``full_clean`` would.

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
        provider.clean_fields(exclude=[name for name in context.field_names if name not in validated])
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    for name, value in to_validate.items():
        if name not in errors:
            context.cleaned[(name, value)] = getattr(provider, name)
    try:
        provider.clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if not errors:
        return []
    return [(name, message) for name, messages in ValidationError(errors).message_dict.items() for message in messages]


_UNSEEN = object()


def _is_text(name):
    return name not in {"latitude", "longitude", "telehealth", "accepting_new_clients", "last_verified"}


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


def _check_organization(data):
    organization = Organization(**{name: data.get(name, "") or "" for name in ORGANIZATION_FIELDS})
    organization.slug = _organization_slug(data)
    try:
        organization.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        return [
            (f"organization {name}", message) for name, messages in error.message_dict.items() for message in messages
        ]
    return []


def _record_run(report, options, started_at, outcome, context):
    user = options.user if getattr(options.user, "pk", None) else None
    slugs = context.file_sources
    source = context.sources.get(next(iter(slugs))) if len(slugs) == 1 else None
    return ImportRun.objects.create(
        source=source if source is not None and source.pk else None,
        file_name=options.file_name[:255],
        format=options.format,
        started_by=user,
        started_by_name=user.get_username() if user else _system_user(),
        started_at=started_at,
        finished_at=timezone.now(),
        outcome=outcome,
        created=len(report.created),
        updated=len(report.updated),
        unchanged=report.unchanged,
        rejected=len(report.rejected),
        errors=report.error_lines,
        unmapped_terms=dict(report.unmapped.most_common()),
    )


def _system_user():
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _write(report, context):
    now = timezone.now()
    organizations = _save_organizations(report, context)
    organization_names = {organization.pk: organization.name for organization in organizations.values()}
    taken = set(Provider.objects.values_list("slug", flat=True))
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
    updated = [change.provider for change in report.updated]
    fields = {"updated_at", "last_import_run"}
    for change in report.updated:
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
    if updated:
        Provider.objects.bulk_update(updated, sorted(fields), batch_size=500)
    _write_terms(report)
    _write_hours(report)
    _write_history(report, context, now)
    if len(report.created) + len(report.updated) >= REFRESH_STATISTICS_AFTER:
        refresh_statistics(connection)


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
        data = change.record.organization
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
    data = change.record.organization
    if data is not None:
        change.provider.organization = organizations[_organization_slug(data)] if data else None


def _write_terms(report):
    """Replace the terms of every changed provider, in multi-row INSERTs (bulk_sql)."""
    for name in TERM_FIELDS:
        relation = Provider._meta.get_field(name)
        through = relation.remote_field.through
        column = relation.m2m_reverse_field_name() + "_id"
        replaced = [change.provider.pk for change in report.updated if name in change.terms]
        for start in range(0, len(replaced), 500):
            through.objects.filter(provider_id__in=replaced[start : start + 500]).delete()
        rows = [
            (change.provider.pk, term_id)
            for change in report.created + report.updated
            if name in change.terms
            for term_id in sorted(change.terms[name])
        ]
        bulk_sql.insert_rows(through._meta.db_table, ("provider_id", column), rows)


def _write_hours(report):
    """Replace the opening hours of every provider whose hours changed, in multi-row INSERTs."""
    replaced = [change.provider.pk for change in report.updated if change.opening_hours is not None]
    for start in range(0, len(replaced), 500):
        OpeningInterval.objects.filter(provider_id__in=replaced[start : start + 500]).delete()
    opens, closes = (bulk_sql.database_value(OpeningInterval._meta.get_field(name)) for name in ("opens", "closes"))
    rows = [
        (change.provider.pk, weekday, opens(opening), closes(closing))
        for change in report.created + report.updated
        for weekday, opening, closing in change.opening_hours or []
    ]
    bulk_sql.insert_rows(OpeningInterval._meta.db_table, ("provider_id", "weekday", "opens", "closes"), rows)


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
    for history_type, changes in (("+", report.created), ("~", report.updated)):
        for change in changes:
            pk = change.provider.pk
            stored_terms = context.existing_terms.get(pk, {})
            terms = {
                name: sorted(slugs[name][term] for term in change.terms.get(name, stored_terms.get(name, ())))
                for name in TERM_FIELDS
            }
            hours = context.existing_hours.get(pk, []) if change.opening_hours is None else change.opening_hours
            versions.append((pk, history_type, json.dumps(terms), json.dumps(hours)))
    bulk_sql.insert_versions(versions, run)


__all__ = ["ImportFileError", "ImportOptions", "ImportReport", "import_records"]
