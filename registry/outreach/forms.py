"""Forms of the occasions' pages."""
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional,
                                ValidationError)

from registry.core.forms import Form, choices
from registry.outreach.calendar import LUNAR, SOLAR
from registry.outreach.models import DEFAULT_REMIND_DAYS

KIND_LABELS = {SOLAR: _l("Solar (Gregorian) calendar"), LUNAR: _l("Lunar calendar")}
REQUIRED = _l("This field is required.")
WHOLE_NUMBER = _l("Enter a whole number.")
SOLAR_MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31,
                    11: 30, 12: 31}


def _too_long(limit: int):
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


class OccasionForm(Form):
    name = StringField(_l("Name in Vietnamese"),
                       validators=[DataRequired(REQUIRED), _too_long(200)])
    name_en = StringField(_l("Name in English"),
                          validators=[DataRequired(REQUIRED), _too_long(200)])
    kind = SelectField(_l("Calendar"), choices=choices(KIND_LABELS.items()), default=SOLAR)
    month = IntegerField(_l("Month"), validators=[
        InputRequired(REQUIRED),
        NumberRange(1, 12, message=_l("A month is between 1 and 12."))],
        description=_l("Of the chosen calendar; a lunar date is never of a leap month."))
    day = IntegerField(_l("Day"), validators=[InputRequired(REQUIRED)])
    remind_days_before = IntegerField(
        _l("Remind from (days before)"), default=DEFAULT_REMIND_DAYS,
        validators=[InputRequired(REQUIRED),
                    NumberRange(0, 366, message=_l("Between 0 and 366 days."))],
        description=_l("The home page reminds officers from this many days before the date."))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), _too_long(4000)])

    def validate_day(self, field) -> None:
        if field.data is None:
            return
        month = self.month.data if self.month.data in SOLAR_MONTH_DAYS else None
        if self.kind.data == LUNAR and not 1 <= field.data <= 30:
            raise ValidationError(_l("A lunar month has at most 30 days: enter a day from 1 "
                                     "to 30. In a month of 29 days the 30th falls on the "
                                     "29th."))
        if self.kind.data == SOLAR and month and not 1 <= field.data <= SOLAR_MONTH_DAYS[month]:
            raise ValidationError(_l("Month %(month)d has at most %(days)d days.",
                                     month=month, days=SOLAR_MONTH_DAYS[month]))
        if not 1 <= field.data <= 31:
            raise ValidationError(_l("A day is between 1 and 31."))

    def fields(self) -> dict:
        """Return the cleaned values for registry.outreach.operations."""
        return {"name": self.name.data.strip(), "name_en": self.name_en.data.strip(),
                "kind": self.kind.data, "month": self.month.data, "day": self.day.data,
                "remind_days_before": self.remind_days_before.data,
                "notes": (self.notes.data or "").strip() or None}



class ActionForm(Form):
    """A button that only needs the CSRF token."""
