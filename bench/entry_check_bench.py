"""The entry-time duplicate check at 1,000,000 people, on SQLite and PostgreSQL.

Works on a copy of the search benchmark's database (bench_people_N, seeded by
bench/search_bench.py), writes the match keys there once, then times the check
an officer's form runs before saving: 200 probes made from existing records
with the errors people make (no diacritics, Western order, year only, a phone
changed) and 200 new people who match no one. Prints the median and p95.

    .venv/bin/python bench/search_bench.py --people 1000000 --db sqlite  # once
    .venv/bin/python bench/entry_check_bench.py --people 1000000 --db sqlite
"""
import argparse
import os
import random
import sqlite3
import statistics
import time

from sqlalchemy import func, select, text

from common import (OUT, db, make_app, peak_memory_mb, postgres_url, sqlite_url,
                    stopwatch)

TARGET_MS = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--own", action="store_true",
                        help="seed a database of our own (SQLite, no search index) "
                        "instead of copying the search benchmark's")
    args = parser.parse_args()

    for kind in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        if args.own:
            run(kind, seed_own(kind, args.people), args.probes)
            continue
        url = _copy(kind, f"bench_people_{args.people}")
        if url is None:
            print(f"\n== {kind}: no bench_people_{args.people} database; run search_bench.py")
            continue
        run(kind, url, args.probes)
    print(f"peak memory: {peak_memory_mb():.0f} MB")


def run(kind: str, url: str, probes: int) -> None:
    from registry.matching import operations as matching

    app = make_app(url)
    with app.app_context():
        prepare()
        people = db.session.scalar(select(func.count()).select_from(matching.KEY_TABLE))
        print(f"\n== {kind}, {people:,} candidates with match keys", flush=True)
        existing, new = _probes(probes)
        for label, cases in (("existing person, typed differently", existing),
                             ("new person, no match", new)):
            samples, found = _time(cases)
            print(f"  {label:38s} median {statistics.median(samples):6.1f} ms  "
                  f"p95 {_p95(samples):6.1f} ms  max {max(samples):6.1f} ms  "
                  f"({found} of {len(cases)} found a match) "
                  f"{'ok' if _p95(samples) < TARGET_MS else 'SLOW'}", flush=True)


def prepare() -> None:
    from registry.core import schema
    from registry.matching import operations as matching
    from registry.people.models import Person

    schema.reset(drop_first=False)  # adds the matching tables to an older database
    # A database made before this index joined the migration gets it here: without
    # it, the names_hometown look-up scans every "huong" (60 ms at 1M).
    db.session.execute(text("CREATE INDEX IF NOT EXISTS ix_match_key_names_home "
                            "ON match_key (given, family, hometown_code)"))
    db.session.commit()
    keyed = db.session.scalar(select(func.count()).select_from(matching.KEY_TABLE))
    candidates = db.session.scalar(select(func.count(Person.id)).where(
        Person.status.in_(matching.CANDIDATE_STATUSES)))
    if keyed < candidates:
        with stopwatch(f"writing the match keys of {candidates:,} people"):
            matching.rebuild_keys()
            db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def seed_own(kind: str, count: int) -> str:
    """Return the URL of a database (kind) of count synthetic people with their keys.

    The same generator as the search benchmark's, without its full-text index,
    which the duplicate check never reads and which slows seeding down most.
    """
    from registry.core import schema
    from registry.people.demo import PeopleGenerator, insert_people
    from registry.people.models import Person
    from registry.places.models import Unit

    name = f"match_people_{count}"
    url = sqlite_url(name) if kind == "sqlite" else postgres_url(name, False)
    app = make_app(url)
    with app.app_context():
        schema.reset(drop_first=False)
        schema.load_reference_data()
        if kind == "sqlite":
            for trigger in ("person_fts_insert", "person_fts_delete", "person_fts_update"):
                db.session.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        else:
            db.session.execute(text("DROP INDEX IF EXISTS ix_person_name_words"))
        db.session.commit()
        have = db.session.scalar(select(func.count(Person.id)))
        if have < count:
            generator = PeopleGenerator(list(db.session.scalars(select(Unit.code))), seed=have)
            with stopwatch(f"seeding {count - have:,} people with their match keys"):
                for start in range(have, count, 20_000):
                    rows = [generator.person(n)
                            for n in range(start, min(start + 20_000, count))]
                    insert_people(db.session.connection(), rows)
                    db.session.commit()
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    return url


def _probes(count: int) -> tuple[list[dict], list[dict]]:
    from registry.core.text import fold
    from registry.matching import operations as matching
    from registry.people.demo import PeopleGenerator
    from registry.people.models import Person
    from registry.places.models import Unit

    pick = random.Random(4)
    top = db.session.scalar(select(func.max(matching.KEY_TABLE.c.person_id)))
    ids = pick.sample(range(1, top + 1), count * 2)
    query = select(matching.KEY_TABLE.c.person_id).where(
        matching.KEY_TABLE.c.person_id.in_(ids)).limit(count)
    existing = []
    for person_id in db.session.scalars(query):
        person = db.session.get(Person, person_id)
        data = _data_of(person)
        change = pick.choice(("fold", "western", "year", "phone"))
        if change == "fold":
            data["full_name"] = fold(data["full_name"]).title()
        elif change == "western":
            words = data["full_name"].split()
            data["full_name"] = " ".join([words[-1], *words[1:-1], words[0]])
        elif change == "year":
            data["birth"] = (data["birth"][0], None, None)
        else:
            data["phones"] = [f"+8190{pick.randint(10_000_000, 99_999_999)}"]
        existing.append(data)
    generator = PeopleGenerator(list(db.session.scalars(select(Unit.code))), seed=99)
    new = [_data_of_row(generator.person(n)) for n in range(count)]
    db.session.expunge_all()
    return existing, new


def _data_of(person) -> dict:
    return {"full_name": person.full_name, "gender": person.gender,
            "birth": (person.birth_year, person.birth_month, person.birth_day),
            "hometown": (person.hometown_code, None, None),
            "country_code": person.country_code, "passport_number": person.passport_number,
            "phones": [phone.number for phone in person.phones],
            "emails": [email.address for email in person.emails]}


def _data_of_row(row: dict) -> dict:
    return {"full_name": row["full_name"], "gender": row["gender"],
            "birth": (row["birth_year"], row["birth_month"], row["birth_day"]),
            "hometown": (row["hometown_code"], None, None),
            "country_code": row["country_code"], "passport_number": row["passport_number"],
            "phones": [e164 for _local, e164, _digits in row["phones"]],
            "emails": row["emails"]}


def _time(cases: list[dict]) -> tuple[list[float], int]:
    from registry.matching import operations as matching

    for data in cases[:5]:  # warm the caches and the model
        matching.likely_matches(data, None)
    samples, found = [], 0
    for data in cases:
        started = time.perf_counter()
        matches = matching.likely_matches(data, None)
        samples.append((time.perf_counter() - started) * 1000)
        found += bool(matches)
        db.session.rollback()
        db.session.expunge_all()
    return samples, found


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _copy(kind: str, name: str) -> str | None:
    """Return the URL of a copy of the search benchmark's database, made once."""
    if kind == "sqlite":
        source = os.path.join(OUT, f"{name}.sqlite")
        target = os.path.join(OUT, f"entry_{name}.sqlite")
        if not os.path.exists(source):
            return None
        if not os.path.exists(target):
            with stopwatch(f"copying {name}"), sqlite3.connect(source) as original, \
                    sqlite3.connect(target) as copy:
                original.backup(copy)
        return sqlite_url(f"entry_{name}")
    return _copy_postgres(name)


def _copy_postgres(name: str) -> str | None:
    import psycopg

    from common import PG_ADMIN_URL

    target = f"entry_{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        have = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
        if name not in have:
            return None
        if target not in have:
            with stopwatch(f"copying {name}"):
                connection.execute(f'CREATE DATABASE "{target}" TEMPLATE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + target


if __name__ == "__main__":
    main()
