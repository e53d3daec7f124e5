"""The duplicate queue as an officer clicks through it: compare, merge, undo, decide."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from registry.accounts.models import User
from registry.core.time import utcnow
from registry.extensions import db
from registry.matching.models import NOT_SAME, MatchPair
from registry.people import operations as people
from registry.people.models import Person
from registry.people.normalise import parse_birth_date
from tests.factories import BIM_SON

pytestmark = pytest.mark.browser

EXPLANATION = [{"field": "given_name", "level": "folded equal, unmarked", "weight": 5.2},
               {"field": "country", "level": "different", "weight": -1.6}]


def data(name: str, city: str, gender: str = "female") -> dict:
    return {"full_name": name, "gender": gender, "birth": parse_birth_date("12/05/1991"),
            "hometown": (BIM_SON, None, None), "country_code": "JP", "city": city,
            "phones": [], "emails": [], "associations": [], "consents": ["record"]}


def add_pair(first: Person, second: Person, score: float) -> int:
    pair = MatchPair(person_a_id=first.id, person_b_id=second.id, score=score, weight=14.0,
                     band="likely", explanation=EXPLANATION)
    db.session.add(pair)
    db.session.flush()
    return pair.id


@pytest.fixture
def queue(app, staff_user):
    """Return the ids of two pairs waiting: one woman entered twice, and two brothers."""
    author = staff_user("officer")
    with app.app_context():
        actor = db.session.get(User, author.id)
        huong = people.create_person(data("Nguyễn Thị Hương", "Osaka"), actor, "officer")
        again = people.create_person(data("Nguyen Thi Huong", "Tokyo"), actor, "officer")
        # The first record was updated last, so its city is the one proposed.
        huong.updated_at = utcnow() + timedelta(minutes=1)
        nam = people.create_person(data("Lê Văn Nam", "Nagoya", "male"), actor, "officer")
        brother = people.create_person(data("Lê Văn Năm", "Nagoya", "male"), actor,
                                       "officer")
        ids = {"huong": huong.id, "again": again.id,
               "women": add_pair(huong, again, 0.99), "men": add_pair(nam, brother, 0.96)}
        db.session.commit()
    return ids


def test_officer_merges_a_pair_taking_the_other_city_then_undoes_it(
        page, signed_in, english, queue, app):
    signed_in("officer")
    english(page)

    page.get_by_role("link", name=re.compile(r"^Duplicates")).click()
    expect(page.get_by_role("heading", name="Possible duplicates")).to_be_visible()
    page.locator(f'[data-pair="{queue["women"]}"]').get_by_role("link",
                                                                 name="Compare").click()
    expect(page.get_by_role("heading", name=re.compile("Nguyễn Thị Hương"))).to_be_visible()
    expect(page.locator('#comparison tr[data-field="city"][data-differs]')).to_be_visible()
    page.get_by_role("link", name="Merge", exact=True).click()

    expect(page.get_by_role("heading", name="Merge 2 records")).to_be_visible()
    expect(page.get_by_role("radio", name="Osaka")).to_be_checked()
    page.get_by_role("radio", name="Tokyo").check()
    page.get_by_role("button", name="Confirm the merge").click()

    banner = page.locator("#merge-banner")
    expect(banner).to_contain_text("1 record was merged into this one")
    expect(page.locator('#survivor [data-field="city"]')).to_have_text("Tokyo")
    page.once("dialog", lambda dialog: dialog.accept())
    banner.get_by_role("button", name="Undo this merge").click()

    expect(page.get_by_role("alert")).to_contain_text("The merge was undone")
    expect(page.locator("#merges")).to_contain_text("Undone on")
    with app.app_context():
        assert db.session.get(Person, queue["huong"]).city == "Osaka"
        assert db.session.get(Person, queue["again"]).status == "active"


def test_officer_marks_two_brothers_as_not_the_same_person(page, signed_in, english, queue,
                                                           app):
    signed_in("officer")
    english(page)
    page.get_by_role("link", name=re.compile(r"^Duplicates")).click()

    page.locator(f'[data-pair="{queue["men"]}"]').get_by_role("link", name="Compare").click()
    expect(page.locator("#explanation")).to_contain_text("different")
    page.get_by_role("button", name="Not the same person").click()

    expect(page.get_by_role("alert")).to_contain_text("two different people")
    page.get_by_role("link", name=re.compile(r"^Duplicates")).click()
    expect(page.locator(f'[data-pair="{queue["men"]}"]')).to_have_count(0)
    expect(page.locator(f'[data-pair="{queue["women"]}"]')).to_have_count(1)
    with app.app_context():
        assert db.session.get(MatchPair, queue["men"]).state == NOT_SAME
