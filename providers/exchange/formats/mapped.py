"""A partner's own export, read through a mapping: which of their columns holds each of our fields, and
which of our terms each of their values means.

A mapping is a small JSON document that partners write by hand and curators build in the admin
(docs/IMPORT.md, "Mappings"). ``parse_mapping`` checks one and says everything wrong with it at
once; ``Export`` reads the file (CSV or JSON, a folder or a .zip holding several tables of one
export); ``records`` turns its rows into the records every format produces, so the importer's
validation and three-way merge apply to them unchanged. Values of the partner's vocabulary that
the mapping does not name are reported with the record, never silently dropped.
"""

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from providers.exchange.formats.files import (
    DELIMITERS,
    Archive,
    decode_export,
    detect_delimiter,
    is_zip,
    read_bytes,
    read_csv_rows,
)
from providers.exchange.formats.ours import (
    COLUMNS,
    DAY_CODES,
    HOURS_COLUMN,
    Columns,
    parse_opening_hours,
    record_from_cells,
)
from providers.exchange.records import TERM_FIELDS, ImportFileError, blank_placeholder, subdivision_name
from providers.models import Provider
from providers.models.fields import COUNTRY_CODES
from providers.search.vocabulary import all_terms

FORMATS = ("csv", "json")
# Our fields a mapping may fill from the partner's columns: our CSV's, except what the importer assigns.
FIELDS = tuple(column for column in COLUMNS if column not in {"source", "external_id", "slug", *TERM_FIELDS})
KEYS = (
    "format", "encoding", "delimiter", "file", "records", "country", "id", "fields", "terms", "opening_hours",
    "tables", "only_with_terms",
)  # fmt: skip
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("monday", "mon", "mo"),
            ("tuesday", "tue", "tu"),
            ("wednesday", "wed", "we"),
            ("thursday", "thu", "th"),
            ("friday", "fri", "fr"),
            ("saturday", "sat", "sa"),
            ("sunday", "sun", "su"),
        )
    )
    for name in names
}
_EXTERNAL_ID_LENGTH = Provider._meta.get_field("external_id").max_length


class MappingError(ImportFileError):
    """The mapping itself is wrong: nothing is read, and the message lists every problem."""


def fold(value: str) -> str:
    """How values are compared: without case, with runs of spaces as one."""
    return " ".join(value.split()).casefold()


@dataclass(frozen=True)
class FromColumns:
    """Where one of our values comes from: a column, several joined with a space, or the first of several
    that is not blank. An id's columns join with "|", which names and postcodes seldom hold."""

    columns: tuple[str, ...]
    first_of: bool = False
    separator: str = " "

    def value(self, row: dict) -> str:
        values = [text for column in self.columns if (text := cell_text(row.get(column)))]
        if self.first_of:
            return values[0] if values else ""
        return self.separator.join(values)


@dataclass(frozen=True)
class TermColumn:
    """The column one of our taxonomies is read from, and what each of its values means."""

    taxonomy: str
    column: str
    split: str
    # Folded value -> our slugs; an empty tuple maps a value to nothing on purpose.
    values: dict
    table: str = ""


@dataclass(frozen=True)
class HoursTable:
    """Opening hours kept in a table of their own, a row per opening: a day column and a times column."""

    table: str
    day: str
    times: str
    # Only rows whose columns hold these values count (compared as ``fold`` does).
    where: dict


@dataclass(frozen=True)
class Table:
    """Another table of the same export, joined to the main one by the record's id."""

    name: str
    file: str
    id: FromColumns


@dataclass(frozen=True)
class Mapping:
    format: str
    document: dict
    id: FromColumns
    fields: dict
    terms: tuple = ()
    encoding: str = ""
    delimiter: str = ""
    file: str = ""
    records: str = ""
    country: str = ""
    opening_hours: HoursTable | None = None
    tables: dict = field(default_factory=dict)
    only_with_terms: tuple = ()

    def slugs(self) -> dict[str, set[str]]:
        """Every term slug the mapping names, by taxonomy."""
        named: dict[str, set[str]] = {}
        for term_column in self.terms:
            for slugs in term_column.values.values():
                named.setdefault(term_column.taxonomy, set()).update(slugs)
        return named

    def as_json(self) -> str:
        return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"


def load_mapping(path: Path) -> Mapping:
    """The mapping in the JSON file ``path``."""
    try:
        document = json.loads(read_bytes(path).decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise MappingError(f"The mapping {path.name} is not UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise MappingError(f"The mapping {path.name} is not valid JSON: {error.msg} (line {error.lineno}).") from None
    return parse_mapping(document, path.name)


def parse_mapping(document, name: str = "The mapping") -> Mapping:
    """``document`` (the mapping's JSON, decoded) checked and parsed; MappingError lists every problem found."""
    problems: list[str] = []
    if not isinstance(document, dict):
        raise MappingError(f"{name} must be a JSON object.")
    unknown = [key for key in document if key not in KEYS]
    if unknown:
        problems.append(f"unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(KEYS)})")
    format_name = document.get("format")
    if format_name not in FORMATS:
        problems.append(f'"format" must be "csv" or "json", not {format_name!r}')
    encoding = _text_option(document, "encoding", problems)
    if encoding:
        try:
            "".encode(encoding)
        except LookupError:
            problems.append(f'"encoding" {encoding!r} is not an encoding Python knows (try "utf-8" or "latin-1")')
    delimiter = _text_option(document, "delimiter", problems)
    if delimiter and len(delimiter) != 1:
        problems.append(f'"delimiter" must be one character, such as {" ".join(map(repr, DELIMITERS))}')
    country = _text_option(document, "country", problems).upper()
    if country and country not in COUNTRY_CODES:
        problems.append(f'"country" {country!r} is not an ISO 3166-1 alpha-2 code such as "GB" or "US"')
    if "id" in document:
        identifier = _source(document["id"], '"id"', problems, ID_SEPARATOR)
    else:
        identifier = None
        problems.append('"id" must name the column, or columns, that identify a record from one file to the next')
    main_file = _text_option(document, "file", problems)
    records_path = _text_option(document, "records", problems)
    fields = _fields(document.get("fields", {}), problems)
    tables = _tables(document.get("tables", {}), problems)
    terms = _terms(document.get("terms", {}), tables, problems)
    opening_hours = _opening_hours(document.get("opening_hours"), tables, problems)
    if opening_hours is not None and HOURS_COLUMN in fields:
        problems.append('opening hours come from "fields" or from "opening_hours", not both')
    only_with_terms = document.get("only_with_terms", [])
    if not isinstance(only_with_terms, list) or any(item not in TERM_FIELDS for item in only_with_terms):
        problems.append(f'"only_with_terms" must be a list of taxonomies ({", ".join(TERM_FIELDS)})')
    elif missing := [item for item in only_with_terms if item not in {column.taxonomy for column in terms}]:
        problems.append(f'"only_with_terms" names {", ".join(missing)}, which "terms" does not map')
    if problems:
        raise MappingError(f"{name} cannot be used: " + "; ".join(problems) + ".")
    return Mapping(
        format=format_name,
        document=document,
        id=identifier,
        fields=fields,
        terms=terms,
        encoding=encoding,
        delimiter=delimiter,
        file=main_file,
        records=records_path,
        country=country,
        opening_hours=opening_hours,
        tables=tables,
        only_with_terms=tuple(only_with_terms),
    )


def _text_option(document, key, problems):
    value = document.get(key, "")
    if not isinstance(value, str):
        problems.append(f'"{key}" must be text')
        return ""
    return value


ID_SEPARATOR = "|"


def _source(spec, where, problems, separator=" ") -> FromColumns | None:
    """A column name, a list of them (joined with a space), or {"first_of": [...]}."""
    first_of = isinstance(spec, dict) and set(spec) == {"first_of"}
    columns = spec["first_of"] if first_of else spec
    if isinstance(columns, str):
        columns = [columns]
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) and c for c in columns):
        problems.append(f'{where} must be a column name, a list of column names or {{"first_of": [column, ...]}}')
        return None
    return FromColumns(tuple(columns), first_of, separator)


def _fields(spec, problems):
    if not isinstance(spec, dict):
        problems.append('"fields" must be an object: {our field: their column}')
        return {}
    fields = {}
    for name, columns in spec.items():
        if name in TERM_FIELDS:
            problems.append(f'"fields" maps {name!r}, a taxonomy: map its values under "terms"')
        elif name not in FIELDS:
            problems.append(f'"fields" maps {name!r}, which is not one of our fields ({", ".join(FIELDS)})')
        elif (source := _source(columns, f'"fields" → {name!r}', problems)) is not None:
            fields[name] = source
    if "name" not in fields:
        problems.append('"fields" must say which column holds the name')
    return fields


def _tables(spec, problems):
    if not isinstance(spec, dict):
        problems.append('"tables" must be an object: {table name: {"file": ..., "id": ...}}')
        return {}
    tables = {}
    for name, table in spec.items():
        where = f'"tables" → {name!r}'
        if not isinstance(table, dict) or not isinstance(table.get("file"), str) or "id" not in table:
            problems.append(f'{where} must give "file" (a file of the same export) and "id" (its id column)')
            continue
        if _unknown_keys(table, TABLE_KEYS, where, problems):
            continue
        if Path(table["file"]).name != table["file"] or table["file"] in ("", ".", ".."):
            problems.append(f'{where}: "file" must be a file name beside the main file, without a folder')
            continue
        identifier = _source(table["id"], f'{where} → "id"', problems, ID_SEPARATOR)
        if identifier is not None:
            tables[name] = Table(name, table["file"], identifier)
    return tables


def _terms(spec, tables, problems):
    if not isinstance(spec, dict):
        problems.append('"terms" must be an object: {taxonomy: {"column": ..., "values": {...}}}')
        return ()
    terms = []
    for taxonomy, entries in spec.items():
        if taxonomy not in TERM_FIELDS:
            problems.append(f'"terms" maps {taxonomy!r}, which is not one of our taxonomies ({", ".join(TERM_FIELDS)})')
            continue
        # One taxonomy may be read from several columns.
        for entry in entries if isinstance(entries, list) else [entries]:
            term_column = _term_column(taxonomy, entry, tables, problems)
            if term_column is not None:
                terms.append(term_column)
    return tuple(terms)


def _unknown_keys(entry, known, where, problems):
    """Whether ``entry`` has keys beyond ``known``: a typo ("spilt") must not pass for a key left out."""
    unknown = [key for key in entry if key not in known]
    if unknown:
        problems.append(f"{where} has unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
    return bool(unknown)


TERM_KEYS = ("column", "split", "values", "table")
TABLE_KEYS = ("file", "id")
HOURS_KEYS = ("table", "day", "times", "where")


def _term_column(taxonomy, entry, tables, problems):
    where = f'"terms" → {taxonomy!r}'
    if not isinstance(entry, dict) or not isinstance(entry.get("column"), str) or not entry["column"]:
        problems.append(f'{where} must give the "column" its values come from')
        return None
    if _unknown_keys(entry, TERM_KEYS, where, problems):
        return None
    if not isinstance(entry.get("split", ""), str):
        problems.append(f'{where} → "split" must be text, the separator between values')
        return None
    table = entry.get("table", "")
    if not isinstance(table, str) or (table and table not in tables):
        problems.append(f'{where} reads the table {table!r}, which "tables" does not declare')
        return None
    if not isinstance(entry.get("values", {}), dict):
        problems.append(f'{where} → "values" must be an object: {{their value: our term slug}}')
        return None
    values = {}
    for value, slugs in entry.get("values", {}).items():
        if slugs is None:
            slugs = []
        elif isinstance(slugs, str):
            slugs = [slugs]
        if not isinstance(slugs, list) or not all(isinstance(slug, str) and slug for slug in slugs):
            problems.append(f"{where}: {value!r} must map to a term slug, a list of them, or null for none")
            continue
        values[fold(value)] = tuple(slugs)
    return TermColumn(taxonomy, entry["column"], entry.get("split", ""), values, table)


def _opening_hours(spec, tables, problems):
    if spec is None:
        return None
    keys = ("table", "day", "times")
    if not isinstance(spec, dict) or not all(isinstance(spec.get(key), str) and spec[key] for key in keys):
        problems.append('"opening_hours" must give the "table", its "day" column and its "times" column')
        return None
    if _unknown_keys(spec, HOURS_KEYS, '"opening_hours"', problems):
        return None
    if spec["table"] not in tables:
        problems.append(f'"opening_hours" reads the table {spec["table"]!r}, which "tables" does not declare')
        return None
    where = spec.get("where", {})
    if not isinstance(where, dict) or not all(isinstance(value, str) for value in where.values()):
        problems.append('"opening_hours" → "where" must be an object: {column: the value a row must hold}')
        return None
    return HoursTable(spec["table"], spec["day"], spec["times"], {column: fold(v) for column, v in where.items()})


def check_terms(mapping: Mapping) -> None:
    """Raise MappingError when the mapping names a term slug we do not have."""
    known = {field: {term[0] for term in terms.values()} for field, terms in all_terms().items()}
    problems = [
        f"{taxonomy}: {', '.join(sorted(slugs - known.get(taxonomy, set())))}"
        for taxonomy, slugs in mapping.slugs().items()
        if slugs - known.get(taxonomy, set())
    ]
    if problems:
        raise MappingError("The mapping names terms we do not have: " + "; ".join(problems) + ".")


# Reading the export


def cell_text(value) -> str:
    """A cell, or a JSON value, as text: JSON's numbers and booleans as their JSON text, null as blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(filter(None, map(cell_text, value)))
    return str(value).strip()


class Export:
    """The tables of a partner's export (a file, a folder or a .zip), as rows of their columns.

    JSON objects are flattened: a nested object's keys become dotted columns ("address.city"),
    and a list of plain values stays a list, so a term column can be a JSON list.
    """

    def __init__(self, path: Path, mapping: Mapping):
        self.mapping = mapping
        self._path = path
        self._archive = None
        data, self.name = self._main_file()
        self.rows = self._table_rows(data, self.name)
        self.tables = {name: self._table(table) for name, table in mapping.tables.items()}

    @property
    def columns(self) -> list[str]:
        """The main table's columns, in the order they first appear."""
        return self.table_columns("")

    def table_columns(self, table: str) -> list[str]:
        """The columns of ``table`` ("" for the main one), in the order they first appear."""
        return list(dict.fromkeys(column for row in self._rows_of(table) for column in row))

    def _main_file(self):
        path, mapping = self._path, self.mapping
        if path.is_dir():
            if not mapping.file:
                raise MappingError(f'{path.name} is a folder: name its main file in the mapping\'s "file".')
            return read_bytes(path / Path(mapping.file).name), mapping.file
        data = read_bytes(path)
        if not is_zip(data):
            return data, path.name
        self._archive = Archive(path)
        members = self._archive.members
        if mapping.file:
            member = self._archive.find(mapping.file)
            if member is None:
                raise MappingError(f"{path.name} has no {mapping.file}.")
        elif len(members) == 1:
            member = members[0]
        else:
            raise MappingError(f'{path.name} holds several files: name the main one in the mapping\'s "file".')
        return self._archive.read_bytes(member), member

    def _table(self, table: Table):
        """The rows of ``table``, by the id they belong to."""
        if self._archive is not None:
            member = self._archive.find(table.file)
            if member is None:
                raise ImportFileError(f"{self._path.name} has no {table.file}, the mapping's table {table.name!r}.")
            data = self._archive.read_bytes(member)
        else:
            folder = self._path if self._path.is_dir() else self._path.parent
            file_path = folder / table.file
            if not file_path.is_file():
                raise ImportFileError(
                    f"The mapping's table {table.name!r} is {table.file}, which is not beside {self.name}."
                )
            data = read_bytes(file_path)
        by_id: dict[str, list[dict]] = {}
        for row in self._table_rows(data, table.file):
            by_id.setdefault(table.id.value(row), []).append(row)
        return by_id

    def _table_rows(self, data: bytes, name: str) -> list[dict]:
        mapping = self.mapping
        text = decode_export(data, name, mapping.encoding)
        if mapping.format == "json":
            return self._json_rows(text, name)
        delimiter = mapping.delimiter or detect_delimiter(text)
        header, rows = read_csv_rows(text, name, delimiter)
        if len(header) < 2 and delimiter == mapping.delimiter:
            raise ImportFileError(
                f'{name} has a single column: is its separator really {delimiter!r}? Leave "delimiter" out '
                "to have it detected."
            )
        return [{column: (value or "").strip() for column, value in row.items() if column} for row in rows]

    def _json_rows(self, text, name):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ImportFileError(f"{name} is not valid JSON: {error.msg} (line {error.lineno}).") from None
        path = self.mapping.records
        for key in path.split(".") if path else ():
            if not isinstance(data, dict) or key not in data:
                raise ImportFileError(f'{name} has no {path!r} (the mapping\'s "records"): no {key!r} there.')
            data = data[key]
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            where = f"{path!r} in {name}" if path else name
            raise ImportFileError(f"{where} must be a list of objects, one per record.")
        return [_flatten(item) for item in data]

    def distinct_values(self, column: str, split: str = "", table: str = "") -> Counter:
        """How often each value of ``column`` occurs, ``split`` into values as a term column reads it."""
        counts: Counter = Counter()
        for row in self._rows_of(table):
            counts.update(_split(row.get(column), split))
        return counts

    def _rows_of(self, table):
        if not table:
            return self.rows
        return [row for rows in self.tables.get(table, {}).values() for row in rows]


def _flatten(item, prefix=""):
    flat = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list) and any(isinstance(element, dict) for element in value):
            for index, element in enumerate(value):
                if isinstance(element, dict):
                    flat.update(_flatten(element, f"{name}.{index}."))
        else:
            flat[name] = value
    return flat


def _split(value, separator):
    if isinstance(value, list):
        parts = [cell_text(element) for element in value]
    else:
        text = cell_text(value)
        parts = text.split(separator) if separator else [text]
    return [part for part in (" ".join(part.split()) for part in parts) if blank_placeholder(part)]


# Records


class MappedRecords(list):
    """The records read through a mapping, and how many rows ``only_with_terms`` left out."""

    left_out: int = 0


def read(path: Path, mapping: Mapping) -> MappedRecords:
    """A Record for every row of the export at ``path`` that the mapping keeps, in file order."""
    if not isinstance(mapping, Mapping):
        raise MappingError("This format is read through a mapping: give one with --mapping, or save one on the source.")
    return records(Export(path, mapping))


def records(export: Export, limit: int | None = None) -> MappedRecords:
    """The export's records, at most ``limit`` of them."""
    mapping = export.mapping
    if mapping.format == "csv":
        _check_columns(export)
    columns = Columns([*mapping.fields, *(["country"] if mapping.country else [])])
    vocabulary = _vocabulary(mapping)
    kept = MappedRecords()
    for number, row in enumerate(export.rows, start=1):
        if limit is not None and len(kept) >= limit:
            break
        record = _record(number, row, export, columns, vocabulary)
        if mapping.only_with_terms and not any(record.terms.get(name) for name in mapping.only_with_terms):
            kept.left_out += 1
            continue
        kept.append(record)
    return kept


def _check_columns(export):
    """Raise ImportFileError when the mapping names columns a CSV table does not have: a misspelt column
    would otherwise leave a field blank in every record. (A JSON export may leave out a key that is
    blank in every record, so only CSV headers are held to it.)"""
    mapping = export.mapping
    wanted = {"": [*mapping.id.columns, *(column for source in mapping.fields.values() for column in source.columns)]}
    for name, table in mapping.tables.items():
        wanted.setdefault(name, []).extend(table.id.columns)
    for term_column in mapping.terms:
        wanted.setdefault(term_column.table, []).append(term_column.column)
    if (hours := mapping.opening_hours) is not None:
        wanted.setdefault(hours.table, []).extend([hours.day, hours.times, *hours.where])
    problems = []
    for table, columns in wanted.items():
        present = export.table_columns(table)
        missing = [column for column in dict.fromkeys(columns) if column not in present]
        if present and missing:
            file_name = mapping.tables[table].file if table else export.name
            problems.append(f"{file_name} has no column {', '.join(map(repr, missing))} (it has {', '.join(present)})")
    if problems:
        raise MappingError("The mapping names columns the file does not have: " + "; ".join(problems) + ".")


def _vocabulary(mapping):
    """For each column read for terms (by table), the folded values some entry maps, to tell unmapped ones."""
    known: dict[tuple[str, str], set[str]] = {}
    for term_column in mapping.terms:
        known.setdefault((term_column.table, term_column.column), set()).update(term_column.values)
    return known


def _record(number, row, export, columns, vocabulary):
    mapping = export.mapping
    cells = {name: blank_placeholder(source.value(row), name) for name, source in mapping.fields.items()}
    if mapping.country and not cells.get("country"):
        cells["country"] = mapping.country
    country = cells.get("country", "").upper()
    if country and (region := cells.get("region")):
        cells["region"] = subdivision_name(country, region) or region
    record = record_from_cells(number, cells, columns)
    record.external_id = _external_id(mapping.id.value(row))
    if not record.external_id:
        record.add_error("id", f"has no id: {', '.join(mapping.id.columns)} blank")
    related = {name: rows.get(mapping.id.value(row), []) for name, rows in export.tables.items()}
    _set_terms(record, row, related, mapping, vocabulary)
    if mapping.opening_hours is not None:
        record.opening_hours = _hours(record, related[mapping.opening_hours.table], mapping.opening_hours)
    return record


def _external_id(text):
    """The record's id; one longer than we store becomes a digest of it, still the same from file to file."""
    if len(text) <= _EXTERNAL_ID_LENGTH:
        return text
    return hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def _set_terms(record, row, related, mapping, vocabulary):
    unmapped = {}
    for term_column in mapping.terms:
        rows = related[term_column.table] if term_column.table else [row]
        slugs = record.terms.setdefault(term_column.taxonomy, [])
        for value in (value for each in rows for value in _split(each.get(term_column.column), term_column.split)):
            folded = fold(value)
            if folded in term_column.values:
                slugs.extend(slug for slug in term_column.values[folded] if slug not in slugs)
            elif folded not in vocabulary[(term_column.table, term_column.column)]:
                unmapped.setdefault(folded, f"{term_column.column}: {value}")
    record.unmapped.extend(unmapped.values())


def _hours(record, rows, spec):
    """The intervals of ``rows`` (those matching ``spec.where``), read as our opening-hours text."""
    entries = []
    for row in rows:
        if any(fold(cell_text(row.get(column))) != value for column, value in spec.where.items()):
            continue
        day, times = cell_text(row.get(spec.day)), cell_text(row.get(spec.times))
        weekday = _WEEKDAYS.get(day.casefold().rstrip("."))
        if weekday is None:
            record.add_error(HOURS_COLUMN, f"{day!r} is not a day of the week")
            return None
        entries.append(f"{DAY_CODES[weekday]} {times}")
    try:
        return parse_opening_hours("; ".join(entries))
    except ValueError as error:
        record.add_error(HOURS_COLUMN, str(error))
        return None
