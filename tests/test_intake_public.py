"""Public self-registration: the form, consent evidence, the confirmation link, abuse."""
import re
import time
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from registry.core.mail import sent_messages
from registry.core.time import as_utc, utcnow
from registry.extensions import db
from registry.intake import operations
from registry.intake.models import Submission
from registry.intake.notice import NOTICE_VERSION
from registry.people.models import Consent, Email, Person
from tests.factories import BIM_SON

HOANG_PHU = "15889"  # Xã Hoằng Phú, one of the communes "Hoang Quy" may mean


def started(seconds_ago: float = 10) -> str:
    """Return the signed time stamp of a form shown seconds_ago."""
    return operations.form_started_token(time.time() - seconds_ago)


def registration(**changes) -> dict:
    """Return a valid public form as a phone's browser would post it."""
    data = {
        "full_name": "Lê Thị Mai", "gender": "female", "date_of_birth": "03/1994",
        "hometown": "Phường Bỉm Sơn", "hometown_code": BIM_SON, "country": "JP",
        "city": "Nagoya", "address_abroad": "2-1 Sakae, Naka-ku", "phones-0": "080-1234-5678",
        "phones-1": "", "email": "Mai.Le@Example.com", "occupation": "Kỹ sư",
        "expertise": "Cơ khí", "association": "Hội người Thanh Hóa tại Nhật Bản",
        "preferred_lang": "vi", "consent_record": "y", "consent_greetings": "y",
        "website": "", "started": started(),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Person, Submission, Consent))


def confirmation_link() -> str:
    text = sent_messages()[-1].get_content()
    return re.search(r"https?://\S+/register/confirm/\S+", text).group(0)


@pytest.fixture(autouse=True)
def _empty_outbox(app):
    with app.app_context():
        sent_messages().clear()


@pytest.fixture
def english(client):
    client.post("/lang/en")
    return client


def test_form_is_vietnamese_by_default_with_the_notice_and_unticked_boxes(app_ctx, client):
    page = client.get("/register").get_data(as_text=True)

    assert '<html lang="vi">' in page
    assert NOTICE_VERSION in page and "91/2025/QH15" in page
    assert 'data-autocomplete-url="/places/public/units"' in page
    for purpose in ("record", "greetings", "sharing"):
        box = re.search(rf'<input[^>]*name="consent_{purpose}"[^>]*>', page).group(0)
        assert "checked" not in box
    assert 'class="hp-field"' in page and "js/register.js" in page
    assert 'inputmode="email"' in page and 'autocomplete="tel"' in page
    assert 'data-phone-codes="' in page and "&#34;JP&#34;: &#34;+81&#34;" in page
    for staff_only in ("status", "notes", "passport_number", "national_id", "consent_channel",
                       "is_outreach_opted_out", "relative_name", "residence_status"):
        assert f'name="{staff_only}"' not in page


def test_form_shows_the_notice_in_english_when_chosen(app_ctx, english):
    page = english.get("/register").get_data(as_text=True)

    assert '<html lang="en">' in page
    for heading in ("Who keeps your data", "Why", "Who receives it", "How long",
                    "Your rights", "Contact"):
        assert f"<dt>{heading}</dt>" in page
    assert "Sở Ngoại vụ Thanh Hóa" in page
    assert "Tiếng Việt" in page  # the switch back


def test_resident_registers_and_the_evidence_is_kept(app_ctx, client):
    response = client.post("/register", data=registration(),
                           headers={"User-Agent": "PhoneBrowser/1.0"})

    assert response.status_code == 302 and response.location == "/register/done"
    person = db.session.scalar(select(Person))
    assert (person.status, person.source, person.created_by_id) == ("submitted", "self", None)
    assert (person.birth_year, person.birth_month, person.birth_day) == (1994, 3, None)
    assert [phone.number for phone in person.phones] == ["+818012345678"]
    assert [(e.address, e.is_verified) for e in person.emails] == [
        ("mai.le@example.com", False)]
    assert [m.association.name for m in person.memberships] == [
        "Hội người Thanh Hóa tại Nhật Bản"]
    submission = db.session.scalar(select(Submission))
    assert (submission.kind, submission.state, submission.contact_email) == (
        "self", "pending", "mai.le@example.com")
    assert submission.notice_version == NOTICE_VERSION
    shown = utcnow() - as_utc(submission.notice_shown_at)
    assert timedelta(seconds=5) < shown < timedelta(minutes=1)
    assert (submission.address, submission.user_agent) == ("127.0.0.1", "PhoneBrowser/1.0")
    consents = db.session.scalars(select(Consent).order_by(Consent.purpose)).all()
    assert [(c.purpose, c.channel, c.notice_version) for c in consents] == [
        ("greetings", "form", NOTICE_VERSION), ("record", "form", NOTICE_VERSION)]

    done = client.get("/register/done").get_data(as_text=True)
    assert submission.reference in done
    [mail] = sent_messages()
    assert mail["To"] == "mai.le@example.com" and submission.reference in mail["Subject"]


def test_the_confirmation_mail_is_written_in_vietnamese_by_default(app_ctx, client):
    client.post("/register", data=registration())

    [mail] = sent_messages()
    text = mail.get_content()
    assert "Cảm ơn bạn đã đăng ký thông tin với Sở Ngoại vụ tỉnh Thanh Hóa" in text
    assert "Thank you" not in text


def test_the_record_consent_is_required_and_nothing_is_saved_without_it(app_ctx, english):
    response = english.post("/register", data=registration(consent_record=None))

    assert response.status_code == 422
    assert "Tick this box to register" in response.get_data(as_text=True)
    assert counts() == (0, 0, 0) and sent_messages() == []


def test_the_link_confirms_the_address(app_ctx, client):
    client.post("/register", data=registration())

    response = client.get(confirmation_link())

    assert response.status_code == 200
    submission = db.session.scalar(select(Submission))
    assert submission.contact_verified_at is not None
    assert db.session.scalar(select(Email.is_verified)) is True
    assert client.get(confirmation_link()).status_code == 200  # a second click is harmless


def test_an_expired_link_says_so_and_offers_a_new_one(app_ctx, english, monkeypatch):
    english.post("/register", data=registration())
    monkeypatch.setattr(operations, "CONFIRM_MAX_AGE", -1)

    response = english.get(confirmation_link())

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This link has expired." in page and 'action="/register/resend"' in page
    assert db.session.scalar(select(Submission.contact_verified_at)) is None


def test_a_link_is_valid_for_seven_days(app_ctx, client):
    client.post("/register", data=registration())
    token = confirmation_link().rsplit("/", 1)[1]

    with pytest.raises(operations.LinkExpired):
        operations.confirm_contact(token, max_age=-1)
    assert operations.CONFIRM_MAX_AGE == 7 * 24 * 3600
    assert operations.confirm_contact(token).is_contact_verified


def test_a_tampered_link_is_refused(app_ctx, english):
    english.post("/register", data=registration())
    link = confirmation_link()
    tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")

    response = english.get(tampered)

    assert response.status_code == 400
    assert "This link is not valid." in response.get_data(as_text=True)
    assert db.session.scalar(select(Submission.contact_verified_at)) is None


def test_a_link_for_another_address_is_refused(app_ctx, client):
    client.post("/register", data=registration())
    submission = db.session.scalar(select(Submission))
    submission.contact_email = "someone.else@example.com"
    token = operations.confirmation_token(submission)
    submission.contact_email = "mai.le@example.com"
    db.session.commit()

    assert client.get(f"/register/confirm/{token}").status_code == 400


def test_resend_answers_the_same_whether_or_not_a_registration_matches(app_ctx, english):
    english.post("/register", data=registration())
    reference = db.session.scalar(select(Submission.reference))
    sent_messages().clear()

    found = english.post("/register/resend", data={"email": "MAI.LE@example.com",
                                                   "reference": reference.lower()},
                         follow_redirects=True)
    assert len(sent_messages()) == 1
    unknown = english.post("/register/resend", data={"email": "nobody@example.com",
                                                     "reference": reference},
                           follow_redirects=True)

    assert len(sent_messages()) == 1
    assert found.status_code == unknown.status_code == 200
    notice = "If these details match a registration"
    assert notice in found.get_data(as_text=True) and notice in unknown.get_data(as_text=True)


def test_no_new_link_once_the_address_is_confirmed(app_ctx, client):
    client.post("/register", data=registration())
    client.get(confirmation_link())
    reference = db.session.scalar(select(Submission.reference))
    sent_messages().clear()

    client.post("/register/resend", data={"email": "mai.le@example.com",
                                          "reference": reference})

    assert sent_messages() == []


@pytest.mark.parametrize("changes, message", [
    ({"website": "http://spam.example"}, "The form could not be accepted"),
    ({"started": None}, "The form could not be accepted"),
    ({"started": "forged.token"}, "The form could not be accepted"),
])
def test_robots_are_refused_and_nothing_is_saved(app_ctx, english, changes, message):
    response = english.post("/register", data=registration(**changes))

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts() == (0, 0, 0) and sent_messages() == []


def test_a_form_sent_within_seconds_is_refused_with_a_fresh_stamp(app_ctx, english):
    response = english.post("/register", data=registration(started=started(0)))

    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "That was very quick" in page
    assert counts() == (0, 0, 0)
    stamp = re.search(r'<input[^>]*name="started"[^>]*value="([^"]+)"', page).group(1)
    assert time.time() - operations._started_at(stamp) < 5
    assert 'value="Lê Thị Mai"' in page  # the answers are kept


def test_a_form_left_open_for_hours_is_shown_again(app_ctx, english):
    response = english.post("/register", data=registration(started=started(3 * 3600)))

    assert response.status_code == 422
    assert "open for a long time" in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)


def test_fields_only_staff_may_set_are_ignored(app_ctx, client):
    response = client.post("/register", data=registration(
        status="active", notes="VIP", is_verified="y", passport_number="C1234567",
        national_id="038123456789", residence_status="worker", relative_name="Lê Văn Ba",
        consent_channel="paper", is_outreach_opted_out="y", source="officer",
        created_by_id="1", hometown_former_code="x", **{"emails-0": "other@example.com"}))

    assert response.status_code == 302
    person = db.session.scalar(select(Person))
    assert (person.status, person.source, person.notes, person.is_verified) == (
        "submitted", "self", None, False)
    assert (person.passport_number, person.national_id, person.residence_status,
            person.relative_name, person.is_outreach_opted_out) == (None, None, None, None,
                                                                    False)
    assert [e.address for e in person.emails] == ["mai.le@example.com"]
    assert {c.channel for c in person.consents} == {"form"}


@pytest.mark.parametrize("changes", [
    {"full_name": "N" * 121},
    {"full_name": "<script>alert(1)</script>"},
    {"full_name": "Mai {{ 7*7 }}"},
    {"full_name": ""},
    {"hometown": "Không Có Xã Này", "hometown_code": ""},
    {"hometown": "", "hometown_code": "99999"},
    {"hometown": "Không Có Xã Này", "hometown_code": BIM_SON + "1"},
    {"date_of_birth": "31/02/1990"},
    {"date_of_birth": "13/2001"},
    {"date_of_birth": "01/01/2090"},
    {"date_of_birth": "1850"},
    {"country": "XX"},
    {"country": ""},
    {"city": "C" * 121},
    {"city": "Nagoya\x00"},
    {"address_abroad": "A" * 256},
    {"address_abroad": "<img src=x onerror=alert(1)>"},
    {"occupation": "Kỹ sư\x1b[31m"},
    {"expertise": "E" * 161},
    {"association": "A" * 161},
    {"phones-0": "12"},
    {"phones-0": "9" * 31},
    {"email": ""},
    {"email": "not-an-address"},
    {"email": "a" * 250 + "@example.com"},
    {"gender": "robot"},
    {"preferred_lang": "fr"},
], ids=lambda changes: ",".join(f"{k}={v[:12]!r}" for k, v in changes.items()))
def test_bad_input_saves_nothing_and_says_why(app_ctx, client, changes):
    response = client.post("/register", data=registration(**changes))

    assert response.status_code == 422
    assert "invalid-feedback" in response.get_data(as_text=True)
    assert counts() == (0, 0, 0) and sent_messages() == []


def test_a_long_value_is_refused_with_our_own_message(app_ctx, english):
    response = english.post("/register", data=registration(city="C" * 121))

    assert "At most 120 characters." in response.get_data(as_text=True)


def test_an_ambiguous_hometown_asks_which_commune_then_saves(app_ctx, client):
    asked = client.post("/register", data=registration(hometown="Hoang Quy", hometown_code=""))

    assert asked.status_code == 422
    assert f'value="{HOANG_PHU}"' in asked.get_data(as_text=True)
    assert counts() == (0, 0, 0)

    chosen = client.post("/register", data=registration(hometown="Hoang Quy",
                                                        hometown_code=HOANG_PHU))
    assert chosen.status_code == 302
    assert db.session.scalar(select(Person.hometown_code)) == HOANG_PHU


def test_done_page_without_a_registration_goes_back_to_the_form(client):
    assert client.get("/register/done").location == "/register"


# Fuzzing ---------------------------------------------------------------------------

FIELDS = ("full_name", "gender", "date_of_birth", "hometown", "hometown_code", "country",
          "city", "address_abroad", "phones-0", "phones-1", "email", "occupation",
          "expertise", "association", "preferred_lang", "consent_record",
          "consent_greetings", "consent_sharing", "website", "status")
ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=100, max_size=600),
    st.text(alphabet=st.characters(max_codepoint=0x1f), max_size=20),
    st.sampled_from(["", " ", "<b>x</b>", "{{7*7}}", "0", "JP", "y", "31/02/1990",
                     "Phường Bỉm Sơn", "'; DROP TABLE person; --", "\u202e", "\ufeff"]),
)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(FIELDS), ANY_TEXT, max_size=6))
def test_no_input_to_the_public_form_answers_500(app, changes):
    client = app.test_client()
    with app.app_context():
        data = registration(**changes)
        before = counts()

    response = client.post("/register", data=data)

    with app.app_context():
        assert response.status_code in (302, 422), response.status_code
        after = counts()
        if response.status_code == 302:
            assert after[:2] == (before[0] + 1, before[1] + 1)
            person = db.session.scalar(select(Person).order_by(Person.id.desc()))
            for value in (person.full_name, person.city, person.address_abroad,
                          person.occupation, person.expertise):
                assert value is None or not any(ord(char) < 32 for char in value)
        else:
            assert after == before
