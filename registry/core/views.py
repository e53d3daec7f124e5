"""Pages that belong to no domain: the home page and the language switch."""
from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user

from registry.core.security import safe_next

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    """Show the start page for the signed-in role, or send to sign-in."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return render_template("core/home.html")


@bp.post("/lang/<code>")
def set_language(code: str):
    """Switch the interface language and return to the page the user was on."""
    if code not in ("vi", "en"):
        abort(404)
    session["lang"] = code
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))


@bp.get("/healthz")
def health():
    """Answer that the application runs (for load balancers)."""
    return {"status": "ok"}
