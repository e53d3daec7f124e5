"""Requests of people about their own data, from the signed link to the erasure."""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import abort, current_app, url_for
from flask_babel import force_locale, gettext as _, ngettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update

from registry.audit import operations as audit
from registry.core import mail
from registry.core.errors import BadInput
from registry.core.time import as_utc, utcnow
from registry.extensions import db
from registry.people import operations as people
from registry.people.models import ARCHIVED, MERGED, Email, Person, PersonVersion, PoliceNote
from registry.rights import clock
from registry.rights.models import (ACCESS, ACKNOWLEDGED, COMPLETED, CORRECTION, DELETION,
                                    OPEN, PENDING, REFUSED, WITHDRAWAL, SubjectRequest)

log = logging.getLogger(__name__)

LINK_SALT = "rights.my-data-link"
LINK_MAX_AGE = timedelta(hours=24)
#: consents a person may withdraw alone; withdrawing "record" asks for deletion
WITHDRAWABLE = ("greetings", "sharing")
# Every personal field of a record, with the value it takes when erased.
ERASED_VALUES = {
    "full_name": "", "family_name": "", "middle_name": "", "given_name": "",
    "name_folded": "", "name_tone_key": "", "gender": None, "birth_year": None,
    "birth_month": None, "birth_day": None, "hometown_code": None, "hometown_given": None,
    "hometown_former_code": None, "country_code": None, "city": None,
    "address_abroad": None, "abroad_since": None, "residence_status": None,
    "purpose": None, "passport_number": None, "national_id": None, "occupation": None,
    "employer": None, "education_level": None, "expertise": None, "relative_name": None,
    "relative_relation": None, "relative_phone": None, "relative_address": None,
    "notes": None, "source_ref": None, "preferred_lang": "vi", "is_verified": False,
    "verified_at": None, "verified_by_id": None,
}


class LinkRefused(Exception):
    """A data link that does not open; reason is "invalid", "expired" or "erased"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Clock:
    """Where a ticket stands against its deadlines, for the badges."""

    acknowledge_today: bool
    acknowledge_overdue: bool
    overdue: bool
    days_left: int


# The signed link


def link_token(person: Person, address: str) -> str:
    """Return a signed token for person's data page, bound to address."""
    return _serializer().dumps({"p": person.id, "e": address})


def person_from_token(token: str, max_age: timedelta = LINK_MAX_AGE) -> tuple[Person, str]:
    """Return the person and address of a data link, or raise LinkRefused."""
    try:
        payload = _serializer().loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise LinkRefused("expired") from None
    except BadSignature:
        raise LinkRefused("invalid") from None

    person = db.session.get(Person, payload.get("p")) if isinstance(payload, dict) else None
    if person is not None and person.is_personal_data_erased:
        raise LinkRefused("erased")
    if person is None or person.status == MERGED or payload.get("e") not in _addresses(person):
        raise LinkRefused("invalid")
    return person, payload["e"]


def send_data_links(address: str) -> int:
    """Mail a data link for each record that holds address; return how many were sent.

    The caller answers the same whatever the count, so that nobody learns who is
    registered.
    """
    query = (select(Person).join(Email).where(Email.address == address)
             .where(Person.status != MERGED, Person.full_name != "").order_by(Person.id))
    found = list(db.session.scalars(query).unique())
    # TODO: with SMTP, the answer is slower when a link is sent, which tells who is
    # registered to someone who times it; sending from a background job would not.
    for person in found:
        mail.send_after_commit(_link_message(person, address))
        audit.record("rights.link_sent", person)
        log.info("Data link sent for person %s", person.id)
    if not found:
        audit.record("rights.link_unmatched")
        log.info("Data link asked for an address that no record holds")
    return len(found)


# Requests made by the person


def requests_of(person: Person) -> list[SubjectRequest]:
    """Return the tickets of person, newest first."""
    query = select(SubjectRequest).where(SubjectRequest.person_id == person.id)
    return list(db.session.scalars(query.order_by(SubjectRequest.id.desc())))


def ask_for_access(person: Person, address: str | None) -> SubjectRequest:
    """Open a request for an official copy of person's data, unless one is pending."""
    return _pending(person, ACCESS) or open_request(person, ACCESS, address)


def ask_for_correction(person: Person, details: str, address: str | None) -> SubjectRequest:
    """Open a request to correct person's record as described in details."""
    return open_request(person, CORRECTION, address, details=details.strip())


def ask_for_deletion(person: Person, details: str, address: str | None) -> SubjectRequest:
    """Open a request to erase person's data, unless one is pending."""
    return _pending(person, DELETION) or open_request(
        person, DELETION, address, details=details.strip() or None)


def withdraw_consent(person: Person, purpose: str, address: str | None) -> SubjectRequest:
    """Withdraw person's consent for purpose at once; return the completed ticket."""
    consent = people.active_consents(person).get(purpose)
    if purpose not in WITHDRAWABLE or consent is None:
        raise BadInput(_("This consent is not in force."))

    before = people.snapshot(person)
    consent.withdrawn_at = utcnow()
    if purpose == "greetings":
        person.is_outreach_opted_out = True
    # The person's own change: no staff account is its author. Setting the time
    # also moves the version when only the consent row changed.
    person.updated_by_id, person.updated_at = None, utcnow()
    db.session.flush()
    _save_version(person, audit.diff(before, people.snapshot(person)))

    ticket = open_request(person, WITHDRAWAL, address, purpose=purpose)
    ticket.state, ticket.acknowledged_at, ticket.completed_at = COMPLETED, utcnow(), utcnow()
    db.session.flush()
    audit.record("consent.withdrawn", person, details={"purpose": purpose,
                                                       "request": ticket.id})
    log.info("Consent %s of person %s withdrawn (request %s)", purpose, person.id, ticket.id)
    _mail_person(person, lambda: (_("Your consent has been withdrawn"),
                                  _withdrawal_text(purpose)))
    return ticket


def open_request(person: Person, kind: str, address: str | None, details: str | None = None,
                 purpose: str | None = None) -> SubjectRequest:
    """Open a ticket of kind for person, its legal clock starting now."""
    received = utcnow()
    ticket = SubjectRequest(person_id=person.id, kind=kind, details=details,
                            consent_purpose=purpose, received_at=received,
                            acknowledge_by=clock.acknowledge_by(received),
                            due_at=clock.due_at(received), address=address)
    db.session.add(ticket)
    db.session.flush()

    audit.record("subject_request.open", ticket, details={"kind": kind, "person": person.id})
    log.info("Request %s (%s) opened for person %s", ticket.id, kind, person.id)
    return ticket


# The officers' side


def find_requests(state: str | None, kind: str | None, page: int, per_page: int):
    """Return (tickets on page, has_next) for the filters; state "pending" = to act on."""
    query = select(SubjectRequest)
    if state == "pending":
        query = query.where(SubjectRequest.state.in_(PENDING))
    elif state:
        query = query.where(SubjectRequest.state == state)
    if kind:
        query = query.where(SubjectRequest.kind == kind)
    order = (SubjectRequest.due_at, SubjectRequest.id) if state in ("pending", OPEN,
                                                                    ACKNOWLEDGED) \
        else (SubjectRequest.id.desc(),)
    rows = db.session.scalars(query.order_by(*order).limit(per_page + 1)
                              .offset((page - 1) * per_page)).all()
    return rows[:per_page], len(rows) > per_page


def get_request(request_id: int) -> SubjectRequest:
    """Return the ticket with request_id, or answer 404."""
    ticket = db.session.get(SubjectRequest, request_id)
    if ticket is None:
        abort(404)
    return ticket


def acknowledge(ticket: SubjectRequest, actor) -> None:
    """Record that the request was received, and tell the person so."""
    _check_state(ticket, (OPEN,))
    ticket.state, ticket.acknowledged_at, ticket.handled_by_id = ACKNOWLEDGED, utcnow(), actor.id
    db.session.flush()

    audit.record("subject_request.acknowledge", ticket, actor=actor)
    log.info("Request %s acknowledged by user %s", ticket.id, actor.id)
    _mail_person(ticket.person, lambda: (_("We have received your request"),
                                         _acknowledgement_text(ticket)))


def complete(ticket: SubjectRequest, outcome: str, actor) -> None:
    """Close the request as done, with what was done, and tell the person."""
    _check_state(ticket, PENDING)
    if ticket.kind == DELETION:
        raise BadInput(_("A request for deletion is completed by erasing the data."))
    _close(ticket, COMPLETED, outcome.strip(), actor)
    _mail_person(ticket.person, lambda: (_("Your request has been completed"),
                                         _closing_text(ticket)))


def refuse(ticket: SubjectRequest, reason: str, actor) -> None:
    """Close the request as refused on the legal grounds given, and tell the person."""
    _check_state(ticket, PENDING)
    _close(ticket, REFUSED, reason.strip(), actor)
    _mail_person(ticket.person, lambda: (_("Your request has been refused"),
                                         _closing_text(ticket)))


def erase_person(ticket: SubjectRequest, actor) -> list[str]:
    """Erase the personal data of the ticket's person; return the names of what was erased.

    Everything happens in the request's transaction: an error anywhere leaves all
    as it was. What stays is the empty record, the ticket and a tombstone in the
    audit trail naming the fields, never their values.
    """
    _check_state(ticket, PENDING)
    person = ticket.person
    if ticket.kind != DELETION or person.is_personal_data_erased:
        raise BadInput(_("Only a request for deletion of a record not yet erased can erase."))
    # The last message goes out after the commit, to addresses about to be erased.
    _mail_person(person, lambda: (_("Your personal data has been erased"),
                                  _erasure_text(ticket)))

    erased = _erase_record(person, actor)
    erased += _erase_history(person)
    erased += _erase_copies(person)
    _close(ticket, COMPLETED, None, actor)
    # TODO: the audit rows written before the erasure still hold the record's values
    # (the before/after of each change) and cannot be changed. Erasing those too needs
    # crypto-shredding: encrypt personal values in audit details with a key per
    # person, kept outside the audit table, and destroy that key here.
    audit.record("person.erased", person, details={"request": ticket.id, "fields": erased},
                 actor=actor)
    log.info("Personal data of person %s erased by user %s (request %s)", person.id,
             actor.id, ticket.id)
    return erased


def erasure_date(person: Person) -> datetime | None:
    """Return when person's data was erased, from the deletion ticket."""
    query = select(SubjectRequest.completed_at).where(
        SubjectRequest.person_id == person.id, SubjectRequest.kind == DELETION,
        SubjectRequest.state == COMPLETED).order_by(SubjectRequest.id.desc())
    return db.session.scalar(query.limit(1)) or person.updated_at


def clock_of(ticket: SubjectRequest, now: datetime | None = None) -> Clock:
    """Return where ticket stands against its two deadlines at now."""
    now = now or utcnow()
    acknowledge_by, due = as_utc(ticket.acknowledge_by), as_utc(ticket.due_at)
    waiting = ticket.state == OPEN
    return Clock(
        acknowledge_today=waiting and now <= acknowledge_by
        and clock.local_date(acknowledge_by) == clock.local_date(now),
        acknowledge_overdue=waiting and now > acknowledge_by,
        overdue=ticket.is_pending and now > due,
        days_left=clock.days_left(due, now),
    )


def open_requests_count() -> int:
    """Return how many tickets wait for an officer, for the review queue."""
    query = select(func.count(SubjectRequest.id)).where(SubjectRequest.state.in_(PENDING))
    return db.session.scalar(query) or 0


def queue_items(filters) -> list:
    """Return the tickets that wait for an officer as review queue items, oldest first."""
    query = select(SubjectRequest).where(SubjectRequest.state.in_(PENDING))
    since = filters.waiting_since_before()
    if since is not None:
        query = query.where(SubjectRequest.received_at <= since)
    query = query.order_by(SubjectRequest.received_at, SubjectRequest.id)
    return [_queue_item(ticket) for ticket in db.session.scalars(query.limit(filters.limit))]


# Helpers


def _queue_item(ticket: SubjectRequest):
    from registry.intake.operations import QueueItem
    from registry.rights.forms import KIND_LABELS

    person = ticket.person
    erased = person is None or person.is_personal_data_erased
    return QueueItem(
        kind="request", url=url_for("rights.show", request_id=ticket.id),
        title=_("Personal data erased") if erased else person.full_name,
        waiting_since=ticket.received_at, unit_code=None if erased else person.hometown_code,
        country_code=None if erased else person.country_code,
        badges=[(str(KIND_LABELS[ticket.kind]), "info"), *_clock_badges(ticket)],
        note=_("Request no. %(number)d", number=ticket.id))


def _clock_badges(ticket: SubjectRequest) -> list[tuple[str, str]]:
    state = clock_of(ticket)
    badges = []
    if state.acknowledge_overdue:
        badges.append((_("Acknowledgement overdue"), "danger"))
    elif state.acknowledge_today:
        badges.append((_("Acknowledge today"), "warning"))
    if state.overdue:
        badges.append((_("Overdue"), "danger"))
    else:
        badges.append((ngettext("%(num)d day left", "%(num)d days left", state.days_left),
                       "secondary"))
    return badges


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def _addresses(person: Person) -> list[str]:
    return [email.address for email in person.emails]


def _pending(person: Person, kind: str) -> SubjectRequest | None:
    query = select(SubjectRequest).where(SubjectRequest.person_id == person.id,
                                         SubjectRequest.kind == kind,
                                         SubjectRequest.state.in_(PENDING))
    return db.session.scalar(query.limit(1))


def _check_state(ticket: SubjectRequest, allowed) -> None:
    if ticket.state not in allowed:
        raise BadInput(_("This request has already been dealt with."))


def _close(ticket: SubjectRequest, state: str, outcome: str | None, actor) -> None:
    now = utcnow()
    ticket.state, ticket.outcome, ticket.completed_at = state, outcome, now
    ticket.acknowledged_at = ticket.acknowledged_at or now
    ticket.handled_by_id = actor.id
    db.session.flush()

    action = "subject_request.complete" if state == COMPLETED else "subject_request.refuse"
    audit.record(action, ticket, details={"kind": ticket.kind}, actor=actor)
    log.info("Request %s %s by user %s", ticket.id, state, actor.id)


def _save_version(person: Person, changes: dict) -> None:
    # A change the person made themself: no staff account is its author.
    db.session.add(PersonVersion(person_id=person.id, version=person.version, action="update",
                                 changed_by_id=None, snapshot=people.snapshot(person),
                                 changes=changes))
    audit.record("person.update", person, details={"changes": changes})


def _erase_record(person: Person, actor) -> list[str]:
    erased = [name for name, blank in ERASED_VALUES.items()
              if getattr(person, name) not in (blank, None, "")]
    related = {"phones": person.phones, "emails": person.emails,
               "associations": person.memberships, "consents": person.consents}
    erased += [name for name, rows in related.items() if rows]

    for name, blank in ERASED_VALUES.items():
        setattr(person, name, blank)
    person.phones, person.emails, person.memberships, person.consents = [], [], [], []
    person.is_outreach_opted_out = True
    person.status, person.merged_into_id = ARCHIVED, None
    person.updated_by_id, person.updated_at = actor.id, utcnow()
    db.session.flush()
    return erased


def _erase_history(person: Person) -> list[str]:
    erased = []
    for name, model in (("history", PersonVersion), ("police_notes", PoliceNote)):
        result = db.session.execute(delete(model).where(model.person_id == person.id))
        if result.rowcount:
            erased.append(name)
    return erased


def _erase_copies(person: Person) -> list[str]:
    # Other domains keep copies of what the person gave: the evidence of a
    # self-registration, the row of an imported file, what the person wrote here.
    # TODO: intake and imports should each offer an erasing operation of their own.
    from registry.imports.models import ImportRow
    from registry.intake.models import Submission

    blanks = (
        ("submissions", Submission, {"contact_email": None, "address": None,
                                     "user_agent": None, "reason": None}),
        ("import_rows", ImportRow, {"data": None, "errors": None, "source_ref": None}),
        ("requests", SubjectRequest, {"details": None, "address": None, "outcome": None}),
    )
    erased = []
    for name, model, values in blanks:
        statement = update(model).where(model.person_id == person.id).values(**values)
        if db.session.execute(statement.execution_options(synchronize_session="fetch")
                              ).rowcount:
            erased.append(name)
    return erased


# Messages to the person


def _mail_person(person: Person, compose) -> None:
    # compose() returns the subject and text; it runs in the person's language.
    with force_locale(person.preferred_lang or "vi"):
        subject, text = compose()
    for address in _addresses(person):
        mail.send_after_commit(mail.Message(to=address, subject=subject, text=text))


def _link_message(person: Person, address: str) -> mail.Message:
    link = _public_url("rights.my_data", token=link_token(person, address))
    text = _("Hello,\n\nSomeone, we hope you, asked for a link to the data that the "
             "Department of Foreign Affairs of Thanh Hóa holds about you. The link below "
             "opens it; it works for 24 hours:\n\n%(link)s\n\nIf you did not ask for it, "
             "you can ignore this message.", link=link)
    return mail.Message(to=address, subject=_("Your data in the overseas registry"),
                        text=text)


def _withdrawal_text(purpose: str) -> str:
    from registry.rights.forms import PURPOSE_NAMES

    return _("Hello,\n\nYour consent to %(purpose)s has been withdrawn. It took effect "
             "at once.", purpose=PURPOSE_NAMES[purpose])


def _acknowledgement_text(ticket: SubjectRequest) -> str:
    from registry.core.templating import format_dmy

    return _("Hello,\n\nWe have received your request no. %(number)d and will answer it "
             "by %(date)s at the latest.", number=ticket.id, date=format_dmy(ticket.due_at))


def _closing_text(ticket: SubjectRequest) -> str:
    if ticket.state == REFUSED:
        return _("Hello,\n\nWe cannot carry out your request no. %(number)d, for this "
                 "reason:\n\n%(reason)s", number=ticket.id, reason=ticket.outcome)
    return _("Hello,\n\nYour request no. %(number)d has been dealt with:\n\n%(outcome)s",
             number=ticket.id, outcome=ticket.outcome)


def _erasure_text(ticket: SubjectRequest) -> str:
    return _("Hello,\n\nAs you asked in request no. %(number)d, your personal data has "
             "been erased from the overseas registry. This is the last message we send "
             "you.", number=ticket.id)


def _public_url(endpoint: str, **values) -> str:
    # Links in mail start from the configured address, never from the Host header.
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)
