"""Thanh Hóa people abroad: the record, its contacts, consents and history."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.time import utcnow
from registry.extensions import db

# Lifecycle of a record.
SUBMITTED, ACTIVE, ARCHIVED, MERGED, DECEASED, RETURNED, REJECTED = (
    "submitted", "active", "archived", "merged", "deceased", "returned", "rejected",
)
# A rejected record was never accepted into the registry; its author may correct it.
STATUSES = (SUBMITTED, ACTIVE, ARCHIVED, MERGED, DECEASED, RETURNED, REJECTED)
RESIDENCE_STATUSES = (
    "permanent_resident", "worker", "student", "naturalised", "dual_citizen", "other",
)
PURPOSES = ("labour", "study", "marriage", "family", "business", "other")
GENDERS = ("male", "female", "other")
EDUCATION_LEVELS = ("none", "primary", "secondary", "high_school", "vocational",
                    "college", "university", "postgraduate")
SOURCES = ("officer", "district", "self", "import")
CONSENT_PURPOSES = ("record", "greetings", "sharing")
PRECISIONS = ("day", "month", "year")


class Person(db.Model):
    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_status_updated", "status", "updated_at"),
        Index("ix_person_country_status", "country_code", "status", "updated_at"),
        Index("ix_person_hometown_status", "hometown_code", "status", "updated_at"),
        Index("ix_person_name_folded", "name_folded"),
        Index("ix_person_birth_year", "birth_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)

    full_name: Mapped[str] = mapped_column(String(120))  # as typed, NFC
    family_name: Mapped[str] = mapped_column(String(40))
    middle_name: Mapped[str] = mapped_column(String(80), default="")
    given_name: Mapped[str] = mapped_column(String(40))
    #: family, middle and given name folded: lower case, no diacritics, đ → d
    name_folded: Mapped[str] = mapped_column(String(120))
    #: the same with vowel marks and tones kept but tone placement normalised
    name_tone_key: Mapped[str] = mapped_column(String(160))
    gender: Mapped[str | None] = mapped_column(String(10))

    birth_year: Mapped[int | None]
    birth_month: Mapped[int | None]
    birth_day: Mapped[int | None]

    hometown_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"))
    #: the name the hometown was given by (a former commune, say), as typed
    hometown_given: Mapped[str | None] = mapped_column(String(120))
    hometown_former_code: Mapped[str | None] = mapped_column(
        ForeignKey("former_commune.code")
    )

    country_code: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    city: Mapped[str | None] = mapped_column(String(120))
    address_abroad: Mapped[str | None] = mapped_column(String(255))
    abroad_since: Mapped[date | None] = mapped_column(Date)
    residence_status: Mapped[str | None] = mapped_column(String(30))
    purpose: Mapped[str | None] = mapped_column(String(20))

    passport_number: Mapped[str | None] = mapped_column(String(20), index=True)
    national_id: Mapped[str | None] = mapped_column(String(20), index=True)

    occupation: Mapped[str | None] = mapped_column(String(120))
    employer: Mapped[str | None] = mapped_column(String(160))
    education_level: Mapped[str | None] = mapped_column(String(20))
    expertise: Mapped[str | None] = mapped_column(String(160))

    relative_name: Mapped[str | None] = mapped_column(String(120))
    relative_relation: Mapped[str | None] = mapped_column(String(60))
    relative_phone: Mapped[str | None] = mapped_column(String(20))
    relative_address: Mapped[str | None] = mapped_column(String(255))

    preferred_lang: Mapped[str] = mapped_column(String(5), default="vi")
    is_outreach_opted_out: Mapped[bool] = mapped_column(default=False)

    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    is_verified: Mapped[bool] = mapped_column(default=False)  # checked by the police
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    notes: Mapped[str | None] = mapped_column(Text)

    source: Mapped[str] = mapped_column(String(20), default="officer")
    source_ref: Mapped[str | None] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    phones: Mapped[list["Phone"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin",
        order_by="Phone.id",
    )
    emails: Mapped[list["Email"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin",
        order_by="Email.id",
    )
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )
    consents: Mapped[list["Consent"]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="Consent.id"
    )
    hometown = relationship("Unit", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}

    @property
    def birth_precision(self) -> str | None:
        if self.birth_year is None:
            return None
        if self.birth_month is None:
            return "year"
        return "month" if self.birth_day is None else "day"

    @property
    def is_personal_data_erased(self) -> bool:
        return self.full_name == ""

    def __repr__(self) -> str:
        return f"<Person {self.id}>"


class Phone(db.Model):
    __tablename__ = "person_phone"
    __table_args__ = (UniqueConstraint("person_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    #: the national significant number, so "090 123 4567" finds "+84901234567"
    national_digits: Mapped[str] = mapped_column(String(20), index=True)
    label: Mapped[str | None] = mapped_column(String(20))

    person: Mapped[Person] = relationship(back_populates="phones")


class Email(db.Model):
    __tablename__ = "person_email"
    __table_args__ = (UniqueConstraint("person_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(254), index=True)  # normalised, lower case
    is_verified: Mapped[bool] = mapped_column(default=False)

    person: Mapped[Person] = relationship(back_populates="emails")


class Association(db.Model):
    """An organisation of the diaspora, such as a Thanh Hóa association abroad."""

    __tablename__ = "association"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    name_folded: Mapped[str] = mapped_column(String(160), index=True)
    country_code: Mapped[str | None] = mapped_column(String(2))


class Membership(db.Model):
    __tablename__ = "membership"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    association_id: Mapped[int] = mapped_column(
        ForeignKey("association.id"), primary_key=True
    )
    role: Mapped[str | None] = mapped_column(String(80))

    person: Mapped[Person] = relationship(back_populates="memberships")
    association: Mapped[Association] = relationship(lazy="joined")


class Consent(db.Model):
    """A consent for one purpose, with how and when it was given or withdrawn."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_person_purpose", "person_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20))  # one of CONSENT_PURPOSES
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    notice_version: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))  # form, paper, phone, import
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    person: Mapped[Person] = relationship(back_populates="consents")

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class PoliceNote(db.Model):
    """A verification note seen only by the police and administrators."""

    __tablename__ = "police_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                           index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PersonVersion(db.Model):
    """A full copy of a record after each change, for its history page."""

    __tablename__ = "person_version"
    __table_args__ = (UniqueConstraint("person_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(30))  # create, update, status, merge...
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    snapshot: Mapped[dict] = mapped_column(JSON)
    changes: Mapped[dict | None] = mapped_column(JSON)  # {field: [before, after]}
