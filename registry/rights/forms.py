"""Forms of the data-subject pages and of the officers' tickets."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from registry.core.forms import Form
from registry.people import normalise

KIND_LABELS = {"access": _l("Copy of the data"), "correction": _l("Correction"),
               "withdrawal": _l("Consent withdrawn"), "deletion": _l("Deletion")}
STATE_LABELS = {"open": _l("Received"), "acknowledged": _l("Acknowledged"),
                "completed": _l("Completed"), "refused": _l("Refused")}
STATE_STYLES = {"open": "primary", "acknowledged": "info", "completed": "success",
                "refused": "secondary"}
#: the purposes of a consent, as a sentence says them ("your consent to ...")
PURPOSE_NAMES = {"record": _l("the keeping of your record"),
                 "greetings": _l("receiving holiday greetings and news"),
                 "sharing": _l("sharing with the provincial police and your home commune")}
REQUIRED = _l("This field is required.")
MAX_TEXT = 4000


def _too_long(limit: int):
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


class LinkRequestForm(Form):
    email = StringField(_l("Your e-mail address"),
                        validators=[DataRequired(REQUIRED), _too_long(254)],
                        description=_l("The address you gave when you registered."))

    def validate_email(self, field) -> None:
        try:
            field.data = normalise.normalise_email(field.data)
        except normalise.Invalid as error:
            raise ValidationError(error.args[0]) from None


class CorrectionForm(Form):
    details = TextAreaField(_l("What should be corrected?"),
                            validators=[DataRequired(REQUIRED), _too_long(MAX_TEXT)],
                            description=_l("Say which information is wrong and what is right."))


class DeletionForm(Form):
    details = TextAreaField(_l("Reason (optional)"), validators=[_too_long(MAX_TEXT)])
    confirm = BooleanField(_l("I want my personal data to be deleted from the registry"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])


class ActionForm(Form):
    """A button that only needs the CSRF token."""


class OutcomeForm(Form):
    outcome = TextAreaField(_l("What was done"),
                            validators=[DataRequired(REQUIRED), _too_long(MAX_TEXT)],
                            description=_l("The person receives this text by e-mail."))


class RefuseForm(Form):
    reason = TextAreaField(_l("Legal grounds for refusing"),
                           validators=[DataRequired(REQUIRED), _too_long(MAX_TEXT)],
                           description=_l("The person receives this text by e-mail."))


class EraseForm(Form):
    confirm = BooleanField(_l("I understand that the personal data is erased for good"),
                           validators=[DataRequired(_l("Tick the box to confirm."))])
