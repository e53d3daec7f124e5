"""Staff accounts as people click through them: created by an administrator, first
sign-in with a one-time password, two-factor enrolment, signing out.

The administrator and the new member of staff sit at different computers: each has a
browser context of its own.
"""
import re

import pyotp
import pytest
from playwright.sync_api import expect

from registry.accounts.models import User
from registry.extensions import db
from tests.factories import create_person

pytestmark = pytest.mark.browser

ONE_TIME_PASSWORD = re.compile(r"\b[a-z2-9]{4}(?:-[a-z2-9]{4}){3}\b")
OWN_PASSWORD = "lantern orchard pebble sunrise"


def create_account(page, email: str, name: str, role: str, commune: str | None = None) -> str:
    """Fill the staff form as an administrator; return the one-time password shown."""
    page.get_by_role("link", name="Staff", exact=True).click()
    page.get_by_role("link", name="New account").click()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Role").select_option(label=role)
    if commune:
        page.get_by_label("Communes and wards").select_option(label=commune)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Account created")
    shown = ONE_TIME_PASSWORD.findall(page.locator("main").inner_text())
    assert len(shown) == 1, f"expected the one-time password once, saw {shown}"
    return shown[0]


def first_sign_in(page, url_for, english, email: str, one_time: str) -> None:
    """Sign in with a one-time password and choose an own password, as required."""
    page.goto(url_for("accounts.login"))
    english(page)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(one_time)
    page.get_by_label("Password").press("Enter")
    expect(page).to_have_url(url_for("accounts.change_password"))
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the choice is kept
    expect(page.get_by_role("alert")).to_contain_text(
        "You signed in with a one-time password. Choose your own password to continue.")

    # Nothing else opens until the password is changed.
    page.goto(url_for("people.index"))
    expect(page).to_have_url(url_for("accounts.change_password"))

    page.get_by_label("Current password").fill(one_time)
    page.get_by_label("New password", exact=True).fill(OWN_PASSWORD)
    page.get_by_label("New password again").fill(OWN_PASSWORD)
    page.get_by_role("button", name="Change password").click()


def test_admin_creates_a_district_account_whose_owner_signs_in_and_changes_the_password(
        page, new_page, url_for, signed_in, english):
    signed_in("admin")
    english(page)

    one_time = create_account(page, "district.bimson@example.test", "Đỗ Thị Thu",
                              "District or commune official", "Phường Bỉm Sơn")

    page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("district.bimson@example.test")
    assert one_time not in page.content(), "the one-time password was shown again"
    page.get_by_role("link", name="Staff", exact=True).click()
    row = page.get_by_role("row").filter(has_text="district.bimson@example.test")
    expect(row.get_by_role("cell")).to_have_text(
        ["district.bimson@example.test", "Đỗ Thị Thu", "District or commune official",
         "Phường Bỉm Sơn", "off", ""])

    newcomer = new_page()
    first_sign_in(newcomer, url_for, english, "district.bimson@example.test", one_time)

    expect(newcomer).to_have_url(url_for("core.home"))
    expect(newcomer.get_by_role("alert")).to_contain_text("Your password has been changed.")
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Welcome, Đỗ Thị Thu")
    expect(newcomer.get_by_role("link", name="People", exact=True)).to_be_visible()


def test_a_new_officer_changes_the_password_and_enrols_two_factor_before_reaching_home(
        page, new_page, url_for, signed_in, english):
    signed_in("admin")
    english(page)
    one_time = create_account(page, "officer.new@example.test", "Lê Minh Tâm",
                              "Foreign affairs officer")
    expect(page.locator("main")).to_contain_text("This role must use two-factor sign-in")

    newcomer = new_page()
    first_sign_in(newcomer, url_for, english, "officer.new@example.test", one_time)

    expect(newcomer).to_have_url(url_for("accounts.two_factor_setup"))
    expect(newcomer.get_by_role("alert").filter(
        has_text="Your role gives access to personal data of the whole province")).to_contain_text(
        "must use two-factor sign-in")
    newcomer.goto(url_for("people.index"))  # still held at this step
    expect(newcomer).to_have_url(url_for("accounts.two_factor_setup"))
    secret = "".join(newcomer.get_by_label("Secret key").input_value().split())
    newcomer.get_by_label("Six-digit code").fill(pyotp.TOTP(secret).now())
    newcomer.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(newcomer).to_have_url(url_for("core.home"))
    expect(newcomer.get_by_role("alert")).to_contain_text("Two-factor sign-in is now on.")
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Welcome, Lê Minh Tâm")


def test_signing_out_ends_the_session_and_back_shows_no_personal_data(
        page, url_for, signed_in, english, app):
    officer = signed_in("officer")
    with app.app_context():
        person_id = create_person(db.session.get(User, officer.id)).id
    english(page)
    response = page.goto(url_for("people.show", person_id=person_id))
    assert response.headers.get("cache-control") == "no-store"
    expect(page.get_by_role("heading", level=1)).to_have_text("Nguyễn Thị Hương")
    # Signing out is a form that posts; a link someone else's page follows does not.
    assert page.request.get(url_for("accounts.logout"), max_redirects=0).status == 405

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(url_for("accounts.login"))
    expect(page.get_by_role("alert")).to_contain_text("You have signed out.")
    page.go_back()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(re.escape(url_for("accounts.login"))))
    assert "Nguyễn Thị Hương" not in page.content()
    expect(page.get_by_label("Password")).to_be_visible()
    page.goto(url_for("people.show", person_id=person_id))
    expect(page).to_have_url(re.compile(re.escape(url_for("accounts.login"))))
    assert "Nguyễn Thị Hương" not in page.content()
