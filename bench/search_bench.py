"""People search at 1,000,000 records, on SQLite and PostgreSQL.

Seeds synthetic people (cached between runs), then times, as the median of 20
runs, the two queries behind the people list: a name search and a filtered
list, each with its capped count and its first page. A naive scan of the same
folded names (LIKE '%word%' on every row) runs beside them as the peer.

    .venv/bin/python bench/search_bench.py --people 1000000 --db both
"""
import argparse

from sqlalchemy import and_, func, select, text

from common import db, make_app, median_ms, peak_memory_mb, postgres_url, sqlite_url, stopwatch

TARGET_MS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--fresh", action="store_true", help="seed again even if cached")
    args = parser.parse_args()

    for kind in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        name = f"bench_people_{args.people}"
        url = sqlite_url(name) if kind == "sqlite" else postgres_url(name, args.fresh)
        run(kind, url, args.people, args.fresh)
    print(f"peak memory: {peak_memory_mb():.0f} MB")


def run(kind: str, url: str, count: int, fresh: bool) -> None:
    print(f"\n== {kind}, {count:,} people", flush=True)
    app = make_app(url)
    with app.app_context():
        prepare(count, fresh)
        report(kind)


def prepare(count: int, fresh: bool) -> None:
    from registry.core import schema
    from registry.people import search
    from registry.people.demo import PeopleGenerator, insert_people
    from registry.people.models import Person
    from registry.places.models import Unit

    schema.reset(drop_first=fresh)
    schema.load_reference_data()
    # A database seeded by an older revision gets the current index.
    search.install(db.session.connection())
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    have = db.session.scalar(select(func.count(Person.id)))
    if have >= count:
        return
    generator = PeopleGenerator(list(db.session.scalars(select(Unit.code))), seed=have)
    with stopwatch(f"seeding {count - have:,} people"):
        for start in range(have, count, 20_000):
            rows = [generator.person(n) for n in range(start, min(start + 20_000, count))]
            insert_people(db.session.connection(), rows)
            db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def report(kind: str) -> None:
    from registry.people import search
    from registry.people.models import Person

    cases = {
        "name search 'nguyen thi huong'": search.Criteria(q="Nguyễn Thị Hương"),
        "name search 'le van hung', Japan": search.Criteria(q="le van hung", country="JP"),
        "worst case: half-typed 'trinh th'": search.Criteria(q="trinh th"),
        "filtered list: Korea, labour, by last change": search.Criteria(
            country="KR", purpose="labour", sort="updated"),
        "filtered list: one commune, by name": search.Criteria(hometown=_a_unit()),
        "phone search": search.Criteria(q=_a_phone()),
    }
    for label, criteria in cases.items():
        total = {}

        def list_page(criteria=criteria, total=total):
            query = search.build_query(criteria, db.engine.dialect.name)
            total["n"] = search.count_capped(db.session, query)
            db.session.scalars(query.limit(50)).all()

        ms = median_ms(list_page)
        verdict = "ok" if ms < TARGET_MS else "SLOW"
        count, capped = total["n"]
        print(f"  {label:48s} {ms:7.1f} ms  ({count:,}{'+' if capped else ''} matches) "
              f"{verdict}", flush=True)

    words = ["nguyen", "thi", "huong"]
    naive = select(func.count(Person.id)).where(and_(*[
        Person.name_folded.like(f"%{word}%") for word in words]))
    ms = median_ms(lambda: db.session.scalar(naive), runs=5, warmup=1)
    print(f"  {'peer: naive LIKE scan, same name':48s} {ms:7.1f} ms")


def _a_unit() -> str:
    from registry.people.models import Person

    return db.session.scalar(select(Person.hometown_code).limit(1))


def _a_phone() -> str:
    from registry.people.models import Phone

    return "0" + db.session.scalar(select(Phone.national_digits).limit(1))


if __name__ == "__main__":
    main()
