"""Error pages in the user's language, and the refusals that are audited."""
import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from registry.extensions import db

log = logging.getLogger(__name__)

TITLES = {
    400: _l("The request could not be understood"),
    401: _l("Please sign in"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("This action is not allowed here"),
    410: _l("This no longer exists"),
    413: _l("The upload is too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong on our side"),
}
HINTS = {
    403: _l("If you think you should have access, ask an administrator."),
    404: _l("The address may be mistyped, or the record is not available to you."),
    429: _l("Please wait a few minutes and try again."),
    500: _l("The error has been logged. Please try again later."),
}


class BadInput(Exception):
    """Input that cannot be processed; its message is shown to the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def init_app(app: Flask) -> None:
    """Install the error handlers on app."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(BadInput, _bad_input)
    app.register_error_handler(Exception, _unexpected)


def render_error(code: int, message: str | None = None):
    """Return the error page for code, as a (body, status) pair."""
    if _wants_json():
        return {"error": str(message or TITLES.get(code, "")), "status": code}, code
    page = render_template(
        "errors/error.html",
        code=code,
        title=TITLES.get(code, TITLES[500]),
        hint=HINTS.get(code),
        message=message,
    )
    return page, code


def _http_error(error: HTTPException):
    code = error.code or 500
    if code in (401, 403):
        _audit_refusal(code)
    message = error.description if getattr(error, "show_message", False) else None
    return render_error(code, message)


def _bad_input(error: BadInput):
    return render_error(400, error.message)


def _unexpected(error: Exception):
    db.session.rollback()
    log.exception("Unhandled error on %s %s", request.method, request.path)
    return render_error(500)


def _audit_refusal(code: int) -> None:
    from registry.audit import operations as audit
    from registry.core.setup import keep_changes_on_error

    db.session.rollback()
    audit.record("access.refused", details={"path": request.path, "status": code})
    keep_changes_on_error()
    log.warning("Access refused to %s %s", request.method, request.path)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )
