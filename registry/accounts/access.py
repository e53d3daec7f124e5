"""Who is signed in, what they may open, and which units they may see.

Other domains use `requires(capability)` on views, `signed_in` for pages open to
any member of staff, and `scope_units(user)` where they query records.
"""
import functools
import hmac

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts import operations, roles
from registry.accounts.models import AREA_COMMUNE, User
from registry.core.security import safe_next
from registry.extensions import db, login_manager

STEP_ENDPOINTS = {
    operations.STEP_CODE: "accounts.two_factor",
    operations.STEP_PASSWORD: "accounts.change_password",
    operations.STEP_ENROL: "accounts.two_factor_setup",
}
# Endpoints that never look at the session's user.
UNCHECKED = frozenset({"static", "core.health"})
# Endpoints a user half-way through signing in may still open.
OPEN_WHILE_PENDING = frozenset({"accounts.login", "accounts.logout", "core.set_language"})


def init_app(app) -> None:
    """Install the user loader, the sign-in redirect and the session checks on app."""
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(ask_to_sign_in)
    app.before_request(check_session)
    app.jinja_env.globals["signed_in"] = operations.is_signed_in


def requires(capability: str):
    """Return a view decorator: anonymous users sign in first, others need capability."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not operations.is_signed_in() or not current_user.is_authenticated:
                return ask_to_sign_in()
            if not current_user.can(capability):
                abort(403)  # the error handler logs and audits the refusal
            return view(*args, **kwargs)

        return wrapped

    return decorator


def signed_in(view):
    """Let any member of staff who finished signing in open view."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not operations.is_signed_in() or not current_user.is_authenticated:
            return ask_to_sign_in()
        return view(*args, **kwargs)

    return wrapped


def scope_units(user: User) -> set[str] | None:
    """Return the current unit codes user may see records of; None means all units."""
    if user.can("people.read_all"):
        return None
    if user.role != roles.DISTRICT or not user.can("people.read"):
        return set()
    from registry.places import operations as places

    codes = set()
    for area in user.areas:
        if area.kind == AREA_COMMUNE:
            codes.add(area.code)
        else:
            codes.update(places.units_in_former_district(area.code))
    return codes


def load_user(user_id: str) -> User | None:
    """Return the user of a session's "id:token", or None if the token is stale."""
    ident, _sep, token = (user_id or "").partition(":")
    if not ident.isdigit() or not token:
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.is_active:
        return None
    return user if hmac.compare_digest(user.session_token, token) else None


def ask_to_sign_in():
    """Send an anonymous visitor to the sign-in page, then back to where they were."""
    if request.path.startswith("/api/"):
        abort(401)
    flash(_("Please sign in to open this page."), "info")
    return _to_login()


def check_session():
    """End stale or timed-out sessions; hold a half-done sign-in at its next step."""
    if request.endpoint in UNCHECKED or "_user_id" not in session:
        return None
    reason = operations.session_end_reason()
    if reason is None and not current_user.is_authenticated:
        reason = "stale"
    if reason:
        operations.end_session(reason)
        return _session_ended()

    operations.touch_session()
    step = operations.pending_step(current_user)
    if step is None and not operations.is_signed_in():
        operations.end_session("incomplete")  # a step was undone elsewhere meanwhile
        return _session_ended()
    if step and request.endpoint not in OPEN_WHILE_PENDING | {STEP_ENDPOINTS[step]}:
        return redirect(url_for(STEP_ENDPOINTS[step]))
    return None


def _session_ended():
    if request.path.startswith("/api/"):
        abort(401)
    flash(_("Your session has ended. Please sign in again."), "warning")
    return _to_login()


def _to_login():
    asked_for_page = request.method == "GET" and request.endpoint != "accounts.login"
    target = request.full_path.rstrip("?") if asked_for_page else None
    response = redirect(url_for("accounts.login", next=safe_next(target)))
    if request.headers.get("HX-Request"):
        response.headers["HX-Redirect"] = response.location  # htmx swaps, not follows
    return response
