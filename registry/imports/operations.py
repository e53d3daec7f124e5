"""Import batches: upload, dry run, import in chunks into the review queue, undo.

The web pages and the `registry import` command take the same path:
start_batch → check_batch (the dry run, which stores every row and its verdict)
→ import_batch (the valid rows, a chunk per transaction) → undo_batch if asked.
Rows are written in bulk (registry.imports.bulk: COPY on PostgreSQL), with the
ids chosen first: one ORM flush per person would make a 100,000-row file take
minutes.
"""
import hashlib
import logging
import os
import re
import time
from collections import Counter

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from huey import crontab
from sqlalchemy import bindparam, event, exists, func, select, text, update

from registry.audit import operations as audit
from registry.audit.models import AuditEvent
from registry.core import jobs
from registry.core.errors import BadInput
from registry.core.text import fold, nfc, tone_key
from registry.core.time import utcnow
from registry.extensions import db
from registry.imports import bulk, parsing, rows
from registry.imports.models import (ALREADY_IMPORTED, CHECKED, CHECKING, DUPLICATE_IN_FILE,
                                     FAILED, IMPORTED, IMPORTING, INVALID, PROBABLY_EXISTS,
                                     UNDOING, UNDONE, UPLOADED, VALID, ImportBatch, ImportRow)
from registry.intake.models import IMPORT, PENDING, REJECTED, Submission
from registry.matching import operations as matching
from registry.people import operations as people
from registry.people.models import ARCHIVED, SUBMITTED, Email, Person, PersonVersion, Phone
from registry.people.names import split_name

log = logging.getLogger(__name__)

CHUNK_SIZE = 2000  # rows per transaction when importing
IMPORTABLE = (VALID, PROBABLY_EXISTS)
DUPLICATES = (DUPLICATE_IN_FILE, ALREADY_IMPORTED)
UNDO_REASON = "import.undo"
PROBABLY_SAME = _l("Probably already in the registry as %(people)s; imported all the same, "
                   "for the reviewer to decide.")
UPLOAD_MAX_AGE = 24 * 3600  # seconds a kept file may wait for its dry run
UPLOAD_EXPIRED = _l("The file waited more than a day for its dry run and was deleted. "
                    "Upload it again.")
_KEPT_FILE = re.compile(r"^batch-(\d+)\.\w+$")
# Intake's reference numbers: no 0/O or 1/I, 32 symbols, so a byte maps evenly.


# Upload ------------------------------------------------------------------------

def start_batch(filename: str, content: bytes, actor, source_name: str | None = None
                ) -> tuple[ImportBatch, bool]:
    """Open a batch for an uploaded file; return (batch, is_new).

    The same file sent again (same SHA-256) gives back its earlier batch, unless
    that one was undone or failed, so that nobody is created twice. Raise
    FileRefused when the file cannot be read.
    """
    digest = hashlib.sha256(content).hexdigest()
    earlier = batch_of_file(digest)
    if earlier is not None:
        return earlier, False
    table = parsing.read_table(filename, content)
    estimate = parsing.count_rows(table) if parsing.file_kind(filename) == "csv" else \
        max((table.row_estimate or 1) - 1, 0)
    known, _unknown = rows.auto_mapping(table.headers)
    mapping = {header: known.get(header) for header in table.headers if header}

    batch = ImportBatch(filename=_plain_name(filename), file_sha256=digest,
                        source_name=nfc(source_name)[:80] or None, state=UPLOADED,
                        created_by_id=actor.id if actor else None, mapping=mapping,
                        row_count=estimate)
    db.session.add(batch)
    db.session.flush()
    audit.record("import.upload", batch, actor=actor,
                 details={"rows": estimate, "columns": len(table.headers)})
    log.info("Import batch %s opened by user %s: %s rows", batch.id,
             actor.id if actor else None, estimate)
    return batch, True


def receive_upload(filename: str, content: bytes, actor, source_name: str | None = None
                   ) -> tuple[ImportBatch, bool]:
    """Open a batch for a file sent from the page; return (batch, is_new).

    The file is kept until the dry run has read it; the dry run starts at once
    unless some columns wait for the user to say what they hold.
    """
    batch, is_new = start_batch(filename, content, actor, source_name)
    if is_new:
        keep_upload(batch, content)
        if not unknown_columns(batch):
            queue_check(batch)
    return batch, is_new


def note_download(batch: ImportBatch, kind: str) -> None:
    """Record in the audit trail that the report of batch was downloaded."""
    audit.record("export", batch, details={"report": kind})
    log.info("Report of import batch %s downloaded as %s", batch.id, kind)


def batch_of_file(digest: str) -> ImportBatch | None:
    """Return the live batch of the file with this SHA-256, if one exists."""
    query = (select(ImportBatch).where(ImportBatch.file_sha256 == digest,
                                       ImportBatch.state.not_in((UNDONE, FAILED)))
             .order_by(ImportBatch.id.desc()).limit(1))
    return db.session.scalar(query)


def unknown_columns(batch: ImportBatch) -> list[str]:
    """Return the named columns of the file that no field is mapped to."""
    return [header for header, name in batch.mapping.items() if name is None]


def missing_fields(mapping: dict[str, str]) -> list[str]:
    """Return the required fields that no column is mapped to."""
    return [name for name in rows.REQUIRED_FIELDS if name not in mapping.values()]


def set_mapping(batch: ImportBatch, chosen: dict[str, str | None]) -> None:
    """Add the user's choices {column: field or None} to the batch's mapping."""
    mapping = dict(batch.mapping)
    for header, name in chosen.items():
        if header in mapping:
            mapping[header] = name if name in rows.FIELDS else None
    mapped = [name for name in mapping.values() if name]
    if len(set(mapped)) < len(mapped):
        raise BadInput(_("Two columns are mapped to the same field."))
    batch.mapping = mapping
    db.session.flush()
    log.info("Import batch %s mapped: %d columns", batch.id, len(mapped))


def keep_upload(batch: ImportBatch, content: bytes) -> None:
    """Keep the uploaded file until the dry run has read it."""
    path = upload_path(batch)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)


def upload_path(batch: ImportBatch) -> str:
    extension = parsing.file_kind(batch.filename) or "bin"
    return os.path.join(current_app.instance_path, "imports", f"batch-{batch.id}.{extension}")


def forget_upload(batch: ImportBatch) -> None:
    """Delete the kept file: its rows are in the database now (or never will be)."""
    _remove(upload_path(batch))


def clean_uploads(max_age: int = UPLOAD_MAX_AGE, now: float | None = None) -> int:
    """Delete the kept files older than max_age seconds; return how many.

    A file is kept until its dry run has read it. One still there after a day
    belongs to a batch whose columns were never mapped, or to an upload whose
    request failed after the file was written; its batch, if any, is marked
    failed with the reason, so that the page says to upload the file again. A
    file whose dry run is under way is left alone.
    """
    folder = os.path.join(current_app.instance_path, "imports")
    oldest = (time.time() if now is None else now) - max_age
    removed = 0
    for name, batch_id in _kept_files(folder):
        path = os.path.join(folder, name)
        batch = db.session.get(ImportBatch, batch_id)
        if os.path.getmtime(path) > oldest or _is_being_checked(batch):
            continue
        if batch is not None and batch.state in (UPLOADED, CHECKING):
            _fail(batch, parsing.msgid_of(UPLOAD_EXPIRED), {})
        _remove(path)
        removed += 1
        log.info("Kept upload %s deleted after %d hours", name, max_age // 3600)
    return removed


def _kept_files(folder: str) -> list[tuple[str, int]]:
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    return [(name, int(match.group(1))) for name in names
            if (match := _KEPT_FILE.match(name))]


def _is_being_checked(batch: ImportBatch | None) -> bool:
    return batch is not None and batch.state == CHECKING and batch.job_id is not None


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# Dry run -----------------------------------------------------------------------

def check_batch(batch: ImportBatch, content: bytes) -> None:
    """Check every row of the file and store its verdict: the dry run.

    The file being unreadable half-way marks the batch failed, with the reason.
    """
    db.session.execute(ImportRow.__table__.delete().where(ImportRow.batch_id == batch.id))
    batch.state = CHECKING
    try:
        table = parsing.read_table(batch.filename, content)
        checker = rows.RowChecker(table.headers, batch.mapping)
        seen: dict = {}
        chunk = []
        for row_number, cells in table.rows:
            chunk.append(checker.check(row_number, cells))
            if len(chunk) >= CHUNK_SIZE:
                _store_checked(batch, chunk, checker, seen)
                chunk = []
        _store_checked(batch, chunk, checker, seen)
    except parsing.FileRefused as refused:
        _fail(batch, refused.msgid, refused.params)
        return

    _count(batch)
    batch.state = CHECKED
    db.session.flush()
    audit.record("import.check", batch, details=status_counts(batch))
    log.info("Import batch %s checked: %d rows, %d valid, %d invalid, %d duplicates",
             batch.id, batch.row_count, batch.valid_count, batch.invalid_count,
             batch.duplicate_count)


def failure_of(batch: ImportBatch) -> dict | None:
    """Return why the dry run of batch failed, as a stored row problem, or None."""
    if batch.state != FAILED:
        return None
    query = select(ImportRow.errors).where(ImportRow.batch_id == batch.id,
                                           ImportRow.row_number == 0)
    found = db.session.scalar(query)
    return found[0] if found else None


def _fail(batch: ImportBatch, msgid: str, params: dict) -> None:
    db.session.execute(ImportRow.__table__.delete().where(ImportRow.batch_id == batch.id))
    db.session.add(ImportRow(batch_id=batch.id, row_number=0, status=INVALID,
                             errors=[{"column": None, "message": msgid, "params": params}]))
    batch.state = FAILED
    db.session.flush()
    log.info("Import batch %s failed its dry run", batch.id)


def probable_matches(row_data: dict) -> list:
    """Return the people already in the registry that this row probably is.

    The rows it finds are classified PROBABLY_EXISTS: they are still imported,
    so that the reviewer decides with the matches in front of them.
    """
    return matching.probable_matches(row_data)


def _store_checked(batch: ImportBatch, chunk: list, checker, seen: dict) -> None:
    if not chunk:
        return
    refs = {c.data["source_ref"] for c in chunk if c.data and c.data["source_ref"]}
    imported_before = _imported_refs(refs)
    ref_column = checker.column_of.get("source_ref")
    verdicts = [(INVALID, checked.errors) if checked.data is None else
                _classify(checked, seen, imported_before, ref_column) for checked in chunk]
    verdicts = _with_probable_matches(chunk, verdicts)
    values = []
    for checked, (status, problems) in zip(chunk, verdicts):
        ref = checked.data["source_ref"] if checked.data else checked.source_ref
        values.append({"batch_id": batch.id, "row_number": checked.row_number,
                       "source_ref": ref, "status": status, "errors": problems or None,
                       "data": checked.data if status in IMPORTABLE else None})
    bulk.insert_rows(db.session.connection(), ImportRow.__table__, values)


def _with_probable_matches(chunk: list, verdicts: list) -> list:
    """Return verdicts with the valid rows that probably exist already marked so.

    Only the rows whose blocking keys meet someone in the registry are asked
    about one by one: for a chunk of new people that is none, after one query
    per blocking rule instead of one per rule and row.
    """
    valid = [index for index, (status, _problems) in enumerate(verdicts) if status == VALID]
    worth = _meets_someone([chunk[index].data for index in valid])
    verdicts = list(verdicts)
    for index, is_worth in zip(valid, worth):
        found = probable_matches(chunk[index].data) if is_worth else []
        if found:
            people = ", ".join(f"#{match.person.id} ({match.probability:.0%})"
                               if match.person else "?" for match in found)
            verdicts[index] = (PROBABLY_EXISTS, [rows.error(None, PROBABLY_SAME,
                                                            people=people)])
    return verdicts


def _meets_someone(datas: list[dict]) -> list[bool]:
    """Tell, per row data, whether a blocking key of it is shared by anyone keyed.

    The same test as the detector's own candidate look-up, for many rows at
    once: a row that meets no one has no probable match.
    TODO: a batch look-up belongs in registry.matching; this reads its key table.
    """
    from registry.matching import blocking

    if not datas or not _anyone_keyed():
        return [False] * len(datas)
    per_row = [[(tuple(values), tuple(values.values())) for _rule, values in
                blocking.probe_filters(matching.record_from_data(data))] for data in datas]
    wanted: dict[tuple, set] = {}
    for columns, values in (item for filters in per_row for item in filters):
        wanted.setdefault(columns, set()).add(values)
    met = {(columns, values) for columns, sought in wanted.items()
           for values in _keyed_values(matching.KEY_TABLE, columns, sought)}
    return [any(item in met for item in filters) for filters in per_row]


def _anyone_keyed() -> bool:
    """Tell whether anyone in the registry can be matched (a first import: no one)."""
    return db.session.scalar(select(matching.KEY_TABLE.c.person_id).limit(1)) is not None


def _keyed_values(keys, columns: tuple, sought: set) -> set[tuple]:
    """Return the value tuples among sought that some keyed person has in columns."""
    if len(columns) > 1:
        return _keyed_tuples(keys, columns, sorted(sought))
    if columns in (("phone",), ("email",)):
        column = Phone.number if columns == ("phone",) else Email.address
        query = select(column).join(keys, keys.c.person_id == column.class_.person_id)
    else:
        column = keys.c[columns[0]]
        query = select(column)
    query = query.where(column.in_(sorted(values[0] for values in sought))).distinct()
    return {tuple(row) for row in db.session.execute(query)}


def _keyed_tuples(keys, columns: tuple, sought: list[tuple]) -> set[tuple]:
    # The sought tuples are joined as a table: an IN list of row values is
    # planned as one OR per tuple, which costs PostgreSQL most of a second.
    connection = db.session.connection()
    selected = ", ".join(f"k.{name}" for name in columns)
    if connection.dialect.name == "postgresql":
        types = [keys.c[name].type.compile(connection.dialect) for name in columns]
        arrays = ", ".join(f"CAST(:c{at} AS {kind}[])" for at, kind in enumerate(types))
        names = ", ".join(f"c{at}" for at in range(len(columns)))
        joined = " AND ".join(f"k.{name} = probe.c{at}" for at, name in enumerate(columns))
        statement = text(f"SELECT DISTINCT {selected} FROM {keys.name} AS k "
                         f"JOIN unnest({arrays}) AS probe({names}) ON {joined}")
        found = connection.execute(statement, {f"c{at}": [values[at] for values in sought]
                                               for at in range(len(columns))})
    else:
        row = "(" + ", ".join("?" * len(columns)) + ")"
        joined = " AND ".join(f"k.{name} = probe.column{at + 1}"
                              for at, name in enumerate(columns))
        found = connection.exec_driver_sql(
            f"SELECT DISTINCT {selected} FROM (VALUES {', '.join([row] * len(sought))}) "
            f"AS probe JOIN {keys.name} AS k ON {joined}",
            tuple(value for values in sought for value in values))
    return {tuple(row) for row in found}


def _classify(checked, seen: dict, imported_before: set, ref_column) -> tuple[str, list]:
    ref = checked.data["source_ref"]
    for key in (("ref", ref) if ref else None, ("person", checked.duplicate_key)):
        if key and key[1] is not None:
            if key in seen:
                column = ref_column if key[0] == "ref" else None
                return DUPLICATE_IN_FILE, [rows.error(column, rows.SAME_AS_ROW,
                                                      row=seen[key])]
    for key in (("ref", ref), ("person", checked.duplicate_key)):
        if key[1] is not None:
            seen[key] = checked.row_number
    if ref in imported_before:
        return ALREADY_IMPORTED, [rows.error(ref_column, rows.ALREADY_IMPORTED, ref=ref)]
    return VALID, []


def _imported_refs(refs: set[str]) -> set[str]:
    """Return the references among refs that a person already has (undone ones aside)."""
    if not refs:
        return set()
    undone = (select(ImportRow.id).join(ImportBatch, ImportBatch.id == ImportRow.batch_id)
              .where(ImportRow.person_id == Person.id, ImportBatch.state == UNDONE))
    query = select(Person.source_ref).where(Person.source_ref.in_(sorted(refs)),
                                            ~exists(undone))
    return set(db.session.scalars(query))


def status_counts(batch: ImportBatch) -> dict[str, int]:
    """Return how many rows of the batch have each verdict."""
    query = (select(ImportRow.status, func.count(ImportRow.id))
             .where(ImportRow.batch_id == batch.id).group_by(ImportRow.status))
    return dict(db.session.execute(query).all())


def _count(batch: ImportBatch) -> None:
    counts = Counter(status_counts(batch))
    batch.row_count = sum(counts.values())
    batch.valid_count = sum(counts[status] for status in IMPORTABLE)
    batch.invalid_count = counts[INVALID]
    batch.duplicate_count = sum(counts[status] for status in DUPLICATES)


def problem_rows(batch: ImportBatch, page: int, per_page: int) -> tuple[list, int]:
    """Return (the rows of page that are not plainly valid, how many there are).

    Those are the rows that will not be imported, and those that probably are
    someone in the registry already (imported, for the reviewer to decide).
    """
    where = (ImportRow.batch_id == batch.id, ImportRow.status != VALID)
    total = db.session.scalar(select(func.count(ImportRow.id)).where(*where)) or 0
    query = (select(ImportRow).where(*where).order_by(ImportRow.row_number)
             .limit(per_page).offset((page - 1) * per_page))
    return list(db.session.scalars(query)), total


# Import ------------------------------------------------------------------------

def import_batch(batch: ImportBatch, actor, after_chunk=None) -> int:
    """Import the batch's valid rows not imported yet; return how many people it made.

    Each chunk of rows becomes people, their submissions to the review queue and
    the row's person_id together, so after_chunk (a commit) leaves nothing half
    done: a run that was killed is run again and goes on where it stopped.
    """
    if batch.state not in (CHECKED, IMPORTING):
        raise BadInput(_("This batch cannot be imported now."))
    batch.state = IMPORTING
    db.session.flush()
    _call(after_chunk)

    created, after_row = 0, 0
    while chunk := _next_chunk(batch, after_row):
        after_row = chunk[-1].row_number
        created += _import_chunk(batch, chunk, actor)
        _call(after_chunk)
    batch.state, batch.finished_at = IMPORTED, utcnow()
    db.session.flush()
    audit.record("import.run", batch, actor=actor,
                 details={"imported": batch.imported_count, "created_now": created})
    log.info("Import batch %s imported: %d people (%d in this run)", batch.id,
             batch.imported_count, created)
    return created


def is_interrupted(batch: ImportBatch) -> bool:
    """Tell whether the import or undo of batch stopped before the end."""
    return batch.state in (IMPORTING, UNDOING) and batch.job_id is None


def can_import(batch: ImportBatch) -> bool:
    """Tell whether batch may be imported now (or an interrupted import resumed)."""
    if batch.state == IMPORTING:
        return is_interrupted(batch)
    return batch.state == CHECKED and batch.valid_count > 0


def can_undo(batch: ImportBatch) -> bool:
    """Tell whether batch may be undone now (or an interrupted undo resumed)."""
    if batch.state in (IMPORTING, UNDOING):
        return is_interrupted(batch)
    return batch.state == IMPORTED


def _call(action) -> None:
    if action is not None:
        action()


def _next_chunk(batch: ImportBatch, after_row: int) -> list:
    """Return the next rows to import after row number after_row, as plain rows."""
    query = (select(ImportRow.id, ImportRow.row_number, ImportRow.source_ref,
                    ImportRow.data)
             .where(ImportRow.batch_id == batch.id, ImportRow.row_number > after_row,
                    ImportRow.status.in_(IMPORTABLE), ImportRow.person_id.is_(None))
             .order_by(ImportRow.row_number).limit(CHUNK_SIZE)
             # Two runs at once (a resumed job beside a CLI) take different rows.
             .with_for_update(skip_locked=True))
    return list(db.session.execute(query))


def _import_chunk(batch: ImportBatch, chunk: list, actor) -> int:
    """Create the people of chunk in bulk; return how many."""
    taken = _imported_refs({row.source_ref for row in chunk if row.source_ref})
    if taken:  # imported by another batch since the dry run
        _mark_imported_before([row for row in chunk if row.source_ref in taken], batch)
        chunk = [row for row in chunk if row.source_ref not in taken]
    if not chunk:
        return 0

    now, actor_id = utcnow(), actor.id if actor else None
    connection = db.session.connection()
    ids = _new_person_ids(connection, len(chunk))
    records = [{"id": pid, **_person_values(row.data, now, actor_id)}
               for pid, row in zip(ids, chunk)]
    bulk.insert_rows(connection, Person.__table__, records)
    _insert_contacts(connection, ids, chunk)
    matching.insert_keys(bulk.Copying(connection),
                         [(pid, row.data) for pid, row in zip(ids, chunk)])
    snapshots = [_snapshot(record, row.data) for record, row in zip(records, chunk)]
    bulk.insert_rows(connection, PersonVersion.__table__, [
        {"person_id": pid, "version": 1, "action": "create", "changed_at": now,
         "changed_by_id": actor_id, "snapshot": snap, "changes": None}
        for pid, snap in zip(ids, snapshots)])
    references = _open_submissions(connection, ids, batch, actor_id, now)
    _audit_creations(connection, batch, actor, list(zip(ids, references)))
    _link_rows(connection, [row.id for row in chunk], ids)
    batch.imported_count += len(ids)
    db.session.flush()
    log.info("Import batch %s: %d people created", batch.id, len(ids))
    return len(ids)


def _link_rows(connection, row_ids: list[int], person_ids: list[int]) -> None:
    """Record on each import row the person it became, in one statement on PostgreSQL."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(
            "UPDATE import_row SET person_id = linked.person_id "
            "FROM unnest(CAST(:rows AS integer[]), CAST(:people AS integer[])) "
            "AS linked(id, person_id) WHERE import_row.id = linked.id"),
            {"rows": row_ids, "people": person_ids})
        return
    connection.execute(
        update(ImportRow.__table__).where(ImportRow.id == bindparam("row_id"))
        .values(person_id=bindparam("new_person_id")),
        [{"row_id": row_id, "new_person_id": pid}
         for row_id, pid in zip(row_ids, person_ids)])


def _mark_imported_before(taken: list, batch: ImportBatch) -> None:
    for row in taken:
        db.session.execute(update(ImportRow).where(ImportRow.id == row.id).values(
            status=ALREADY_IMPORTED, data=None,
            errors=[rows.error(None, rows.ALREADY_IMPORTED, ref=row.source_ref)]))
    batch.valid_count -= len(taken)
    batch.duplicate_count += len(taken)


def _new_person_ids(connection, count: int) -> list[int]:
    """Return count unused person ids, so that rows go in without RETURNING.

    An INSERT ... RETURNING of many rows in a known order runs row by row on
    SQLite; with the ids chosen first, each table takes one executemany.
    """
    if connection.dialect.name == "postgresql":
        query = text("SELECT nextval(pg_get_serial_sequence('person', 'id')) "
                     "FROM generate_series(1, :count)")
        return [value for (value,) in connection.execute(query, {"count": count})]
    # SQLite: this transaction holds the write lock (BEGIN IMMEDIATE), so no other
    # writer can take these ids before the insert.
    highest = connection.execute(select(func.max(Person.id))).scalar() or 0
    return list(range(highest + 1, highest + 1 + count))


def _audit_creations(connection, batch: ImportBatch, actor, created: list[tuple]) -> None:
    """Write a person.create audit row per person, like people.operations.create_person.

    The chunk's own audit row is written the usual way; the rows for its people
    copy who and from where from it, and go in with one executemany. The values
    themselves are in each person's first version, not repeated here.
    """
    chunk_event = audit.record("import.chunk", batch, actor=actor,
                               details={"people": len(created), "first": created[0][0],
                                        "last": created[-1][0]})
    origin = {"actor_id": chunk_event.actor_id, "actor_label": chunk_event.actor_label,
              "address": chunk_event.address, "user_agent": chunk_event.user_agent}
    now = utcnow()
    bulk.insert_rows(connection, AuditEvent.__table__, [
        {**origin, "occurred_at": now, "action": "person.create", "object_type": "person",
         "object_id": str(pid),
         "details": {"batch": batch.id, "submission": reference, "version": 1}}
        for pid, reference in created])


def _person_values(data: dict, now, actor_id) -> dict:
    parts = split_name(data["full_name"])
    year, month, day = data["birth"] or (None, None, None)
    code, former, given = data["hometown"]
    return {
        "full_name": nfc(data["full_name"]), "family_name": parts.family,
        "middle_name": parts.middle, "given_name": parts.given,
        "name_folded": fold(parts.full), "name_tone_key": tone_key(parts.full),
        "gender": data["gender"], "birth_year": year, "birth_month": month,
        "birth_day": day, "hometown_code": code, "hometown_former_code": former,
        "hometown_given": given, "country_code": data["country_code"], "city": data["city"],
        "address_abroad": data["address_abroad"], "passport_number": data["passport_number"],
        "occupation": data["occupation"], "preferred_lang": "vi",
        "is_outreach_opted_out": False, "is_verified": False, "status": SUBMITTED,
        "source": "import", "source_ref": data["source_ref"], "version": 1,
        "created_at": now, "updated_at": now, "created_by_id": actor_id,
        "updated_by_id": actor_id,
    }


def _snapshot(record: dict, data: dict) -> dict:
    """Return what people.operations.snapshot would give for a freshly imported row."""
    values = {name: record.get(name) for name in people.SNAPSHOT_FIELDS}
    values.update(merged_into_id=None, abroad_since=None,
                  phones=[number for number, _digits in data["phones"]],
                  emails=list(data["emails"]), associations=[], consents=[])
    return values


def _insert_contacts(connection, ids: list[int], chunk: list) -> None:
    # No consent rows: a spreadsheet records no one's consent; the reviewer does.
    phones = [{"person_id": pid, "number": number, "national_digits": digits}
              for pid, row in zip(ids, chunk) for number, digits in row.data["phones"]]
    emails = [{"person_id": pid, "address": address}
              for pid, row in zip(ids, chunk) for address in row.data["emails"]]
    for table, values in ((Phone, phones), (Email, emails)):
        if values:
            bulk.insert_rows(connection, table.__table__, values)


def _open_submissions(connection, ids: list[int], batch: ImportBatch, actor_id, now
                      ) -> list[str]:
    """Put the people of a chunk in the review queue; return their reference numbers.

    intake.operations.open_submission does this one person at a time, with a
    flush and an audit row each; here the rows of a chunk go in one insert (the
    person.create audit row names the submission's reference instead).
    """
    from registry.intake.operations import fresh_references

    references = fresh_references(len(ids))
    bulk.insert_rows(connection, Submission.__table__, [
        {"person_id": pid, "kind": IMPORT, "state": PENDING, "reference": reference,
         "created_at": now, "submitted_by_id": actor_id, "batch_id": batch.id,
         "times_submitted": 1}
        for pid, reference in zip(ids, references)])
    return references


# Undo --------------------------------------------------------------------------

def undo_batch(batch: ImportBatch, actor, after_chunk=None) -> tuple[int, int]:
    """Take a batch back: return (people archived, people kept because accepted).

    People of the batch still waiting for review are archived, not deleted: the
    registry never deletes a record outside a data-subject erasure, which keeps
    a tombstone, and the history and audit trail must show what came in and
    how it left. "Rejected" is not used either: it means a reviewer refused the
    entry and its author may correct it, which is not what happened. Their
    pending submissions are closed as rejected, with the reason "import.undo".
    People an officer has already accepted are kept.
    """
    if batch.state not in (IMPORTED, IMPORTING, UNDOING):
        raise BadInput(_("Only an imported batch can be undone."))
    batch.state = UNDOING
    db.session.flush()
    _call(after_chunk)

    archived = 0
    while people_chunk := _waiting_people(batch):
        archived += _archive(people_chunk, batch, actor)
        _call(after_chunk)
    kept = db.session.scalar(
        select(func.count(Person.id)).join(ImportRow, ImportRow.person_id == Person.id)
        .where(ImportRow.batch_id == batch.id, Person.status != ARCHIVED)) or 0
    batch.state, batch.undone_at = UNDONE, utcnow()
    db.session.flush()
    audit.record("import.undo", batch, actor=actor,
                 details={"archived": archived, "kept": kept})
    log.info("Import batch %s undone: %d archived, %d kept", batch.id, archived, kept)
    return archived, kept


def _waiting_people(batch: ImportBatch) -> list[Person]:
    query = (select(Person).join(ImportRow, ImportRow.person_id == Person.id)
             .where(ImportRow.batch_id == batch.id, Person.status == SUBMITTED)
             .order_by(Person.id).limit(CHUNK_SIZE))
    return list(db.session.scalars(query))


def _archive(chunk: list[Person], batch: ImportBatch, actor) -> int:
    now, actor_id = utcnow(), actor.id if actor else None
    for person in chunk:
        person.status, person.updated_at, person.updated_by_id = ARCHIVED, now, actor_id
    db.session.flush()  # one flush: each version number moves by one
    changes = {"status": [SUBMITTED, ARCHIVED]}
    for person in chunk:
        db.session.add(PersonVersion(person_id=person.id, version=person.version,
                                     action="status", changed_by_id=actor_id,
                                     snapshot=people.snapshot(person), changes=changes))
        audit.record("person.status", person, actor=actor,
                     details={"changes": changes, "reason": UNDO_REASON, "batch": batch.id})
    ids = [person.id for person in chunk]
    db.session.execute(
        update(Submission).where(Submission.person_id.in_(ids), Submission.state == PENDING,
                                 Submission.batch_id == batch.id)
        .values(state=REJECTED, reason=UNDO_REASON, reviewed_at=now, reviewed_by_id=actor_id)
        .execution_options(synchronize_session=False))
    db.session.flush()
    return len(chunk)


# Background jobs ---------------------------------------------------------------

@jobs.task()
def check_job(batch_id: int) -> None:
    """Run the dry run of an uploaded batch, from its kept file."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.state != CHECKING:
        return
    try:
        with open(upload_path(batch), "rb") as handle:
            content = handle.read()
    except FileNotFoundError:
        _fail(batch, parsing.msgid_of(parsing.EMPTY), {})
    else:
        check_batch(batch, content)
    forget_upload(batch)
    batch.job_id = None
    db.session.commit()


@jobs.task()
def import_job(batch_id: int, actor_id: int | None) -> None:
    """Import a checked batch, committing each chunk."""
    _run_job(import_batch, batch_id, actor_id)


@jobs.task()
def undo_job(batch_id: int, actor_id: int | None) -> None:
    """Undo an imported batch, committing each chunk."""
    _run_job(undo_batch, batch_id, actor_id)


# jobs.task gives the function its application context; huey's periodic_task
# takes the function from inside it, under a name of its own.
@jobs.huey.periodic_task(crontab(minute="25"), name="imports.clean_uploads_hourly")
@jobs.task()
def clean_uploads_job() -> None:
    """Delete the kept uploads that waited more than a day, every hour."""
    clean_uploads()
    db.session.commit()


def _run_job(operation, batch_id: int, actor_id: int | None) -> None:
    from registry.accounts.models import User

    batch = db.session.get(ImportBatch, batch_id)
    actor = db.session.get(User, actor_id) if actor_id else None
    try:
        operation(batch, actor, after_chunk=db.session.commit)
    except Exception:
        db.session.rollback()
        log.warning("Import batch %s stopped while %s", batch_id, batch.state)
        raise
    finally:
        batch.job_id = None  # without a job, a batch still importing was interrupted
        db.session.commit()


def queue_check(batch: ImportBatch) -> None:
    """Start the dry run of batch in the background."""
    batch.state = CHECKING
    db.session.flush()
    _enqueue(batch, check_job, batch.id)


def queue_import(batch: ImportBatch, actor) -> None:
    """Start importing batch in the background."""
    if not can_import(batch):
        raise BadInput(_("This batch cannot be imported now."))
    batch.state = IMPORTING
    db.session.flush()
    _enqueue(batch, import_job, batch.id, actor.id if actor else None)


def queue_undo(batch: ImportBatch, actor) -> None:
    """Start undoing batch in the background."""
    if not can_undo(batch):
        raise BadInput(_("Only an imported batch can be undone."))
    batch.state = UNDOING
    db.session.flush()
    _enqueue(batch, undo_job, batch.id, actor.id if actor else None)


def _enqueue(batch: ImportBatch, job, *args) -> None:
    task = job.s(*args)
    batch.job_id = task.id
    if jobs.huey.immediate:
        jobs.huey.enqueue(task)
        return
    # The worker must find the batch in its new state: hand it over after the commit.
    event.listen(db.session(), "after_commit", lambda _session: jobs.huey.enqueue(task),
                 once=True)


# Review queue ------------------------------------------------------------------

def pending_batches_count() -> int:
    """Return how many import batches have people waiting for review."""
    query = select(func.count(func.distinct(Submission.batch_id))).where(
        Submission.state == PENDING, Submission.kind == IMPORT,
        Submission.batch_id.is_not(None))
    return db.session.scalar(query) or 0


def pending_batches(filters=None) -> list:
    """Return the batches with people waiting for review, as review queue items."""
    from flask import url_for

    from registry.intake.operations import QueueItem

    limit = getattr(filters, "limit", 200)
    query = (select(ImportBatch, func.min(Submission.created_at), func.count(Submission.id))
             .join(Submission, Submission.batch_id == ImportBatch.id)
             .where(Submission.state == PENDING, Submission.kind == IMPORT)
             .group_by(ImportBatch.id).order_by(func.min(Submission.created_at))
             .limit(limit))
    return [QueueItem(kind=IMPORT, url=url_for("intake.queue", batch=batch.id),
                      title=_("Import batch %(number)s: %(file)s", number=batch.id,
                              file=batch.filename),
                      waiting_since=since, note=_("%(count)s people waiting", count=count),
                      unit_code=getattr(filters, "unit", None),
                      country_code=getattr(filters, "country", None))
            for batch, since, count in db.session.execute(query)]


def _plain_name(filename: str) -> str:
    """Return the file name without any directory part, for display."""
    return nfc(os.path.basename(filename.replace("\\", "/")))[:255] or "upload"
