"""The calendar of occasions as an officer clicks through it: the home page's card shows
what is coming and what needs a campaign; the officer adds an occasion."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from registry.accounts.models import User
from registry.core.time import vietnam_today
from registry.extensions import db
from registry.outreach import operations

pytestmark = pytest.mark.browser


def add_soon(app, author, days: int, name: str, name_en: str) -> None:
    """Add a solar occasion falling days from today in Vietnam."""
    when = vietnam_today() + timedelta(days=days)
    with app.app_context():
        operations.create_occasion(
            {"name": name, "name_en": name_en, "kind": "solar", "month": when.month,
             "day": when.day, "remind_days_before": 30}, db.session.get(User, author.id))
        db.session.commit()


def test_an_officer_sees_the_coming_occasions_and_adds_one(app, page, url_for, signed_in,
                                                           english):
    officer = signed_in("officer")
    add_soon(app, officer, 10, "Ngày Hội Kiều bào", "Overseas Compatriots' Day")
    coming = vietnam_today() + timedelta(days=20)
    english(page)

    page.goto(url_for("core.home"))
    card = page.locator("#outreach-card")
    expect(card.locator("#coming-occasions")).to_contain_text("Overseas Compatriots' Day")
    reminder = card.locator(".outreach-reminder").filter(has_text="Overseas Compatriots' Day")
    expect(reminder).to_contain_text("no campaign yet")

    page.get_by_role("link", name="Outreach").click()
    page.get_by_role("link", name="Add an occasion").click()
    page.get_by_label("Name in Vietnamese").fill("Ngày Văn hóa Xứ Thanh")
    page.get_by_label("Name in English").fill("Xứ Thanh Culture Day")
    page.get_by_label("Calendar").select_option("solar")
    page.get_by_label("Day", exact=True).fill(str(coming.day))
    page.get_by_label("Month", exact=True).fill(str(coming.month))
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("was added")
    expect(page.locator("#occasions")).to_contain_text("Xứ Thanh Culture Day")
    page.goto(url_for("core.home"))
    expect(page.locator("#coming-occasions")).to_contain_text(coming.strftime("%d/%m/%Y"))
    expect(page.locator("#coming-occasions")).to_contain_text("Xứ Thanh Culture Day")


def test_a_lunar_day_31_is_refused_beside_the_field(app, page, url_for, signed_in, english,
                                                     console_errors):
    signed_in("officer")
    english(page)

    page.goto(url_for("outreach.create"))
    page.get_by_label("Name in Vietnamese").fill("Ngày thử")
    page.get_by_label("Name in English").fill("Test day")
    page.get_by_label("Calendar").select_option("lunar")
    page.get_by_label("Day", exact=True).fill("31")
    page.get_by_label("Month", exact=True).fill("8")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#day-errors")).to_contain_text("A lunar month has at most 30 days")
    # The refused form answers 422, which Chromium reports; that one is expected.
    console_errors[:] = [line for line in console_errors if "422" not in line]
