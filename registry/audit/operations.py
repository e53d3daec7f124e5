"""Writing to the audit trail and reading it back."""
import logging

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db

log = logging.getLogger(__name__)

# The kinds of event, for the filter on the audit page.
ACTIONS = (
    "login.success", "login.failed", "login.throttled", "logout", "access.refused",
    "session.end", "user.create", "user.update", "user.activate", "user.deactivate",
    "user.sign_out_all", "user.password_change", "user.password_reset",
    "user.totp_issue", "user.totp_enable", "user.totp_disable", "user.totp_reset",
    "person.create", "person.update", "person.status", "person.identity_viewed",
    "person.police_note", "person.erased", "export",
    "submission.open", "submission.accept", "submission.accept_batch", "submission.reject",
    "submission.resubmit", "submission.contact_verified", "submission.link_resent",
    "import.upload", "import.check", "import.run", "import.chunk", "import.undo",
    "rights.link_sent", "rights.link_unmatched", "consent.withdrawn",
    "subject_request.open", "subject_request.acknowledge", "subject_request.complete",
    "subject_request.refuse",
    "dedupe.start", "dedupe.run",
    "person.merge", "person.unmerge", "match.not_same",
    "report.create", "api_client.create", "api_client.revoke",
    "api.people_search", "api.person_read",
    "occasion.create", "occasion.update", "occasion.activate", "occasion.deactivate",
    "audience.create", "audience.update",
    "campaign.create", "campaign.update", "campaign.submit", "campaign.return",
    "campaign.approve", "campaign.start", "campaign.pause", "campaign.resume",
    "campaign.cancel", "campaign.finish", "campaign.auto_pause", "person.unsubscribe",
    "campaign.test_send", "campaign.export_failures",
)


def record(
    action: str,
    obj=None,
    *,
    object_type: str | None = None,
    object_id=None,
    details: dict | None = None,
    actor=None,
) -> AuditEvent:
    """Add an audit event for action on obj; the request's commit stores it."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = obj.id if object_id is None else object_id
    event = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details,
        **_actor_fields(actor),
        **_origin_fields(),
    )
    db.session.add(event)
    return event


def diff(before: dict, after: dict) -> dict:
    """Return the fields that changed, as {field: [before, after]}."""
    keys = sorted(set(before) | set(after))
    return {
        key: [before.get(key), after.get(key)]
        for key in keys
        if before.get(key) != after.get(key)
    }


def events_query(action: str | None = None, actor_id: int | None = None,
                 object_type: str | None = None, object_id: str | None = None):
    """Return a select of audit events, newest first, filtered as given."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == str(object_id))
    return query


def _actor_fields(actor) -> dict:
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    if actor is None:
        return {"actor_id": None, "actor_label": None}
    return {"actor_id": actor.id, "actor_label": actor.email}


def _origin_fields() -> dict:
    if not has_request_context():
        return {"address": None, "user_agent": "cli"}
    agent = (request.user_agent.string or "")[:255]
    return {"address": request.remote_addr, "user_agent": agent}
