"""Creating, changing and reading people records, within each user's scope."""
import logging
from datetime import date

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import select

from registry.audit import operations as audit
from registry.core.errors import BadInput
from registry.core.text import fold, nfc, tone_key
from registry.core.time import utcnow
from registry.extensions import db
from registry.people import search
from registry.people.models import (ACTIVE, REJECTED, SUBMITTED, Association, Consent, Email,
                                    Membership, Person, PersonVersion, Phone, PoliceNote)
from registry.people.names import split_name
from registry.people.signals import person_submitted

log = logging.getLogger(__name__)

# Scalar fields a form may set directly, copied as they come.
PLAIN_FIELDS = (
    "gender", "country_code", "city", "address_abroad", "residence_status", "purpose",
    "passport_number", "national_id", "occupation", "employer", "education_level",
    "expertise", "relative_name", "relative_relation", "relative_phone",
    "relative_address", "preferred_lang", "is_outreach_opted_out", "notes",
)
IDENTITY_FIELDS = frozenset({"passport_number", "national_id"})
SNAPSHOT_FIELDS = (
    "full_name", "family_name", "middle_name", "given_name", "birth_year", "birth_month",
    "birth_day", "hometown_code", "hometown_given", "hometown_former_code", "status",
    "merged_into_id", "is_verified", "abroad_since", *PLAIN_FIELDS,
)


def scope_of(user) -> set[str] | None:
    """Return the hometown units user may see, or None for the whole province."""
    from registry.accounts.access import scope_units

    return scope_units(user)


def visible(query, user):
    """Return query limited to the people user may see."""
    if not user.can("people.read"):
        return query.where(False)
    units = scope_of(user)
    if units is None:
        return query
    return query.where(Person.hometown_code.in_(sorted(units)))


def get_visible(person_id: int, user) -> Person:
    """Return the person with person_id if user may see it, else answer 404."""
    person = db.session.scalar(visible(select(Person).where(Person.id == person_id), user))
    if person is None:
        log.warning("User %s asked for person %s outside their scope", user.id, person_id)
        abort(404)
    return person


def find_people(criteria: search.Criteria, user, page: int, per_page: int):
    """Return (people on page, total, is_capped) for criteria within user's scope."""
    criteria.units = _narrow(criteria.units, scope_of(user))
    query = visible(search.build_query(criteria, db.engine.dialect.name), user)
    total, capped = search.count_capped(db.session, query)
    people = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).all()
    return people, total, capped


def create_person(data: dict, actor, source: str, status: str | None = None) -> Person:
    """Create a person from cleaned form data; return it.

    actor is None for a self-registration. Without an explicit status, officers'
    entries are active and everyone else's wait for review as submitted.
    """
    if actor is not None:
        check_hometown_in_scope(data, actor)
    may_set_status = actor is not None and actor.can("people.set_status")

    person = Person(source=source, created_by_id=_id(actor), updated_by_id=_id(actor),
                    status=status or (ACTIVE if may_set_status else SUBMITTED))
    with db.session.no_autoflush:
        _apply(person, data)
    if status is None and may_set_status and data.get("status"):
        person.status = data["status"]
    db.session.add(person)
    _record_consents(person, data, actor)
    db.session.flush()

    _save_version(person, "create", actor, changes=None)
    audit.record("person.create", person, details={"after": snapshot(person)})
    log.info("Person %s created by user %s (%s)", person.id, _id(actor), source)
    if person.status == SUBMITTED:
        person_submitted.send(person, actor=actor, source=source)
    return person


def update_person(person: Person, data: dict, actor) -> dict:
    """Apply cleaned form data to person; return the fields that changed."""
    check_hometown_in_scope(data, actor)

    before = snapshot(person)
    with db.session.no_autoflush:  # one flush, so the version number moves by one
        _apply(person, data)
        if actor.can("people.set_status") and data.get("status"):
            person.status = data["status"]
        elif person.status not in (ACTIVE, SUBMITTED, REJECTED) and \
                not actor.can("people.set_status"):
            abort(403)
        _record_consents(person, data, actor)
        changes = audit.diff(before, snapshot(person))
    if not changes:
        return {}

    person.updated_by_id = actor.id
    person.updated_at = utcnow()
    db.session.flush()
    _save_version(person, "update", actor, changes)
    audit.record("person.update", person, details={"changes": changes})
    log.info("Person %s updated by user %s: %s", person.id, actor.id, ", ".join(changes))
    return changes


def set_status(person: Person, status: str, actor, reason: str = "") -> None:
    """Change the lifecycle status of person, with an audit row."""
    if not actor.can("people.set_status"):
        abort(403)
    before = person.status
    if before == status:
        return
    person.status = status
    person.updated_by_id = actor.id
    person.updated_at = utcnow()
    db.session.flush()

    changes = {"status": [before, status]}
    _save_version(person, "status", actor, changes)
    audit.record("person.status", person, details={"changes": changes, "reason": reason})
    log.info("Person %s status %s -> %s by user %s", person.id, before, status, actor.id)


def return_to_review(person: Person, actor) -> None:
    """Put a rejected record back to submitted, once its author has corrected it."""
    if person.status != REJECTED:
        abort(409)
    person.status = SUBMITTED
    person.updated_by_id = actor.id
    person.updated_at = utcnow()
    db.session.flush()

    changes = {"status": [REJECTED, SUBMITTED]}
    _save_version(person, "status", actor, changes)
    audit.record("person.status", person, details={"changes": changes, "reason": "resubmit"})
    log.info("Person %s sent back to review by user %s", person.id, actor.id)


def add_police_note(person: Person, body: str, is_verified: bool, actor) -> PoliceNote:
    """Add a police verification note and set the verified flag as given."""
    if not actor.can("people.verify"):
        abort(403)
    note = PoliceNote(person_id=person.id, author_id=actor.id, body=nfc(body))
    db.session.add(note)
    if person.is_verified != is_verified:
        person.is_verified = is_verified
        person.verified_at = utcnow() if is_verified else None
        person.verified_by_id = actor.id if is_verified else None
        db.session.flush()
        _save_version(person, "verify", actor, {"is_verified": [not is_verified, is_verified]})
    db.session.flush()

    audit.record("person.police_note", person, details={"is_verified": is_verified})
    log.info("Police note on person %s by user %s", person.id, actor.id)
    return note


def police_notes(person: Person, user) -> list[PoliceNote]:
    """Return the police notes of person, or none if user may not read them."""
    if not user.can("people.police_notes"):
        return []
    query = select(PoliceNote).where(PoliceNote.person_id == person.id)
    return list(db.session.scalars(query.order_by(PoliceNote.id.desc())))


def reveal_identity(person: Person, user) -> dict:
    """Return the identity documents of person, recording that user viewed them."""
    if not user.can("people.identity"):
        abort(403)
    audit.record("person.identity_viewed", person)
    log.info("User %s viewed identity documents of person %s", user.id, person.id)
    return {"passport_number": person.passport_number, "national_id": person.national_id}


def history(person: Person) -> list[PersonVersion]:
    """Return every saved version of person, newest first."""
    query = select(PersonVersion).where(PersonVersion.person_id == person.id)
    return list(db.session.scalars(query.order_by(PersonVersion.version.desc())))


def active_consents(person: Person) -> dict[str, Consent]:
    """Return the consents of person in force, by purpose."""
    return {c.purpose: c for c in person.consents if c.is_active}


def snapshot(person: Person) -> dict:
    """Return the record's values as plain data, for history and audit."""
    values = {name: _plain(getattr(person, name)) for name in SNAPSHOT_FIELDS}
    values["phones"] = [phone.number for phone in person.phones]
    values["emails"] = [email.address for email in person.emails]
    values["associations"] = sorted(m.association.name for m in person.memberships
                                    if m.association is not None)
    values["consents"] = sorted(active_consents(person))
    return values


def _apply(person: Person, data: dict) -> None:
    _apply_name(person, data["full_name"])
    birth = data.get("birth")
    person.birth_year = birth.year if birth else None
    person.birth_month = birth.month if birth else None
    person.birth_day = birth.day if birth else None
    since = data.get("abroad_since")
    person.abroad_since = date(since.year, since.month or 1, since.day or 1) if since and \
        since.year else None
    person.hometown_code, person.hometown_former_code, person.hometown_given = data["hometown"]
    for name in PLAIN_FIELDS:
        if name in data:
            setattr(person, name, _blank_to_none(data[name]))
    _apply_phones(person, data.get("phones", []))
    _apply_emails(person, data.get("emails", []))
    _apply_associations(person, data.get("associations", []), person.country_code)


def _apply_name(person: Person, full_name: str) -> None:
    parts = split_name(full_name)
    person.full_name = nfc(full_name)
    person.family_name, person.middle_name, person.given_name = (
        parts.family, parts.middle, parts.given)
    person.name_folded = fold(parts.full)
    person.name_tone_key = tone_key(parts.full)


def _apply_phones(person: Person, phones: list[tuple[str, str]]) -> None:
    kept = {phone.number: phone for phone in person.phones}
    person.phones = [kept.get(number) or Phone(number=number, national_digits=digits)
                     for number, digits in phones]


def _apply_emails(person: Person, emails: list[str]) -> None:
    kept = {email.address: email for email in person.emails}
    person.emails = [kept.get(address) or Email(address=address) for address in emails]


def _apply_associations(person: Person, names: list[str], country: str | None) -> None:
    kept = {m.association.name: m for m in person.memberships if m.association is not None}
    memberships = []
    for name in names:
        clean = nfc(name)
        membership = kept.get(clean) or Membership(association=_association(clean, country))
        memberships.append(membership)
    person.memberships = memberships


def _association(name: str, country: str | None) -> Association:
    found = db.session.scalar(select(Association).where(Association.name == name))
    if found is None:
        found = Association(name=name, name_folded=fold(name), country_code=country)
        db.session.add(found)
    return found


def _record_consents(person: Person, data: dict, actor) -> None:
    if "consents" not in data:
        return
    current = active_consents(person)
    wanted = set(data["consents"])
    for purpose, consent in current.items():
        if purpose not in wanted:
            consent.withdrawn_at = utcnow()
    for purpose in wanted - set(current):
        person.consents.append(Consent(
            purpose=purpose, channel=data.get("consent_channel") or "paper",
            notice_version=data.get("notice_version"), recorded_by_id=_id(actor),
        ))


def is_hometown_in_scope(data: dict, actor) -> bool:
    """Tell whether the hometown in data lies in actor's areas."""
    units = scope_of(actor)
    return units is None or data["hometown"][0] in units


def check_hometown_in_scope(data: dict, actor) -> None:
    """Raise BadInput unless the hometown in data lies in actor's areas."""
    if not is_hometown_in_scope(data, actor):
        log.warning("User %s tried to set a hometown outside their areas", actor.id)
        raise BadInput(_("You can only enter people whose hometown is in your areas."),
                       field="hometown")


def _save_version(person: Person, action: str, actor, changes: dict | None) -> None:
    db.session.add(PersonVersion(
        person_id=person.id, version=person.version, action=action,
        changed_by_id=actor.id if actor else None, snapshot=snapshot(person), changes=changes,
    ))


def _id(actor) -> int | None:
    return actor.id if actor is not None else None


def _narrow(units: set[str] | None, scope: set[str] | None) -> set[str] | None:
    if scope is None:
        return units
    return scope if units is None else units & scope


def _blank_to_none(value):
    if isinstance(value, str):
        value = nfc(value)
        return value or None
    return value


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    return value
