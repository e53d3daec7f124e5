"""The person form used by officers and district officials."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, FieldList, HiddenField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from registry.core.errors import BadInput
from registry.core.forms import Form, choices
from registry.people import normalise
from registry.people.normalise import Invalid

GENDER_LABELS = {"": _l("Not known"), "male": _l("Male"), "female": _l("Female"),
                 "other": _l("Other")}
RESIDENCE_LABELS = {
    "permanent_resident": _l("Permanent resident"), "worker": _l("Worker"),
    "student": _l("Student"), "naturalised": _l("Naturalised citizen"),
    "dual_citizen": _l("Dual citizen"), "other": _l("Other"),
}
PURPOSE_LABELS = {
    "labour": _l("Labour"), "study": _l("Study"), "marriage": _l("Marriage"),
    "family": _l("Family reunion"), "business": _l("Business"), "other": _l("Other"),
}
EDUCATION_LABELS = {
    "none": _l("No schooling"), "primary": _l("Primary school"),
    "secondary": _l("Lower secondary school"), "high_school": _l("Upper secondary school"),
    "vocational": _l("Vocational training"), "college": _l("College"),
    "university": _l("University"), "postgraduate": _l("Postgraduate"),
}
STATUS_LABELS = {
    "submitted": _l("Submitted, awaiting review"), "active": _l("Active"),
    "archived": _l("Archived"), "merged": _l("Merged into another record"),
    "deceased": _l("Deceased"), "returned": _l("Returned to Vietnam"),
    "rejected": _l("Not accepted"),
}
CHANNEL_LABELS = {"paper": _l("Paper form"), "in_person": _l("In person"),
                  "phone": _l("Telephone"), "email": _l("E-mail"), "form": _l("Online form"),
                  "import": _l("Spreadsheet import")}
CONSENT_LABELS = {"record": _l("Keeping the record"),
                  "greetings": _l("Holiday greetings and news"),
                  "sharing": _l("Sharing with the police and the commune")}
SOURCE_LABELS = {"officer": _l("entered by an officer"),
                 "district": _l("submitted by a district or commune official"),
                 "self": _l("self-registration"), "import": _l("spreadsheet import")}
ACTION_LABELS = {"create": _l("Created"), "update": _l("Changed"),
                 "status": _l("Status changed"), "verify": _l("Verification"),
                 "merge": _l("Merged"), "unmerge": _l("Merge undone")}
LANGUAGE_LABELS = {"vi": _l("Vietnamese"), "en": _l("English")}
FIELD_LABELS = {
    "full_name": _l("Full name"), "family_name": _l("Family name"),
    "middle_name": _l("Middle name"), "given_name": _l("Given name"),
    "gender": _l("Gender"), "birth_year": _l("Year of birth"),
    "birth_month": _l("Month of birth"), "birth_day": _l("Day of birth"),
    "hometown_code": _l("Hometown"), "hometown_given": _l("Hometown as given"),
    "hometown_former_code": _l("Former commune"), "country_code": _l("Country"),
    "city": _l("City"), "address_abroad": _l("Address abroad"),
    "abroad_since": _l("Living abroad since"), "residence_status": _l("Residence status"),
    "purpose": _l("Purpose of stay"), "passport_number": _l("Passport number"),
    "national_id": _l("Vietnamese ID number"), "occupation": _l("Occupation"),
    "employer": _l("Employer or school"), "education_level": _l("Education"),
    "expertise": _l("Field of expertise"), "relative_name": _l("Relative in Vietnam"),
    "relative_relation": _l("Relationship"), "relative_phone": _l("Relative's phone"),
    "relative_address": _l("Relative's address"), "preferred_lang": _l("Preferred language"),
    "is_outreach_opted_out": _l("Does not want to be contacted"), "notes": _l("Notes"),
    "status": _l("Record status"), "merged_into_id": _l("Merged into"),
    "is_verified": _l("Verified by the police"), "phones": _l("Phones"),
    "emails": _l("E-mails"), "associations": _l("Associations"), "consents": _l("Consents"),
}
MAX_PHONES = MAX_EMAILS = MAX_ASSOCIATIONS = 5
REQUIRED = _l("This field is required.")


def field_label(name: str) -> str:
    """Return the translated label of a record field, for history and audit pages."""
    return str(FIELD_LABELS.get(name, name))


def _too_long(limit: int):
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


def _choices(labels: dict, blank: bool = True) -> list:
    return choices(labels.items(), blank="—" if blank and "" not in labels else None)


class PersonForm(Form):
    full_name = StringField(_l("Full name"), validators=[DataRequired(REQUIRED), _too_long(120)])
    gender = SelectField(_l("Gender"), choices=_choices(GENDER_LABELS), default="")
    date_of_birth = StringField(_l("Date of birth"), validators=[_too_long(10)],
                                description=_l("dd/mm/yyyy, mm/yyyy or just the year"))
    hometown = StringField(_l("Hometown (commune or ward in Thanh Hóa)"),
                           validators=[DataRequired(REQUIRED), _too_long(120)])
    hometown_code = HiddenField()
    country = SelectField(_l("Country of residence"), validators=[DataRequired(REQUIRED)])
    city = StringField(_l("City"), validators=[_too_long(120)])
    address_abroad = StringField(_l("Address abroad"), validators=[_too_long(255)])
    abroad_since = StringField(_l("Living abroad since"), validators=[_too_long(10)],
                               description=_l("mm/yyyy or the year"))
    residence_status = SelectField(_l("Residence status"), choices=_choices(RESIDENCE_LABELS))
    purpose = SelectField(_l("Purpose of stay"), choices=_choices(PURPOSE_LABELS))
    phones = FieldList(StringField(_l("Phone"), validators=[_too_long(30)]),
                       min_entries=1, max_entries=MAX_PHONES)
    emails = FieldList(StringField(_l("E-mail"), validators=[_too_long(254)]),
                       min_entries=1, max_entries=MAX_EMAILS)
    passport_number = StringField(_l("Passport number"), validators=[_too_long(20)])
    national_id = StringField(_l("Vietnamese ID number"), validators=[_too_long(20)])
    occupation = StringField(_l("Occupation"), validators=[_too_long(120)])
    employer = StringField(_l("Employer or school"), validators=[_too_long(160)])
    education_level = SelectField(_l("Education"), choices=_choices(EDUCATION_LABELS))
    expertise = StringField(_l("Field of expertise"), validators=[_too_long(160)])
    associations = FieldList(StringField(_l("Association"), validators=[_too_long(160)]),
                             min_entries=1, max_entries=MAX_ASSOCIATIONS)
    relative_name = StringField(_l("Relative in Vietnam"), validators=[_too_long(120)])
    relative_relation = StringField(_l("Relationship"), validators=[_too_long(60)])
    relative_phone = StringField(_l("Relative's phone"), validators=[_too_long(30)])
    relative_address = StringField(_l("Relative's address"), validators=[_too_long(255)])
    preferred_lang = SelectField(_l("Preferred language"), choices=_choices(LANGUAGE_LABELS,
                                                                            blank=False))
    consent_record = BooleanField(_l("Agrees to the keeping of this record"))
    consent_greetings = BooleanField(_l("Agrees to receive holiday greetings and news"))
    consent_sharing = BooleanField(
        _l("Agrees to sharing with the provincial police and the home commune"))
    consent_channel = SelectField(_l("How consent was given"),
                                  choices=_choices(CHANNEL_LABELS), validators=[Optional()])
    is_outreach_opted_out = BooleanField(_l("Does not want to be contacted"))
    notes = TextAreaField(_l("Notes"), validators=[_too_long(4000)])
    status = SelectField(_l("Record status"), choices=_choices(STATUS_LABELS, blank=False))

    def __init__(self, *args, may_set_status: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        from registry.places import operations as places

        self.country.choices = choices(places.country_choices(str(get_locale())), blank="—")
        if not may_set_status:
            del self.status
        self.cleaned: dict = {}
        self.hometown_choices: list[tuple[str, str]] = []

    def validate_full_name(self, field) -> None:
        _run(normalise.check_person_name, field.data.strip() if field.data else "")

    def validate_date_of_birth(self, field) -> None:
        self.cleaned["birth"] = _run(normalise.parse_birth_date, field.data)

    def validate_abroad_since(self, field) -> None:
        self.cleaned["abroad_since"] = _run(normalise.parse_birth_date, field.data)

    def validate_hometown(self, field) -> None:
        from registry.places import forms as places_forms

        try:
            found = places_forms.validate_hometown_input(field.data, self.hometown_code.data)
        except places_forms.HometownChoice as error:
            self.hometown_choices = error.choices
            raise ValidationError(error.message) from None
        except BadInput as error:
            raise ValidationError(error.message) from None
        self.cleaned["hometown"] = found

    def validate_phones(self, field) -> None:
        self.cleaned["phones"] = self._list_of(field, self._phone)

    def validate_emails(self, field) -> None:
        self.cleaned["emails"] = self._list_of(field, normalise.normalise_email)

    def validate_relative_phone(self, field) -> None:
        if field.data and field.data.strip():
            self.cleaned["relative_phone"] = _run(normalise.normalise_phone,
                                                  field.data, "VN")[0]

    def validate_passport_number(self, field) -> None:
        number = normalise.normalise_document(field.data)
        _run(normalise.check_passport, number)
        self.cleaned["passport_number"] = number

    def validate_national_id(self, field) -> None:
        number = normalise.normalise_document(field.data)
        _run(normalise.check_national_id, number)
        self.cleaned["national_id"] = number

    def validate_associations(self, field) -> None:
        names = [entry.data.strip() for entry in field.entries if (entry.data or "").strip()]
        for name in names:
            if normalise.has_markup(name):
                raise ValidationError(_l("Remove the characters < > { } and similar."))
        self.cleaned["associations"] = list(dict.fromkeys(names))

    def validate_consent_channel(self, field) -> None:
        given = self.consent_record.data or self.consent_greetings.data
        if given and not field.data:
            raise ValidationError(_l("Say how the person gave consent."))

    def _phone(self, text: str) -> tuple[str, str]:
        return normalise.normalise_phone(text, self.country.data or None)

    def _list_of(self, field, convert) -> list:
        values, seen = [], set()
        for entry in field.entries:
            text = (entry.data or "").strip()
            if not text:
                continue
            try:
                value = convert(text)
            except Invalid as error:
                entry.errors = [str(error.args[0])]
                raise ValidationError(error.args[0]) from None
            key = value[0] if isinstance(value, tuple) else value
            if key not in seen:
                seen.add(key)
                values.append(value)
        return values


def _run(check, *args):
    try:
        return check(*args)
    except Invalid as error:
        raise ValidationError(error.args[0]) from None


class StatusForm(Form):
    status = SelectField(_l("New status"), choices=_choices(STATUS_LABELS, blank=False))
    reason = StringField(_l("Reason"), validators=[_too_long(255)])


class PoliceNoteForm(Form):
    body = TextAreaField(_l("Verification note"),
                         validators=[DataRequired(REQUIRED), _too_long(4000)])
    is_verified = BooleanField(_l("Identity verified"))


SEARCH_STATUS_LABELS = {"": _l("Any status"), **STATUS_LABELS}


def form_data(form: PersonForm) -> dict:
    """Return the cleaned values of a validated person form, as operations take them."""
    data = {name: getattr(form, name).data for name in (
        "gender", "city", "address_abroad", "residence_status", "purpose", "occupation",
        "employer", "education_level", "expertise", "relative_name", "relative_relation",
        "relative_address", "preferred_lang", "is_outreach_opted_out", "notes",
    )}
    data.update(
        full_name=form.full_name.data.strip(),
        country_code=form.country.data,
        relative_phone=form.cleaned.get("relative_phone"),
        consents=[purpose for purpose, given in (
            ("record", form.consent_record.data), ("greetings", form.consent_greetings.data),
            ("sharing", form.consent_sharing.data)) if given],
        consent_channel=form.consent_channel.data,
    )
    data.update(form.cleaned)
    if "status" in form:
        data["status"] = form.status.data
    return data


def fill_form(form: PersonForm, person, consents: set[str]) -> None:
    """Put the values of person into form, for editing."""
    from registry.people.normalise import BirthDate

    birth = BirthDate(person.birth_year, person.birth_month, person.birth_day)
    form.date_of_birth.data = birth.display()
    form.hometown.data = person.hometown_given or (
        person.hometown.full_name if person.hometown else "")
    form.hometown_code.data = person.hometown_code
    form.country.data = person.country_code
    if person.abroad_since:
        form.abroad_since.data = person.abroad_since.strftime("%m/%Y")
    _fill_list(form.phones, [phone.number for phone in person.phones])
    _fill_list(form.emails, [email.address for email in person.emails])
    _fill_list(form.associations, [m.association.name for m in person.memberships])
    form.consent_record.data = "record" in consents
    form.consent_greetings.data = "greetings" in consents
    form.consent_sharing.data = "sharing" in consents


def _fill_list(field: FieldList, values: list[str]) -> None:
    while len(field.entries):
        field.pop_entry()
    for value in values or [""]:
        field.append_entry(value)
