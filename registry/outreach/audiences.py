"""Audiences: saved filters of the people a campaign writes to; the request commits.

Filters are a dict with the keys of EMPTY_FILTERS. Whatever they say, nobody without an
active consent to greetings, opted out of outreach, merged, deceased or without an address
for the channel is ever in an audience.
"""
import logging

import pycountry
from flask_babel import gettext as _
from sqlalchemy import exists, func, select

from registry.audit import operations as audit
from registry.core.errors import BadInput
from registry.core.time import vietnam_today
from registry.extensions import db
from registry.outreach.models import Audience
from registry.people.models import (ACTIVE, DECEASED, MERGED, STATUSES, Association, Consent,
                                    Email, Membership, Person)
from registry.places import operations as places
from registry.places.models import FormerDistrict, Unit

log = logging.getLogger(__name__)

EMAIL = "email"
CHANNELS = (EMAIL,)
#: statuses no filter can bring into an audience
NEVER = (MERGED, DECEASED)
LANGUAGES = ("vi", "en")
MAX_AGE = 130
EMPTY_FILTERS = {"countries": [], "units": [], "statuses": [ACTIVE], "associations": [],
                 "languages": [], "age_min": None, "age_max": None}
MAX_PAGE = 5000


def audience_query(filters: dict, channel: str = EMAIL):
    """Return a select of the ids of the people filters and the fixed exclusions let in."""
    filters = {**EMPTY_FILTERS, **filters}
    query = select(Person.id).where(*_always(channel),
                                    _statuses_condition(filters["statuses"]))

    if filters["countries"]:
        query = query.where(Person.country_code.in_(filters["countries"]))
    if filters["units"]:
        query = query.where(Person.hometown_code.in_(_current_units(filters["units"])))
    if filters["associations"]:
        query = query.where(exists().where(
            Membership.person_id == Person.id,
            Membership.association_id.in_(filters["associations"])))
    if filters["languages"]:
        query = query.where(Person.preferred_lang.in_(filters["languages"]))
    return query.where(*_age_range(filters["age_min"], filters["age_max"]))


def count(filters: dict, channel: str = EMAIL) -> int:
    """Return how many people the audience reaches now, in one query."""
    inner = audience_query(filters, channel).subquery()
    return db.session.scalar(select(func.count()).select_from(inner))


def members(filters: dict, after_id: int = 0, limit: int = 1000,
            channel: str = EMAIL) -> list[int]:
    """Return the next limit person ids after after_id, in id order (keyset pagination)."""
    limit = max(1, min(limit, MAX_PAGE))
    query = (audience_query(filters, channel).where(Person.id > after_id)
             .order_by(Person.id).limit(limit))
    return list(db.session.scalars(query))


def save_audience(name: str, filters: dict, actor) -> Audience:
    """Add an audience after checking name and filters, audited."""
    name, filters = _checked_name(name), clean_filters(filters)
    audience = Audience(name=name, filters=filters, created_by_id=actor.id)
    db.session.add(audience)
    db.session.flush()

    audit.record("audience.create", audience,
                 details={"name": name, "filters": filters}, actor=actor)
    log.info("Audience %s added by user %s", audience.id, actor.id)
    return audience


def update_audience(audience: Audience, name: str, filters: dict, actor) -> bool:
    """Change the audience's name and filters; tell whether anything changed."""
    before = {"name": audience.name, "filters": audience.filters}
    after = {"name": _checked_name(name), "filters": clean_filters(filters)}
    changes = audit.diff(before, after)
    if not changes:
        return False

    audience.name, audience.filters = after["name"], after["filters"]
    db.session.flush()
    audit.record("audience.update", audience, details={"changes": changes}, actor=actor)
    log.info("Audience %s changed by user %s: %s", audience.id, actor.id, sorted(changes))
    return True


def clean_filters(filters: dict) -> dict:
    """Return filters with every key, codes upper-case and sorted; refuse unknown values."""
    unknown = set(filters) - set(EMPTY_FILTERS)
    if unknown:
        raise ValueError(f"unknown audience filter keys: {sorted(unknown)}")
    filters = {**EMPTY_FILTERS, **filters}
    clean = {
        "countries": _countries(filters["countries"]),
        "units": _units(filters["units"]),
        "statuses": _statuses(filters["statuses"]),
        "associations": _associations(filters["associations"]),
        "languages": _languages(filters["languages"]),
    }
    clean["age_min"], clean["age_max"] = _ages(filters["age_min"], filters["age_max"])
    return clean


def reachable_condition(channel: str = EMAIL) -> list:
    """Return the conditions on Person of being reachable now, whatever the filters."""
    return _always(channel)


def _always(channel: str) -> list:
    """Return the conditions every audience has, whatever its filters."""
    if channel not in CHANNELS:
        # TODO: SMS and Zalo need a usable phone number; add them with their channels.
        raise ValueError(f"no audiences for channel {channel!r} yet")
    greetings = exists().where(Consent.person_id == Person.id,
                               Consent.purpose == "greetings",
                               Consent.withdrawn_at.is_(None))
    address = exists().where(Email.person_id == Person.id)
    return [greetings, address, Person.is_outreach_opted_out.is_(False),
            Person.status.not_in(NEVER)]


def _statuses_condition(statuses: list[str]):
    return Person.status.in_([status for status in statuses if status not in NEVER])


def _current_units(codes: list[str]) -> set[str]:
    """Return the current unit codes codes stand for; a former district is its units."""
    districts = set(db.session.scalars(select(FormerDistrict.code)
                                       .where(FormerDistrict.code.in_(codes))))
    units = set(codes) - districts
    for district in districts:
        units.update(places.units_in_former_district(district))
    return units


def _age_range(age_min: int | None, age_max: int | None) -> list:
    """Return the birth-year conditions of an age range, by year of birth only.

    TODO: the age is this year in Vietnam minus the year of birth; someone whose birthday
    is later this year counts one year older than they are.
    """
    year = vietnam_today().year
    conditions = []
    if age_min is not None:
        conditions.append(Person.birth_year <= year - age_min)
    if age_max is not None:
        conditions.append(Person.birth_year >= year - age_max)
    return conditions


def _checked_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise BadInput(_("Give the audience a name."), field="name")
    if len(name) > 200:
        raise BadInput(_("The audience's name is too long (200 characters at most)."),
                       field="name")
    return name


def _countries(codes) -> list[str]:
    codes = sorted({(code or "").strip().upper() for code in codes})
    for code in codes:
        if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
            raise BadInput(_("Unknown country code: %(code)s.", code=code), field="countries")
    return codes


def _units(codes) -> list[str]:
    codes = sorted({(code or "").strip() for code in codes})
    known = set(db.session.scalars(select(Unit.code).where(Unit.code.in_(codes))))
    known |= set(db.session.scalars(select(FormerDistrict.code)
                                    .where(FormerDistrict.code.in_(codes))))
    for code in codes:
        if code not in known:
            raise BadInput(_("Unknown unit or former district: %(code)s.", code=code),
                           field="units")
    return codes


def _statuses(statuses) -> list[str]:
    statuses = sorted(set(statuses or ()))
    for status in statuses:
        if status not in STATUSES:
            raise BadInput(_("Unknown status: %(status)s.", status=status), field="statuses")
    kept = [status for status in statuses if status not in NEVER]
    if not kept:
        raise BadInput(_("Choose at least one status other than merged or deceased."),
                       field="statuses")
    return kept


def _associations(ids) -> list[int]:
    ids = sorted({int(value) for value in ids})
    known = set(db.session.scalars(select(Association.id).where(Association.id.in_(ids))))
    for association_id in ids:
        if association_id not in known:
            raise BadInput(_("Unknown association: %(id)s.", id=association_id),
                           field="associations")
    return ids


def _languages(languages) -> list[str]:
    languages = sorted(set(languages))
    for language in languages:
        if language not in LANGUAGES:
            raise BadInput(_("Unknown language: %(language)s.", language=language),
                           field="languages")
    return languages


def _ages(age_min, age_max) -> tuple[int | None, int | None]:
    age_min, age_max = _age(age_min, "age_min"), _age(age_max, "age_max")
    if age_min is not None and age_max is not None and age_min > age_max:
        raise BadInput(_("The minimum age is above the maximum age."), field="age_min")
    return age_min, age_max


def _age(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        age = int(value)
    except (TypeError, ValueError):
        raise BadInput(_("An age is a whole number of years."), field=field) from None
    if not 0 <= age <= MAX_AGE:
        raise BadInput(_("An age is between 0 and %(most)s.", most=MAX_AGE), field=field)
    return age


# For the audience pages ------------------------------------------------------

def all_audiences() -> list[Audience]:
    """Return every audience, by name."""
    return list(db.session.scalars(select(Audience).order_by(Audience.name, Audience.id)))


def get_audience(audience_id: int) -> Audience:
    """Return the audience with audience_id, or answer 404."""
    from flask import abort

    audience = db.session.get(Audience, audience_id)
    if audience is None:
        abort(404)
    return audience


def association_choices() -> list[tuple[int, str]]:
    """Return (id, name) of every association, by name without marks."""
    rows = db.session.execute(select(Association.id, Association.name)
                              .order_by(Association.name_folded, Association.id))
    return [(association_id, name) for association_id, name in rows]


def describe(filters: dict, locale=None) -> list[tuple[str, str]]:
    """Return the filters that narrow the audience as (what, which) pairs, translated."""
    from registry.core.text import fold
    from registry.people.forms import LANGUAGE_LABELS, STATUS_LABELS

    filters = {**EMPTY_FILTERS, **filters}
    parts = [(_("Status"), ", ".join(str(STATUS_LABELS.get(status, status))
                                      for status in filters["statuses"]))]

    if filters["countries"]:
        names = sorted((places.country_name(code, locale) for code in filters["countries"]),
                       key=fold)
        parts.append((_("Countries"), ", ".join(names)))
    if filters["units"]:
        parts.append((_("Hometowns"), ", ".join(_place_names(filters["units"]))))
    if filters["associations"]:
        names = _association_names(filters["associations"])
        parts.append((_("Associations"), ", ".join(names)))
    if filters["languages"]:
        parts.append((_("Languages"), ", ".join(str(LANGUAGE_LABELS.get(code, code))
                                               for code in filters["languages"])))
    ages = _age_words(filters["age_min"], filters["age_max"])
    if ages:
        parts.append((_("Age"), ages))
    return parts


def _place_names(codes: list[str]) -> list[str]:
    """Return the names of current units and former districts, districts marked so."""
    units = db.session.scalars(select(Unit).where(Unit.code.in_(codes))
                               .order_by(Unit.name_folded, Unit.code))
    districts = db.session.scalars(select(FormerDistrict)
                                   .where(FormerDistrict.code.in_(codes))
                                   .order_by(FormerDistrict.name_folded))
    return ([unit.full_name for unit in units]
            + [_("%(name)s (former district)", name=district.full_name)
               for district in districts])


def _association_names(ids: list[int]) -> list[str]:
    query = (select(Association.name).where(Association.id.in_(ids))
             .order_by(Association.name_folded))
    return list(db.session.scalars(query))


def _age_words(age_min: int | None, age_max: int | None) -> str:
    if age_min is not None and age_max is not None:
        return _("%(least)d to %(most)d years", least=age_min, most=age_max)
    if age_min is not None:
        return _("%(least)d years or older", least=age_min)
    if age_max is not None:
        return _("%(most)d years or younger", most=age_max)
    return ""
