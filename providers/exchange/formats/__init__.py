"""The exchange formats, and telling them apart when a partner does not say."""

import csv
import io
import json
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from providers.exchange.formats.files import decode_text, is_zip, read_bytes
from providers.exchange.formats.mapped import check_terms, parse_mapping
from providers.exchange.records import ImportFileError, no_cyclic_garbage_collection
from providers.models import Source


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    module: str
    reader: str
    carries_source: bool

    def read(self, path: Path, options=None):
        return getattr(import_module(self.module), self.reader)(path, options)


FORMATS = {
    item.name: item
    for item in (
        Format("csv", "our CSV", "providers.exchange.formats.ours", "read_csv", carries_source=True),
        Format("json", "our JSON", "providers.exchange.formats.ours", "read_json", carries_source=True),
        Format("hsds", "Open Referral HSDS 3.0", "providers.exchange.formats.hsds", "read", carries_source=True),
        Format(
            "findtreatment",
            "FindTreatment.gov locator JSON",
            "providers.exchange.formats.findtreatment",
            "read",
            carries_source=False,
        ),
        Format(
            "samhsa", "SAMHSA 2015 directory CSV", "providers.exchange.formats.samhsa", "read", carries_source=False
        ),
        Format(
            "mapped",
            "mapped partner export",
            "providers.exchange.formats.mapped",
            "read",
            carries_source=False,
        ),
    )
}

# Keys that, beside an "id" (which our own JSON never has), mark an HSDS service,
# service_at_location, location or organization document.
_HSDS_KEYS = {
    "service_at_locations", "organization_id", "location_type", "service", "services", "status", "organization",
    "alternate_name", "tax_status", "legal_status", "website",
}  # fmt: skip


def detect_format(path: Path) -> Format:
    """Which format ``path`` is in, judged from its content; raise ImportFileError when it is none of ours."""
    if path.is_dir():
        if (path / "datapackage.json").is_file():
            return FORMATS["hsds"]
        raise ImportFileError(f"{path} is a folder without a datapackage.json, so it is not an HSDS data package.")
    data = read_bytes(path)
    if is_zip(data):
        return FORMATS["hsds"]
    text = decode_text(data, path.name)
    if text.lstrip()[:1] in "[{":
        return _detect_json(text, path.name)
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as error:
        raise ImportFileError(f"{path.name} is not readable as CSV ({error}).") from None
    if {"Name1", "Keys", "ID"} <= set(header):
        return FORMATS["samhsa"]
    return FORMATS["csv"]


def _detect_json(text, name):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFileError(f"{name} is not valid JSON: {error.msg} (line {error.lineno}).") from None
    # HSDS pages wrap records in "contents", the FindTreatment locator in "rows".
    items = data.get("contents") or data.get("rows") or [data] if isinstance(data, dict) else data
    first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
    if {"model", "fields"} <= set(first):
        raise ImportFileError(f"{name} is a Django fixture; load it with `python manage.py loaddata {name}` instead.")
    if "frid" in first:
        return FORMATS["findtreatment"]
    if "id" in first and _HSDS_KEYS & set(first):
        return FORMATS["hsds"]
    if isinstance(data, list):
        return FORMATS["json"]
    raise ImportFileError(f"{name} is JSON, but not in a format we know (see docs/IMPORT.md).")


class MissingSourceError(ImportFileError):
    """The format names no source and none was given."""

    def __init__(self, chosen: Format):
        self.format = chosen
        super().__init__(f"The {chosen.label} format names no source: give one with --source.")


def read_file(path: Path, format_name: str = "", source: str = "", mapping=None):
    """The format (given or detected) and the records of ``path``, or ImportFileError saying why not.

    A file is read through ``mapping`` when one is given, else through its source's saved mapping
    when the format is not given (or is "mapped").
    """
    if mapping is None and format_name in ("", None, "mapped") and source:
        mapping = saved_mapping(source)
    chosen = FORMATS["mapped"] if mapping is not None else FORMATS[format_name] if format_name else detect_format(path)
    if not chosen.carries_source and not source:
        raise MissingSourceError(chosen)
    if mapping is not None:
        check_terms(mapping)
    with no_cyclic_garbage_collection():
        records = chosen.read(path, mapping)
    if not records:
        raise ImportFileError(f"{path.name} holds no records.")
    return chosen, records


def saved_mapping(source: str):
    """The mapping saved on the source ``source``, parsed; None when it has none."""
    document = Source.objects.filter(slug=source).values_list("mapping", flat=True).first()
    return parse_mapping(document, f"The mapping saved on {source}") if document else None
