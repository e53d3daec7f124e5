"""Form helpers shared by the domains.

WTForms ships no Vietnamese catalogue, so its built-in messages are listed here
as our own msgids and every form translates them through Flask-Babel.
"""
from flask_babel import gettext, lazy_gettext as _l, ngettext
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

# The WTForms and Flask-WTF messages our forms can show, so that pybabel extracts them.
BUILT_IN_MESSAGES = (
    _l("Not a valid choice."), _l("This field is required."), _l("Invalid input."),
    _l("Invalid Choice: could not coerce."), _l("Not a valid integer value."),
    _l("Not a valid date value."), _l("Invalid email address."),
    _l("The CSRF token is missing."), _l("The CSRF token is invalid."),
    _l("The CSRF token has expired."), _l("CSRF token missing."), _l("Invalid CSRF Token."),
    _l("CSRF token expired."), _l("CSRF failed."),
    _l("Field must be between %(min)d and %(max)d characters long."),
)


class _Translations:
    def gettext(self, message: str) -> str:
        return gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ngettext(singular, plural, n)


class Form(FlaskForm):
    """A Flask-WTF form whose built-in messages come in the user's language."""

    class Meta:
        def get_translations(self, form):
            return _Translations()


def choices(pairs, blank: str | None = None) -> list[SelectChoice]:
    """Return (value, label) pairs as select options, with an optional blank first."""
    options = [SelectChoice(str(value), label) for value, label in pairs]
    if blank is not None:
        options.insert(0, SelectChoice("", blank))
    return options
