"""People records through the pages: create, validate, edit, history, search."""
import pytest
from sqlalchemy import func, select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.people.models import Person, PersonVersion
from tests.factories import BIM_SON, MUONG_LAT, commune_area, create_person, person_form


def results(response) -> str:
    """Return the part of a people list page below the search form."""
    return response.get_data(as_text=True).split('id="results"', 1)[1]


def count_people() -> int:
    return db.session.scalar(select(func.count(Person.id)))


def test_officer_creates_an_active_person(app_ctx, client, make_user, login_as):
    officer = make_user("officer")
    login_as(officer)

    response = client.post("/people/new", data=person_form())

    assert response.status_code == 302
    person = db.session.scalar(select(Person))
    assert person.status == "active"
    assert (person.family_name, person.middle_name, person.given_name) == (
        "Nguyễn", "Thị", "Hương")
    assert person.name_folded == "nguyen thi huong"
    assert [p.number for p in person.phones] == ["+819012345678"]
    assert [e.address for e in person.emails] == ["huong.nguyen@example.com"]
    assert (person.birth_year, person.birth_month, person.birth_day) == (1991, 5, 12)
    assert [m.association.name for m in person.memberships] == [
        "Hội đồng hương Thanh Hóa tại Nhật Bản"]
    assert {c.purpose for c in person.consents} == {"record"}
    assert db.session.scalar(select(func.count(PersonVersion.id))) == 1
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.create"))


def test_district_entry_stays_submitted_and_cannot_post_status(
        app_ctx, client, make_user, login_as):
    official = make_user("district", areas=[commune_area()])
    login_as(official)

    response = client.post("/people/new", data=person_form(status="active"))

    assert response.status_code == 302
    assert db.session.scalar(select(Person.status)) == "submitted"
    assert db.session.scalar(select(Person.source)) == "district"


@pytest.mark.parametrize("changes, message", [
    ({"phones-0": "12"}, "phone"),
    ({"country": "XX"}, ""),
    ({"hometown": "Không Có Xã Này", "hometown_code": ""}, ""),
    ({"date_of_birth": "01/01/2090"}, ""),
    ({"full_name": "N" * 121}, "121"),
    ({"full_name": "<b>Lan</b>"}, ""),
    ({"emails-0": "not-an-address"}, ""),
    ({"national_id": "123"}, ""),
    ({"full_name": ""}, ""),
])
def test_bad_input_saves_nothing_and_says_why(app_ctx, client, make_user, login_as, changes,
                                              message):
    login_as(make_user("officer"))

    response = client.post("/people/new", data=person_form(**changes))

    assert response.status_code == 422
    assert b"invalid-feedback" in response.data
    assert count_people() == 0


def test_district_cannot_enter_a_person_from_another_area(app_ctx, client, make_user, login_as):
    login_as(make_user("district", areas=[commune_area()]))

    response = client.post("/people/new", data=person_form(
        hometown="Xã Mường Lát", hometown_code=MUONG_LAT))

    assert response.status_code == 422
    assert count_people() == 0


def test_edit_keeps_a_version_with_the_changes(app_ctx, client, make_user, login_as):
    officer = make_user("officer")
    person = create_person(officer)
    login_as(officer)

    response = client.post(f"/people/{person.id}/edit", data=person_form(city="Tokyo"))

    assert response.status_code == 302
    versions = db.session.scalars(select(PersonVersion).order_by(PersonVersion.version)).all()
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].changes["city"] == ["Osaka", "Tokyo"]
    history = client.get(f"/people/{person.id}/history")
    assert "Tokyo" in history.get_data(as_text=True)


def test_edit_with_bad_input_changes_nothing(app_ctx, client, make_user, login_as):
    officer = make_user("officer")
    person = create_person(officer)
    login_as(officer)

    response = client.post(f"/people/{person.id}/edit",
                           data=person_form(city="Kyoto", date_of_birth="31/02/1990"))

    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Person, person.id).city == "Osaka"


@pytest.mark.parametrize("query", ["nguyen thi huong", "Nguyễn Thị Hương", "huong",
                                   "090 1234 5678", "+81 90-1234-5678", "819012345678",
                                   "HUONG.NGUYEN@example.com", "C1234567", "Nguyen Thi Hu",
                                   "huong nguyen"])
def test_search_finds_a_person_by_name_phone_email_or_passport(
        app_ctx, client, make_user, login_as, query):
    officer = make_user("officer")
    login_as(officer)
    client.post("/people/new", data=person_form())
    client.post("/people/new", data=person_form(
        full_name="Lê Văn Nam", gender="male", **{"phones-0": "010 2222 3333", "emails-0": "",
                                                  "passport_number": "", "country": "KR"}))

    page = results(client.get("/people/", query_string={"q": query}))

    assert "Nguyễn Thị Hương" in page
    assert "Lê Văn Nam" not in page


def test_search_puts_exact_marks_first(app_ctx, client, make_user, login_as):
    officer = make_user("officer")
    create_person(officer, full_name="Trần Thị Hường")
    create_person(officer, full_name="Trần Thị Hương")
    login_as(officer)

    page = client.get("/people/", query_string={"q": "Trần Thị Hương"}).get_data(as_text=True)

    assert page.index("Trần Thị Hương") < page.index("Trần Thị Hường")


def test_filters_narrow_the_list(app_ctx, client, make_user, login_as):
    officer = make_user("officer")
    create_person(officer, full_name="Phạm Văn Long", country="KR")
    create_person(officer, full_name="Đỗ Thị Mai", country="JP")
    login_as(officer)

    page = client.get("/people/", query_string={"country": "KR"}).get_data(as_text=True)

    assert "Phạm Văn Long" in page and "Đỗ Thị Mai" not in page


def test_viewing_identity_documents_is_audited(app_ctx, client, make_user, login_as):
    officer = make_user("officer")
    person = create_person(officer)
    police = make_user("police")
    login_as(police)

    response = client.get(f"/people/{person.id}/identity")

    assert b"C1234567" in response.data
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "person.identity_viewed"))
    assert event.actor_id == police.id and event.object_id == str(person.id)


def test_record_page_hides_identity_documents_until_asked(app_ctx, client, make_user,
                                                          login_as):
    officer = make_user("officer")
    person = create_person(officer)
    login_as(officer)

    page = client.get(f"/people/{person.id}").get_data(as_text=True)

    assert "C1234567" not in page


def test_police_adds_a_verification_note(app_ctx, client, make_user, login_as):
    person = create_person(make_user("officer"))
    login_as(make_user("police"))

    response = client.post(f"/people/{person.id}/police-notes",
                           data={"body": "Đã xác minh với công an xã.", "is_verified": "y"})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, person.id).is_verified


def test_officer_changes_status(app_ctx, client, make_user, login_as):
    officer = make_user("officer")
    person = create_person(officer)
    login_as(officer)

    client.post(f"/people/{person.id}/status", data={"status": "returned", "reason": "Về nước"})

    db.session.expire_all()
    assert db.session.get(Person, person.id).status == "returned"


def test_district_sees_only_its_areas(app_ctx, client, make_user, login_as):
    officer = make_user("officer")
    inside = create_person(officer, full_name="Mai Văn Tài")
    outside = create_person(officer, full_name="Hà Thị Lan", hometown="Xã Mường Lát",
                            hometown_code=MUONG_LAT)
    login_as(make_user("district", areas=[commune_area(BIM_SON)]))

    listing = client.get("/people/", query_string={"q": "", "status": "any"})
    by_search = client.get("/people/", query_string={"q": "Hà Thị Lan"})

    assert "Mai Văn Tài" in results(listing)
    assert "Hà Thị Lan" not in results(listing)
    assert "Hà Thị Lan" not in results(by_search)
    assert client.get(f"/people/{outside.id}").status_code == 404
    assert client.get(f"/people/{outside.id}/edit").status_code == 404
    assert client.get(f"/people/{outside.id}/identity").status_code == 404
    assert client.get(f"/people/{inside.id}").status_code == 200


def test_district_cannot_move_a_person_out_of_its_areas(app_ctx, client, make_user, login_as):
    official = make_user("district", areas=[commune_area(BIM_SON)])
    person = create_person(make_user("officer"))
    login_as(official)

    response = client.post(f"/people/{person.id}/edit", data=person_form(
        hometown="Xã Mường Lát", hometown_code=MUONG_LAT))

    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Person, person.id).hometown_code == BIM_SON


def test_a_divided_former_commune_asks_which_unit_then_keeps_the_name_given(
        app_ctx, client, make_user, login_as):
    login_as(make_user("officer"))

    asked = client.post("/people/new", data=person_form(hometown="Đông Thọ", hometown_code=""))
    saved = client.post("/people/new", data=person_form(hometown="Đông Thọ",
                                                        hometown_code="14797"))

    assert asked.status_code == 422
    assert 'type="radio" name="hometown_code"' in asked.get_data(as_text=True)
    assert saved.status_code == 302
    person = db.session.scalar(select(Person))
    assert (person.hometown_code, person.hometown_former_code, person.hometown_given) == (
        "14797", "14758", "Đông Thọ")


def test_an_unmarked_name_that_fits_two_communes_is_never_guessed(
        app_ctx, client, make_user, login_as):
    login_as(make_user("officer"))

    unmarked = client.post("/people/new", data=person_form(hometown="hoang quy, hoang hoa",
                                                           hometown_code=""))
    marked = client.post("/people/new", data=person_form(hometown="Hoằng Quý", hometown_code=""))

    assert unmarked.status_code == 422
    assert unmarked.get_data(as_text=True).count('name="hometown_code"') >= 2
    assert marked.status_code == 302
    assert db.session.scalar(select(Person.hometown_former_code)) == "15916"
