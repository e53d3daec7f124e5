"""The annual report: figures for one year up to a cut-off date, frozen when built.

The figures count people as the statistics do (active records, merged ones
never), entered on or before the cut-off day (Vietnam time), each record as it
stood at the end of that day: a record changed since is read from the last
version of its history saved by then (person_version, whose snapshots hold
every counted field); one not changed since is read as it is, which gives the
same without the lookup. So a record merged into another before the cut-off
counts once, through its survivor, and one merged later still counts as it was.
A record changed since but with no version saved by then counts as it is now:
a record erased since (the erasure deletes its history and leaves it archived
and empty, so it is no longer counted).
Activity during the year: new registrations (records created in the year and
accepted by the cut-off), people whose record was updated, merges not undone
by the cut-off, and the outreach campaigns that started sending in the year with
the messages they delivered by the cut-off.
"""
from collections import Counter
from datetime import date, datetime, time, timedelta
from operator import itemgetter

from sqlalchemy import case, cast, func, or_, select, union_all
from sqlalchemy.dialects.postgresql import JSONB

from registry.core.text import fold
from registry.extensions import db
from registry.people.models import ACTIVE, Person, PersonVersion
from registry.reports import statistics
from registry.reports.statistics import NOT_REGISTERED, UNKNOWN

#: The person columns the tables count, named as a version's snapshot names them.
COUNTED_FIELDS = ("country_code", "hometown_code", "purpose", "gender", "birth_year",
                  "occupation", "expertise")
RECORD_FIELDS = ("status", *COUNTED_FIELDS)
COLUMNS = (*RECORD_FIELDS, "month")  # in the order _count reads them
CHUNK_ROWS = 20_000

TABLES = ("country", "unit", "district", "purpose", "status", "gender", "age",
          "occupation", "expertise", "month")
EXPERTISE_SHOWN = 30
OTHER = "other"
# Folded whole words that put an occupation in a group, checked in this order; "^"
# means only as the first words ("thợ hàn", but not "nhà thơ", folded alike).
OCCUPATION_GROUPS = (
    ("students", ("sinh vien", "hoc sinh", "du hoc sinh", "nghien cuu sinh", "thuc tap sinh")),
    ("professionals", ("ky su", "bac si", "giao vien", "giang vien", "dieu duong", "y ta",
                       "duoc si", "luat su", "ke toan", "kien truc su", "lap trinh",
                       "nghien cuu", "phien dich", "thong dich")),
    ("business", ("kinh doanh", "buon ban", "doanh nhan", "chu doanh nghiep", "tieu thuong")),
    ("agriculture", ("nong nghiep", "nong dan", "ngu dan", "thuy san", "chan nuoi")),
    ("homemakers", ("noi tro",)),
    ("workers", ("cong nhan", "^tho", "lao dong", "lai xe", "dau bep", "xay dung",
                 "giup viec", "bao ve", "phuc vu")),
)


def compute(year: int, cut_off: date) -> dict:
    """Return the figures of the annual report for year, counting up to cut_off."""
    until = end_of_day_utc(cut_off)
    start = end_of_day_utc(date(year - 1, 12, 31))
    district_of = statistics.former_district_of_units()

    counts = _tally(_records_at(until, start))
    units = counts["hometown_code"]
    tables = {
        "country": counts["country_code"],
        "unit": units,
        "district": _merge_keys(units, lambda unit: district_of.get(unit, UNKNOWN)),
        "purpose": counts["purpose"],
        "status": counts["status"],
        "gender": counts["gender"],
        "age": _ages(counts["birth_year"], cut_off.year),
        "occupation": _merge_keys(counts["occupation"], occupation_group),
        "expertise": _top(_merge_keys(counts["expertise"], _clean)),
        "month": _months(year, counts["month"]),
    }
    registrations = sum(counts["month"].values())
    totals = _totals(start, until, sum(units.values()), registrations)
    return {"totals": totals,
            "tables": {name: _ordered(name, cells) for name, cells in tables.items()},
            "labels": _frozen_labels(tables)}


def end_of_day_utc(day: date) -> datetime:
    """Return the UTC moment the day ends in Vietnam, naive, as the database stores it."""
    midnight = datetime.combine(day + timedelta(days=1), time())
    return midnight - timedelta(hours=statistics.VIETNAM_OFFSET_HOURS)


def occupation_group(occupation: str) -> str:
    """Return the group an occupation typed as free text belongs to."""
    if not occupation:
        return UNKNOWN
    words = f" {fold(occupation)} "
    for group, phrases in OCCUPATION_GROUPS:
        if any(_has_phrase(words, phrase) for phrase in phrases):
            return group
    return OTHER


def _has_phrase(words: str, phrase: str) -> bool:
    if phrase.startswith("^"):
        return words.startswith(f" {phrase[1:]} ")
    return f" {phrase} " in words


def _records_at(until: datetime, start: datetime):
    """Return everyone entered before until, with the counted fields as they stood then.

    A record not changed since until (every saved change moves its updated_at)
    is read as it is; any other from its last version saved before until, or as
    it is when it has none. Each also gives the month it was entered in, if that
    was on or after start.
    """
    month = statistics.month_of(Person.created_at, db.engine.dialect.name)
    columns = [*(getattr(Person, name) for name in RECORD_FIELDS),
               case((Person.created_at >= start, month)).label("month")]
    as_they_are = select(*columns).where(Person.created_at < until,
                                         Person.updated_at < until)
    changed = _changed_since(until, columns)
    as_saved = select(*(_as_saved(changed, name) for name in RECORD_FIELDS),
                      changed.c.month)
    return union_all(as_they_are, as_saved).subquery()


def _changed_since(until: datetime, columns: list):
    """Return the records changed since until, each with its last snapshot saved before."""
    snapshot = PersonVersion.snapshot
    if db.engine.dialect.name == "postgresql":
        snapshot = cast(snapshot, JSONB)  # parsed once; ->> on json parses it every time
    last = (select(snapshot)
            .where(PersonVersion.person_id == Person.id, PersonVersion.changed_at < until)
            .order_by(PersonVersion.version.desc()).limit(1)
            .correlate(Person).scalar_subquery())
    query = select(*columns, last.label("snapshot")).where(Person.created_at < until,
                                                           Person.updated_at >= until)
    # OFFSET 0: the snapshot is looked up once per record, not once per field read.
    return query.offset(0).subquery()


def _as_saved(changed, name: str):
    saved = changed.c.snapshot[name]
    saved = saved.as_integer() if name == "birth_year" else saved.as_string()
    return case((changed.c.snapshot.is_(None), changed.c[name]), else_=saved).label(name)


def _tally(records) -> dict[str, dict[str, int]]:
    """Count records by status, by month entered and, of the active, by every field."""
    query = select(records).where(records.c.status.not_in(statistics.NOT_COUNTED))
    # Core rows, in chunks: no ORM loading, and a server-side cursor on PostgreSQL.
    connection = db.session.connection()
    result = connection.execute(query, execution_options={"yield_per": CHUNK_ROWS})
    counters = {name: Counter() for name in COLUMNS}
    for rows in result.partitions():
        _count(counters, rows)
    return {name: _merge_keys(counter, _key) for name, counter in counters.items()}


def _count(counters: dict[str, Counter], rows: list) -> None:
    # Column by column: Counter.update over a map runs in C, a million rows in seconds.
    counters["status"].update(map(itemgetter(0), rows))
    counters["month"].update(row.month for row in rows
                             if row.month is not None and row.status not in NOT_REGISTERED)
    active = [row for row in rows if row.status == ACTIVE]
    for index, name in enumerate(COUNTED_FIELDS, start=1):
        counters[name].update(map(itemgetter(index), active))


def _key(value) -> str:
    return UNKNOWN if value is None else str(value)


def _merge_keys(cells: dict[str, int], key_of) -> dict[str, int]:
    merged: dict[str, int] = {}
    for key, count in cells.items():
        name = key_of(key)
        merged[name] = merged.get(name, 0) + count
    return merged


def _clean(text: str) -> str:
    # Free text: the same field typed in other cases or spacing is one row.
    return " ".join(text.split()).capitalize() if text else UNKNOWN


def _top(cells: dict[str, int]) -> dict[str, int]:
    named = sorted(((key, count) for key, count in cells.items() if key != UNKNOWN),
                   key=lambda item: (-item[1], item[0]))
    shown = dict(named[:EXPERTISE_SHOWN])
    rest = sum(count for _key, count in named[EXPERTISE_SHOWN:])
    if rest:
        shown[OTHER] = rest
    if cells.get(UNKNOWN):
        shown[UNKNOWN] = cells[UNKNOWN]
    return shown


def _ages(by_year: dict[str, int], this_year: int) -> dict[str, int]:
    bands = {label: 0 for _low, _high, label in statistics.AGE_BANDS}
    bands[UNKNOWN] = 0
    for year, count in by_year.items():
        birth = int(year) if year.isdigit() else None
        bands[statistics.age_band(this_year, birth)] += count
    return bands


def _months(year: int, entered: dict[str, int]) -> dict[str, int]:
    return {f"{year:04d}-{number:02d}": entered.get(f"{year:04d}-{number:02d}", 0)
            for number in range(1, 13)}


def _totals(start: datetime, until: datetime, people: int, registrations: int
            ) -> dict[str, int]:
    updated = db.session.scalar(
        select(func.count(func.distinct(PersonVersion.person_id))).where(
            PersonVersion.action == "update", PersonVersion.changed_at >= start,
            PersonVersion.changed_at < until))
    from registry.outreach import campaigns

    started, delivered = campaigns.activity(start, until)
    return {"people": people, "registrations": registrations,
            "updated": updated or 0, "merges": _merges(start, until),
            "campaigns": started, "messages": delivered}


def _merges(start: datetime, until: datetime) -> int:
    from registry.matching.models import Merge

    query = select(func.count(Merge.id)).where(
        Merge.merged_at >= start, Merge.merged_at < until,
        or_(Merge.undone_at.is_(None), Merge.undone_at >= until))
    return db.session.scalar(query) or 0


def _ordered(name: str, cells: dict[str, int]) -> list[list]:
    if name in ("age", "month"):
        return [[key, count] for key, count in cells.items()]
    items = sorted(cells.items(), key=lambda item: (item[0] in (UNKNOWN, OTHER),
                                                    -item[1], item[0]))
    return [[key, count] for key, count in items if count]


def _frozen_labels(tables: dict) -> dict:
    """Return the names of units and districts as they are now, kept with the report."""
    from registry.reports.labels import Labels

    labels = Labels()
    return {"unit": {key: labels.unit(key) for key in tables["unit"] if key},
            "district": {key: labels.district(key) for key in tables["district"] if key}}
