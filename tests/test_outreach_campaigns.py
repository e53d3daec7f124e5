"""Campaigns: drafting, the approval rules, scheduling, and what sending leaves behind."""
from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.core import mail
from registry.core.errors import BadInput
from registry.core.time import UTC, as_utc, utcnow, vietnam_today
from registry.extensions import db
from registry.outreach import audiences, campaigns, operations, sending, unsubscribing
from registry.outreach.models import (APPROVED, AWAITING_APPROVAL, CANCELLED, DONE, DRAFT,
                                      PENDING, SENDING, SENT, SKIPPED, Campaign, Delivery,
                                      Occasion)
from registry.people import operations as people
from registry.people.models import Person
from tests.factories import BIM_SON

BODY_VI = ("Kính gửi {{ honorific }} {{ full_name }},\n\n"
           "Nhân dịp {{ occasion }} ({{ occasion_date }}), chúc {{ honorific }} và gia đình "
           "mạnh khỏe.\n\n{{ signature }}")
BODY_EN = "Dear {{ honorific }} {{ full_name }},\n\nHappy {{ occasion }}!\n\n{{ signature }}"
MESSAGES = {"vi": ("Chúc mừng {{ occasion }}", BODY_VI),
            "en": ("Greetings for {{ occasion }}", BODY_EN)}


@pytest.fixture(autouse=True)
def english(app_ctx):
    """Refusals are checked by their English wording."""
    with force_locale("en"):
        yield


@pytest.fixture(autouse=True)
def _empty_outbox(app_ctx):
    mail.sent_messages().clear()


@pytest.fixture
def staff(make_user) -> dict[str, int]:
    """Create the accounts first: reading one starts this session's write transaction."""
    return {name: make_user(role).id for name, role in
            [("officer", "officer"), ("second_officer", "officer"), ("admin", "admin"),
             ("district", "district"), ("police", "police"), ("viewer", "viewer")]}


@pytest.fixture
def officer(staff):
    return db.session.get(User, staff["officer"])


@pytest.fixture
def second_officer(staff):
    return db.session.get(User, staff["second_officer"])


@pytest.fixture
def make_person(officer):
    """Return a factory of records that the audience reaches unless told otherwise."""
    counter = iter(range(1, 100_000))

    def factory(*, country="JP", lang="vi", gender="female", consents=("record", "greetings"),
                full_name=None, **fields) -> Person:
        number = next(counter)
        data = {"full_name": full_name or f"Lê Thị Mai {number}", "gender": gender,
                "birth": None, "hometown": (BIM_SON, None, None), "country_code": country,
                "city": "Osaka", "phones": [], "emails": [f"mai{number}@example.test"],
                "associations": [], "consents": list(consents)}
        person = people.create_person(data, officer, "officer")
        person.birth_year = 1970
        person.preferred_lang = lang
        for name, value in fields.items():
            setattr(person, name, value)
        db.session.flush()
        return person

    return factory


@pytest.fixture
def tet():
    occasion = Occasion(name="Tết Nguyên Đán", name_en="Lunar New Year", kind="lunar",
                        month=1, day=1)
    db.session.add(occasion)
    db.session.flush()
    return occasion


@pytest.fixture
def draft(officer, tet):
    """Return a factory of draft campaigns to everyone reachable."""
    def factory(messages=None, **fields) -> Campaign:
        audience = audiences.save_audience("Everyone", {}, officer)
        values = {"name": "Tết 2027", "occasion_id": tet.id,
                  "occasion_date": date(2027, 2, 6), "audience_id": audience.id,
                  "signature": "Sở Ngoại vụ Thanh Hóa", **fields}
        return campaigns.create_campaign(values, messages or MESSAGES, officer)

    return factory


def approved(campaign, officer, approver, **kwargs) -> Campaign:
    campaigns.submit(campaign, officer)
    campaigns.approve(campaign, approver, **kwargs)
    return campaign


def statuses(campaign) -> dict:
    rows = db.session.execute(select(Delivery.status, func.count())
                              .where(Delivery.campaign_id == campaign.id)
                              .group_by(Delivery.status))
    return dict(rows.all())


# Drafting and checks ---------------------------------------------------------------

def test_a_draft_keeps_both_languages_and_is_audited(draft):
    campaign = draft()

    assert campaign.state == DRAFT
    assert {message.lang for message in campaign.messages} == {"vi", "en"}
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.object_type == "campaign")) == "campaign.create"


def test_a_template_with_an_unknown_placeholder_is_refused_with_its_line(draft):
    with pytest.raises(BadInput) as refusal:
        draft({"vi": ("Chúc mừng", "Kính gửi {{ name }}\n{{ password }}")})

    assert "line 1" in refusal.value.message
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_vietnamese_is_required(draft):
    with pytest.raises(BadInput, match="Vietnamese"):
        draft({"en": MESSAGES["en"]})


def test_a_subject_without_a_body_is_refused(draft):
    with pytest.raises(BadInput, match="both the subject and the body"):
        draft({"vi": MESSAGES["vi"], "en": ("Hello", "")})


def test_changing_a_campaign_awaiting_approval_puts_it_back_to_draft(draft, officer,
                                                                    make_person):
    make_person()
    campaign = draft()
    campaigns.submit(campaign, officer)

    campaigns.update_campaign(campaign, {"name": "Tết Đinh Mùi"}, MESSAGES, officer)

    assert campaign.state == DRAFT


def test_an_audience_nobody_is_in_cannot_be_submitted(draft, officer):
    with pytest.raises(BadInput, match="Nobody"):
        campaigns.submit(draft(), officer)


# Approval --------------------------------------------------------------------------

def test_the_author_cannot_approve_their_own_campaign(draft, officer, make_person):
    make_person()
    campaign = draft()
    campaigns.submit(campaign, officer)

    assert not campaigns.can_approve(campaign, officer)
    with pytest.raises(BadInput, match="another officer"):
        campaigns.approve(campaign, officer)
    assert campaign.state == AWAITING_APPROVAL


@pytest.mark.parametrize("role", ["district", "police", "viewer"])
def test_only_officers_and_admins_may_approve(staff, role, draft, officer, make_person):
    other = db.session.get(User, staff[role])
    make_person()
    campaign = draft()
    campaigns.submit(campaign, officer)

    assert not campaigns.can_approve(campaign, other)


def test_an_admin_may_approve(staff, draft, officer, make_person):
    admin = db.session.get(User, staff["admin"])
    make_person()
    campaign = draft()
    campaigns.submit(campaign, officer)

    assert campaigns.can_approve(campaign, admin)


def test_approval_sends_to_everyone_reachable_at_once(draft, officer, second_officer,
                                                      make_person, app):
    reached = [make_person(), make_person(lang="en", gender="male")]
    make_person(consents=("record",))
    make_person(is_outreach_opted_out=True)

    campaign = approved(draft(), officer, second_officer)

    assert campaign.state == DONE
    assert statuses(campaign) == {SENT: 2}
    sent = {message["To"].addresses[0].addr_spec: message for message in mail.sent_messages()}
    assert set(sent) == {person.emails[0].address for person in reached}
    vietnamese = sent[reached[0].emails[0].address]
    assert vietnamese["Subject"] == "Chúc mừng Tết Nguyên Đán"
    assert "Kính gửi Bà Lê Thị Mai" in vietnamese.get_body(("plain",)).get_content()
    assert "06/02/2027" in vietnamese.get_body(("plain",)).get_content()
    english = sent[reached[1].emails[0].address]
    assert english["Subject"] == "Greetings for Lunar New Year"
    assert "Dear Mr Lê Thị Mai" in english.get_body(("plain",)).get_content()


def test_approval_freezes_the_audience(draft, officer, second_officer, make_person):
    make_person(country="JP")
    campaign = draft(scheduled_at=utcnow() + timedelta(days=3))
    campaign.audience.filters = audiences.clean_filters({"countries": ["JP"]})
    approved(campaign, officer, second_officer)

    audiences.update_audience(campaign.audience, "Korea", {"countries": ["KR"]}, officer)

    assert campaign.state == APPROVED
    assert campaign.audience_filters["countries"] == ["JP"]


def test_each_message_has_a_stable_id_and_a_one_click_unsubscribe(draft, officer,
                                                                 second_officer,
                                                                 make_person):
    make_person()
    campaign = approved(draft(), officer, second_officer)
    delivery = db.session.scalar(select(Delivery).where(Delivery.campaign_id == campaign.id))
    message = mail.sent_messages()[0]

    assert message["Message-ID"] == (f"<{delivery.id}.{campaign.id}.outreach@"
                                     "songoaivu.thanhhoa.example>")
    link = unsubscribing.link_for(delivery.id)
    assert message["List-Unsubscribe"] == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()


def test_a_name_with_line_breaks_or_markup_injects_nothing(draft, officer, second_officer,
                                                          make_person):
    make_person(full_name="Lê Thị Mai\r\nBcc: victim@example.test <b>đậm</b>")
    approved(draft(), officer, second_officer)
    message = mail.sent_messages()[0]

    assert message["Bcc"] is None
    assert "\n" not in str(message["To"]) and "\n" not in message["Subject"]
    html = message.get_body(("html",)).get_content()
    assert "<b>" not in html and "&lt;b&gt;đậm&lt;/b&gt;" in html


# Scheduling ------------------------------------------------------------------------

def test_a_scheduled_campaign_waits_then_starts_on_the_tick(draft, officer, second_officer,
                                                           make_person):
    make_person()
    start = utcnow() + timedelta(hours=2)
    campaign = approved(draft(scheduled_at=start), officer, second_officer)

    assert campaign.state == APPROVED and statuses(campaign) == {}
    sending.tick(now=start - timedelta(minutes=1))
    assert campaign.state == APPROVED

    sending.tick(now=start + timedelta(seconds=30))
    db.session.refresh(campaign)
    assert campaign.state in (SENDING, DONE)
    assert campaign.recipients_count == 1


def test_local_morning_gives_each_country_its_own_time(draft, officer, second_officer,
                                                      make_person):
    japan, france = make_person(country="JP"), make_person(country="FR")
    day = datetime(2027, 2, 6, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam
    campaign = draft(scheduled_at=day, is_local_morning=True)
    approved(campaign, officer, second_officer, now=day - timedelta(days=1))

    due = dict(db.session.execute(select(Delivery.person_id, Delivery.not_before)
                                  .where(Delivery.campaign_id == campaign.id)).all())
    assert as_utc(due[japan.id]) == datetime(2027, 2, 6, 0, 0, tzinfo=UTC)  # 09:00 JST
    assert as_utc(due[france.id]) == datetime(2027, 2, 6, 8, 0, tzinfo=UTC)  # 09:00 CET


def test_a_reminder_disappears_once_the_occasion_has_a_campaign(draft, tet):
    today = date(2027, 1, 20)
    assert tet.id in {occasion.id for occasion, _day in operations.reminders(today)}

    draft()

    assert tet.id not in {occasion.id for occasion, _day in operations.reminders(today)}


# Pause, resume, cancel --------------------------------------------------------------

def test_cancel_leaves_the_sent_and_stops_the_rest(draft, officer, second_officer,
                                                   make_person):
    for _ in range(3):
        make_person()
    campaign = draft(scheduled_at=utcnow() + timedelta(days=1), is_local_morning=True)
    approved(campaign, officer, second_officer)
    first = db.session.scalar(select(Delivery).where(Delivery.campaign_id == campaign.id)
                              .order_by(Delivery.id))
    first.status = SENT
    db.session.flush()

    assert campaigns.cancel(campaign, officer) == 2
    assert campaign.state == CANCELLED
    assert statuses(campaign) == {SENT: 1, CANCELLED: 2}


def test_pause_and_resume(draft, officer, second_officer, make_person):
    make_person()
    campaign = draft(scheduled_at=utcnow() + timedelta(days=1), is_local_morning=True)
    approved(campaign, officer, second_officer)
    assert campaign.state == SENDING

    campaigns.pause(campaign, officer)
    assert campaign.state == "paused"
    campaigns.resume(campaign, officer)
    assert campaign.state == SENDING
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"campaign.pause", "campaign.resume"} <= actions


# Unsubscribing -----------------------------------------------------------------------

def test_unsubscribing_opts_out_at_once_and_skips_what_waits(draft, officer,
                                                            second_officer, make_person):
    person = make_person()
    sent = approved(draft(), officer, second_officer)
    later = approved(draft(scheduled_at=utcnow() + timedelta(days=1),
                           is_local_morning=True), officer, second_officer)
    delivery = db.session.scalar(select(Delivery).where(Delivery.campaign_id == sent.id))

    assert unsubscribing.unsubscribe(delivery, "one-click")

    assert person.is_outreach_opted_out
    assert statuses(later) == {SKIPPED: 1}
    assert campaigns.counts(sent)["unsubscribed"] == 1
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "person.unsubscribe"))
    assert event.object_id == str(person.id) and event.details["how"] == "one-click"


def test_a_changed_token_names_nobody(draft, officer, second_officer, make_person):
    make_person()
    campaign = approved(draft(), officer, second_officer)
    delivery = db.session.scalar(select(Delivery).where(Delivery.campaign_id == campaign.id))
    token = unsubscribing.token_for(delivery.id)

    assert unsubscribing.delivery_for(token) == delivery
    assert unsubscribing.delivery_for(token[:-2] + "xx") is None
    assert unsubscribing.delivery_for("garbage") is None


# Statistics ----------------------------------------------------------------------------

def test_the_annual_report_counts_the_years_campaigns_and_messages(draft, officer,
                                                                  second_officer,
                                                                  make_person):
    from registry.reports import annual

    make_person(), make_person()
    approved(draft(), officer, second_officer)
    approved(draft(scheduled_at=utcnow() + timedelta(days=30)), officer, second_officer)
    today = vietnam_today()

    totals = annual.compute(today.year, today)["totals"]

    assert (totals["campaigns"], totals["messages"]) == (1, 2)
    last_year = annual.compute(today.year - 1, date(today.year - 1, 12, 31))["totals"]
    assert (last_year["campaigns"], last_year["messages"]) == (0, 0)


def test_the_dashboard_lists_running_campaigns_for_outreach_managers(draft, officer,
                                                                    second_officer,
                                                                    make_person, staff):
    from registry.reports import operations as reports

    make_person()
    waiting = approved(draft(scheduled_at=utcnow() + timedelta(days=1),
                             is_local_morning=True), officer, second_officer)

    summary = reports.dashboard(officer)["outreach"]
    assert [campaign.id for campaign, _counts in summary["campaigns"]] == [waiting.id]
    assert summary["campaigns"][0][1]["pending"] == 1
    assert reports.dashboard(db.session.get(User, staff["viewer"]))["outreach"] is None


def test_a_message_printing_a_signature_the_campaign_lacks_is_refused(draft):
    with pytest.raises(BadInput, match="signature"):
        draft(signature=None)


def test_a_message_printing_the_occasion_of_a_campaign_without_one_is_refused(draft):
    with pytest.raises(BadInput, match="occasion"):
        draft(occasion_id=None)
