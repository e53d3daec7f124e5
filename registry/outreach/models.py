"""Occasions the Department writes to Thanh Hóa people abroad for."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

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
