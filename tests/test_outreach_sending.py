"""The sender: retries with backoff, permanent failures, leases, the pause on errors."""
import contextlib
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, update

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.core.time import as_utc, utcnow
from registry.extensions import db
from registry.outreach import audiences, campaigns, channels, sending
from registry.outreach.models import (FAILED, PAUSED, PENDING, SENDING, SENT, SKIPPED,
                                      Campaign, Delivery)
from registry.people import operations as people
from tests.factories import BIM_SON

MESSAGES = {"vi": ("Chúc mừng năm mới", "Kính gửi {{ honorific }} {{ full_name }}")}


class FakeConnection:
    """Records what it is handed; answers with the failure fail(address) chooses."""

    def __init__(self, fail=None):
        self.fail = fail or (lambda address: None)
        self.sent = []

    def send(self, message) -> None:
        failure = self.fail(message.to_address)
        if failure:
            raise failure
        self.sent.append(message)


@pytest.fixture(autouse=True)
def english(app_ctx):
    with force_locale("en"):
        yield


@pytest.fixture
def staff(make_user) -> list[int]:
    return [make_user("officer").id, make_user("officer").id]


@pytest.fixture
def connection(monkeypatch):
    fake = FakeConnection()

    @contextlib.contextmanager
    def connect(channel="email"):
        yield fake

    monkeypatch.setattr(channels, "connect", connect)
    return fake


@pytest.fixture
def campaign(staff, connection, monkeypatch):
    """Return a factory: a campaign to n people, approved, its sender not yet run."""
    author, approver = (db.session.get(User, user_id) for user_id in staff)

    def factory(n=3) -> Campaign:
        for number in range(n):
            people.create_person(
                {"full_name": f"Trịnh Văn Nam {number}", "gender": "male", "birth": None,
                 "hometown": (BIM_SON, None, None), "country_code": "KR", "city": None,
                 "phones": [], "emails": [f"nam{number}@example.test"], "associations": [],
                 "consents": ["record", "greetings"]}, author, "officer")
        audience = audiences.save_audience("Korea", {"countries": ["KR"]}, author)
        made = campaigns.create_campaign(
            {"name": "Tết", "audience_id": audience.id, "occasion_date": date(2027, 2, 6)},
            MESSAGES, author)
        campaigns.submit(made, author)
        with monkeypatch.context() as patch:
            patch.setattr(sending, "dispatch", lambda campaign_id: None)
            campaigns.approve(made, approver)
        db.session.commit()
        return made

    return factory


def rows(campaign) -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).where(Delivery.campaign_id == campaign.id)
                                   .order_by(Delivery.id)))


def make_due(campaign) -> None:
    db.session.execute(update(Delivery).where(Delivery.campaign_id == campaign.id)
                       .values(not_before=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_a_sender_sends_everything_and_finishes_the_campaign(campaign, connection):
    made = campaign(3)

    assert sending.Sender(made.id).run() == 3

    assert [row.status for row in rows(made)] == [SENT] * 3
    assert len(connection.sent) == 3
    db.session.refresh(made)
    assert made.state == "done" and made.sender_token is None


def test_a_temporary_failure_waits_and_is_retried(campaign, connection, app):
    made = campaign(2)
    connection.fail = lambda address: (channels.TransientFailure("451 try later")
                                       if address == "nam0@example.test" else None)

    sending.Sender(made.id).run()

    first, second = rows(made)
    assert first.status == PENDING and first.attempts == 1
    assert first.last_error == "451 try later"
    wait = (as_utc(first.not_before) - utcnow()).total_seconds()
    assert 55 < wait <= app.config["OUTREACH_RETRY_BASE_SECONDS"]
    assert second.status == SENT

    connection.fail = lambda address: None
    make_due(made)
    sending.Sender(made.id).run()
    assert [row.status for row in rows(made)] == [SENT, SENT]


def test_backoff_grows_and_stops_at_the_cap(campaign, connection, app):
    made = campaign(1)
    connection.fail = lambda address: channels.TransientFailure("421 busy")
    waits = []
    for _ in range(app.config["OUTREACH_MAX_ATTEMPTS"]):
        make_due(made)
        sending.Sender(made.id).run()
        [row] = rows(made)
        if row.status == PENDING:
            waits.append(round((as_utc(row.not_before) - utcnow()).total_seconds() / 60))

    assert waits == [1, 4, 16, 64]
    [row] = rows(made)
    assert row.status == FAILED and row.attempts == app.config["OUTREACH_MAX_ATTEMPTS"]


def test_a_permanent_failure_is_not_retried_and_is_listed(campaign, connection):
    made = campaign(2)
    connection.fail = lambda address: (channels.PermanentFailure("550 no such user")
                                       if address == "nam1@example.test" else None)

    sending.Sender(made.id).run()

    assert [row.status for row in rows(made)] == [SENT, FAILED]
    [(delivery, person)] = campaigns.failures(made)
    assert delivery.last_error == "550 no such user" and person.full_name.endswith("1")


def test_someone_who_withdrew_consent_meanwhile_is_skipped(campaign, connection):
    made = campaign(2)
    first = rows(made)[0]
    from registry.people.models import Person

    db.session.get(Person, first.person_id).is_outreach_opted_out = True
    db.session.commit()

    sending.Sender(made.id).run()

    assert [row.status for row in rows(made)] == [SKIPPED, SENT]
    assert len(connection.sent) == 1


def test_many_failures_pause_the_campaign(campaign, connection, app):
    made = campaign(30)
    connection.fail = lambda address: channels.TransientFailure("421 down")

    sending.Sender(made.id).run()

    db.session.refresh(made)
    assert made.state == PAUSED
    assert made.pause_text() == "100% of the last 20 messages failed"
    tried = [row for row in rows(made) if row.attempts]
    assert len(tried) == app.config["OUTREACH_PAUSE_MIN_ATTEMPTS"]
    assert not [row for row in rows(made) if row.status == SENDING]
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.action == "campaign.auto_pause")) == 1


def test_a_lease_left_by_a_dead_sender_is_taken_over_when_it_expires(campaign, connection):
    made = campaign(2)
    past = utcnow() - timedelta(seconds=1)
    db.session.execute(update(Delivery).where(Delivery.campaign_id == made.id)
                       .values(status=SENDING, lease_until=past, lease_token="dead",
                               attempts=1))
    db.session.execute(update(Campaign).where(Campaign.id == made.id)
                       .values(sender_token="dead", sender_until=past))
    db.session.commit()

    assert sending.Sender(made.id).run() == 2
    assert [(row.status, row.attempts) for row in rows(made)] == [(SENT, 2), (SENT, 2)]


def test_a_live_sender_keeps_others_out(campaign, connection):
    made = campaign(2)
    db.session.execute(update(Campaign).where(Campaign.id == made.id)
                       .values(sender_token="alive",
                               sender_until=utcnow() + timedelta(minutes=1)))
    db.session.commit()

    assert sending.Sender(made.id).run() == 0
    assert connection.sent == []


def test_a_row_that_keeps_killing_its_sender_is_given_up(campaign, connection, app):
    made = campaign(1)
    db.session.execute(update(Delivery).where(Delivery.campaign_id == made.id)
                       .values(status=SENDING, lease_until=utcnow() - timedelta(seconds=1),
                               attempts=app.config["OUTREACH_MAX_ATTEMPTS"]))
    db.session.commit()

    sending.Sender(made.id).run()

    [row] = rows(made)
    assert row.status == FAILED and "gave up" in row.last_error
    assert connection.sent == []


def test_the_tick_dispatches_a_campaign_whose_sender_died(campaign, connection,
                                                         monkeypatch):
    made = campaign(1)
    dispatched = []
    monkeypatch.setattr(sending, "dispatch", dispatched.append)

    assert sending.tick() == [made.id]
    assert dispatched == [made.id]
