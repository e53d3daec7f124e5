"""The pages load whole under the CSP, and static/js/app.js does what it says."""
import os
import re

import pytest
from playwright.sync_api import expect

from registry import ROOT

pytestmark = pytest.mark.browser

STATIC = os.path.join(ROOT, "static")
ASSETS = (
    "/static/vendor/bootstrap/bootstrap.min.css",
    "/static/vendor/bootstrap/bootstrap.bundle.min.js",
    "/static/vendor/htmx/htmx.min.js",
    "/static/css/app.css",
    "/static/js/app.js",
)


def test_login_page_loads_without_console_errors(page, url_for, console_errors):
    response = page.goto(url_for("accounts.login"))

    assert response.status == 200
    assert page.locator("input[name=email]").is_visible()
    assert page.locator("input[name=password]").is_visible()
    assert console_errors == []


def test_vendored_styles_and_scripts_load_from_the_site(page, url_for):
    statuses = {}
    page.on("response", lambda r: statuses.setdefault(r.url.split("?")[0], r.status))

    page.goto(url_for("accounts.login"))
    page.wait_for_load_state("load")

    base = url_for("core.health").rsplit("/healthz", 1)[0]
    assert {path: statuses.get(base + path) for path in ASSETS} == {
        path: 200 for path in ASSETS
    }
    assert page.evaluate("typeof bootstrap.Modal") == "function"
    assert page.evaluate("htmx.config.allowEval") is False


def test_login_page_sends_a_content_security_policy(page, url_for):
    response = page.goto(url_for("accounts.login"))

    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy
    assert "object-src 'none'" in policy


def test_language_switch_goes_to_english_and_back(page, url_for):
    page.goto(url_for("accounts.login"))
    assert page.locator("html").get_attribute("lang") == "vi"

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.startswith(url_for("accounts.login"))

    page.get_by_role("button", name="Tiếng Việt").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "vi"


def test_officer_signs_in_with_password_and_code(page, url_for, signed_in):
    user = signed_in("officer", full_name="Lê Thị Hoa")

    assert page.url == url_for("core.home")
    assert page.get_by_role("link", name="Lê Thị Hoa").is_visible()
    assert user.email


# ---- static/js/app.js on a page of its own, served with the same policy.

HARNESS_ORIGIN = "http://harness.test"
HARNESS_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                  "img-src 'self' data:; connect-src 'self'; object-src 'none'")
HARNESS_PAGE = """<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<meta name="csrf-token" content="token-123">
<link rel="stylesheet" href="/static/vendor/bootstrap/bootstrap.min.css">
<link rel="stylesheet" href="/static/css/app.css">
<script src="/static/vendor/bootstrap/bootstrap.bundle.min.js" defer></script>
<script src="/static/vendor/htmx/htmx.min.js" defer></script>
<script src="/static/js/app.js" defer></script>
</head><body>
<form id="place-form" action="/saved" method="get">
  <label for="hometown">Hometown</label>
  <input id="hometown" name="hometown" data-autocomplete-url="/places/units"
         data-autocomplete-target="hometown_code" class="form-control">
  <input type="hidden" id="hometown_code" name="hometown_code">
  <fieldset data-repeat>
    <div data-repeat-list>
      <div data-repeat-item><input name="phones-0" id="phones-0" value="0901">
        <button type="button" data-repeat-remove>x</button></div>
    </div>
    <template data-repeat-template>
      <div data-repeat-item><input name="phones-__index__" id="phones-__index__">
        <button type="button" data-repeat-remove>x</button></div>
    </template>
    <button type="button" data-repeat-add data-repeat-max="3">Add phone</button>
  </fieldset>
  <select name="status" data-autosubmit><option>a</option><option>b</option></select>
  <button id="delete" type="submit" data-confirm="Delete?">Delete</button>
</form>
<button id="htmx-post" hx-post="/echo" hx-target="#echo" hx-swap="innerHTML">Post</button>
<div id="echo"></div>
<button id="copy" type="button" data-copy="38001" data-copied-label="Copied">Copy</button>
</body></html>
"""
UNITS = [{"code": "38001", "label": "Phường Hạc Thành", "unit_code": "38001"},
         {"code": "38002", "label": "Phường Hàm Rồng", "unit_code": "38002"}]


@pytest.fixture
def harness(page):
    """Open the harness page; return the queries that reached /places/units."""
    seen = {"queries": [], "headers": []}

    def serve(route):
        url = route.request.url[len(HARNESS_ORIGIN):]
        path = url.split("?")[0]
        if path.startswith("/static/"):
            return route.fulfill(path=os.path.join(STATIC, path[len("/static/"):]))
        if path == "/places/units":
            seen["queries"].append(re.search(r"q=([^&]*)", url).group(1))
            return route.fulfill(json=UNITS)
        if path == "/echo":
            seen["headers"].append(route.request.headers)
            return route.fulfill(body="posted", content_type="text/html")
        body = HARNESS_PAGE if path == "/" else "<!doctype html><p>saved " + url
        return route.fulfill(body=body, content_type="text/html",
                             headers={"Content-Security-Policy": HARNESS_POLICY})

    page.route(HARNESS_ORIGIN + "/**", serve)
    page.goto(HARNESS_ORIGIN + "/")
    page.wait_for_load_state("load")
    return seen


def test_htmx_requests_carry_the_csrf_token(page, harness):
    page.click("#htmx-post")
    page.wait_for_selector("#echo:has-text('posted')")

    assert harness["headers"][0].get("x-csrftoken") == "token-123"


def test_autocomplete_offers_units_and_keyboard_chooses_one(page, harness):
    page.locator("#hometown").press_sequentially("Ph")
    page.wait_for_selector("[role=listbox].show [role=option]")

    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    active = page.get_attribute("#hometown", "aria-activedescendant")
    assert page.locator(f"#{active}").inner_text() == "Phường Hàm Rồng"

    page.keyboard.press("Enter")
    assert page.input_value("#hometown") == "Phường Hàm Rồng"
    assert page.input_value("#hometown_code") == "38002"
    assert page.url == HARNESS_ORIGIN + "/"  # Enter chose, it did not submit
    assert harness["queries"] == ["Ph"]


def test_autocomplete_clears_the_code_when_the_text_is_edited(page, harness):
    page.locator("#hometown").press_sequentially("Ph")
    page.locator("[role=option]", has_text="Hạc Thành").click()
    assert page.input_value("#hometown_code") == "38001"

    page.locator("#hometown").press("Backspace")
    assert page.input_value("#hometown_code") == ""


def test_autocomplete_waits_for_two_characters_and_closes_on_escape(page, harness):
    page.locator("#hometown").press_sequentially("P")
    page.wait_for_timeout(400)
    assert harness["queries"] == []

    page.locator("#hometown").press_sequentially("h")
    page.wait_for_selector("[role=listbox].show")
    page.keyboard.press("Escape")
    assert page.get_attribute("#hometown", "aria-expanded") == "false"


def test_repeat_adds_numbered_rows_up_to_the_maximum(page, harness):
    page.click("[data-repeat-add]")
    page.click("[data-repeat-remove] >> nth=1")
    page.click("[data-repeat-add]")
    page.click("[data-repeat-add]")

    names = page.eval_on_selector_all("[data-repeat-item] input", "els => els.map(e => e.name)")
    assert names == ["phones-0", "phones-2", "phones-3"]
    assert page.is_disabled("[data-repeat-add]")


def test_confirm_cancelled_keeps_the_page(page, harness):
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#delete")
    page.wait_for_timeout(200)
    assert page.url == HARNESS_ORIGIN + "/"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete")
    page.wait_for_url(HARNESS_ORIGIN + "/saved*")


def test_copy_button_copies_and_says_so(page, harness):
    page.click("#copy")

    expect(page.locator("#copy")).to_have_text("Copied")
    expect(page.locator("#copy")).to_have_text("Copy")


def test_autosubmit_submits_the_form_on_change(page, harness):
    page.select_option("select[name=status]", "b")
    page.wait_for_url(re.compile(r".*/saved\?.*status=b"))


def test_htmx_is_set_up_for_the_policy_and_keeps_no_history(page, harness):
    config = page.evaluate("({eval: htmx.config.allowEval, styles: "
                           "htmx.config.includeIndicatorStyles, "
                           "cache: htmx.config.historyCacheSize})")

    assert config == {"eval": False, "styles": False, "cache": 0}
    assert page.locator("head style").count() == 0
