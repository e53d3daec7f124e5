"""Spreadsheet imports: a batch per file, a row per line of it."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.time import utcnow
from registry.extensions import db

# A batch's life: uploaded (waiting for its columns to be mapped), checking (the
# dry run), checked, importing, imported, undoing, undone; failed when the file
# turned out unreadable during the dry run.
CHECKED, IMPORTING, IMPORTED, UNDONE, FAILED = (
    "checked", "importing", "imported", "undone", "failed")
UPLOADED, CHECKING, UNDOING = "uploaded", "checking", "undoing"
RUNNING = (CHECKING, IMPORTING, UNDOING)
# What the dry run found for a row.
VALID, INVALID, DUPLICATE_IN_FILE, ALREADY_IMPORTED, PROBABLY_EXISTS = (
    "valid", "invalid", "duplicate_in_file", "already_imported", "probably_exists")


class ImportBatch(db.Model):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of the file, so that the same file is recognised when sent again
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    source_name: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(20), default=CHECKED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: {column in the file: registry field}, every named column in the file's
    #: order, None for a column not (yet) mapped to a field
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    row_count: Mapped[int] = mapped_column(default=0)
    valid_count: Mapped[int] = mapped_column(default=0)
    invalid_count: Mapped[int] = mapped_column(default=0)
    duplicate_count: Mapped[int] = mapped_column(default=0)
    imported_count: Mapped[int] = mapped_column(default=0)  # progress while importing
    #: the background job at work on the batch; None once it has ended, so a
    #: batch still importing or undoing without a job was interrupted
    job_id: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None]
    undone_at: Mapped[datetime | None]


class ImportRow(db.Model):
    """One line of an imported file, its verdict and what it became."""

    __tablename__ = "import_row"
    __table_args__ = (
        UniqueConstraint("batch_id", "row_number"),
        Index("ix_import_row_batch_status", "batch_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id", ondelete="CASCADE"))
    #: as the spreadsheet numbers it, header = 1; 0 is the file as a whole, for
    #: the reason a dry run failed
    row_number: Mapped[int]
    source_ref: Mapped[str | None] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(20))  # VALID, INVALID...
    #: [{"column": ..., "message": ...}] for invalid rows
    errors: Mapped[list | None] = mapped_column(JSON)
    #: the cleaned values of a row to import, as imports.rows.RowChecker makes them
    data: Mapped[dict | None] = mapped_column(JSON)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
