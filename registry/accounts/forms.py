"""Forms for signing in, the own account page and the staff administration."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length, Regexp

from registry.accounts import operations, passwords, roles
from registry.accounts.models import AREA_COMMUNE, AREA_FORMER_DISTRICT

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}  # each named in its own language
EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
TOO_LONG = _l("This is too long.")


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class LoginForm(FlaskForm):
    email = StringField(
        _l("E-mail address"),
        validators=[DataRequired(message=_l("Enter your e-mail address.")),
                    Length(max=254, message=TOO_LONG)],
        render_kw={"autocomplete": "username", "autofocus": True, "type": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password.")),
                    Length(max=passwords.MAX_LENGTH, message=TOO_LONG)],
        render_kw={"autocomplete": "current-password"},
    )


class CodeForm(FlaskForm):
    code = StringField(
        _l("Six-digit code"),
        validators=[DataRequired(message=_l("Enter the code from your authenticator app.")),
                    Regexp(r"^\s*\d{3}\s*\d{3}\s*$",
                           message=_l("The code has six digits."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric",
                   "autofocus": True},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password.")),
                    Length(max=passwords.MAX_LENGTH, message=TOO_LONG)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(message=_l("Enter a new password.")),
                    Length(max=passwords.MAX_LENGTH, message=TOO_LONG)],
        description=_l("At least 12 characters. A few unrelated words are easy to "
                       "remember and hard to guess."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(message=_l("Enter the new password again.")),
                    EqualTo("new_password", message=_l("The two new passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class LanguageForm(FlaskForm):
    preferred_lang = SelectField(
        _l("Language"), choices=_choices(LANGUAGES.items()), validate_choice=False,
        validators=[AnyOf(list(LANGUAGES), message=_l("Choose one of the offered languages."))],
    )


class EditUserForm(FlaskForm):
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(message=_l("Enter the full name.")),
                    Length(max=120, message=TOO_LONG)],
    )
    role = SelectField(
        _l("Role"), choices=_choices(roles.ROLE_LABELS.items()), validate_choice=False,
        validators=[AnyOf(roles.ROLES, message=_l("Choose one of the offered roles."))],
    )
    # Codes are checked against the places tables when the account is saved.
    communes = SelectMultipleField(
        _l("Communes and wards"), validate_choice=False,
        description=_l("For district or commune officials only. Hold Ctrl to choose several."),
    )
    former_districts = SelectMultipleField(
        _l("Former districts"), validate_choice=False,
        description=_l("Gives every current commune that took over part of the district."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.communes.choices = _choices(operations.commune_choices())
        self.former_districts.choices = _choices(operations.former_district_choices())

    def areas(self) -> list[tuple[str, str]]:
        """Return the chosen areas as (kind, code) pairs."""
        return ([(AREA_COMMUNE, code) for code in self.communes.data or ()]
                + [(AREA_FORMER_DISTRICT, code) for code in self.former_districts.data or ()])

    def fill_areas(self, user) -> None:
        """Select user's current areas in the two lists."""
        self.communes.data = [a.code for a in user.areas if a.kind == AREA_COMMUNE]
        self.former_districts.data = [a.code for a in user.areas
                                      if a.kind == AREA_FORMER_DISTRICT]

    def validate(self, extra_validators=None) -> bool:
        """Check the fields, and that a district official is given an area."""
        if not super().validate(extra_validators):
            return False
        if self.role.data == roles.DISTRICT and not self.areas():
            self.communes.errors.append(
                _l("Choose at least one commune or former district for this role."))
            return False
        return True


class NewUserForm(EditUserForm):
    email = StringField(
        _l("E-mail address"),
        validators=[DataRequired(message=_l("Enter the e-mail address.")),
                    Length(max=254, message=TOO_LONG),
                    Regexp(EMAIL_SHAPE, message=_l("Enter a valid e-mail address."))],
        render_kw={"type": "email", "autocomplete": "off"},
    )
