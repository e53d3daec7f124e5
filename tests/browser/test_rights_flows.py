"""A person's requests about their own data, as the person and an officer click through them.

The person asks for the link on the public page, opens it from the mail the live app
kept in its memory backend, withdraws the greetings consent and asks for deletion;
an officer acknowledges the request and erases the data; the link then opens only a
page that says so.
"""
import re

import pytest
from playwright.sync_api import expect

from registry.accounts.models import User
from registry.core.mail import sent_messages
from registry.extensions import db
from registry.people import operations as people
from registry.people.normalise import parse_birth_date
from tests.browser.conftest import sign_in
from tests.factories import BIM_SON

pytestmark = pytest.mark.browser

NAME = "Đỗ Thị Minh Châu"
EMAIL = "chau.do@example.com"


@pytest.fixture
def registered(app, staff_user):
    """Return the id of a person with an e-mail and three consents, entered by an officer."""
    author = staff_user("officer")
    with app.app_context():
        data = {
            "full_name": NAME, "birth": parse_birth_date("1990"),
            "hometown": (BIM_SON, None, "Phường Bỉm Sơn"), "country_code": "KR",
            "city": "Busan", "phones": [("+821012345678", "1012345678")],
            "emails": [EMAIL], "associations": [], "passport_number": "B9876543",
            "consents": ["record", "greetings", "sharing"], "notice_version": "2026-01",
            "consent_channel": "form",
        }
        person = people.create_person(data, db.session.get(User, author.id), "officer")
        db.session.commit()
        return person.id


def link_sent_to(app, address: str) -> str:
    """Return the path of the last data link mailed to address."""
    with app.app_context():
        texts = [message.get_content() for message in sent_messages()
                 if message["To"] == address]
    return re.findall(r"https?://[^/\s]+(/my-data/\S+)", texts[-1])[-1]


def forget_expected_410(console_errors) -> None:
    """Drop the console line Chromium writes for the page of an erased record (410)."""
    console_errors[:] = [line for line in console_errors
                         if not re.match(r"Failed to load resource: .* status of 410", line)]


def test_person_withdraws_greetings_and_asks_for_deletion_and_an_officer_erases(
        page, new_page, app, live_server, url_for, staff_user, english, registered,
        console_errors):
    # The person asks for the link, in English, on a phone-sized screen.
    page.goto(url_for("rights.ask_link"))
    english(page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_label("Your e-mail address").fill(EMAIL.upper())
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "If we hold a record with this address, we have sent a link to it.")

    page.goto(live_server + link_sent_to(app, EMAIL))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data in the registry")
    main = page.locator("main")
    expect(main).to_contain_text(NAME)
    expect(main).to_contain_text("B9876543")
    expect(main).to_contain_text("+82 10-1234-5678")

    page.get_by_role("button", name="Withdraw: Holiday greetings and news").click()
    expect(page.get_by_role("alert")).to_contain_text("Your consent has been withdrawn.")
    expect(page.get_by_role("button", name="Withdraw: Holiday greetings and news")) \
        .to_have_count(0)
    expect(page.get_by_role("button", name="Withdraw: Sharing with the police and the commune")) \
        .to_have_count(1)
    requests = page.get_by_role("region", name="Your requests")
    expect(requests).to_contain_text("Consent withdrawn")
    expect(requests).to_contain_text("Completed")

    page.get_by_role("link", name="Ask for deletion of my data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete my data")
    page.get_by_label("I want my personal data to be deleted from the registry").check()
    page.get_by_role("button", name="Ask for deletion").click()
    expect(page.get_by_role("alert")).to_contain_text("has been received")
    expect(requests.get_by_role("row").filter(has_text="Deletion")).to_contain_text("Received")

    # An officer, at another computer, acknowledges and erases.
    officer = new_page()
    sign_in(officer, url_for, staff_user("officer"))
    english(officer)
    officer.goto(url_for("rights.index"))
    row = officer.get_by_role("row").filter(has_text="Deletion")
    expect(row).to_contain_text("Received")
    expect(row).to_contain_text("15 days left")
    row.get_by_role("link", name="Deletion").click()
    expect(officer.locator("main")).to_contain_text(NAME)
    officer.get_by_role("button", name="Acknowledge").click()
    expect(officer.get_by_role("alert")).to_contain_text("The request was acknowledged")
    officer.get_by_label("I understand that the personal data is erased for good").check()
    officer.get_by_role("button", name="Erase personal data").click()
    expect(officer.get_by_role("alert")).to_contain_text("The personal data was erased.")
    expect(officer.locator("main")).to_contain_text("Personal data erased on")
    expect(officer.locator("main")).not_to_contain_text(NAME)

    officer.goto(url_for("people.show", person_id=registered))
    expect(officer.get_by_role("heading", level=1)).to_contain_text("Personal data erased on")

    # The person's link no longer opens the data.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your personal data has been erased")
    expect(page.locator("main")).not_to_contain_text(NAME)
    forget_expected_410(console_errors)
