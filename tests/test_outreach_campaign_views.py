"""The campaigns' pages: drafting with checked templates, preview, a test to oneself,
approval by a second officer, pause, resume, cancel, the failures' export, who may."""
import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from registry.accounts import operations as accounts
from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.core import mail
from registry.core.time import VIETNAM, as_utc, vietnam_today
from registry.extensions import db
from registry.outreach import audiences, calendar, campaigns, sending
from registry.outreach.models import (AWAITING_APPROVAL, CANCELLED, DONE, DRAFT, FAILED,
                                      PAUSED, SENDING, Campaign, Delivery, Occasion)
from registry.people import operations as people
from tests.factories import BIM_SON

BODY_VI = ("Kính gửi {{ honorific }} {{ full_name }},\n\n"
           "Nhân dịp {{ occasion }} ({{ occasion_date }}), chúc {{ honorific }} và gia đình "
           "mạnh khỏe.\n\n{{ signature }}")
BODY_EN = "Dear {{ honorific }} {{ full_name }},\n\nHappy {{ occasion }}!\n\n{{ signature }}"
MESSAGES = {"vi": ("Chúc mừng {{ occasion }}", BODY_VI),
            "en": ("Greetings for {{ occasion }}", BODY_EN)}


@pytest.fixture
def officer(make_user):
    return make_user("officer", full_name="Trần Văn Soạn")


@pytest.fixture
def second_officer(make_user):
    return make_user("officer", full_name="Lê Thị Duyệt")


@pytest.fixture
def signed_in(client, login_as, officer):
    login_as(officer)
    client.post("/lang/en")
    return client


@pytest.fixture
def as_second_officer(app, second_officer):
    """Return another browser, signed in as the second officer, in English."""
    other = app.test_client()
    with app.test_request_context():
        markers = accounts.session_markers(second_officer)
    with other.session_transaction() as session:
        session.update(markers)
    other.post("/lang/en")
    return other


@pytest.fixture(autouse=True)
def _empty_outbox(app):
    with app.app_context():
        mail.sent_messages().clear()


@pytest.fixture
def add_person(app, officer):
    """Return a factory of records every audience reaches unless told otherwise."""
    counter = iter(range(1, 10_000))

    def factory(*, lang="vi", gender="female", country="JP", **fields) -> int:
        number = next(counter)
        data = {"full_name": f"Lê Thị Mai {number}", "gender": gender, "birth": None,
                "hometown": (BIM_SON, None, None), "country_code": country,
                "city": "Osaka", "phones": [], "emails": [f"mai{number}@example.test"],
                "associations": [], "consents": ["record", "greetings"]}
        with app.app_context():
            person = people.create_person(data, db.session.get(User, officer.id), "officer")
            person.preferred_lang, person.birth_year = lang, 1975
            for name, value in fields.items():
                setattr(person, name, value)
            db.session.commit()
            return person.id

    return factory


@pytest.fixture
def tet_id(app) -> int:
    with app.app_context():
        occasion = Occasion(name="Tết Nguyên Đán", name_en="Lunar New Year", kind="lunar",
                            month=1, day=1, remind_days_before=45)
        db.session.add(occasion)
        db.session.commit()
        return occasion.id


@pytest.fixture
def audience_id(app, officer) -> int:
    with app.app_context():
        audience = audiences.save_audience("Everyone", {}, db.session.get(User, officer.id))
        db.session.commit()
        return audience.id


@pytest.fixture
def form(tet_id, audience_id) -> dict:
    """Return the fields of a valid campaign form as a browser would post them."""
    return {"name": "Tết 2027", "occasion_id": str(tet_id), "occasion_date": "2027-02-06",
            "audience_id": str(audience_id), "signature": "Sở Ngoại vụ Thanh Hóa",
            "subject_vi": MESSAGES["vi"][0], "body_vi": BODY_VI,
            "subject_en": MESSAGES["en"][0], "body_en": BODY_EN, "when": "now",
            "send_date": "", "send_time": ""}


@pytest.fixture
def draft_id(app, officer, tet_id, audience_id):
    """Return a factory of the ids of draft campaigns written by officer."""
    def factory(submitted=False, **fields) -> int:
        with app.app_context():
            author = db.session.get(User, officer.id)
            values = {"name": "Tết 2027", "occasion_id": tet_id,
                      "occasion_date": date(2027, 2, 6), "audience_id": audience_id,
                      "signature": "Sở Ngoại vụ Thanh Hóa", **fields}
            campaign = campaigns.create_campaign(values, MESSAGES, author)
            if submitted:
                campaigns.submit(campaign, author)
            db.session.commit()
            return campaign.id

    return factory


@pytest.fixture
def sending_id(app, draft_id, second_officer):
    """Return a factory of campaigns approved and sending in tomorrow's local morning."""
    def factory() -> int:
        tomorrow = datetime.combine(vietnam_today() + timedelta(days=1),
                                    datetime.min.time(), UTC)
        campaign_id = draft_id(submitted=True, scheduled_at=tomorrow, is_local_morning=True)
        with app.app_context():
            campaigns.approve(db.session.get(Campaign, campaign_id),
                              db.session.get(User, second_officer.id))
            db.session.commit()
        return campaign_id

    return factory


def page(response) -> str:
    return response.get_data(as_text=True)


def stored(app, campaign_id: int) -> Campaign:
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        db.session.expunge(campaign)
        return campaign


def actions(app) -> list[str]:
    with app.app_context():
        query = select(AuditEvent.action).where(AuditEvent.object_type == "campaign")
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def outbox(app) -> list:
    with app.app_context():
        return list(mail.sent_messages())


# Drafting ----------------------------------------------------------------------------

def test_an_officer_drafts_a_campaign_in_both_languages(app, signed_in, form):
    response = signed_in.post("/outreach/campaigns/new", data=form)

    assert response.status_code == 302
    with app.app_context():
        campaign = db.session.scalars(select(Campaign)).one()
        assert campaign.state == DRAFT and campaign.occasion_date == date(2027, 2, 6)
        assert {message.lang for message in campaign.messages} == {"vi", "en"}
        assert response.location.endswith(f"/outreach/campaigns/{campaign.id}")
    assert actions(app) == ["campaign.create"]


def test_the_form_lists_the_placeholders_beside_the_body(signed_in, tet_id, audience_id):
    form_page = page(signed_in.get("/outreach/campaigns/new"))

    for name in ("honorific", "full_name", "occasion_date", "signature"):
        assert "{{ %s }}" % name in form_page
    assert "Lunar New Year" in form_page and "Everyone" in form_page


def test_a_bad_template_shows_its_line_beside_the_body_and_saves_nothing(app, signed_in,
                                                                        form):
    bad = {**form, "body_vi": "Kính gửi {{ honorific }}\n\nMật khẩu: {{ password }}"}

    response = signed_in.post("/outreach/campaigns/new", data=bad)

    assert response.status_code == 422
    errors = page(response).split('id="body_vi-errors"', 1)[1].split("</div>", 1)[0]
    assert "line 3" in errors and "password" in errors
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_bad_subject_goes_beside_the_subject(signed_in, form):
    response = signed_in.post("/outreach/campaigns/new",
                              data={**form, "subject_en": "Hello {{ name.upper() }}"})

    assert response.status_code == 422
    errors = page(response).split('id="subject_en-errors"', 1)[1].split("</div>", 1)[0]
    assert "Subject, line 1" in errors


@pytest.mark.parametrize("changes, field, message", [
    ({"subject_vi": "", "body_vi": ""}, "subject_vi", "in Vietnamese at least"),
    ({"body_en": ""}, "body_en", "Write both the subject and the message"),
    ({"name": ""}, "name", "Give the campaign a name."),
    ({"audience_id": ""}, "audience_id", "Choose an audience."),
    ({"when": "morning"}, "send_date", "Choose the day to send."),
    ({"when": "at", "send_date": "2027-01-05"}, "send_time", "Choose the time to send"),
    ({"when": "at", "send_date": "2020-01-05", "send_time": "09:00"}, "send_date",
     "This day has passed"),
])
def test_bad_input_is_shown_beside_its_field(app, signed_in, form, changes, field, message):
    response = signed_in.post("/outreach/campaigns/new", data={**form, **changes})

    assert response.status_code == 422
    assert message in page(response).split(f'id="{field}-errors"', 1)[1].split("</div>")[0]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_refusal_of_the_operations_goes_beside_its_field(app, signed_in, form,
                                                           monkeypatch):
    from registry.core.errors import BadInput

    def refuse(*_args):
        raise BadInput("Refused by the operation.", field="scheduled_at")

    monkeypatch.setattr(campaigns, "create_campaign", refuse)
    response = signed_in.post("/outreach/campaigns/new", data=form)

    assert response.status_code == 422
    assert "Refused by the operation." in page(response).split('id="send_date-errors"')[1]


def test_a_time_is_typed_in_vietnam_time_and_stored_in_utc(app, signed_in, form):
    day = vietnam_today() + timedelta(days=3)
    signed_in.post("/outreach/campaigns/new",
                   data={**form, "when": "at", "send_date": day.isoformat(),
                         "send_time": "09:30"})

    with app.app_context():
        campaign = db.session.scalars(select(Campaign)).one()
        assert as_utc(campaign.scheduled_at) == datetime.combine(
            day, datetime.min.time(), UTC) + timedelta(hours=2, minutes=30)
        assert not campaign.is_local_morning


def test_the_local_morning_keeps_the_chosen_day(app, signed_in, form):
    day = vietnam_today() + timedelta(days=3)
    signed_in.post("/outreach/campaigns/new",
                   data={**form, "when": "morning", "send_date": day.isoformat()})

    with app.app_context():
        campaign = db.session.scalars(select(Campaign)).one()
        assert campaign.is_local_morning
        assert as_utc(campaign.scheduled_at).astimezone(VIETNAM).date() == day
    edit = page(signed_in.get(f"/outreach/campaigns/{campaign.id}/edit"))

    assert f'value="{day.isoformat()}"' in edit
    assert re.search(r'<input checked[^>]*value="morning"', edit)


def test_an_empty_occasion_date_takes_the_occasions_next_date(app, signed_in, form, tet_id):
    signed_in.post("/outreach/campaigns/new", data={**form, "occasion_date": ""})

    with app.app_context():
        tet = db.session.get(Occasion, tet_id)
        expected = calendar.next_date(tet, vietnam_today())
        assert db.session.scalars(select(Campaign)).one().occasion_date == expected


def test_choosing_an_occasion_answers_its_next_date(app, signed_in, tet_id):
    fragment = page(signed_in.get("/outreach/campaigns/occasion-date",
                                  query_string={"occasion_id": tet_id}))

    with app.app_context():
        expected = calendar.next_date(db.session.get(Occasion, tet_id), vietnam_today())
    assert 'id="occasion-date-field"' in fragment
    assert f'value="{expected.isoformat()}"' in fragment


def test_editing_an_awaiting_campaign_puts_it_back_to_draft(app, signed_in, form, draft_id,
                                                           add_person):
    add_person()
    campaign_id = draft_id(submitted=True)

    response = signed_in.post(f"/outreach/campaigns/{campaign_id}/edit",
                              data={**form, "name": "Tết Đinh Mùi"})

    assert response.status_code == 302
    changed = stored(app, campaign_id)
    assert (changed.name, changed.state) == ("Tết Đinh Mùi", DRAFT)
    assert actions(app)[-1] == "campaign.update"


# The campaign's page -------------------------------------------------------------------

def test_the_page_shows_who_drafted_it_the_audience_size_and_a_sample(app, signed_in,
                                                                      draft_id, add_person):
    add_person(), add_person()
    campaign_id = draft_id()

    shown = page(signed_in.get(f"/outreach/campaigns/{campaign_id}"))

    assert "2 people will receive it" in shown
    assert "Trần Văn Soạn" in shown and "Draft" in shown
    assert "Chúc mừng Tết Nguyên Đán" in shown  # the sample in Vietnamese
    assert "Greetings for Lunar New Year" in shown
    assert "Kính gửi Bà Lê Thị Mẫu" in shown and "06/02/2027" in shown
    assert "<p>Kính gửi Bà Lê Thị Mẫu,</p>" in shown  # the HTML part, as HTML


def test_the_preview_for_a_chosen_person_is_in_their_language(app, signed_in, draft_id,
                                                              add_person):
    english = add_person(lang="en", gender="male", full_name="Lê Văn <b>Nam</b>")
    campaign_id = draft_id()

    shown = page(signed_in.get(f"/outreach/campaigns/{campaign_id}",
                               query_string={"person": english}))

    assert "Greetings for Lunar New Year" in shown
    assert "Chúc mừng Tết Nguyên Đán" not in shown
    assert f'<option value="{english}" selected' in shown
    assert "<b>Nam</b>" not in shown and "&lt;b&gt;Nam&lt;/b&gt;" in shown


def test_any_record_number_typed_in_is_previewed_beyond_the_people_offered(
        app, signed_in, draft_id, add_person):
    english = add_person(lang="en", gender="male", full_name="Lê Văn Nam")
    campaign_id = draft_id()

    shown = page(signed_in.get(f"/outreach/campaigns/{campaign_id}",
                               query_string={"person": "sample", "record": str(english)}))

    assert "Dear Mr Lê Văn Nam" in shown
    assert f'value="{english}"' in shown
    too_long = page(signed_in.get(f"/outreach/campaigns/{campaign_id}",
                                  query_string={"record": "9" * 30}))
    assert "Kính gửi Bà Lê Thị Mẫu" in too_long  # nobody: the sample again


def test_a_value_a_recipient_lacks_is_told_in_the_preview(app, signed_in, draft_id,
                                                         add_person):
    no_city = add_person(city=None)
    campaign_id = draft_id()
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        campaign.messages[-1].body = "Xin chào {{ full_name }} ở {{ city }}"
        db.session.commit()

    shown = page(signed_in.get(f"/outreach/campaigns/{campaign_id}",
                               query_string={"person": no_city}))

    assert "This recipient has no value for {{ city }}" in shown


def test_the_author_sees_no_approve_button_and_is_refused(app, signed_in, draft_id,
                                                          add_person):
    add_person()
    campaign_id = draft_id(submitted=True)

    shown = page(signed_in.get(f"/outreach/campaigns/{campaign_id}"))
    response = signed_in.post(f"/outreach/campaigns/{campaign_id}/approve",
                              follow_redirects=True)

    assert f"/outreach/campaigns/{campaign_id}/approve" not in shown
    assert "another officer must approve it" in shown
    assert "You wrote this campaign: another officer must approve it." in page(response)
    assert stored(app, campaign_id).state == AWAITING_APPROVAL
    assert outbox(app) == []


def test_a_second_officer_approves_and_the_messages_go_out(app, signed_in, draft_id,
                                                           add_person, as_second_officer):
    add_person(), add_person(lang="en", gender="male")
    campaign_id = draft_id()
    signed_in.post(f"/outreach/campaigns/{campaign_id}/submit")
    assert stored(app, campaign_id).state == AWAITING_APPROVAL

    shown = page(as_second_officer.get(f"/outreach/campaigns/{campaign_id}"))
    response = as_second_officer.post(f"/outreach/campaigns/{campaign_id}/approve",
                                      follow_redirects=True)

    assert f"/outreach/campaigns/{campaign_id}/approve" in shown
    assert stored(app, campaign_id).state == DONE
    subjects = sorted(message["Subject"] for message in outbox(app))
    assert subjects == ["Chúc mừng Tết Nguyên Đán", "Greetings for Lunar New Year"]
    done = page(response)
    assert "The campaign was approved." in done and "Lê Thị Duyệt" in done
    assert "2 of 2 messages handled: 100%." in done
    assert 'hx-trigger="every 2s"' not in done
    assert {"campaign.submit", "campaign.approve", "campaign.start",
            "campaign.finish"} <= set(actions(app))


def test_an_awaiting_campaign_goes_back_to_draft_with_the_reason(app, as_second_officer,
                                                                 draft_id, add_person):
    add_person()
    campaign_id = draft_id(submitted=True)

    as_second_officer.post(f"/outreach/campaigns/{campaign_id}/return",
                           data={"reason": "Thiếu lời chào bằng tiếng Anh."})

    assert stored(app, campaign_id).state == DRAFT
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "campaign.return")).one()
        assert event.details["reason"] == "Thiếu lời chào bằng tiếng Anh."


def test_pause_resume_and_cancel(app, signed_in, sending_id, add_person):
    add_person(), add_person()
    campaign_id = sending_id()
    url = f"/outreach/campaigns/{campaign_id}"
    assert stored(app, campaign_id).state == SENDING
    assert 'hx-trigger="every 2s"' in page(signed_in.get(url))

    signed_in.post(f"{url}/pause")
    paused = page(signed_in.get(url))
    assert stored(app, campaign_id).state == PAUSED
    assert f"{url}/resume" in paused and f"{url}/pause" not in paused
    assert 'hx-trigger="every 2s"' not in paused

    signed_in.post(f"{url}/resume")
    assert stored(app, campaign_id).state == SENDING

    response = signed_in.post(f"{url}/cancel", follow_redirects=True)
    assert stored(app, campaign_id).state == CANCELLED
    assert "nothing more will be sent" in page(response)
    with app.app_context():
        statuses = db.session.scalars(select(Delivery.status).where(
            Delivery.campaign_id == campaign_id)).all()
    assert statuses == [CANCELLED, CANCELLED]
    assert outbox(app) == []
    assert actions(app)[-3:] == ["campaign.pause", "campaign.resume", "campaign.cancel"]


def test_a_refused_action_changes_nothing_and_says_why(app, signed_in, draft_id):
    campaign_id = draft_id()

    response = signed_in.post(f"/outreach/campaigns/{campaign_id}/pause",
                              follow_redirects=True)

    assert "Only a campaign being sent can be paused." in page(response)
    assert stored(app, campaign_id).state == DRAFT


def test_the_progress_fragment_polls_while_sending_and_reloads_after(app, signed_in,
                                                                     officer, sending_id,
                                                                     add_person):
    add_person()
    campaign_id = sending_id()
    url = f"/outreach/campaigns/{campaign_id}/progress"

    polling = signed_in.get(url, headers={"HX-Request": "true"})
    with app.app_context():
        campaigns.pause(db.session.get(Campaign, campaign_id),
                        db.session.get(User, officer.id))
        db.session.commit()
    stopped = signed_in.get(url, headers={"HX-Request": "true"})

    assert 'hx-trigger="every 2s"' in page(polling) and "HX-Refresh" not in polling.headers
    assert "0 of 1 messages handled: 0%." in page(polling)
    assert stopped.headers["HX-Refresh"] == "true"


def test_a_campaign_that_paused_itself_says_why(app, signed_in, sending_id, add_person):
    add_person()
    campaign_id = sending_id()
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        campaign.state, campaign.pause_reason = PAUSED, sending.pause_reason(60, 100)
        db.session.commit()

    shown = page(signed_in.get(f"/outreach/campaigns/{campaign_id}"))

    assert "Sending paused itself: 60% of the last 100 messages failed" in shown
    assert "Unsubscribed" in shown


# The test to oneself and the failures -----------------------------------------------------

def test_a_test_goes_to_the_officer_only_marked_and_without_unsubscribe(app, signed_in,
                                                                        officer, draft_id,
                                                                        add_person):
    add_person()
    campaign_id = draft_id()

    response = signed_in.post(f"/outreach/campaigns/{campaign_id}/test",
                              follow_redirects=True)

    assert f"A test was sent to {officer.email}." in page(response)
    sent = outbox(app)
    assert [message["To"] for message in sent] == [officer.email, officer.email]
    assert sorted(message["Subject"] for message in sent) == [
        "[TEST] Chúc mừng Tết Nguyên Đán", "[TEST] Greetings for Lunar New Year"]
    assert all(message["List-Unsubscribe"] is None for message in sent)
    assert all(message["Precedence"] == "bulk" for message in sent)
    vietnamese = next(message for message in sent if "Chúc" in message["Subject"])
    assert "Kính gửi Bà Lê Thị Mẫu" in vietnamese.get_body(("plain",)).get_content()
    assert "campaign.test_send" in actions(app)
    assert stored(app, campaign_id).state == DRAFT


def test_the_failures_download_escapes_formulas_and_is_audited(app, signed_in, sending_id,
                                                               add_person):
    first = add_person(full_name="Lê Thị Mai")
    add_person()
    campaign_id = sending_id()
    with app.app_context():
        delivery = db.session.scalars(select(Delivery).where(
            Delivery.person_id == first)).one()
        delivery.status, delivery.attempts = FAILED, 5
        delivery.last_error = "=HYPERLINK(\"http://evil.example\")"
        db.session.commit()

    shown = page(signed_in.get(f"/outreach/campaigns/{campaign_id}"))
    response = signed_in.get(f"/outreach/campaigns/{campaign_id}/failures.csv")

    assert f"/outreach/campaigns/{campaign_id}/failures.csv" in shown
    assert response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0] == ["Record number", "Full name", "E-mail address", "Attempts",
                        "Last error"]
    assert lines[1] == [str(first), "Lê Thị Mai", "mai1@example.test", "5",
                        "'=HYPERLINK(\"http://evil.example\")"]
    assert len(lines) == 2
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "campaign.export_failures")).one()
        assert event.details == {"rows": 1}


# Who may ---------------------------------------------------------------------------------

CAMPAIGN_ROUTES = [
    ("GET", "/outreach/campaigns"), ("GET", "/outreach/campaigns/new"),
    ("POST", "/outreach/campaigns/new"), ("GET", "/outreach/campaigns/occasion-date"),
    ("GET", "/outreach/campaigns/{id}"), ("GET", "/outreach/campaigns/{id}/edit"),
    ("POST", "/outreach/campaigns/{id}/edit"), ("GET", "/outreach/campaigns/{id}/progress"),
    ("POST", "/outreach/campaigns/{id}/submit"), ("POST", "/outreach/campaigns/{id}/return"),
    ("POST", "/outreach/campaigns/{id}/approve"), ("POST", "/outreach/campaigns/{id}/pause"),
    ("POST", "/outreach/campaigns/{id}/resume"), ("POST", "/outreach/campaigns/{id}/cancel"),
    ("POST", "/outreach/campaigns/{id}/test"),
    ("GET", "/outreach/campaigns/{id}/failures.csv"),
]


@pytest.mark.parametrize("role", ["district", "police", "viewer"])
def test_district_officials_police_and_viewers_are_refused_everywhere(
        app, client, login_as, make_user, draft_id, add_person, role):
    add_person()
    campaign_id = draft_id(submitted=True)
    login_as(make_user(role))

    answers = {(method, url): client.open(url.format(id=campaign_id), method=method,
                                          data={}).status_code
               for method, url in CAMPAIGN_ROUTES}

    assert set(answers.values()) == {403}, answers
    assert stored(app, campaign_id).state == AWAITING_APPROVAL
    assert outbox(app) == []


def test_the_outreach_tabs_lead_to_the_campaigns(signed_in):
    shown = page(signed_in.get("/outreach/occasions"))

    assert 'href="/outreach/campaigns"' in shown


def test_saving_the_same_texts_from_a_browser_changes_nothing(app, signed_in, form,
                                                              draft_id):
    campaign_id = draft_id()
    browser_form = {**form, "body_vi": BODY_VI.replace("\n", "\r\n"),
                    "body_en": BODY_EN.replace("\n", "\r\n")}

    response = signed_in.post(f"/outreach/campaigns/{campaign_id}/edit", data=browser_form,
                              follow_redirects=True)

    assert "Nothing was changed." in page(response)
    assert actions(app) == ["campaign.create"]
