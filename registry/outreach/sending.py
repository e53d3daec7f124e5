"""Sending a campaign: one sender per campaign claims deliveries, hands each to the
channel and records the outcome at once; the delivery table is the truth.

Guarantees, whatever kills a worker:
- A delivery is claimed in a transaction (BEGIN IMMEDIATE on SQLite, FOR UPDATE
  SKIP LOCKED on PostgreSQL) with a lease; it is marked sent in its own commit
  right after the SMTP hand-off. A worker killed between the two leaves one row
  whose lease expires and which is sent again: at most one duplicate per kill,
  since a campaign has one sender at a time (its own lease on the campaign row).
- huey can lose a task when its worker dies, so a periodic tick (every minute,
  and once when a worker starts) launches scheduled campaigns and hands every
  campaign with due rows and no live sender to a new sender.
- Transient failures come back later with exponential backoff until a cap of
  attempts; a row claimed that many times without an outcome is failed, so one
  poison message cannot stop a campaign. When too many recent attempts failed
  the campaign pauses itself for an officer to look.
"""
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from huey import crontab
from markupsafe import escape
from sqlalchemy import and_, bindparam, event, func, or_, select, update

from registry.audit import operations as audit
from registry.core import jobs
from registry.core.time import as_utc, utcnow
from registry.extensions import db
from registry.outreach import audiences, campaigns, channels, rendering, unsubscribing
from registry.outreach.models import (AUTO_PAUSE, FAILED, PAUSED, PENDING, SENDING, SENT,
                                      SKIPPED, Campaign, Delivery)
from registry.people.models import Email, Person

log = logging.getLogger(__name__)


# Handing campaigns to senders ---------------------------------------------------------

def dispatch(campaign_id: int) -> None:
    """Start a sender for the campaign once the current transaction has committed."""
    task = send_campaign_job.s(campaign_id)
    if jobs.huey.immediate:
        jobs.huey.enqueue(task)
        return
    # The sender must find the campaign in its new state: hand it over after the commit.
    event.listen(db.session(), "after_commit", lambda _session: jobs.huey.enqueue(task),
                 once=True)


@jobs.task()
def send_campaign_job(campaign_id: int) -> None:
    """Send the campaign's due deliveries (a huey task)."""
    Sender(campaign_id).run()


@jobs.huey.periodic_task(crontab(minute="*"), name="outreach.tick_every_minute")
@jobs.task()
def tick_job() -> None:
    """Launch due campaigns and restart the senders that died."""
    tick()


def _tick_at_worker_start() -> None:
    """Tick now, and again once the leases of a sender killed just before have run out."""
    # A worker mostly starts because the last one died, seconds ago: its sender's
    # lease still looks alive to the first tick, and the minute's tick may come
    # only a lease and a minute later.
    tick_job()
    tick_job.schedule(delay=current_app.config["OUTREACH_LEASE_SECONDS"] + 1)


jobs.at_worker_start(_tick_at_worker_start)


def tick(now: datetime | None = None) -> list[int]:
    """Launch due campaigns and dispatch those with due rows; return the dispatched ids."""
    now = now or utcnow()
    campaigns.start_due(now)
    db.session.commit()

    orphaned = select(Campaign.id).where(
        Campaign.state == SENDING,
        or_(Campaign.sender_until.is_(None), Campaign.sender_until < now),
        select(Delivery.id).where(Delivery.campaign_id == Campaign.id, _due(now)).exists())
    ids = list(db.session.scalars(orphaned))
    for campaign_id in ids:
        log.info("Campaign %s has due messages and no sender: dispatching", campaign_id)
        dispatch(campaign_id)
    db.session.commit()
    return ids


def _due(now: datetime):
    return or_(and_(Delivery.status == PENDING, Delivery.not_before <= now),
               and_(Delivery.status == SENDING, Delivery.lease_until < now))


# The sender ---------------------------------------------------------------------------

@dataclass
class Recipient:
    """A claimed delivery with what its message needs."""

    delivery_id: int
    person_id: int
    attempts: int
    address: str | None
    person: dict
    preferred_lang: str | None


class Sender:
    """Sends one campaign until nothing is due, it is paused, or it loses its lease."""

    def __init__(self, campaign_id: int):
        config = current_app.config
        self.campaign_id = campaign_id
        self.token = secrets.token_hex(16)
        self.lease = timedelta(seconds=config["OUTREACH_LEASE_SECONDS"])
        self.max_wait = config["OUTREACH_WAIT_SECONDS"]
        self.max_attempts = config["OUTREACH_MAX_ATTEMPTS"]
        self.retry_base = config["OUTREACH_RETRY_BASE_SECONDS"]
        self.errors = deque(maxlen=config["OUTREACH_PAUSE_WINDOW"])
        self.pause_rate = config["OUTREACH_PAUSE_ERROR_RATE"]
        self.pause_minimum = config["OUTREACH_PAUSE_MIN_ATTEMPTS"]
        self.domain = config["MAIL_FROM"].rpartition("@")[2] or "localhost"
        self.next_send_at = 0.0
        self.sent = 0

    def run(self) -> int:
        """Send what is due; return how many messages were handed over."""
        if not self._take_campaign():
            return 0

        try:
            campaign = db.session.get(Campaign, self.campaign_id)
            self.interval = 1.0 / campaign.rate_per_second if campaign.rate_per_second else 0
            self.batch_size = self._batch_size(campaign.rate_per_second)
            self.content = _Content(campaign)
            with channels.connect(campaign.channel) as connection:
                self._send_all(connection)
        finally:
            self._release()
        log.info("Sender %s of campaign %s stopped after %s messages", self.token[:8],
                 self.campaign_id, self.sent)
        return self.sent

    def _send_all(self, connection) -> None:
        while self._renew():
            batch = self._claim()
            if batch:
                if not self._send_batch(batch, connection):
                    return
                continue

            if campaigns.finish_if_done(self.campaign_id):
                db.session.commit()
                return
            db.session.commit()
            wait = self._seconds_to_next_due()
            if wait is None or wait > self.max_wait:
                return
            time.sleep(max(wait, 0.05))

    # The campaign's lease: one sender at a time --------------------------------------

    def _take_campaign(self) -> bool:
        deadline = time.monotonic() + self.max_wait
        while True:
            now = utcnow()
            taken = db.session.execute(
                _update(Campaign).where(Campaign.id == self.campaign_id,
                                       Campaign.state == SENDING,
                                       or_(Campaign.sender_until.is_(None),
                                           Campaign.sender_until < now))
                .values(sender_token=self.token, sender_until=now + self.lease)).rowcount
            holder = db.session.execute(select(Campaign.state, Campaign.sender_until)
                                        .where(Campaign.id == self.campaign_id)).first()
            db.session.commit()
            if taken:
                return True
            if holder is None or holder.state != SENDING or holder.sender_until is None:
                return False

            # Another sender holds it; after a kill its lease simply runs out.
            wait = (as_utc(holder.sender_until) - utcnow()).total_seconds() + 0.05
            if time.monotonic() + wait > deadline:
                return False
            time.sleep(max(wait, 0.05))

    def _renew(self) -> bool:
        now = utcnow()
        kept = db.session.execute(
            _update(Campaign).where(Campaign.id == self.campaign_id,
                                   Campaign.sender_token == self.token,
                                   Campaign.state == SENDING)
            .values(sender_until=now + self.lease)).rowcount
        db.session.commit()
        return bool(kept)

    def _release(self) -> None:
        db.session.rollback()
        db.session.execute(_update(Campaign).where(Campaign.id == self.campaign_id,
                                                  Campaign.sender_token == self.token)
                           .values(sender_token=None, sender_until=None))
        db.session.commit()

    def _batch_size(self, rate: float | None) -> int:
        # A batch must be sent well within its lease, at the campaign's rate.
        size = current_app.config["OUTREACH_BATCH_SIZE"]
        if rate:
            size = min(size, max(1, int(rate * self.lease.total_seconds() / 4)))
        return size

    # Claiming deliveries --------------------------------------------------------------

    def _claim(self) -> list[Recipient]:
        """Lease the next due rows and return those still to be sent."""
        now = utcnow()
        query = (select(Delivery.id, Delivery.attempts)
                 .where(Delivery.campaign_id == self.campaign_id, _due(now))
                 .order_by(Delivery.id).limit(self.batch_size))
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = db.session.execute(query).all()
        exhausted = [row.id for row in rows if row.attempts >= self.max_attempts]
        claimed = [row.id for row in rows if row.attempts < self.max_attempts]

        if exhausted:
            self._finish(exhausted, FAILED, _gave_up(self.max_attempts))
        if claimed:
            db.session.execute(_update(Delivery).where(Delivery.id.in_(claimed)).values(
                status=SENDING, lease_until=now + self.lease, lease_token=self.token,
                attempts=Delivery.attempts + 1))
        recipients = self._recipients(claimed)
        unreachable = set(claimed) - {recipient.delivery_id for recipient in recipients}
        if unreachable:
            self._finish(sorted(unreachable), SKIPPED, "no longer reachable")
        db.session.commit()
        return recipients

    def _recipients(self, delivery_ids: list[int]) -> list[Recipient]:
        if not delivery_ids:
            return []
        address = (select(Email.address).where(Email.person_id == Person.id)
                   .order_by(Email.is_verified.desc(), Email.id).limit(1)
                   .scalar_subquery())
        reachable = audiences.reachable_condition(self.content.channel)
        query = (select(Delivery.id, Delivery.person_id, Delivery.attempts,
                        address.label("address"), Person.full_name, Person.given_name,
                        Person.gender, Person.birth_year, Person.country_code, Person.city,
                        Person.preferred_lang)
                 .join(Person, Person.id == Delivery.person_id)
                 .where(Delivery.id.in_(delivery_ids), *reachable)
                 .order_by(Delivery.id))
        return [Recipient(row.id, row.person_id, row.attempts, row.address,
                          {"full_name": row.full_name, "given_name": row.given_name,
                           "gender": row.gender, "birth_year": row.birth_year,
                           "country_code": row.country_code, "city": row.city},
                          row.preferred_lang)
                for row in db.session.execute(query)]

    def _finish(self, delivery_ids: list[int], status: str, reason: str) -> None:
        db.session.execute(_update(Delivery).where(Delivery.id.in_(delivery_ids))
                           .values(status=status, last_error=reason, lease_until=None,
                                   lease_token=None))
        log.info("Campaign %s: %s deliveries %s (%s)", self.campaign_id, len(delivery_ids),
                 status, reason)

    def _seconds_to_next_due(self) -> float | None:
        soonest = db.session.execute(
            select(func.min(Delivery.not_before).filter(Delivery.status == PENDING),
                   func.min(Delivery.lease_until).filter(Delivery.status == SENDING))
            .where(Delivery.campaign_id == self.campaign_id)).one()
        db.session.commit()
        moments = [as_utc(moment) for moment in soonest if moment is not None]
        if not moments:
            return None
        return (min(moments) - utcnow()).total_seconds()

    # Sending ------------------------------------------------------------------------

    def _send_batch(self, batch: list[Recipient], connection) -> bool:
        """Send the batch; return False when the campaign must stop (paused or lost)."""
        lease_end = time.monotonic() + self.lease.total_seconds() * 0.9
        state_checked = time.monotonic()
        for position, recipient in enumerate(batch):
            if time.monotonic() > lease_end:
                self._put_back(batch[position:])
                return True
            if time.monotonic() - state_checked > 1.0:
                state_checked = time.monotonic()
                if not self._still_sending():
                    self._put_back(batch[position:])
                    return False

            self._throttle()
            failure = self._deliver(recipient, connection)
            self._record(recipient, failure)
            if self._too_many_errors():
                self._pause_itself()
                self._put_back(batch[position + 1:])
                return False
        return True

    def _deliver(self, recipient: Recipient, connection) -> Exception | None:
        try:
            message = self.content.message_for(recipient, self.domain)
            connection.send(message)
        except rendering.RenderError as error:
            return channels.PermanentFailure(str(error)[:400])
        except (channels.TransientFailure, channels.PermanentFailure) as error:
            return error
        return None

    def _record(self, recipient: Recipient, failure: Exception | None) -> None:
        now = utcnow()
        self.errors.append(failure is not None)
        if failure is None:
            changed = db.session.execute(_MARK_SENT, {
                "delivery_id": recipient.delivery_id, "token": self.token, "now": now,
                "sent_to": recipient.address,
                "sent_in": self.content.language_for(recipient)}).rowcount
            self.sent += 1
        else:
            mine = and_(Delivery.id == recipient.delivery_id,
                        Delivery.lease_token == self.token)
            changed = db.session.execute(_update(Delivery).where(mine).values(
                **self._failure_values(recipient, failure, now), lease_until=None,
                lease_token=None)).rowcount
        db.session.commit()
        if not changed:
            log.warning("Campaign %s delivery %s was taken over by another sender",
                        self.campaign_id, recipient.delivery_id)

    def _failure_values(self, recipient: Recipient, failure: Exception,
                        now: datetime) -> dict:
        if (isinstance(failure, channels.TransientFailure)
                and recipient.attempts < self.max_attempts):
            # attempts counts this one: waits of 1, 4, 16... times the base
            delay = self.retry_base * 4 ** (recipient.attempts - 1)
            return {"status": PENDING, "not_before": now + timedelta(seconds=delay),
                    "last_error": str(failure)[:500]}
        return {"status": FAILED, "last_error": str(failure)[:500]}

    def _put_back(self, batch: list[Recipient]) -> None:
        if not batch:
            return
        ids = [recipient.delivery_id for recipient in batch]
        db.session.execute(_update(Delivery).where(Delivery.id.in_(ids),
                                                  Delivery.lease_token == self.token)
                           .values(status=PENDING, lease_until=None, lease_token=None,
                                   attempts=Delivery.attempts - 1))
        db.session.commit()

    def _throttle(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next_send_at > now:
            time.sleep(self.next_send_at - now)
        self.next_send_at = max(self.next_send_at, now) + self.interval

    def _still_sending(self) -> bool:
        state = db.session.scalar(select(Campaign.state)
                                  .where(Campaign.id == self.campaign_id))
        db.session.commit()
        return state == SENDING

    def _too_many_errors(self) -> bool:
        if len(self.errors) < self.pause_minimum:
            return False
        return sum(self.errors) / len(self.errors) >= self.pause_rate

    def _pause_itself(self) -> None:
        share = round(100 * sum(self.errors) / len(self.errors))
        reason = pause_reason(share, len(self.errors))
        paused = db.session.execute(_update(Campaign).where(Campaign.id == self.campaign_id,
                                                           Campaign.state == SENDING)
                                    .values(state=PAUSED, pause_reason=reason)).rowcount
        if paused:
            audit.record("campaign.auto_pause", object_type="campaign",
                         object_id=self.campaign_id, details={"reason": reason})
        db.session.commit()
        log.warning("Campaign %s paused itself: %s", self.campaign_id, reason)


class _Content:
    """The campaign's texts, compiled once, and the per-language footer."""

    def __init__(self, campaign: Campaign):
        self.campaign_id = campaign.id
        self.channel = campaign.channel
        # (subject, body) as plain strings: the rows would be read again after each
        # message's commit expires them
        self.messages = {message.lang: (message.subject, message.body)
                         for message in campaign.messages}
        self.occasion = campaigns.occasion_values(campaign)
        self.signature = campaign.signature
        self.footers: dict[str, tuple[str, str]] = {}

    def language_for(self, recipient: Recipient) -> str:
        """Return the language the recipient's message is written in."""
        return rendering.choose_language(recipient.preferred_lang, self.messages)

    def message_for(self, recipient: Recipient, domain: str) -> channels.OutgoingMessage:
        """Return the recipient's message; raise RenderError if it cannot be written."""
        lang = self.language_for(recipient)
        subject, body = self.messages[lang]
        rendered = rendering.render(subject, body, recipient.person, self.occasion, lang,
                                    self.signature)
        link = unsubscribing.link_for(recipient.delivery_id)
        text_footer, html_footer = self._footer(lang)
        return channels.OutgoingMessage(
            to_address=recipient.address,
            to_name=rendering.clean_value(recipient.person["full_name"]),
            subject=rendered.subject,
            text=f"{rendered.text}\n\n-- \n{text_footer} {link}\n",
            html=(f"{rendered.html}\n<hr>\n<p><small>{html_footer} "
                  f"<a href=\"{link}\">{link}</a></small></p>\n"),
            message_id=f"<{recipient.delivery_id}.{self.campaign_id}.outreach@{domain}>",
            headers={"List-Unsubscribe": f"<{link}>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                     "Precedence": "bulk"})

    def _footer(self, lang: str) -> tuple[str, str]:
        if lang not in self.footers:
            with force_locale(lang):
                footer = _("To stop receiving these messages, open:")
            self.footers[lang] = (footer, str(escape(footer)))
        return self.footers[lang]


def pause_reason(share: int, window: int) -> str:
    """Return the stored reason of a pause on errors; Campaign.pause_text translates it."""
    return f"{AUTO_PAUSE}:{share}:{window}"


def _update(model):
    # Rows are changed in the database only; the sender keeps no objects to refresh,
    # and comparing their times in Python would mix SQLite's naive values with aware.
    return update(model).execution_options(synchronize_session=False)


# Marking a message sent, built once: building the statement for every message
# took longer than SQLite took to run it.
_deliveries = Delivery.__table__
_MARK_SENT = (update(_deliveries)
              .where(_deliveries.c.id == bindparam("delivery_id"),
                     _deliveries.c.lease_token == bindparam("token"))
              .values(status=SENT, sent_at=bindparam("now"), address=bindparam("sent_to"),
                      lang=bindparam("sent_in"), last_error=None, lease_until=None,
                      lease_token=None))


def _gave_up(attempts: int) -> str:
    return f"gave up after {attempts} attempts without an answer"
