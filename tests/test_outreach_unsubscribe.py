"""The unsubscribe link and the one-click POST of RFC 8058, from outside the registry."""
from datetime import date

import pytest
from sqlalchemy import select

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.outreach import audiences, campaigns, unsubscribing
from registry.outreach.models import Delivery
from registry.people import operations as people
from registry.people.models import Person
from tests.factories import BIM_SON


@pytest.fixture
def link(app, make_user) -> tuple[str, int]:
    """Return the path of a sent message's unsubscribe link and its person's id."""
    author_id, approver_id = make_user("officer").id, make_user("officer").id
    with app.app_context():
        author, approver = db.session.get(User, author_id), db.session.get(User, approver_id)
        person = people.create_person(
            {"full_name": "Đỗ Thị Hằng", "gender": "female", "birth": None,
             "hometown": (BIM_SON, None, None), "country_code": "DE", "city": "Berlin",
             "phones": [], "emails": ["hang@example.test"], "associations": [],
             "consents": ["record", "greetings"]}, author, "officer")
        audience = audiences.save_audience("Đức", {"countries": ["DE"]}, author)
        campaign = campaigns.create_campaign(
            {"name": "Tết", "audience_id": audience.id, "occasion_date": date(2027, 2, 6)},
            {"vi": ("Chúc mừng năm mới", "Kính gửi {{ full_name }}")}, author)
        campaigns.submit(campaign, author)
        campaigns.approve(campaign, approver)
        db.session.commit()
        delivery = db.session.scalar(select(Delivery))
        return unsubscribing.PATH + unsubscribing.token_for(delivery.id), person.id


def opted_out(app, person_id: int) -> bool:
    with app.app_context():
        return db.session.get(Person, person_id).is_outreach_opted_out


def test_opening_the_link_asks_and_changes_nothing(app, client, link):
    path, person_id = link

    response = client.get(path)

    assert response.status_code == 200
    assert 'id="unsubscribe"' in response.get_data(as_text=True)
    assert not opted_out(app, person_id)


def test_the_button_unsubscribes_at_once_and_is_audited(app, client, link):
    path, person_id = link

    response = client.post(path)

    assert response.status_code == 200 and 'id="unsubscribed"' in response.get_data(True)
    assert opted_out(app, person_id)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "person.unsubscribe"))
        assert event.details["how"] == "page" and event.actor_id is None


def test_a_mail_programs_one_click_post_needs_no_page(app, client, link):
    path, person_id = link

    response = client.post(path, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 204
    assert opted_out(app, person_id)


def test_a_changed_token_is_refused_and_changes_nothing(app, client, link):
    path, person_id = link

    assert client.post(path[:-3] + "abc").status_code == 404
    assert client.get(unsubscribing.PATH + "x" * 5000).status_code == 404
    assert not opted_out(app, person_id)
