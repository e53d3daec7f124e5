"""Browser fixtures: the app served on a local port, driven by Debian's Chromium.

Playwright cannot download its own browsers here, so the tests launch the
system `chromium`. Every page fails its test on a console error or a
Content-Security-Policy violation, so a missing asset or a blocked script is
a test failure, not a silent gap.
"""
import os
import shutil
import threading

import pyotp
import pytest
from werkzeug.serving import make_server

from config import TestingConfig
from registry import create_app
from registry.extensions import db

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TEST_PASSWORD = "correct horse battery staple"
# Reported by the page itself, for violations that reach no console message.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI);
});
"""


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """Return the app the browser talks to, CSRF on, replacing the shared app."""
    url = os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('browser-db')}/browser.sqlite"
    )
    settings = {key: getattr(TestingConfig, key) for key in dir(TestingConfig)
                if key.isupper()}
    settings.update({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": True,
                     "RATELIMIT_ENABLED": False, "SERVER_NAME": None})
    app = create_app(settings)
    with app.app_context():
        from registry.core import schema

        schema.reset(drop_first=True)
        schema.load_reference_data()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(app):
    """Serve app on 127.0.0.1 at a free port and yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def url_for(app, live_server):
    """Return a function that builds an absolute URL on the live server."""
    import flask

    def build(endpoint: str, **values) -> str:
        with app.test_request_context():
            return live_server + flask.url_for(endpoint, **values)

    return build


@pytest.fixture(scope="session")
def browser():
    """Launch the system Chromium once for the whole run."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_errors():
    """Return the list of console errors seen; a test may clear expected ones."""
    return []


@pytest.fixture
def page(browser, console_errors):
    """Open a page in a fresh context; fail on console errors and CSP violations."""
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(10_000)
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.on("console", lambda message: _record_console(message, console_errors))
    page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
    yield page
    context.close()
    assert not console_errors, "the browser reported errors:\n" + "\n".join(console_errors)


def _record_console(message, errors: list) -> None:
    location = message.location or {}
    if message.type == "error":
        errors.append(f"{message.text} ({location.get('url', '')})")


@pytest.fixture
def staff_user(app):
    """Return a factory for staff accounts that can sign in with a TOTP code."""
    from registry.accounts import operations

    def factory(role="officer", areas=(), email=None, full_name=None):
        email = email or f"{role}-{os.urandom(4).hex()}@example.test"
        with app.app_context():
            user, _ = operations.create_user(
                email, role=role, full_name=full_name or f"Test {role.title()}",
                areas=list(areas), password=TEST_PASSWORD,
            )
            # Ready to sign in: no forced password change, two-factor enrolled.
            user.must_change_password = False
            user.totp_secret = user.totp_secret or pyotp.random_base32()
            user.is_totp_confirmed = True
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return factory


def sign_in(page, url_for, user, password: str = TEST_PASSWORD) -> None:
    """Sign user in through the real login form, TOTP step included."""
    page.goto(url_for("accounts.login"))
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", password)
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", pyotp.TOTP(user.totp_secret).now())
    page.press("input[name=code]", "Enter")
    page.wait_for_load_state()
    assert page.locator("input[name=code]").count() == 0, "the TOTP code was refused"


@pytest.fixture
def signed_in(page, url_for, staff_user):
    """Return a function that creates a user of a role and signs the page in."""

    def as_role(role="officer", **fields):
        user = staff_user(role=role, **fields)
        sign_in(page, url_for, user)
        return user

    return as_role


@pytest.fixture
def new_page(browser, console_errors):
    """Return a function that opens a page in another fresh context (a second person
    at another computer), checked for console errors and CSP violations like page."""
    contexts = []

    def open_page():
        context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
        context.set_default_timeout(10_000)
        context.add_init_script(CSP_LISTENER)
        contexts.append(context)
        other = context.new_page()
        other.on("console", lambda message: _record_console(message, console_errors))
        other.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
        return other

    yield open_page
    for context in contexts:
        context.close()


def switch_to_english(page) -> None:
    """Press the navbar's language button and wait for the English page."""
    if page.locator("html[lang=en]").count():
        return
    page.get_by_role("button", name="English", exact=True).click()
    page.wait_for_selector("html[lang=en]")


@pytest.fixture
def english():
    """Return the function that switches a page's interface to English.

    A language chosen before signing in is kept; otherwise signing in takes the
    account's preferred one, so switch after it.
    """
    return switch_to_english
