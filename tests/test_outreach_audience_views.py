"""The audiences' pages: list, add, edit, the live count, who may open them."""
import logging
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.core.time import vietnam_today
from registry.extensions import db
from registry.outreach import audiences
from registry.outreach.models import Audience
from registry.people import operations as people
from registry.people.models import Association
from registry.places.models import FormerCommune, Succession
from tests.factories import BIM_SON, MUONG_LAT, commune_area

ASSOCIATION = "Hội đồng hương Thanh Hóa tại Nhật Bản"
FORM = {"name": "Japan, for Tết", "countries": ["JP"], "units": [BIM_SON],
        "statuses": ["active"], "age_min": "", "age_max": ""}
PAGES = [("GET", "/outreach/audiences"), ("GET", "/outreach/audiences/new"),
         ("POST", "/outreach/audiences/new"), ("GET", "/outreach/audiences/{id}"),
         ("POST", "/outreach/audiences/{id}"), ("GET", "/outreach/audiences/count")]


@pytest.fixture
def officer(make_user):
    return make_user("officer")


@pytest.fixture
def signed_in(client, login_as, officer):
    login_as(officer)
    client.post("/lang/en")
    return client


@pytest.fixture
def add_person(app, officer):
    """Return a factory of records every audience reaches unless told otherwise."""
    counter = iter(range(1, 10_000))

    def factory(*, country="JP", hometown=BIM_SON, consents=("record", "greetings"),
                associations=(), **fields) -> int:
        number = next(counter)
        data = {"full_name": f"Trịnh Văn Nam {number}", "gender": "male", "birth": None,
                "hometown": (hometown, None, None), "country_code": country,
                "city": "Tokyo", "phones": [], "emails": [f"nam{number}@example.test"],
                "associations": list(associations), "consents": list(consents)}
        with app.app_context():
            person = people.create_person(data, db.session.get(User, officer.id), "officer")
            for name, value in fields.items():
                setattr(person, name, value)
            db.session.commit()
            return person.id

    return factory


def add_audience(app, actor, name="Japan", **filters) -> int:
    with app.app_context():
        audience = audiences.save_audience(name, filters, db.session.get(User, actor.id))
        db.session.commit()
        return audience.id


def saved_audiences(app) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(audience.name, audience.filters)
                for audience in db.session.scalars(select(Audience).order_by(Audience.id))]


def actions(app) -> list[str]:
    with app.app_context():
        query = select(AuditEvent.action).where(AuditEvent.action.like("audience.%"))
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def former_district_of(app, unit_code: str) -> str:
    with app.app_context():
        return db.session.scalar(select(FormerCommune.district_code)
                                 .join(Succession, Succession.former_code == FormerCommune.code)
                                 .where(Succession.unit_code == unit_code))


def association_id(app, name: str = ASSOCIATION) -> int:
    with app.app_context():
        return db.session.scalar(select(Association.id).where(Association.name == name))


def page(response) -> str:
    return response.get_data(as_text=True)


def errors_of(html: str, field: str) -> str:
    """Return the text of the error block beside field, or "" when there is none."""
    marker = f'id="{field}-errors"'
    if marker not in html:
        return ""
    return html.split(marker, 1)[1].split("</div>", 1)[0]


class FormReader(HTMLParser):
    """Read a page's form as a browser would send it: selected options, input values."""

    def __init__(self):
        super().__init__()
        self.fields = MultiDict()
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.add(self._select, attrs["value"])
        elif tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
            self.fields.add(attrs["name"], attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def sent_form(html: str) -> MultiDict:
    reader = FormReader()
    reader.feed(html)
    return reader.fields


def test_the_list_shows_each_audience_in_words_with_its_count(app, signed_in, officer,
                                                               add_person):
    year = vietnam_today().year
    add_person(birth_year=year - 30)
    add_person(birth_year=year - 30, preferred_lang="en")
    add_person(birth_year=year - 30, consents=("record",))  # never reached
    add_person(country="KR", birth_year=year - 30)
    add_audience(app, officer, "Japan, Vietnamese speakers", countries=["JP"],
                 units=[BIM_SON], languages=["vi"], age_min=18, age_max=60)
    add_audience(app, officer, "Everyone")

    listing = page(signed_in.get("/outreach/audiences"))

    rows = listing.split("<tbody>", 1)[1].split("<tr>")[1:]
    everyone, japan = rows
    assert "Everyone" in everyone and ">3</td>" in everyone
    assert "Japan, Vietnamese speakers" in japan and ">1</td>" in japan
    for words in ("Japan", "Phường Bỉm Sơn", "Active", "Vietnamese", "18 to 60 years"):
        assert words in japan
    assert "has not consented to greetings" in listing


def test_the_list_names_countries_and_former_districts_in_vietnamese(app, client, login_as,
                                                                      officer):
    district = former_district_of(app, BIM_SON)
    add_audience(app, officer, countries=["JP", "KR"], units=[district])
    login_as(officer)
    client.post("/lang/vi")

    listing = page(client.get("/outreach/audiences"))

    assert "Hàn Quốc, Nhật Bản" in listing
    assert "Thị xã Bỉm Sơn" in listing


def test_the_occasions_page_links_to_the_audiences(signed_in):
    occasions = page(signed_in.get("/outreach/occasions"))

    assert 'href="/outreach/audiences"' in occasions


def test_an_officer_adds_an_audience_audited_and_logged(app, signed_in, caplog):
    caplog.set_level(logging.INFO, logger="registry.outreach.audiences")
    association = add_association(app)
    form = {**FORM, "countries": ["JP", "KR"], "associations": [str(association)],
            "languages": ["en", "vi"], "age_min": "18", "age_max": "65"}

    response = signed_in.post("/outreach/audiences/new", data=form, follow_redirects=True)

    assert response.status_code == 200
    assert "The audience “Japan, for Tết” was added." in page(response)
    assert saved_audiences(app) == [("Japan, for Tết", {
        "countries": ["JP", "KR"], "units": [BIM_SON], "statuses": ["active"],
        "associations": [association], "languages": ["en", "vi"], "age_min": 18,
        "age_max": 65})]
    assert actions(app) == ["audience.create"]
    assert "Audience 1 added by user" in caplog.text


def add_association(app, name: str = ASSOCIATION) -> int:
    with app.app_context():
        association = Association(name=name, name_folded=name.lower(), country_code="JP")
        db.session.add(association)
        db.session.commit()
        return association.id


def test_the_new_form_lists_countries_units_and_districts_in_groups(app, signed_in):
    form = page(signed_in.get("/outreach/audiences/new"))

    assert '<option value="JP">Japan</option>' in form
    assert '<optgroup label="Former districts">' in form
    assert '<optgroup label="Communes and wards">' in form
    assert "Phường Bỉm Sơn" in form and "Thị xã Bỉm Sơn" in form
    assert '<option selected value="active">' in form
    assert 'value="merged"' not in form and 'value="deceased"' not in form
    assert "0 people will receive it" in form


def test_the_form_names_countries_in_the_users_language(client, login_as, officer):
    login_as(officer)
    client.post("/lang/vi")

    form = page(client.get("/outreach/audiences/new"))

    assert '<option value="JP">Nhật Bản</option>' in form


def test_an_officer_edits_an_audience(app, signed_in, officer, add_person):
    audience_id = add_audience(app, officer, countries=["JP"])
    add_person(country="KR")
    changed = {**FORM, "name": "Japan and Korea", "countries": ["JP", "KR"], "units": [],
               "age_min": "20"}

    response = signed_in.post(f"/outreach/audiences/{audience_id}", data=changed)

    assert response.status_code == 302
    name, filters = saved_audiences(app)[0]
    assert name == "Japan and Korea"
    assert (filters["countries"], filters["units"], filters["age_min"]) == (
        ["JP", "KR"], [], 20)
    assert actions(app) == ["audience.create", "audience.update"]
    assert "Japan and Korea" in page(signed_in.get(response.location))


def test_every_filter_comes_back_as_saved(app, signed_in, officer):
    """The edit form shows the saved filters; sent back unchanged, nothing changes."""
    association = add_association(app)
    district = former_district_of(app, BIM_SON)
    audience_id = add_audience(app, officer, "All of them", countries=["JP", "KR"],
                               units=[BIM_SON, district], statuses=["active", "returned"],
                               associations=[association], languages=["en"],
                               age_min=18, age_max=65)
    before = saved_audiences(app)

    form = sent_form(page(signed_in.get(f"/outreach/audiences/{audience_id}")))
    response = signed_in.post(f"/outreach/audiences/{audience_id}", data=form,
                              follow_redirects=True)

    assert form.getlist("countries") == ["JP", "KR"]
    assert sorted(form.getlist("units")) == sorted([BIM_SON, district])
    assert form.getlist("statuses") == ["active", "returned"]
    assert form.getlist("associations") == [str(association)]
    assert (form["languages"], form["age_min"], form["age_max"]) == ("en", "18", "65")
    assert form["name"] == "All of them"
    assert "Nothing was changed." in page(response)
    assert saved_audiences(app) == before
    assert actions(app) == ["audience.create"]


@pytest.mark.parametrize("changes, field, message", [
    ({"name": ""}, "name", "Give the audience a name."),
    ({"name": "x" * 201}, "name", "The audience&#39;s name is too long"),
    ({"age_min": "70", "age_max": "20"}, "age_min", "The minimum age is above the maximum"),
    ({"age_max": "200"}, "age_max", "An age is between 0 and 130."),
    ({"age_min": "old"}, "age_min", "Not a valid integer value."),
    ({"statuses": []}, "statuses", "Choose at least one status other than merged"),
    ({"statuses": ["merged"]}, "statuses", "Not one of the choices offered: &#39;merged&#39;"),
    ({"countries": ["JP", "XX"]}, "countries", "Not one of the choices offered: &#39;XX&#39;"),
    ({"units": ["99999"]}, "units", "Not one of the choices offered: &#39;99999&#39;"),
    ({"associations": ["abc"]}, "associations", "Choose from the list."),
    ({"associations": ["99999999999"]}, "associations", "Not one of the choices offered"),
    ({"languages": ["fr"]}, "languages", "Not one of the choices offered: &#39;fr&#39;"),
])
def test_bad_input_is_shown_beside_its_field_and_saves_nothing(app, signed_in, changes,
                                                                field, message):
    response = signed_in.post("/outreach/audiences/new", data={**FORM, **changes})

    assert response.status_code == 422
    assert message in errors_of(page(response), field)
    assert saved_audiences(app) == []
    assert actions(app) == []


def test_a_refused_change_leaves_the_audience_as_it_was(app, signed_in, officer):
    audience_id = add_audience(app, officer, countries=["JP"])
    before = saved_audiences(app)

    response = signed_in.post(f"/outreach/audiences/{audience_id}",
                              data={**FORM, "name": "Korea", "countries": ["KR"],
                                    "age_min": "50", "age_max": "40"})

    assert response.status_code == 422
    assert "The minimum age is above the maximum age." in errors_of(page(response), "age_min")
    assert saved_audiences(app) == before
    assert actions(app) == ["audience.create"]


def test_an_unknown_audience_is_not_found(signed_in):
    assert signed_in.get("/outreach/audiences/999999").status_code == 404
    assert signed_in.post("/outreach/audiences/999999", data=FORM).status_code == 404


def test_the_count_fragment_follows_the_filters(app, signed_in, add_person):
    add_person()
    add_person(hometown=MUONG_LAT)
    add_person(country="KR")
    add_person(consents=("record",))
    add_person(is_outreach_opted_out=True)

    def count(query: str) -> str:
        response = signed_in.get("/outreach/audiences/count?" + query,
                                 headers={"HX-Request": "true"})
        assert response.status_code == 200
        return page(response)

    assert "3 people will receive it" in count("statuses=active")
    assert "2 people will receive it" in count("statuses=active&countries=JP")
    assert "1 person will receive it" in count(
        f"statuses=active&countries=JP&units={BIM_SON}")
    assert "0 people will receive it" in count("statuses=returned")
    fragment = count("statuses=active")
    assert "<html" not in fragment
    for excluded in ("has not consented to greetings", "asked not to be contacted",
                     "merged", "has died", "no e-mail address"):
        assert excluded in fragment


def test_the_count_of_a_former_district_is_that_of_its_units(app, signed_in, add_person):
    add_person(hometown=BIM_SON)
    add_person(hometown=MUONG_LAT)
    district = former_district_of(app, BIM_SON)

    fragment = page(signed_in.get(f"/outreach/audiences/count?statuses=active&units="
                                  f"{district}"))

    assert "1 person will receive it" in fragment


@pytest.mark.parametrize("query, message", [
    ("statuses=active&age_min=50&age_max=40", "The minimum age is above the maximum age."),
    ("age_min=30", "Choose at least one status other than merged or deceased."),
    ("statuses=active&countries=XX", "Not one of the choices offered: &#39;XX&#39;"),
    ("statuses=active&age_max=many", "Not a valid integer value."),
])
def test_the_count_fragment_says_why_it_cannot_count(signed_in, query, message):
    fragment = page(signed_in.get("/outreach/audiences/count?" + query))

    assert message in fragment
    assert "will receive it" not in fragment


def test_an_administrator_may_open_the_audiences(client, login_as, make_user):
    login_as(make_user("admin"))

    assert client.get("/outreach/audiences").status_code == 200
    assert client.get("/outreach/audiences/new").status_code == 200


@pytest.mark.parametrize("method, url", PAGES)
def test_a_visitor_not_signed_in_is_sent_to_sign_in(app, client, officer, method, url):
    audience_id = add_audience(app, officer)

    response = client.open(url.format(id=audience_id), method=method, data=FORM)

    assert response.status_code == 302 and response.location.startswith("/login")


@pytest.mark.parametrize("role", ["district", "police", "viewer"])
@pytest.mark.parametrize("method, url", PAGES)
def test_other_roles_are_refused(app, client, login_as, make_user, officer, role, method,
                                 url):
    audience_id = add_audience(app, officer)
    before = saved_audiences(app)
    areas = [commune_area(BIM_SON)] if role == "district" else []
    user = make_user(role, areas=areas)
    login_as(user)

    response = client.open(url.format(id=audience_id), method=method,
                           data={**FORM, "name": "Changed"})

    assert response.status_code == 403
    assert saved_audiences(app) == before
    with app.app_context():
        refused = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "access.refused", AuditEvent.actor_id == user.id))
    assert refused == 1
