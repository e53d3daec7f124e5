"""Roles and what each may do; checks elsewhere ask for a capability, not a role."""
from flask_babel import lazy_gettext as _l

ADMIN = "admin"
OFFICER = "officer"
POLICE = "police"
DISTRICT = "district"
VIEWER = "viewer"

ROLE_LABELS = {
    ADMIN: _l("Administrator"),
    OFFICER: _l("Foreign affairs officer"),
    POLICE: _l("Police officer"),
    DISTRICT: _l("District or commune official"),
    VIEWER: _l("Statistics viewer"),
}
ROLES = tuple(ROLE_LABELS)
# Roles that hold personal data of the whole province must use two-factor sign-in.
TWO_FACTOR_REQUIRED = frozenset({ADMIN, OFFICER, POLICE})

CAPABILITIES = {
    "people.read": {ADMIN, OFFICER, POLICE, DISTRICT},
    "people.read_all": {ADMIN, OFFICER, POLICE},
    "people.write": {ADMIN, OFFICER, DISTRICT},
    "people.set_status": {ADMIN, OFFICER},
    "people.identity": {ADMIN, OFFICER, POLICE, DISTRICT},
    "people.police_notes": {ADMIN, POLICE},
    "people.verify": {POLICE},
    "people.export": {ADMIN, OFFICER, DISTRICT},
    "review.manage": {ADMIN, OFFICER},
    "duplicates.manage": {ADMIN, OFFICER},
    "imports.manage": {ADMIN, OFFICER},
    "outreach.manage": {ADMIN, OFFICER},
    "stats.read": {ADMIN, OFFICER, POLICE, DISTRICT, VIEWER},
    "reports.annual": {ADMIN, OFFICER},
    "api.manage": {ADMIN},
    "audit.read": {ADMIN},
    "users.manage": {ADMIN},
    "places.manage": {ADMIN},
}


def can(role: str | None, capability: str) -> bool:
    """Tell whether role holds capability."""
    return role in CAPABILITIES.get(capability, ())
