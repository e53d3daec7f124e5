"""The audience form: a name and the filters of registry.outreach.audiences.

The form checks the name and that each value is one it offered; the statuses and the
ages are checked by the audience operations, whose refusals show beside their fields.
"""
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from registry.accounts import operations as accounts
from registry.core.errors import BadInput
from registry.core.forms import Form, choices
from registry.outreach import audiences
from registry.people.forms import LANGUAGE_LABELS, STATUS_LABELS
from registry.places import operations as places

#: WTForms puts the refused values, joined by "', '", in place of %(value)s
NOT_OFFERED = _l("Not one of the choices offered: '%(value)s'.")
NOT_A_NUMBER = _l("Choose from the list.")
SEVERAL = _l("Hold Ctrl (⌘ on a Mac) to choose several.")
ALWAYS_EXCLUDED = _l(
    "Whatever the filters, an audience never includes anyone who has not consented to "
    "greetings, has asked not to be contacted, whose record was merged into another, who "
    "has died or who has no e-mail address.")


def _several(label, description):
    return SelectMultipleField(label, description=description,
                               invalid_choice_message=NOT_OFFERED)


class AudienceForm(Form):
    # The operations check the name too; the form says so without waiting for the filters.
    name = StringField(_l("Name of the audience"), render_kw={"maxlength": 200}, validators=[
        DataRequired(_l("Give the audience a name.")),
        Length(max=200, message=_l("The audience's name is too long (200 characters at "
                                   "most)."))])
    countries = _several(_l("Countries of residence"),
                         _l("None chosen: every country. Hold Ctrl (⌘ on a Mac) to choose "
                            "several."))
    units = _several(_l("Hometowns"),
                     _l("A former district stands for every current commune or ward that "
                        "took part of it. None chosen: the whole province. Hold Ctrl (⌘ on "
                        "a Mac) to choose several."))
    statuses = _several(_l("Record statuses"), SEVERAL)
    associations = SelectMultipleField(
        _l("Associations"), coerce=int, invalid_value_message=NOT_A_NUMBER,
        invalid_choice_message=NOT_OFFERED,
        description=_l("None chosen: members of any association or of none. Hold Ctrl (⌘ "
                       "on a Mac) to choose several."))
    languages = _several(_l("Preferred languages"),
                         _l("None chosen: every language."))
    age_min = IntegerField(_l("Age from"), validators=[Optional()])
    age_max = IntegerField(_l("Age up to"), validators=[Optional()],
                           description=_l("By year of birth."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.countries.choices = choices(places.country_choices(str(get_locale())))
        self.units.choices = unit_choices()
        self.statuses.choices = choices((status, label) for status, label
                                        in STATUS_LABELS.items()
                                        if status not in audiences.NEVER)
        self.associations.choices = choices(audiences.association_choices())
        self.languages.choices = choices((code, LANGUAGE_LABELS[code])
                                         for code in audiences.LANGUAGES)

    def filters(self) -> dict:
        """Return the chosen filters, for registry.outreach.audiences."""
        return {"countries": self.countries.data or [], "units": self.units.data or [],
                "statuses": self.statuses.data or [],
                "associations": self.associations.data or [],
                "languages": self.languages.data or [],
                "age_min": self.age_min.data, "age_max": self.age_max.data}


def unit_choices() -> dict[str, list]:
    """Return the former districts and the current units as two groups of options."""
    return {_("Former districts"): choices(accounts.former_district_choices()),
            _("Communes and wards"): choices(places.unit_choices())}


def form_for(audience) -> AudienceForm:
    """Return the form of audience (None for a new one), filled from the request if sent."""
    if audience is None:
        return AudienceForm(data=audiences.EMPTY_FILTERS)
    return AudienceForm(data={"name": audience.name, **audiences.EMPTY_FILTERS,
                              **audience.filters})


def show_error(form: AudienceForm, error: BadInput) -> None:
    """Put a refusal of the audience operations beside its field, else above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
