"""Every entry path warns before a duplicate is saved.

Requests run outside the test's application context (the `app` fixture, not
`app_ctx`), as in the review queue's tests.
"""
from sqlalchemy import func, select

from registry.extensions import db
from registry.intake import operations as intake
from registry.matching.models import OPEN, MatchPair
from registry.people import operations as people
from registry.people.models import Person
from registry.people.normalise import parse_birth_date
from tests.factories import BIM_SON, MUONG_LAT, commune_area, person_form

WARNING = "This person may already be in the registry"
ELSEWHERE = "A possible record exists in another area"


def existing(app, actor, name: str = "Nguyễn Thị Hương", hometown: str = BIM_SON,
             **extra) -> int:
    """Save a person through the operation and return its id."""
    with app.app_context():
        data = {"full_name": name, "gender": "female", "birth": parse_birth_date("12/05/1991"),
                "hometown": (hometown, None, None), "country_code": "JP",
                "city": extra.pop("city", "Osaka"), "phones": [("+819012345678", "9012345678")],
                "emails": extra.pop("emails", []), "associations": [], "consents": ["record"],
                **extra}
        person = people.create_person(data, actor, "officer")
        db.session.commit()
        return person.id


def count(app, model=Person, **where) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model).filter_by(**where)
        return db.session.scalar(query)


def page(response) -> str:
    return response.get_data(as_text=True)


def test_officer_is_warned_before_saving_a_duplicate(app, client, make_user, login_as):
    officer = make_user("officer")
    other = existing(app, officer, "Nguyen Thi Huong")
    login_as(officer)
    client.post("/lang/en")

    response = client.post("/people/new", data=person_form())

    text = page(response)
    assert response.status_code == 200 and WARNING in text
    assert "Nguyen Thi Huong" in text and f'href="/people/{other}"' in text
    assert "12/05/1991" in text and "Bỉm Sơn" in text
    assert 'name="confirm_different"' in text
    assert count(app) == 1


def test_officer_confirms_a_different_person_and_the_pair_goes_to_the_queue(
        app, client, make_user, login_as):
    officer = make_user("officer")
    other = existing(app, officer, "Nguyen Thi Huong")
    login_as(officer)

    response = client.post("/people/new", data=person_form(confirm_different="yes"))

    assert response.status_code == 302
    assert count(app) == 2
    with app.app_context():
        new = db.session.scalar(select(Person.id).where(Person.id != other))
        assert db.session.execute(select(MatchPair.person_a_id, MatchPair.person_b_id,
                                         MatchPair.state)).all() == [(other, new, OPEN)]


def test_an_entry_like_no_one_is_saved_without_a_warning(app, client, make_user, login_as):
    officer = make_user("officer")
    existing(app, officer, "Lê Văn Hùng", gender="male", birth=parse_birth_date("1970"),
             phones=[])
    login_as(officer)

    response = client.post("/people/new", data=person_form())

    assert response.status_code == 302 and count(app) == 2


def test_district_official_sees_own_area_matches_and_nothing_of_another_area(
        app, client, make_user, login_as):
    officer = make_user("officer")
    official = make_user("district", areas=[commune_area(MUONG_LAT)])
    foreign = existing(app, officer, "Nguyen Thi Huong", hometown=BIM_SON, city="Sapporo",
                       passport_number="C7654321")
    own = existing(app, officer, "Nguyễn Thị  Hương", hometown=MUONG_LAT, city="Kobe")
    login_as(official)
    client.post("/lang/en")

    response = client.post("/people/new", data=person_form(
        hometown="Xã Mường Lát", hometown_code=MUONG_LAT))

    text = page(response)
    assert response.status_code == 200 and WARNING in text and ELSEWHERE in text
    assert f'href="/people/{own}"' in text
    for secret in ("Nguyen Thi Huong", f"/people/{foreign}", f"/people/{foreign}/",
                   f'value="{foreign}"', "Sapporo", "C7654321", "Bỉm Sơn"):
        assert secret not in text, secret
    assert count(app) == 2


def test_district_official_who_confirms_sends_the_entry_for_review_with_its_pairs(
        app, client, make_user, login_as):
    officer = make_user("officer")
    official = make_user("district", areas=[commune_area(MUONG_LAT)])
    foreign = existing(app, officer, "Nguyen Thi Huong", hometown=BIM_SON)
    login_as(official)

    response = client.post("/people/new", data=person_form(
        hometown="Xã Mường Lát", hometown_code=MUONG_LAT, confirm_different="yes"))

    assert response.status_code == 302
    assert count(app, status="submitted") == 1
    with app.app_context():
        ends = db.session.execute(select(MatchPair.person_a_id, MatchPair.person_b_id)).one()
        assert foreign in ends


def test_an_edit_that_leaves_the_identity_alone_is_not_held_up(app, client, make_user,
                                                               login_as):
    officer = make_user("officer")
    existing(app, officer, "Nguyen Thi Huong")
    twin = existing(app, officer, "Nguyễn Thị Hương", emails=["huong.nguyen@example.com"],
                    passport_number="C1234567")
    login_as(officer)

    response = client.post(f"/people/{twin}/edit", data=person_form(occupation="Kỹ sư"))

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Person, twin).occupation == "Kỹ sư"


def test_an_edit_that_makes_a_record_look_like_another_warns(app, client, make_user,
                                                             login_as):
    officer = make_user("officer")
    other = existing(app, officer, "Nguyen Thi Huong")
    edited = existing(app, officer, "Lê Văn Hùng", gender="male",
                      birth=parse_birth_date("1970"), phones=[])
    login_as(officer)
    client.post("/lang/en")

    response = client.post(f"/people/{edited}/edit", data=person_form())

    assert response.status_code == 200 and WARNING in page(response)
    assert f'href="/people/{other}"' in page(response)
    with app.app_context():
        assert db.session.get(Person, edited).full_name == "Lê Văn Hùng"


def test_the_review_queue_shows_the_matches_of_a_district_submission(
        app, client, make_user, login_as):
    officer = make_user("officer")
    official = make_user("district", areas=[commune_area(MUONG_LAT)])
    other = existing(app, officer, "Nguyen Thi Huong", hometown=BIM_SON)
    with app.app_context():
        data = {"full_name": "Nguyễn Thị Hương", "birth": parse_birth_date("12/05/1991"),
                "hometown": (MUONG_LAT, None, None), "country_code": "JP",
                "phones": [("+819012345678", "9012345678")], "emails": [],
                "associations": [], "consents": ["record"]}
        person = people.create_person(data, official, "district")
        db.session.commit()
        submission_id = db.session.scalar(select(intake.Submission.id))
        assert [m.person.id for m in intake.matches_for(person)] == [other]
    login_as(officer)
    client.post("/lang/en")

    text = page(client.get(f"/review/{submission_id}"))

    assert "Possible matches" in text
    assert f'href="/people/{other}"' in text and "Nguyen Thi Huong" in text
