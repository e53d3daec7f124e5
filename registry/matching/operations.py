"""Duplicate detection against the database: match keys, the trained model,
entry-time checks, batch scans and the queue of candidate pairs.

Only active and submitted people are candidates. Their match key is written
beside the record in the same transaction (see `keep_keys_fresh`); a record
that is archived, merged, rejected, deceased, returned or erased loses its key,
so it is never proposed and its normalised name no longer sits in match_key.
A merge undone or a rejection sent back to review writes the key again.
"""
import dataclasses
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, event, func, insert, inspect, or_, select, update
from sqlalchemy.orm import aliased

from registry.audit import operations as audit
from registry.core import jobs
from registry.core.errors import BadInput
from registry.core.time import utcnow
from registry.extensions import db
from registry.matching import keys
from registry.matching.models import (BANDS, LIKELY, MERGED, NOT_SAME, OPEN, RUN_DONE,
                                      RUN_FAILED, RUN_QUEUED, RUN_RUNNING, SKIPPED, DedupeRun,
                                      MatchKey, MatchModel, MatchPair)
from registry.people.models import ACTIVE, SUBMITTED, Email, Person, Phone

log = logging.getLogger(__name__)

CANDIDATE_STATUSES = (ACTIVE, SUBMITTED)
#: undecided pairs: open ones, and skipped ones an officer put off
UNDECIDED = (OPEN, SKIPPED)
PROBE_CAP = 200  # candidates read per blocking rule at entry time
CHUNK = 5000  # rows per executemany and per IN list
#: below this, a scan scores with the model in force: EM needs many pairs to learn from
MIN_TRAINING_RECORDS = 1000
ABANDONED_AFTER = timedelta(hours=6)  # a scan of a million people takes minutes
KEY_TABLE = MatchKey.__table__
PAIR_TABLE = MatchPair.__table__
# Person attributes the match key is computed from (phones and e-mails are read
# from person_phone and person_email, never copied).
KEYED_ATTRIBUTES = ("full_name", "gender", "birth_year", "birth_month", "birth_day",
                    "hometown_code", "country_code", "passport_number", "national_id",
                    "status")


# Match keys ------------------------------------------------------------------

def is_candidate(person) -> bool:
    """Tell whether person may be proposed as a duplicate (active or submitted)."""
    return person.status in CANDIDATE_STATUSES and not person.is_personal_data_erased


def record_of(person) -> keys.MatchRecord:
    """Return the match record of a Person as it stands in memory."""
    return keys.make_record(
        person.id, full_name=person.full_name, gender=person.gender,
        birth_year=person.birth_year, birth_month=person.birth_month,
        birth_day=person.birth_day, hometown_code=person.hometown_code,
        country_code=person.country_code,
        phones=tuple(phone.number for phone in person.phones or ()),
        emails=tuple(email.address for email in person.emails or ()),
        passport=person.passport_number, national_id=person.national_id)


def record_from_data(data: dict, person_id: int = 0) -> keys.MatchRecord:
    """Return the match record of cleaned person data (a form's, an import row's).

    Accepts both shapes in use: birth as a BirthDate, a (year, month, day) tuple
    or None, or birth_year/month/day; hometown as a (code, former, given) tuple
    or hometown_code; phones as E.164 strings or tuples holding one.
    """
    year, month, day = _birth_of(data)
    return keys.make_record(
        person_id, full_name=data.get("full_name") or "", gender=data.get("gender"),
        birth_year=year, birth_month=month, birth_day=day,
        hometown_code=_hometown_of(data), country_code=data.get("country_code"),
        phones=[_e164(item) for item in data.get("phones") or ()],
        emails=list(data.get("emails") or ()), passport=data.get("passport_number"),
        national_id=data.get("national_id"))


def refresh_key(person) -> None:
    """Write, or drop, the match key of person (flushed) in the current transaction."""
    _write_keys(db.session.connection(), [person])


def insert_keys(connection, people: list[tuple[int, dict]]) -> int:
    """Write the keys of people just inserted in bulk, as (person id, data); return how many.

    data has the shape of create_person's; rows whose status is given and is
    not a candidate's get no key. One executemany per chunk.
    """
    values = [keys.key_values(record_from_data(data, person_id))
              for person_id, data in people
              if data.get("status", SUBMITTED) in CANDIDATE_STATUSES]
    for start in range(0, len(values), CHUNK):
        connection.execute(insert(KEY_TABLE), values[start:start + CHUNK])
    log.info("Match keys written for %d people", len(values))
    return len(values)


def rebuild_keys(after_chunk: Callable[[int], None] | None = None) -> int:
    """Compute the match key of every candidate again; return how many were written."""
    connection = db.session.connection()
    connection.execute(delete(KEY_TABLE))
    # Phones and e-mails are no part of the key: person_phone and person_email hold them.
    columns = (Person.id, Person.full_name, Person.gender, Person.birth_year,
               Person.birth_month, Person.birth_day, Person.hometown_code,
               Person.country_code, Person.passport_number, Person.national_id)
    query = select(*columns).where(*_candidate_filter()).order_by(Person.id)
    rows = db.session.execute(query).all()

    written = 0
    for start in range(0, len(rows), CHUNK):
        chunk = [_key_of_row(row) for row in rows[start:start + CHUNK]]
        connection.execute(insert(KEY_TABLE), chunk)
        written += len(chunk)
        if after_chunk:
            after_chunk(written)
    log.info("Match keys rebuilt for %d people", written)
    return written


def _key_of_row(row) -> dict:
    record = keys.make_record(
        row.id, full_name=row.full_name, gender=row.gender, birth_year=row.birth_year,
        birth_month=row.birth_month, birth_day=row.birth_day,
        hometown_code=row.hometown_code, country_code=row.country_code,
        passport=row.passport_number, national_id=row.national_id)
    return keys.key_values(record)


def _write_keys(connection, people: list, dropped_ids: Iterable[int] = ()) -> None:
    records = [record_of(person) for person in people if is_candidate(person)]
    ids = sorted({person.id for person in people} | set(dropped_ids))
    for start in range(0, len(ids), CHUNK):
        connection.execute(delete(KEY_TABLE).where(
            KEY_TABLE.c.person_id.in_(ids[start:start + CHUNK])))
    if records:
        connection.execute(insert(KEY_TABLE), [keys.key_values(r) for r in records])


def keep_keys_fresh(session, _flush_context) -> None:
    """After each flush, rewrite the keys of the people whose keyed values changed.

    A session event rather than a call in each operation, so that every path
    that writes a Person through the ORM (people, intake, rights erasure,
    merge and undo) keeps its key in step, in the same transaction.
    """
    changed, dropped = _people_to_rekey(session)
    if changed or dropped:
        _write_keys(session.connection(), changed, dropped)


def _people_to_rekey(session) -> tuple[list, set[int]]:
    changed: dict[int, Person] = {}
    for obj in session.new:
        if isinstance(obj, Person):
            changed[obj.id] = obj
    for obj in session.dirty:
        if isinstance(obj, Person) and _keyed_values_changed(obj):
            changed[obj.id] = obj
    dropped = {obj.id for obj in session.deleted if isinstance(obj, Person)}
    for person_id in dropped:
        changed.pop(person_id, None)
    return [person for person in changed.values() if person.id is not None], dropped


def _keyed_values_changed(person: Person) -> bool:
    state = inspect(person)
    return any(state.attrs[name].history.has_changes() for name in KEYED_ATTRIBUTES)


def on_people_inserted(connection, people: list[tuple[int, dict]]) -> None:
    """Write the keys of people inserted in bulk (demo data, benchmarks)."""
    insert_keys(connection, people)


# The model -------------------------------------------------------------------

_cached: dict = {"id": None, "model": None}


def current_model():
    """Return the scoring model in force: the last one trained, or the defaults.

    Kept per process; one indexed look-up of the current id tells when another
    process saved a newer one.
    """
    from registry.matching import scoring

    query = (select(MatchModel.id).where(MatchModel.is_current.is_(True))
             .order_by(MatchModel.id.desc()).limit(1))
    current_id = db.session.scalar(query)
    if current_id is None:
        return scoring.default_model()
    if _cached["id"] != current_id:
        parameters = db.session.scalar(select(MatchModel.parameters)
                                       .where(MatchModel.id == current_id))
        _cached.update(id=current_id, model=scoring.Model.from_dict(parameters))
    return _cached["model"]


def save_model(model, record_count: int) -> MatchModel:
    """Store model as the one in force, trained on record_count people; return its row."""
    db.session.execute(update(MatchModel).where(MatchModel.is_current.is_(True))
                       .values(is_current=False))
    row = MatchModel(parameters=model.to_dict(), record_count=record_count, is_current=True)
    db.session.add(row)
    db.session.flush()
    _cached.update(id=row.id, model=model)
    log.info("Match model %s saved, trained on %d people", row.id, record_count)
    return row


# Entry-time checks -------------------------------------------------------------

@dataclass
class Match:
    """An existing record that a new or changed one may duplicate.

    person is None when the record lies outside the user's areas: the user is
    then told only that a possible record exists elsewhere.
    """

    person: Person | None
    probability: float
    band: str
    explanation: list = field(default_factory=list)
    is_elsewhere: bool = False

    @property
    def is_likely(self) -> bool:
        return self.band == LIKELY


def likely_matches(data_or_person, user, exclude_id: int | None = None,
                   limit: int = 10) -> list[Match]:
    """Return the candidates that data_or_person may duplicate, best first.

    user is None for the system (imports, the review queue's officers): no
    masking. exclude_id is the record being edited; the people it was already
    decided about (merged, not the same) are left out too.
    """
    probe = _probe_record(data_or_person)
    exclude_id = exclude_id if exclude_id is not None else (probe.person_id or None)
    scored = score_candidates(probe, exclude_id)[:limit]
    if not scored:
        return []
    return _masked(scored, user)


def probable_matches(data: dict, limit: int = 5) -> list[Match]:
    """Return the records that an import row's data probably duplicates."""
    return likely_matches(data, None, limit=limit)


def score_candidates(probe: keys.MatchRecord, exclude_id: int | None = None) -> list:
    """Return (MatchRecord, PairScore) of the candidates in a band, best first."""
    from registry.matching import scoring

    ids = _candidate_ids(probe) - _decided_partners(exclude_id) - {exclude_id}
    if not ids:
        return []
    records = _records_of(sorted(ids))
    model = current_model()
    context = scoring.Context(household_phones=_household_phones(probe, exclude_id))
    scores = scoring.score_candidates(probe, records, model, context)
    scored = [(record, score) for record, score in zip(records, scores)
              if score.band in BANDS]
    return sorted(scored, key=lambda item: (-item[1].probability, item[0].person_id))


def entry_check(data: dict, user=None, person=None) -> list[Match]:
    """Answer the people form's check before saving: the matches to warn about.

    For an edit, nothing is checked unless a value the keys come from changed.
    """
    probe = record_from_data(data, person.id if person is not None else 0)
    if person is not None and _same_keys(probe, record_of(person)):
        return []
    return likely_matches(probe, user, exclude_id=person.id if person else None)


def propose_confirmed(person, user=None) -> int:
    """Put the matches of a record saved despite the warning in the duplicate queue.

    The officer's or district official's word that they checked is kept as an
    open pair: an officer decides, with both records in front of them.
    """
    if person.id is None or not is_candidate(person):
        return 0
    scored = score_candidates(record_of(person), person.id)
    pairs = {tuple(sorted((person.id, record.person_id))): score for record, score in scored}
    query = select(MatchPair.person_a_id, MatchPair.person_b_id).where(
        or_(MatchPair.person_a_id == person.id, MatchPair.person_b_id == person.id))
    existing = {(a, b) for a, b in db.session.execute(query)}
    new = [_pair_values((a, b), score, None) for (a, b), score in pairs.items()
           if (a, b) not in existing]
    if new:
        db.session.execute(insert(PAIR_TABLE), new)
    log.info("Person %s saved despite %d matches; %d pairs queued", person.id, len(pairs),
             len(new))
    return len(new)


def _probe_record(data_or_person) -> keys.MatchRecord:
    if isinstance(data_or_person, keys.MatchRecord):
        return data_or_person
    if isinstance(data_or_person, Person):
        return record_of(data_or_person)
    return record_from_data(data_or_person)


def _candidate_ids(probe: keys.MatchRecord) -> set[int]:
    from registry.matching import blocking

    found: set[int] = set()
    for _rule, filters in blocking.probe_filters(probe):
        found.update(db.session.scalars(_rule_query(filters).limit(PROBE_CAP)))
    return found


def _rule_query(filters: dict):
    if "phone" in filters:
        return (select(Phone.person_id).join(KEY_TABLE, KEY_TABLE.c.person_id ==
                                             Phone.person_id)
                .where(Phone.number == filters["phone"]))
    if "email" in filters:
        return (select(Email.person_id).join(KEY_TABLE, KEY_TABLE.c.person_id ==
                                             Email.person_id)
                .where(Email.address == filters["email"]))
    return select(KEY_TABLE.c.person_id).where(
        *[KEY_TABLE.c[column] == value for column, value in filters.items()])


def _decided_partners(person_id: int | None) -> set[int]:
    if not person_id:
        return set()
    query = select(MatchPair.person_a_id, MatchPair.person_b_id).where(
        MatchPair.state.in_((MERGED, NOT_SAME)),
        or_(MatchPair.person_a_id == person_id, MatchPair.person_b_id == person_id))
    return {b if a == person_id else a for a, b in db.session.execute(query)}


def _records_of(ids: list[int]) -> list[keys.MatchRecord]:
    phones = _contacts_of(Phone.person_id, Phone.number, ids)
    emails = _contacts_of(Email.person_id, Email.address, ids)
    rows = db.session.execute(select(KEY_TABLE).where(KEY_TABLE.c.person_id.in_(ids)))
    return [keys.from_key_row(row._mapping, phones.get(row.person_id, ()),
                              emails.get(row.person_id, ())) for row in rows]


def _contacts_of(person_column, value_column, ids: list[int]) -> dict[int, list[str]]:
    found = defaultdict(list)
    query = select(person_column, value_column).where(person_column.in_(ids))
    for person_id, value in db.session.execute(query):
        found[person_id].append(value)
    return found


def _household_phones(probe: keys.MatchRecord, exclude_id: int | None) -> set[str]:
    """Return the probe's phones seen with more than one given name (a family's)."""
    if not probe.phones:
        return set()
    query = (select(Phone.number, KEY_TABLE.c.given).distinct()
             .join(KEY_TABLE, KEY_TABLE.c.person_id == Phone.person_id)
             .where(Phone.number.in_(probe.phones)))
    if exclude_id:
        query = query.where(Phone.person_id != exclude_id)
    names = defaultdict(lambda: {probe.given} if probe.given else set())
    for number, given in db.session.execute(query):
        names[number].add(given)
    return {number for number, given in names.items() if len(given) > 1}


def _masked(scored: list, user) -> list[Match]:
    # Out of scope, only the score is kept: no name, no id, nothing to link to.
    scope = _scope(user)
    shown = [record.person_id for record, _score in scored
             if scope is None or record.hometown_code in scope]
    people = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(shown)))}
    matches = []
    for record, score in scored:
        if record.person_id in people:
            matches.append(Match(people[record.person_id], score.probability, score.band,
                                 list(score.explanation or ())))
        else:
            matches.append(Match(None, score.probability, score.band, [], is_elsewhere=True))
    return matches


def _scope(user) -> set[str] | None:
    if user is None:
        return None
    from registry.people.operations import scope_of

    return scope_of(user)


def _same_keys(a: keys.MatchRecord, b: keys.MatchRecord) -> bool:
    ignore = {"person_id"}
    same = all(value == keys.key_values(b)[column]
               for column, value in keys.key_values(a).items() if column not in ignore)
    return same and set(a.phones) == set(b.phones) and set(a.emails) == set(b.emails)


# Batch scans -------------------------------------------------------------------

def start_run(actor) -> DedupeRun:
    """Record a new batch scan, queued; return it."""
    run = DedupeRun(state=RUN_QUEUED, started_by_id=actor.id if actor else None)
    db.session.add(run)
    db.session.flush()
    audit.record("dedupe.start", run, actor=actor)
    log.info("Duplicate scan %s queued by user %s", run.id, actor.id if actor else None)
    return run


def queue_run(actor) -> DedupeRun:
    """Start a batch scan in the background, unless one is waiting or running."""
    _give_up_abandoned_runs()
    busy = db.session.scalar(select(DedupeRun).where(
        DedupeRun.state.in_((RUN_QUEUED, RUN_RUNNING))).order_by(DedupeRun.id.desc()).limit(1))
    if busy is not None:
        return busy
    run = start_run(actor)
    task = dedupe_job.s(run.id)
    if jobs.huey.immediate:
        jobs.huey.enqueue(task)
        return run
    # The worker must find the run row: hand the job over after the commit.
    event.listen(db.session(), "after_commit", lambda _session: jobs.huey.enqueue(task),
                 once=True)
    return run


def _give_up_abandoned_runs() -> None:
    # A worker stopped mid-scan leaves its run "running"; it must not block the next.
    cutoff = utcnow() - ABANDONED_AFTER
    db.session.execute(update(DedupeRun).where(
        DedupeRun.state.in_((RUN_QUEUED, RUN_RUNNING)), DedupeRun.created_at < cutoff)
        .values(state=RUN_FAILED, error="abandoned", finished_at=utcnow()))


def latest_run() -> DedupeRun | None:
    """Return the most recent batch scan, if any."""
    return db.session.scalar(select(DedupeRun).order_by(DedupeRun.id.desc()).limit(1))


def run_dedupe(run_id: int, echo: Callable[[str, int], None] | None = None) -> DedupeRun:
    """Scan every candidate for duplicates and fill the queue; return the run.

    Commits as it goes: the run's progress in short transactions the progress
    bar can see, then the pairs. A failure marks the run failed, and re-raises.
    """
    from registry.matching import engine

    if not _claim(run_id):
        return db.session.get(DedupeRun, run_id)
    progress = _Progress(run_id, echo)
    progress("loading", 0)
    try:
        records = load_records()
        progress("loading", 100, people_scanned=len(records))
        train = len(records) >= MIN_TRAINING_RECORDS
        result = engine.find_duplicates(records, model=_trained_model_or_none(), train=train,
                                        progress=progress.engine)
        if train and not result.rejected:  # a degenerate model keeps the saved one
            save_model(result.model, len(records))
        counts = store_pairs(result.pairs, run_id, {r.person_id for r in records})
        progress("storing", 100)
        merged = auto_merge(records) if current_app.config.get("MATCH_AUTO_MERGE") else 0
    except Exception as error:
        db.session.rollback()
        progress("failed", 0, state=RUN_FAILED, error=str(error)[:255],
                 finished_at=utcnow())
        log.exception("Duplicate scan %s failed", run_id)
        raise
    return _finish(run_id, counts, merged, result.timings)


def _claim(run_id: int) -> bool:
    """Mark a queued run running; tell whether this process got it (one worker does)."""
    claimed = db.session.execute(
        update(DedupeRun).where(DedupeRun.id == run_id, DedupeRun.state == RUN_QUEUED)
        .values(state=RUN_RUNNING, started_at=utcnow(), stage="loading", progress=0))
    db.session.commit()
    return claimed.rowcount == 1


def load_records() -> list[keys.MatchRecord]:
    """Return the match records of every candidate, read in bulk with Core selects.

    The key columns are selected in the order of MatchRecord's fields, so each
    record is built from its row directly: at a million people, going through
    a mapping per row costs more than the reading.
    """
    phones = _contacts_of_candidates(Phone.person_id, Phone.number)
    emails = _contacts_of_candidates(Email.person_id, Email.address)
    fields = [f.name for f in dataclasses.fields(keys.MatchRecord)]
    split = fields.index("phones")  # phones then emails, between key columns
    if fields[split + 1] != "emails":
        raise RuntimeError("MatchRecord must list emails right after phones")
    columns = [KEY_TABLE.c[name] for name in fields if name not in ("phones", "emails")]
    query = select(*columns).order_by(KEY_TABLE.c.person_id)
    records, empty = [], ()
    for row in db.session.execute(query.execution_options(yield_per=20_000)):
        person_id = row[0]
        records.append(keys.MatchRecord(*row[:split], phones.get(person_id, empty),
                                        emails.get(person_id, empty), *row[split:]))
    log.info("Loaded the match records of %d people", len(records))
    return records


def store_pairs(pairs: list, run_id: int | None, candidates: set[int]) -> dict:
    """Save a scan's pairs: new ones inserted, undecided ones rescored, decided left.

    Skipped pairs come back open; pairs marked not the same or merged are never
    proposed again. Open pairs the scan no longer finds are dropped: the data
    changed and they no longer look alike. Written a chunk at a time, so that a
    million pairs never sit in memory twice. Returns the counts.
    """
    existing = {(a, b): (pair_id, state) for pair_id, a, b, state in db.session.execute(
        select(MatchPair.id, MatchPair.person_a_id, MatchPair.person_b_id, MatchPair.state))}
    now, found, fragments = utcnow(), set(), {}
    new = _ChunkWriter(_insert_pairs_statement(), raw=True)
    # The driver gets the time as SQLAlchemy would have written it for this database.
    to_driver = PAIR_TABLE.c.found_at.type.bind_processor(db.engine.dialect)
    found_at = to_driver(now) if to_driver else now
    rescored = _ChunkWriter(_rescore_statement())
    for pair in pairs:
        ends = (pair.person_a_id, pair.person_b_id)
        if ends[0] > ends[1]:
            ends = (ends[1], ends[0])
        if ends[0] == ends[1] or ends[0] not in candidates or ends[1] not in candidates:
            continue
        found.add(ends)
        if ends not in existing:
            new.add(_new_pair_row(ends, pair, run_id, found_at, fragments))
        elif existing[ends][1] in UNDECIDED:
            rescored.add(_rescore_values(existing[ends][0], pair, run_id))
    new.flush()
    rescored.flush()

    stale = [pair_id for ends, (pair_id, state) in existing.items()
             if state == OPEN and ends not in found]
    for start in range(0, len(stale), CHUNK):
        db.session.execute(delete(PAIR_TABLE).where(
            PAIR_TABLE.c.id.in_(stale[start:start + CHUNK])))
    db.session.commit()
    log.info("Scan %s: %d pairs, %d new, %d rescored, %d dropped", run_id, len(found),
             new.count, rescored.count, len(stale))
    return {"found": len(found), "new": new.count, "rescored": rescored.count,
            "dropped": len(stale)}


class _ChunkWriter:
    """Collects rows for one statement and runs it a chunk at a time.

    raw: the statement is the driver's own SQL and the rows are tuples, for the
    million inserts of a first scan, where SQLAlchemy's handling of each
    parameter costs more than the database's work.
    """

    def __init__(self, statement, raw: bool = False):
        self.statement, self.raw, self.rows, self.count = statement, raw, [], 0

    def add(self, row) -> None:
        self.rows.append(row)
        if len(self.rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.raw:
            db.session.connection().exec_driver_sql(self.statement, self.rows)
        else:
            db.session.execute(self.statement, self.rows)
        self.count += len(self.rows)
        self.rows = []


NEW_PAIR_COLUMNS = ("person_a_id", "person_b_id", "score", "weight", "band", "explanation",
                    "state", "found_at", "found_by_run_id")


def _insert_pairs_statement() -> str:
    """Return the driver's INSERT of one pair, its explanation given as JSON text."""
    postgres = db.engine.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    values = [f"CAST({mark} AS JSON)" if postgres and name == "explanation" else mark
              for name in NEW_PAIR_COLUMNS]
    return (f"INSERT INTO {PAIR_TABLE.name} ({', '.join(NEW_PAIR_COLUMNS)}) "
            f"VALUES ({', '.join(values)})")


def _new_pair_row(ends: tuple[int, int], score, run_id: int | None, now,
                  fragments: dict) -> tuple:
    return (ends[0], ends[1], float(score.probability), float(score.weight), score.band,
            explanation_json(score.explanation, fragments), OPEN, now, run_id)


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ITEM_KEYS = ("field", "level", "weight")


def explanation_json(explanation, fragments: dict) -> str:
    """Return an explanation as JSON text, each distinct item encoded once.

    fragments is the cache, one per scan: a million pairs share a few hundred
    (field, level, weight) items, and encoding each pair whole took 15 µs a pair,
    five times as long.
    """
    parts = []
    for item in _plain(explanation):
        key = tuple(item.get(name) for name in _ITEM_KEYS) if len(item) == 3 else None
        text = fragments.get(key) if key is not None else None
        if text is None:
            text = _ENCODE(item)
            if key is not None and None not in key:
                fragments[key] = text
        parts.append(text)
    return "[" + ",".join(parts) + "]"


def auto_merge(records: list[keys.MatchRecord]) -> int:
    """Merge the open pairs above the automatic threshold that share a hard identifier.

    Off unless MATCH_AUTO_MERGE is set. Returns how many pairs were merged.
    """
    from registry.matching.merging import default_survivor, merge_people

    threshold = current_app.config.get("MATCH_AUTO_MERGE_THRESHOLD", 0.999)
    by_id = {record.person_id: record for record in records}
    query = (select(MatchPair).where(MatchPair.state == OPEN, MatchPair.score >= threshold)
             .order_by(MatchPair.score.desc(), MatchPair.id))
    merged = 0
    for pair in db.session.scalars(query).all():
        a, b = pair.person_a, pair.person_b
        if not (is_candidate(a) and is_candidate(b)) or \
                not shares_hard_identifier(by_id.get(a.id), by_id.get(b.id)):
            continue
        try:
            merge_people([a, b], default_survivor([a, b]), choices=None, actor=None)
        except BadInput as error:  # changed meanwhile, say: an officer will decide
            db.session.rollback()
            log.warning("Pair %s not merged automatically: %s", pair.id, error.message)
            continue
        db.session.commit()
        merged += 1
    log.info("Automatic merge: %d pairs merged", merged)
    return merged


def shares_hard_identifier(a: keys.MatchRecord | None, b: keys.MatchRecord | None) -> bool:
    """Tell whether two records share a national id, a passport or an e-mail."""
    if a is None or b is None:
        return False
    return bool((a.national_id and a.national_id == b.national_id)
                or (a.passport and a.passport == b.passport)
                or set(a.emails) & set(b.emails))


@dataclass
class _Progress:
    """Writes a run's progress in its own short transaction, at most twice a second."""

    run_id: int
    echo: Callable[[str, int], None] | None = None
    shown: tuple = (None, -1)
    written_at: float = 0.0
    # The engine's share of the progress bar: loading before it, storing after.
    span: tuple = (5, 95)

    def __call__(self, stage: str, percent: int, **values) -> None:
        if (stage, percent) == self.shown and not values:
            return
        self.shown = (stage, percent)
        if self.echo:
            self.echo(stage, percent)
        now = time.monotonic()
        if values or percent in (0, 100) or now - self.written_at > 0.5:
            overall = self._overall(stage, percent)
            db.session.execute(update(DedupeRun).where(DedupeRun.id == self.run_id)
                               .values(stage=stage[:40], progress=overall, **values))
            db.session.commit()
            self.written_at = now

    def engine(self, stage: str, percent: float) -> None:
        self(stage, int(percent))

    def _overall(self, stage: str, percent: int) -> int:
        low, high = self.span
        if stage == "loading":
            return low * percent // 100
        if stage == "storing":
            return high + (100 - high) * percent // 100
        if stage == "failed":
            return 0
        return low + (high - low) * percent // 100


def _finish(run_id: int, counts: dict, merged: int, timings) -> DedupeRun:
    run = db.session.get(DedupeRun, run_id)
    run.state, run.progress, run.stage, run.finished_at = RUN_DONE, 100, "done", utcnow()
    run.pairs_found, run.pairs_new = counts["found"], counts["new"]
    details = {**counts, "people": run.people_scanned, "merged": merged,
               "timings": _plain_timings(timings)}
    audit.record("dedupe.run", run, details=details, actor=_user(run.started_by_id))
    db.session.commit()
    log.info("Duplicate scan %s done: %d people, %d pairs, %d new", run_id,
             run.people_scanned, run.pairs_found, run.pairs_new)
    return run


def _trained_model_or_none():
    exists = db.session.scalar(select(MatchModel.id).where(MatchModel.is_current.is_(True))
                               .limit(1))
    return current_model() if exists else None


def _contacts_of_candidates(person_column, value_column) -> dict[int, tuple[str, ...]]:
    """Return {person id: values} of everyone, in one streamed select.

    No join with match_key: the few people without a key cost less than a
    look-up per row; load_records reads only the keyed people's.
    """
    query = select(person_column, value_column)
    found: dict[int, tuple[str, ...]] = {}
    for person_id, value in db.session.execute(query.execution_options(yield_per=50_000)):
        seen = found.get(person_id)
        found[person_id] = (value,) if seen is None else (*seen, value)
    return found


def _candidate_filter() -> tuple:
    return Person.status.in_(CANDIDATE_STATUSES), Person.full_name != ""


def _pair_values(ends: tuple[int, int], score, run_id: int | None, now=None) -> dict:
    return {"person_a_id": ends[0], "person_b_id": ends[1],
            "score": float(score.probability), "weight": float(score.weight),
            "band": score.band, "explanation": _plain(score.explanation), "state": OPEN,
            "found_at": now or utcnow(), "found_by_run_id": run_id}


def _rescore_values(pair_id: int, score, run_id: int | None) -> dict:
    return {"pair_id": pair_id, "new_score": float(score.probability),
            "new_weight": float(score.weight), "new_band": score.band,
            "new_explanation": _plain(score.explanation), "new_run": run_id}


def _rescore_statement():
    return (update(PAIR_TABLE).where(PAIR_TABLE.c.id == bindparam("pair_id"))
            .values(score=bindparam("new_score"), weight=bindparam("new_weight"),
                    band=bindparam("new_band"), explanation=bindparam("new_explanation"),
                    found_by_run_id=bindparam("new_run"), state=OPEN))


def _plain(explanation) -> list:
    """Return an explanation as JSON-ready dicts, whatever the engine gave."""
    if isinstance(explanation, list) and (not explanation or type(explanation[0]) is dict):
        return explanation  # the engine's own: plain already, and not copied
    plain = []
    for item in explanation or ():
        entry = dict(item) if isinstance(item, dict) else dict(vars(item))
        plain.append({key: float(value) if isinstance(value, float) else value
                      for key, value in entry.items()})
    return plain


def _plain_timings(timings) -> dict:
    if not timings:
        return {}
    items = timings.items() if isinstance(timings, dict) else vars(timings).items()
    return {key: round(float(value), 3) for key, value in items
            if isinstance(value, int | float)}


def _user(user_id: int | None):
    if user_id is None:
        return None
    from registry.accounts.models import User

    return db.session.get(User, user_id)


@jobs.task()
def dedupe_job(run_id: int) -> None:
    """Run a queued batch scan (the background job)."""
    try:
        run_dedupe(run_id)
    except Exception:  # noqa: BLE001  marked failed and logged; the worker goes on
        pass


# The duplicate queue -----------------------------------------------------------

@dataclass(frozen=True)
class PairFilters:
    band: str | None = None  # one of BANDS
    state: str = OPEN
    unit: str | None = None  # either record's hometown
    country: str | None = None  # either record's country
    min_score: float | None = None


def open_pairs(filters: PairFilters | None = None, page: int = 1,
               per_page: int = 50) -> tuple[list[MatchPair], int]:
    """Return (pairs on page, total) of the queue, best score first.

    Only pairs whose two records are still candidates are listed.
    """
    filters = filters or PairFilters()
    query = _pairs_query(filters)
    total = db.session.scalar(query.with_only_columns(func.count(MatchPair.id))
                              .order_by(None)) or 0
    query = query.order_by(MatchPair.score.desc(), MatchPair.id)
    pairs = db.session.scalars(query.limit(per_page).offset((max(page, 1) - 1) * per_page))
    return list(pairs.unique()), total


def pair_counts() -> dict[str, int]:
    """Return how many undecided pairs wait, by band, and how many in all ("open")."""
    query = _pairs_query(PairFilters()).with_only_columns(
        MatchPair.band, func.count(MatchPair.id)).group_by(MatchPair.band).order_by(None)
    counts = {band: 0 for band in BANDS}
    counts.update(dict(db.session.execute(query).all()))
    counts["open"] = sum(counts[band] for band in BANDS)
    return counts


def undecided_pairs():
    """Yield (id a, id b, score, band, source_ref a, source_ref b) of each undecided pair.

    Best score first; pairs whose records are no longer candidates are left out.
    """
    a, b = aliased(Person), aliased(Person)
    query = (select(MatchPair.person_a_id, MatchPair.person_b_id, MatchPair.score,
                    MatchPair.band, a.source_ref, b.source_ref)
             .join(a, a.id == MatchPair.person_a_id).join(b, b.id == MatchPair.person_b_id)
             .where(MatchPair.state.in_(UNDECIDED), a.status.in_(CANDIDATE_STATUSES),
                    b.status.in_(CANDIDATE_STATUSES))
             .order_by(MatchPair.score.desc(), MatchPair.person_a_id, MatchPair.person_b_id))
    yield from db.session.execute(query.execution_options(yield_per=10_000))


def _pairs_query(filters: PairFilters):
    a, b = aliased(Person), aliased(Person)
    query = (select(MatchPair).join(a, a.id == MatchPair.person_a_id)
             .join(b, b.id == MatchPair.person_b_id)
             .where(a.status.in_(CANDIDATE_STATUSES), b.status.in_(CANDIDATE_STATUSES)))
    query = query.where(MatchPair.state.in_(UNDECIDED) if filters.state == OPEN
                        else MatchPair.state == filters.state)
    if filters.band in BANDS:
        query = query.where(MatchPair.band == filters.band)
    if filters.unit:
        query = query.where(or_(a.hometown_code == filters.unit,
                                b.hometown_code == filters.unit))
    if filters.country:
        query = query.where(or_(a.country_code == filters.country,
                                b.country_code == filters.country))
    if filters.min_score is not None:
        query = query.where(MatchPair.score >= filters.min_score)
    return query


# Helpers -----------------------------------------------------------------------

def _birth_of(data: dict) -> tuple:
    if "birth" not in data:
        return data.get("birth_year"), data.get("birth_month"), data.get("birth_day")
    birth = data["birth"]
    if birth is None:
        return None, None, None
    if isinstance(birth, tuple | list):
        return (tuple(birth) + (None, None, None))[:3]
    return birth.year, getattr(birth, "month", None), getattr(birth, "day", None)


def _hometown_of(data: dict) -> str | None:
    hometown = data.get("hometown")
    if isinstance(hometown, tuple | list):
        return hometown[0] if hometown else None
    return data.get("hometown_code") or hometown


def _e164(item) -> str:
    if isinstance(item, str):
        return item
    return next((part for part in item if part and str(part).startswith("+")), item[0])


def listen() -> None:
    """Keep match keys in step with every flush of the app's session (once per process)."""
    if not event.contains(db.session, "after_flush", keep_keys_fresh):
        event.listen(db.session, "after_flush", keep_keys_fresh)

