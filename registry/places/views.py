"""Suggestions while typing a hometown or a country: JSON, or an htmx fragment."""
from flask import Blueprint, jsonify, render_template, request
from registry.accounts.access import requires, signed_in
from registry.extensions import limiter
from registry.places import operations

bp = Blueprint("places", __name__, url_prefix="/places")
MAX_QUERY = 80  # longer than any unit or country name with its district


@bp.get("/")
@requires("places.manage")
def index():
    """Show Thanh Hóa's current units with the former communes each took over."""
    return render_template("places/index.html", lineage=operations.lineage(),
                           q=_query())


@bp.get("/units")
@signed_in
def units():
    """Return the units whose current or former name starts like ?q=."""
    return _respond(operations.search_units(_query()))


@bp.get("/public/units")
@limiter.limit("60 per minute")
def public_units():
    """Return the same suggestions for the public registration form."""
    return _respond(operations.search_units(_query()))


@bp.get("/countries")
@limiter.limit("60 per minute")
def countries():
    """Return the countries whose English or Vietnamese name starts like ?q=."""
    return _respond(operations.search_countries(_query()))


def _query() -> str:
    return request.args.get("q", "", type=str)[:MAX_QUERY]


def _respond(suggestions: list[dict]):
    if request.headers.get("HX-Request"):
        return render_template("places/_suggestions.html", suggestions=suggestions)
    return jsonify(suggestions)
