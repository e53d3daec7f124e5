"""Duplicates met at entry and found by a scan, as an officer clicks through them."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from registry.accounts.models import User
from registry.extensions import db
from registry.people import operations as people
from registry.people.models import Person
from registry.people.normalise import parse_birth_date
from tests.browser.test_people_flows import choose_hometown, open_new_person_form
from tests.factories import BIM_SON

pytestmark = pytest.mark.browser


def data(name: str, city: str, phone: str) -> dict:
    return {"full_name": name, "gender": "female", "birth": parse_birth_date("12/05/1991"),
            "hometown": (BIM_SON, None, None), "country_code": "JP", "city": city,
            "phones": [(phone, phone)], "emails": [], "associations": [],
            "consents": ["record"]}


@pytest.fixture
def huong(app, staff_user):
    """Return the id of a woman already in the registry."""
    author = staff_user("officer")
    with app.app_context():
        actor = db.session.get(User, author.id)
        person = people.create_person(data("Nguyễn Thị Hương", "Osaka", "+819012345678"),
                                      actor, "officer")
        db.session.commit()
        return person.id


def count_people(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Person.id)).where(
            Person.full_name == name))


def test_entering_a_person_typed_without_marks_warns_before_saving(
        page, signed_in, english, huong, app):
    signed_in("officer")
    english(page)
    open_new_person_form(page)

    page.get_by_label("Full name").fill("Nguyen Thi Huong")
    page.get_by_label("Date of birth").fill("12/05/1991")
    choose_hometown(page, "Bim Son", "Phường Bỉm Sơn")
    page.get_by_label("Country of residence").select_option(label="Japan")
    page.get_by_label("Phone", exact=True).first.fill("090-1234-5678")
    page.get_by_label("Agrees to the keeping of this record").check()
    page.get_by_label("How consent was given").select_option(label="Paper form")
    page.get_by_role("button", name="Save").click()

    warning = page.locator("[data-matches]")
    expect(warning).to_contain_text("This person may already be in the registry")
    expect(warning.get_by_role("link", name="Nguyễn Thị Hương")).to_be_visible()
    expect(warning).to_contain_text("Very likely the same person")
    assert count_people(app, "Nguyen Thi Huong") == 0

    page.get_by_label("I checked, this is a different person").check()
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/people/\d+$"))
    expect(page.get_by_role("alert")).to_contain_text("The person was saved.")
    assert count_people(app, "Nguyen Thi Huong") == 1


def test_a_scan_started_from_the_queue_finds_the_pair_and_explains_it(
        page, signed_in, english, app, staff_user):
    author = staff_user("officer")
    with app.app_context():
        actor = db.session.get(User, author.id)
        people.create_person(data("Lê Thị Hoà", "Osaka", "+819011112222"), actor, "officer")
        people.create_person(data("Hoa Le Thi", "Kobe", "+819011112222"), actor, "officer")
        db.session.commit()
    signed_in("officer")
    english(page)

    page.get_by_role("link", name=re.compile(r"^Duplicates")).click()
    page.get_by_role("button", name="Run a scan").click()
    expect(page.get_by_role("heading", name=re.compile(r"Duplicate scan \d+"))).to_be_visible()
    page.get_by_role("link", name="Review the pairs").click()

    page.get_by_role("link", name="Compare").first.click()
    expect(page.locator("main")).to_contain_text("Lê Thị Hoà")
    expect(page.locator("main")).to_contain_text("Hoa Le Thi")
    expect(page.locator("main")).to_contain_text("equal, one written without marks")
