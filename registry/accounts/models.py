"""Staff accounts, the areas assigned to district officials, and sign-in records."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.accounts import roles
from registry.core.time import utcnow
from registry.extensions import db

AREA_COMMUNE = "commune"  # a current commune-level unit, by its code
AREA_FORMER_DISTRICT = "former_district"  # a district before 1 July 2025: its current units


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    #: set when an admin issues a one-time password; the user must choose a new one
    must_change_password: Mapped[bool] = mapped_column(default=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    is_totp_confirmed: Mapped[bool] = mapped_column(default=False)
    #: the time step of the last accepted code, so that no code works twice
    totp_last_step: Mapped[int | None]
    is_active_account: Mapped[bool] = mapped_column(default=True)
    preferred_lang: Mapped[str] = mapped_column(String(5), default="vi")
    #: changes on password change or forced sign-out; sessions carry it
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    areas: Mapped[list["UserArea"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def can(self, capability: str) -> bool:
        """Tell whether this user's role holds capability."""
        return roles.can(self.role, capability)

    @property
    def needs_two_factor(self) -> bool:
        return self.role in roles.TWO_FACTOR_REQUIRED or self.is_totp_confirmed

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class UserArea(db.Model):
    __tablename__ = "user_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # AREA_COMMUNE or AREA_FORMER_DISTRICT
    code: Mapped[str] = mapped_column(String(10))

    user: Mapped[User] = relationship(back_populates="areas")


class LoginFailure(db.Model):
    """One failed sign-in; counted across workers to throttle guessing."""

    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_email_at", "email", "failed_at"),
        Index("ix_login_failure_address_at", "address", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)
