"""Security behaviour around the pages: headers, cookies, settings, errors, redirects.

Some tests need an application other than the session's: production settings, CSRF
turned on, or routes that fail on purpose (routes can only be added before an app's
first request). Each such app has its own SQLite file. They keep the rate limiter
off: Flask-Limiter's `init_app` sets `enabled` on the one shared Limiter object,
so turning it on here would turn it on for the session's app too.
"""
import html
import itertools
import logging
import os
import re

import pytest
from babel.support import Translations
from flask import abort
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from config import Config
from registry import ROOT, create_app
from registry.accounts import operations as accounts
from registry.accounts.models import LoginFailure
from registry.audit import operations as audit
from registry.audit.models import AuditEvent, AuditIsAppendOnly
from registry.core.time import utcnow
from registry.extensions import db
from registry.people.models import Person
from tests.conftest import TEST_PASSWORD
from tests.factories import create_person, person_form

TRANSLATIONS = os.path.join(ROOT, "translations")
VI_CATALOG = os.path.join(TRANSLATIONS, "vi", "LC_MESSAGES", "messages")
ERROR_TITLES = {
    403: "You do not have access to this page",
    404: "Page not found",
    429: "Too many requests",
    500: "Something went wrong on our side",
}
ERROR_URLS = {403: "/test/refused", 404: "/no-such-page", 429: "/test/too-many",
              500: "/test/boom"}
ROLLBACK_MARK = "rolled-back@example.test"
_emails = itertools.count(1)


def build_app(folder, **settings):
    """Return a testing app on its own SQLite file in folder, schema built."""
    app = create_app({
        "REGISTRY_ENV": "testing", "TESTING": True, "SERVER_NAME": None,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/registry.sqlite",
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, **settings,
    })
    with app.app_context():
        from registry.core import schema

        schema.reset()
        schema.load_reference_data()
        db.session.commit()
    return app


def production_settings(folder) -> dict:
    """Return the production settings, with only what a test machine must change."""
    settings = {key: getattr(Config, key) for key in dir(Config) if key.isupper()}
    settings.update({
        "ENV_NAME": "production", "SECRET_KEY": "a-long-production-like-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/production.sqlite",
        "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
    })
    return settings


def _fail_after_writing():
    db.session.add(LoginFailure(email=ROLLBACK_MARK, address="test", failed_at=utcnow()))
    db.session.flush()
    raise RuntimeError("a bug in a view")


@pytest.fixture(scope="module")
def failing_app(tmp_path_factory):
    """Return an app with routes that refuse, throttle and crash on purpose."""
    app = build_app(tmp_path_factory.mktemp("failing"))
    app.add_url_rule("/test/refused", "test_refused", lambda: abort(403))
    app.add_url_rule("/test/too-many", "test_too_many", lambda: abort(429))
    app.add_url_rule("/test/boom", "test_boom", _fail_after_writing)
    return app


@pytest.fixture(scope="module")
def csrf_app(tmp_path_factory):
    """Return an app that checks CSRF tokens, as production does."""
    return build_app(tmp_path_factory.mktemp("csrf"), WTF_CSRF_ENABLED=True)


def csrf_token(page: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def sign_in_on(app, client, role="officer"):
    """Create an account on app and sign client in with it, every step done."""
    with app.app_context():
        user, _ = accounts.create_user(f"{role}{next(_emails)}@example.test", role,
                                       f"Test {role}", [], password=TEST_PASSWORD)
        db.session.commit()
        with app.test_request_context():
            markers = accounts.session_markers(user)
    with client.session_transaction() as session:
        session.update(markers)


def vietnamese(msgid: str) -> str:
    """Return the compiled Vietnamese of msgid; skip while the catalog is not compiled."""
    compiled, catalog = VI_CATALOG + ".mo", VI_CATALOG + ".po"
    if not os.path.exists(compiled):
        pytest.skip("translations/vi/LC_MESSAGES/messages.mo is missing; "
                    "run scripts/i18n.sh compile")
    if os.path.exists(catalog) and os.path.getmtime(compiled) < os.path.getmtime(catalog):
        pytest.skip("translations/vi/LC_MESSAGES/messages.mo is older than messages.po; "
                    "run scripts/i18n.sh compile")
    return Translations.load(TRANSLATIONS, ["vi"]).gettext(msgid)


def policy(response) -> dict[str, list[str]]:
    """Return the Content-Security-Policy of response as {directive: values}."""
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# Headers


@pytest.mark.parametrize("url, signed_in", [
    ("/login", False), ("/", True), ("/people/", True), ("/no-such-page", True),
], ids=["sign-in page", "home page", "people list", "unknown address"])
def test_pages_carry_the_security_headers(client, make_user, login_as, url, signed_in):
    if signed_in:
        login_as(make_user("officer"))

    response = client.get(url)

    assert response.mimetype == "text/html"
    directives = policy(response)
    assert "'self'" in directives["script-src"]
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(directives["script-src"])
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "no-store" in response.headers["Cache-Control"]


def test_pages_have_no_inline_scripts_for_the_policy_to_block(client, make_user, login_as):
    login_as(make_user("officer"))

    page = client.get("/people/new").get_data(as_text=True)

    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", page) == []


# Cookies and settings


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "the response set no session cookie"
    return cookies[0]


def test_session_cookie_is_http_only_and_same_site_lax(client):
    cookie = session_cookie(client.post("/lang/en"))

    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_session_cookie_is_also_secure(tmp_path):
    app = create_app(production_settings(tmp_path))

    cookie = session_cookie(app.test_client().get("/login"))

    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in cookie.split(";")}


@pytest.mark.parametrize("secret", [None, ""])
def test_production_refuses_to_start_without_a_secret_key(tmp_path, secret):
    settings = {**production_settings(tmp_path), "SECRET_KEY": secret}

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(settings)


# Error pages


@pytest.mark.parametrize("code", sorted(ERROR_URLS))
def test_error_pages_are_in_vietnamese_by_default(failing_app, code):
    response = failing_app.test_client().get(ERROR_URLS[code])

    assert response.status_code == code
    page = text_of(response)
    assert '<html lang="vi"' in page
    translated = vietnamese(ERROR_TITLES[code])
    assert translated != ERROR_TITLES[code], "the vi catalog does not translate this title"
    assert translated in page
    assert ERROR_TITLES[code] not in page


@pytest.mark.parametrize("code", sorted(ERROR_URLS))
def test_error_pages_are_in_english_once_chosen(failing_app, code):
    client = failing_app.test_client()
    client.post("/lang/en")

    response = client.get(ERROR_URLS[code])

    assert response.status_code == code
    page = text_of(response)
    assert '<html lang="en"' in page
    assert ERROR_TITLES[code] in page


def test_unexpected_error_shows_the_error_page_and_keeps_nothing(failing_app, caplog):
    client = failing_app.test_client()
    client.post("/lang/en")

    response = client.get("/test/boom")

    assert response.status_code == 500
    page = text_of(response)
    assert ERROR_TITLES[500] in page and 'class="display-5' in page
    assert "a bug in a view" not in page and "Traceback" not in page
    assert any(record.levelno == logging.ERROR and record.exc_info
               for record in caplog.records), "the error was not logged with its traceback"
    with failing_app.app_context():
        kept = select(func.count()).where(LoginFailure.email == ROLLBACK_MARK)
        assert db.session.scalar(kept) == 0


def test_error_answers_api_callers_in_json(failing_app):
    response = failing_app.test_client().get("/test/refused",
                                             headers={"Accept": "application/json"})

    assert response.status_code == 403
    assert response.json["status"] == 403


# Redirects after signing in or switching language


EVIL_TARGETS = ["//evil.example", "https://evil.example", "/\\evil.example",
                "javascript:alert(1)", "/\t/evil.example", "\\\\evil.example",
                "http:evil.example"]


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_sign_in_refuses_to_send_the_user_to_another_site(client, make_user, target):
    user = make_user("viewer")

    response = client.post("/login", query_string={"next": target},
                           data={"email": user.email, "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert response.location == "/"


def test_sign_in_returns_to_a_page_of_this_site(client, make_user):
    user = make_user("viewer")

    response = client.post("/login", query_string={"next": "/account?tab=language"},
                           data={"email": user.email, "password": TEST_PASSWORD})

    assert response.location == "/account?tab=language"


@pytest.mark.parametrize("target", EVIL_TARGETS)
def test_language_switch_refuses_to_send_the_user_to_another_site(client, target):
    response = client.post("/lang/en", data={"next": target})

    assert response.location == "/"


# The audit trail


@pytest.fixture
def stored_event(app_ctx):
    event = audit.record("logout", object_type="user_account", object_id=1)
    db.session.commit()
    return event


def test_audit_event_cannot_be_changed(stored_event):
    stored_event.action = "login.success"

    with pytest.raises(AuditIsAppendOnly):
        db.session.commit()
    db.session.rollback()


def test_audit_event_cannot_be_deleted(stored_event):
    db.session.delete(stored_event)

    with pytest.raises(AuditIsAppendOnly):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    update(AuditEvent).values(action="login.success"),
    delete(AuditEvent),
], ids=["bulk update", "bulk delete"])
def test_audit_events_cannot_be_changed_by_a_bulk_statement(stored_event, statement):
    # Bulk statements through the session skip the mapper's before_update/delete
    # events; PostgreSQL's trigger refuses them, SQLite must be refused too.
    with pytest.raises((AuditIsAppendOnly, DBAPIError)):
        db.session.execute(statement)
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.action)) == "logout"


# CSRF


def test_csrf_protected_app_refuses_a_sign_in_without_token(csrf_app):
    client = csrf_app.test_client()

    response = client.post("/login", data={"email": "a@example.test", "password": "x"})

    assert response.status_code == 400


def test_csrf_protected_app_refuses_a_language_switch_without_token(csrf_app):
    assert csrf_app.test_client().post("/lang/en").status_code == 400


def test_csrf_protected_app_accepts_the_token_of_its_own_form(csrf_app):
    client = csrf_app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))

    response = client.post("/lang/en", data={"csrf_token": token})

    assert response.status_code == 302


def test_csrf_protected_app_saves_no_person_without_token(csrf_app):
    client = csrf_app.test_client()
    sign_in_on(csrf_app, client, "officer")

    refused = client.post("/people/new", data=person_form())
    token = csrf_token(client.get("/people/new").get_data(as_text=True))
    accepted = client.post("/people/new", data={**person_form(), "csrf_token": token})

    assert refused.status_code == 400
    assert accepted.status_code == 302
    with csrf_app.app_context():
        assert db.session.scalar(select(func.count(Person.id))) == 1


# Personal data stays out of logs and behind the audited identity view


PERSONAL_VALUES = ["Nguyễn Thị Hương", "Hương", "nguyen thi huong", "+819012345678",
                   "9012345678", "090-1234-5678", "huong.nguyen@example.com", "C1234567",
                   "Trần Văn Đức", "+819087654321", "duc.tran@example.com", "C7654321"]
CHANGED = {"full_name": "Trần Văn Đức", "phones-0": "090-8765-4321",
           "emails-0": "duc.tran@example.com", "passport_number": "C7654321"}


def test_logs_carry_no_personal_data(app, client, make_user, login_as, caplog):
    caplog.set_level(logging.INFO)
    login_as(make_user("officer"))

    created = client.post("/people/new", data=person_form())
    person_url = created.location
    edited = client.post(person_url + "/edit", data=person_form(**CHANGED))
    client.get(person_url + "/identity")
    for query in ("Trần Văn Đức", "090 8765 4321", "C7654321", "duc.tran@example.com"):
        client.get("/people/", query_string={"q": query})
    client.post("/lang/en")
    client.post(person_url + "/edit", data=person_form(**CHANGED, date_of_birth="31/02/1990"))

    assert (created.status_code, edited.status_code) == (302, 302)
    messages = [record.getMessage() for record in caplog.records]
    assert any("created by user" in message for message in messages), "nothing was logged"
    logged = "\n".join(messages) + caplog.text
    assert [value for value in PERSONAL_VALUES if value in logged] == []


@pytest.mark.parametrize("page", ["", "/history", "/edit"],
                         ids=["record", "history", "edit form"])
def test_identity_documents_are_shown_only_with_an_audit_row(app, client, make_user, login_as,
                                                             page):
    officer = make_user("officer")
    with app.app_context():
        person_url = f"/people/{create_person(officer).id}"
    login_as(officer)
    client.post(person_url + "/edit", data=person_form(passport_number="C7654321"))

    shown = client.get(person_url + page).get_data(as_text=True)

    with app.app_context():
        views = db.session.scalar(select(func.count()).where(
            AuditEvent.action == "person.identity_viewed", AuditEvent.actor_id == officer.id))
    if "C1234567" in shown or "C7654321" in shown:
        assert views, "the page showed a passport number without recording the view"


def test_apps_on_different_databases_do_not_share_connection_settings(tmp_path):
    from registry import create_app

    sqlite_app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI":
                             f"sqlite:///{tmp_path}/a.sqlite"})
    postgres_app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI":
                               "postgresql://postgres@127.0.0.1:5432/test"})

    assert "timeout" in sqlite_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert "timeout" not in postgres_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]


def test_an_id_too_large_for_the_database_is_not_found(client, make_user, login_as):
    login_as(make_user("officer"))

    response = client.get(f"/people/{2**63}")

    assert response.status_code == 404


def test_a_nul_byte_in_a_query_is_refused_plainly(client, make_user, login_as):
    login_as(make_user("officer"))

    response = client.get("/people/?q=Nguy%00en")

    assert response.status_code == 400
