"""Names for the codes that figures are keyed by, in the language in force."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from registry.extensions import db

OCCUPATION_GROUP_LABELS = {
    "workers": _l("Workers and trades"), "students": _l("Students"),
    "professionals": _l("Professionals"), "business": _l("Business"),
    "agriculture": _l("Agriculture and fishing"), "homemakers": _l("Homemakers"),
    "other": _l("Other occupations"),
}
TABLE_TITLES = {
    "country": _l("By country"), "unit": _l("By hometown (current unit)"),
    "district": _l("By former district"), "purpose": _l("By purpose of stay"),
    "gender": _l("By gender"), "age": _l("By age band"), "status": _l("By record status"),
    "month": _l("New registrations per month"), "occupation": _l("By occupation group"),
    "expertise": _l("By field of expertise"),
}


class Labels:
    """Turn codes into names; one instance per request or per file written."""

    def __init__(self):
        from registry.people import forms as people_forms

        self._people = people_forms
        self._units: dict[str, str] | None = None
        self._districts: dict[str, str] | None = None

    def of(self, table: str, key: str) -> str:
        """Return the name of key in one of the tables of the figures."""
        if key == "" or key is None:
            return _("Not recorded")
        method = {
            "country": self.country, "unit": self.unit, "district": self.district,
            "purpose": self.purpose, "gender": self.gender, "status": self.status,
            "occupation": self.occupation_group,
        }.get(table)
        return method(key) if method else str(key)

    def country(self, code: str | None) -> str:
        from registry.core.templating import country_label

        return country_label(code) if code else ""

    def unit(self, code: str | None) -> str:
        if self._units is None:
            from registry.places.models import Unit

            self._units = {unit.code: unit.full_name
                           for unit in db.session.scalars(select(Unit))}
        return self._units.get(code, code or "")

    def district(self, code: str | None) -> str:
        if self._districts is None:
            from registry.places.models import FormerDistrict

            self._districts = {district.code: district.full_name
                               for district in db.session.scalars(select(FormerDistrict))}
        return self._districts.get(code, code or "")

    def gender(self, code: str | None) -> str:
        return str(self._people.GENDER_LABELS.get(code or "", code)) if code else ""

    def purpose(self, code: str | None) -> str:
        return str(self._people.PURPOSE_LABELS.get(code, code)) if code else ""

    def residence(self, code: str | None) -> str:
        return str(self._people.RESIDENCE_LABELS.get(code, code)) if code else ""

    def status(self, code: str | None) -> str:
        return str(self._people.STATUS_LABELS.get(code, code)) if code else ""

    def occupation_group(self, code: str) -> str:
        return str(OCCUPATION_GROUP_LABELS.get(code, code))


def table_title(name: str) -> str:
    """Return the heading of one table of figures."""
    return str(TABLE_TITLES.get(name, name))
