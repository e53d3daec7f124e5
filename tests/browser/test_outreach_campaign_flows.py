"""A campaign as two officers click through it: one drafts, previews and submits, the
other approves; the live app runs its jobs at once with the memory mail backend, so
approving sends every message before the page comes back."""
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from registry.accounts.models import User
from registry.core.mail import sent_messages
from registry.core.time import VIETNAM, vietnam_today
from registry.extensions import db
from registry.outreach import audiences, calendar, campaigns
from registry.outreach.models import SENT, Campaign, Delivery, Occasion
from registry.people import operations as people
from tests.browser.conftest import sign_in, switch_to_english
from tests.factories import BIM_SON

pytestmark = pytest.mark.browser

BODY_VI = ("Kính gửi {{ honorific }} {{ full_name }},\n\n"
           "Nhân dịp {{ occasion }} ({{ occasion_date }}), chúc {{ honorific }} và gia đình "
           "an khang, thịnh vượng.\n\n{{ signature }}")
BODY_EN = "Dear {{ honorific }} {{ full_name }},\n\nHappy {{ occasion }}!\n\n{{ signature }}"


def add_greetable(app, author, *people_langs: tuple[str, str]) -> None:
    """Add one person who consented to greetings per (name, language)."""
    with app.app_context():
        actor = db.session.get(User, author.id)
        for number, (name, lang) in enumerate(people_langs, start=1):
            person = people.create_person(
                {"full_name": name, "gender": "female", "birth": None,
                 "hometown": (BIM_SON, None, None), "country_code": "JP", "city": "Osaka",
                 "phones": [], "emails": [f"tet{number}@example.test"], "associations": [],
                 "consents": ["record", "greetings"]}, actor, "officer")
            person.preferred_lang = lang
        db.session.commit()


def add_tet_and_audience(app, author) -> tuple[int, str]:
    """Add Tết and an audience of everyone; return Tết's id and its next date."""
    with app.app_context():
        tet = Occasion(name="Tết Nguyên Đán", name_en="Lunar New Year", kind="lunar",
                       month=1, day=1, remind_days_before=45)
        db.session.add(tet)
        audiences.save_audience("Everyone greetable", {}, db.session.get(User, author.id))
        db.session.commit()
        return tet.id, calendar.next_date(tet, vietnam_today()).isoformat()


def test_an_officer_takes_a_tet_campaign_from_draft_through_approval_to_delivered(
        app, page, new_page, url_for, signed_in, staff_user, english):
    author = signed_in("officer", full_name="Trần Văn Soạn")
    add_greetable(app, author, ("Lê Thị Hoa", "vi"), ("Phạm Thị Lan", "vi"),
                  ("Nguyễn Thị Mai", "en"))
    tet_id, tet_date = add_tet_and_audience(app, author)
    with app.app_context():
        sent_messages().clear()
    english(page)

    # Officer A drafts the campaign.
    page.get_by_role("link", name="Outreach").click()
    page.locator("#outreach-tabs").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Write a campaign").click()
    page.get_by_label("Name of the campaign").fill("Tết 2027 for Japan")
    page.get_by_label("Occasion", exact=True).select_option(str(tet_id))
    expect(page.get_by_label("Date of the occasion")).to_have_value(tet_date)
    page.get_by_label("Audience").select_option(label="Everyone greetable")
    page.get_by_label("Subject in Vietnamese").fill("Chúc mừng {{ occasion }}")
    page.get_by_label("Message in Vietnamese").fill(BODY_VI)
    page.get_by_label("Subject in English").fill("Greetings for {{ occasion }}")
    page.get_by_label("Message in English").fill(BODY_EN)
    page.get_by_label("Signature").fill("Sở Ngoại vụ Thanh Hóa")
    expect(page.locator("#placeholders")).to_contain_text("{{ occasion_date }}")
    page.get_by_role("button", name="Save the draft").click()

    expect(page.get_by_role("alert")).to_contain_text("was saved as a draft")
    expect(page.locator("#campaign-state")).to_have_text("Draft")
    expect(page.locator("#campaign-audience-size")).to_have_text("3 people will receive it")
    preview = page.locator("#campaign-preview")
    expect(preview).to_contain_text("Kính gửi Bà Lê Thị Mẫu")

    # A preview for a chosen recipient, in her language.
    page.get_by_label("As received by").select_option(label="Nguyễn Thị Mai · Japan")
    page.get_by_role("button", name="Show").click()
    expect(preview.locator(".preview-subject")).to_have_text("Greetings for Lunar New Year")
    expect(preview.locator(".preview-html")).to_contain_text("Dear Ms Nguyễn Thị Mai")

    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("alert")).to_contain_text("another officer must now approve it")
    expect(page.locator("#campaign-state")).to_have_text("Awaiting approval")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    campaign_url = page.url.split("?")[0]

    # Officer B, at another computer, approves it.
    approver = staff_user("officer", full_name="Lê Thị Duyệt")
    other = new_page()
    sign_in(other, url_for, approver)
    switch_to_english(other)
    other.goto(campaign_url)
    expect(other.locator("#campaign-author")).to_contain_text("Trần Văn Soạn")
    other.once("dialog", lambda dialog: dialog.accept())
    other.get_by_role("button", name="Approve").click()

    expect(other.get_by_role("alert")).to_contain_text("The campaign was approved.")
    expect(other.locator("#campaign-state")).to_have_text("Finished")
    expect(other.locator("#campaign-progress-text")).to_have_text(
        "3 of 3 messages handled: 100%.")
    expect(other.locator("#campaign-progress progress")).to_have_attribute("value", "100")
    expect(other.locator("#campaign-counts tr[data-status=sent] td")).to_have_text("3")
    expect(other.locator("#campaign-counts tr[data-status=failed] td")).to_have_text("0")
    expect(other.locator("#campaign-approver")).to_contain_text("Lê Thị Duyệt")

    with app.app_context():
        subjects = sorted(message["Subject"] for message in sent_messages())
    assert subjects == ["Chúc mừng Tết Nguyên Đán"] * 2 + ["Greetings for Lunar New Year"]

    page.goto(url_for("outreach.campaigns"))
    row = page.locator("#campaigns tbody tr").filter(has_text="Tết 2027 for Japan")
    expect(row).to_contain_text("Finished")
    expect(row).to_contain_text("Lê Thị Duyệt")


def test_the_progress_follows_the_sending_and_the_page_reloads_when_it_pauses(
        app, page, url_for, signed_in, staff_user, english):
    author = signed_in("officer")
    add_greetable(app, author, ("Lê Thị Hoa", "vi"), ("Phạm Thị Lan", "vi"))
    campaign_id = sending_tomorrow_morning(app, author, staff_user("officer"))
    english(page)

    page.goto(url_for("outreach.campaign", campaign_id=campaign_id))
    expect(page.locator("#campaign-state")).to_have_text("Sending")
    expect(page.locator("#campaign-progress-text")).to_have_text(
        "0 of 2 messages handled: 0%.")
    with app.app_context():
        first = db.session.scalars(select(Delivery).where(
            Delivery.campaign_id == campaign_id).order_by(Delivery.id)).first()
        first.status = SENT
        db.session.commit()
    expect(page.locator("#campaign-progress-text")).to_have_text(
        "1 of 2 messages handled: 50%.", timeout=6_000)
    expect(page.locator("#campaign-counts tr[data-status=sent] td")).to_have_text("1")

    with app.app_context():
        campaigns.pause(db.session.get(Campaign, campaign_id),
                        db.session.get(User, author.id))
        db.session.commit()
    expect(page.locator("#campaign-state")).to_have_text("Paused", timeout=6_000)
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("alert")).to_contain_text("Sending goes on.")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()


def sending_tomorrow_morning(app, author, approver) -> int:
    """Return a campaign approved to go out in tomorrow's local morning: still sending."""
    with app.app_context():
        audience = audiences.save_audience("Everyone", {}, db.session.get(User, author.id))
        tomorrow = datetime.combine(vietnam_today() + timedelta(days=1), time(8), VIETNAM)
        campaign = campaigns.create_campaign(
            {"name": "Tết", "audience_id": audience.id, "signature": "Sở Ngoại vụ",
             "scheduled_at": tomorrow.astimezone(UTC), "is_local_morning": True},
            {"vi": ("Chúc mừng năm mới", "Kính gửi {{ honorific }} {{ full_name }}.")},
            db.session.get(User, author.id))
        campaigns.submit(campaign, db.session.get(User, author.id))
        campaigns.approve(campaign, db.session.get(User, approver.id))
        db.session.commit()
        return campaign.id
