"""Reading partner files safely: size limits, encodings, binary files and archives.

Nothing here builds a filesystem path from a name found inside an archive:
members are read in memory, by the names the package itself declares.
"""

import codecs
import csv
import io
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.utils.text import get_valid_filename

from providers.exchange.records import ImportFileError

_ZIP_MAGIC = b"PK\x03\x04"
_BOMS = {codecs.BOM_UTF16_LE: "UTF-16", codecs.BOM_UTF16_BE: "UTF-16", codecs.BOM_UTF32_LE: "UTF-32"}


def check_size(size: int, what: str) -> None:
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ImportFileError(f"{what} is {size:,} bytes; the limit is {limit:,} bytes (IMPORT_MAX_BYTES).")


def is_zip(data: bytes) -> bool:
    return data.startswith(_ZIP_MAGIC)


def read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise ImportFileError(f"{path} does not exist.")
    if not path.is_file():
        raise ImportFileError(f"{path} is not a file.")
    check_size(path.stat().st_size, str(path.name))
    return path.read_bytes()


def _check_text(data: bytes, name: str) -> None:
    if not data.strip():
        raise ImportFileError(f"{name} is empty.")
    for bom, encoding in _BOMS.items():
        if data.startswith(bom):
            raise ImportFileError(f"{name} is encoded as {encoding}; save it as UTF-8 and try again.")
    if b"\x00" in data[:8192]:
        raise ImportFileError(f"{name} looks like a binary file, not text.")


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (a byte-order mark is allowed), or a clear error."""
    _check_text(data, name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"{name} is not UTF-8 (byte 0x{data[error.start]:02x} at position {error.start}); "
            "save it as UTF-8 and try again."
        ) from None


# What a partner's export is read as when the partner names no encoding, in this order: UTF-8 (with or
# without a byte-order mark), then the Windows and Latin-1 text that spreadsheets and older systems write.
# Latin-1 decodes any bytes, so it comes last.
EXPORT_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def decode_export(data: bytes, name: str, encoding: str = "") -> str:
    """The text of a partner's own export, in ``encoding`` when the partner names one."""
    _check_text(data, name)
    for candidate in (encoding,) if encoding else EXPORT_ENCODINGS:
        try:
            return data.decode(candidate).removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            failure = error
    raise ImportFileError(
        f"{name} is not {encoding} text (byte 0x{data[failure.start]:02x} at position {failure.start})."
    )


# The separators partners' exports use, in the order a tie is settled.
DELIMITERS = (",", ";", "\t", "|", "\u00ac")


def detect_delimiter(text: str) -> str:
    """The separator that occurs most often in the header line; a comma when none does."""
    header = text.partition("\n")[0]
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def read_csv_rows(text: str, name: str, delimiter: str = ",") -> tuple[list[str], list[dict]]:
    """The header and the rows (dicts) of CSV ``text``; a malformed file raises ImportFileError."""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as error:
        # line_num counts the lines read before the one that failed.
        raise ImportFileError(f"{name} is not readable as CSV (line {reader.line_num + 1}: {error}).") from None
    return list(reader.fieldnames or []), rows


def read_text(path: Path) -> str:
    return decode_text(read_bytes(path), path.name)


class Archive:
    """Read-only access to the members of a .zip, with limits on what it may expand to."""

    def __init__(self, path: Path):
        check_size(path.stat().st_size, path.name)
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ImportFileError(f"{path.name} is not a valid .zip archive.") from None
        expanded = sum(member.file_size for member in self._zip.infolist())
        limit = settings.IMPORT_MAX_EXPANDED_BYTES
        if expanded > limit:
            raise ImportFileError(
                f"{path.name} expands to {expanded:,} bytes; the limit is {limit:,} bytes (IMPORT_MAX_EXPANDED_BYTES)."
            )
        self.name = path.name
        self._members = {member.filename: member for member in self._zip.infolist() if not member.is_dir()}

    def find(self, file_name: str) -> str | None:
        """The member named ``file_name`` at the archive's top level or in one folder, if any."""
        for member in self._members:
            if member == file_name or (member.count("/") == 1 and member.rsplit("/", 1)[-1] == file_name):
                return member
        return None

    def has(self, member: str) -> bool:
        return member in self._members

    @property
    def members(self) -> list[str]:
        return list(self._members)

    def read_bytes(self, member: str) -> bytes:
        if member not in self._members:
            raise ImportFileError(f"{self.name} has no {member}.")
        info = self._members[member]
        # The declared size can lie; read at most one byte more than the limit to find out.
        with self._zip.open(info) as handle:
            data = handle.read(settings.IMPORT_MAX_EXPANDED_BYTES + 1)
        if len(data) > settings.IMPORT_MAX_EXPANDED_BYTES:
            raise ImportFileError(f"{member} in {self.name} expands beyond the limit.")
        return data

    def read_text(self, member: str) -> str:
        return decode_text(self.read_bytes(member), f"{member} in {self.name}")

    def close(self):
        self._zip.close()


def _disk_name(file_name):
    """A safe name for the temporary copy, so that the readers' messages name the file the curator chose."""
    try:
        name = get_valid_filename(Path(file_name).name)
    except SuspiciousFileOperation:
        return "upload"
    if len(name.encode()) > 200:
        return "upload" + Path(name).suffix[:20]
    return name


@contextmanager
def on_disk(data, file_name):
    """An uploaded or fetched file as a file for the format readers, which take a path; gone when the block ends."""
    with tempfile.TemporaryDirectory(prefix="import-") as folder:
        file_path = Path(folder) / _disk_name(file_name)
        file_path.write_bytes(data)
        yield file_path
