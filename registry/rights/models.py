"""Requests from people about their own data (Law 91/2025/QH15, Decree 356/2025)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.time import utcnow
from registry.extensions import db

ACCESS, CORRECTION, WITHDRAWAL, DELETION = "access", "correction", "withdrawal", "deletion"
KINDS = (ACCESS, CORRECTION, WITHDRAWAL, DELETION)
OPEN, ACKNOWLEDGED, COMPLETED, REFUSED = "open", "acknowledged", "completed", "refused"
STATES = (OPEN, ACKNOWLEDGED, COMPLETED, REFUSED)
#: states of a ticket an officer still has to act on
PENDING = (OPEN, ACKNOWLEDGED)


class SubjectRequest(db.Model):
    """A ticket for an officer: what the person asked, and the legal clock."""

    __tablename__ = "subject_request"
    __table_args__ = (Index("ix_subject_request_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: kept after an erasure, to tie the ticket to the audit trail's tombstone
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # one of KINDS
    state: Mapped[str] = mapped_column(String(20), default=OPEN)
    details: Mapped[str | None] = mapped_column(Text)  # what to correct, and so on
    consent_purpose: Mapped[str | None] = mapped_column(String(20))  # for a withdrawal
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledge_by: Mapped[datetime]  # two working days after receipt
    due_at: Mapped[datetime]  # fifteen days after receipt
    acknowledged_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))  # of the person who asked

    person = relationship("Person", lazy="joined")

    @property
    def is_pending(self) -> bool:
        return self.state in PENDING
