"""Forms and labels of the imports domain: the upload and the column mapping."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import Length

from registry.core.forms import Form, choices
from registry.imports import models, rows

STATUS_LABELS = {
    models.VALID: _l("Valid"), models.INVALID: _l("Invalid"),
    models.DUPLICATE_IN_FILE: _l("Duplicate in the file"),
    models.ALREADY_IMPORTED: _l("Already imported"),
    models.PROBABLY_EXISTS: _l("Probably already in the registry"),
}
STATE_LABELS = {
    models.UPLOADED: _l("Waiting for the columns to be mapped"),
    models.CHECKING: _l("Checking the rows"), models.CHECKED: _l("Checked, not imported"),
    models.IMPORTING: _l("Importing"), models.IMPORTED: _l("Imported"),
    models.UNDOING: _l("Being undone"), models.UNDONE: _l("Undone"),
    models.FAILED: _l("Could not be read"),
}
IGNORE = _l("— ignore this column —")


class UploadForm(Form):
    file = FileField(_l("Spreadsheet (CSV or XLSX)"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(["csv", "xlsx"], _l("Send a CSV or XLSX file."))])
    source_name = StringField(_l("Where the list comes from"), validators=[
        Length(max=80, message=_l("At most %(max)d characters.", max=80))],
        description=_l("For example: the People's Committee of Hoằng Hóa, 2026 survey"))


class MappingForm(Form):
    """A select per column of the file that was not recognised."""

    @classmethod
    def for_columns(cls, columns: list[str]) -> "MappingForm":
        """Return a mapping form with one field per column, named column_0, column_1..."""
        options = choices(((name, rows.FIELD_LABELS[name]) for name in rows.FIELDS),
                          blank=str(IGNORE))

        class Bound(cls):
            pass

        for number, column in enumerate(columns):
            setattr(Bound, f"column_{number}", SelectField(column, choices=options,
                                                           default=""))
        form = Bound()
        form.columns = columns
        return form

    def chosen(self) -> dict[str, str | None]:
        """Return {column: field or None} as chosen."""
        return {column: self[f"column_{number}"].data or None
                for number, column in enumerate(self.columns)}
