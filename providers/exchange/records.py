"""The common shape every format reader produces and every writer consumes.

A reader turns its file into ``Record`` objects whose values already use our
vocabulary (taxonomy slugs, ISO codes, booleans, dates); the importer then
validates them with the model and writes them. Keeping this shape in one place
lets each format be one small module.
"""

import functools
import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

import pycountry

from providers.models import HOURS_FIELDS, TAXONOMY_FIELDS, weeks
from providers.search.vocabulary import attach_terms

# Provider fields a record may carry, in the column order of our CSV.
SCALAR_FIELDS = (
    "name",
    "description",
    "status",
    "country",
    "region",
    "city",
    "street_address",
    "street_address_2",
    "postal_code",
    "latitude",
    "longitude",
    "address_hidden",
    "time_zone",
    "phone",
    "intake_phone",
    "hotline_phone",
    "email",
    "website",
    "telehealth",
    "accepting_new_clients",
    "last_verified",
)
TERM_FIELDS = tuple(TAXONOMY_FIELDS.values())
ORGANIZATION_FIELDS = ("slug", "name", "website", "description")


# What partners write where they have no value, compared without case: it counts as blank.
PLACEHOLDERS = frozenset(
    {
        "n/a", "n / a", "n.a.", "n.a", "na", "#n/a", "-", "--", "---", "–", "—", ".", "?",
        "none", "null", "nil", "unknown", "not available", "not applicable", "tbd",
        "http://", "https://", "http://www.", "https://www.", "www.",
    }
)  # fmt: skip
_LONGEST_PLACEHOLDER = max(map(len, PLACEHOLDERS))
# Fields whose values are codes, where "NA" is one: Namibia's country code, Nauru's language code.
CODE_FIELDS = frozenset({"country", "languages"})


def blank_placeholder(text: str, field_name: str = "") -> str:
    """``text``, or "" when it only says there is no value (``N/A``, ``-``, ``unknown``, ``http://``).

    Readers call it on every value as they read it, before typing it, so a placeholder is
    blank whatever the field: a placeholder name leaves the record nameless (and rejected),
    a placeholder website or date leaves none. Give ``field_name`` where a value may be a code.
    """
    if len(text) > _LONGEST_PLACEHOLDER or (folded := text.casefold()) not in PLACEHOLDERS:
        return text
    return text if folded == "na" and field_name in CODE_FIELDS else ""


@functools.lru_cache(maxsize=512)
def subdivision_name(country: str, code: str) -> str:
    """The name of ``country``'s subdivision ``code`` ("CA" in the US is "California"), or "" when none has it."""
    subdivision = pycountry.subdivisions.get(code=f"{country}-{code}".upper())
    return subdivision.name if subdivision else ""


_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n"}


def parse_yes_no(value):
    """True, False, or None for an empty value; ValueError for anything else."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(value)


_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?")


def normalise_clock(text: str, *, closing: bool = False) -> str | None:
    """``text`` as "HH:MM" (seconds dropped), or None when it is not a clock time.

    Many sources write a closing at midnight as 24:00; we store that as 00:00, which
    an interval reads as the next day. Whether the hour exists is the model's to say.
    """
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        return None
    clock = f"{int(match[1]):02d}:{match[2]}"
    return "00:00" if closing and clock == "24:00" else clock


@contextmanager
def no_cyclic_garbage_collection():
    """Pause the cyclic garbage collector while building many objects that all stay alive.

    Reading and validating a file creates objects by the hundred thousand; the
    collector kept scanning them for cycles, which cost a fifth of the time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class ImportFileError(Exception):
    """The file as a whole cannot be read: nothing is imported, and the message says why."""


@dataclass
class Record:
    """One provider as read from a file.

    ``values`` holds SCALAR_FIELDS (absent keys mean "the file does not say":
    an update leaves those fields alone); ``terms`` maps TERM_FIELDS to slug
    lists; ``organization`` holds ORGANIZATION_FIELDS or is None.
    ``opening_hours`` and ``walk_in_hours`` (HOURS_FIELDS) list (weekday 0-6
    from Monday, "HH:MM" opens, "HH:MM" closes) tuples; None means the file does
    not say (an update keeps the stored hours), an empty list that the provider
    lists no such hours.
    ``unmapped`` lists source vocabulary the format's mapping does not know,
    ``errors`` (field, message) pairs the reader already found.
    """

    number: int
    external_id: str
    values: dict = field(default_factory=dict)
    terms: dict = field(default_factory=dict)
    organization: dict | None = None
    opening_hours: list | None = None
    walk_in_hours: list | None = None
    source: str = ""
    slug: str = ""
    # The stored HSDS service id of an exported listing; records read from files have none.
    hsds_id: str = ""
    unmapped: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    def add_error(self, field_name: str, message: str) -> None:
        self.errors.append((field_name, message))


def record_from_provider(provider, number: int = 0) -> Record:
    """The record a writer exports for ``provider``.

    The provider needs ``terms`` (see ``attach_terms``), its organization
    and source loaded and its ``opening_hours`` prefetched, so exporting runs
    a constant number of queries per chunk.
    """
    values = {name: provider.public_value(name) for name in SCALAR_FIELDS}
    values["country"] = provider.country.code
    intervals = provider.opening_hours.all()
    rows = [(provider.pk, i.walk_in, i.weekday, i.opens, i.closes) for i in intervals]
    held = weeks(rows).get(provider.pk, {})
    organization = provider.organization
    return Record(
        number=number,
        external_id=provider.external_id,
        values=values,
        terms={name: [term.slug for term in provider.terms[name]] for name in TERM_FIELDS},
        organization={name: getattr(organization, name) for name in ORGANIZATION_FIELDS} if organization else None,
        **{name: held.get(name, []) for name in HOURS_FIELDS},
        source=provider.source.slug if provider.source_id else "",
        slug=provider.slug,
        hsds_id=str(provider.hsds_id) if provider.hsds_id else "",
    )


def iter_export_records(queryset, chunk_size: int = 1000):
    """Records for every provider of ``queryset``, in its order, a chunk at a time.

    One query reads the listings, in whatever order the queryset has (by name, nearest
    first...), through a database cursor ``chunk_size`` rows at a time; each chunk adds
    one query for its opening hours. So memory stays bounded however many listings.
    """
    providers = queryset.select_related("organization", "source").prefetch_related("opening_hours").iterator(chunk_size)
    number = 0
    while chunk := list(islice(providers, chunk_size)):
        for provider in attach_terms(chunk):
            number += 1
            yield record_from_provider(provider, number)
