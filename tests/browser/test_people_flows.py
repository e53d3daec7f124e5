"""People records as staff click through them: enter, correct, search, reveal, verify.

Each test signs in through the real forms in a fresh browser context, switches the
interface to English (the Vietnamese catalog is still being written) and drives the
pages by their labels and roles, as a keyboard or screen-reader user would.
"""
import re
from datetime import date, timedelta

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.extensions import db
from tests.factories import BIM_SON, MUONG_LAT, commune_area, create_person

pytestmark = pytest.mark.browser

HOMETOWN_LABEL = "Hometown (commune or ward in Thanh Hóa)"


@pytest.fixture
def person_by(app):
    """Return a function that creates a person as actor would, and returns its id."""

    def create(actor, **changes) -> int:
        with app.app_context():
            person = create_person(db.session.get(User, actor.id), **changes)
            return person.id

    return create


def open_new_person_form(page) -> None:
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.get_by_role("heading", name="People abroad")).to_be_visible()
    page.get_by_role("link", name="New person").click()
    expect(page.get_by_role("heading", name="New person")).to_be_visible()


def hometown_field(page):
    # The suggestion list borrows the field's label, so ask for the input itself.
    return page.get_by_label(HOMETOWN_LABEL).and_(page.locator("input"))


def choose_hometown(page, typed: str, suggestion: str) -> None:
    """Type into the hometown field and take the suggestion with the keyboard."""
    hometown = hometown_field(page)
    hometown.press_sequentially(typed)
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option", name=suggestion)).to_be_visible()
    # Walk down to the suggestion wanted; the input keeps the focus all along.
    names = listbox.get_by_role("option").all_inner_texts()
    for _ in range(names.index(suggestion) + 1):
        hometown.press("ArrowDown")
    hometown.press("Enter")
    expect(hometown).to_have_value(suggestion)
    expect(listbox).to_be_hidden()


def forget_expected_422(console_errors) -> None:
    """Drop the console line Chromium writes for the 422 answer to an invalid form.

    The view answers 422 on purpose; only that line is expected, any other error stays.
    """
    console_errors[:] = [line for line in console_errors
                         if not re.match(r"Failed to load resource: .* status of 422", line)]


ANNOUNCEMENT = """(field) => {
  const ids = (field.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean);
  const errors = ids.map((id) => document.getElementById(id))
    .filter((node) => node && !node.classList.contains("form-text"));
  return {invalid: field.getAttribute("aria-invalid"),
          description: errors.map((node) => node.textContent.trim()).join(" ")};
}"""


def announcement(field) -> dict:
    """Return what assistive technology is told about a field: invalid, and why."""
    return field.evaluate(ANNOUNCEMENT)


def results(page):
    return page.locator("#results")


# ---- 1. An officer enters a person and corrects the city later


def test_officer_enters_a_person_with_two_phones_then_sees_the_city_change_in_history(
        page, url_for, signed_in, english):
    signed_in("officer")
    english(page)
    open_new_person_form(page)

    page.get_by_label("Full name").fill("Nguyễn Thị Hương")
    page.get_by_label("Date of birth").fill("12/05/1991")
    choose_hometown(page, "Bim Son", "Phường Bỉm Sơn")
    assert page.input_value("#hometown_code") == BIM_SON
    page.get_by_label("Country of residence").select_option(label="Japan")
    page.get_by_label("City", exact=True).fill("Osaka")
    page.get_by_label("Phone", exact=True).first.fill("090-1234-5678")
    page.get_by_role("button", name="Add a phone").click()
    second_phone = page.get_by_label("Phone", exact=True).nth(1)
    expect(second_phone).to_be_focused()
    second_phone.fill("080-9876-5432")
    page.get_by_label("Agrees to the keeping of this record").check()
    page.get_by_label("How consent was given").select_option(label="Paper form")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/people/\d+$"))
    expect(page.get_by_role("alert")).to_contain_text("The person was saved.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nguyễn Thị Hương")
    expect(page.locator("main")).to_contain_text("Phường Bỉm Sơn")
    expect(page.locator("main")).to_contain_text("12/05/1991")
    expect(page.locator("main")).to_contain_text("Japan")
    expect(page.locator("main")).to_contain_text("+81 90-1234-5678")
    expect(page.locator("main")).to_contain_text("+81 80-9876-5432")
    expect(page.locator("main")).to_contain_text("Keeping the record")

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Phone", exact=True)).to_have_count(2)
    page.get_by_label("City", exact=True).fill("Nagoya")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("The changes were saved.")
    expect(page.locator("main")).to_contain_text("Nagoya")

    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "History of Nguyễn Thị Hương")
    change = page.get_by_role("row").filter(has_text="City")
    expect(change).to_have_count(1)
    expect(change.get_by_role("cell")).to_have_text(["City", "Osaka", "Nagoya"])
    expect(page.locator("main")).to_contain_text("Record created.")


# ---- 2. Bad input is shown beside its field and nothing is saved


def test_invalid_phone_and_future_birth_date_are_shown_beside_the_fields_and_nothing_is_saved(
        page, url_for, signed_in, english, console_errors):
    signed_in("officer")
    english(page)
    open_new_person_form(page)
    tomorrow = (date.today() + timedelta(days=2)).strftime("%d/%m/%Y")

    page.get_by_label("Full name").fill("Trần Văn Bình")
    page.get_by_label("Date of birth").fill(tomorrow)
    choose_hometown(page, "Bim Son", "Phường Bỉm Sơn")
    page.get_by_label("Country of residence").select_option(label="Japan")
    page.get_by_label("Phone", exact=True).fill("12345")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "Nothing was saved. Please correct the fields marked below.")
    birth = page.get_by_label("Date of birth")
    expect(birth).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(birth).to_have_accessible_description(
        re.compile("The date of birth cannot be in the future."))
    phone = page.get_by_label("Phone", exact=True)
    expect(phone).to_have_class(re.compile(r"\bis-invalid\b"))
    phone_row = page.locator("[data-repeat-item]").filter(has=phone)
    expect(phone_row).to_contain_text("This phone number is not valid for its country.")
    # What was typed stays, so only the two mistakes need correcting.
    expect(page.get_by_label("Full name")).to_have_value("Trần Văn Bình")
    expect(birth).to_have_value(tomorrow)
    expect(phone).to_have_value("12345")
    expect(hometown_field(page)).to_have_value("Phường Bỉm Sơn")
    expect(page.get_by_label("Country of residence")).to_have_value("JP")

    forget_expected_422(console_errors)

    page.get_by_role("link", name="People", exact=True).click()
    expect(results(page)).to_contain_text("No one matches this search.")


def test_the_fields_in_error_are_announced_as_invalid_with_their_message(
        page, url_for, signed_in, english, console_errors):
    # A screen reader must hear that a field is wrong and why, wherever it is drawn:
    # by field() (aria-describedby is there, aria-invalid is not) or by repeated()
    # (neither is there yet).
    signed_in("officer")
    english(page)
    open_new_person_form(page)

    page.get_by_label("Full name").fill("Trần Văn Bình")
    page.get_by_label("Date of birth").fill("31/02/1990")
    choose_hometown(page, "Bim Son", "Phường Bỉm Sơn")
    page.get_by_label("Country of residence").select_option(label="Japan")
    page.get_by_label("Phone", exact=True).fill("12345")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved.")
    forget_expected_422(console_errors)

    announced = {
        "date of birth": announcement(page.get_by_label("Date of birth")),
        "phone": announcement(page.get_by_label("Phone", exact=True)),
    }
    assert announced == {
        "date of birth": {"invalid": "true", "description": "This date does not exist."},
        "phone": {"invalid": "true",
                  "description": "This phone number is not valid for its country."},
    }


# ---- 3. Search as you type, without diacritics, filtered, a page at a time


def test_typing_in_the_search_box_finds_names_without_diacritics_and_a_country_narrows_them(
        page, url_for, signed_in, english, person_by):
    officer = signed_in("officer")
    for name, country in [("Nguyễn Văn Hùng", "JP"), ("Nguyễn Thị Lan", "KR"),
                          ("Trần Thị Mai", "KR"), ("Lê Văn Nam", "JP")]:
        person_by(officer, full_name=name, country=country, passport_number=None)
    english(page)
    page.get_by_role("link", name="People", exact=True).click()
    expect(results(page)).to_contain_text("4 people match.")
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Name, phone, e-mail or passport").press_sequentially("Nguyen Van Hung")

    expect(results(page)).to_contain_text("1 person matches.")
    expect(results(page).get_by_role("link")).to_have_text(["Nguyễn Văn Hùng"])
    expect(page).to_have_url(re.compile(r"[?&]q=Nguyen(\+|%20)Van(\+|%20)Hung"))
    assert page.evaluate("window.notReloaded") is True, "the page was loaded again"

    page.get_by_label("Name, phone, e-mail or passport").fill("")
    page.get_by_label("Country", exact=True).select_option("KR")
    expect(results(page)).to_contain_text("2 people match.")
    expect(results(page).get_by_role("link")).to_have_text(
        ["Nguyễn Thị Lan", "Trần Thị Mai"])
    assert page.evaluate("window.notReloaded") is True, "the page was loaded again"

    page.get_by_label("Name, phone, e-mail or passport").press_sequentially("nguyen")
    expect(results(page).get_by_role("link")).to_have_text(["Nguyễn Thị Lan"])


def test_more_than_fifty_people_are_shown_a_page_at_a_time(
        page, url_for, signed_in, english, app):
    officer = signed_in("officer")
    with app.app_context():
        actor = db.session.get(User, officer.id)
        for family in ("Bùi", "Đặng", "Hoàng", "Phạm", "Vũ", "Võ", "Đỗ", "Ngô", "Dương"):
            for given in ("An", "Bảo", "Châu", "Dũng", "Giang", "Hà"):
                create_person(actor, full_name=f"{family} Văn {given}", passport_number=None)
    english(page)
    page.get_by_role("link", name="People", exact=True).click()

    expect(results(page)).to_contain_text("54 people match.")
    expect(results(page).locator("tbody tr")).to_have_count(50)
    pages = page.get_by_role("navigation", name="Pages")
    pages.get_by_role("link", name="Next").click()
    expect(pages).to_contain_text("Page 2")
    expect(results(page).locator("tbody tr")).to_have_count(4)
    expect(pages.get_by_role("link", name="Next")).to_have_count(0)
    pages.get_by_role("link", name="Previous").click()
    expect(results(page).locator("tbody tr")).to_have_count(50)


# ---- 4. Identity documents stay hidden until asked for, and the view is recorded


def test_the_passport_is_hidden_until_shown_in_place_and_the_view_is_recorded(
        page, url_for, signed_in, english, person_by, app):
    officer = signed_in("officer")
    person_id = person_by(officer, passport_number="C1234567")
    english(page)
    page.goto(url_for("people.show", person_id=person_id))
    expect(page.get_by_role("heading", level=1)).to_have_text("Nguyễn Thị Hương")
    assert "C1234567" not in page.content()

    page.get_by_role("button", name="Show (the view is recorded)").click()

    expect(page.locator("#identity")).to_contain_text("Passport: C1234567")
    expect(page.get_by_role("button", name="Show (the view is recorded)")).to_have_count(0)
    assert page.url == url_for("people.show", person_id=person_id)
    with app.app_context():
        viewed = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.action == "person.identity_viewed")).all()
        assert [event.object_id for event in viewed] == [str(person_id)]


# ---- 5. A district official's entries wait for review; other areas stay out of sight


def test_district_official_submits_a_person_for_review_and_sees_only_their_area(
        page, url_for, signed_in, english, staff_user, person_by):
    officer = staff_user("officer")
    person_by(officer, full_name="Lê Văn Nam")  # Bỉm Sơn
    far_away = person_by(officer, full_name="Hà Thị Xuân", hometown="Xã Mường Lát",
                         hometown_code=MUONG_LAT)
    signed_in("district", areas=[commune_area(BIM_SON)])
    english(page)

    open_new_person_form(page)
    expect(page.locator("main")).to_contain_text(
        "Your entry is sent to the Department of Foreign Affairs for review")
    expect(page.get_by_label("Record status")).to_have_count(0)
    page.get_by_label("Full name").fill("Phạm Văn Đức")
    choose_hometown(page, "Bim Son", "Phường Bỉm Sơn")
    page.get_by_label("Country of residence").select_option(label="Japan")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/people/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Phạm Văn Đức")
    expect(page.locator("main")).to_contain_text("Submitted, awaiting review")
    expect(page.locator("main")).to_contain_text("submitted by a district or commune official")

    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_label("Status").select_option(label="Any status")
    expect(results(page).get_by_role("link")).to_have_text(["Lê Văn Nam", "Phạm Văn Đức"])
    page.get_by_label("Name, phone, e-mail or passport").press_sequentially("Ha Thi Xuan")
    expect(results(page)).to_contain_text("No one matches this search.")
    # Nor does the address of the record open it.
    response = page.request.get(url_for("people.show", person_id=far_away))
    assert response.status == 404
    assert "Hà Thị Xuân" not in response.text()


# ---- 6. The police verify an identity but do not edit the record


def test_police_officer_adds_a_verification_note_and_the_record_shows_verified(
        page, url_for, signed_in, english, staff_user, person_by):
    person_by(staff_user("officer"))
    signed_in("police")
    english(page)
    page.get_by_role("link", name="People", exact=True).click()
    results(page).get_by_role("link", name="Nguyễn Thị Hương").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Nguyễn Thị Hương")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_text("Verified by the police")).to_have_count(0)
    page.get_by_label("Verification note").fill("Passport checked at the provincial office.")
    page.get_by_label("Identity verified").check()
    page.get_by_role("button", name="Add note").click()

    expect(page.get_by_role("alert")).to_contain_text("The note was added.")
    expect(page.get_by_text("Verified by the police", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Passport checked at the provincial office.")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)


# ---- 8. The same flow in Vietnamese, the default language


RECORD_PAGE_TEXTS = ("Edit", "History", "Identity", "Life abroad", "Contact",
                     "Date of birth", "Hometown", "Country", "Phones", "Consents",
                     "Keeping the record", "Active", "Sign out", "The person was saved.")
FORM_TEXTS = ("New person", "Full name", "Date of birth", "Add a phone", "Save")


def vietnamese(app, texts) -> dict:
    with app.test_request_context(), force_locale("vi"):
        return {text: gettext(text) for text in texts}


def test_the_record_page_is_in_vietnamese_by_default(page, url_for, signed_in, app):
    signed_in("officer")
    page.goto(url_for("people.create"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("button", name="English", exact=True)).to_be_visible()
    form_texts = vietnamese(app, FORM_TEXTS)
    for text in form_texts.values():
        expect(page.locator("main")).to_contain_text(text)

    page.fill("#full_name", "Nguyễn Thị Hương")
    page.fill("#date_of_birth", "12/05/1991")
    page.locator("#hometown").press_sequentially("Bim Son")
    page.get_by_role("option", name="Phường Bỉm Sơn").wait_for()
    page.locator("#hometown").press("ArrowDown")
    page.locator("#hometown").press("Enter")
    page.select_option("#country", "JP")
    page.fill("#phones-0", "090-1234-5678")
    page.check("#consent_record")
    page.select_option("#consent_channel", "paper")
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/people/\d+$"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    main = page.locator("main")
    expect(main).to_contain_text("Nhật Bản")  # the country in Vietnamese
    expect(main).to_contain_text("Phường Bỉm Sơn")
    expect(main).to_contain_text("+81 90-1234-5678")
    page_texts = vietnamese(app, RECORD_PAGE_TEXTS)
    for text in page_texts.values():
        expect(page.locator("body")).to_contain_text(text)
    untranslated = sorted(text for text, shown in {**form_texts, **page_texts}.items()
                          if shown == text)
    assert untranslated == [], "shown in English on the Vietnamese pages"

