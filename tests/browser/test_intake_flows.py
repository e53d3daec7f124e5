"""Intake in the browser: a resident registers on a phone, officers decide, officials resubmit.

The resident's page opens in Vietnamese, as the public sees it first, then switches
to English (the Vietnamese catalogue for these pages is still to be written). The
live app is the one the tests talk to, so its memory mail backend holds the
confirmation mail.
"""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from registry.accounts.models import User
from registry.core.mail import sent_messages
from registry.extensions import db
from registry.intake import operations
from registry.intake.models import Submission
from registry.people import operations as people
from registry.people.normalise import parse_birth_date
from tests.browser.conftest import sign_in
from tests.factories import BIM_SON, commune_area

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
HOMETOWN_LABEL = "Hometown (commune or ward in Thanh Hóa)"


@pytest.fixture(autouse=True)
def _intake_queue_only(app, monkeypatch):
    """Keep the queue to intake's own sources and allow a quick test form."""
    saved = dict(operations._sources)
    operations._sources.clear()
    operations.register_own_sources()
    # A person takes longer than three seconds; the robot check itself is tested
    # in tests/test_intake_public.py.
    monkeypatch.setitem(app.config, "INTAKE_MIN_SECONDS", 0)
    with app.app_context():
        sent_messages().clear()
    yield
    operations._sources.clear()
    operations._sources.update(saved)


def choose_hometown(page, typed: str, suggestion: str) -> None:
    hometown = page.get_by_label(HOMETOWN_LABEL).and_(page.locator("input"))
    hometown.press_sequentially(typed)
    option = page.get_by_role("listbox").get_by_role("option", name=suggestion)
    expect(option).to_be_visible()
    option.click()
    expect(hometown).to_have_value(suggestion)


def confirmation_link(app) -> str:
    with app.app_context():
        text = sent_messages()[-1].get_content()
    return re.search(r"https?://\S+/register/confirm/\S+", text).group(0)


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_resident_registers_on_a_phone_confirms_and_an_officer_accepts(
        page, new_page, url_for, app, signed_in, english):
    resident = new_page()
    resident.set_viewport_size(PHONE)
    resident.goto(url_for("intake.register"))
    expect(resident.locator("html")).to_have_attribute("lang", "vi")
    expect(resident.get_by_role("button", name="English", exact=True)).to_be_visible()
    assert fits_the_screen(resident)

    english(resident)
    resident.get_by_label("Full name").fill("Đỗ Thị Ngọc Anh")
    resident.get_by_label("Date of birth").fill("1996")
    choose_hometown(resident, "Bim Son", "Phường Bỉm Sơn")
    resident.get_by_label("Country of residence").select_option(label="Japan")
    phone = resident.get_by_label("Phone", exact=True)
    expect(phone).to_have_attribute("placeholder", "+81 …")
    expect(resident.locator("[data-phone-hint-text]")).to_contain_text("+81")
    resident.get_by_label("Country of residence").select_option(label="South Korea")
    expect(phone).to_have_attribute("placeholder", "+82 …")
    resident.get_by_label("Country of residence").select_option(label="Japan")
    phone.fill("080-1234-5678")
    resident.get_by_label("E-mail").fill("ngoc.anh@example.com")
    for box in ("keeps this record", "holiday greetings", "shared with"):
        expect(resident.get_by_label(re.compile(box))).not_to_be_checked()
    resident.get_by_label(re.compile("keeps this record")).check()
    send = resident.get_by_role("button", name="Send my registration")
    assert send.bounding_box()["height"] >= 44  # a thumb-sized target
    assert fits_the_screen(resident)
    send.click()

    expect(resident.get_by_role("heading", level=1)).to_contain_text("Thank you")
    reference = resident.locator("#reference").inner_text()
    assert re.fullmatch(r"TH-\d{4}-[A-Z2-9]{8}", reference)
    resident.goto(confirmation_link(app))
    expect(resident.get_by_role("heading", level=1)).to_have_text(
        "Your e-mail address is confirmed")

    signed_in("officer")
    english(page)
    review = page.get_by_role("navigation").get_by_role("link", name="Review 1 waiting")
    expect(review.locator("#nav-review-count")).to_have_text("1")
    review.click()
    row = page.get_by_role("row").filter(has_text="Đỗ Thị Ngọc Anh")
    expect(row).to_contain_text("E-mail confirmed")
    expect(row).to_contain_text(reference)
    row.get_by_role("link", name="Review").click()
    expect(page.get_by_role("heading", name="Possible matches")).to_be_visible()
    page.get_by_role("button", name="Accept as it is").click()
    expect(page.get_by_role("alert")).to_contain_text("The entry was accepted.")
    expect(page.locator("main")).not_to_contain_text("Đỗ Thị Ngọc Anh")
    expect(page.locator("#nav-review-count")).to_have_text("0")


def test_district_entry_rejected_with_a_reason_is_corrected_and_resubmitted(
        page, new_page, url_for, app, signed_in, staff_user, english):
    official = staff_user("district", areas=[commune_area()])
    with app.app_context():
        author = db.session.get(User, official.id)
        data = {"full_name": "Cao Văn Sơn", "birth": parse_birth_date("1988"),
                "hometown": (BIM_SON, None, "Phường Bỉm Sơn"), "country_code": "KR",
                "city": "Busan", "phones": [], "emails": [], "associations": [],
                "consents": []}
        person = people.create_person(data, author, "district")
        db.session.commit()
        submission_id = db.session.scalar(select(Submission.id).where(
            Submission.person_id == person.id))

    signed_in("officer")
    english(page)
    page.goto(url_for("intake.review_item", submission_id=submission_id))
    page.get_by_label("Reason").fill("Please add a phone number.")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("alert")).to_contain_text("The entry was rejected.")

    desk = new_page()
    sign_in(desk, url_for, official)
    english(desk)
    desk.get_by_role("link", name="My submissions", exact=True).click()
    row = desk.get_by_role("row").filter(has_text="Cao Văn Sơn")
    expect(row).to_contain_text("Not accepted")
    expect(row).to_contain_text("Please add a phone number.")
    row.get_by_role("link", name="Correct").click()
    desk.get_by_label("Phone", exact=True).fill("010-1234-5678")
    desk.get_by_role("button", name="Save").click()
    expect(desk.get_by_role("alert")).to_contain_text("The changes were saved.")
    desk.get_by_role("link", name="My submissions", exact=True).click()
    desk.get_by_role("row").filter(has_text="Cao Văn Sơn").get_by_role(
        "button", name="Resubmit").click()
    expect(desk.get_by_role("alert")).to_contain_text("The entry was sent again for review.")
    expect(desk.get_by_role("row").filter(has_text="Cao Văn Sơn")).to_contain_text(
        "Waiting for review")

    page.goto(url_for("intake.queue"))
    expect(page.get_by_role("row").filter(has_text="Cao Văn Sơn")).to_contain_text(
        "Sent again (2 times)")
