"""Killing the real worker while it sends: nobody is missed, at most one duplicate a kill.

Each test seeds a campaign in the test database and approves it with the hand-over to
huey dropped, as when huey loses the task: the tick a worker runs when it starts must
find the campaign. The worker is `flask --app wsgi registry worker` in its own process
group, sending by SMTP to a sink in this process that records every Message-ID.
"""
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from registry.accounts.models import User
from registry.extensions import db
from registry.outreach import audiences, campaigns, sending
from registry.outreach.models import DONE, SENT, Campaign, Delivery, Occasion
from registry.outreach.sink import SmtpSink
from registry.people.models import ACTIVE, Consent, Email, Person

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "registry", "worker"]
LEASE_SECONDS = 2
MESSAGES = {"vi": ("Chúc mừng {{ occasion }}",
                   "Kính gửi {{ honorific }} {{ full_name }},\n\nNhân dịp {{ occasion }}, "
                   "chúc {{ honorific }} và gia đình mạnh khỏe.\n\n{{ signature }}"),
            "en": ("Greetings for {{ occasion }}",
                   "Dear {{ honorific }} {{ full_name }},\n\nHappy {{ occasion }}!\n\n"
                   "{{ signature }}")}


class Worker:
    """One `registry worker` process in its own process group, its output in a file."""

    def __init__(self, env: dict, log_path):
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(WORKER, cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the whole process group, as the kernel's OOM killer or a power cut."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def output(self, last: int = 4000) -> str:
        with open(self.log_path, "rb") as log:
            return log.read().decode("utf-8", "replace")[-last:]


class PeerSink(SmtpSink):
    """A sink that also notes which SMTP session (client address) sent each message."""

    def __init__(self):
        super().__init__()
        self.peers: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def sink():
    with PeerSink() as receiving:
        yield receiving


@pytest.fixture
def start_worker(app, sink, tmp_path):
    """Return a function starting a worker on the test database; all are killed after."""
    started: list[Worker] = []

    def start(queue: str = "jobs") -> Worker:
        worker = Worker(_worker_env(app, sink, tmp_path / f"{queue}.sqlite"),
                        tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def campaign_to(app_ctx, make_user, monkeypatch):
    """Return a factory of approved campaigns to n people seeded in bulk; returns the id."""
    author = make_user("officer").id
    approver = make_user("officer").id

    def factory(n: int) -> int:
        _seed_people(n)
        officer = db.session.get(User, author)
        occasion = Occasion(name="Tết Nguyên Đán", name_en="Lunar New Year", kind="lunar",
                            month=1, day=1)
        db.session.add(occasion)
        audience = audiences.save_audience("Everyone", {}, officer)
        campaign = campaigns.create_campaign(
            {"name": "Tết 2027", "occasion_id": occasion.id, "audience_id": audience.id,
             "occasion_date": date(2027, 2, 6), "signature": "Sở Ngoại vụ Thanh Hóa"},
            MESSAGES, officer)
        campaigns.submit(campaign, officer)
        with monkeypatch.context() as patch:
            # huey loses the task: only a worker's tick can start this campaign
            patch.setattr(sending, "dispatch", lambda campaign_id: None)
            campaigns.approve(campaign, db.session.get(User, approver))
        assert campaign.recipients_count == n
        campaign_id = campaign.id
        # and no transaction left open: on SQLite it would hold the worker's write lock
        db.session.commit()
        return campaign_id

    return factory


def test_three_kills_miss_nobody_and_repeat_three_messages_at_most(campaign_to, sink,
                                                                   start_worker, app):
    campaign_id = campaign_to(3000)
    kills = (300, 900, 1700)

    worker = start_worker()
    for received in kills:
        _wait_for_messages(sink, received, worker)
        worker.kill()
        worker = start_worker()
    _wait_until_sent(campaign_id, worker)

    tally = _received_ids(sink, campaign_id, app)
    duplicates = sum(tally.values()) - len(tally)
    assert duplicates <= len(kills), f"{duplicates} duplicates after {len(kills)} kills"


def test_a_worker_never_killed_sends_each_message_once(campaign_to, sink, start_worker,
                                                       app):
    campaign_id = campaign_to(1000)

    _wait_until_sent(campaign_id, start_worker())

    tally = _received_ids(sink, campaign_id, app)
    assert max(tally.values()) == 1


def test_two_workers_started_together_do_not_send_in_parallel(campaign_to, sink,
                                                              start_worker, app):
    campaign_id = campaign_to(1000)

    # two queues: each worker's start tick hands the campaign to a sender of its own
    _wait_until_sent(campaign_id, start_worker("first"), start_worker("second"))

    tally = _received_ids(sink, campaign_id, app)
    assert max(tally.values()) == 1
    peers = sink.peers  # the SMTP session of each message, in the order received
    turns = [peer for at, peer in enumerate(peers) if at == 0 or peers[at - 1] != peer]
    assert len(turns) == len(set(turns)), "two SMTP sessions took turns: two senders"


# Seeding -----------------------------------------------------------------------------

def _seed_people(n: int) -> None:
    """Insert n reachable people, their e-mails and greetings consents, in three statements."""
    connection = db.session.connection()
    connection.execute(insert(Person.__table__), [_person_row(number) for number in range(n)])
    ids = list(db.session.scalars(select(Person.id).order_by(Person.id)))
    connection.execute(insert(Email.__table__),
                       [{"person_id": pid, "address": f"an{pid}@example.test"} for pid in ids])
    connection.execute(insert(Consent.__table__),
                       [{"person_id": pid, "purpose": "greetings", "channel": "form",
                         "notice_version": "2026-01"} for pid in ids])


def _person_row(number: int) -> dict:
    gender = ("male", "female")[number % 2]
    given = f"An {number}"
    return {"full_name": f"Nguyễn Văn {given}", "family_name": "Nguyễn",
            "middle_name": "Văn", "given_name": given,
            "name_folded": f"nguyen van an {number}",
            "name_tone_key": f"nguyễn văn an {number}", "gender": gender,
            "birth_year": 1960 + number % 45, "country_code": ("JP", "KR", "TW")[number % 3],
            "city": "Osaka", "preferred_lang": ("vi", "vi", "en")[number % 3],
            "status": ACTIVE}


# The worker and the sink --------------------------------------------------------------

def _worker_env(app, sink, queue_path) -> dict:
    env = {name: value for name, value in os.environ.items()
           if name not in ("REDIS_URL", "TEST_DATABASE_URL", "DATABASE_URL")}
    env.update(REGISTRY_ENV="development", SECRET_KEY="kill-test-not-secret",
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               MAIL_BACKEND="smtp", MAIL_SERVER=sink.host, MAIL_PORT=str(sink.port),
               MAIL_FROM=app.config["MAIL_FROM"], HUEY_SQLITE=str(queue_path),
               OUTREACH_LEASE_SECONDS=str(LEASE_SECONDS), OUTREACH_RATE_PER_SECOND="0",
               OUTREACH_WAIT_SECONDS="10", PYTHONUNBUFFERED="1")
    return env


def _wait_for_messages(sink, count: int, worker: Worker, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while sink.received < count:
        if not worker.is_alive():
            pytest.fail(f"the worker died before {count} messages:\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"only {sink.received} of {count} messages after {timeout} s; "
                        f"worker output:\n{worker.output()}")
        sink.wait_for(count, timeout=0.2)


def _wait_until_sent(campaign_id: int, *workers: Worker, timeout: float = 40) -> None:
    """Poll the database until every delivery is sent and the campaign is done."""
    deadline = time.monotonic() + timeout
    while True:
        statuses, state = _progress(campaign_id)
        if state == DONE and set(statuses) == {SENT}:
            return
        dead = [worker for worker in workers if not worker.is_alive()]
        if dead or time.monotonic() > deadline:
            why = "a worker died" if dead else f"not sent after {timeout} s"
            output = "\n---\n".join(worker.output() for worker in workers)
            pytest.fail(f"{why}: campaign {state}, deliveries {statuses}; "
                        f"worker output:\n{output}")
        time.sleep(0.25)


def _progress(campaign_id: int) -> tuple[dict, str]:
    # A short transaction: on SQLite an open one would hold the write lock the
    # worker waits for.
    statuses = dict(db.session.execute(
        select(Delivery.status, func.count()).where(Delivery.campaign_id == campaign_id)
        .group_by(Delivery.status)).all())
    state = db.session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))
    db.session.rollback()
    return statuses, state


def _received_ids(sink, campaign_id, app) -> Counter:
    """Return how often each Message-ID came; fail if a delivery's is missing or unknown."""
    domain = app.config["MAIL_FROM"].rpartition("@")[2]
    ids = db.session.scalars(select(Delivery.id).where(Delivery.campaign_id == campaign_id))
    expected = {f"<{delivery_id}.{campaign_id}.outreach@{domain}>" for delivery_id in ids}
    db.session.rollback()
    tally = Counter(message.message_id for message in sink.messages)

    missing, unknown = expected - set(tally), set(tally) - expected
    assert not missing, f"{len(missing)} deliveries never reached the sink"
    assert not unknown, f"{len(unknown)} messages the campaign does not have"
    return tally
