"""Sending a campaign to N people by SMTP: messages a second, wall time, peak memory.

Seeds N reachable synthetic people (an e-mail and a greetings consent each) into
its own database (bench/out/bench_outreach.sqlite, or bench_outreach on the local
PostgreSQL server, made if missing; both rebuilt each run), approves a campaign
to all of them and runs its sender (sending.Sender(campaign).run(), no huey) in a
fresh Python process of this script, so that its peak RSS is the sender's own.
The SMTP sink runs as a process of its own (`flask --app wsgi registry
smtp-sink`), and its record must then hold exactly N distinct Message-IDs.

The peer is the naive way: for a sample of the same recipients, the same
rendering, then one registry.core.mail.send() a message (an EmailMessage of the
standard library, a new SMTP connection each time) and the row marked sent in a
commit of its own; its time is scaled to N.

    .venv/bin/python bench/outreach_bench.py --people 100000 --db both
    .venv/bin/python bench/outreach_bench.py --people 20000 --profile   # cProfile of the sender
"""
import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import resource
import signal
import subprocess
import sys
import time
from datetime import date
from email.utils import formataddr

from sqlalchemy import String, cast, false, insert, literal, select, text, update

from common import OUT, db, make_app, postgres_url, sqlite_url, stopwatch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "bench_outreach"
TARGET = 300  # messages a second
CHUNK = 10_000
PASSWORD = "correct horse battery staple"
MESSAGES = {"vi": ("Chúc mừng {{ occasion }}",
                   "Kính gửi {{ honorific }} {{ full_name }},\n\nNhân dịp {{ occasion }} "
                   "({{ occasion_date }}), Sở Ngoại vụ Thanh Hóa kính chúc {{ honorific }} "
                   "và gia đình một năm mới an khang, thịnh vượng.\n\n{{ signature }}"),
            "en": ("Greetings for {{ occasion }}",
                   "Dear {{ honorific }} {{ full_name }},\n\nOn the occasion of "
                   "{{ occasion }} ({{ occasion_date }}), we wish you and your family "
                   "health and happiness.\n\n{{ signature }}")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--sample", type=int, default=2_000,
                        help="recipients the naive peer sends to")
    parser.add_argument("--profile", action="store_true",
                        help="print where the sender's time goes (cProfile)")
    parser.add_argument("--child", choices=("sender", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--campaign", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    print(f"load before: {_load()}", flush=True)
    results = []
    for kind in (("sqlite", "postgresql") if args.db == "both" else (args.db,)):
        url = _fresh_sqlite() if kind == "sqlite" else postgres_url(NAME, fresh=False)
        results += run(kind, url, args.people, min(args.sample, args.people), args.profile)
    print(f"load after: {_load()}\n")
    print_table(results, args.people)
    if any(not result["exact"] for result in results):
        raise SystemExit("the sink did not get exactly the messages expected")


def run(kind: str, url: str, count: int, sample: int, profile: bool) -> list[dict]:
    """Seed and approve on url, then time the sender and the naive peer."""
    print(f"\n== {kind}, {count:,} recipients", flush=True)
    app = make_app(url)
    # frozen into the campaign at approval: no rate limit, the sink's speed is the limit
    app.config.update(OUTREACH_RATE_PER_SECOND=0.0, OUTREACH_WAIT_SECONDS=0)
    with app.app_context():
        with stopwatch("schema and seeding"):
            prepare(count)
        campaign_id = approved_campaign(count)
        domain = app.config["MAIL_FROM"].rpartition("@")[2]
        db.session.remove()
        db.engine.dispose()

    results = send_both(kind, url, campaign_id, domain, count, sample, profile)
    for result in results:
        print(f"  {result['way']}: {result['sent']:,} in {result['seconds']:.1f} s, "
              f"{result['sent'] / result['seconds']:,.0f}/s, peak RSS "
              f"{result['rss_mb']:.0f} MB ({result['anon_mb']:.0f} MB anonymous at the end), "
              f"load {result['load']}, {result['check']}",
              flush=True)
    if results[0].get("profile"):
        print(results[0]["profile"])
    return results


def send_both(kind: str, url: str, campaign_id: int, domain: str, count: int,
              sample: int, profile: bool) -> list[dict]:
    """Run the sender, then the peer, each in a process of its own, to one sink."""
    record = os.path.join(OUT, f"{NAME}_{kind}.jsonl")
    with SmtpSinkProcess(record) as sink:
        options = ["--url", url, "--campaign", str(campaign_id), "--port", str(sink.port)]
        sender = in_child(["--child", "sender", *options] + (["--profile"] if profile else []))
        sender.update(kind=kind, way="sender (one SMTP session)")
        check_record(sender, record, 0, campaign_id, domain, count)

        peer = in_child(["--child", "naive", "--sample", str(sample), *options])
        peer.update(kind=kind, way="naive: mail.send() each")
        check_record(peer, record, count, campaign_id, domain, sample, naive=True)
    os.remove(record)  # 46 MB for 100,000 messages, checked
    return [sender, peer]


# Seeding ------------------------------------------------------------------------------

def _fresh_sqlite() -> str:
    url = sqlite_url(NAME)
    path = url.removeprefix("sqlite:///")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return url


def prepare(count: int) -> None:
    """Build the schema and seed count reachable people."""
    from registry.core import schema

    schema.reset(drop_first=True)
    db.session.commit()
    seed_people(count)
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def seed_people(count: int) -> None:
    """Insert count people in chunks, then an e-mail and a greetings consent each."""
    from registry.core.time import utcnow
    from registry.imports.bulk import insert_rows
    from registry.people.models import Consent, Email, Person

    now = utcnow()
    names = _names()
    for start in range(0, count, CHUNK):
        rows = [_person_row(number, names, now) for number in
                range(start, min(start + CHUNK, count))]
        insert_rows(db.session.connection(), Person.__table__, rows)
        db.session.commit()

    address = literal("an") + cast(Person.id, String) + literal("@example.com")
    db.session.execute(insert(Email.__table__).from_select(
        ["person_id", "address", "is_verified"], select(Person.id, address, false())))
    db.session.execute(insert(Consent.__table__).from_select(
        ["person_id", "purpose", "channel", "notice_version", "given_at"],
        select(Person.id, literal("greetings"), literal("form"), literal("2026-01"),
               literal(now))))
    db.session.commit()


def _names() -> list[tuple]:
    """Return (gender, family, middle, given, folded, tone key) of every name combination."""
    from registry.core.text import fold, tone_key
    from registry.people.demo import GIVEN, MIDDLE, SURNAMES

    names = []
    for family, _weight in SURNAMES:
        for gender in ("male", "female"):
            for middle in sorted(set(MIDDLE[gender])):
                for given in GIVEN[gender]:
                    full = f"{family} {middle} {given}"
                    names.append((gender, family, middle, given, fold(full), tone_key(full)))
    return names


def _person_row(number: int, names: list[tuple], now) -> dict:
    from registry.people.demo import COUNTRIES

    gender, family, middle, given, folded, tone = names[(number * 7919) % len(names)]
    country, _weight, cities = COUNTRIES[number % len(COUNTRIES)]
    return {"full_name": f"{family} {middle} {given}", "family_name": family,
            "middle_name": middle, "given_name": given, "name_folded": folded,
            "name_tone_key": tone, "gender": gender, "birth_year": 1962 + number % 44,
            "country_code": country, "city": cities[number % len(cities)],
            "preferred_lang": "en" if number % 5 == 0 else "vi", "status": "active",
            "source": "import", "created_at": now, "updated_at": now}


def approved_campaign(count: int) -> int:
    """Approve a campaign to everyone, not handed to huey; return its id."""
    from registry.accounts import operations as accounts
    from registry.outreach import audiences, campaigns, sending
    from registry.outreach.models import Occasion

    author, _ = accounts.create_user("author@example.test", "officer", "Bench Author", [],
                                     password=PASSWORD)
    approver, _ = accounts.create_user("approver@example.test", "officer", "Bench Approver",
                                       [], password=PASSWORD)
    occasion = Occasion(name="Tết Nguyên Đán", name_en="Lunar New Year", kind="lunar",
                        month=1, day=1)
    db.session.add(occasion)
    audience = audiences.save_audience("Everyone", {}, author)
    campaign = campaigns.create_campaign(
        {"name": "Tết 2027", "occasion_id": occasion.id, "audience_id": audience.id,
         "occasion_date": date(2027, 2, 6), "signature": "Sở Ngoại vụ Thanh Hóa"},
        MESSAGES, author)
    campaigns.submit(campaign, author)
    dispatch, sending.dispatch = sending.dispatch, lambda campaign_id: None
    try:
        with stopwatch("approval (the delivery rows)"):
            campaigns.approve(campaign, approver)
    finally:
        sending.dispatch = dispatch
    assert campaign.recipients_count == count, campaign.recipients_count
    campaign_id = campaign.id
    db.session.commit()
    return campaign_id


# Sending ------------------------------------------------------------------------------

def in_child(arguments: list[str]) -> dict:
    """Run this script with arguments in a new process; return the JSON it prints last."""
    done = subprocess.run([sys.executable, os.path.abspath(__file__), *arguments],
                          cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"the child {arguments[:2]} failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(args) -> None:
    """Send as the parent asked, in this fresh process; print the result as JSON."""
    logging.getLogger("registry.core.mail").setLevel(logging.WARNING)  # a line a message
    app = make_app(args.url)
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=args.port,
                      OUTREACH_RATE_PER_SECOND=0.0, OUTREACH_WAIT_SECONDS=0)
    with app.app_context():
        if args.child == "sender":
            result = send_campaign(args.campaign, args.profile)
        else:
            result = send_naively(args.campaign, args.sample)
    memory = _memory_mb()
    result["rss_mb"] = memory.get("VmHWM") or _getrusage_peak_mb()
    result["anon_mb"] = memory.get("RssAnon", 0)
    result["load"] = _load()
    print(json.dumps(result), flush=True)


def _memory_mb() -> dict[str, float]:
    """Return this process's peak (VmHWM) and current resident memory, in MB."""
    # VmHWM rather than getrusage(): on Linux ru_maxrss keeps the high-water mark of
    # the memory exec replaced, so a child reports at least its parent's size at the
    # fork. RssAnon leaves out the pages of SQLite's memory-mapped database file.
    try:
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status)
    except OSError:
        return {}
    return {name: int(fields[name].split()[0]) / 1024 for name in ("VmHWM", "RssAnon")
            if name in fields}


def _getrusage_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def send_campaign(campaign_id: int, profile: bool) -> dict:
    """Run the campaign's sender until it is done; return what it sent and how fast."""
    from registry.outreach import sending

    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    sent = sending.Sender(campaign_id).run()
    seconds = time.perf_counter() - started
    result = {"sent": sent, "seconds": seconds}
    if profiler:
        profiler.disable()
        result["profile"] = _profile_summary(profiler)
    return result


def send_naively(campaign_id: int, sample: int) -> dict:
    """Send the first sample recipients one mail.send() each; return the count and time."""
    from registry.core import mail
    from registry.core.time import utcnow
    from registry.outreach import campaigns, rendering, unsubscribing
    from registry.outreach.models import Campaign, Delivery
    from registry.people.models import Email, Person

    campaign = db.session.get(Campaign, campaign_id)
    texts = {message.lang: message for message in campaign.messages}
    occasion = campaigns.occasion_values(campaign)
    domain = current_domain()
    query = (select(Delivery.id, Email.address, Person)
             .join(Person, Person.id == Delivery.person_id)
             .join(Email, Email.person_id == Person.id)
             .where(Delivery.campaign_id == campaign_id).order_by(Delivery.id).limit(sample))
    rows = db.session.execute(query).all()
    db.session.commit()

    started = time.perf_counter()
    for delivery_id, address, person in rows:
        lang = rendering.choose_language(person.preferred_lang, texts)
        rendered = rendering.render(texts[lang].subject, texts[lang].body,
                                    rendering.recipient_from_person(person), occasion,
                                    lang, campaign.signature)
        link = unsubscribing.link_for(delivery_id)
        mail.send(mail.Message(
            to=formataddr((person.full_name, address)), subject=rendered.subject,
            text=f"{rendered.text}\n\n-- \n{link}\n", html=f"{rendered.html}\n<p>{link}</p>",
            headers={"List-Unsubscribe": f"<{link}>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            message_id=f"<naive-{delivery_id}.{campaign_id}.outreach@{domain}>"))
        db.session.execute(update(Delivery).where(Delivery.id == delivery_id)
                           .values(sent_at=utcnow()))
        db.session.commit()
    return {"sent": len(rows), "seconds": time.perf_counter() - started}


def current_domain() -> str:
    from flask import current_app

    return current_app.config["MAIL_FROM"].rpartition("@")[2]


def _profile_summary(profiler) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(35)
    return out.getvalue()


# The sink and the checks -------------------------------------------------------------

class SmtpSinkProcess:
    """`flask --app wsgi registry smtp-sink` on a free port, recording to a file."""

    def __init__(self, record: str):
        self.record, self.host, self.port = record, "127.0.0.1", None

    def __enter__(self) -> "SmtpSinkProcess":
        if os.path.exists(self.record):
            os.remove(self.record)
        env = {**os.environ, "REGISTRY_ENV": "development"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "registry", "smtp-sink",
             "--port", "0", "--record", self.record, "--quiet"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        first = self.process.stdout.readline()  # "SMTP sink listening on host:port; ..."
        self.port = int(first.split(";")[0].rpartition(":")[2])
        return self

    def __exit__(self, *exc_info) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.communicate(timeout=30)


def check_record(result: dict, record: str, skip: int, campaign_id: int, domain: str,
                 expected: int, naive: bool = False) -> None:
    """Note in result whether the sink got exactly the expected distinct Message-IDs."""
    from registry.outreach.sink import read_record

    lines = read_record(record)[skip:]
    prefix = "<naive-" if naive else "<"
    suffix = f".{campaign_id}.outreach@{domain}>"
    ids = [line["message_id"] for line in lines]
    distinct = {one for one in ids if one and one.startswith(prefix) and one.endswith(suffix)}
    result["received"], result["distinct"] = len(ids), len(distinct)
    exact = result["exact"] = len(distinct) == len(ids) == expected == result["sent"]
    result["check"] = (f"exactly {expected:,} distinct Message-IDs" if exact else
                       f"MISMATCH: {len(ids)} received, {len(distinct)} distinct, "
                       f"{expected} expected")


def print_table(results: list[dict], count: int) -> None:
    print(f"| database | way | messages | wall s | msg/s | time for {count:,} | "
          f"peak RSS MB | anonymous MB at the end | load after | sink check |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    for result in results:
        rate = result["sent"] / result["seconds"]
        print(f"| {result['kind']} | {result['way']} | {result['sent']:,} | "
              f"{result['seconds']:.1f} | {rate:,.0f} | {count / rate / 60:.1f} min | "
              f"{result['rss_mb']:.0f} | {result['anon_mb']:.0f} | {result['load']} | "
              f"{result['check']} |")
    slow = [result for result in results if result["way"].startswith("sender")
            and result["sent"] / result["seconds"] < TARGET]
    print(f"\ntarget: {TARGET} messages a second: "
          + ("met" if not slow else "MISSED on " + ", ".join(r["kind"] for r in slow)))


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
