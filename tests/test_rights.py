"""Requests of people about their own data: the link, the page, the tickets, the erasure."""
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import pytest
from flask import g
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select, text

from registry import ROOT
from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.core.mail import sent_messages
from registry.core.time import as_utc
from registry.extensions import db
from registry.imports.models import ImportBatch, ImportRow
from registry.intake.models import Submission
from registry.people import operations as people
from registry.people.models import Consent, Email, Person, PersonVersion, PoliceNote
from registry.people.normalise import parse_birth_date
from registry.rights import clock, operations
from registry.rights.models import SubjectRequest
from tests.factories import BIM_SON, create_person

NAME = "Lê Thị Thu Trang"
EMAIL = "trang.le@example.com"
PHONE = "+819012345678"
PHONE_DIGITS = "9012345678"
PASSPORT = "C7654321"
CORRECTION = "Tên phố của tôi đã đổi thành Umeda 3-chome."
ADDRESS = "2-1 Umeda, Kita-ku"
RELATIVE = "Lê Văn Bình"
OTHER_NAME = "Phạm Văn Khoa"
VIETNAM = clock.VIETNAM


def vn(year, month, day, hour=10) -> datetime:
    """Return a moment in Vietnam time, as UTC."""
    return datetime(year, month, day, hour, tzinfo=VIETNAM).astimezone(UTC)


def end_of_day(year, month, day) -> datetime:
    return datetime(year, month, day, 23, 59, 59, 999999, tzinfo=VIETNAM).astimezone(UTC)


# The clock


@pytest.mark.parametrize("received, acknowledge_by", [
    (vn(2026, 3, 4), end_of_day(2026, 3, 6)),  # Wednesday: Friday
    (vn(2026, 3, 6), end_of_day(2026, 3, 10)),  # Friday: over the weekend to Tuesday
    (vn(2026, 3, 7), end_of_day(2026, 3, 10)),  # Saturday counts from Monday
    (vn(2026, 4, 29), end_of_day(2026, 5, 5)),  # 30/4 and 1/5, then the weekend
    (vn(2026, 8, 31), end_of_day(2026, 9, 4)),  # National Day, 1/9 and 2/9
    (vn(2027, 2, 4), end_of_day(2027, 2, 11)),  # Tết 2027: 5 to 9 February
    (vn(2030, 1, 31), end_of_day(2030, 2, 7)),  # Tết 2030: new year on 2 February
])
def test_acknowledgement_is_due_two_vietnam_working_days_later(received, acknowledge_by):
    assert clock.acknowledge_by(received) == acknowledge_by


def test_the_day_of_receipt_is_the_day_in_vietnam_not_in_utc():
    received = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)  # Friday 01:00 in Hà Nội

    assert clock.local_date(received) == date(2026, 3, 6)
    assert clock.acknowledge_by(received) == end_of_day(2026, 3, 10)


def test_completion_is_due_fifteen_calendar_days_later_at_the_end_of_the_day():
    assert clock.due_at(vn(2026, 3, 6, hour=23)) == end_of_day(2026, 3, 21)
    assert clock.due_at(vn(2027, 2, 4)) == end_of_day(2027, 2, 19)


@pytest.mark.parametrize("day, working", [
    (date(2026, 3, 9), True), (date(2026, 3, 7), False), (date(2026, 3, 8), False),
    (date(2026, 1, 1), False), (date(2026, 4, 30), False), (date(2026, 5, 1), False),
    (date(2026, 9, 2), False), (date(2026, 2, 16), False), (date(2026, 2, 23), True),
    (date(2027, 2, 9), False), (date(2027, 2, 10), True), (date(2030, 2, 1), False),
    (date(2030, 2, 5), False), (date(2030, 2, 6), True),
    (date(2028, 5, 2), False),  # 30/4/2028 is a Sunday: the next free working day is off
    (date(2026, 4, 27), False), (date(2026, 4, 28), True),  # Hùng Kings on Sunday 26/4
])
def test_working_days_skip_weekends_and_vietnamese_holidays(day, working):
    assert clock.is_working_day(day) is working


def test_lunar_new_year_2030_is_the_vietnamese_date_not_the_chinese_one():
    assert date(2030, 2, 2) in clock.TET_NEW_YEAR
    assert date(2030, 2, 2) in clock.HOLIDAYS


# Fixtures and helpers


@pytest.fixture(autouse=True)
def english(client):
    """Read the pages in English, the language of the messages asserted below."""
    with client.session_transaction() as session:
        session["lang"] = "en"


@pytest.fixture(autouse=True)
def _empty_outbox(app):
    with app.app_context():
        sent_messages().clear()


@pytest.fixture
def sign_in(login_as):
    """Return login_as, made safe for several users in one test."""
    def as_user(user):
        # Requests share the test's application context, and so its `g` and the
        # user Flask-Login keeps there.
        g.pop("_login_user", None)
        return login_as(user)

    return as_user


@pytest.fixture
def officer(make_user):
    return make_user("officer")


@pytest.fixture
def trang(app_ctx, officer, make_user):
    """Return the id of a person with every kind of personal data, contacts and history."""
    police = make_user("police")  # first: its own session must not wait for this one's
    actor = db.session.get(User, officer.id)
    data = {
        "full_name": NAME, "gender": "female", "birth": parse_birth_date("03/04/1994"),
        "hometown": (BIM_SON, None, "Phường Bỉm Sơn"), "country_code": "JP",
        "city": "Osaka", "address_abroad": ADDRESS, "passport_number": PASSPORT,
        "national_id": "038194001234", "occupation": "Kỹ sư", "employer": "Umeda Kōgyō",
        "relative_name": RELATIVE, "relative_relation": "bố", "relative_phone": "+84912345678",
        "relative_address": "Bỉm Sơn", "notes": "Gặp tại hội nghị kiều bào.",
        "phones": [(PHONE, PHONE_DIGITS)], "emails": [EMAIL],
        "associations": ["Hội Thanh Hóa tại Osaka"],
        "consents": ["record", "greetings", "sharing"], "notice_version": "2026-01",
        "consent_channel": "form",
    }
    person = people.create_person(data, actor, "officer")
    people.update_person(person, {**data, "city": "Ōsaka"}, actor)
    people.add_police_note(person, "Đã xác minh hộ chiếu " + PASSPORT, True, police)
    db.session.commit()
    return person.id


@pytest.fixture
def other(app_ctx, officer):
    """Return the id of another registered person, with an e-mail of their own."""
    actor = db.session.get(User, officer.id)
    person = create_person(actor, full_name=OTHER_NAME)
    person.emails = [Email(address="khoa.pham@example.com")]
    db.session.commit()
    return person.id


def token_for(person_id: int, address: str = EMAIL) -> str:
    return operations.link_token(db.session.get(Person, person_id), address)


def data_url(person_id: int, address: str = EMAIL) -> str:
    return f"/my-data/{token_for(person_id, address)}"


def ticket_of(person_id: int, kind: str) -> SubjectRequest:
    db.session.expire_all()
    query = select(SubjectRequest).where(SubjectRequest.person_id == person_id,
                                         SubjectRequest.kind == kind)
    return db.session.scalars(query.order_by(SubjectRequest.id.desc())).first()


def page_text(response) -> str:
    return response.get_data(as_text=True)


def without_csrf(page: str) -> str:
    return re.sub(r'name="csrf[-_]token" (content|value)="[^"]*"', "", page)


def links_in(messages) -> list[str]:
    return [path for message in messages
            for path in re.findall(r"https?://[^/\s]+(/my-data/\S+)", message.get_content())]


# Asking for the link


def test_link_request_answers_the_same_whether_or_not_the_address_is_registered(
        client, trang):
    known = client.post("/my-data", data={"email": EMAIL.upper()}, follow_redirects=True)
    after_known = len(sent_messages())
    unknown = client.post("/my-data", data={"email": "nobody@example.com"},
                          follow_redirects=True)

    assert known.status_code == unknown.status_code == 200
    assert without_csrf(page_text(known)) == without_csrf(page_text(unknown))
    assert "If we hold a record with this address, we have sent a link" in page_text(known)
    assert after_known == 1 and len(sent_messages()) == 1


def test_link_mail_opens_the_persons_own_page(client, trang):
    client.post("/my-data", data={"email": EMAIL})

    message = sent_messages()[-1]
    assert message["To"] == EMAIL
    [path] = links_in([message])
    assert path.startswith("/my-data/")
    response = client.get(path)
    assert response.status_code == 200
    assert NAME in page_text(response)


def test_merged_and_erased_records_get_no_link(client, trang, officer):
    person = db.session.get(Person, trang)
    person.status = "merged"
    db.session.commit()

    client.post("/my-data", data={"email": EMAIL})

    assert sent_messages() == []


def test_link_request_with_a_malformed_address_shows_the_error_beside_the_field(
        app_ctx, client):
    response = client.post("/my-data", data={"email": "not an address"})

    assert response.status_code == 422
    assert 'id="email-errors"' in page_text(response)
    assert sent_messages() == []


def test_link_requests_are_limited_per_address_and_per_email(tmp_path):
    # Flask-Limiter is switched on once per process for the one shared Limiter, so
    # the limits run in an application of their own, in a child process.
    script = f"""
import json, os
os.environ["REGISTRY_ENV"] = "testing"
from registry import create_app
from registry.extensions import db
app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/limits.sqlite",
                  "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                  "RIGHTS_LINK_LIMIT_PER_EMAIL": "2 per hour",
                  "RIGHTS_LINK_LIMIT_PER_ADDRESS": "4 per hour"}})
with app.app_context():
    from registry.core import schema
    schema.reset()
    db.session.commit()
client = app.test_client()
def post(email, ip):
    return client.post("/my-data", data={{"email": email}},
                       environ_base={{"REMOTE_ADDR": ip}}).status_code
same_email = [post("a@example.com", ip) for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3")]
one_address = [post(f"b{{n}}@example.com", "10.0.0.9") for n in range(5)]
print(json.dumps({{"same_email": same_email, "one_address": one_address}}))
"""
    env = {**os.environ, "REGISTRY_ENV": "testing", "HUEY_SQLITE": str(tmp_path / "jobs")}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, timeout=120,
                          capture_output=True, text=True, check=True)

    answers = json.loads(done.stdout.strip().splitlines()[-1])
    assert answers["same_email"] == [302, 302, 429]
    assert answers["one_address"] == [302, 302, 302, 302, 429]


# The signed link


def test_expired_link_asks_for_a_new_one(app, client, trang):
    class Yesterday(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 25 * 3600

    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=operations.LINK_SALT,
                                   signer=Yesterday).dumps({"p": trang, "e": EMAIL})

    response = client.get(f"/my-data/{token}")

    assert response.status_code == 410
    assert "This link has expired" in page_text(response)
    assert NAME not in page_text(response)


@pytest.mark.parametrize("spoil", [
    lambda token: token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"),
    lambda token: "x" + token,
    lambda token: URLSafeTimedSerializer("another key", salt=operations.LINK_SALT).dumps(
        {"p": 1, "e": EMAIL}),
    lambda token: URLSafeTimedSerializer("x", salt="intake.confirm").dumps({"p": 1}),
], ids=["signature", "payload", "other key", "other salt"])
def test_tampered_link_opens_nothing(client, trang, spoil):
    response = client.get(f"/my-data/{spoil(token_for(trang))}")

    assert response.status_code == 404
    assert "This link is not valid" in page_text(response)
    assert NAME not in page_text(response)


def test_link_stops_working_when_its_address_leaves_the_record(client, trang):
    url = data_url(trang)
    person = db.session.get(Person, trang)
    person.emails = []
    db.session.commit()

    assert client.get(url).status_code == 404


def test_link_is_bound_to_the_address_it_was_sent_to(client, trang, other):
    token = operations.link_token(db.session.get(Person, trang), "khoa.pham@example.com")

    assert client.get(f"/my-data/{token}").status_code == 404


# The person's page


def test_data_page_shows_the_whole_record_and_nothing_of_others(client, trang, other):
    response = client.get(data_url(trang))

    page = page_text(response)
    assert response.status_code == 200
    for value in (NAME, PASSPORT, EMAIL, ADDRESS, RELATIVE, "Hội Thanh Hóa tại Osaka",
                  "+81 90-1234-5678", "2026-01", "Ōsaka", "Gặp tại hội nghị kiều bào."):
        assert value in page, value
    assert OTHER_NAME not in page and "khoa.pham@example.com" not in page
    assert "Đã xác minh hộ chiếu" not in page, "police notes are not shown"
    assert page.count('action="' + data_url(trang) + "/withdraw/") == 2


@pytest.mark.parametrize("path, data, kind", [
    ("access", {}, "access"),
    ("correction", {"details": CORRECTION}, "correction"),
    ("delete", {"confirm": "y"}, "deletion"),
])
def test_each_request_opens_a_ticket_with_its_legal_clock(client, trang, monkeypatch, path,
                                                          data, kind):
    received = vn(2026, 4, 29, hour=9)  # Wednesday before 30/4 and 1/5
    monkeypatch.setattr(operations, "utcnow", lambda: received)

    response = client.post(f"{data_url(trang)}/{path}", data=data)

    assert response.status_code == 302
    ticket = ticket_of(trang, kind)
    assert ticket.state == "open"
    assert as_utc(ticket.received_at) == received
    assert as_utc(ticket.acknowledge_by) == end_of_day(2026, 5, 5)
    assert as_utc(ticket.due_at) == end_of_day(2026, 5, 14)
    assert ticket.address == "127.0.0.1"
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "subject_request.open", AuditEvent.object_id == str(ticket.id)))


def test_open_requests_and_their_states_show_on_the_persons_page(client, trang):
    client.post(f"{data_url(trang)}/correction", data={"details": CORRECTION})

    page = page_text(client.get(data_url(trang)))

    assert "Your requests" in page and "Correction" in page and "Received" in page


def test_deletion_needs_the_confirmation_step(client, trang):
    confirm_page = client.get(f"{data_url(trang)}/delete")
    unconfirmed = client.post(f"{data_url(trang)}/delete", data={})

    assert confirm_page.status_code == 200 and 'name="confirm"' in page_text(confirm_page)
    assert unconfirmed.status_code == 422
    assert ticket_of(trang, "deletion") is None


def test_asking_twice_for_deletion_keeps_one_ticket(client, trang):
    client.post(f"{data_url(trang)}/delete", data={"confirm": "y"})
    client.post(f"{data_url(trang)}/delete", data={"confirm": "y"})

    assert db.session.scalar(select(func.count(SubjectRequest.id))) == 1


def test_withdrawing_greetings_takes_effect_at_once(client, trang):
    response = client.post(f"{data_url(trang)}/withdraw/greetings")

    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(Person, trang)
    assert set(people.active_consents(person)) == {"record", "sharing"}
    greetings = [c for c in person.consents if c.purpose == "greetings"]
    assert greetings[0].withdrawn_at is not None
    assert person.is_outreach_opted_out is True
    ticket = ticket_of(trang, "withdrawal")
    assert (ticket.state, ticket.consent_purpose) == ("completed", "greetings")
    assert ticket.completed_at is not None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consent.withdrawn"))
    assert people.history(person)[0].changes["consents"][1] == ["record", "sharing"]
    assert sent_messages()[-1]["To"] == EMAIL


def test_withdrawing_sharing_leaves_the_greetings_alone(client, trang):
    client.post(f"{data_url(trang)}/withdraw/sharing")

    person = db.session.get(Person, trang)
    assert set(people.active_consents(person)) == {"record", "greetings"}
    assert person.is_outreach_opted_out is False


def test_withdrawing_the_record_consent_leads_to_the_deletion_request(client, trang):
    response = client.post(f"{data_url(trang)}/withdraw/record")

    assert response.status_code == 302
    assert response.location.endswith("/delete")
    assert set(people.active_consents(db.session.get(Person, trang))) == {
        "record", "greetings", "sharing"}


def test_withdrawing_a_consent_not_in_force_is_refused(client, trang):
    client.post(f"{data_url(trang)}/withdraw/greetings")

    again = client.post(f"{data_url(trang)}/withdraw/greetings")
    unknown = client.post(f"{data_url(trang)}/withdraw/everything")

    assert again.status_code == unknown.status_code == 400
    assert db.session.scalar(select(func.count(SubjectRequest.id))) == 1


# The officers' side


@pytest.fixture
def correction(client, trang):
    """Return the id of a correction request of Trang's."""
    client.post(f"{data_url(trang)}/correction", data={"details": CORRECTION})
    ticket_id = ticket_of(trang, "correction").id
    db.session.rollback()  # outside a request SQLite begins as a writer: let go of the lock
    return ticket_id


@pytest.fixture
def deletion(client, trang):
    """Return the id of a deletion request of Trang's."""
    client.post(f"{data_url(trang)}/delete", data={"confirm": "y"})
    ticket_id = ticket_of(trang, "deletion").id
    db.session.rollback()  # outside a request SQLite begins as a writer: let go of the lock
    return ticket_id


def test_officer_lists_pending_requests_with_their_clock(client, sign_in, officer,
                                                         correction, deletion):
    sign_in(officer)

    page = page_text(client.get("/requests"))
    only_deletions = page_text(client.get("/requests?kind=deletion"))
    closed = page_text(client.get("/requests?state=completed"))

    assert f'href="/requests/{correction}"' in page and f'href="/requests/{deletion}"' in page
    assert "15 days left" in page
    assert f'href="/requests/{correction}"' not in only_deletions
    assert "No requests match." in closed


def test_clock_badges_say_acknowledge_today_and_overdue(app_ctx, correction):
    ticket = db.session.get(SubjectRequest, correction)
    on_the_day = as_utc(ticket.acknowledge_by).replace(hour=3)
    later = as_utc(ticket.due_at).replace(year=as_utc(ticket.due_at).year + 1)

    assert operations.clock_of(ticket, on_the_day).acknowledge_today
    assert not operations.clock_of(ticket, as_utc(ticket.received_at)).acknowledge_today
    overdue = operations.clock_of(ticket, later)
    assert overdue.acknowledge_overdue and overdue.overdue and overdue.days_left < 0


def test_officer_acknowledges_and_the_person_is_told(client, sign_in, officer, correction,
                                                     trang):
    sign_in(officer)
    ticket_page = page_text(client.get(f"/requests/{correction}"))

    response = client.post(f"/requests/{correction}/acknowledge")

    assert CORRECTION in ticket_page and f"/people/{trang}/edit" in ticket_page
    assert response.status_code == 302
    ticket = db.session.get(SubjectRequest, correction)
    assert ticket.state == "acknowledged" and ticket.acknowledged_at is not None
    assert ticket.handled_by_id == officer.id
    message = sent_messages()[-1]
    assert message["To"] == EMAIL and str(correction) in message.get_content()
    assert client.post(f"/requests/{correction}/acknowledge").status_code == 400


def test_officer_completes_with_an_outcome(client, sign_in, officer, correction):
    sign_in(officer)

    missing = client.post(f"/requests/{correction}/complete", data={"outcome": ""})
    done = client.post(f"/requests/{correction}/complete",
                       data={"outcome": "Đã sửa địa chỉ."})

    assert missing.status_code == 422
    assert done.status_code == 302
    ticket = db.session.get(SubjectRequest, correction)
    assert (ticket.state, ticket.outcome) == ("completed", "Đã sửa địa chỉ.")
    assert ticket.completed_at and ticket.acknowledged_at
    assert "Đã sửa địa chỉ." in sent_messages()[-1].get_content()


def test_officer_refuses_with_legal_grounds(client, sign_in, officer, correction):
    sign_in(officer)

    response = client.post(f"/requests/{correction}/refuse",
                           data={"reason": "Điều 14 Luật 91/2025/QH15."})

    assert response.status_code == 302
    ticket = db.session.get(SubjectRequest, correction)
    assert (ticket.state, ticket.outcome) == ("refused", "Điều 14 Luật 91/2025/QH15.")
    assert "Điều 14" in sent_messages()[-1].get_content()


def test_a_deletion_is_completed_only_by_erasing(client, sign_in, officer, deletion):
    sign_in(officer)

    response = client.post(f"/requests/{deletion}/complete", data={"outcome": "Xong."})

    assert response.status_code == 400
    assert db.session.get(SubjectRequest, deletion).state == "open"


@pytest.mark.parametrize("role", ["police", "district", "viewer"])
def test_only_officers_handle_requests(client, sign_in, make_user, deletion, trang, role):
    from tests.factories import commune_area

    sign_in(make_user(role, areas=[commune_area()] if role == "district" else []))

    answers = [client.get("/requests").status_code,
               client.get(f"/requests/{deletion}").status_code,
               client.post(f"/requests/{deletion}/acknowledge").status_code,
               client.post(f"/requests/{deletion}/erase", data={"confirm": "y"}).status_code]

    assert answers == [403, 403, 403, 403]
    db.session.expire_all()
    assert db.session.get(SubjectRequest, deletion).state == "open"
    assert db.session.get(Person, trang).full_name == NAME


# The erasure


def copies_elsewhere(person_id: int) -> None:
    """Give the person a self-registration and an imported row, as intake and imports do."""
    batch = ImportBatch(filename="kieu_bao.xlsx", file_sha256="0" * 64)
    db.session.add(batch)
    db.session.flush()
    db.session.add_all([
        Submission(person_id=person_id, kind="self", reference="TH-2026-ABCDEF",
                   contact_email=EMAIL, address="203.0.113.7", user_agent="Mozilla/5.0"),
        ImportRow(batch_id=batch.id, row_number=2, source_ref="ROW-" + PASSPORT,
                  status="valid", data={"full_name": NAME, "phone": PHONE}, person_id=person_id),
    ])
    db.session.commit()


SECRETS = (NAME, "le thi thu trang", EMAIL, PHONE, PHONE_DIGITS, PASSPORT, ADDRESS, RELATIVE,
           CORRECTION, "203.0.113.7")


def rows_holding(values, skip_audit_before: int) -> list[str]:
    """Return "table.column" for every stored value that contains one of values."""
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()).mappings():
            if table.name == "audit_event" and row["id"] <= skip_audit_before:
                continue
            for column, value in row.items():
                if value is None or isinstance(value, (int, float, bool, datetime, date)):
                    continue
                stored = value if isinstance(value, str) else json.dumps(
                    value, ensure_ascii=False, default=str)
                found += [f"{table.name}.{column}: {secret}" for secret in values
                          if secret.lower() in stored.lower()]
    return found


def test_erasure_removes_every_personal_value_and_leaves_a_tombstone(
        client, sign_in, officer, trang, deletion, correction):
    copies_elsewhere(trang)
    last_audit = db.session.scalar(select(func.max(AuditEvent.id)))
    assert rows_holding(SECRETS, last_audit), "the check finds the values before erasure"
    sign_in(officer)

    response = client.post(f"/requests/{deletion}/erase", data={"confirm": "y"})

    assert response.status_code == 302
    assert rows_holding(SECRETS, last_audit) == []
    db.session.expire_all()
    person = db.session.get(Person, trang)
    assert person.is_personal_data_erased and person.status == "archived"
    assert person.hometown_code is None and person.is_outreach_opted_out
    for model in (PersonVersion, PoliceNote, Consent):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model
    tombstone = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.erased"))
    assert tombstone.object_id == str(trang)
    assert tombstone.details["request"] == deletion
    assert {"full_name", "passport_number", "phones", "emails", "history",
            "police_notes", "submissions", "import_rows"} <= set(tombstone.details["fields"])
    ticket = db.session.get(SubjectRequest, deletion)
    assert (ticket.state, ticket.person_id) == ("completed", trang)
    assert db.session.get(SubjectRequest, correction).details is None
    assert sent_messages()[-1]["To"] == EMAIL


def test_erasure_empties_the_name_search_index(client, sign_in, officer, trang, deletion):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the FTS5 index exists on SQLite only")
    sign_in(officer)

    client.post(f"/requests/{deletion}/erase", data={"confirm": "y"})

    with db.engine.connect() as connection:
        hits = connection.execute(text(
            "SELECT rowid FROM person_fts WHERE person_fts MATCH 'trang'")).all()
    assert hits == []


def test_erasure_needs_its_confirmation(client, sign_in, officer, trang, deletion):
    sign_in(officer)

    response = client.post(f"/requests/{deletion}/erase", data={})

    assert response.status_code == 422
    assert db.session.get(Person, trang).full_name == NAME


def test_failed_erasure_changes_nothing(client, sign_in, officer, trang, deletion,
                                        monkeypatch):
    def broken(person):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(operations, "_erase_copies", broken)
    mails_before = len(sent_messages())
    versions_before = len(people.history(db.session.get(Person, trang)))
    sign_in(officer)

    response = client.post(f"/requests/{deletion}/erase", data={"confirm": "y"})

    assert response.status_code == 500
    db.session.expire_all()
    person = db.session.get(Person, trang)
    assert (person.full_name, person.passport_number, person.status) == (
        NAME, PASSPORT, "active")
    assert [p.number for p in person.phones] == [PHONE]
    assert [e.address for e in person.emails] == [EMAIL]
    assert len(people.history(person)) == versions_before == 3
    assert db.session.scalar(select(func.count(PoliceNote.id))) == 1
    assert db.session.get(SubjectRequest, deletion).state == "open"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.erased")) \
        is None
    assert len(sent_messages()) == mails_before


def test_erased_persons_link_opens_a_clear_page_and_records_page_says_erased(
        client, sign_in, officer, trang, deletion):
    url = data_url(trang)
    sign_in(officer)
    client.post(f"/requests/{deletion}/erase", data={"confirm": "y"})

    link = client.get(url)
    record = page_text(client.get(f"/people/{trang}"))
    ticket = page_text(client.get(f"/requests/{deletion}"))

    assert link.status_code == 410
    assert "Your personal data has been erased" in page_text(link)
    assert "Personal data erased on" in record and NAME not in record
    assert f'href="/people/{trang}/edit"' not in record
    assert "Personal data erased on" in ticket


def test_pending_requests_show_in_the_review_queue_with_their_clock(
        client, sign_in, officer, correction, deletion):
    from registry.intake import operations as intake

    sign_in(officer)
    client.post(f"/requests/{correction}/refuse", data={"reason": "Điều 14."})
    with client.application.test_request_context():
        items = intake.queue_items(intake.QueueFilters(kind="request"))

    assert intake.queue_counts()["request"] == 1
    assert [item.url for item in items] == [f"/requests/{deletion}"]
    assert items[0].title == NAME and items[0].unit_code == BIM_SON
    assert ("Deletion", "info") in items[0].badges
    assert ("15 days left", "secondary") in items[0].badges
