"""The read-only JSON API for partner systems under /api/v1.

A client sends "Authorization: Bearer <token>"; the token was issued by an
administrator and acts as a role (registry.reports.operations.ApiPrincipal),
so a district token sees its district and a viewer token only suppressed figures.
The API takes no cookies and changes nothing, so CSRF does not apply to it.
"""
from flask import Blueprint, abort, current_app, g, jsonify, request

from registry.audit import operations as audit
from registry.core.setup import wants_write
from registry.extensions import csrf, db, limiter
from registry.people import operations as people
from registry.reports import forms, openapi, operations, statistics

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
MAX_PER_PAGE = 100
MAX_ID = 2**63 - 1


def _client_key() -> str:
    token = _bearer() or ""
    return "api:" + token[:17]  # "reg_" and the public prefix: one bucket per client


# Every call is limited per client token (API_RATE_LIMIT, default 120 a minute).
limiter.limit(lambda: current_app.config.get("API_RATE_LIMIT", "120 per minute"),
              key_func=_client_key)(bp)


@bp.before_request
def _authenticate():
    wants_write()  # calls are audited: SQLite takes the write lock at the start
    if request.endpoint == "api.openapi_document":
        return None
    client = operations.client_of_token(_bearer())
    if client is None:
        abort(401)
    g.api_client = client
    g.principal = operations.ApiPrincipal(client)
    operations.note_use(client)
    return None


@bp.get("/openapi.json")
def openapi_document():
    """Return the OpenAPI document of this API."""
    return jsonify(openapi.document())


@bp.get("/people")
def people_search():
    """Return a page of people matching the filters, within the token's scope."""
    principal = _principal_reading_people()
    criteria = forms.criteria_from(request.args, see_every_status=False)
    page = _positive(request.args.get("page"), 1, 10_000)
    per_page = _positive(request.args.get("per_page"), 20, MAX_PER_PAGE)
    found, total, capped = people.find_people(criteria, principal, page, per_page)

    _audit("api.people_search", details={"filter": operations.describe(criteria),
                                         "page": page, "rows": len(found)})
    return {"page": page, "per_page": per_page, "total": total, "is_total_capped": capped,
            "people": [_person(person) for person in found]}


@bp.get("/people/<int:person_id>")
def person_record(person_id: int):
    """Return one person's record, if it is within the token's scope."""
    principal = _principal_reading_people()
    if person_id > MAX_ID:
        abort(404)  # no such record, and the database cannot even compare the number
    person = people.get_visible(person_id, principal)
    _audit("api.person_read", object_id=person.id)
    return _person(person, full=True)


@bp.get("/statistics")
def statistics_figures():
    """Return the figures of the token's scope, small counts hidden for viewer tokens."""
    figures = statistics.figures_for(g.principal)
    return {"total": figures.total.as_dict(), "is_suppressed": figures.is_suppressed,
            "as_of": figures.as_of.isoformat() if figures.as_of else None,
            "tables": {name: table.as_dict() for name, table in figures.tables.items()}}


def _principal_reading_people():
    principal = g.principal
    if not principal.can("people.read"):
        abort(403)
    return principal


def _person(person, full: bool = False) -> dict:
    data = {"id": person.id, "full_name": person.full_name, "gender": person.gender,
            "birth_year": person.birth_year, "hometown_code": person.hometown_code,
            "country_code": person.country_code, "city": person.city,
            "purpose": person.purpose, "status": person.status,
            "updated_at": person.updated_at.isoformat() if person.updated_at else None}
    if full:
        data.update({
            "birth_month": person.birth_month, "birth_day": person.birth_day,
            "hometown_given": person.hometown_given,
            "residence_status": person.residence_status,
            "occupation": person.occupation, "expertise": person.expertise,
            "education_level": person.education_level,
            "is_verified": person.is_verified,
        })
    return data


def _audit(action: str, object_id=None, details: dict | None = None) -> None:
    client = g.api_client
    audit.record(action, object_type="person" if object_id else None, object_id=object_id,
                 details={"api_client": client.id, "client_name": client.name,
                          **(details or {})})
    db.session.flush()


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


def _positive(value, default: int, highest: int) -> int:
    try:
        number = int(value) if value is not None else default
    except ValueError:
        abort(400)
    if number < 1:
        abort(400)
    return min(number, highest)
