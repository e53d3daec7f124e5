"""Counting people for the dashboard and the API, within each user's scope.

What is counted. People, not records: a record merged into another is never
counted (the survivor stands for both), and a record still waiting for review
(submitted) or rejected is not part of the official figures. The official
figures are the people whose record is active. The status table is the one
exception: it shows archived, deceased, returned and submitted records beside the
active ones, so that officers see the backlog, and it is no part of the total.
New registrations per month count the records created that month that were
accepted (any status but submitted, rejected and merged).

Where the counts come from. Every figure is a sum over (hometown unit, value)
cells of one dimension. For a registry of up to STATS_LIVE_LIMIT people the
cells are counted from the person table on each request, so they are exact at
once. Above that, grouping a million rows takes seconds, so the cells are read
from the stat_cell table, rebuilt in the background when older than
STATS_CACHE_SECONDS (by the page itself when that is quick, else by the job
worker); the page says how old they are.

Small cells. Users who may not read records (statistics viewers, partner
departments) get every count from 1 to 4 hidden as "< 5". So that a hidden count
cannot be worked out by subtracting the shown ones from a total, each table with
a hidden cell also hides its next smallest cells until at least two are hidden
and the hidden ones add up to 5 or more; such a cell is shown as "hidden".
The unit table does this within each former district, because the former
district table shows the sum of its units. A total below 5 is hidden too.
TODO: tables of different dimensions only share the grand total, so they cannot
be subtracted from one another; if cross tables (country by unit, say) are ever
shown to viewers, they need suppression across both margins.
"""
import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app, g, has_request_context, request
from sqlalchemy import String, cast, delete, func, insert, select, text

from registry.core.time import VIETNAM, as_utc, utcnow
from registry.extensions import db
from registry.people.models import (ACTIVE, MERGED, REJECTED, SUBMITTED, Person)
from registry.reports.models import StatBuild, StatCell

log = logging.getLogger(__name__)

THRESHOLD = 5  # counts below this are hidden from users who may not read records
SMALL, COMPLEMENT = "small", "complement"  # why a cell is hidden
UNKNOWN = ""  # the value of a cell whose field was not recorded
DIMENSIONS = ("country", "purpose", "gender", "birth_year", "status", "month")
UNIT_SOURCE = "country"  # the dimension whose cells, summed by unit, give the unit table
NOT_COUNTED = (MERGED, REJECTED)
NOT_REGISTERED = (MERGED, REJECTED, SUBMITTED)
AGE_BANDS = ((0, 17, "0-17"), (18, 29, "18-29"), (30, 39, "30-39"), (40, 49, "40-49"),
             (50, 59, "50-59"), (60, 200, "60+"))
MONTHS_SHOWN = 24
DEFAULT_LIVE_LIMIT = 20_000
DEFAULT_CACHE_SECONDS = 300
# A stale cache that was rebuilt faster than this is rebuilt by the page itself;
# a slower one by the job worker (or `flask registry stats-refresh` from cron).
INLINE_REBUILD_SECONDS = 0.5
# Vietnam has had no daylight saving time: months are counted in UTC+7.
VIETNAM_OFFSET_HOURS = 7

_refresh_asked_at = 0.0  # per process, so that one stale cache asks for one rebuild


@dataclass
class Cell:
    """One figure: its key (a code), its count, or why it is hidden."""

    key: str
    raw: int
    hidden: str | None = None  # SMALL or COMPLEMENT

    @property
    def count(self) -> int | None:
        """Return the count a user may see; None when it is hidden."""
        return None if self.hidden else self.raw

    def as_dict(self) -> dict:
        return {"key": self.key, "count": self.count, "hidden": self.hidden}


@dataclass
class Table:
    """The figures of one breakdown, largest first unless the order matters."""

    name: str
    cells: list[Cell]
    total: Cell | None = None

    def as_dict(self) -> dict:
        return {"cells": [cell.as_dict() for cell in self.cells],
                "total": self.total.as_dict() if self.total else None}


@dataclass
class Figures:
    """Everything the dashboard shows, already scoped and suppressed."""

    total: Cell
    tables: dict[str, Table]
    is_suppressed: bool
    as_of: object | None = None  # when cached cells were built; None when counted live
    district_of: dict[str, str] = field(default_factory=dict)  # unit code → district


# Figures -----------------------------------------------------------------------

def figures_for(user) -> Figures:
    """Return the dashboard's figures for user: their scope, suppressed if they must be."""
    value_sums, unit_sums, as_of = cell_sums(scope_for(user))
    return figures_from_sums(value_sums, unit_sums, suppress=not may_see_exact(user),
                             as_of=as_of)


def scope_for(user) -> set[str] | None:
    """Return the units whose people user may count; None means the whole province."""
    if not user.can("people.read"):
        return None  # aggregates of the whole province, always suppressed
    from registry.people import operations as people

    return people.scope_of(user)


def may_see_exact(user) -> bool:
    """Tell whether user sees counts below 5 (those who may read the records anyway)."""
    return user.can("people.read")


def build_figures(rows: list[tuple], suppress: bool, as_of=None) -> Figures:
    """Return Figures from (dimension, unit, value, count) rows."""
    return figures_from_sums(*sums_of_rows(rows), suppress=suppress, as_of=as_of)


def figures_from_sums(value_sums: dict[str, dict[str, int]], unit_sums: dict[str, int],
                      suppress: bool, as_of=None) -> Figures:
    """Return Figures from the counts by value of each dimension and by unit."""
    district_of = former_district_of_units()
    sums = {name: value_sums.get(name, {}) for name in DIMENSIONS}
    tables = {
        "country": _table("country", sums["country"]),
        "unit": _table("unit", unit_sums),
        "district": _table("district", _group_units(unit_sums, district_of)),
        "purpose": _table("purpose", sums["purpose"]),
        "gender": _table("gender", sums["gender"]),
        "age": _table("age", _age_bands(sums["birth_year"]), keep_order=True),
        "status": _table("status", sums["status"]),
        "month": _table("month", _last_months(sums["month"]), keep_order=True,
                        with_total=False),
    }
    total = Cell("total", sum(unit_sums.values()))
    if suppress:
        _suppress_all(tables, total, district_of)
    return Figures(total=total, tables=tables, is_suppressed=suppress, as_of=as_of,
                   district_of=district_of)


def sums_of_rows(rows) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Return (counts by dimension and value, active people by unit) of cell rows."""
    value_sums: dict[str, dict[str, int]] = {name: {} for name in DIMENSIONS}
    unit_sums: dict[str, int] = {}
    for dimension, unit, value, count in rows:
        values = value_sums.setdefault(dimension, {})
        values[value] = values.get(value, 0) + count
        if dimension == UNIT_SOURCE:
            unit_sums[unit] = unit_sums.get(unit, 0) + count
    return value_sums, unit_sums


def _table(name: str, sums: dict[str, int], keep_order: bool = False,
           with_total: bool = True) -> Table:
    items = list(sums.items())
    if not keep_order:
        # Largest first; "not recorded" last whatever its size.
        items.sort(key=lambda item: (item[0] == UNKNOWN, -item[1], item[0]))
    # Months and age bands keep their empty rows, so that a gap shows as a gap.
    cells = [Cell(key, count) for key, count in items
             if count or (keep_order and key != UNKNOWN)]
    total = Cell("total", sum(sums.values())) if with_total else None
    return Table(name, cells, total)


def _group_units(units: dict[str, int], district_of: dict[str, str]) -> dict[str, int]:
    sums: dict[str, int] = {}
    for unit, count in units.items():
        district = district_of.get(unit, UNKNOWN)
        sums[district] = sums.get(district, 0) + count
    return sums


def _age_bands(by_year: dict[str, int]) -> dict[str, int]:
    this_year = utcnow().year
    bands = {label: 0 for _low, _high, label in AGE_BANDS}
    bands[UNKNOWN] = 0
    for year, count in by_year.items():
        bands[age_band(this_year, int(year) if year.isdigit() else None)] += count
    return bands


def age_band(this_year: int, birth_year: int | None) -> str:
    """Return the label of the age band of someone born in birth_year."""
    if birth_year is None:
        return UNKNOWN
    age = this_year - birth_year
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return UNKNOWN


def _last_months(by_month: dict[str, int]) -> dict[str, int]:
    now = utcnow().astimezone(VIETNAM)
    year, month = now.year, now.month
    months = []
    for _step in range(MONTHS_SHOWN):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return {key: by_month.get(key, 0) for key in reversed(months)}


# Small cells ---------------------------------------------------------------------

def _suppress_all(tables: dict[str, Table], total: Cell, district_of: dict) -> None:
    for name, table in tables.items():
        if name == "unit":
            groups: dict[str, list[Cell]] = {}
            for cell in table.cells:
                groups.setdefault(district_of.get(cell.key, UNKNOWN), []).append(cell)
            for group in groups.values():
                suppress_cells(group)
        else:
            suppress_cells(table.cells)
        if table.total is not None:
            _suppress_total(table.total)
    _suppress_total(total)


def suppress_cells(cells: list[Cell]) -> None:
    """Hide counts below THRESHOLD, and enough others that none can be derived."""
    hidden = [cell for cell in cells if 0 < cell.raw < THRESHOLD]
    for cell in hidden:
        cell.hidden = SMALL
    if not hidden:
        return
    others = sorted((cell for cell in cells if cell.hidden is None and cell.raw > 0),
                    key=lambda cell: cell.raw)
    while others and (len(hidden) < 2 or sum(cell.raw for cell in hidden) < THRESHOLD):
        cell = others.pop(0)
        cell.hidden = COMPLEMENT
        hidden.append(cell)


def _suppress_total(total: Cell) -> None:
    if 0 < total.raw < THRESHOLD:
        total.hidden = SMALL


# Former districts ------------------------------------------------------------------

def former_district_of_units() -> dict[str, str]:
    """Return {unit code: former district code}, by where most of its communes came from.

    A current unit may have taken communes of two former districts; it is
    grouped under the district that gave it most of its communes (counting only
    the commune's main successor), the lower code on a tie.
    """
    from registry.places.models import FormerCommune, Succession

    query = (select(Succession.unit_code, FormerCommune.district_code, func.count())
             .join(FormerCommune, FormerCommune.code == Succession.former_code)
             .where(Succession.is_main)
             .group_by(Succession.unit_code, FormerCommune.district_code))
    best: dict[str, tuple[int, str]] = {}
    for unit, district, count in db.session.execute(query):
        if unit not in best or (-count, district) < (-best[unit][0], best[unit][1]):
            best[unit] = (count, district)
    return {unit: district for unit, (_count, district) in best.items()}


# Cells: counted live or read from the cache ---------------------------------------

def cell_sums(units: set[str] | None) -> tuple[dict, dict, object | None]:
    """Return (counts by dimension and value, by unit, built_at or None) within units."""
    if _is_small():
        return (*sums_of_rows(live_rows(units)), None)
    build = latest_build()
    if build is None or (_is_stale(build) and build.seconds < INLINE_REBUILD_SECONDS):
        build = rebuild_cells()
        if _in_reading_request():
            # The page's own transaction began before the rebuild: read it anew.
            with db.engine.connect() as connection:
                return (*cached_sums(units, connection), build.built_at)
    elif _is_stale(build):
        ask_for_refresh()
    return (*cached_sums(units), build.built_at)


def live_rows(units: set[str] | None) -> list[tuple]:
    """Count the cells from the person table now."""
    rows = []
    for dimension in DIMENSIONS:
        query = tally_query(dimension, db.engine.dialect.name)
        if units is not None:
            query = query.where(Person.hometown_code.in_(sorted(units)))
        rows.extend((dimension, unit, value, count)
                    for unit, value, count in db.session.execute(query))
    return rows


def cached_sums(units: set[str] | None, connection=None) -> tuple[dict, dict]:
    """Sum the cached cells by dimension and value, and by unit, in the database."""
    where = [StatCell.unit_code.in_(sorted(units))] if units is not None else []
    by_value = (select(StatCell.dimension, StatCell.value, func.sum(StatCell.count))
                .where(*where).group_by(StatCell.dimension, StatCell.value))
    by_unit = (select(StatCell.unit_code, func.sum(StatCell.count))
               .where(StatCell.dimension == UNIT_SOURCE, *where)
               .group_by(StatCell.unit_code))
    reader = connection or db.session
    value_sums: dict[str, dict[str, int]] = {name: {} for name in DIMENSIONS}
    for dimension, value, count in reader.execute(by_value):
        value_sums.setdefault(dimension, {})[value] = int(count)
    unit_sums = {unit: int(count) for unit, count in reader.execute(by_unit)}
    return value_sums, unit_sums


def tally_query(dimension: str, dialect: str):
    """Return the select of (unit, value, count) for one dimension of the figures."""
    value = _dimension_value(dimension, dialect)
    unit = func.coalesce(Person.hometown_code, UNKNOWN)
    query = select(unit, func.coalesce(value, UNKNOWN), func.count()).select_from(Person)
    if dimension == "status":
        query = query.where(Person.status.not_in(NOT_COUNTED))
    elif dimension == "month":
        query = query.where(Person.status.not_in(NOT_REGISTERED))
    else:
        query = query.where(Person.status == ACTIVE)
    return query.group_by(Person.hometown_code, value)


def _dimension_value(dimension: str, dialect: str):
    if dimension == "birth_year":
        return cast(Person.birth_year, String)
    if dimension == "month":
        return month_of(Person.created_at, dialect)
    return {"country": Person.country_code, "purpose": Person.purpose,
            "gender": Person.gender, "status": Person.status}[dimension]


def month_of(column, dialect: str):
    """Return the SQL for "YYYY-MM" of a UTC timestamp column, in Vietnam time."""
    if dialect == "postgresql":
        shifted = column + text(f"interval '{VIETNAM_OFFSET_HOURS} hours'")
        return func.to_char(shifted, "YYYY-MM")
    return func.strftime("%Y-%m", column, f"+{VIETNAM_OFFSET_HOURS} hours")


def rebuild_cells() -> StatBuild:
    """Count every cell again from the person table into stat_cell; return the build.

    The counting (seconds at a million people) reads in a transaction that takes
    no write lock, so that SQLite writers go on meanwhile; only replacing the
    cells writes. A page that only reads writes them in a transaction of its own,
    committed at once; anywhere else the caller's transaction holds the
    write (commit it).
    """
    started = time.perf_counter()
    rows = _count_cells()
    if _in_reading_request():
        with db.engine.begin() as connection:
            return _store(connection, rows, started)
    return _store(db.session.connection(), rows, started)


def _count_cells() -> list[dict]:
    # Outside a request SQLite begins every transaction as a writer (see
    # registry.core.setup); a reading request context makes this one a reader.
    reading = nullcontext() if has_request_context() else \
        current_app.test_request_context("/", method="GET")
    with reading, db.engine.connect() as connection:
        dialect = connection.dialect.name
        return [{"dimension": dimension, "unit_code": unit, "value": value, "count": count}
                for dimension in DIMENSIONS
                for unit, value, count in connection.execute(tally_query(dimension, dialect))]


def _store(connection, rows: list[dict], started: float) -> StatBuild:
    connection.execute(delete(StatCell))
    if rows:
        connection.execute(insert(StatCell), rows)
    build = StatBuild(built_at=utcnow(), seconds=round(time.perf_counter() - started, 3),
                      cell_count=len(rows))  # not in the session: a copy of the row
    connection.execute(insert(StatBuild).values(
        built_at=build.built_at, seconds=build.seconds, cell_count=build.cell_count))
    log.info("Statistics cells rebuilt: %d cells in %.1f s", build.cell_count, build.seconds)
    return build


def _in_reading_request() -> bool:
    return has_request_context() and request.method in ("GET", "HEAD") and \
        not g.get("writes")


def latest_build() -> StatBuild | None:
    """Return the last rebuild of the cached cells, or None if there was none."""
    return db.session.scalar(select(StatBuild).order_by(StatBuild.id.desc()).limit(1))


def ask_for_refresh() -> None:
    """Queue a background rebuild of the cells, at most once per cache period."""
    global _refresh_asked_at
    now = time.monotonic()
    if now - _refresh_asked_at < _cache_seconds():
        return
    _refresh_asked_at = now
    from registry.reports import jobs

    jobs.refresh_cells()
    log.info("Statistics cells are stale; a rebuild was queued")


def _is_small() -> bool:
    limit = current_app.config.get("STATS_LIVE_LIMIT", DEFAULT_LIVE_LIMIT)
    # max(id) reads one index entry; it over-counts people, which errs towards the cache.
    highest = db.session.scalar(select(func.max(Person.id))) or 0
    return highest <= limit


def _is_stale(build: StatBuild) -> bool:
    return utcnow() - as_utc(build.built_at) > timedelta(seconds=_cache_seconds())


def _cache_seconds() -> int:
    return current_app.config.get("STATS_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
