"""Forms of the reports domain, and the people filter read from a query string."""
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from registry.core.forms import Form, choices
from registry.core.time import vietnam_today
from registry.people import search
from registry.people.models import PURPOSES, RESIDENCE_STATUSES, STATUSES

API_ROLE_LABELS = {
    "officer": _l("Whole province, records and figures"),
    "district": _l("Records and figures of some areas"),
    "viewer": _l("Figures only, small counts hidden"),
}


def criteria_from(args, see_every_status: bool) -> search.Criteria:
    """Return the people filter in a query string, as the people list reads it.

    see_every_status: district officials follow their own submissions, so their
    list, and so their export, shows every status unless they choose one.
    """
    default = "any" if see_every_status else "active"
    status = args.get("status", default)
    return search.Criteria(
        q=_text(args, "q")[:120],
        country=_text(args, "country").upper()[:2] or None,
        hometown=_text(args, "hometown")[:10] or None,
        status=status if status in STATUSES else None,
        purpose=args.get("purpose") if args.get("purpose") in PURPOSES else None,
        residence_status=args.get("residence_status")
        if args.get("residence_status") in RESIDENCE_STATUSES else None,
        sort=args.get("sort") if args.get("sort") in search.SORTS else "name",
    )


def _text(args, name: str) -> str:
    # PostgreSQL refuses NUL in a text value; no search means one.
    return (args.get(name) or "").replace("\x00", "")


class AnnualReportForm(Form):
    year = IntegerField(
        _l("Year"), validators=[DataRequired(message=_l("Enter the year.")),
                                NumberRange(min=2000, max=2100,
                                            message=_l("Enter a year such as 2026."))])
    cut_off = DateField(
        _l("Cut-off date"), format="%Y-%m-%d",
        validators=[DataRequired(message=_l("Enter the cut-off date."))],
        description=_l("Records entered after this day are not counted."),
        render_kw={"type": "date"})

    def fill_defaults(self) -> None:
        """Propose this year, cut off on 14 November, before the report is due."""
        today = vietnam_today()
        self.year.data = self.year.data or today.year
        self.cut_off.data = self.cut_off.data or min(today, date(today.year, 11, 14))


class ApiClientForm(Form):
    name = StringField(
        _l("Partner system"), validators=[
            DataRequired(message=_l("Name the system that will use the token.")),
            Length(max=120, message=_l("At most %(max)d characters.", max=120))])
    role = SelectField(_l("What the token may read"),
                       choices=choices(API_ROLE_LABELS.items()))
    communes = SelectMultipleField(_l("Communes and wards"), validate_choice=False,
                                   description=_l("For a token of some areas only."))
    former_districts = SelectMultipleField(_l("Former districts"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        from registry.accounts import operations as accounts

        super().__init__(*args, **kwargs)
        self.communes.choices = choices(accounts.commune_choices())
        self.former_districts.choices = choices(accounts.former_district_choices())

    def areas(self) -> list[tuple[str, str]]:
        """Return the chosen areas as (kind, code) pairs."""
        from registry.accounts.models import AREA_COMMUNE, AREA_FORMER_DISTRICT

        return ([(AREA_COMMUNE, code) for code in self.communes.data or ()]
                + [(AREA_FORMER_DISTRICT, code) for code in self.former_districts.data or ()])
