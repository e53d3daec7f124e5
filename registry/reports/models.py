"""Figures kept for reading fast, annual reports frozen when built, API clients."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.time import utcnow
from registry.extensions import db


class StatCell(db.Model):
    """One cached count: people of a unit with one value of one dimension.

    The whole table is rebuilt at once from the person table (see
    registry.reports.statistics); an empty string stands for "not recorded".
    """

    __tablename__ = "stat_cell"

    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int]


class StatBuild(db.Model):
    """When the cached counts were last rebuilt, and how long it took."""

    __tablename__ = "stat_build"

    id: Mapped[int] = mapped_column(primary_key=True)
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    seconds: Mapped[float] = mapped_column(default=0.0)
    cell_count: Mapped[int] = mapped_column(default=0)


class AnnualReport(db.Model):
    """A report for one year, with every figure frozen when it was built."""

    __tablename__ = "annual_report"
    __table_args__ = (Index("ix_annual_report_year", "year", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    cut_off: Mapped[date] = mapped_column(Date)  # figures count records up to this day
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    seconds: Mapped[float] = mapped_column(default=0.0)  # time taken to build
    #: {"totals": {...}, "tables": {name: [[key, count], ...]}}
    figures: Mapped[dict] = mapped_column(JSON)


class ApiClient(db.Model):
    """A partner system allowed to read the API, with the scope of a role."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    #: the public start of the token, to find the client without scanning hashes
    token_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the whole token
    role: Mapped[str] = mapped_column(String(20))  # officer, district or viewer
    #: [{"kind": "commune" | "former_district", "code": ...}] for a district token
    areas: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
