"""Submissions and the review queue: what waits for an officer, and deciding it.

The queue gathers items from "queue sources". Intake registers its own
(self-registrations, district submissions, import batches); other domains add
theirs from their init_app with `register_queue_source`, so that intake never
imports them:

    register_queue_source("request", count_requests, request_items,
                          label=_l("Data-subject requests"))

count_fn() returns how many items wait, in one cheap COUNT query: the navigation
bar adds the counts up on every page an officer opens. items_fn(filters) returns
a list of QueueItem, oldest first, at most filters.limit of them; it may narrow
by filters.unit, filters.country and filters.min_days itself, and the queue then
drops what still does not match. Registering a name again replaces the source:
the imports domain may replace the built-in "import" source with its own.
"""
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import abort, current_app, render_template, url_for
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from registry.audit import operations as audit
from registry.core.errors import BadInput
from registry.core.mail import Message, send_after_commit
from registry.core.time import as_utc, utcnow
from registry.extensions import db
from registry.intake.models import (ACCEPTED, DISTRICT, IMPORT, PENDING, REJECTED, SELF,
                                    Submission)
from registry.people import operations as people
from registry.people.models import ACTIVE, SUBMITTED, Person
from registry.people.models import REJECTED as PERSON_REJECTED

log = logging.getLogger(__name__)

CONFIRM_SALT = "intake.confirm-contact"
CONFIRM_MAX_AGE = 7 * 24 * 3600  # seconds a confirmation link stays valid
STARTED_SALT = "intake.form-started"
MIN_FORM_SECONDS = 3  # quicker than this, a robot filled the form in
MAX_FORM_AGE = 2 * 3600  # a form older than this is shown again with a fresh stamp
MAX_BULK = 500  # submissions accepted in one bulk action


# Submissions -----------------------------------------------------------------

def open_submission(person, kind: str, actor=None, batch_id: int | None = None,
                    **evidence) -> Submission:
    """Put person in the review queue as a submission of kind; return it."""
    submission = Submission(person_id=person.id, kind=kind, reference=new_reference(),
                            submitted_by_id=actor.id if actor else None, batch_id=batch_id,
                            **evidence)
    db.session.add(submission)
    db.session.flush()

    audit.record("submission.open", submission, details={"kind": kind, "person": person.id})
    log.info("Submission %s opened for person %s (%s)", submission.id, person.id, kind)
    return submission


REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
REFERENCE_LENGTH = 8  # 32^8 codes: a year of imports stays far from collisions


def new_reference() -> str:
    """Return a reference number such as TH-2026-K7Q2M9XA used by no submission yet."""
    return fresh_references(1)[0]


def fresh_references(count: int) -> list[str]:
    """Return count distinct reference numbers used by no submission yet."""
    prefix = f"TH-{utcnow().year}-"
    chosen: set[str] = set()
    while len(chosen) < count:
        # One call for the random bytes of many codes: secrets.choice per
        # character costs a tenth of a large import's time.
        data = secrets.token_bytes(REFERENCE_LENGTH * (count - len(chosen)))
        wanted = {prefix + "".join(REFERENCE_ALPHABET[byte % 32]
                                   for byte in data[at:at + REFERENCE_LENGTH])
                  for at in range(0, len(data), REFERENCE_LENGTH)} - chosen
        used = set(db.session.scalars(select(Submission.reference)
                                      .where(Submission.reference.in_(sorted(wanted)))))
        chosen |= wanted - used
    return sorted(chosen)


def pending_count() -> int:
    """Return how many submissions wait for review."""
    query = select(func.count(Submission.id)).where(Submission.state == PENDING)
    return db.session.scalar(query) or 0


def on_person_submitted(person, actor=None, source: str | None = None) -> None:
    """Open a district submission when a district official enters a person."""
    if source == DISTRICT:
        open_submission(person, DISTRICT, actor)


def get_submission(submission_id: int) -> Submission:
    """Return the submission with submission_id, or answer 404."""
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        abort(404)
    return submission


def own_submissions(user) -> list[Submission]:
    """Return the submissions user entered, within their areas, newest first."""
    query = (select(Submission).join(Person, Person.id == Submission.person_id)
             .where(Submission.submitted_by_id == user.id)
             .order_by(Submission.created_at.desc(), Submission.id.desc()).limit(500))
    return list(db.session.scalars(people.visible(query, user)).unique())


def get_own(submission_id: int, user) -> Submission:
    """Return a submission user entered and may still see, else answer 404."""
    query = (select(Submission).join(Person, Person.id == Submission.person_id)
             .where(Submission.id == submission_id, Submission.submitted_by_id == user.id))
    submission = db.session.scalars(people.visible(query, user)).unique().first()
    if submission is None:
        log.warning("User %s asked for submission %s, not theirs", user.id, submission_id)
        abort(404)
    return submission


def matches_for(person, user=None) -> list:
    """Return the existing records that person may duplicate, best first.

    The items are registry.matching Match objects. Reviewers are officers, who
    see the whole province, so nothing is masked unless a narrower user is given.
    """
    from registry.matching import operations as matching

    return matching.likely_matches(person, user)


# Self-registration -------------------------------------------------------------

def register(data: dict, address: str | None, user_agent: str | None,
             shown_at: datetime | None) -> Submission:
    """Save a self-registration for review, and mail the link that confirms it."""
    from registry.intake.notice import NOTICE_VERSION

    person = people.create_person(data, None, SELF, status=SUBMITTED)
    submission = open_submission(
        person, SELF, contact_email=data["emails"][0], notice_version=NOTICE_VERSION,
        notice_shown_at=shown_at or utcnow(), address=(address or "")[:64] or None,
        user_agent=(user_agent or "")[:255] or None)

    _send_confirmation(submission, person.preferred_lang)
    log.info("Self-registration received as submission %s", submission.id)
    return submission


def form_started_token(at: float | None = None) -> str:
    """Return the signed time at which a registration form is shown (at: a Unix time)."""
    stamp = int(time.time() if at is None else at)
    return _serializer(STARTED_SALT).dumps({"t": stamp})


def check_not_robot(honeypot: str | None, started: str | None) -> datetime:
    """Return when the form was shown; raise BadInput if a robot seems to have sent it."""
    if honeypot:
        log.warning("Registration refused: the hidden field was filled in")
        raise BadInput(_("The form could not be accepted. Please check your answers and "
                         "send it again."))
    shown = _started_at(started)
    age = time.time() - shown
    if age < current_app.config.get("INTAKE_MIN_SECONDS", MIN_FORM_SECONDS):
        log.warning("Registration refused: sent %.1f s after the form was shown", age)
        raise BadInput(_("That was very quick. Please check your answers, then send the "
                         "form again."))
    if age > MAX_FORM_AGE:
        raise BadInput(_("The form was open for a long time. Please check your answers "
                         "and send it again."))
    return datetime.fromtimestamp(shown, UTC)


def confirmation_token(submission: Submission) -> str:
    """Return the signed token of the link that confirms submission's e-mail."""
    payload = {"s": submission.id, "e": submission.contact_email}
    return _serializer(CONFIRM_SALT).dumps(payload)


class LinkExpired(BadInput):
    """A confirmation link older than it may be."""


def confirm_contact(token: str, max_age: int | None = None) -> Submission:
    """Mark the e-mail of the token's submission as confirmed; return the submission.

    Raise LinkExpired for a link older than max_age seconds (default 7 days) and
    BadInput for one that was changed or whose registration is gone.
    """
    age = CONFIRM_MAX_AGE if max_age is None else max_age
    try:
        payload = _serializer(CONFIRM_SALT).loads(token, max_age=age)
    except SignatureExpired:
        raise LinkExpired(_("This link has expired.")) from None
    except BadData:
        log.warning("A confirmation link with a wrong signature was opened")
        raise BadInput(_("This link is not valid.")) from None
    submission = db.session.get(Submission, payload.get("s"))
    if submission is None or submission.contact_email != payload.get("e"):
        raise BadInput(_("This link is not valid."))

    if submission.contact_verified_at is None:
        submission.contact_verified_at = utcnow()
        for email in submission.person.emails:
            if email.address == submission.contact_email:
                email.is_verified = True
        db.session.flush()
        audit.record("submission.contact_verified", submission)
        log.info("E-mail of submission %s confirmed", submission.id)
    return submission


def resend_confirmation(email: str, reference: str) -> None:
    """Mail a new confirmation link if email and reference name an unconfirmed
    registration; say nothing either way."""
    from registry.people.normalise import Invalid, normalise_email

    try:
        address = normalise_email(email)
    except Invalid:
        return
    query = select(Submission).where(
        Submission.reference == reference.strip().upper(), Submission.kind == SELF,
        Submission.contact_email == address, Submission.contact_verified_at.is_(None),
        Submission.state == PENDING)
    submission = db.session.scalar(query)
    if submission is None:
        log.info("A new confirmation link was asked for an unknown registration")
        return
    _send_confirmation(submission, submission.person.preferred_lang)
    audit.record("submission.link_resent", submission)
    log.info("Confirmation link of submission %s sent again", submission.id)


def _send_confirmation(submission: Submission, lang: str | None) -> None:
    with force_locale(lang if lang in ("vi", "en") else "vi"):
        link = url_for("intake.confirm", token=confirmation_token(submission),
                       _external=True)
        message = Message(
            to=submission.contact_email,
            subject=_("Confirm your registration %(reference)s",
                      reference=submission.reference),
            text=render_template("intake/mail/confirm.txt", reference=submission.reference,
                                 link=link, days=CONFIRM_MAX_AGE // 86400))
    send_after_commit(message)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _started_at(token: str | None) -> float:
    try:
        payload = _serializer(STARTED_SALT).loads(token or "")
    except BadData:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), int):
        log.warning("Registration refused: the form's time stamp is missing or wrong")
        raise BadInput(_("The form could not be accepted. Please check your answers and "
                         "send it again."))
    return payload["t"]


# Deciding --------------------------------------------------------------------

def accept(submission: Submission, actor) -> None:
    """Accept a pending submission: its person becomes an active record."""
    _check_pending(submission)
    people.set_status(submission.person, ACTIVE, actor, reason="review.accept")
    _decide(submission, ACCEPTED, actor)
    audit.record("submission.accept", submission,
                 details={"kind": submission.kind, "person": submission.person_id})
    log.info("Submission %s accepted by user %s", submission.id, actor.id)


def accept_with_changes(submission: Submission, data: dict, actor) -> dict:
    """Apply an officer's corrections to the submitted record, then accept it."""
    _check_pending(submission)
    changes = people.update_person(submission.person, data, actor)
    accept(submission, actor)
    return changes


def reject(submission: Submission, actor, reason: str, tell_reason: bool = False) -> None:
    """Reject a pending submission with the reason its author will read.

    A person who registered themselves is told by e-mail, in their language,
    that the entry was not accepted; with tell_reason, the mail gives the reason.
    """
    _check_pending(submission)
    reason = (reason or "").strip()
    if not reason:
        raise BadInput(_("Say why the entry is not accepted."), field="reason")
    people.set_status(submission.person, PERSON_REJECTED, actor, reason=reason)
    _decide(submission, REJECTED, actor)
    submission.reason = reason
    told = _tell_rejected(submission, reason if tell_reason else None)
    audit.record("submission.reject", submission,
                 details={"kind": submission.kind, "person": submission.person_id,
                          "mailed": told, "reason_told": told and bool(tell_reason)})
    log.info("Submission %s rejected by user %s", submission.id, actor.id)


def _tell_rejected(submission: Submission, reason: str | None) -> bool:
    """Mail a self-registrant that their entry was not accepted; return whether sent."""
    if submission.kind != SELF or not submission.contact_email:
        return False
    lang = submission.person.preferred_lang
    with force_locale(lang if lang in ("vi", "en") else "vi"):
        message = Message(
            to=submission.contact_email,
            subject=_("Your registration %(reference)s was not accepted",
                      reference=submission.reference),
            text=render_template("intake/mail/rejected.txt",
                                 reference=submission.reference, reason=reason))
    send_after_commit(message)
    return True


def accept_many(submission_ids: list[int], actor) -> int:
    """Accept the pending submissions among submission_ids; return how many."""
    ids = sorted(set(submission_ids))[:MAX_BULK]
    query = select(Submission).where(Submission.id.in_(ids), Submission.state == PENDING)
    return _accept_all(db.session.scalars(query.order_by(Submission.id)).all(), actor)


def accept_batch(batch_id: int, actor) -> int:
    """Accept every pending submission of an import batch; return how many."""
    query = select(Submission).where(Submission.batch_id == batch_id,
                                     Submission.state == PENDING)
    accepted = _accept_all(db.session.scalars(query.order_by(Submission.id)).all(), actor)
    audit.record("submission.accept_batch", object_type="import_batch", object_id=batch_id,
                 details={"accepted": accepted})
    log.info("Import batch %s accepted by user %s: %s submissions", batch_id, actor.id,
             accepted)
    return accepted


def resubmit(submission: Submission, actor) -> None:
    """Send a rejected submission back to review after its author corrected it."""
    if submission.state != REJECTED or submission.submitted_by_id != actor.id:
        raise BadInput(_("Only a rejected entry of yours can be sent again."))
    people.return_to_review(submission.person, actor)
    submission.state = PENDING
    submission.times_submitted += 1
    db.session.flush()
    audit.record("submission.resubmit", submission,
                 details={"times_submitted": submission.times_submitted})
    log.info("Submission %s resubmitted by user %s", submission.id, actor.id)


def _accept_all(submissions: list[Submission], actor) -> int:
    for submission in submissions:
        accept(submission, actor)
    return len(submissions)


def _check_pending(submission: Submission) -> None:
    if submission.state != PENDING:
        raise BadInput(_("This entry has already been decided."))


def _decide(submission: Submission, state: str, actor) -> None:
    submission.state = state
    submission.reviewed_at = utcnow()
    submission.reviewed_by_id = actor.id
    db.session.flush()


# The review queue --------------------------------------------------------------

@dataclass(frozen=True)
class QueueFilters:
    kind: str | None = None  # a source's name
    unit: str | None = None  # a hometown unit code
    country: str | None = None  # alpha-2
    min_days: int | None = None  # waiting at least this many days
    batch_id: int | None = None  # the rows of one import batch
    limit: int = 200  # items per source

    def waiting_since_before(self) -> datetime | None:
        """Return the latest start of waiting that meets min_days, if asked."""
        return utcnow() - timedelta(days=self.min_days) if self.min_days else None


@dataclass
class QueueItem:
    kind: str  # the name of the source it comes from
    title: str
    url: str  # where an officer handles it
    waiting_since: datetime
    unit_code: str | None = None
    country_code: str | None = None
    #: (text, Bootstrap colour) pairs such as ("E-mail confirmed", "success")
    badges: list[tuple[str, str]] = field(default_factory=list)
    #: set for a single submission, which can then be ticked for bulk accept
    submission_id: int | None = None
    note: str | None = None  # a short line under the title

    @property
    def days_waiting(self) -> int:
        return (utcnow() - as_utc(self.waiting_since)).days


@dataclass(frozen=True)
class QueueSource:
    name: str
    label: str
    count: Callable[[], int]
    items: Callable[[QueueFilters], list[QueueItem]]


_sources: dict[str, QueueSource] = {}


def register_queue_source(name: str, count_fn: Callable[[], int],
                          items_fn: Callable[[QueueFilters], list[QueueItem]],
                          label=None) -> None:
    """Add a kind of pending item to the review queue, or replace the one of name."""
    _sources[name] = QueueSource(name, label or name, count_fn, items_fn)


def queue_sources() -> list[QueueSource]:
    """Return the sources of the review queue, in the order they were registered."""
    return list(_sources.values())


def queue_counts() -> dict[str, int]:
    """Return how many items wait, by source name (one COUNT per source)."""
    return {name: source.count() for name, source in _sources.items()}


def queue_items(filters: QueueFilters) -> list[QueueItem]:
    """Return the pending items that match filters, longest waiting first."""
    if filters.batch_id is not None:
        return _submission_items(None)(filters)
    chosen = [s for s in _sources.values() if filters.kind in (None, s.name)]
    items = [item for source in chosen for item in source.items(filters)
             if _matches(item, filters)]
    return sorted(items, key=lambda item: as_utc(item.waiting_since))


def register_own_sources() -> None:
    """Put intake's own kinds of pending items in the queue."""
    register_queue_source(SELF, _submission_counter(SELF), _submission_items(SELF),
                          label=_l("Self-registrations"))
    register_queue_source(DISTRICT, _submission_counter(DISTRICT),
                          _submission_items(DISTRICT), label=_l("District submissions"))
    register_queue_source(IMPORT, _batch_count, _batch_items, label=_l("Import batches"))


def _matches(item: QueueItem, filters: QueueFilters) -> bool:
    before = filters.waiting_since_before()
    return ((not filters.unit or item.unit_code == filters.unit)
            and (not filters.country or item.country_code == filters.country)
            and (before is None or as_utc(item.waiting_since) <= before))


def _submission_counter(kind: str) -> Callable[[], int]:
    def count() -> int:
        query = select(func.count(Submission.id)).where(Submission.state == PENDING,
                                                        Submission.kind == kind)
        return db.session.scalar(query) or 0

    return count


def _pending_query(filters: QueueFilters):
    query = (select(Submission).join(Person, Person.id == Submission.person_id)
             .where(Submission.state == PENDING))
    if filters.unit:
        query = query.where(Person.hometown_code == filters.unit)
    if filters.country:
        query = query.where(Person.country_code == filters.country)
    if before := filters.waiting_since_before():
        query = query.where(Submission.created_at <= before)
    return query


def _submission_items(kind: str | None) -> Callable[[QueueFilters], list[QueueItem]]:
    def items(filters: QueueFilters) -> list[QueueItem]:
        query = _pending_query(filters)
        if kind is not None:
            query = query.where(Submission.kind == kind)
        if filters.batch_id is not None:
            query = query.where(Submission.batch_id == filters.batch_id)
        query = query.order_by(Submission.created_at, Submission.id).limit(filters.limit)
        return [_submission_item(s) for s in db.session.scalars(query).unique()]

    return items


def _submission_item(submission: Submission) -> QueueItem:
    person = submission.person
    badges = []
    if submission.kind == SELF:
        badges.append((_("E-mail confirmed"), "success") if submission.is_contact_verified
                      else (_("E-mail not confirmed"), "warning"))
    if submission.times_submitted > 1:
        badges.append((_("Sent again (%(times)s times)", times=submission.times_submitted),
                       "info"))
    return QueueItem(
        kind=submission.kind, title=person.full_name, submission_id=submission.id,
        url=url_for("intake.review_item", submission_id=submission.id),
        waiting_since=submission.created_at, unit_code=person.hometown_code,
        country_code=person.country_code, badges=badges, note=submission.reference)


def _batch_count() -> int:
    query = select(func.count(func.distinct(Submission.batch_id))).where(
        Submission.state == PENDING, Submission.kind == IMPORT,
        Submission.batch_id.is_not(None))
    return db.session.scalar(query) or 0


def _batch_items(filters: QueueFilters) -> list[QueueItem]:
    query = (_pending_query(filters)
             .where(Submission.kind == IMPORT, Submission.batch_id.is_not(None))
             .with_only_columns(Submission.batch_id, func.min(Submission.created_at),
                                func.count(Submission.id))
             .group_by(Submission.batch_id).order_by(func.min(Submission.created_at))
             .limit(filters.limit))
    # A batch matches an area or a country when some of its rows do.
    return [QueueItem(kind=IMPORT, title=_("Import batch %(number)s", number=batch_id),
                      url=url_for("intake.queue", batch=batch_id), waiting_since=since,
                      unit_code=filters.unit, country_code=filters.country,
                      note=_("%(count)s people waiting", count=count))
            for batch_id, since, count in db.session.execute(query)]
