"""Campaigns from draft to approval to sending; the request commits.

An officer drafts a campaign and submits it; another officer or an admin, never
its author, approves it. Approval freezes the audience's filters and the rate.
A campaign to be sent now, or in each recipient's local morning, gets its
delivery rows at approval; one scheduled for later gets them when its time comes
(registry.outreach.sending's periodic tick). From then on the delivery table is
the truth of who was sent what.
"""
import logging
from datetime import date, datetime, timedelta

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, literal, select, update

from registry.audit import operations as audit
from registry.core.errors import BadInput
from registry.core.time import VIETNAM, as_utc, utcnow
from registry.extensions import db
from registry.outreach import audiences, rendering, zones
from registry.outreach.models import (APPROVED, AWAITING_APPROVAL, CANCELLED, DONE, DRAFT,
                                      FAILED, PAUSED, PENDING, SENDING, SENT, SKIPPED,
                                      Audience, Campaign, CampaignMessage, Delivery,
                                      Occasion)
from registry.people.models import Person

log = logging.getLogger(__name__)

LANGUAGES = ("vi", "en")
#: the fields of a campaign an officer edits
FIELDS = ("name", "occasion_id", "occasion_date", "audience_id", "signature",
          "scheduled_at", "is_local_morning")
EDITABLE = (DRAFT, AWAITING_APPROVAL)
CANCELLABLE = (DRAFT, AWAITING_APPROVAL, APPROVED, SENDING, PAUSED)
UNFINISHED = (PENDING, SENDING)


# Reading -------------------------------------------------------------------------

def all_campaigns(states=None) -> list[Campaign]:
    """Return the campaigns, newest first, optionally only those in states."""
    query = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    if states:
        query = query.where(Campaign.state.in_(states))
    return list(db.session.scalars(query))


def get_campaign(campaign_id: int, for_update: bool = False) -> Campaign:
    """Return the campaign with campaign_id, or answer 404."""
    query = select(Campaign).where(Campaign.id == campaign_id)
    if for_update:
        query = query.with_for_update(of=Campaign).execution_options(populate_existing=True)
    campaign = db.session.scalar(query)
    if campaign is None:
        abort(404)
    return campaign


def counts(campaign: Campaign) -> dict[str, int]:
    """Return {delivery status: rows} for the campaign, every status present, and
    "unsubscribed": the recipients who unsubscribed from its message."""
    rows = db.session.execute(select(Delivery.status, func.count())
                              .where(Delivery.campaign_id == campaign.id)
                              .group_by(Delivery.status))
    tally = {status: 0 for status in (PENDING, SENDING, SENT, FAILED, SKIPPED, CANCELLED)}
    tally.update(dict(rows.all()))
    tally["unsubscribed"] = db.session.scalar(
        select(func.count()).where(Delivery.campaign_id == campaign.id,
                                   Delivery.unsubscribed_at.is_not(None)))
    tally["total"] = sum(tally[status] for status in
                         (PENDING, SENDING, SENT, FAILED, SKIPPED, CANCELLED))
    return tally


def running() -> list[tuple[Campaign, dict]]:
    """Return (campaign, counts) of the campaigns approved, being sent or paused."""
    return [(campaign, counts(campaign))
            for campaign in all_campaigns((APPROVED, SENDING, PAUSED))]


def activity(start: datetime, until: datetime) -> tuple[int, int]:
    """Return (campaigns that started sending, messages sent) between start and until."""
    started = db.session.scalar(select(func.count()).where(
        Campaign.started_at >= start, Campaign.started_at < until))
    delivered = db.session.scalar(select(func.count()).where(
        Delivery.status == SENT, Delivery.sent_at >= start, Delivery.sent_at < until))
    return started or 0, delivered or 0


def campaign_for(occasion_id: int, year: int) -> Campaign | None:
    """Return a campaign, not cancelled, for the occasion's date in year, if any."""
    query = (select(Campaign).where(Campaign.occasion_id == occasion_id,
                                    Campaign.state != CANCELLED,
                                    Campaign.occasion_date >= date(year, 1, 1),
                                    Campaign.occasion_date <= date(year, 12, 31))
             .limit(1))
    return db.session.scalar(query)


def failures(campaign: Campaign):
    """Return (delivery, person) rows of the campaign's failed deliveries, by id."""
    query = (select(Delivery, Person).join(Person, Person.id == Delivery.person_id)
             .where(Delivery.campaign_id == campaign.id, Delivery.status == FAILED)
             .order_by(Delivery.id))
    return db.session.execute(query).all()


def audience_size(campaign: Campaign) -> int:
    """Return how many people the campaign would reach now."""
    if campaign.recipients_count is not None:
        return campaign.recipients_count
    filters = campaign.audience_filters or campaign.audience.filters
    return audiences.count(filters, campaign.channel)


# Drafting ------------------------------------------------------------------------

def create_campaign(fields: dict, messages: dict, actor) -> Campaign:
    """Add a draft campaign; messages is {lang: (subject, body)}; audited."""
    _check(fields, messages)
    campaign = Campaign(**_only_fields(fields), created_by_id=actor.id, state=DRAFT)
    campaign.messages = _message_rows(messages)
    db.session.add(campaign)
    db.session.flush()

    audit.record("campaign.create", campaign, details={"content": campaign.content()},
                 actor=actor)
    log.info("Campaign %s drafted by user %s", campaign.id, actor.id)
    return campaign


def update_campaign(campaign: Campaign, fields: dict, messages: dict, actor) -> bool:
    """Change a draft or awaiting campaign; an awaiting one goes back to draft."""
    if campaign.state not in EDITABLE:
        raise BadInput(_("Only a draft or a campaign awaiting approval can be changed."))
    _check({**_current_fields(campaign), **fields}, messages)
    before = campaign.content()
    for name, value in _only_fields(fields).items():
        setattr(campaign, name, value)
    _replace_messages(campaign, messages)
    changes = audit.diff(before, campaign.content())
    if not changes:
        return False

    if campaign.state == AWAITING_APPROVAL:
        campaign.state, campaign.submitted_at = DRAFT, None
    db.session.flush()
    audit.record("campaign.update", campaign, details={"changes": changes}, actor=actor)
    log.info("Campaign %s changed by user %s: %s", campaign.id, actor.id, sorted(changes))
    return True


def submit(campaign: Campaign, actor) -> None:
    """Ask another officer to approve a draft campaign."""
    _require_state(campaign, (DRAFT,), _("Only a draft can be submitted for approval."))
    _check(_current_fields(campaign), _current_messages(campaign))
    if audience_size(campaign) == 0:
        raise BadInput(_("Nobody in this audience can receive greetings: choose another "
                         "audience before submitting."))

    campaign.state, campaign.submitted_at = AWAITING_APPROVAL, utcnow()
    db.session.flush()
    audit.record("campaign.submit", campaign, actor=actor)
    log.info("Campaign %s submitted for approval by user %s", campaign.id, actor.id)


def return_to_draft(campaign: Campaign, actor, reason: str = "") -> None:
    """Send an awaiting campaign back to its author, with the reason."""
    _require_state(campaign, (AWAITING_APPROVAL,),
                   _("Only a campaign awaiting approval can be sent back."))
    campaign.state, campaign.submitted_at = DRAFT, None
    db.session.flush()
    audit.record("campaign.return", campaign, details={"reason": reason.strip()[:500]},
                 actor=actor)
    log.info("Campaign %s sent back to draft by user %s", campaign.id, actor.id)


# Approval and sending --------------------------------------------------------------

def can_approve(campaign: Campaign, actor) -> bool:
    """Tell whether actor may approve campaign: an officer or admin, not its author."""
    return (actor.can("outreach.manage") and actor.id != campaign.created_by_id
            and campaign.state == AWAITING_APPROVAL)


def approve(campaign: Campaign, actor, now: datetime | None = None) -> None:
    """Approve an awaiting campaign and, unless it waits for its time, start it."""
    if actor.id == campaign.created_by_id:
        raise BadInput(_("You wrote this campaign: another officer must approve it."))
    _require_state(campaign, (AWAITING_APPROVAL,),
                   _("Only a campaign awaiting approval can be approved."))
    now = now or utcnow()
    _check(_current_fields(campaign), _current_messages(campaign), approving=True, now=now)

    campaign.state = APPROVED
    campaign.approved_by_id, campaign.approved_at = actor.id, now
    campaign.audience_filters = audiences.clean_filters(campaign.audience.filters)
    campaign.rate_per_second = float(current_app.config["OUTREACH_RATE_PER_SECOND"])
    db.session.flush()
    audit.record("campaign.approve", campaign,
                 details={"audience_filters": campaign.audience_filters}, actor=actor)
    log.info("Campaign %s approved by user %s", campaign.id, actor.id)

    scheduled = as_utc(campaign.scheduled_at)
    if campaign.is_local_morning or not scheduled or scheduled <= now:
        launch(campaign, now)


def launch(campaign: Campaign, now: datetime | None = None) -> int:
    """Write the campaign's delivery rows and hand it to a sender; return the count."""
    now = now or utcnow()
    filters = campaign.audience_filters or audiences.clean_filters(campaign.audience.filters)
    people = audiences.audience_query(filters, campaign.channel).subquery()
    rows = select(literal(campaign.id), people.c.id, literal(PENDING), literal(now),
                  literal(0))
    db.session.execute(insert(Delivery).from_select(
        ["campaign_id", "person_id", "status", "not_before", "attempts"], rows))
    if campaign.is_local_morning:
        _set_local_mornings(campaign, now)

    campaign.state, campaign.started_at = SENDING, now
    campaign.recipients_count = db.session.scalar(
        select(func.count()).where(Delivery.campaign_id == campaign.id))
    db.session.flush()
    audit.record("campaign.start", campaign, details={"recipients": campaign.recipients_count})
    log.info("Campaign %s started for %s recipients", campaign.id, campaign.recipients_count)

    from registry.outreach import sending  # it imports this module

    sending.dispatch(campaign.id)
    return campaign.recipients_count


def pause(campaign: Campaign, actor) -> None:
    """Stop sending until resumed; messages being handed over finish."""
    _require_state(campaign, (SENDING,), _("Only a campaign being sent can be paused."))
    campaign.state = PAUSED
    db.session.flush()
    audit.record("campaign.pause", campaign, actor=actor)
    log.info("Campaign %s paused by user %s", campaign.id, actor.id)


def resume(campaign: Campaign, actor) -> None:
    """Go on sending a paused campaign."""
    _require_state(campaign, (PAUSED,), _("Only a paused campaign can be resumed."))
    campaign.state, campaign.pause_reason = SENDING, None
    db.session.flush()
    audit.record("campaign.resume", campaign, actor=actor)
    log.info("Campaign %s resumed by user %s", campaign.id, actor.id)

    from registry.outreach import sending  # it imports this module

    sending.dispatch(campaign.id)


def cancel(campaign: Campaign, actor) -> int:
    """Cancel the campaign: nobody not yet sent is sent; return the rows cancelled."""
    _require_state(campaign, CANCELLABLE, _("This campaign can no longer be cancelled."))
    result = db.session.execute(
        update(Delivery).where(Delivery.campaign_id == campaign.id,
                               Delivery.status == PENDING)
        .values(status=CANCELLED, lease_until=None, lease_token=None))
    campaign.state, campaign.finished_at = CANCELLED, utcnow()
    db.session.flush()

    audit.record("campaign.cancel", campaign, details={"not_sent": result.rowcount},
                 actor=actor)
    log.info("Campaign %s cancelled by user %s; %s messages not sent", campaign.id,
             actor.id, result.rowcount)
    return result.rowcount


def finish_if_done(campaign_id: int) -> bool:
    """Mark a sending campaign done when no delivery is pending or being sent."""
    unfinished = db.session.scalar(
        select(func.count()).where(Delivery.campaign_id == campaign_id,
                                   Delivery.status.in_(UNFINISHED)))
    if unfinished:
        return False

    result = db.session.execute(update(Campaign).where(Campaign.id == campaign_id,
                                                       Campaign.state == SENDING)
                                .values(state=DONE, finished_at=utcnow()))
    if result.rowcount:
        log.info("Campaign %s finished sending", campaign_id)
        audit.record("campaign.finish", object_type="campaign", object_id=campaign_id)
    return True


def start_due(now: datetime | None = None) -> list[int]:
    """Launch the approved campaigns whose time has come; return their ids."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Campaign).where(Campaign.state == APPROVED,
                                                         Campaign.scheduled_at <= now)))
    for campaign in due:
        launch(campaign, now)
    return [campaign.id for campaign in due]


# Values the templates print ---------------------------------------------------------

def occasion_values(campaign: Campaign) -> dict:
    """Return the occasion placeholders' values of the campaign."""
    occasion = campaign.occasion
    if occasion is None:
        return {"date": campaign.occasion_date}
    return {"name": {"vi": occasion.name, "en": occasion.name_en},
            "date": campaign.occasion_date}


# Checks ---------------------------------------------------------------------------

def _check(fields: dict, messages: dict, approving: bool = False,
           now: datetime | None = None) -> None:
    name = (fields.get("name") or "").strip()
    if not name:
        raise BadInput(_("Give the campaign a name."), field="name")
    if len(name) > 200:
        raise BadInput(_("The campaign's name is too long (200 characters at most)."),
                       field="name")
    if db.session.get(Audience, fields.get("audience_id") or 0) is None:
        raise BadInput(_("Choose an audience."), field="audience_id")
    if fields.get("occasion_id") and db.session.get(Occasion, fields["occasion_id"]) is None:
        raise BadInput(_("Choose an occasion from the calendar."), field="occasion_id")
    if fields.get("is_local_morning") and not fields.get("scheduled_at"):
        raise BadInput(_("Choose the day to send in each recipient's local morning."),
                       field="scheduled_at")
    _check_messages(messages)
    _check_campaign_values(fields, messages)
    if approving and fields.get("scheduled_at") and not fields.get("is_local_morning"):
        _check_not_past(fields["scheduled_at"], now)


def _check_messages(messages: dict) -> None:
    if not (messages.get("vi") or ("", ""))[0].strip():
        raise BadInput(_("Write the message in Vietnamese at least."), field="subject_vi")
    for lang, (subject, body) in messages.items():
        if lang not in LANGUAGES:
            raise BadInput(_("Unknown language: %(language)s.", language=lang))
        if not (subject or "").strip() and not (body or "").strip():
            continue
        if not (subject or "").strip() or not (body or "").strip():
            raise BadInput(_("Write both the subject and the body, or neither."),
                           field=f"body_{lang}")
        problems = rendering.check_template(subject, body)
        if problems:
            raise BadInput(rendering.describe(problems), field=f"body_{lang}")


def _check_campaign_values(fields: dict, messages: dict) -> None:
    """Refuse a message that prints a value the campaign itself lacks.

    The template checker tries a sample with every value; here the signature and
    the occasion are the campaign's own, so a body printing {{ signature }} with
    no signature saved is refused now rather than failing for every recipient.
    """
    occasion = db.session.get(Occasion, fields.get("occasion_id") or 0)
    values = {"date": fields.get("occasion_date")}
    if occasion is not None:
        values["name"] = {"vi": occasion.name, "en": occasion.name_en}
    for lang, (subject, body) in messages.items():
        if not (subject or "").strip():
            continue
        try:
            rendering.render(subject, body, rendering.SAMPLE_RECIPIENT, values, lang,
                             fields.get("signature"))
        except rendering.RenderError as error:
            raise BadInput(error.message, field=f"body_{lang}") from None


def _check_not_past(scheduled_at: datetime, now: datetime | None) -> None:
    # A campaign approved a little after its time is still sent; only a time long
    # past is a mistake worth stopping for.
    if as_utc(scheduled_at) < (now or utcnow()) - timedelta(days=1):
        raise BadInput(_("The scheduled time has passed: choose a new time."),
                       field="scheduled_at")


def _require_state(campaign: Campaign, states, message: str) -> None:
    if campaign.state not in states:
        raise BadInput(message)


def _only_fields(fields: dict) -> dict:
    return {name: fields[name] for name in FIELDS if name in fields}


def _current_fields(campaign: Campaign) -> dict:
    return {name: getattr(campaign, name) for name in FIELDS}


def _current_messages(campaign: Campaign) -> dict:
    return {message.lang: (message.subject, message.body) for message in campaign.messages}


def _message_rows(messages: dict) -> list[CampaignMessage]:
    return [CampaignMessage(lang=lang, subject=subject.strip(), body=body.strip("\n"))
            for lang, (subject, body) in sorted(messages.items())
            if (subject or "").strip()]


def _replace_messages(campaign: Campaign, messages: dict) -> None:
    wanted = {row.lang: row for row in _message_rows(messages)}
    for message in list(campaign.messages):
        if message.lang not in wanted:
            campaign.messages.remove(message)
    for lang, row in wanted.items():
        current = campaign.message_in(lang)
        if current is None:
            campaign.messages.append(row)
        else:
            current.subject, current.body = row.subject, row.body


def _set_local_mornings(campaign: Campaign, now: datetime) -> None:
    """Give each delivery the morning hour of the scheduled day in its country."""
    day = as_utc(campaign.scheduled_at).astimezone(VIETNAM).date()
    hour = current_app.config["OUTREACH_LOCAL_MORNING_HOUR"]
    countries = db.session.scalars(
        select(Person.country_code).distinct()
        .where(Person.id.in_(select(Delivery.person_id)
                             .where(Delivery.campaign_id == campaign.id))))
    for country in countries:
        moment = as_utc(zones.next_local_morning(now, day, hour, country))
        people = select(Person.id).where(Person.country_code == country if country
                                         else Person.country_code.is_(None))
        db.session.execute(update(Delivery).where(Delivery.campaign_id == campaign.id,
                                                  Delivery.person_id.in_(people))
                           .values(not_before=moment))
