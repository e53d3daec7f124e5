"""The statistics dashboard and the annual report at 1,000,000 people.

Seeds its own database (bench_dashboard_N): 50,000 synthetic people from the demo
generator, copied in SQL with their first history versions and shifted entry
dates up to N (the generator alone takes an hour for a million on a busy
machine). Then it times, as medians: counting the dashboard's cells live from
the person table (the path small registries take), rebuilding the cached cells,
the figures read from the cache for an officer, a district official and a
viewer, the whole /dashboard page over HTTP, and building an annual report
twice: with a cut-off of today (every record read as it is) and of yesterday
with a tenth of the records changed since (read from their history).

    .venv/bin/python bench/dashboard_bench.py --people 1000000 --db sqlite
"""
import argparse
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text

from common import db, make_app, median_ms, peak_memory_mb, postgres_url, sqlite_url, stopwatch

TARGET_MS = 500
BASE_PEOPLE = 50_000
REPORT_TARGET_S = 60
PASSWORD = "correct horse battery staple"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    for kind in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        name = f"bench_dashboard_{args.people}"
        url = sqlite_url(name) if kind == "sqlite" else postgres_url(name, fresh=False)
        run(kind, url, args.people, args.runs)
    print(f"peak memory: {peak_memory_mb():.0f} MB")


def run(kind: str, url: str, count: int, runs: int) -> None:
    print(f"\n== {kind}, {count:,} people", flush=True)
    app = make_app(url)
    app.config["STATS_LIVE_LIMIT"] = 0  # time the cache whatever the size
    with app.app_context():
        prepare(count)
        users = bench_users()
        time_cells(runs)
        time_figures(users, runs)
    time_pages(app, users, runs)
    with app.app_context():
        time_annual_report(users["officer"])


def prepare(count: int) -> None:
    from registry.core import schema
    from registry.people.demo import PeopleGenerator, insert_people
    from registry.people.models import Person
    from registry.places.models import Unit

    schema.reset()
    schema.load_reference_data()
    db.session.commit()
    have = db.session.scalar(select(func.count(Person.id)))
    if have >= count:
        return
    base = min(count, BASE_PEOPLE)
    generator = PeopleGenerator(list(db.session.scalars(select(Unit.code))), seed=have)
    with stopwatch(f"seeding {max(base - have, 0):,} people with the generator"):
        for start in range(have, base, 10_000):
            rows = [generator.person(n) for n in range(start, min(start + 10_000, base))]
            insert_people(db.session.connection(), rows)
            db.session.commit()
    with stopwatch(f"copying them up to {count:,} people"):
        copy_people(max(have, base), count)
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def copy_people(have: int, count: int) -> None:
    """Copy the first BASE_PEOPLE people until there are count, entered on other days."""
    from registry.people import search
    from registry.people.models import Person

    columns = [column.name for column in Person.__table__.columns if column.name != "id"]
    dialect = db.engine.dialect.name
    search.uninstall(db.session.connection())  # SQLite: no name index while copying
    round_number = 0
    while have < count:
        round_number += 1
        batch = min(BASE_PEOPLE, count - have)
        days = (round_number * 97) % 1400
        shifted = (f"datetime(created_at, '-{days} days')" if dialect == "sqlite"
                   else f"created_at - interval '{days} days'")
        values = [shifted if name in ("created_at", "updated_at") else name
                  for name in columns]
        db.session.execute(text(
            f"INSERT INTO person ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM person WHERE id <= {BASE_PEOPLE} ORDER BY id LIMIT {batch}"))
        # The copies took the ids after have, in the order of the originals.
        db.session.execute(text(
            "INSERT INTO person_version (person_id, version, action, changed_at, snapshot) "
            f"SELECT person_id + {have}, version, action, changed_at, snapshot "
            f"FROM person_version WHERE person_id <= {batch}"))
        db.session.commit()
        have += batch
    search.install(db.session.connection())
    search.rebuild(db.session.connection())
    db.session.commit()


def bench_users() -> dict:
    """Return an officer, a district official of one former district and a viewer."""
    from registry.accounts import operations as accounts
    from registry.accounts.models import AREA_FORMER_DISTRICT, User
    from registry.places.models import FormerDistrict

    district = db.session.scalar(select(FormerDistrict.code).order_by(FormerDistrict.code))
    users = {}
    for role in ("officer", "district", "viewer"):
        email = f"bench-{role}@example.test"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            areas = [(AREA_FORMER_DISTRICT, district)] if role == "district" else []
            user, _ = accounts.create_user(email, role, f"Bench {role}", areas, PASSWORD)
        users[role] = user.id
    db.session.commit()
    return users


def time_cells(runs: int) -> None:
    from registry.reports import statistics

    ms = median_ms(lambda: statistics.live_rows(None), runs=3, warmup=1)
    print(f"  {'cells counted live from person (all dimensions)':52s} {ms:8.1f} ms", flush=True)
    for dimension in statistics.DIMENSIONS:
        query = statistics.tally_query(dimension, db.engine.dialect.name)
        ms = median_ms(lambda query=query: db.session.execute(query).all(), runs=3, warmup=1)
        print(f"    {dimension:50s} {ms:8.1f} ms", flush=True)

    started = time.perf_counter()
    build = statistics.rebuild_cells()
    db.session.commit()
    seconds = time.perf_counter() - started
    print(f"  {'rebuilding the cached cells':52s} {seconds * 1000:8.1f} ms "
          f"({build.cell_count:,} cells)", flush=True)


def time_figures(users: dict, runs: int) -> None:
    from registry.accounts.models import User
    from registry.reports import statistics

    for role, user_id in users.items():
        user = db.session.get(User, user_id)
        ms = median_ms(lambda user=user: statistics.figures_for(user), runs=runs)
        verdict = "ok" if ms < TARGET_MS else "SLOW"
        print(f"  {'figures from the cache, ' + role:52s} {ms:8.1f} ms  {verdict}", flush=True)


def time_pages(app, users: dict, runs: int) -> None:
    from registry.accounts import operations as accounts
    from registry.accounts.models import User

    for role, user_id in users.items():
        client = app.test_client()
        with app.app_context():
            user = db.session.get(User, user_id)
            with app.test_request_context():
                markers = accounts.session_markers(user)
        with client.session_transaction() as session:
            session.update(markers)

        def page(client=client):
            response = client.get("/dashboard")
            assert response.status_code == 200, response.status_code

        ms = median_ms(page, runs=runs)
        verdict = "ok" if ms < TARGET_MS else "SLOW"
        print(f"  {'GET /dashboard, ' + role:52s} {ms:8.1f} ms  {verdict}", flush=True)


def time_annual_report(officer_id: int) -> None:
    from registry.accounts.models import User
    from registry.core.time import vietnam_today

    officer = db.session.get(User, officer_id)
    today = vietnam_today()
    build_annual_report(officer, today, "annual report, cut-off today")

    # A tenth of the records changed after yesterday: those are read from their history.
    db.session.execute(text("UPDATE person SET updated_at = :now WHERE id % 10 = 0"),
                       {"now": datetime.now(UTC).replace(tzinfo=None)})
    build_annual_report(officer, today - timedelta(days=1),
                        "annual report, cut-off yesterday, 10 % changed since")
    db.session.rollback()


def build_annual_report(officer, cut_off: date, label: str) -> None:
    from registry.reports import operations

    started = time.perf_counter()
    report = operations.create_annual_report(cut_off.year, cut_off, officer)
    seconds = time.perf_counter() - started
    db.session.rollback()  # the benchmark keeps no report
    verdict = "ok" if seconds < REPORT_TARGET_S else "SLOW"
    print(f"  {label:52s} {seconds * 1000:8.1f} ms  {verdict} "
          f"({report.figures['totals']['people']:,} people)", flush=True)


if __name__ == "__main__":
    main()
