"""How a record reached the registry, and where it stands in the review queue."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.time import utcnow
from registry.extensions import db

# Where a submission came from.
SELF, DISTRICT, IMPORT = "self", "district", "import"
KINDS = (SELF, DISTRICT, IMPORT)
# Where it stands.
PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
STATES = (PENDING, ACCEPTED, REJECTED)


class Submission(db.Model):
    """A person entered by someone other than an officer, waiting for review."""

    __tablename__ = "submission"
    __table_args__ = (Index("ix_submission_state_kind", "state", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # one of KINDS
    state: Mapped[str] = mapped_column(String(20), default=PENDING)
    #: the number given to the person who registered, e.g. "TH-2026-004217"
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: the import batch a spreadsheet row came in with
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), index=True)
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str | None] = mapped_column(Text)  # why it was not accepted
    times_submitted: Mapped[int] = mapped_column(default=1)

    # Evidence of a self-registration: the address to confirm, the notice shown.
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_verified_at: Mapped[datetime | None]
    notice_version: Mapped[str | None] = mapped_column(String(20))
    notice_shown_at: Mapped[datetime | None]
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    person = relationship("Person", lazy="joined")

    @property
    def is_contact_verified(self) -> bool:
        return self.contact_verified_at is not None
