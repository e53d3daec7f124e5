"""Lists of people as CSV and XLSX files, safe to open in a spreadsheet.

Every text cell that a spreadsheet could take for a formula (it begins with
= + - @, a tab or a carriage return) is written with a leading apostrophe, so
that opening an export never runs anything a person or an import typed in.
Identity documents are left out: showing them is audited one record at a time.
"""
import csv
import io

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from registry.core.templating import format_dmy

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_BOM = "\ufeff"  # so that Excel opens the CSV as UTF-8
COLUMNS = (
    ("id", _l("Record number")), ("full_name", _l("Full name")), ("gender", _l("Gender")),
    ("birth", _l("Date of birth")), ("hometown", _l("Hometown")),
    ("hometown_given", _l("Hometown as given")), ("country", _l("Country")),
    ("city", _l("City")), ("purpose", _l("Purpose of stay")),
    ("residence_status", _l("Residence status")), ("status", _l("Record status")),
    ("occupation", _l("Occupation")), ("expertise", _l("Field of expertise")),
    ("phones", _l("Phones")), ("emails", _l("E-mails")), ("created_at", _l("Entered on")),
)


def escape_cell(value):
    """Return value safe to put in a spreadsheet cell: never read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def header() -> list[str]:
    """Return the column headings in the user's language."""
    return [str(label) for _name, label in COLUMNS]


def person_line(person, labels) -> list:
    """Return the cells of one person, codes turned into labels."""
    birth = "/".join(str(part) for part in (person.birth_day, person.birth_month,
                                            person.birth_year) if part)
    values = {
        "id": person.id, "full_name": person.full_name,
        "gender": labels.gender(person.gender), "birth": birth,
        "hometown": person.hometown.full_name if person.hometown else "",
        "hometown_given": person.hometown_given or "",
        "country": labels.country(person.country_code), "city": person.city or "",
        "purpose": labels.purpose(person.purpose),
        "residence_status": labels.residence(person.residence_status),
        "status": labels.status(person.status), "occupation": person.occupation or "",
        "expertise": person.expertise or "",
        "phones": ", ".join(phone.number for phone in person.phones),
        "emails": ", ".join(email.address for email in person.emails),
        "created_at": format_dmy(person.created_at),
    }
    return [values[name] for name, _label in COLUMNS]


def to_csv(lines) -> bytes:
    """Return lines as a UTF-8 CSV file with a byte order mark, cells escaped."""
    buffer = io.StringIO()
    buffer.write(CSV_BOM)
    writer = csv.writer(buffer)
    for line in lines:
        writer.writerow([escape_cell(value) for value in line])
    return buffer.getvalue().encode("utf-8")


def to_xlsx(sheets: list[tuple[str, list]]) -> bytes:
    """Return a workbook with a sheet per (title, lines), cells escaped and never formulas."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, lines in sheets:
        sheet = workbook.create_sheet(title=_sheet_title(title))
        for line in lines:
            sheet.append([_xlsx_value(value) for value in line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value):
    # openpyxl stores a string starting with "=" as a formula; escaping prevents it.
    return escape_cell(value) if value is not None else ""


def _sheet_title(title: str) -> str:
    # Excel allows 31 characters and none of []:*?/\ in a sheet's name.
    clean = "".join(" " if char in "[]:*?/\\" else char for char in str(title))
    return clean[:31] or _("Sheet")
