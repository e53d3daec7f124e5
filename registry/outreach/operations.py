"""Keeping the occasions and telling officers which are near; the request commits."""
import logging
from datetime import date

from flask import abort
from sqlalchemy import select

from registry.audit import operations as audit
from registry.core.errors import BadInput
from registry.core.time import vietnam_today
from registry.extensions import db
from registry.outreach import calendar, campaigns
from registry.outreach.models import Occasion

log = logging.getLogger(__name__)
#: the fields an officer edits on an occasion
FIELDS = ("name", "name_en", "kind", "month", "day", "remind_days_before", "notes")
VIETNAM = calendar.VIETNAM_UTC_OFFSET


def all_occasions(include_inactive: bool = True) -> list[Occasion]:
    """Return the occasions in calendar order, solar ones first."""
    query = select(Occasion).order_by(Occasion.kind.desc(), Occasion.month, Occasion.day,
                                      Occasion.id)
    if not include_inactive:
        query = query.where(Occasion.is_active.is_(True))
    return list(db.session.scalars(query))


def get_occasion(occasion_id: int) -> Occasion:
    """Return the occasion with occasion_id, or answer 404."""
    occasion = db.session.get(Occasion, occasion_id)
    if occasion is None:
        abort(404)
    return occasion


def create_occasion(fields: dict, actor) -> Occasion:
    """Add an occasion with fields (see FIELDS), audited."""
    _check_rule(fields)
    occasion = Occasion(**_only_fields(fields), created_by_id=actor.id, updated_by_id=actor.id)
    db.session.add(occasion)
    db.session.flush()

    audit.record("occasion.create", occasion, details={"rule": occasion.rule()}, actor=actor)
    log.info("Occasion %s (%s %s/%s) added by user %s", occasion.id, occasion.kind,
             occasion.day, occasion.month, actor.id)
    return occasion


def update_occasion(occasion: Occasion, fields: dict, actor) -> bool:
    """Change the occasion's fields; tell whether anything changed."""
    _check_rule({**occasion.rule(), **fields})
    before = occasion.rule()
    for name, value in _only_fields(fields).items():
        setattr(occasion, name, value)
    changes = audit.diff(before, occasion.rule())
    if not changes:
        return False

    occasion.updated_by_id = actor.id
    db.session.flush()
    audit.record("occasion.update", occasion, details={"changes": changes}, actor=actor)
    log.info("Occasion %s changed by user %s: %s", occasion.id, actor.id, sorted(changes))
    return True


def set_active(occasion: Occasion, active: bool, actor) -> bool:
    """Activate or deactivate the occasion; tell whether its state changed."""
    if occasion.is_active == active:
        return False

    occasion.is_active = active
    occasion.updated_by_id = actor.id
    db.session.flush()
    audit.record("occasion.activate" if active else "occasion.deactivate", occasion,
                 actor=actor)
    log.info("Occasion %s %s by user %s", occasion.id,
             "activated" if active else "deactivated", actor.id)
    return True


def dates_of(occasions, year: int) -> dict[int, tuple]:
    """Return {occasion id: (date in year, date in the next year)}."""
    return {occasion.id: (calendar.date_in(occasion, year),
                          calendar.date_in(occasion, year + 1)) for occasion in occasions}


def coming_occasions(today: date | None = None, horizon_days: int = 120) -> list[tuple]:
    """Return (occasion, date) of the active occasions within horizon_days."""
    today = today or vietnam_today()
    return calendar.coming(all_occasions(include_inactive=False), today, horizon_days)


def reminders(today: date | None = None) -> list[tuple]:
    """Return (occasion, date) of the occasions in their reminder window without a campaign."""
    today = today or vietnam_today()
    due = []
    for occasion in all_occasions(include_inactive=False):
        when = calendar.in_reminder_window(occasion, today)
        if when and not has_campaign(occasion, when.year):
            due.append((occasion, when))
    return sorted(due, key=lambda pair: pair[1])


def has_campaign(occasion: Occasion, year: int) -> bool:
    """Tell whether a campaign, not cancelled, exists for occasion's date in year."""
    return campaigns.campaign_for(occasion.id, year) is not None


def _check_rule(fields: dict) -> None:
    problem = calendar.rule_problem(fields["kind"], fields["month"], fields["day"])
    if problem:
        raise BadInput(f"Invalid occasion date: {problem}.", field="day")


def _only_fields(fields: dict) -> dict:
    return {name: fields[name] for name in FIELDS if name in fields}
