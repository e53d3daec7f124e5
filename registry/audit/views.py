"""The audit trail, for administrators: browse and filter, never change."""
from flask import Blueprint, render_template, request

from registry.accounts.access import requires
from registry.audit import operations
from registry.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 100


@bp.get("/")
@requires("audit.read")
def index():
    """List audit events, newest first, filtered by action, actor or object."""
    filters = {
        "action": request.args.get("action", "")[:60] or None,
        "actor_id": request.args.get("actor_id", type=int),
        "object_type": request.args.get("object_type", "")[:40] or None,
        "object_id": request.args.get("object_id", "")[:40] or None,
    }
    page = max(request.args.get("page", 1, type=int), 1)
    query = operations.events_query(**filters)
    events = db.session.scalars(query.limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE)).all()
    return render_template("audit/index.html", events=events[:PER_PAGE], filters=filters,
                           page=page, has_next=len(events) > PER_PAGE,
                           actions=operations.ACTIONS)
