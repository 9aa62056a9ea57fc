"""Our own exchange formats: a flat CSV (one row per provider) and JSON with the same fields.

Columns are documented in docs/IMPORT.md. Multi-valued CSV cells separate
values with ";". Text cells that a spreadsheet would run as a formula get a
leading apostrophe on export, which ``read_csv`` removes again. Opening hours, and
walk-in hours, are each one text cell, in CSV and JSON alike: "Mo-Fr 09:00-17:00; Sa 10:00-12:00,13:00-15:00".
"""

import csv
import json
from datetime import date

from providers.exchange.formats.files import read_csv_rows, read_text
from providers.exchange.records import (
    HOURS_FIELDS,
    SCALAR_FIELDS,
    TERM_FIELDS,
    ImportFileError,
    Record,
    blank_placeholder,
    normalise_clock,
    parse_yes_no,
)

ORGANIZATION_COLUMNS = ("organization_slug", "organization_name", "organization_website", "organization_description")
HOURS_COLUMN = "opening_hours"
COLUMNS = ("source", "external_id", "slug", *SCALAR_FIELDS, *HOURS_FIELDS, *TERM_FIELDS, *ORGANIZATION_COLUMNS)
REQUIRED_COLUMNS = ("external_id", "name")
NUMBER_FIELDS = ("latitude", "longitude")
BOOLEAN_FIELDS = ("address_hidden", "telehealth", "accepting_new_clients")
# Yes or no, never unknown: a blank cell is no.
KNOWN_BOOLEAN_FIELDS = ("address_hidden",)
MULTI_VALUE_SEPARATOR = ";"
DAY_CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_NUMBERS = {code.lower(): number for number, code in enumerate(DAY_CODES)}

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def needs_guard(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula, counting text we guarded before."""
    if text.startswith(_FORMULA_STARTS):
        return True
    return text.startswith("'") and needs_guard(text[1:])


def guard_formula(text: str) -> str:
    return "'" + text if needs_guard(text) else text


def unguard_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and needs_guard(text[1:]) else text


# Opening hours


def parse_opening_hours(text: str) -> list[tuple[int, str, str]]:
    """The (weekday, opens, closes) intervals of "Mo-Fr 09:00-17:00; Sa 10:00-12:00,13:00-15:00".

    Entries are separated by ";"; each is a day or a range of days, a space,
    then one or more opening-closing times separated by ",". Days left out are
    closed. Raises ValueError saying which part cannot be read.
    """
    intervals = []
    for entry in filter(None, (part.strip() for part in text.split(MULTI_VALUE_SEPARATOR))):
        days_text, _, times_text = entry.partition(" ")
        days = _days(days_text, entry)
        if not times_text.strip():
            raise ValueError(f"{entry!r} gives no times (HH:MM-HH:MM)")
        for span in times_text.split(","):
            opens, closes = _span(span.strip(), entry)
            intervals.extend((day, opens, closes) for day in days)
    return sorted(dict.fromkeys(intervals))


def _days(text, entry):
    first, dash, last = text.lower().partition("-")
    if first not in _DAY_NUMBERS or (dash and last not in _DAY_NUMBERS):
        raise ValueError(f"{entry!r} does not start with a day ({', '.join(DAY_CODES)}) or a range of days (Mo-Fr)")
    start = _DAY_NUMBERS[first]
    end = _DAY_NUMBERS[last] if dash else start
    return [(start + offset) % 7 for offset in range((end - start) % 7 + 1)]


def _span(span, entry):
    opens_text, dash, closes_text = span.partition("-")
    opens, closes = normalise_clock(opens_text), normalise_clock(closes_text, closing=True)
    if not dash or opens is None or closes is None:
        raise ValueError(f"{span!r} in {entry!r} is not an opening and a closing time (HH:MM-HH:MM)")
    return opens, closes


def format_opening_hours(intervals) -> str:
    """The text ``parse_opening_hours`` reads, one entry per day: "Mo 09:00-17:00; Tu 09:00-12:00,13:00-17:00"."""
    days = {}
    for weekday, opens, closes in sorted(intervals):
        days.setdefault(weekday, []).append(f"{opens}-{closes}")
    return "; ".join(f"{DAY_CODES[weekday]} {','.join(spans)}" for weekday, spans in days.items())


def _read_hours(record, name, text):
    try:
        return parse_opening_hours(text)
    except ValueError as error:
        record.add_error(name, str(error))
        return None


# Reading


def read_csv(path, options=None):
    text = read_text(path)
    header, rows = read_csv_rows(text, path.name)
    _check_header(header, text.partition("\n")[0], path.name)
    columns = Columns(header)
    records = []
    for number, row in enumerate(rows, start=1):
        extra = row.pop(None, None)
        cells = {}
        for name, value in row.items():
            value = value.strip() if value else ""
            # unguard_formula, inlined: this loop runs for every cell of the file.
            value = value[1:] if value[:1] == "'" and needs_guard(value[1:]) else value
            cells[name] = blank_placeholder(value, name)
        record = record_from_cells(number, cells, columns)
        if extra:
            record.add_error("row", f"has {len(header) + len(extra)} cells; the header has {len(header)}")
        records.append(record)
    return records


def _check_header(header, header_line, name):
    if len(header) == 1 and header[0] not in COLUMNS:
        for delimiter, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if delimiter in header_line:
                raise ImportFileError(f"{name} separates columns with {label}; our CSV uses commas.")
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(f"{name} is missing the required column(s): {', '.join(missing)}.")
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        raise ImportFileError(
            f"{name} has unknown column(s): {', '.join(unknown)}. The columns are listed in docs/IMPORT.md."
        )
    duplicated = sorted({column for column in header if header.count(column) > 1})
    if duplicated:
        raise ImportFileError(f"{name} repeats the column(s): {', '.join(duplicated)}.")


class Columns:
    """Which of our columns a file has, worked out once rather than for every row."""

    def __init__(self, names):
        present = set(names)
        self.text = [name for name in SCALAR_FIELDS if name in present and name not in _TYPED_FIELDS]
        self.typed = [name for name in SCALAR_FIELDS if name in present and name in _TYPED_FIELDS]
        self.terms = [name for name in TERM_FIELDS if name in present]
        self.hours = [name for name in HOURS_FIELDS if name in present]
        self.organization = any(column in present for column in ORGANIZATION_COLUMNS)


def record_from_cells(number, cells, columns):
    record = Record(number=number, external_id=cells.get("external_id", ""), source=cells.get("source", ""))
    record.slug = cells.get("slug", "")
    values = record.values
    for name in columns.text:
        values[name] = cells[name]
    for name in columns.typed:
        values[name] = _parse_cell(record, name, cells[name])
    for name in columns.terms:
        record.terms[name] = [value.strip() for value in cells[name].split(MULTI_VALUE_SEPARATOR) if value.strip()]
    for name in columns.hours:
        setattr(record, name, _read_hours(record, name, cells[name]))
    if columns.organization:
        record.organization = _organization(cells)
    return record


_TYPED_FIELDS = {*NUMBER_FIELDS, *BOOLEAN_FIELDS, "last_verified"}


def _parse_cell(record, name, text):
    if name in NUMBER_FIELDS:
        if text == "":
            return None
        try:
            return float(text)
        except ValueError:
            record.add_error(name, f"{text!r} is not a number")
            return None
    if name in BOOLEAN_FIELDS:
        return _parse_boolean(record, name, text)
    if name == "last_verified":
        return text or None
    return text


def _parse_boolean(record, name, value):
    try:
        parsed = parse_yes_no(value)
    except ValueError:
        record.add_error(name, f"{value!r} is not yes, no or empty")
        return None
    return False if parsed is None and name in KNOWN_BOOLEAN_FIELDS else parsed


def _organization(cells):
    if not (cells.get("organization_slug") or cells.get("organization_name")):
        return {}  # an empty organization: the provider has none
    return {
        "slug": cells.get("organization_slug", ""),
        "name": cells.get("organization_name", ""),
        "website": cells.get("organization_website", ""),
        "description": cells.get("organization_description", ""),
    }


def read_json(path, options=None):
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise ImportFileError(f"{path.name} is not valid JSON: {error.msg} (line {error.lineno}).") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ImportFileError(f"{path.name} must hold a JSON list of provider objects.")
    records = []
    for number, item in enumerate(data, start=1):
        unknown = sorted(set(item) - set(COLUMNS))
        record = _record_from_json(number, item)
        if unknown:
            record.add_error("fields", "unknown field(s) " + ", ".join(unknown))
        records.append(record)
    return records


def _record_from_json(number, item):
    record = Record(number=number, external_id=_text(item.get("external_id")), source=_text(item.get("source")))
    record.slug = _text(item.get("slug"))
    for name in SCALAR_FIELDS:
        if name not in item:
            continue
        value = item[name]
        if isinstance(value, str):
            # Blank text, a placeholder's included, is no value, whatever the field's type.
            value = _text(value, name) or None
        if name in BOOLEAN_FIELDS:
            value = _parse_boolean(record, name, value)
        elif name in NUMBER_FIELDS:
            if (value is not None and not isinstance(value, (int, float))) or isinstance(value, bool):
                record.add_error(name, f"{value!r} is not a number")
                value = None
        elif name == "last_verified":
            value = value or None
        else:
            value = _text(value, name)
        record.values[name] = value
    for name in TERM_FIELDS:
        if name in item:
            value = item[name]
            if isinstance(value, str):
                value = value.split(MULTI_VALUE_SEPARATOR)
            if not isinstance(value, list):
                record.add_error(name, "must be a list of term slugs")
                continue
            record.terms[name] = [_text(slug, name) for slug in value if _text(slug, name)]
    for name in HOURS_FIELDS:
        if name in item:
            hours = item[name]
            if hours is None or isinstance(hours, str):
                setattr(record, name, _read_hours(record, name, _text(hours)))
            else:
                record.add_error(name, 'must be text like "Mo-Fr 09:00-17:00; Sa 10:00-13:00"')
    if any(column in item for column in ORGANIZATION_COLUMNS):
        record.organization = _organization({column: _text(item.get(column)) for column in ORGANIZATION_COLUMNS})
    return record


def _text(value, field_name=""):
    if value is None:
        return ""
    return blank_placeholder(str(value).strip(), field_name)


# Writing


def _cell(name, value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if name in NUMBER_FIELDS:
        return repr(value)
    return guard_formula(str(value))


def _flat(record):
    row = {"source": record.source, "external_id": record.external_id, "slug": record.slug}
    row.update(record.values)
    row.update(record.terms)
    for name in HOURS_FIELDS:
        row[name] = format_opening_hours(getattr(record, name) or [])
    organization = record.organization or {}
    for column in ORGANIZATION_COLUMNS:
        row[column] = organization.get(column.removeprefix("organization_"), "")
    return row


def csv_rows(records):
    """The header, then one list of cells per record."""
    yield list(COLUMNS)
    for record in records:
        row = _flat(record)
        yield [
            MULTI_VALUE_SEPARATOR.join(row[name]) if name in TERM_FIELDS else _cell(name, row[name]) for name in COLUMNS
        ]


def write_csv(records, handle) -> int:
    """Write ``records`` as our CSV to ``handle``; return how many were written."""
    writer = csv.writer(handle, lineterminator="\r\n")
    written = -1  # the header row is not a record
    for row in csv_rows(records):
        writer.writerow(row)
        written += 1
    return written


def write_json(records, handle) -> int:
    """Write ``records`` as our JSON to ``handle``; return how many were written."""
    handle.write("[")
    count = 0
    for index, record in enumerate(records):
        count = index + 1
        row = _flat(record)
        row = {name: row[name].isoformat() if isinstance(row[name], date) else row[name] for name in COLUMNS}
        handle.write(("," if index else "") + "\n " + json.dumps(row, ensure_ascii=False))
    handle.write("\n]\n")
    return count
