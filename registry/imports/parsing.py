"""Reading uploaded CSV and XLSX files safely: encodings, limits, zip bombs, formulas.

A file is read as a header row and then rows of text cells, numbered as the
spreadsheet numbers them (the header is row 1). A cell that holds a formula
comes back as a `Formula`, so that the checks can refuse it: formulas are
never evaluated. Anything wrong with the file as a whole raises `FileRefused`
with a message for the user.
"""
import csv
import io
import logging
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Iterator

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from registry.core.errors import BadInput

log = logging.getLogger(__name__)

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
# An XLSX is a zip archive: refuse one that unpacks into far more than it weighs.
MAX_ZIP_MEMBERS = 1000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM = 1024 * 1024  # small parts may compress very well, harmlessly
DELIMITERS = (",", ";", "\t")
_BARE_CR = re.compile(r"\r(?!\n)")

EMPTY = _l("The file is empty.")
NO_HEADER = _l("The first row must hold the column names.")
TOO_LARGE = _l("The file is larger than %(max)d MB. Split it into smaller files.")
TOO_MANY_ROWS = _l("The file has more than %(max)d rows. Split it into smaller files.")
WRONG_TYPE = _l("Send a CSV or XLSX file.")
ENCODING = _l("Line %(line)d is not in UTF-8 or UTF-16. Save the file as “CSV UTF-8” "
              "and send it again.")
BARE_CR = _l("Line %(line)d ends with a lone carriage return. Save the file again as "
             "“CSV UTF-8”.")
MALFORMED = _l("Row %(row)d is not valid CSV: look for a quotation mark that is opened "
               "and never closed.")
NOT_XLSX = _l("This is not an XLSX spreadsheet, or it is damaged.")
ZIP_BOMB = _l("The spreadsheet would be far too large once unpacked; it was refused.")
DUPLICATE_HEADER = _l("Two columns are called “%(name)s”.")


class Formula(str):
    """The text of a spreadsheet cell that holds a formula (never evaluated)."""


class FileRefused(BadInput):
    """A file that cannot be read at all; message translated, msgid kept for storing."""

    def __init__(self, message, **params):
        self.msgid = msgid_of(message)
        self.params = params
        super().__init__(gettext(self.msgid, **params))


def msgid_of(message) -> str:
    """Return the English msgid behind a lazy message, to store and translate later."""
    if isinstance(message, str):
        return message
    with force_locale("en"):  # the msgids are English: no catalogue, no change
        return str(message)


@dataclass
class Table:
    """The header row of a file and an iterator over its other rows."""

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number, cells), blank rows skipped
    row_estimate: int | None = None


def read_table(filename: str, content: bytes) -> Table:
    """Return the table in an uploaded file; raise FileRefused if it cannot be read."""
    if len(content) > MAX_BYTES:
        raise FileRefused(TOO_LARGE, max=MAX_BYTES // (1024 * 1024))
    if not content.strip():
        raise FileRefused(EMPTY)
    kind = file_kind(filename)
    if kind == "xlsx":
        return _read_xlsx(content)
    if kind == "csv":
        return _read_csv(content)
    raise FileRefused(WRONG_TYPE)


def file_kind(filename: str) -> str | None:
    """Return "csv" or "xlsx" from a file name, or None for anything else."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return extension if extension in ("csv", "xlsx") else None


def count_rows(table: Table) -> int:
    """Read every row of table, so that errors anywhere show now; return how many."""
    return sum(1 for _ in table.rows)


# CSV -------------------------------------------------------------------------

def _read_csv(content: bytes) -> Table:
    text = _decode(content)
    if match := _BARE_CR.search(text):
        raise FileRefused(BARE_CR, line=text.count("\n", 0, match.start()) + 1)
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    headers = _header(_next_record(reader, 1))
    return Table(headers, _csv_rows(reader), text.count("\n"))


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        content, encoding = content[3:], "utf-8"
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Excel's "Unicode text"; the BOM tells the byte order
    else:
        encoding = "utf-8"
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as error:
        before = content[:error.start].decode(encoding, errors="replace")
        raise FileRefused(ENCODING, line=before.count("\n") + 1) from None


def _next_record(reader, row_number: int) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error:
        raise FileRefused(MALFORMED, row=row_number) from None


def _csv_rows(reader) -> Iterator[tuple[int, list[str]]]:
    row_number, kept = 1, 0
    while True:
        row_number += 1
        cells = _next_record(reader, row_number)
        if cells is None:
            return
        if any(cell.strip() for cell in cells):
            kept += 1
            if kept > MAX_ROWS:
                raise FileRefused(TOO_MANY_ROWS, max=MAX_ROWS)
            yield row_number, cells


def _header(cells: list | None) -> list[str]:
    headers = [str(cell or "").strip() for cell in (cells or [])]
    if not any(headers) or any(isinstance(cell, Formula) for cell in cells):
        raise FileRefused(NO_HEADER)
    from registry.imports.rows import header_key

    seen = set()
    for header in filter(None, headers):
        if header_key(header) in seen:
            raise FileRefused(DUPLICATE_HEADER, name=header)
        seen.add(header_key(header))
    return headers


# XLSX ------------------------------------------------------------------------

def _read_xlsx(content: bytes) -> Table:
    import openpyxl

    if not openpyxl.DEFUSEDXML:
        # openpyxl parses with defusedxml when it is installed; without it an
        # XML entity bomb could exhaust memory, so refuse to read at all.
        raise RuntimeError("defusedxml is required to read XLSX files safely")
    _check_archive(content)
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True,
                                      data_only=False)
        sheet = book.worksheets[0]
        rows = sheet.iter_rows()
        headers = _header(_xlsx_cells(next(rows, ())))
    except FileRefused:
        raise
    except Exception:  # openpyxl raises many kinds on a damaged file
        log.warning("An XLSX upload could not be opened", exc_info=True)
        raise FileRefused(NOT_XLSX) from None
    estimate = sheet.max_row if isinstance(sheet.max_row, int) else None
    if estimate and estimate > MAX_ROWS + 1:
        book.close()
        raise FileRefused(TOO_MANY_ROWS, max=MAX_ROWS)
    return Table(headers, _xlsx_rows(book, rows), estimate)


def _check_archive(content: bytes) -> None:
    """Refuse a zip with too many members or one that would unpack enormously."""
    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError):
        raise FileRefused(NOT_XLSX) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise FileRefused(ZIP_BOMB)
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise FileRefused(ZIP_BOMB)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECKED_FROM and ratio > MAX_COMPRESSION_RATIO:
            raise FileRefused(ZIP_BOMB)


def _xlsx_rows(book, rows) -> Iterator[tuple[int, list[str]]]:
    kept = 0
    try:
        for row_number, row in enumerate(rows, start=2):
            cells = _xlsx_cells(row)
            if any(cells):
                kept += 1
                if kept > MAX_ROWS:
                    raise FileRefused(TOO_MANY_ROWS, max=MAX_ROWS)
                yield row_number, cells
    finally:
        book.close()


def _xlsx_cells(row) -> list[str]:
    return [_xlsx_text(cell) for cell in row]


def _xlsx_text(cell) -> str:
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if getattr(cell, "data_type", None) == "f":
        return Formula(str(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
