"""The public unsubscribe pages: the link in every message and the one-click POST."""
from flask import Blueprint, render_template, request
from flask_babel import force_locale

from registry.extensions import csrf, limiter
from registry.outreach import unsubscribing

bp = Blueprint("unsubscribe", __name__)
# A mail program's one-click POST (RFC 8058) carries no CSRF token, and needs none:
# the signed token in the address is the only thing that acts.
csrf.exempt(bp)
MAX_TOKEN = 200


@bp.get("/unsubscribe/<token>")
@limiter.limit("60 per hour")
def confirm(token: str):
    """Ask the reader to confirm; a GET changes nothing, since link checkers fetch links."""
    delivery = unsubscribing.delivery_for(token[:MAX_TOKEN])
    if delivery is None:
        return render_template("outreach/unsubscribe_unknown.html"), 404
    return render_template("outreach/unsubscribe.html", token=token)


@bp.post("/unsubscribe/<token>")
@limiter.limit("60 per hour")
def unsubscribe(token: str):
    """Opt the recipient out at once, from the page's button or a mail program."""
    delivery = unsubscribing.delivery_for(token[:MAX_TOKEN])
    if delivery is None:
        return render_template("outreach/unsubscribe_unknown.html"), 404

    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    unsubscribing.unsubscribe(delivery, "one-click" if one_click else "page")
    if one_click:
        return "", 204
    return render_template("outreach/unsubscribed.html")
