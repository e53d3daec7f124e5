"""The merge form, and the labels and displayed values of the review pages."""
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField
from wtforms.validators import DataRequired

from registry.core.forms import Form, choices
from registry.matching.merging import FIELD_COLUMNS
from registry.people import forms as people_forms
from registry.people.normalise import BirthDate

BAND_LABELS = {"likely": _l("Very likely the same person"), "possible": _l("Possible")}
STATE_LABELS = {"open": _l("Open"), "merged": _l("Merged"),
                "not_same": _l("Not the same person"), "skipped": _l("Put off")}
RUN_STATE_LABELS = {"queued": _l("Waiting to start"), "running": _l("Scanning"),
                    "done": _l("Finished"), "failed": _l("Failed")}
STAGE_LABELS = {"loading": _l("Reading the records"), "preparing": _l("Preparing"),
                "blocking": _l("Finding candidates"), "training": _l("Training the model"),
                "scoring": _l("Scoring pairs"), "explaining": _l("Explaining the scores"),
                "clustering": _l("Grouping records"), "storing": _l("Saving the pairs"),
                "done": _l("Finished"), "failed": _l("Failed")}
FIELD_LABELS = {
    "full_name": _l("Full name"), "gender": _l("Gender"), "birth": _l("Date of birth"),
    "hometown": _l("Hometown"), "country_code": _l("Country"), "city": _l("City"),
    "address_abroad": _l("Address abroad"), "abroad_since": _l("Living abroad since"),
    "residence_status": _l("Residence status"), "purpose": _l("Purpose of stay"),
    "passport_number": _l("Passport number"), "national_id": _l("Vietnamese ID number"),
    "occupation": _l("Occupation"), "employer": _l("Employer or school"),
    "education_level": _l("Education"), "expertise": _l("Field of expertise"),
    "relative": _l("Relative in Vietnam"), "preferred_lang": _l("Preferred language"),
}
#: rows of the side-by-side view that are kept whole rather than chosen
LIST_LABELS = {"phones": _l("Phones"), "emails": _l("E-mails"),
               "associations": _l("Associations"), "consents": _l("Consents"),
               "status": _l("Record status"), "source": _l("Entered"),
               "verified": _l("Verified by the police"), "notes": _l("Notes")}
COMPARISON_LABELS = {
    "given_name": _l("Given name"), "family_name": _l("Family name"),
    "middle_name": _l("Middle name"), "birth_date": _l("Date of birth"),
    "gender": _l("Gender"), "hometown": _l("Hometown"), "phone": _l("Phone"),
    "email": _l("E-mail"), "passport": _l("Passport"),
    "national_id": _l("Vietnamese ID number"), "country": _l("Country"),
    "relatives": _l("Relatives"),
}
LEVEL_LABELS = {
    "equal": _l("equal"), "toned equal": _l("equal, with the same marks"),
    "folded equal, unmarked": _l("equal, one written without marks"),
    "folded equal, tones differ": _l("same letters, different tones"),
    "close spelling": _l("close spelling"), "different": _l("different"),
    "one side empty": _l("missing on one side"),
    "day and month swapped": _l("day and month swapped"), "one typo": _l("one typo"),
    "same year, imprecise": _l("same year, one side imprecise"),
    "one year apart": _l("one year apart"),
    "shared personal phone": _l("shared personal phone"),
    "shared household phone": _l("shared household phone"), "shared": _l("shared"),
    "looks like a relative": _l("looks like a relative"),
}
# Identity documents are shown as their last characters: enough to compare, and
# the full number stays behind the audited "Show" button of the record page.
VISIBLE_DOCUMENT_CHARS = 3


class MergeForm(Form):
    """The survivor, and per field the record whose value survives."""

    survivor = RadioField(_l("Record to keep"), validators=[DataRequired()])
    #: "id:version,..." of the records as shown, so a change meanwhile is noticed
    versions = HiddenField()

    def chosen(self) -> dict[str, int]:
        """Return {field: person id} as picked on the page."""
        return {name: int(getattr(self, name).data) for name in FIELD_COLUMNS
                if getattr(self, name).data}

    def seen_versions(self) -> dict[int, int]:
        """Return {person id: version} of the records the officer looked at."""
        seen = {}
        for item in (self.versions.data or "").split(","):
            pid, _sep, version = item.partition(":")
            if pid.isdigit() and version.isdigit():
                seen[int(pid)] = int(version)
        return seen


def merge_form(records, defaults: dict[str, int], survivor_id: int, **kwargs) -> MergeForm:
    """Return the merge form for records, preselected with defaults."""
    options = choices((p.id, str(p.id)) for p in records)

    class PageForm(MergeForm):
        pass

    for name in FIELD_COLUMNS:
        setattr(PageForm, name, RadioField(FIELD_LABELS[name], choices=options,
                                           default=str(defaults[name])))
    form = PageForm(**kwargs)
    form.survivor.choices = options
    if not form.is_submitted():
        form.survivor.data = str(survivor_id)
        form.versions.data = ",".join(f"{p.id}:{p.version}" for p in records)
    return form


def display(person, name: str) -> str:
    """Return the value of a field of person as the review pages show it."""
    shown = _DISPLAY.get(name)
    value = shown(person) if shown else getattr(person, name)
    return "" if value in (None, "") else str(value)


def _document(number: str | None) -> str:
    if not number:
        return ""
    return "•••" + number[-VISIBLE_DOCUMENT_CHARS:]


def _hometown(person) -> str:
    unit = person.hometown.full_name if person.hometown else ""
    given = person.hometown_given
    return f"{unit} ({given})" if given and unit and given != unit else unit or given or ""


def _relative(person) -> str:
    parts = [person.relative_name or "", person.relative_relation or "",
             person.relative_phone or "", person.relative_address or ""]
    return " · ".join(part for part in parts if part)


def _country(person) -> str:
    from registry.core.templating import country_label

    return country_label(person.country_code)


_DISPLAY = {
    "birth": lambda p: BirthDate(p.birth_year, p.birth_month, p.birth_day).display(),
    "gender": lambda p: people_forms.GENDER_LABELS.get(p.gender or "", p.gender)
    if p.gender else "",
    "hometown": _hometown,
    "country_code": _country,
    "abroad_since": lambda p: p.abroad_since.strftime("%m/%Y") if p.abroad_since else "",
    "residence_status": lambda p: people_forms.RESIDENCE_LABELS.get(p.residence_status, ""),
    "purpose": lambda p: people_forms.PURPOSE_LABELS.get(p.purpose, ""),
    "education_level": lambda p: people_forms.EDUCATION_LABELS.get(p.education_level, ""),
    "passport_number": lambda p: _document(p.passport_number),
    "national_id": lambda p: _document(p.national_id),
    "relative": _relative,
    "preferred_lang": lambda p: people_forms.LANGUAGE_LABELS.get(p.preferred_lang, ""),
}
