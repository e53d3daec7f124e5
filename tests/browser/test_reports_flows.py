"""The statistics page in a browser: charts drawn from their tables, the world map, viewers.

Chart.js, d3-geo and topojson come from static/vendor; a blocked script or a CSP
violation fails the test through the page fixture.
"""
import pytest
from playwright.sync_api import expect

from registry.accounts.models import User
from registry.extensions import db
from tests.factories import create_person

pytestmark = pytest.mark.browser


@pytest.fixture
def registry_people(app, staff_user):
    """Enter nine people in Japan, two in Korea and six in Taiwan."""
    author = staff_user("officer")
    with app.app_context():
        actor = db.session.get(User, author.id)
        for number in range(9):
            create_person(actor, full_name=f"Lê Văn Nhật {number}")
        for number in range(2):
            create_person(actor, full_name=f"Trần Thị Hàn {number}", country="KR")
        for number in range(6):
            create_person(actor, full_name=f"Hoàng Văn Đài {number}", country="TW")


def open_dashboard(page, url_for) -> None:
    page.goto(url_for("reports.dashboard"))
    expect(page.get_by_role("heading", name="Statistics", exact=True)).to_be_visible()
    expect(page.locator("[data-worldmap][data-worldmap-ready=true]")).to_have_count(1)


def test_officer_sees_charts_with_their_tables_and_the_world_map(
        page, url_for, signed_in, english, registry_people):
    signed_in("officer")
    english(page)

    open_dashboard(page, url_for)

    countries = page.locator("#table-country")
    expect(countries.get_by_role("row", name="Japan 9")).to_be_visible()
    expect(countries.get_by_role("row", name="South Korea 2")).to_be_visible()
    expect(page.locator("canvas[data-chart-ready=true]")).to_have_count(6)
    expect(page.locator("#table-purpose")).to_be_visible()
    # Japan's islands leave sea at the middle of its outline, where a pointer would
    # land: the keyboard path reaches the same handlers.
    japan = page.locator("path[data-code=JP]")
    page.locator("path[data-code=KR]").dispatch_event("mouseover")
    expect(page.locator("[data-worldmap-status]")).to_have_text("South Korea: 2")
    japan.focus()
    expect(page.locator("[data-worldmap-status]")).to_have_text("Japan: 9")
    japan.press("Enter")
    page.wait_for_url("**/people/?country=JP")
    expect(page.get_by_role("heading", name="People abroad")).to_be_visible()


def test_viewer_sees_only_suppressed_figures_and_no_link_to_records(
        page, url_for, signed_in, english, registry_people):
    signed_in("viewer")
    english(page)

    open_dashboard(page, url_for)

    expect(page.locator("#suppression-note")).to_be_visible()
    korea = page.locator("#table-country tr[data-key=KR] td")
    expect(korea).to_have_text("< 5")
    expect(page.locator("#table-country tr[data-key=JP] td")).to_have_text("9")
    # Taiwan's six are hidden too, or the total less Japan would give Korea's two.
    expect(page.locator("#table-country tr[data-key=TW] td")).to_have_text("hidden")
    expect(page.locator("#table-country td[data-value='2']")).to_have_count(0)
    page.locator("path[data-code=KR]").focus()
    expect(page.locator("[data-worldmap-status]")).to_have_text("South Korea: < 5")
    expect(page.locator("path[role=link]")).to_have_count(0)
    expect(page.get_by_role("link", name="People", exact=True)).to_have_count(0)
