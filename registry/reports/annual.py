"""The annual report: figures for one year up to a cut-off date, frozen when built.

The figures count people as the statistics do (active records, merged ones
never), entered on or before the cut-off day (Vietnam time). Their breakdowns
use the records as they are when the report is built: the registry keeps no
history of a status by date that could be replayed.
TODO: replay person_version to count statuses as they stood on the cut-off day.
Activity during the year: new registrations (records created in the year and
accepted), people whose record was updated, and merges not undone.
TODO: the campaigns sent during the year are not counted: the outreach domain does
not store campaigns yet; add their count here when it does.
"""
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from registry.core.text import fold
from registry.extensions import db
from registry.people.models import ACTIVE, Person, PersonVersion
from registry.reports import statistics
from registry.reports.statistics import NOT_REGISTERED, UNKNOWN

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
    counted = (Person.status == ACTIVE, Person.created_at < until)
    district_of = statistics.former_district_of_units()

    units = _grouped(Person.hometown_code, *counted)
    tables = {
        "country": _grouped(Person.country_code, *counted),
        "unit": units,
        "district": _merge_keys(units, lambda unit: district_of.get(unit, UNKNOWN)),
        "purpose": _grouped(Person.purpose, *counted),
        "status": _grouped(Person.status, Person.status.not_in(statistics.NOT_COUNTED),
                           Person.created_at < until),
        "gender": _grouped(Person.gender, *counted),
        "age": _ages(_grouped(Person.birth_year, *counted), cut_off.year),
        "occupation": _merge_keys(_grouped(Person.occupation, *counted), occupation_group),
        "expertise": _top(_merge_keys(_grouped(Person.expertise, *counted), _clean)),
        "month": _months(year, start, until),
    }
    totals = _totals(start, until, sum(units.values()))
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


def _grouped(column, *conditions) -> dict[str, int]:
    query = (select(column, func.count()).select_from(Person).where(*conditions)
             .group_by(column))
    return {_key(value): count for value, count in db.session.execute(query)}


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


def _months(year: int, start: datetime, until: datetime) -> dict[str, int]:
    month = statistics.month_of(Person.created_at, db.engine.dialect.name)
    query = (select(month, func.count()).select_from(Person)
             .where(Person.created_at >= start, Person.created_at < until,
                    Person.status.not_in(NOT_REGISTERED))
             .group_by(month))
    found = dict(db.session.execute(query).all())
    return {f"{year:04d}-{number:02d}": found.get(f"{year:04d}-{number:02d}", 0)
            for number in range(1, 13)}


def _totals(start: datetime, until: datetime, people: int) -> dict[str, int]:
    registrations = db.session.scalar(
        select(func.count()).select_from(Person).where(
            Person.created_at >= start, Person.created_at < until,
            Person.status.not_in(NOT_REGISTERED)))
    updated = db.session.scalar(
        select(func.count(func.distinct(PersonVersion.person_id))).where(
            PersonVersion.action == "update", PersonVersion.changed_at >= start,
            PersonVersion.changed_at < until))
    return {"people": people, "registrations": registrations or 0,
            "updated": updated or 0, "merges": _merges(start, until)}


def _merges(start: datetime, until: datetime) -> int:
    from registry.matching.models import Merge

    query = select(func.count(Merge.id)).where(
        Merge.merged_at >= start, Merge.merged_at < until, Merge.undone_at.is_(None))
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
