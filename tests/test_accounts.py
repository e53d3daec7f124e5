"""Staff accounts: passwords, signing in, two-factor codes, sessions, administration."""
import re
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from registry.accounts import access, operations, passwords
from registry.accounts.models import AREA_COMMUNE, AREA_FORMER_DISTRICT, LoginFailure, User
from registry.audit.models import AuditEvent
from registry.core.errors import BadInput
from registry.core.time import utcnow
from registry.extensions import db
from registry.places.models import FormerDistrict, Unit
from tests.conftest import TEST_PASSWORD


@pytest.fixture(autouse=True)
def english(client):
    """Read the pages in English, the language of the messages asserted below."""
    with client.session_transaction() as session:
        session["lang"] = "en"

GENERIC = "The e-mail address or password is not correct."
THROTTLED = "Too many failed sign-in attempts"


def sign_in(client, email, password=TEST_PASSWORD, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password})


def stored_user(app, user_id) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def actions(app, prefix="") -> list[str]:
    with app.app_context():
        query = select(AuditEvent.action).order_by(AuditEvent.id)
        return [action for action in db.session.scalars(query) if action.startswith(prefix)]


def add_failures(app, count, email="someone@example.test", address="127.0.0.1", age=None):
    with app.app_context():
        when = utcnow() - (age or timedelta(0))
        for _ in range(count):
            db.session.add(LoginFailure(email=email, address=address, failed_at=when))
        db.session.commit()


def first_codes(app) -> tuple[str, str]:
    with app.app_context():
        unit = db.session.scalars(select(Unit.code).order_by(Unit.code)).first()
        district = db.session.scalars(select(FormerDistrict.code)
                                      .order_by(FormerDistrict.code)).first()
        return unit, district


def markers_of(app, user) -> dict:
    with app.test_request_context():
        return operations.session_markers(user)


def set_session(client, **values):
    with client.session_transaction() as session:
        session.update(values)


def with_totp(make_user, role="officer", **fields):
    secret = pyotp.random_base32()
    return make_user(role, totp_secret=secret, is_totp_confirmed=True, **fields), secret


# Passwords


def test_password_hash_is_argon2id(app_ctx):
    hashed = passwords.hash_password(TEST_PASSWORD)

    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, TEST_PASSWORD)
    assert not passwords.verify(hashed, TEST_PASSWORD + "!")
    assert not passwords.verify(None, TEST_PASSWORD)


@pytest.mark.parametrize("password", [
    "short",
    "elevenchars",
    "password1234",
    "PassWord1234",
    "matkhau12345",
    "anhyeuem1234",
    "123456789abc",
    "1q2w3e4r5t6y",
    "x" * 300,
    "my-nguyen.van.an-secret",
    "long phrase with vanan inside",
])
def test_password_policy_refuses_weak_passwords(app_ctx, password):
    assert passwords.problem(password, "nguyen.vanan@thanhhoa.gov.vn") is not None


def test_password_policy_accepts_a_long_passphrase(app_ctx):
    assert passwords.problem("tram bong sen mua thu", "nguyen.vanan@thanhhoa.gov.vn") is None


def test_common_password_list_has_thousands_of_entries():
    common = passwords.common_passwords()

    assert len(common) > 3000
    assert all(entry == entry.lower() for entry in common)


def test_old_hash_parameters_are_upgraded_at_sign_in(app, client, make_user):
    user = make_user("viewer")
    with app.app_context():
        stored = db.session.get(User, user.id)
        stored.password_hash = PasswordHasher(time_cost=2, memory_cost=256,
                                              parallelism=1).hash(TEST_PASSWORD)
        db.session.commit()

    sign_in(client, user.email)

    with app.app_context():
        assert not passwords.needs_rehash(db.session.get(User, user.id).password_hash)


# Signing in


def test_viewer_signs_in_with_correct_password(app, client, make_user):
    user = make_user("viewer")

    response = sign_in(client, user.email.upper())

    assert response.status_code == 302
    assert response.location == "/"
    assert client.get("/account").status_code == 200
    assert actions(app, "login.") == ["login.success"]
    assert stored_user(app, user.id).last_login_at is not None


def test_unknown_email_and_wrong_password_get_the_same_message(app, client, make_user):
    user = make_user("viewer")

    wrong_password = sign_in(client, user.email, "not the right password")
    unknown_email = sign_in(client, "nobody@example.test")

    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert GENERIC in response.get_data(as_text=True)
    assert actions(app, "login.") == ["login.failed", "login.failed"]
    with app.app_context():
        events = db.session.scalars(select(AuditEvent)).all()
        assert {event.details["email"] for event in events} == {
            user.email, "nobody@example.test"}
        assert db.session.query(LoginFailure).count() == 2


def test_account_is_throttled_even_with_the_correct_password(app, client, make_user):
    user = make_user("viewer")
    add_failures(app, 10, email=user.email, address="203.0.113.9")

    response = sign_in(client, user.email)

    assert response.status_code == 429
    assert THROTTLED in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    assert actions(app, "login.") == ["login.throttled"]


def test_failures_older_than_the_window_do_not_count(app, client, make_user):
    user = make_user("viewer")
    add_failures(app, 10, email=user.email, age=timedelta(minutes=16))

    assert sign_in(client, user.email).status_code == 302
    assert actions(app, "login.") == ["login.success"]


def test_address_is_throttled_after_thirty_failures(app, client, make_user):
    user = make_user("viewer")
    add_failures(app, 30, email="guess@example.test", address="127.0.0.1")

    response = sign_in(client, user.email)

    assert response.status_code == 429
    assert THROTTLED in response.get_data(as_text=True)


def test_tenth_failure_throttles_the_next_attempt(app, client, make_user):
    user = make_user("viewer")
    add_failures(app, 9, email=user.email, address="198.51.100.1")

    assert sign_in(client, user.email, "wrong password here").status_code == 200
    assert sign_in(client, user.email).status_code == 429


def test_deactivated_account_cannot_sign_in(app, client, make_user):
    user = make_user("viewer", is_active_account=False)

    response = sign_in(client, user.email)

    assert GENERIC in response.get_data(as_text=True)


@pytest.mark.parametrize("next_url, expected", [
    ("/account", "/account"),
    ("//evil.example/", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
])
def test_sign_in_returns_only_to_pages_of_this_site(client, make_user, next_url, expected):
    user = make_user("viewer")

    response = sign_in(client, user.email, next_url=next_url)

    assert response.location == expected


def test_anonymous_visitor_is_sent_to_sign_in_with_next(client):
    response = client.get("/account")

    assert response.status_code == 302
    assert response.location == "/login?next=/account"


def test_login_page_renders(client):
    response = client.get("/login")

    assert response.status_code == 200
    assert 'name="password"' in response.get_data(as_text=True)


# Two-factor sign-in


def test_officer_without_two_factor_must_enrol_before_anything_else(app, client, make_user):
    user = make_user("officer")

    response = sign_in(client, user.email, next_url="/account")

    assert response.location == "/account/two-factor"
    assert client.get("/").location == "/account/two-factor"
    assert client.get("/account").location == "/account/two-factor"
    page = client.get("/account/two-factor").get_data(as_text=True)
    with client.session_transaction() as session:
        secret = session[operations.SESSION_PENDING_SECRET]
    assert "otpauth://totp/" in page

    response = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})

    assert response.location == "/account"
    assert client.get("/account").status_code == 200
    stored = stored_user(app, user.id)
    assert stored.is_totp_confirmed and stored.totp_secret == secret


def test_enrolment_refuses_a_wrong_code(client, make_user):
    user = make_user("officer")
    sign_in(client, user.email)

    response = client.post("/account/two-factor", data={"code": "000000"})

    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True)
    assert client.get("/").location == "/account/two-factor"


def test_officer_with_two_factor_enters_a_code_after_the_password(app, client, make_user):
    user, secret = with_totp(make_user)

    assert sign_in(client, user.email).location == "/login/code"
    assert client.get("/account").location == "/login/code"
    wrong = client.post("/login/code", data={"code": "12345x"})
    assert wrong.status_code == 200

    response = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})

    assert response.location == "/"
    assert client.get("/account").status_code == 200
    assert actions(app, "login.") == ["login.success"]


def test_a_code_works_only_once(app, client, make_user):
    user, secret = with_totp(make_user)
    code = pyotp.TOTP(secret).now()
    sign_in(client, user.email)
    assert client.post("/login/code", data={"code": code}).location == "/"
    client.post("/logout")

    sign_in(client, user.email)
    response = client.post("/login/code", data={"code": code})

    assert response.status_code == 200
    assert "already been used" in response.get_data(as_text=True)
    assert actions(app, "login.failed") == ["login.failed"]


def test_wrong_codes_count_towards_throttling(app, client, make_user):
    user, secret = with_totp(make_user)
    add_failures(app, 10, email=user.email, address="203.0.113.9")
    half_done = {operations.SESSION_COMPLETE: False, operations.SESSION_CODE_OK: False}
    set_session(client, **{**markers_of(app, user), **half_done})

    response = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 429


def test_viewer_may_turn_two_factor_on_and_off(app, client, make_user, login_as):
    user = make_user("viewer")
    login_as(user)
    client.get("/account/two-factor")
    with client.session_transaction() as session:
        secret = session[operations.SESSION_PENDING_SECRET]
    client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert stored_user(app, user.id).is_totp_confirmed

    later = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    response = client.post("/account/two-factor/disable", data={"code": later})

    assert response.location == "/account"
    assert not stored_user(app, user.id).is_totp_confirmed
    assert actions(app, "user.totp") == ["user.totp_enable", "user.totp_disable"]


def test_officer_cannot_turn_two_factor_off(app, client, make_user, login_as):
    user, secret = with_totp(make_user)
    login_as(user)

    response = client.post("/account/two-factor/disable",
                           data={"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 200
    assert stored_user(app, user.id).is_totp_confirmed


# One-time passwords and changing the password


def test_one_time_password_must_be_changed_first(app, client):
    with app.app_context():
        user, one_time = operations.create_user("new.staff@example.test", "viewer",
                                                "New Staff", [])
        db.session.commit()
        user_id = user.id

    assert sign_in(client, "new.staff@example.test", one_time).location == "/account/password"
    assert client.get("/").location == "/account/password"
    response = client.post("/account/password", data={
        "current_password": one_time, "new_password": TEST_PASSWORD,
        "confirm": TEST_PASSWORD})

    assert response.location == "/"
    assert client.get("/account").status_code == 200
    assert not stored_user(app, user_id).must_change_password
    client.post("/logout")
    assert GENERIC in sign_in(client, "new.staff@example.test", one_time).get_data(as_text=True)


def test_new_password_must_meet_the_policy(client, make_user, login_as):
    user = make_user("viewer")
    login_as(user)

    response = client.post("/account/password", data={
        "current_password": TEST_PASSWORD, "new_password": "password1234",
        "confirm": "password1234"})

    assert response.status_code == 200
    assert "too common" in response.get_data(as_text=True)


def test_changing_the_password_ends_other_sessions(app, make_user, login_as):
    user = make_user("viewer")
    other = app.test_client()
    set_session(other, **markers_of(app, user))
    this = login_as(user)

    response = this.post("/account/password", data={
        "current_password": TEST_PASSWORD, "new_password": "another long passphrase",
        "confirm": "another long passphrase"})

    assert response.location == "/account"
    assert this.get("/account").status_code == 200
    assert other.get("/account").location.startswith("/login")


def test_stale_session_token_is_refused(app, make_user):
    user = make_user("viewer")
    client = app.test_client()
    set_session(client, **{**markers_of(app, user), "_user_id": f"{user.id}:not-the-token"})

    assert client.get("/account").location.startswith("/login")
    with client.session_transaction() as session:
        assert "_user_id" not in session


# Session lifetime


def test_active_session_continues(client, make_user, login_as):
    login_as(make_user("viewer"))

    assert client.get("/account").status_code == 200


def test_session_ends_after_thirty_idle_minutes(client, make_user, login_as):
    login_as(make_user("viewer"))
    idle_since = int((utcnow() - timedelta(minutes=31)).timestamp())
    set_session(client, **{operations.SESSION_SEEN_AT: idle_since})

    response = client.get("/account")

    assert response.location == "/login?next=/account"
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_session_ends_twelve_hours_after_sign_in(client, make_user, login_as):
    login_as(make_user("viewer"))
    long_ago = int((utcnow() - timedelta(hours=12, minutes=1)).timestamp())
    set_session(client, **{operations.SESSION_LOGIN_AT: long_ago})

    assert client.get("/account").location.startswith("/login")


def test_logout_is_post_only_and_ends_the_session(app, client, make_user, login_as):
    login_as(make_user("viewer"))

    assert client.get("/logout").status_code == 405
    assert client.post("/logout").location == "/login"
    assert client.get("/account").location.startswith("/login")
    assert actions(app, "logout") == ["logout"]


def test_copied_cookie_does_not_work_after_logout(app, make_user):
    user = make_user("viewer")
    client, copy = app.test_client(), app.test_client()
    markers = markers_of(app, user)
    set_session(client, **markers)
    set_session(copy, **markers)

    client.post("/logout")

    assert copy.get("/account").location.startswith("/login")


# Administration


STAFF_PAGES = ["/staff/", "/staff/new"]


@pytest.mark.parametrize("role, status", [
    ("admin", 200), ("officer", 403), ("police", 403), ("district", 403), ("viewer", 403),
])
@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_need_the_manage_capability(app, client, make_user, login_as,
                                                role, status, url):
    login_as(make_user(role))

    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_send_anonymous_visitors_to_sign_in(client, url):
    assert client.get(url).location.startswith("/login?next=")


def test_refused_access_is_audited(app, client, make_user, login_as):
    login_as(make_user("viewer"))

    client.get("/staff/")

    assert actions(app, "access.") == ["access.refused"]


def test_admin_creates_a_district_official_with_areas(app, client, make_user, login_as):
    login_as(make_user("admin"))
    unit, district = first_codes(app)

    response = client.post("/staff/new", data={
        "email": "Can.Bo@ThanhHoa.gov.vn", "full_name": "Lê Văn Cán Bộ",
        "role": "district", "communes": [unit], "former_districts": [district]})

    assert response.status_code == 200
    with app.app_context():
        created = operations.find_user("can.bo@thanhhoa.gov.vn")
        areas = {(area.kind, area.code) for area in created.areas}
        assert areas == {(AREA_COMMUNE, unit), (AREA_FORMER_DISTRICT, district)}
        assert created.must_change_password
        created_events = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_id == str(created.id))).all()
        assert created_events == ["user.create"]
    assert "one-time password" in response.get_data(as_text=True).lower()


def test_district_official_needs_an_area(app, client, make_user, login_as):
    login_as(make_user("admin"))

    response = client.post("/staff/new", data={
        "email": "cb@thanhhoa.gov.vn", "full_name": "Cán Bộ", "role": "district"})

    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True)
    with app.app_context():
        assert operations.find_user("cb@thanhhoa.gov.vn") is None


def test_only_district_officials_get_areas(app, make_user):
    unit, _district = first_codes(app)
    with app.app_context(), pytest.raises(BadInput):
        operations.create_user("x@example.test", "officer", "X", [(AREA_COMMUNE, unit)])


def test_admin_changes_role_and_areas(app, client, make_user, login_as):
    login_as(make_user("admin"))
    unit, district = first_codes(app)
    user = make_user("district", areas=[(AREA_COMMUNE, unit)])

    assert client.get(f"/staff/{user.id}").status_code == 200
    response = client.post(f"/staff/{user.id}", data={
        "full_name": "Renamed", "role": "district", "former_districts": [district]})

    assert response.location == "/staff/"
    with app.app_context():
        stored = db.session.get(User, user.id)
        assert [(a.kind, a.code) for a in stored.areas] == [(AREA_FORMER_DISTRICT, district)]
        assert stored.full_name == "Renamed"


def test_unknown_account_is_not_found(client, make_user, login_as):
    login_as(make_user("admin"))

    assert client.get("/staff/99999").status_code == 404


def test_admin_cannot_deactivate_themselves(client, make_user, login_as):
    admin = make_user("admin")
    login_as(admin)

    assert client.post(f"/staff/{admin.id}/deactivate").status_code == 400


def test_deactivation_ends_the_sessions_of_the_account(app, client, make_user, login_as):
    login_as(make_user("admin"))
    user = make_user("viewer")
    their = app.test_client()
    set_session(their, **markers_of(app, user))

    client.post(f"/staff/{user.id}/deactivate")

    assert their.get("/account").location.startswith("/login")
    assert not stored_user(app, user.id).is_active_account


def test_password_reset_shows_a_one_time_password_that_works(app, client, make_user,
                                                             login_as):
    login_as(make_user("admin"))
    user = make_user("viewer")

    page = client.post(f"/staff/{user.id}/reset-password").get_data(as_text=True)

    one_time = re.search(r"\b[a-z2-9]{4}(?:-[a-z2-9]{4}){3}\b", page).group()
    with app.app_context():
        assert passwords.verify(db.session.get(User, user.id).password_hash, one_time)
    assert stored_user(app, user.id).must_change_password


def test_two_factor_reset_makes_the_officer_enrol_again(app, client, make_user, login_as):
    login_as(make_user("admin"))
    user, _secret = with_totp(make_user)

    client.post(f"/staff/{user.id}/reset-two-factor")

    stored = stored_user(app, user.id)
    assert stored.totp_secret is None and not stored.is_totp_confirmed
    fresh = app.test_client()
    assert sign_in(fresh, user.email).location == "/account/two-factor"


def test_account_page_and_language(app, client, make_user, login_as):
    user = make_user("viewer")
    login_as(user)

    assert client.get("/account").status_code == 200
    response = client.post("/account/language", data={"preferred_lang": "en"})

    assert response.location == "/account"
    assert stored_user(app, user.id).preferred_lang == "en"


# Scope of district officials


def test_scope_units(app, make_user):
    unit, district = first_codes(app)
    official = make_user("district", areas=[(AREA_COMMUNE, unit),
                                            (AREA_FORMER_DISTRICT, district)])
    admin, viewer = make_user("admin"), make_user("viewer")
    with app.app_context():
        from registry.places import operations as places

        expected = {unit} | places.units_in_former_district(district)
        assert len(expected) > 1
        assert access.scope_units(db.session.get(User, official.id)) == expected
        assert access.scope_units(db.session.get(User, admin.id)) is None
        assert access.scope_units(db.session.get(User, viewer.id)) == set()


# Command line


def test_cli_creates_a_district_official_with_detected_areas(app):
    unit, district = first_codes(app)

    result = app.test_cli_runner().invoke(args=[
        "registry", "create-user", "xa@thanhhoa.gov.vn", "--role", "district",
        "--area", unit, "--area", district, "--name", "Cán bộ xã"])

    assert result.exit_code == 0, result.output
    assert "One-time password:" in result.output
    with app.app_context():
        user = operations.find_user("xa@thanhhoa.gov.vn")
        assert {(a.kind, a.code) for a in user.areas} == {
            (AREA_COMMUNE, unit), (AREA_FORMER_DISTRICT, district)}


def test_cli_refuses_an_unknown_area(app):
    result = app.test_cli_runner().invoke(args=[
        "registry", "create-user", "xa@thanhhoa.gov.vn", "--role", "district",
        "--area", "NOPE"])

    assert result.exit_code != 0
    assert "NOPE" in result.output


def test_cli_officer_gets_an_enrolment_uri_confirmed_at_first_sign_in(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["registry", "create-user", "cb@thanhhoa.gov.vn",
                                 "--role", "officer"])
    assert result.exit_code == 0, result.output
    one_time = result.output.split("One-time password: ")[1].split()[0]
    assert "otpauth://totp/" in result.output

    sign_in(client, "cb@thanhhoa.gov.vn", one_time)
    client.post("/account/password", data={
        "current_password": one_time, "new_password": TEST_PASSWORD,
        "confirm": TEST_PASSWORD})
    assert client.get("/").location == "/account/two-factor"
    code = runner.invoke(args=["registry", "totp-code", "cb@thanhhoa.gov.vn"]).output.strip()

    assert client.post("/account/two-factor", data={"code": code}).location == "/"
    assert client.get("/account").status_code == 200


def test_cli_totp_code_is_refused_without_development_tools(app, make_user):
    user, secret = with_totp(make_user)
    runner = app.test_cli_runner()
    app.config["DEVELOPMENT_TOOLS"] = False
    try:
        refused = runner.invoke(args=["registry", "totp-code", user.email])
    finally:
        app.config["DEVELOPMENT_TOOLS"] = True

    allowed = runner.invoke(args=["registry", "totp-code", user.email])

    assert refused.exit_code != 0
    assert allowed.exit_code == 0
    assert allowed.output.strip() == pyotp.TOTP(secret).now()
