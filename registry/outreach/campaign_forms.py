"""Forms of the campaigns' pages: the campaign itself and the reasons of its actions.

Times are typed in Vietnam time and stored in UTC. A template is checked here too,
so that each problem shows beside its own field, subject or body, with its line;
the campaign operations check everything again and their refusals go beside the
field they name.
"""
from datetime import UTC, date, datetime, time

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (DateField, RadioField, SelectField, StringField, TextAreaField,
                     TimeField)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from registry.core.errors import BadInput
from registry.core.forms import Form, choices
from registry.core.time import VIETNAM, as_utc, utcnow, vietnam_today
from registry.extensions import db
from registry.outreach import audiences, calendar, campaigns, rendering
from registry.outreach.models import (APPROVED, AWAITING_APPROVAL, CANCELLED, DONE, DRAFT,
                                      FAILED, PAUSED, PENDING, SENDING, SENT, SKIPPED,
                                      Occasion)

NOW, AT, MORNING = "now", "at", "morning"
WHEN_LABELS = {
    NOW: _l("As soon as it is approved"),
    AT: _l("At a chosen date and time (Vietnam time)"),
    MORNING: _l("In each recipient's local morning, on a chosen day"),
}
#: the time of day stored for a local-morning campaign: any hour names the Vietnam day
MORNING_MARK = time(8, 0)
STATE_LABELS = {
    DRAFT: _l("Draft"), AWAITING_APPROVAL: _l("Awaiting approval"),
    APPROVED: _l("Approved, waiting for its time"), SENDING: _l("Sending"),
    PAUSED: _l("Paused"), DONE: _l("Finished"), CANCELLED: _l("Cancelled"),
}
STATE_BADGES = {DRAFT: "secondary", AWAITING_APPROVAL: "warning", APPROVED: "info",
                SENDING: "primary", PAUSED: "danger", DONE: "success", CANCELLED: "dark"}
#: the delivery counts the campaign page shows, in this order
DELIVERY_LABELS = {
    SENT: _l("Sent out"), FAILED: _l("Failed"), SKIPPED: _l("Skipped"),
    PENDING: _l("Not sent yet"), SENDING: _l("Being sent"),
    CANCELLED: _l("Not sent (cancelled)"), "unsubscribed": _l("Unsubscribed"),
}
REQUIRED = _l("This field is required.")
# WTForms' own message, listed so that it is extracted and translated
BAD_TIME = _l("Not a valid time value.")
LANGUAGE_NAMES = {"vi": _l("Vietnamese"), "en": _l("English")}
# An operation's refusal names the campaign's field; this is the form's field for it.
ERROR_FIELDS = {"scheduled_at": "send_date"}


def _too_long(limit: int):
    return Length(max=limit, message=_l("At most %(max)d characters.", max=limit))


class CampaignForm(Form):
    name = StringField(_l("Name of the campaign"), render_kw={"maxlength": 200},
                       validators=[DataRequired(_l("Give the campaign a name.")),
                                   _too_long(200)])
    occasion_id = SelectField(_l("Occasion"), validate_choice=False)
    occasion_date = DateField(
        _l("Date of the occasion"), validators=[Optional()],
        description=_l("What {{ occasion_date }} prints. Choosing an occasion fills in "
                       "its next date; left empty, the occasion's next date is used."))
    audience_id = SelectField(_l("Audience"), validate_choice=False)
    signature = TextAreaField(_l("Signature"), validators=[Optional(), _too_long(1000)],
                              description=_l("What {{ signature }} prints; it may have "
                                             "several lines."))
    subject_vi = StringField(_l("Subject in Vietnamese"), render_kw={"maxlength": 300},
                             validators=[_too_long(300)])
    body_vi = TextAreaField(_l("Message in Vietnamese"), validators=[_too_long(20000)])
    subject_en = StringField(_l("Subject in English"), render_kw={"maxlength": 300},
                             validators=[_too_long(300)])
    body_en = TextAreaField(_l("Message in English"), validators=[_too_long(20000)],
                            description=_l("Optional: recipients who prefer English get "
                                           "it; everyone else gets the Vietnamese one."))
    when = RadioField(_l("When to send"), choices=choices(WHEN_LABELS.items()), default=NOW)
    send_date = DateField(_l("Day"), validators=[Optional()])
    send_time = TimeField(_l("Time (Vietnam)"), validators=[Optional()])

    def __init__(self, *args, campaign=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.occasion_id.choices = occasion_choices(campaign)
        self.audience_id.choices = choices(
            ((audience.id, audience.name) for audience in audiences.all_audiences()),
            blank=_l("Choose an audience"))

    # Checks ------------------------------------------------------------------------

    def validate_occasion_id(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Choose an occasion from the calendar."))

    def validate_audience_id(self, field) -> None:
        offered = {choice.value for choice in field.choices if choice.value}
        if field.data not in offered:
            raise ValidationError(_l("Choose an audience."))

    def validate(self, extra_validators=None) -> bool:
        """Check the fields, then each language's subject and body as templates."""
        valid = super().validate(extra_validators)
        valid = self._check_when() and valid
        for lang in campaigns.LANGUAGES:
            valid = self._check_message(lang) and valid
        return valid

    def _check_when(self) -> bool:
        # Here, not in validate_send_date: Optional() ends the checks of an empty field.
        day, moment = self.send_date, self.send_time
        if self.when.data == NOW or day.errors or moment.errors:
            return not (day.errors or moment.errors)
        if day.data is None:
            day.errors.append(_l("Choose the day to send."))
        elif day.data < vietnam_today():
            day.errors.append(_l("This day has passed: choose a later one."))
        elif self.when.data == AT and moment.data is None:
            moment.errors.append(_l("Choose the time to send, in Vietnam time."))
        elif self.when.data == AT and self.scheduled_at() < utcnow():
            moment.errors.append(_l("This time has passed: choose a later one."))
        return not (day.errors or moment.errors)

    def _check_message(self, lang: str) -> bool:
        subject, body = getattr(self, f"subject_{lang}"), getattr(self, f"body_{lang}")
        if subject.errors or body.errors:
            return False
        if not (subject.data or "").strip() and not (body.data or "").strip():
            if lang != rendering.DEFAULT_LANG:
                return True
            subject.errors.append(_l("Write the message in Vietnamese at least."))
            return False
        missing = [part for part in (subject, body) if not (part.data or "").strip()]
        if missing:
            missing[0].errors.append(_l("Write both the subject and the message, or "
                                        "neither."))
            return False

        problems = rendering.check_template(subject.data, body.data)
        for problem in problems:
            place = subject if problem.part == rendering.SUBJECT else body
            place.errors.append(rendering.describe([problem]))
        return not problems

    # Values --------------------------------------------------------------------------

    def scheduled_at(self) -> datetime | None:
        """Return the chosen moment in UTC, None to send at once."""
        if self.when.data == NOW or self.send_date.data is None:
            return None
        moment = self.send_time.data if self.when.data == AT else MORNING_MARK
        if moment is None:
            return None
        return datetime.combine(self.send_date.data, moment, VIETNAM).astimezone(UTC)

    def fields(self) -> dict:
        """Return the campaign's fields for registry.outreach.campaigns."""
        occasion_id = int(self.occasion_id.data) if self.occasion_id.data else None
        occasion_date = self.occasion_date.data
        if occasion_id and occasion_date is None:
            occasion_date = next_occasion_date(occasion_id)
        return {"name": self.name.data.strip(), "occasion_id": occasion_id,
                "occasion_date": occasion_date, "audience_id": int(self.audience_id.data),
                "signature": _lines(self.signature.data).strip() or None,
                "scheduled_at": self.scheduled_at(),
                "is_local_morning": self.when.data == MORNING}

    def messages(self) -> dict:
        """Return {language: (subject, body)}; an empty pair means none in that language."""
        return {lang: ((getattr(self, f"subject_{lang}").data or "").strip(),
                       _lines(getattr(self, f"body_{lang}").data))
                for lang in campaigns.LANGUAGES}

    def show_error(self, error: BadInput) -> None:
        """Put a refusal of the operations beside its field, else above the form."""
        name = ERROR_FIELDS.get(error.field, error.field)
        field = getattr(self, name, None) if name else None
        if field is not None:
            field.errors = [*field.errors, error.message]
        else:
            self.form_errors.append(error.message)


def _lines(text: str | None) -> str:
    """Return text with the browser's CRLF line ends as LF, as stored."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


class ReturnForm(Form):
    reason = TextAreaField(_l("Why it goes back to its author"),
                           validators=[Optional(), _too_long(500)])


def form_for(campaign=None) -> CampaignForm:
    """Return the form of campaign (None for a new one), filled from the request if sent."""
    if campaign is None:
        return CampaignForm()
    return CampaignForm(data=_data_of(campaign), campaign=campaign)


def _data_of(campaign) -> dict:
    data = {"name": campaign.name, "occasion_id": str(campaign.occasion_id or ""),
            "occasion_date": campaign.occasion_date,
            "audience_id": str(campaign.audience_id), "signature": campaign.signature,
            "when": NOW}
    for message in campaign.messages:
        data[f"subject_{message.lang}"], data[f"body_{message.lang}"] = (message.subject,
                                                                          message.body)
    if campaign.scheduled_at:
        local = as_utc(campaign.scheduled_at).astimezone(VIETNAM)
        data.update(when=MORNING if campaign.is_local_morning else AT,
                    send_date=local.date(), send_time=local.time().replace(tzinfo=None))
    return data


def occasion_choices(campaign=None) -> list:
    """Return the active occasions, and the campaign's own, each with its next date."""
    today = vietnam_today()
    english = str(get_locale() or "vi") == "en"
    options = []
    for occasion in _occasions(campaign):
        name = occasion.name_en if english and occasion.name_en else occasion.name
        when = calendar.next_date(occasion, today)
        label = f"{name} — {when.strftime('%d/%m/%Y')}" if when else name
        options.append((occasion.id, label))
    return choices(options, blank=_l("No occasion"))


def _occasions(campaign) -> list:
    from registry.outreach import operations

    every = operations.all_occasions(include_inactive=True)
    own = campaign.occasion_id if campaign else None
    return [occasion for occasion in every if occasion.is_active or occasion.id == own]


def next_occasion_date(occasion_id) -> date | None:
    """Return the next date of the occasion from today in Vietnam, if it has one."""
    occasion = db.session.get(Occasion, int(occasion_id))
    if occasion is None:
        return None  # the operations say why
    return calendar.next_date(occasion, vietnam_today())
