"""Who may open what: every route of the app, for every role, in one table.

Each row is one URL and method with the answer expected for a visitor who is not
signed in and for each role. `{inside}` is a person from Bỉm Sơn, the district
official's own area; `{outside}` is a person from Mường Lát, outside it; `{staff}`
is another staff account. Every refusal is checked to change nothing, and every
403 to leave an "access.refused" audit row and a warning in the log.

Under /api/ a caller without a token gets 401, not a redirect, even when signed
in: the API takes bearer tokens only (tests/test_api.py tries the tokens' scopes).
"""
import logging
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.people import operations
from registry.people.models import Person
from tests.factories import BIM_SON, MUONG_LAT, commune_area, create_person, person_form

ROLES = ("anonymous", "admin", "officer", "police", "district", "viewer")
LOGIN = "login"  # a 302 to the sign-in page
INSIDE_NAME = "Mai Văn Tài"
OUTSIDE_NAME = "Hà Thị Lan"
MUONG_LAT_FORM = {"hometown": "Xã Mường Lát", "hometown_code": MUONG_LAT}
# The table's people share a passport and a birth date, so the person form would
# first warn of a duplicate: the rows tick "this is a different person".
DIFFERENT = {"confirm_different": "yes"}


@dataclass(frozen=True)
class Route:
    method: str
    url: str
    expected: dict[str, int | str]
    data: dict | None = None
    #: a name the district official must not find on the page, while others do
    hides: str | None = None
    label: str = ""

    def __str__(self) -> str:
        return f"{self.method} {self.url}" + (f" ({self.label})" if self.label else "")


def route(method, url, anonymous, admin, officer, police, district, viewer, *, data=None,
          hides=None, label="") -> Route:
    answers = (anonymous, admin, officer, police, district, viewer)
    return Route(method, url, dict(zip(ROLES, answers)), data, hides, label)


ROUTES = [
    # method URL                                  anonymous admin officer police district viewer
    # Open to everyone
    route("GET", "/healthz",                          200,  200, 200, 200, 200, 200),
    route("GET", "/login",                            200,  302, 302, 302, 302, 302),
    route("POST", "/login",                           200,  302, 302, 302, 302, 302, data={}),
    route("POST", "/lang/en",                         302,  302, 302, 302, 302, 302, data={}),
    route("POST", "/logout",                        LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    route("GET", "/places/countries?q=Nh",            200,  200, 200, 200, 200, 200),
    route("GET", "/places/public/units?q=B",          200,  200, 200, 200, 200, 200),
    # An unsubscribe link that names no delivery; tests/test_outreach_unsubscribe.py
    # follows real ones.
    route("GET", "/unsubscribe/not-a-token",          404,  404, 404, 404, 404, 404),
    route("POST", "/unsubscribe/not-a-token",         404,  404, 404, 404, 404, 404, data={}),
    # Any member of staff
    route("GET", "/",                               LOGIN,  200, 200, 200, 200, 200),
    route("GET", "/places/units?q=B",               LOGIN,  200, 200, 200, 200, 200),
    route("GET", "/login/code",                     LOGIN,  302, 302, 302, 302, 302),
    route("POST", "/login/code",                    LOGIN,  302, 302, 302, 302, 302, data={}),
    route("GET", "/account",                        LOGIN,  200, 200, 200, 200, 200),
    route("POST", "/account/language",              LOGIN,  302, 302, 302, 302, 302,
          data={"preferred_lang": "en"}),
    route("GET", "/account/password",               LOGIN,  200, 200, 200, 200, 200),
    route("POST", "/account/password",              LOGIN,  200, 200, 200, 200, 200, data={}),
    route("GET", "/account/two-factor",             LOGIN,  200, 200, 200, 200, 200),
    route("POST", "/account/two-factor",            LOGIN,  200, 200, 200, 200, 200, data={}),
    route("POST", "/account/two-factor/disable",    LOGIN,  200, 200, 200, 200, 200, data={}),
    # People records: never for the statistics viewer
    route("GET", "/people/",                        LOGIN,  200, 200, 200, 200, 403),
    route("GET", "/people/new",                     LOGIN,  200, 200, 403, 200, 403),
    route("POST", "/people/new",                    LOGIN,  302, 302, 403, 302, 403,
          data=person_form(full_name="Trịnh Văn Mới", **DIFFERENT)),
    route("GET", "/people/{inside}",                LOGIN,  200, 200, 200, 200, 403),
    route("GET", "/people/{inside}/edit",           LOGIN,  200, 200, 403, 200, 403),
    route("POST", "/people/{inside}/edit",          LOGIN,  302, 302, 403, 302, 403,
          data=person_form(full_name=INSIDE_NAME, city="Tokyo", **DIFFERENT)),
    route("GET", "/people/{inside}/history",        LOGIN,  200, 200, 200, 200, 403),
    route("GET", "/people/{inside}/identity",       LOGIN,  200, 200, 200, 200, 403),
    route("POST", "/people/{inside}/status",        LOGIN,  302, 302, 403, 403, 403,
          data={"status": "returned", "reason": "Về nước"}),
    route("POST", "/people/{inside}/police-notes",  LOGIN,  403, 403, 302, 403, 403,
          data={"body": "Đã xác minh.", "is_verified": "y"}),
    # The district official's ladder: another district's record by id, by search,
    # and by moving an own record there; 404 says nothing about whether it exists.
    # Status and police notes are refused (403) for any record, before the lookup.
    route("GET", "/people/{outside}",               LOGIN,  200, 200, 200, 404, 403,
          label="another district"),
    route("GET", "/people/{outside}/edit",          LOGIN,  200, 200, 403, 404, 403,
          label="another district"),
    route("POST", "/people/{outside}/edit",         LOGIN,  302, 302, 403, 404, 403,
          data=person_form(full_name=OUTSIDE_NAME, city="Kyoto", **MUONG_LAT_FORM, **DIFFERENT),
          label="another district"),
    route("GET", "/people/{outside}/history",       LOGIN,  200, 200, 200, 404, 403,
          label="another district"),
    route("GET", "/people/{outside}/identity",      LOGIN,  200, 200, 200, 404, 403,
          label="another district"),
    route("POST", "/people/{outside}/status",       LOGIN,  302, 302, 403, 403, 403,
          data={"status": "returned", "reason": ""}, label="another district"),
    route("POST", "/people/{outside}/police-notes", LOGIN,  403, 403, 302, 403, 403,
          data={"body": "Đã xác minh.", "is_verified": "y"}, label="another district"),
    route("GET", f"/people/?q={OUTSIDE_NAME}",      LOGIN,  200, 200, 200, 200, 403,
          hides=OUTSIDE_NAME, label="search for another district's person"),
    route("POST", "/people/{inside}/edit",          LOGIN,  302, 302, 403, 422, 403,
          data=person_form(full_name=INSIDE_NAME, **MUONG_LAT_FORM, **DIFFERENT),
          label="move the hometown to another district"),
    # Spreadsheet imports: administrators and officers. No batch 999999 exists, so
    # they get 404 where others are refused before the lookup.
    route("GET", "/imports/",                       LOGIN,  200, 200, 403, 403, 403),
    route("POST", "/imports/",                      LOGIN,  422, 422, 403, 403, 403, data={}),
    route("GET", "/imports/template.csv",           LOGIN,  200, 200, 403, 403, 403),
    route("GET", "/imports/999999",                 LOGIN,  404, 404, 403, 403, 403),
    route("GET", "/imports/999999/mapping",         LOGIN,  404, 404, 403, 403, 403),
    route("POST", "/imports/999999/mapping",        LOGIN,  404, 404, 403, 403, 403, data={}),
    route("GET", "/imports/999999/progress",        LOGIN,  404, 404, 403, 403, 403),
    route("GET", "/imports/999999/report.csv",      LOGIN,  404, 404, 403, 403, 403),
    route("POST", "/imports/999999/import",         LOGIN,  404, 404, 403, 403, 403, data={}),
    route("POST", "/imports/999999/undo",           LOGIN,  404, 404, 403, 403, 403, data={}),
    # The duplicate queue, merge and undo: administrators and officers. Police may
    # open a record but never merge. No pair, scan or merge 999999 exists.
    route("GET", "/duplicates/",                    LOGIN,  200, 200, 403, 403, 403),
    route("POST", "/duplicates/runs",               LOGIN,  302, 302, 403, 403, 403, data={}),
    route("GET", "/duplicates/runs/999999",         LOGIN,  404, 404, 403, 403, 403),
    route("GET", "/duplicates/runs/999999/progress", LOGIN, 404, 404, 403, 403, 403),
    route("GET", "/duplicates/pairs/999999",        LOGIN,  404, 404, 403, 403, 403),
    route("GET", "/duplicates/pairs/999999/group",  LOGIN,  404, 404, 403, 403, 403),
    route("POST", "/duplicates/pairs/999999/not-same", LOGIN, 404, 404, 403, 403, 403, data={}),
    route("POST", "/duplicates/pairs/999999/skip",  LOGIN,  404, 404, 403, 403, 403, data={}),
    route("GET", "/duplicates/merge?people={inside}&people={outside}",
                                                    LOGIN,  200, 200, 403, 403, 403),
    route("POST", "/duplicates/merge?people={inside}&people={outside}",
                                                    LOGIN,  422, 422, 403, 403, 403, data={},
          label="no record to keep chosen"),
    route("GET", "/duplicates/merges",              LOGIN,  200, 200, 403, 403, 403),
    route("GET", "/duplicates/merges/999999",       LOGIN,  404, 404, 403, 403, 403),
    route("POST", "/duplicates/merges/999999/undo", LOGIN,  404, 404, 403, 403, 403, data={}),
    # A person's own data, by the signed link mailed to them: no sign-in. A spoilt
    # link opens nothing, whoever follows it (tests/test_rights.py opens real ones).
    route("GET", "/my-data",                          200,  200, 200, 200, 200, 200),
    route("POST", "/my-data",                         302,  302, 302, 302, 302, 302,
          data={"email": "nobody@example.com"}),
    route("GET", "/my-data/spoilt",                   404,  404, 404, 404, 404, 404),
    route("POST", "/my-data/spoilt/access",           404,  404, 404, 404, 404, 404, data={}),
    route("POST", "/my-data/spoilt/correction",       404,  404, 404, 404, 404, 404,
          data={"details": "Sai tên."}),
    route("POST", "/my-data/spoilt/withdraw/greetings", 404, 404, 404, 404, 404, 404, data={}),
    route("GET", "/my-data/spoilt/delete",            404,  404, 404, 404, 404, 404),
    route("POST", "/my-data/spoilt/delete",           404,  404, 404, 404, 404, 404,
          data={"confirm": "y"}),
    # Requests about personal data: officers; refused before the lookup of the ticket
    route("GET", "/requests",                       LOGIN,  200, 200, 403, 403, 403),
    route("GET", "/requests/0",                     LOGIN,  404, 404, 403, 403, 403),
    route("POST", "/requests/0/acknowledge",        LOGIN,  404, 404, 403, 403, 403, data={}),
    route("POST", "/requests/0/complete",           LOGIN,  404, 404, 403, 403, 403,
          data={"outcome": "Đã sửa."}),
    route("POST", "/requests/0/refuse",             LOGIN,  404, 404, 403, 403, 403,
          data={"reason": "Điều 14."}),
    route("POST", "/requests/0/erase",              LOGIN,  404, 404, 403, 403, 403,
          data={"confirm": "y"}),
    # Intake: the public form for everyone, own submissions, the officers' queue
    route("GET", "/register",                         200,  200, 200, 200, 200, 200),
    route("POST", "/register",                        422,  422, 422, 422, 422, 422, data={}),
    route("GET", "/register/done",                    302,  302, 302, 302, 302, 302),
    route("GET", "/register/confirm/not-a-token",     400,  400, 400, 400, 400, 400),
    route("GET", "/register/resend",                  200,  200, 200, 200, 200, 200),
    route("POST", "/register/resend",                 422,  422, 422, 422, 422, 422, data={}),
    route("GET", "/submissions",                    LOGIN,  200, 200, 403, 200, 403),
    route("POST", "/submissions/999999/resubmit",   LOGIN,  404, 404, 403, 404, 403, data={}),
    route("GET", "/review",                         LOGIN,  200, 200, 403, 403, 403),
    route("GET", "/review/999999",                  LOGIN,  404, 404, 403, 403, 403),
    route("POST", "/review/999999",                 LOGIN,  404, 404, 403, 403, 403, data={}),
    route("POST", "/review/999999/accept",          LOGIN,  404, 404, 403, 403, 403, data={}),
    route("POST", "/review/999999/reject",          LOGIN,  404, 404, 403, 403, 403, data={}),
    route("POST", "/review/accept",                 LOGIN,  302, 302, 403, 403, 403, data={}),
    route("POST", "/review/batches/999999/accept",  LOGIN,  302, 302, 403, 403, 403, data={}),
    # Statistics for every member of staff, figures scoped and suppressed by the operation
    route("GET", "/dashboard",                      LOGIN,  200, 200, 200, 200, 200),
    # Exports of people lists: officers, and district officials within their areas
    route("GET", "/exports",                        LOGIN,  200, 200, 403, 200, 403),
    route("GET", "/exports/people.csv",             LOGIN,  200, 200, 403, 200, 403),
    route("GET", "/exports/people.xlsx",            LOGIN,  200, 200, 403, 200, 403),
    route("GET", "/exports/people.csv?status=any",  LOGIN,  200, 200, 403, 200, 403,
          hides=OUTSIDE_NAME, label="export with another district's person"),
    # Annual reports: administrators and officers; no report 999999 exists
    route("GET", "/reports/annual",                 LOGIN,  200, 200, 403, 403, 403),
    route("POST", "/reports/annual",                LOGIN,  422, 422, 403, 403, 403, data={}),
    route("GET", "/reports/annual/999999",          LOGIN,  404, 404, 403, 403, 403),
    route("GET", "/reports/annual/999999.xlsx",     LOGIN,  404, 404, 403, 403, 403),
    route("GET", "/reports/annual/999999.pdf",      LOGIN,  404, 404, 403, 403, 403),
    # The partner API: bearer tokens only, a session opens nothing
    route("GET", "/api/v1/openapi.json",              200,  200, 200, 200, 200, 200),
    route("GET", "/api/v1/people",                    401,  401, 401, 401, 401, 401),
    route("GET", "/api/v1/people/{inside}",           401,  401, 401, 401, 401, 401),
    route("GET", "/api/v1/statistics",                401,  401, 401, 401, 401, 401),
    # Outreach: the calendar of occasions, for officers and administrators
    route("GET", "/outreach/occasions",             LOGIN,  200, 200, 403, 403, 403),
    route("GET", "/outreach/occasions/new",         LOGIN,  200, 200, 403, 403, 403),
    route("POST", "/outreach/occasions/new",        LOGIN,  422, 422, 403, 403, 403, data={}),
    route("GET", "/outreach/occasions/999999",      LOGIN,  404, 404, 403, 403, 403),
    route("POST", "/outreach/occasions/999999",     LOGIN,  404, 404, 403, 403, 403, data={}),
    route("POST", "/outreach/occasions/999999/deactivate", LOGIN, 404, 404, 403, 403, 403,
          data={}),
    route("POST", "/outreach/occasions/999999/activate", LOGIN, 404, 404, 403, 403, 403,
          data={}),
    route("GET", "/outreach/audiences",             LOGIN,  200, 200, 403, 403, 403),
    route("GET", "/outreach/audiences/new",         LOGIN,  200, 200, 403, 403, 403),
    route("POST", "/outreach/audiences/new",        LOGIN,  422, 422, 403, 403, 403, data={}),
    route("GET", "/outreach/audiences/999999",      LOGIN,  404, 404, 403, 403, 403),
    route("POST", "/outreach/audiences/999999",     LOGIN,  404, 404, 403, 403, 403, data={}),
    route("GET", "/outreach/audiences/count",       LOGIN,  200, 200, 403, 403, 403),
    # Campaigns: officers and administrators; no campaign 999999 exists
    route("GET", "/outreach/campaigns",             LOGIN,  200, 200, 403, 403, 403),
    route("GET", "/outreach/campaigns/new",         LOGIN,  200, 200, 403, 403, 403),
    route("POST", "/outreach/campaigns/new",        LOGIN,  422, 422, 403, 403, 403, data={}),
    route("GET", "/outreach/campaigns/occasion-date", LOGIN, 200, 200, 403, 403, 403),
    route("GET", "/outreach/campaigns/999999",      LOGIN,  404, 404, 403, 403, 403),
    route("GET", "/outreach/campaigns/999999/edit", LOGIN,  404, 404, 403, 403, 403),
    route("POST", "/outreach/campaigns/999999/edit", LOGIN, 404, 404, 403, 403, 403, data={}),
    route("GET", "/outreach/campaigns/999999/progress", LOGIN, 404, 404, 403, 403, 403),
    route("GET", "/outreach/campaigns/999999/failures.csv", LOGIN, 404, 404, 403, 403, 403),
    route("POST", "/outreach/campaigns/999999/submit", LOGIN, 404, 404, 403, 403, 403,
          data={}),
    route("POST", "/outreach/campaigns/999999/return", LOGIN, 404, 404, 403, 403, 403,
          data={"reason": "Thiếu bản tiếng Anh."}),
    route("POST", "/outreach/campaigns/999999/approve", LOGIN, 404, 404, 403, 403, 403,
          data={}),
    route("POST", "/outreach/campaigns/999999/pause", LOGIN, 404, 404, 403, 403, 403,
          data={}),
    route("POST", "/outreach/campaigns/999999/resume", LOGIN, 404, 404, 403, 403, 403,
          data={}),
    route("POST", "/outreach/campaigns/999999/cancel", LOGIN, 404, 404, 403, 403, 403,
          data={}),
    route("POST", "/outreach/campaigns/999999/test", LOGIN, 404, 404, 403, 403, 403,
          data={}),
    # A recipient's unsubscribe link, no sign-in: a spoilt token names nobody
    # (tests/test_outreach_campaigns.py follows real ones)
    route("GET", "/unsubscribe/spoilt",               404,  404, 404, 404, 404, 404),
    route("POST", "/unsubscribe/spoilt",              404,  404, 404, 404, 404, 404,
          data={"List-Unsubscribe": "One-Click"}),
    # Administration
    route("GET", "/api-clients",                    LOGIN,  200, 403, 403, 403, 403),
    route("POST", "/api-clients",                   LOGIN,  422, 403, 403, 403, 403, data={}),
    route("POST", "/api-clients/999999/revoke",     LOGIN,  404, 403, 403, 403, 403, data={}),
    route("GET", "/places/",                        LOGIN,  200, 403, 403, 403, 403),
    route("GET", "/audit/",                         LOGIN,  200, 403, 403, 403, 403),
    route("GET", "/staff/",                         LOGIN,  200, 403, 403, 403, 403),
    route("GET", "/staff/new",                      LOGIN,  200, 403, 403, 403, 403),
    route("POST", "/staff/new",                     LOGIN,  200, 403, 403, 403, 403,
          data={"email": "new.viewer@example.test", "role": "viewer",
                "full_name": "Người Xem Mới"}),
    route("GET", "/staff/{staff}",                  LOGIN,  200, 403, 403, 403, 403),
    route("POST", "/staff/{staff}",                 LOGIN,  302, 403, 403, 403, 403,
          data={"full_name": "Tên Mới", "role": "viewer"}),
    route("POST", "/staff/{staff}/deactivate",      LOGIN,  302, 403, 403, 403, 403, data={}),
    route("POST", "/staff/{staff}/activate",        LOGIN,  302, 403, 403, 403, 403, data={}),
    route("POST", "/staff/{staff}/reset-password",  LOGIN,  200, 403, 403, 403, 403, data={}),
    route("POST", "/staff/{staff}/reset-two-factor", LOGIN, 302, 403, 403, 403, 403, data={}),
    route("POST", "/staff/{staff}/sign-out",        LOGIN,  302, 403, 403, 403, 403, data={}),
]


@pytest.fixture
def world(app_ctx, make_user):
    """Return the ids of a person inside and one outside Bỉm Sơn, and a staff account."""
    author = make_user("officer")
    inside = create_person(author, full_name=INSIDE_NAME)
    outside = create_person(author, full_name=OUTSIDE_NAME, **MUONG_LAT_FORM)
    ids = {"inside": inside.id, "outside": outside.id}
    db.session.rollback()  # reading the ids began a writer's transaction: let go of the lock
    return {**ids, "staff": make_user("viewer", full_name="Tài Khoản Khác").id}


def acting_user(make_user, role: str):
    areas = [commune_area(BIM_SON)] if role == "district" else []
    return make_user(role, areas=areas)


def state_of_records() -> tuple:
    """Return what a refused request must leave as it was: people and accounts."""
    db.session.expire_all()
    people = db.session.execute(select(
        Person.id, Person.version, Person.full_name, Person.hometown_code, Person.city,
        Person.status, Person.is_verified).order_by(Person.id)).all()
    accounts = db.session.execute(select(
        User.id, User.full_name, User.role, User.is_active_account, User.session_token,
        User.password_hash, User.totp_secret).order_by(User.id)).all()
    db.session.rollback()  # outside a request SQLite begins as a writer: let go of the lock
    return people, accounts


def refusals_of(user_id: int, path: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == "access.refused",
                                     AuditEvent.actor_id == user_id)
    return [event for event in db.session.scalars(query) if event.details["path"] == path]


def results(page: str) -> str:
    """Return the part of a people list page below the search form."""
    return page.split('id="results"', 1)[-1]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", ROUTES, ids=str)
def test_route_answers_each_role_as_the_table_says(client, make_user, login_as, world, caplog,
                                                   row, role):
    user = None if role == "anonymous" else acting_user(make_user, role)
    if user:
        login_as(user)
    url = row.url.format(**world)
    before = state_of_records()

    response = client.open(url, method=row.method, data=row.data)

    expected = row.expected[role]
    if expected == LOGIN:
        assert (response.status_code, response.location.split("?")[0]) == (302, "/login")
    else:
        assert response.status_code == expected
    if expected == 302:
        assert not response.location.startswith("/login")
    if (expected == LOGIN and user is None) or (expected != LOGIN and expected >= 400):
        assert state_of_records() == before, "a refused request changed records"
    if expected == 403:
        assert refusals_of(user.id, url.split("?")[0]), "the refusal was not audited"
        assert any(record.levelno == logging.WARNING and "Access refused" in record.message
                   for record in caplog.records), "the refusal was not logged"
    if row.hides and expected == 200:
        page = results(response.get_data(as_text=True))
        assert (row.hides in page) == (role != "district")


def test_every_route_of_the_app_is_in_the_table(app):
    adapter = app.url_map.bind("localhost")
    in_table = set()
    for row in ROUTES:
        path = row.url.format(inside=1, outside=2, staff=3).split("?")[0]
        rule, _args = adapter.match(path, method=row.method, return_rule=True)
        in_table.add((rule.rule, row.method))

    in_app = {(rule.rule, method) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static" for method in rule.methods - {"HEAD", "OPTIONS"}}

    assert in_app - in_table == set(), "add these routes to ROUTES"


def test_table_refuses_the_statistics_viewer_every_personal_data_route():
    people_rows = [row for row in ROUTES if row.url.startswith("/people")]

    assert people_rows
    assert [str(row) for row in people_rows if row.expected["viewer"] != 403] == []


def test_police_see_the_police_notes_on_a_record_and_officers_do_not(
        app, client, make_user, login_as):
    officer, police = make_user("officer"), make_user("police")
    with app.app_context():  # not app_ctx: requests in it would share `g` and its user
        person = create_person(officer)
        operations.add_police_note(person, "Ghi chú xác minh của công an.", True, police)
        db.session.commit()
        url = f"/people/{person.id}"
    notes_form = f'action="{url}/police-notes"'

    as_police = login_as(police).get(url).get_data(as_text=True)
    as_officer = login_as(officer).get(url).get_data(as_text=True)

    assert "Ghi chú xác minh của công an." in as_police and notes_form in as_police
    assert "Ghi chú xác minh của công an." not in as_officer
    assert notes_form not in as_officer


def test_district_official_is_told_why_a_move_to_another_district_is_refused(
        app_ctx, client, make_user, login_as, world):
    login_as(acting_user(make_user, "district"))
    client.post("/lang/en")

    response = client.post(f"/people/{world['inside']}/edit",
                           data=person_form(full_name=INSIDE_NAME, **MUONG_LAT_FORM))

    assert response.status_code == 422
    assert "You can only enter people whose hometown is in your areas." in \
        response.get_data(as_text=True)
    assert db.session.get(Person, world["inside"]).hometown_code == BIM_SON


def test_district_official_finds_nobody_from_another_district_in_the_full_list(
        app_ctx, client, make_user, login_as, world):
    login_as(acting_user(make_user, "district"))

    page = results(client.get("/people/", query_string={"status": "any"})
                   .get_data(as_text=True))

    assert INSIDE_NAME in page
    assert OUTSIDE_NAME not in page
    assert db.session.scalar(select(func.count(Person.id))) == 2
