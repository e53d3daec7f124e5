"""Occasions, audiences, campaigns and their deliveries."""
from datetime import date, datetime

from flask_babel import gettext
from sqlalchemy import (JSON, CheckConstraint, ForeignKey, Index, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.time import utcnow
from registry.extensions import db
from registry.outreach.calendar import LUNAR, SOLAR

#: how many days before an occasion its reminder shows, unless the occasion says otherwise
DEFAULT_REMIND_DAYS = 30


class Occasion(db.Model):
    """A holiday or anniversary, by its day of the solar or the lunar calendar."""

    __tablename__ = "occasion"
    __table_args__ = (
        CheckConstraint(f"kind IN ('{SOLAR}', '{LUNAR}')", name="kind"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        CheckConstraint("day BETWEEN 1 AND 31", name="day"),
        CheckConstraint("remind_days_before BETWEEN 0 AND 366",
                        name="remind_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))  # in Vietnamese
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # SOLAR or LUNAR
    #: month and day of the calendar of kind; a lunar date is never of a leap month
    month: Mapped[int]
    day: Mapped[int]
    #: the reminder shows from this many days before the date until the date
    remind_days_before: Mapped[int] = mapped_column(default=DEFAULT_REMIND_DAYS)
    is_active: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def rule(self) -> dict:
        """Return the fields an audit diff compares."""
        return {"name": self.name, "name_en": self.name_en, "kind": self.kind,
                "month": self.month, "day": self.day,
                "remind_days_before": self.remind_days_before, "is_active": self.is_active,
                "notes": self.notes}


class Audience(db.Model):
    """A saved filter of people to write to; see registry.outreach.audiences for its keys."""

    __tablename__ = "audience"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: countries, units, statuses, associations, languages, age_min, age_max
    filters: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# A campaign goes DRAFT → AWAITING_APPROVAL → APPROVED (waiting for its time) →
# SENDING → DONE; SENDING and PAUSED go back and forth; any state before DONE may
# be CANCELLED. Changing an awaiting campaign puts it back to DRAFT.
DRAFT, AWAITING_APPROVAL, APPROVED = "draft", "awaiting_approval", "approved"
SENDING, PAUSED, DONE, CANCELLED = "sending", "paused", "done", "cancelled"
CAMPAIGN_STATES = (DRAFT, AWAITING_APPROVAL, APPROVED, SENDING, PAUSED, DONE, CANCELLED)

# A delivery goes PENDING → SENDING (leased by one sender) → SENT or FAILED; a
# transient failure puts it back to PENDING with a later not_before. SKIPPED: the
# person no longer qualified when their turn came; CANCELLED with its campaign.
PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
#: a pause_reason "auto:<share>:<window>": share % of the last window attempts failed
AUTO_PAUSE = "auto"
DELIVERY_STATES = (PENDING, SENDING, SENT, FAILED, SKIPPED, CANCELLED)


class Campaign(db.Model):
    """One message for an occasion, written in several languages, to one audience."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("state IN ('" + "', '".join(CAMPAIGN_STATES) + "')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    occasion_id: Mapped[int | None] = mapped_column(ForeignKey("occasion.id"))
    #: the date {{ occasion_date }} prints; the occasion's date in the campaign's year
    occasion_date: Mapped[date | None]
    audience_id: Mapped[int] = mapped_column(ForeignKey("audience.id"))
    #: the audience's filters as approved: later edits of the audience do not change it
    audience_filters: Mapped[dict | None] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    signature: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default=DRAFT, index=True)
    #: when to start (UTC); None sends as soon as it is approved
    scheduled_at: Mapped[datetime | None]
    #: send each person at LOCAL_MORNING_HOUR on the scheduled day in their country
    is_local_morning: Mapped[bool] = mapped_column(default=False)
    #: messages per second for the whole campaign, fixed at approval from the settings
    rate_per_second: Mapped[float | None]
    #: why sending stopped by itself (the error rate), shown to officers
    pause_reason: Mapped[str | None] = mapped_column(String(300))
    #: one sender at a time holds the campaign until this moment, renewed as it goes
    sender_until: Mapped[datetime | None]
    sender_token: Mapped[str | None] = mapped_column(String(40))
    recipients_count: Mapped[int | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    occasion: Mapped[Occasion | None] = relationship()
    audience: Mapped[Audience] = relationship()
    messages: Mapped[list["CampaignMessage"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan",
        order_by="CampaignMessage.lang")

    def message_in(self, lang: str) -> "CampaignMessage | None":
        """Return the campaign's subject and body in lang, if written."""
        return next((message for message in self.messages if message.lang == lang), None)

    def pause_text(self) -> str | None:
        """Return why the campaign paused itself, in the user's language."""
        kind, _sep, numbers = (self.pause_reason or "").partition(":")
        if kind != AUTO_PAUSE:
            return self.pause_reason
        share, _sep, window = numbers.partition(":")
        return gettext("%(share)s%% of the last %(window)s messages failed", share=share,
                       window=window)

    def content(self) -> dict:
        """Return the fields an audit diff compares."""
        return {"name": self.name, "occasion_id": self.occasion_id,
                "occasion_date": self.occasion_date.isoformat() if self.occasion_date
                else None,
                "audience_id": self.audience_id, "signature": self.signature,
                "scheduled_at": self.scheduled_at.isoformat() if self.scheduled_at else None,
                "is_local_morning": self.is_local_morning,
                "messages": {message.lang: [message.subject, message.body]
                             for message in self.messages}}


class CampaignMessage(db.Model):
    """The subject and body of a campaign in one language."""

    __tablename__ = "campaign_message"
    __table_args__ = (UniqueConstraint("campaign_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)

    campaign: Mapped[Campaign] = relationship(back_populates="messages")


class Delivery(db.Model):
    """One campaign's message to one person, and where its sending stands."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("campaign_id", "person_id"),
        # Senders look for the next due rows of a campaign in this order.
        Index("ix_delivery_due", "campaign_id", "status", "not_before"),
        CheckConstraint("status IN ('" + "', '".join(DELIVERY_STATES) + "')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                           index=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    #: not to be sent before this moment (UTC): the local morning, or a retry's backoff
    not_before: Mapped[datetime]
    #: how many times a sender took the row; the cap ends retries
    attempts: Mapped[int] = mapped_column(default=0)
    #: a row in SENDING belongs to the sender whose lease has not expired
    lease_until: Mapped[datetime | None]
    lease_token: Mapped[str | None] = mapped_column(String(40))
    #: the address and language the message went to, once sent
    address: Mapped[str | None] = mapped_column(String(254))
    lang: Mapped[str | None] = mapped_column(String(5))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    unsubscribed_at: Mapped[datetime | None]
