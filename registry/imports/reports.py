"""Files the imports domain hands out: the dry run report and the blank template.

Every text cell that a spreadsheet could take for a formula (it begins with
= + - @, a tab or a carriage return) is written with a leading apostrophe, so
that opening a report never runs anything that came in with the upload.
"""
import csv
import io

from flask_babel import gettext as _
from sqlalchemy import select

from registry.extensions import db
from registry.imports import rows
from registry.imports.models import VALID, ImportBatch, ImportRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_BOM = "\ufeff"  # so that Excel opens the CSV as UTF-8


def escape_cell(value):
    """Return value safe to put in a spreadsheet cell: never read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def report_lines(batch: ImportBatch):
    """Yield the report's header, then a line per problem of each row not plainly valid.

    Those are the rows not imported, and the rows that probably are someone
    in the registry already.
    """
    from registry.imports.forms import STATUS_LABELS

    yield [_("Row"), _("Status"), _("Column"), _("Problem"), _("Reference in the source")]
    query = (select(ImportRow).where(ImportRow.batch_id == batch.id,
                                     ImportRow.status != VALID)
             .order_by(ImportRow.row_number).execution_options(yield_per=1000))
    for row in db.session.scalars(query):
        label = str(STATUS_LABELS.get(row.status, row.status))
        for problem in row.errors or [{"column": None, "message": "", "params": {}}]:
            message = rows.error_text(problem) if problem["message"] else ""
            yield [row.row_number, label, problem["column"] or "", message,
                   row.source_ref or ""]


def report_csv(batch: ImportBatch) -> bytes:
    """Return the dry run report of batch as a UTF-8 CSV."""
    return _csv(report_lines(batch))


def report_xlsx(batch: ImportBatch) -> bytes:
    """Return the dry run report of batch as an XLSX workbook."""
    return _xlsx(report_lines(batch), _("Report"))


def template_headers() -> list[str]:
    """Return the template's headers: the Vietnamese name, then the English one."""
    return [f"{vietnamese} / {name}" for name, vietnamese in rows.HEADERS.items()]


def template_csv() -> bytes:
    return _csv([template_headers()])


def template_xlsx() -> bytes:
    return _xlsx([template_headers()], "Danh sách")


def _csv(lines) -> bytes:
    buffer = io.StringIO()
    buffer.write(CSV_BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in lines:
        writer.writerow([escape_cell(value) for value in line])
    return buffer.getvalue().encode("utf-8")


def _xlsx(lines, title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    for line in lines:
        sheet.append([escape_cell(value) for value in line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
