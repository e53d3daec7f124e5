"""The public registration form, and the small forms of the review queue."""
import functools
import json
import unicodedata

import phonenumbers

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FieldList, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from registry.core.errors import BadInput
from registry.core.forms import Form, choices
from registry.intake import notice
from registry.people import normalise
from registry.people.forms import GENDER_LABELS, PersonForm
from registry.people.normalise import Invalid

REQUIRED = _l("This field is required.")
MAX_PHONES = 2
#: the staff-only fields of the person form that the public form leaves out
STAFF_ONLY = ("abroad_since", "residence_status", "purpose", "passport_number",
              "national_id", "employer", "education_level", "relative_name",
              "relative_relation", "relative_phone", "relative_address", "emails",
              "associations", "consent_channel", "is_outreach_opted_out", "notes", "status")


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


def _plain_text(form, field) -> None:
    """Refuse control characters and markup in a free-text field."""
    text = field.data or ""
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in text):
        raise ValidationError(_l("Remove the invisible control characters."))
    if normalise.has_markup(text):
        raise ValidationError(_l("Remove the characters < > { } and similar."))


def _text(label, limit: int, **options) -> StringField:
    return StringField(label, validators=[_at_most(limit), _plain_text], **options)


class RegistrationForm(PersonForm):
    """What a person abroad tells about themselves; nothing only staff may set."""

    gender = SelectField(_l("Gender"), default="", choices=choices(
        ((code, label) for code, label in GENDER_LABELS.items() if code), blank="—"))
    # No unit code is longer; a longer one posted is cut, not shown as an error.
    hometown_code = HiddenField(filters=[lambda code: (code or "")[:10]])
    city = _text(_l("City"), 120)
    address_abroad = _text(_l("Address abroad"), 255)
    phones = FieldList(StringField(_l("Phone"), validators=[_at_most(30)]),
                       min_entries=MAX_PHONES, max_entries=MAX_PHONES)
    email = StringField(_l("E-mail"), validators=[DataRequired(REQUIRED), _at_most(254)],
                        description=_l("We send you a link to confirm it."))
    occupation = _text(_l("Occupation"), 120)
    expertise = _text(_l("Field of expertise"), 160)
    association = _text(_l("Association"), 160,
                        description=_l("A Thanh Hóa or Vietnamese association abroad, "
                                       "if you belong to one."))
    consent_record = BooleanField(notice.PURPOSE_LABELS["record"], validators=[
        DataRequired(_l("Tick this box to register: without your agreement we cannot "
                        "keep your record."))])
    consent_greetings = BooleanField(notice.PURPOSE_LABELS["greetings"])
    consent_sharing = BooleanField(notice.PURPOSE_LABELS["sharing"])
    #: a field people do not see (CSS hides it); robots fill it in
    website = StringField(_l("Leave this field empty"), validators=[_at_most(200)])
    #: when the form was shown, signed, so that too quick or stale posts are refused
    started = HiddenField(validators=[_at_most(200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, may_set_status=False, **kwargs)
        self.shown_at = None  # when the form was shown, once validate() has checked it
        self.phones.entries[0].label.text = _l("Phone")
        self.phones.entries[1].label.text = _l("Another phone (optional)")

    def validate_email(self, field) -> None:
        try:
            self.cleaned["email"] = normalise.normalise_email(field.data or "")
        except Invalid as error:
            raise ValidationError(error.args[0]) from None

    def validate(self, extra_validators=None) -> bool:
        """Check the fields, then the signs of a robot: the honeypot and the timing."""
        valid = super().validate(extra_validators)
        from registry.intake import operations

        try:
            self.shown_at = operations.check_not_robot(self.website.data, self.started.data)
        except BadInput as error:
            self.form_errors.append(error.message)
            return False
        return valid


# The staff-only fields are removed from the class, not merely hidden; the
# person form itself drops "status" for anyone who may not set it.
for _name in STAFF_ONLY:
    if _name != "status":
        setattr(RegistrationForm, _name, None)


@functools.lru_cache(maxsize=1)
def calling_codes() -> str:
    """Return {alpha-2: "+81"} for every country with a calling code, as JSON."""
    from registry.places.operations import country_choices

    codes = {code: phonenumbers.country_code_for_region(code)
             for code, _name in country_choices("en")}
    return json.dumps({code: f"+{number}" for code, number in codes.items() if number},
                      sort_keys=True)


def registration_data(form: RegistrationForm) -> dict:
    """Return what create_person takes from a validated registration form."""
    def text(name: str) -> str:
        return (getattr(form, name).data or "").strip()

    association = text("association")
    return {
        "full_name": text("full_name"), "gender": form.gender.data or None,
        "birth": form.cleaned["birth"], "hometown": form.cleaned["hometown"],
        "country_code": form.country.data, "city": text("city"),
        "address_abroad": text("address_abroad"), "phones": form.cleaned["phones"],
        "emails": [form.cleaned["email"]], "occupation": text("occupation"),
        "expertise": text("expertise"), "associations": [association] if association else [],
        "preferred_lang": form.preferred_lang.data,
        "consents": [purpose for purpose in notice.PURPOSE_LABELS
                     if getattr(form, "consent_" + purpose).data],
        "consent_channel": "form", "notice_version": notice.NOTICE_VERSION,
    }


class ResendForm(Form):
    email = StringField(_l("E-mail"), validators=[DataRequired(REQUIRED), _at_most(254)])
    reference = StringField(_l("Reference number"),
                            validators=[DataRequired(REQUIRED), _at_most(20)],
                            description=_l("As shown after you registered, e.g. "
                                           "TH-2026-K7Q2M9."))


class RejectForm(Form):
    reason = StringField(_l("Reason"), validators=[
        DataRequired(_l("Say why the entry is not accepted.")), _at_most(500)],
        description=_l("The official who submitted the entry sees this."))
    tell_reason = BooleanField(
        _l("Tell the person the reason"),
        description=_l("A person who registered themselves is told by e-mail that the "
                       "entry was not accepted; tick this to give the reason too."))


AGES = {"": _l("Any"), "2": _l("2 days or more"), "7": _l("7 days or more"),
        "30": _l("30 days or more")}
