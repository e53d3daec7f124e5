"""Duplicate detection: match keys stored beside each person, candidate pairs,
the trained model, batch runs and merges that can be undone."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.time import utcnow
from registry.extensions import db

# Bands of a scored pair.
LIKELY, POSSIBLE = "likely", "possible"
BANDS = (LIKELY, POSSIBLE)
# What officers decided about a pair.
OPEN, MERGED, NOT_SAME, SKIPPED = "open", "merged", "not_same", "skipped"
PAIR_STATES = (OPEN, MERGED, NOT_SAME, SKIPPED)
# Batch runs.
RUN_QUEUED, RUN_RUNNING, RUN_DONE, RUN_FAILED = "queued", "running", "done", "failed"


class MatchKey(db.Model):
    """The normalised form of a person used for blocking and scoring.

    Written whenever the person is written, so that the entry-time check and the
    batch scan read the same keys. Phones and e-mails are not copied: the
    person_phone and person_email tables already hold them normalised.
    """

    __tablename__ = "match_key"
    __table_args__ = (
        Index("ix_match_key_name_year", "name_key", "birth_year"),
        Index("ix_match_key_given_birth", "given", "birth_year", "birth_month", "birth_day"),
        Index("ix_match_key_family_birth", "family", "birth_year", "birth_month", "birth_day"),
        Index("ix_match_key_birth_home", "birth_year", "birth_month", "birth_day",
              "hometown_code"),
        Index("ix_match_key_names_home", "given", "family", "hometown_code"),
        Index("ix_match_key_passport", "passport"),
        Index("ix_match_key_national_id", "national_id"),
    )

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    family: Mapped[str] = mapped_column(String(40), default="")  # folded
    family_tone: Mapped[str] = mapped_column(String(60), default="")
    middle: Mapped[str] = mapped_column(String(80), default="")  # folded
    given: Mapped[str] = mapped_column(String(40), default="")  # folded
    given_tone: Mapped[str] = mapped_column(String(60), default="")
    #: the given name was typed with its marks (not "Huong" for Hương)
    given_marked: Mapped[bool] = mapped_column(default=False)
    #: the folded name words sorted, so that any word order agrees
    name_key: Mapped[str] = mapped_column(String(120), default="")
    initials: Mapped[str] = mapped_column(String(10), default="")
    gender: Mapped[str | None] = mapped_column(String(10))  # recorded, or told by Thị/Văn
    birth_year: Mapped[int | None]
    birth_month: Mapped[int | None]
    birth_day: Mapped[int | None]
    #: 1 January is often typed when only the year is known
    birth_placeholder: Mapped[bool] = mapped_column(default=False)
    hometown_code: Mapped[str | None] = mapped_column(String(10))  # the current unit
    country_code: Mapped[str | None] = mapped_column(String(2))
    passport: Mapped[str | None] = mapped_column(String(20))
    national_id: Mapped[str | None] = mapped_column(String(20))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MatchModel(db.Model):
    """Trained scoring parameters, saved so that every path scores alike."""

    __tablename__ = "match_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    record_count: Mapped[int] = mapped_column(default=0)
    parameters: Mapped[dict] = mapped_column(JSON)
    is_current: Mapped[bool] = mapped_column(default=True, index=True)


class DedupeRun(db.Model):
    """One batch scan of all active and pending people."""

    __tablename__ = "dedupe_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default=RUN_QUEUED)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: 0 to 100, shown as the progress bar
    progress: Mapped[int] = mapped_column(default=0)
    stage: Mapped[str | None] = mapped_column(String(40))
    people_scanned: Mapped[int] = mapped_column(default=0)
    pairs_found: Mapped[int] = mapped_column(default=0)
    pairs_new: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(255))


class MatchPair(db.Model):
    """Two records that may be one person, with the score and why.

    The lower person id is always person_a, so a pair is stored once; a decided
    pair keeps its state and is never proposed again.
    """

    __tablename__ = "match_pair"
    __table_args__ = (
        UniqueConstraint("person_a_id", "person_b_id"),
        CheckConstraint("person_a_id < person_b_id", name="ck_match_pair_order"),
        Index("ix_match_pair_state_score", "state", "score"),
        Index("ix_match_pair_b", "person_b_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_a_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    person_b_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    score: Mapped[float]  # match probability, 0 to 1
    weight: Mapped[float]  # match weight in bits (log2 of the Bayes factor and prior)
    band: Mapped[str] = mapped_column(String(10))  # one of BANDS
    #: [{"field": ..., "level": ..., "weight": ...}, ...]
    explanation: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(10), default=OPEN)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    found_by_run_id: Mapped[int | None] = mapped_column(ForeignKey("dedupe_run.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    merge_id: Mapped[int | None] = mapped_column(ForeignKey("person_merge.id"))

    person_a = relationship("Person", foreign_keys=[person_a_id], lazy="joined")
    person_b = relationship("Person", foreign_keys=[person_b_id], lazy="joined")


class Merge(db.Model):
    """Records absorbed into a survivor, with all that is needed to undo it.

    ``before`` holds a full copy of every record taken part, contacts, consents
    and memberships included; ``moved`` lists the rows of other tables whose
    person_id was changed to the survivor's, so undo can move them back.
    """

    __tablename__ = "person_merge"

    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    absorbed_ids: Mapped[list] = mapped_column(JSON)
    #: {field: person id whose value survived}
    chosen: Mapped[dict] = mapped_column(JSON)
    before: Mapped[dict] = mapped_column(JSON)
    moved: Mapped[dict] = mapped_column(JSON)
    survivor_version: Mapped[int]  # the survivor's version right after the merge
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    survivor = relationship("Person", foreign_keys=[survivor_id], lazy="joined")

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None
