"""Merging the records of one person into a survivor, and undoing it.

A merge is all or nothing: it runs in a savepoint, so a refusal half-way leaves
nothing behind even when the caller goes on to commit. What it does:

- the survivor takes, field by field, the value of the record chosen for it;
  notes are joined, an opt-out from outreach or a police verification on any
  record is kept, and the survivor becomes active if any record was;
- every phone, e-mail, membership and consent of the absorbed records moves to
  the survivor; a phone, e-mail or association the survivor already has stays
  where it is (on the absorbed record), so nothing is deleted and nothing is
  doubled;
- police notes, submissions and data-subject requests move to the survivor; a
  pending submission of a merged record is closed as accepted by the merge;
- history stays where it is: each record keeps its own versions (their numbers
  are per record), and every record taking part gets a "merge" version;
- spreadsheet import rows keep pointing at the record they created, so that
  undoing an import never archives a survivor that came from elsewhere;
- the absorbed records become "merged" into the survivor and are never deleted.

Merge.before keeps {"records": {id: full copy of the record, its phones, e-mails,
memberships and consents}, "submissions": [their rows], "merged_values": {column:
value the merge gave the survivor}} and Merge.moved {table: {absorbed id: ids of
the rows moved}} (association ids for memberships), so undo_merge can put
everything back. Undo restores the absorbed
records exactly and gives back the survivor's own values, except where the
survivor was changed after the merge: a field whose value is no longer the one
the merge set keeps its later value, and a consent withdrawn after the merge
stays withdrawn. Both are the person's or an officer's later word.

Two officers merging the same records at once: the records are locked (SELECT
... FOR UPDATE on PostgreSQL; SQLite writers are serialised by BEGIN IMMEDIATE)
and read afresh inside the transaction, then checked; the person version column
turns any write on a record read stale into a refusal rather than a lost update.
"""
import logging
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import Date, DateTime, or_, select
from sqlalchemy.orm.exc import StaleDataError

from registry.audit import operations as audit
from registry.core.errors import BadInput
from registry.core.text import has_diacritics
from registry.core.time import as_utc, utcnow
from registry.extensions import db
from registry.intake.models import ACCEPTED, PENDING, Submission
from registry.matching import engine
from registry.matching import operations as matching
from registry.matching.models import MERGED as PAIR_MERGED
from registry.matching.models import (LIKELY, NOT_SAME, OPEN, SKIPPED, MatchPair,
                                      Merge)
from registry.people import operations as people
from registry.people.models import (ACTIVE, MERGED, SUBMITTED, Consent, Email, Membership,
                                    Person, PersonVersion, Phone, PoliceNote)
from registry.rights.models import SubjectRequest

log = logging.getLogger(__name__)

#: The fields an officer chooses on the merge page, and the columns each carries.
FIELD_COLUMNS = {
    "full_name": ("full_name", "family_name", "middle_name", "given_name", "name_folded",
                  "name_tone_key"),
    "gender": ("gender",),
    "birth": ("birth_year", "birth_month", "birth_day"),
    "hometown": ("hometown_code", "hometown_given", "hometown_former_code"),
    "country_code": ("country_code",),
    "city": ("city",),
    "address_abroad": ("address_abroad",),
    "abroad_since": ("abroad_since",),
    "residence_status": ("residence_status",),
    "purpose": ("purpose",),
    "passport_number": ("passport_number",),
    "national_id": ("national_id",),
    "occupation": ("occupation",),
    "employer": ("employer",),
    "education_level": ("education_level",),
    "expertise": ("expertise",),
    "relative": ("relative_name", "relative_relation", "relative_phone", "relative_address"),
    "preferred_lang": ("preferred_lang",),
}
#: Which source's word counts most when records disagree.
SOURCE_TRUST = {"officer": 4, "district": 3, "import": 2, "self": 1}
#: Columns never copied back on undo: the key, the lock and the time of change.
NOT_RESTORED = frozenset({"id", "version", "updated_at", "updated_by_id"})
MAX_GROUP = 8
GROUP_EDGES = 200  # pairs read around a pair to find its group
#: pairs still waiting for a decision: open, or put off by an officer
UNDECIDED = (OPEN, SKIPPED)
NOTE_SEPARATOR = "\n\n"


# Choosing ----------------------------------------------------------------------

def default_choices(records: list[Person]) -> dict[str, int]:
    """Return, per field, the id of the record whose value should survive.

    A value beats an empty one; then a record verified by the police, then the
    more trusted source (officer, district, import, self), then the latest update.
    A name typed without its marks gives way to the same name written with them.
    """
    ranked = sorted(records, key=_trust, reverse=True)
    chosen = {field: next((p.id for p in ranked if _has_value(p, field)), ranked[0].id)
              for field in FIELD_COLUMNS}
    chosen["full_name"] = _marked_name(ranked, chosen["full_name"])
    return chosen


def default_survivor(records: list[Person]) -> Person:
    """Return the record to keep: active, verified, trusted, then the oldest."""
    return max(records, key=lambda p: (p.status == ACTIVE, p.is_verified,
                                       SOURCE_TRUST.get(p.source, 0), -p.id))


def field_value(person: Person, field: str) -> tuple:
    """Return the values of the columns that make up field, for display and comparison."""
    return tuple(getattr(person, column) for column in FIELD_COLUMNS[field])


def _trust(person: Person) -> tuple:
    return (person.is_verified, SOURCE_TRUST.get(person.source, 0),
            as_utc(person.updated_at), person.id)


def _marked_name(ranked: list[Person], chosen_id: int) -> int:
    # "Nguyen Thi Huong" and "Nguyễn Thị Hương" are one name: keep its marks.
    chosen = next(p for p in ranked if p.id == chosen_id)
    if has_diacritics(chosen.full_name):
        return chosen_id
    return next((p.id for p in ranked if p.name_folded == chosen.name_folded
                 and has_diacritics(p.full_name)), chosen_id)


def _has_value(person: Person, field: str) -> bool:
    return any(value not in (None, "") for value in field_value(person, field))


# Merging -----------------------------------------------------------------------

def merge_people(records: list[Person], survivor: Person, choices: dict | None, actor,
                 seen_versions: dict[int, int] | None = None) -> Merge:
    """Merge records into survivor in one step; return the Merge that can undo it.

    seen_versions ({person id: version}) are the versions the officer looked at;
    if any record changed since, the merge is refused.
    """
    ids = _check_group(records, survivor)
    with _all_or_nothing():
        locked = _lock(ids)
        _check_mergeable(locked, seen_versions)
        survivor = locked[survivor.id]
        absorbed = [locked[pid] for pid in ids if pid != survivor.id]
        chosen = _clean_choices(choices, locked)
        merge = _merge_locked(survivor, absorbed, chosen, actor)
    _refresh_keys([survivor, *absorbed])
    log.info("People %s merged into %s by user %s (merge %s)",
             [p.id for p in absorbed], survivor.id, _id(actor), merge.id)
    return merge


def _merge_locked(survivor: Person, absorbed: list[Person], chosen: dict, actor) -> Merge:
    everyone = [survivor, *absorbed]
    submissions = _submissions_of(everyone)
    own_entries = {s.id for s in submissions if s.person_id == survivor.id}
    before = {"records": {str(p.id): _copy(p) for p in everyone},
              "submissions": [_row(s) for s in submissions]}
    snapshots = {p.id: people.snapshot(p) for p in everyone}

    merged_values = _take_values(survivor, absorbed, chosen)
    moved = _move_rows(survivor, absorbed)
    _close_submissions(submissions, own_entries, survivor, actor)
    for person in absorbed:
        person.status, person.merged_into_id = MERGED, survivor.id
    _touch(everyone, actor)
    _flush()

    before["merged_values"] = merged_values
    merge = Merge(survivor_id=survivor.id, absorbed_ids=[p.id for p in absorbed],
                  chosen=dict(chosen), before=before, moved=moved,
                  survivor_version=survivor.version, merged_by_id=_id(actor))
    db.session.add(merge)
    db.session.flush()
    _decide_pairs(everyone, merge, actor)
    _save_versions(everyone, snapshots, "merge", actor)
    audit.record("person.merge", survivor, actor=actor, details={
        "merge": merge.id, "absorbed": merge.absorbed_ids, "chosen": merge.chosen})
    return merge


def _check_group(records: list[Person], survivor: Person) -> list[int]:
    ids = sorted({p.id for p in records})
    if len(ids) < 2:
        raise BadInput(_("Choose at least two records to merge."))
    if len(ids) > MAX_GROUP:
        raise BadInput(_("At most %(count)d records can be merged at once.", count=MAX_GROUP))
    if survivor.id not in ids:
        raise BadInput(_("The record to keep must be one of the records merged."))
    return ids


def _check_mergeable(locked: dict[int, Person], seen_versions: dict | None) -> None:
    for person in locked.values():
        if person.status == MERGED:
            raise BadInput(_("Record %(id)s has already been merged into another record.",
                             id=person.id))
        if person.is_personal_data_erased:
            raise BadInput(_("Record %(id)s has been erased and cannot be merged.",
                             id=person.id))
    for pid, version in (seen_versions or {}).items():
        if pid in locked and locked[pid].version != version:
            raise BadInput(_("Record %(id)s was changed by someone else meanwhile. "
                             "Check the records again before merging.", id=pid))


def _clean_choices(choices: dict | None, locked: dict[int, Person]) -> dict:
    chosen = default_choices(list(locked.values()))
    for field, pid in (choices or {}).items():
        if field not in FIELD_COLUMNS or int(pid) not in locked:
            raise BadInput(_("That choice of values cannot be used."))
        chosen[field] = int(pid)
    return chosen


def _take_values(survivor: Person, absorbed: list[Person], chosen: dict) -> dict:
    """Copy the chosen values to survivor; return {column: value} it was given."""
    by_id = {p.id: p for p in [survivor, *absorbed]}
    old = {column: getattr(survivor, column) for column in _columns()}
    with db.session.no_autoflush:
        for field, pid in chosen.items():
            for column in FIELD_COLUMNS[field]:
                setattr(survivor, column, getattr(by_id[pid], column))
        _combine(survivor, absorbed)
    return {column: _dump(getattr(survivor, column)) for column in _columns()
            if getattr(survivor, column) != old[column]}


def _combine(survivor: Person, absorbed: list[Person]) -> None:
    # Values no one chooses: they add up, or the safer one wins.
    notes = [p.notes.strip() for p in [survivor, *absorbed] if p.notes and p.notes.strip()]
    survivor.notes = NOTE_SEPARATOR.join(dict.fromkeys(notes)) or None
    survivor.is_outreach_opted_out = any(p.is_outreach_opted_out
                                         for p in [survivor, *absorbed])
    if not survivor.is_verified:
        verified = [p for p in absorbed if p.is_verified]
        if verified:
            latest = max(verified, key=lambda p: as_utc(p.verified_at) or as_utc(p.updated_at))
            survivor.is_verified = True
            survivor.verified_at, survivor.verified_by_id = (latest.verified_at,
                                                             latest.verified_by_id)
    if survivor.status == SUBMITTED and any(p.status == ACTIVE for p in absorbed):
        survivor.status = ACTIVE  # an accepted identity does not go back to review
    if not survivor.source_ref:
        survivor.source_ref = next((p.source_ref for p in absorbed if p.source_ref), None)


def _move_rows(survivor: Person, absorbed: list[Person]) -> dict:
    """Move the absorbed records' rows to survivor; return {table: {from id: ids}}."""
    moved = {name: {} for name in ("person_phone", "person_email", "membership", "consent",
                                   "police_note", "submission", "subject_request")}
    numbers = {phone.number for phone in survivor.phones}
    addresses = {email.address for email in survivor.emails}
    groups = {m.association_id for m in survivor.memberships}
    for person in absorbed:
        key = str(person.id)
        moved["person_phone"][key] = _move_unique(person.phones, survivor.phones, numbers,
                                                  "number")
        moved["person_email"][key] = _move_unique(person.emails, survivor.emails, addresses,
                                                  "address")
        moved["membership"][key] = _move_unique(person.memberships, survivor.memberships,
                                                groups, "association_id")
        moved["consent"][key] = _move_all(person.consents, survivor.consents)
        for model in (PoliceNote, Submission, SubjectRequest):
            moved[model.__tablename__][key] = _repoint(model, person.id, survivor.id)
    return moved


def _move_unique(source: list, target: list, taken: set, attribute: str) -> list:
    moved = []
    for row in list(source):
        value = getattr(row, attribute)
        if value in taken:
            continue  # the survivor has it already; it stays on the absorbed record
        taken.add(value)
        target.append(row)  # the back reference takes it off the absorbed record
        moved.append(value if attribute == "association_id" else row.id)
    return moved


def _move_all(source: list, target: list) -> list:
    ids = [row.id for row in source]
    for row in list(source):
        target.append(row)
    return ids


def _repoint(model, from_id: int, to_id: int) -> list[int]:
    rows = db.session.scalars(select(model).where(model.person_id == from_id)
                              .order_by(model.id)).all()
    for row in rows:
        row.person_id = to_id
    return [row.id for row in rows]


def _close_submissions(submissions: list[Submission], own_entries: set[int],
                       survivor: Person, actor) -> None:
    # The merge decided these entries: their data now lives in the survivor. The
    # survivor's own entry stays pending while the survivor still awaits review.
    for submission in submissions:
        if submission.state != PENDING:
            continue
        if survivor.status == SUBMITTED and submission.id in own_entries:
            continue
        submission.state, submission.reason = ACCEPTED, "merge"
        submission.reviewed_at, submission.reviewed_by_id = utcnow(), _id(actor)


def _submissions_of(records: list[Person]) -> list[Submission]:
    query = select(Submission).where(Submission.person_id.in_([p.id for p in records]))
    return list(db.session.scalars(query.order_by(Submission.id)))


def _decide_pairs(records: list[Person], merge: Merge, actor) -> None:
    ids = [p.id for p in records]
    query = select(MatchPair).where(MatchPair.person_a_id.in_(ids),
                                    MatchPair.person_b_id.in_(ids),
                                    MatchPair.state != NOT_SAME)
    for pair in db.session.scalars(query):
        pair.state, pair.merge_id = PAIR_MERGED, merge.id
        pair.decided_at, pair.decided_by_id = utcnow(), _id(actor)


# Undoing -----------------------------------------------------------------------

def undo_merge(merge: Merge, actor) -> None:
    """Put every record of merge back as it was, keeping the survivor's later edits."""
    with _all_or_nothing():
        merge = _lock_merge(merge.id)
        ids = sorted([merge.survivor_id, *merge.absorbed_ids])
        locked = _lock(ids)
        survivor = locked[merge.survivor_id]
        absorbed = [locked[pid] for pid in merge.absorbed_ids]
        _check_undoable(merge, survivor, absorbed)
        snapshots = {p.id: people.snapshot(p) for p in locked.values()}

        kept = _restore_survivor(survivor, merge)
        for person in absorbed:
            _restore_record(person, merge.before["records"][str(person.id)])
        _move_back(merge, survivor, absorbed)
        _restore_submissions(merge.before.get("submissions", []))
        _touch(list(locked.values()), actor)
        _flush()

        _reopen_pairs(merge)
        merge.undone_at, merge.undone_by_id = utcnow(), _id(actor)
        _save_versions(list(locked.values()), snapshots, "unmerge", actor)
        audit.record("person.unmerge", survivor, actor=actor, details={
            "merge": merge.id, "absorbed": merge.absorbed_ids, "kept_later_edits": kept})
    _refresh_keys([survivor, *absorbed])
    log.info("Merge %s undone by user %s; survivor %s kept later edits of %s",
             merge.id, _id(actor), survivor.id, ", ".join(kept) or "nothing")


def _lock_merge(merge_id: int) -> Merge:
    query = (select(Merge).where(Merge.id == merge_id).with_for_update(of=Merge)
             .execution_options(populate_existing=True))
    return db.session.scalar(query)


def _check_undoable(merge: Merge, survivor: Person, absorbed: list[Person]) -> None:
    if merge.is_undone:
        raise BadInput(_("This merge has already been undone."))
    if survivor.status == MERGED:
        raise BadInput(_("The record kept has since been merged into record %(id)s: "
                         "undo that merge first.", id=survivor.merged_into_id))
    for person in absorbed:
        if person.status != MERGED or person.merged_into_id != survivor.id:
            raise BadInput(_("Record %(id)s was changed after the merge and cannot be "
                             "restored automatically.", id=person.id))


def _restore_survivor(survivor: Person, merge: Merge) -> list[str]:
    """Give survivor back its own values, except those changed after the merge."""
    own = merge.before["records"][str(survivor.id)]["person"]
    kept = []
    for column, merged_value in merge.before["merged_values"].items():
        current = getattr(survivor, column)
        if _dump(current) != merged_value:
            kept.append(column)  # edited after the merge: the later value stays
            continue
        setattr(survivor, column, _load(Person, column, own[column]))
    return kept


def _restore_record(person: Person, copy: dict) -> None:
    with db.session.no_autoflush:
        for column, value in copy["person"].items():
            if column not in NOT_RESTORED:
                setattr(person, column, _load(Person, column, value))


def _move_back(merge: Merge, survivor: Person, absorbed: list[Person]) -> None:
    moved = merge.moved
    for person in absorbed:
        key, copy = str(person.id), merge.before["records"][str(person.id)]
        _return_rows(Phone, person.phones, moved["person_phone"].get(key, []),
                     copy["phones"])
        _return_rows(Email, person.emails, moved["person_email"].get(key, []),
                     copy["emails"])
        _return_memberships(person, survivor, moved["membership"].get(key, []),
                            copy["memberships"])
        _return_rows(Consent, person.consents, moved["consent"].get(key, []),
                     copy["consents"])
        for model in (PoliceNote, Submission, SubjectRequest):
            for row_id in moved[model.__tablename__].get(key, []):
                row = db.session.get(model, row_id)
                if row is not None:
                    row.person_id = person.id


def _return_rows(model, collection: list, moved_ids: list[int], copies: list[dict]) -> None:
    # A row deleted by a later edit of the survivor is made again from the copy.
    by_id = {copy["id"]: copy for copy in copies}
    for row_id in moved_ids:
        row = db.session.get(model, row_id)
        if row is None:
            row = model(**{name: _load(model, name, value)
                           for name, value in by_id[row_id].items() if name != "person_id"})
        collection.append(row)


def _return_memberships(person: Person, survivor: Person, association_ids: list[int],
                        copies: list[dict]) -> None:
    roles = {copy["association_id"]: copy["role"] for copy in copies}
    held = {m.association_id: m for m in survivor.memberships}
    for association_id in association_ids:
        membership = held.get(association_id)
        if membership is None:
            membership = Membership(association_id=association_id,
                                    role=roles.get(association_id))
        person.memberships.append(membership)


def _restore_submissions(copies: list[dict]) -> None:
    for copy in copies:
        submission = db.session.get(Submission, copy["id"])
        if submission is None:
            continue
        for column in ("person_id", "state", "reason", "reviewed_at", "reviewed_by_id"):
            setattr(submission, column, _load(Submission, column, copy[column]))


def _reopen_pairs(merge: Merge) -> None:
    for pair in db.session.scalars(select(MatchPair).where(MatchPair.merge_id == merge.id)):
        pair.state, pair.merge_id = OPEN, None
        pair.decided_at = pair.decided_by_id = None


# Deciding a pair without merging --------------------------------------------------

def mark_not_same(pair: MatchPair, actor) -> None:
    """Remember that the two records of pair are different people."""
    if pair.state not in UNDECIDED:
        raise BadInput(_("This pair has already been decided."))
    pair.state = NOT_SAME
    pair.decided_at, pair.decided_by_id = utcnow(), _id(actor)
    db.session.flush()
    audit.record("match.not_same", pair, actor=actor, details={
        "people": [pair.person_a_id, pair.person_b_id], "score": pair.score})
    log.info("Pair %s (%s, %s) marked not the same person by user %s", pair.id,
             pair.person_a_id, pair.person_b_id, _id(actor))


def put_off(pair: MatchPair, actor) -> None:
    """Mark pair as skipped for now: it stays in the queue, after the open ones."""
    if pair.state not in UNDECIDED:
        return
    pair.state = SKIPPED
    db.session.flush()
    log.info("Pair %s put off by user %s", pair.id, _id(actor))


# Reading for the review pages ------------------------------------------------------

def records_to_merge(ids: list[int]) -> list[Person]:
    """Return the records of ids in id order, if they can be merged together."""
    ids = sorted(set(ids))
    if not 2 <= len(ids) <= MAX_GROUP:
        raise BadInput(_("Choose between two and %(count)d records to merge.",
                         count=MAX_GROUP))
    found = db.session.scalars(select(Person).where(Person.id.in_(ids))
                               .order_by(Person.id)).all()
    if len(found) != len(ids):
        raise BadInput(_("One of these records no longer exists."))
    _check_mergeable({p.id: p for p in found}, None)
    return list(found)


def group_of(pair: MatchPair) -> list[int]:
    """Return the ids of the group of very likely duplicates pair belongs to.

    The group is formed by the engine's clustering (size cap, split on conflicting
    identity documents, genders or birth dates) over the open "very likely" pairs
    within two steps of this one; on its own a pair is a group of two.
    """
    ids, edges = {pair.person_a_id, pair.person_b_id}, {}
    for _step in range(2):
        query = (select(MatchPair).where(
            MatchPair.state.in_(UNDECIDED), MatchPair.band == LIKELY,
            or_(MatchPair.person_a_id.in_(sorted(ids)), MatchPair.person_b_id.in_(sorted(ids))))
            .limit(GROUP_EDGES))
        for edge in db.session.scalars(query):
            edges[edge.id] = (edge.person_a_id, edge.person_b_id, edge.score)
            ids |= {edge.person_a_id, edge.person_b_id}
    found = db.session.scalars(select(Person).where(Person.id.in_(sorted(ids)))).all()
    records = {p.id: matching.record_of(p) for p in found if matching.is_candidate(p)}
    usable = [edge for edge in edges.values() if edge[0] in records and edge[1] in records]
    for cluster in engine.form_clusters(usable, records, max_size=MAX_GROUP):
        if pair.person_a_id in cluster and pair.person_b_id in cluster:
            return sorted(cluster)
    return [pair.person_a_id, pair.person_b_id]


# Shared steps ------------------------------------------------------------------

class _all_or_nothing:
    """A savepoint: on any error everything done inside is rolled back."""

    def __enter__(self):
        self.savepoint = db.session.begin_nested()
        return self

    def __exit__(self, kind, error, trace):
        if kind is None:
            self.savepoint.commit()
            return False
        self.savepoint.rollback()
        if isinstance(error, StaleDataError):
            log.warning("Merge refused: a record was changed meanwhile (%s)", error)
            raise BadInput(_("Someone else changed these records at the same moment. "
                             "Open them again and check before merging.")) from error
        return False


def _lock(ids: list[int]) -> dict[int, Person]:
    # In id order, so that two merges of overlapping groups cannot deadlock.
    query = (select(Person).where(Person.id.in_(ids)).order_by(Person.id)
             .with_for_update(of=Person).execution_options(populate_existing=True))
    found = {p.id: p for p in db.session.scalars(query)}
    if len(found) != len(ids):
        raise BadInput(_("One of these records no longer exists."))
    return found


def _touch(records: list[Person], actor) -> None:
    now = utcnow()
    for person in records:
        person.updated_at, person.updated_by_id = now, _id(actor)


def _flush() -> None:
    db.session.flush()  # StaleDataError here means another writer won the race


def _save_versions(records: list[Person], snapshots: dict, action: str, actor) -> None:
    for person in records:
        after = people.snapshot(person)
        db.session.add(PersonVersion(
            person_id=person.id, version=person.version, action=action,
            changed_by_id=_id(actor), snapshot=after,
            changes=audit.diff(snapshots[person.id], after)))


def _refresh_keys(records: list[Person]) -> None:
    # The flush listener rewrites keys already; this makes sure after the savepoint.
    for person in records:
        matching.refresh_key(person)


def _copy(person: Person) -> dict:
    """Return everything about person that undo may need to put back."""
    return {
        "person": _row(person),
        "phones": [_row(phone) for phone in person.phones],
        "emails": [_row(email) for email in person.emails],
        "memberships": [_row(m) for m in person.memberships],
        "consents": [_row(consent) for consent in person.consents],
    }


def _columns() -> list[str]:
    return [c.key for c in Person.__table__.columns if c.key not in NOT_RESTORED]


def _row(obj) -> dict:
    return {column.key: _dump(getattr(obj, column.key)) for column in obj.__table__.columns}


def _dump(value):
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _load(model, column: str, value):
    if value is None:
        return None
    kind = model.__table__.columns[column].type
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    return value


def _id(actor) -> int | None:
    return actor.id if actor is not None else None
