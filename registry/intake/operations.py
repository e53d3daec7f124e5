"""Submissions and the review queue: what waits for an officer, and deciding it."""
import logging
import secrets

from sqlalchemy import func, select

from registry.audit import operations as audit
from registry.core.time import utcnow
from registry.extensions import db
from registry.intake.models import DISTRICT, PENDING, Submission

log = logging.getLogger(__name__)


def open_submission(person, kind: str, actor=None, batch_id: int | None = None,
                    **evidence) -> Submission:
    """Put person in the review queue as a submission of kind; return it."""
    submission = Submission(person_id=person.id, kind=kind, reference=new_reference(),
                            submitted_by_id=actor.id if actor else None, batch_id=batch_id,
                            **evidence)
    db.session.add(submission)
    db.session.flush()

    audit.record("submission.open", submission, details={"kind": kind, "person": person.id})
    log.info("Submission %s opened for person %s (%s)", submission.id, person.id, kind)
    return submission


def new_reference() -> str:
    """Return a fresh reference number such as TH-2026-K7Q2M9."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    code = "".join(secrets.choice(alphabet) for _ in range(6))
    return f"TH-{utcnow().year}-{code}"


def pending_count() -> int:
    """Return how many submissions wait for review."""
    query = select(func.count(Submission.id)).where(Submission.state == PENDING)
    return db.session.scalar(query) or 0


def on_person_submitted(person, actor=None, source: str | None = None) -> None:
    """Open a district submission when a district official enters a person."""
    if source == DISTRICT:
        open_submission(person, DISTRICT, actor)
