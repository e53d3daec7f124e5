"""The review queue, decisions on submissions, and district officials' own submissions.

Requests run outside the test's application context (the `app` fixture, not
`app_ctx`): a shared context would share `g`, and with it the signed-in user and
the navigation bar's count, between requests.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from registry.accounts.models import AREA_COMMUNE
from registry.audit.models import AuditEvent
from registry.core.mail import sent_messages
from registry.core.time import utcnow
from registry.extensions import db
from registry.intake import operations
from registry.intake.models import IMPORT, Submission
from registry.intake.notice import NOTICE_VERSION
from registry.people import operations as people
from registry.people.models import Person
from registry.people.normalise import parse_birth_date
from tests.factories import BIM_SON, MUONG_LAT, person_form


def record(name: str, hometown: str = BIM_SON, country: str = "JP", **extra) -> dict:
    """Return cleaned person data as the operations take it."""
    return {"full_name": name, "birth": parse_birth_date("1990"),
            "hometown": (hometown, None, None), "country_code": country, "city": "Osaka",
            "phones": [], "emails": extra.pop("emails", []), "associations": [],
            "consents": ["record"], **extra}


@pytest.fixture(autouse=True)
def _only_intake_sources():
    """Keep the queue to intake's own sources; other domains test the items they add."""
    saved = dict(operations._sources)
    operations._sources.clear()
    operations.register_own_sources()
    yield
    operations._sources.clear()
    operations._sources.update(saved)


def new_batch() -> int:
    """Add an import batch row; SQL, so that the imports domain's model may grow."""
    columns = ("filename", "file_sha256", "state", "created_at", "mapping", "row_count",
               "valid_count", "invalid_count", "duplicate_count", "imported_count")
    values = {"filename": "danh-sach.xlsx", "file_sha256": "0" * 64, "state": "imported",
              "created_at": utcnow().replace(tzinfo=None), "mapping": "{}", "row_count": 0,
              "valid_count": 0, "invalid_count": 0, "duplicate_count": 0,
              "imported_count": 0}
    statement = text(f"INSERT INTO import_batch ({', '.join(columns)}) "
                     f"VALUES ({', '.join(':' + name for name in columns)})")
    db.session.execute(statement, values)
    return db.session.scalar(text("SELECT max(id) FROM import_batch"))


@pytest.fixture
def world(app, make_user):
    """Return the people of the queue: an officer, two district officials, makers."""
    officer = make_user("officer")
    official = make_user("district", areas=[(AREA_COMMUNE, BIM_SON)])
    stranger = make_user("district", areas=[(AREA_COMMUNE, MUONG_LAT)])

    def self_registration(name, confirmed=False, **changes) -> int:
        with app.test_request_context():
            data = record(name, emails=[f"{len(name)}@example.com"], consent_channel="form",
                          notice_version=NOTICE_VERSION, **changes)
            submission = operations.register(data, "127.0.0.1", "test", None)
            if confirmed:
                operations.confirm_contact(operations.confirmation_token(submission))
            db.session.commit()
            return submission.id

    def district(name, author=official, hometown=BIM_SON, **changes) -> int:
        with app.app_context():
            person = people.create_person(record(name, hometown, **changes), author,
                                          "district")
            db.session.commit()
            return db.session.scalar(select(Submission.id).where(
                Submission.person_id == person.id))

    def batch(*names) -> int:
        with app.app_context():
            batch_id = new_batch()
            for name in names:
                person = people.create_person(record(name), None, "import",
                                              status="submitted")
                operations.open_submission(person, IMPORT, batch_id=batch_id)
            db.session.commit()
            return batch_id

    return {"officer": officer, "official": official, "stranger": stranger,
            "self_registration": self_registration, "district": district, "batch": batch}


def submission(app, submission_id: int) -> tuple[str, str, int, str | None]:
    """Return (submission state, person status, times submitted, reason)."""
    with app.app_context():
        found = db.session.get(Submission, submission_id)
        return found.state, found.person.status, found.times_submitted, found.reason


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def extra_source():
    """Plug a made-up kind of item into the queue, as the rights domain will."""
    item = operations.QueueItem(kind="request", title="Yêu cầu xoá dữ liệu #7",
                                url="/rights/7", waiting_since=utcnow() - timedelta(days=3))
    operations.register_queue_source("request", lambda: 1, lambda filters: [item],
                                     label="Data-subject requests")
    return item


def test_the_queue_holds_everything_pending(app, client, login_as, world, extra_source):
    world["self_registration"]("Trần Văn Xa")
    world["self_registration"]("Phạm Thị Gần", confirmed=True)
    world["district"]("Mai Văn Tài")
    batch = world["batch"]("Lò Văn Một", "Lò Văn Hai")
    login_as(world["officer"])

    queue = page(client.get("/review"))

    for name in ("Trần Văn Xa", "Phạm Thị Gần", "Mai Văn Tài", "Yêu cầu xoá dữ liệu #7"):
        assert name in queue
    assert f"/review?batch={batch}" in queue and "Lò Văn Một" not in queue
    assert "E-mail confirmed" in queue or "Đã xác nhận" in queue
    assert queue.count('name="submission"') == 3
    rows = page(client.get(f"/review?batch={batch}"))
    assert "Lò Văn Một" in rows and "Lò Văn Hai" in rows and "Mai Văn Tài" not in rows


def test_the_badges_tell_confirmed_from_unconfirmed(app, client, login_as, world):
    world["self_registration"]("Trần Văn Xa")
    world["self_registration"]("Phạm Thị Gần", confirmed=True)
    login_as(world["officer"])
    client.post("/lang/en")

    queue = page(client.get("/review"))

    assert queue.count("E-mail not confirmed") == 1
    assert queue.count("E-mail confirmed") == 1


def test_the_queue_filters_by_kind_area_country_and_age(app, client, login_as, world):
    world["self_registration"]("Trần Văn Xa", country="KR")
    old = world["district"]("Mai Văn Tài")
    world["district"]("Hà Thị Lan", author=world["stranger"], hometown=MUONG_LAT)
    with app.app_context():
        db.session.get(Submission, old).created_at = utcnow() - timedelta(days=9)
        db.session.commit()
    login_as(world["officer"])

    def names(**args) -> set[str]:
        text = page(client.get("/review", query_string=args))
        return {name for name in ("Trần Văn Xa", "Mai Văn Tài", "Hà Thị Lan") if name in text}

    assert names() == {"Trần Văn Xa", "Mai Văn Tài", "Hà Thị Lan"}
    assert names(kind="district") == {"Mai Văn Tài", "Hà Thị Lan"}
    assert names(kind="self") == {"Trần Văn Xa"}
    assert names(unit=MUONG_LAT) == {"Hà Thị Lan"}
    assert names(country="KR") == {"Trần Văn Xa"}
    assert names(age="7") == {"Mai Văn Tài"}
    assert names(kind="nonsense") == names()


def test_the_navigation_bar_counts_what_waits(app, client, login_as, world, extra_source):
    world["self_registration"]("Trần Văn Xa")
    world["district"]("Mai Văn Tài")
    world["batch"]("Lò Văn Một", "Lò Văn Hai")
    login_as(world["officer"])

    home = page(client.get("/"))

    # two submissions, one batch, one plugged-in request
    assert 'id="nav-review-count"' in home
    count = home.split('id="nav-review-count"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert count.strip() == "4"


def test_the_navigation_bar_shows_the_queue_to_officers_only(app, client, login_as, world):
    login_as(world["official"])

    home = page(client.get("/"))

    assert "nav-review" not in home and 'href="/submissions"' in home


def test_an_officer_accepts_a_submission(app, client, login_as, world):
    submission_id = world["self_registration"]("Trần Văn Xa")
    login_as(world["officer"])

    response = client.post(f"/review/{submission_id}/accept")

    assert response.status_code == 302
    assert submission(app, submission_id)[:2] == ("accepted", "active")
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "submission.accept",
            AuditEvent.object_id == str(submission_id)))
    assert client.post(f"/review/{submission_id}/accept").status_code == 400


def test_an_officer_corrects_the_record_then_accepts_it(app, client, login_as, world):
    submission_id = world["district"]("Mai Văn Tài")
    login_as(world["officer"])

    form = page(client.get(f"/review/{submission_id}"))
    response = client.post(f"/review/{submission_id}", data=person_form(
        full_name="Mai Văn Tài", city="Kyoto", status="archived"))

    assert "Possible matches" in form or "matches-heading" in form
    assert response.status_code == 302
    assert submission(app, submission_id)[:2] == ("accepted", "active")
    with app.app_context():
        assert db.session.scalar(select(Person.city)) == "Kyoto"


def test_bad_corrections_accept_nothing(app, client, login_as, world):
    submission_id = world["district"]("Mai Văn Tài")
    login_as(world["officer"])

    response = client.post(f"/review/{submission_id}", data=person_form(
        full_name="Mai Văn Tài", date_of_birth="31/02/1990"))

    assert response.status_code == 422
    assert submission(app, submission_id)[:2] == ("pending", "submitted")


def test_a_rejection_needs_a_reason(app, client, login_as, world):
    submission_id = world["district"]("Mai Văn Tài")
    login_as(world["officer"])

    refused = client.post(f"/review/{submission_id}/reject", data={"reason": "  "})
    done = client.post(f"/review/{submission_id}/reject",
                       data={"reason": "Sai ngày sinh, kiểm tra lại."})

    assert refused.status_code == 422
    assert done.status_code == 302
    assert submission(app, submission_id) == ("rejected", "rejected", 1,
                                              "Sai ngày sinh, kiểm tra lại.")


@pytest.fixture(autouse=True)
def _empty_outbox(app):
    with app.app_context():
        sent_messages().clear()


def rejection_mails(app) -> list:
    with app.app_context():
        return [mail for mail in sent_messages() if "not accepted" in mail["Subject"]
                or "không được chấp nhận" in mail["Subject"]]


def test_a_rejected_self_registrant_is_told_by_mail_without_the_reason(app, client,
                                                                       login_as, world):
    submission_id = world["self_registration"]("Trần Văn Xa")
    login_as(world["officer"])

    client.post(f"/review/{submission_id}/reject", data={"reason": "Hồ sơ trùng lặp."})

    [mail] = rejection_mails(app)
    assert mail["To"] == "11@example.com"
    assert "Sở Ngoại vụ tỉnh Thanh Hóa" in mail.get_content()  # the person's language
    assert "Hồ sơ trùng lặp." not in mail.get_content()


def test_the_officer_can_tell_the_reason_from_the_reject_form(app, client, login_as,
                                                              world):
    submission_id = world["self_registration"]("Trần Văn Xa")
    login_as(world["officer"])

    client.post(f"/review/{submission_id}/reject",
                data={"reason": "Quê quán chưa rõ.", "tell_reason": "y"})

    [mail] = rejection_mails(app)
    assert "Quê quán chưa rõ." in mail.get_content()


def test_the_reason_is_told_in_english_to_a_person_who_prefers_it(app, world):
    submission_id = world["self_registration"]("Trần Văn Xa", preferred_lang="en")
    with app.app_context():
        found = db.session.get(Submission, submission_id)
        reference = found.reference
        operations.reject(found, db.session.merge(world["officer"]),
                          "The hometown is unclear.", tell_reason=True)
        db.session.commit()

    [mail] = rejection_mails(app)
    assert mail["Subject"] == f"Your registration {reference} was not accepted"
    assert "The reason given by the officer:\n\nThe hometown is unclear." in mail.get_content()
    with app.app_context():
        details = db.session.scalar(select(AuditEvent.details).where(
            AuditEvent.action == "submission.reject"))
        assert details["mailed"] and details["reason_told"]


def test_nobody_is_mailed_when_a_district_submission_is_rejected(app, client, login_as,
                                                                 world):
    submission_id = world["district"]("Mai Văn Tài", emails=["tai@example.com"])
    login_as(world["officer"])

    client.post(f"/review/{submission_id}/reject",
                data={"reason": "Sai ngày sinh.", "tell_reason": "y"})

    assert rejection_mails(app) == []


def test_the_reject_form_offers_to_tell_the_reason_for_self_registrations(app, client,
                                                                           login_as, world):
    own = world["self_registration"]("Trần Văn Xa")
    district = world["district"]("Mai Văn Tài")
    login_as(world["officer"])
    client.post("/lang/en")

    assert "Tell the person the reason" in page(client.get(f"/review/{own}"))
    assert "Tell the person the reason" not in page(client.get(f"/review/{district}"))


def test_an_officer_accepts_the_ticked_entries_at_once(app, client, login_as, world):
    first = world["self_registration"]("Trần Văn Xa")
    second = world["district"]("Mai Văn Tài")
    left = world["district"]("Lê Văn Ba")
    login_as(world["officer"])

    client.post("/review/accept", data={"submission": [str(first), str(second)]})

    assert submission(app, first)[0] == submission(app, second)[0] == "accepted"
    assert submission(app, left)[:2] == ("pending", "submitted")


def test_an_officer_accepts_a_whole_import_batch(app, client, login_as, world):
    batch = world["batch"]("Lò Văn Một", "Lò Văn Hai")
    other = world["batch"]("Lò Văn Ba")
    login_as(world["officer"])

    client.post(f"/review/batches/{batch}/accept")

    with app.app_context():
        states = dict(db.session.execute(select(Submission.batch_id, Submission.state)
                                         .where(Submission.batch_id == other)).all())
        statuses = set(db.session.scalars(select(Person.status).join(
            Submission, Submission.person_id == Person.id).where(Submission.batch_id == batch)))
    assert states == {other: "pending"}
    assert statuses == {"active"}


def test_district_official_sees_the_reason_corrects_and_resubmits(app, client, login_as,
                                                                 world):
    submission_id = world["district"]("Mai Văn Tài")
    with app.app_context():
        operations.reject(db.session.get(Submission, submission_id), world["officer"],
                          "Thiếu số điện thoại.")
        db.session.commit()
        person_id = db.session.get(Submission, submission_id).person_id
    login_as(world["official"])

    listed = page(client.get("/submissions"))
    edited = client.post(f"/people/{person_id}/edit", data=person_form(
        full_name="Mai Văn Tài", **{"phones-0": "090-1234-5678"}))
    resubmitted = client.post(f"/submissions/{submission_id}/resubmit")

    assert "Thiếu số điện thoại." in listed and f"/submissions/{submission_id}/resubmit" in listed
    assert edited.status_code == 302
    assert resubmitted.status_code == 302
    assert submission(app, submission_id)[:3] == ("pending", "submitted", 2)
    login_as(world["officer"])
    client.post("/lang/en")
    assert "Sent again (2 times)" in page(client.get("/review"))


def test_only_a_rejected_entry_can_be_resubmitted(app, client, login_as, world):
    submission_id = world["district"]("Mai Văn Tài")
    login_as(world["official"])

    response = client.post(f"/submissions/{submission_id}/resubmit")

    assert response.status_code == 400
    assert submission(app, submission_id)[:3] == ("pending", "submitted", 1)


def test_district_official_sees_only_their_own_submissions(app, client, login_as, world):
    own = world["district"]("Mai Văn Tài")
    other = world["district"]("Hà Thị Lan", author=world["stranger"], hometown=MUONG_LAT)
    with app.app_context():
        operations.reject(db.session.get(Submission, other), world["officer"], "Sai quê quán")
        db.session.commit()
    login_as(world["official"])

    listed = page(client.get("/submissions"))

    assert "Mai Văn Tài" in listed and "Hà Thị Lan" not in listed
    assert client.post(f"/submissions/{other}/resubmit").status_code == 404
    assert submission(app, other)[0] == "rejected"
    assert client.get("/review").status_code == 403
    assert client.get(f"/review/{own}").status_code == 403
    assert client.post(f"/review/{own}/accept").status_code == 403
    assert submission(app, own)[0] == "pending"


def test_the_review_page_shows_the_consent_evidence(app, client, login_as, world):
    submission_id = world["self_registration"]("Trần Văn Xa", confirmed=True)
    login_as(world["officer"])
    client.post("/lang/en")

    text = page(client.get(f"/review/{submission_id}"))

    assert NOTICE_VERSION in text and "127.0.0.1" in text
    assert "Possible matches" in text and "E-mail confirmed" in text


def test_matches_for_finds_nothing_until_the_detector_exists(app_ctx):
    assert operations.matches_for(Person(full_name="Mai Văn Tài")) == []
