"""Spreadsheet import of 100,000 synthetic rows, on SQLite and PostgreSQL.

Writes a CSV of synthetic people (registry.people.demo, no real person) with
about 2 % invalid rows and 1 % duplicates, then runs the dry run and the import
through the code path of `flask --app wsgi registry import` on a fresh
database. Each step prints wall time, the process's CPU time, how long it
waited for a core (the machine is shared: wall minus that wait is about what
an idle machine would take) and, on PostgreSQL, the server's CPU time. The
registry starts empty, so the dry run finds no one who probably exists
already; a second dry run of 500 of the same people under other references
then times that search against the full registry. The peer is the naive import: people.operations.create_person and
intake.operations.open_submission row by row, one ORM flush each, timed on a
5,000-row sample and scaled up.

    .venv/bin/python bench/import_bench.py --rows 100000 --db both
"""
import argparse
import csv
import os
import random
import time
from dataclasses import astuple, dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common import OUT, db, make_app, peak_memory_mb, postgres_url, sqlite_url

TARGET_SECONDS = 60
PEER_SAMPLE = 5000
RECHECK_ROWS = 500
GENDERS = {"male": ("M", "Nam", "male", "m"), "female": ("F", "Nữ", "female", "NỮ")}
COUNTRY_NAMES = {"JP": ("JP", "Japan", "Nhật Bản"), "KR": ("KR", "Hàn Quốc", "Korea"),
                 "TW": ("TW", "Đài Loan", "Taiwan"), "DE": ("DE", "Đức", "Germany")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--no-peer", action="store_true",
                        help="Skip timing the naive row-by-row import.")
    args = parser.parse_args()

    for kind in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        name = f"bench_import_{args.rows}"
        if kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                path = os.path.join(OUT, name + ".sqlite" + suffix)
                if os.path.exists(path):
                    os.remove(path)
            url = sqlite_url(name)
        else:
            url = postgres_url(name, fresh=True)
        run(kind, url, args.rows, peer=not args.no_peer)
    print(f"\npeak memory of the whole run: {peak_memory_mb():.0f} MB")


def run(kind: str, url: str, count: int, peer: bool = True) -> None:
    from registry.core import schema
    from registry.imports import operations

    print(f"\n== {kind}, {count:,} rows", flush=True)
    app = make_app(url)
    with app.app_context():
        schema.reset(drop_first=True)
        schema.load_reference_data()
        db.session.commit()
        path = write_csv(count)
        with open(path, "rb") as handle:
            content = handle.read()
        print(f"  file: {len(content) / 1e6:.1f} MB", flush=True)

        # CPU time beside wall time: the machine is shared. Also how long the
        # process waited for a core, and the PostgreSQL server's own CPU time,
        # both read from /proc (same machine).
        clock = Clock()
        batch, _is_new = operations.start_batch(os.path.basename(path), content, None)
        operations.check_batch(batch, content)
        db.session.commit()
        checked = clock.lap()
        print(f"  dry run: {checked} ({count / checked.wall:,.0f} rows/s): "
              f"{batch.valid_count:,} valid, {batch.invalid_count:,} invalid, "
              f"{batch.duplicate_count:,} duplicates; peak memory {peak_memory_mb():.0f} MB",
              flush=True)

        clock = Clock()
        operations.import_batch(batch, None, after_chunk=db.session.commit)
        db.session.commit()
        imported = clock.lap()
        print(f"  import: {imported} ({batch.imported_count / imported.wall:,.0f} rows/s): "
              f"{batch.imported_count:,} people; peak memory {peak_memory_mb():.0f} MB",
              flush=True)
        total = checked + imported
        verdict = "meets" if total.wall < TARGET_SECONDS else "MISSES"
        print(f"  dry run + import: {total}; {verdict} the {TARGET_SECONDS} s target",
              flush=True)
        check_again(content, RECHECK_ROWS)
        if peer:
            compare_with_peer(batch, imported.wall)


@dataclass
class Times:
    wall: float
    cpu: float
    queued: float  # waiting for a core
    server: float  # PostgreSQL's backend, 0 on SQLite

    def __add__(self, other: "Times") -> "Times":
        return Times(*(a + b for a, b in zip(astuple(self), astuple(other))))

    def __str__(self) -> str:
        server = f", server CPU {self.server:.1f} s" if self.server else ""
        return (f"{self.wall:.1f} s, CPU {self.cpu:.1f} s{server}, "
                f"waiting for a core {self.queued:.1f} s")


class Clock:
    """Times a step: wall, CPU, run-queue wait and database server CPU."""

    def __init__(self):
        self.start = self._now()

    def lap(self) -> Times:
        return Times(*(b - a for a, b in zip(self.start, self._now())))

    @staticmethod
    def _now() -> tuple:
        return time.perf_counter(), time.process_time(), queued_seconds(), server_cpu()


def queued_seconds() -> float:
    """Return how long this process has waited on a run queue so far."""
    try:
        with open("/proc/self/schedstat") as handle:
            return int(handle.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def server_cpu() -> float:
    """Return the CPU seconds used so far by the PostgreSQL backend of the session, or 0."""
    from sqlalchemy import text

    if db.session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.commit()
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check_again(content: bytes, count: int) -> None:
    """Time the dry run of count imported people under other references."""
    from registry.imports import operations
    from registry.imports.models import PROBABLY_EXISTS

    lines = content.decode("utf-8").splitlines()
    again = "\n".join([lines[0], *(line.replace("IMP-", "AGAIN-", 1)
                                   for line in lines[1:count + 1])]).encode("utf-8")
    clock = Clock()
    batch, _is_new = operations.start_batch("again.csv", again, None)
    operations.check_batch(batch, again)
    db.session.commit()
    found = operations.status_counts(batch).get(PROBABLY_EXISTS, 0)
    print(f"  dry run of {count:,} of them again under other references: {clock.lap()}; "
          f"{found:,} probably in the registry already", flush=True)


def compare_with_peer(batch, imported: float) -> None:
    """Print the naive import's time on a sample, scaled to the batch."""
    peer, sample = naive_seconds(batch, PEER_SAMPLE)
    scaled = peer * batch.imported_count / sample
    print(f"  peer, create_person + open_submission row by row: {peer:.1f} s for "
          f"{sample:,} rows ({sample / peer:,.0f} rows/s), about "
          f"{scaled:.0f} s for {batch.imported_count:,}: "
          f"{scaled / imported:.0f}× the bulk import", flush=True)


def naive_seconds(batch, sample: int) -> tuple[float, int]:
    """Return (seconds, people) to create up to sample people of batch one flush each."""
    from registry.imports.models import ImportRow
    from registry.intake.operations import open_submission
    from registry.people.normalise import BirthDate
    from registry.people.operations import create_person

    query = (select(ImportRow.data).where(ImportRow.batch_id == batch.id,
                                          ImportRow.person_id.is_not(None))
             .order_by(ImportRow.row_number).limit(sample))
    rows = list(db.session.scalars(query))
    db.session.commit()
    started = time.perf_counter()
    for number, data in enumerate(rows, start=1):
        person = create_person({
            **data, "birth": BirthDate(*(data["birth"] or (None,))),
            "hometown": tuple(data["hometown"]), "phones": [tuple(p) for p in data["phones"]],
            "associations": []}, None, "import", status="submitted")
        try:
            with db.session.begin_nested():
                open_submission(person, "import", None, batch_id=batch.id)
        except IntegrityError:  # intake's random reference was taken: draw again
            open_submission(person, "import", None, batch_id=batch.id)
        if number % 1000 == 0:
            db.session.commit()
    db.session.commit()
    return time.perf_counter() - started, len(rows)


def write_csv(count: int) -> str:
    """Write count synthetic rows (some invalid, some repeated) and return the path."""
    from registry.people.demo import PeopleGenerator
    from registry.places.models import Unit

    units = list(db.session.scalars(select(Unit).order_by(Unit.code)))
    db.session.commit()
    by_code = {unit.code: unit for unit in units}
    generator = PeopleGenerator(list(by_code), seed=2026)
    pick = random.Random(7)
    path = os.path.join(OUT, f"import_{count}.csv")
    written: list[list[str]] = []
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Mã tham chiếu", "Họ và tên", "Giới tính", "Ngày sinh", "Quê quán",
                         "Nước cư trú", "Thành phố", "Số điện thoại", "Email",
                         "Số hộ chiếu", "Nghề nghiệp"])
        for number in range(count):
            roll = pick.random()
            if roll < 0.01 and written:
                line = list(pick.choice(written))  # the same row sent twice
            else:
                line = row(generator.person(number), number, by_code, pick)
                if roll > 0.98:
                    spoil(line, pick)
            written.append(line)
            if len(written) > 1000:
                written.pop(0)
            writer.writerow(line)
    return path


def row(person: dict, number: int, units: dict, pick: random.Random) -> list[str]:
    unit = units[person["hometown_code"]]
    hometown = pick.choice((unit.full_name, unit.name))
    year, month, day = person["birth_year"], person["birth_month"], person["birth_day"]
    if day:
        born = pick.choice((f"{day:02d}/{month:02d}/{year}", f"{year}-{month:02d}-{day:02d}"))
    else:
        born = f"{year}-{month:02d}" if month else str(year)
    country = person["country_code"]
    local, _e164, _digits = person["phones"][0]
    return [f"IMP-{number:07d}", person["full_name"], pick.choice(GENDERS[person["gender"]]),
            born, hometown, pick.choice(COUNTRY_NAMES.get(country, (country,))),
            person["city"], local, person["emails"][0] if person["emails"] else "",
            person["passport_number"] or "", person["occupation"]]


def spoil(line: list[str], pick: random.Random) -> None:
    """Make a row invalid the way spreadsheets often are."""
    column, value = pick.choice(((3, "31/02/1990"), (4, "Xã Không Có"), (1, "<b>Tên</b>"),
                                 (7, "12"), (5, "Atlantis")))
    line[column] = value


if __name__ == "__main__":
    main()
