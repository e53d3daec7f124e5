"""Spreadsheet import of 100,000 synthetic rows, on SQLite and PostgreSQL.

Writes a CSV of synthetic people (registry.people.demo, no real person) with
about 2 % invalid rows and 1 % duplicates, then runs the dry run and the import
through the code path of `flask --app wsgi registry import` on a fresh
database. The peer is the naive import: people.operations.create_person and
intake.operations.open_submission row by row, one ORM flush each, timed on a
5,000-row sample and scaled up.

    .venv/bin/python bench/import_bench.py --rows 100000 --db both
"""
import argparse
import csv
import os
import random
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from common import OUT, db, make_app, peak_memory_mb, postgres_url, sqlite_url

TARGET_SECONDS = 60
PEER_SAMPLE = 5000
GENDERS = {"male": ("M", "Nam", "male", "m"), "female": ("F", "Nữ", "female", "NỮ")}
COUNTRY_NAMES = {"JP": ("JP", "Japan", "Nhật Bản"), "KR": ("KR", "Hàn Quốc", "Korea"),
                 "TW": ("TW", "Đài Loan", "Taiwan"), "DE": ("DE", "Đức", "Germany")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
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
        run(kind, url, args.rows)
    print(f"\npeak memory of the whole run: {peak_memory_mb():.0f} MB")


def run(kind: str, url: str, count: int) -> None:
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

        started = time.perf_counter()
        batch, _is_new = operations.start_batch(os.path.basename(path), content, None)
        operations.check_batch(batch, content)
        db.session.commit()
        checked = time.perf_counter() - started
        print(f"  dry run: {checked:.1f} s ({count / checked:,.0f} rows/s): "
              f"{batch.valid_count:,} valid, {batch.invalid_count:,} invalid, "
              f"{batch.duplicate_count:,} duplicates; peak memory {peak_memory_mb():.0f} MB",
              flush=True)

        started = time.perf_counter()
        operations.import_batch(batch, None, after_chunk=db.session.commit)
        db.session.commit()
        imported = time.perf_counter() - started
        print(f"  import: {imported:.1f} s ({batch.imported_count / imported:,.0f} rows/s): "
              f"{batch.imported_count:,} people; peak memory {peak_memory_mb():.0f} MB",
              flush=True)
        total = checked + imported
        verdict = "meets" if total < TARGET_SECONDS else "MISSES"
        print(f"  dry run + import: {total:.1f} s, {verdict} the {TARGET_SECONDS} s target")

        peer = naive_seconds(batch, PEER_SAMPLE)
        scaled = peer * batch.imported_count / PEER_SAMPLE
        print(f"  peer, create_person + open_submission row by row: {peer:.1f} s for "
              f"{PEER_SAMPLE:,} rows ({PEER_SAMPLE / peer:,.0f} rows/s), about "
              f"{scaled:.0f} s for {batch.imported_count:,}: "
              f"{scaled / imported:.0f}× the bulk import", flush=True)


def naive_seconds(batch, sample: int) -> float:
    """Return the time to create sample people of batch one ORM flush at a time."""
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
    return time.perf_counter() - started


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
