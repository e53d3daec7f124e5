"""The occasions' pages and the home page's card: list, add, edit, deactivate, audit."""
import logging
from datetime import date

import pytest
from sqlalchemy import select

from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.outreach import operations
from registry.outreach.models import Occasion

FORM = {"name": "Ngày Hội Đồng hương", "name_en": "Compatriots' Day", "kind": "solar",
        "month": "11", "day": "20", "remind_days_before": "30", "notes": ""}


@pytest.fixture
def officer(make_user):
    return make_user("officer")


@pytest.fixture
def signed_in(client, login_as, officer):
    login_as(officer)
    client.post("/lang/en")
    return client


def add_occasion(app, actor, **changes) -> int:
    fields = {"name": "Tết Nguyên Đán", "name_en": "Lunar New Year", "kind": "lunar",
              "month": 1, "day": 1, "remind_days_before": 45, **changes}
    with app.app_context():
        occasion = operations.create_occasion(fields, actor)
        db.session.commit()
        return occasion.id


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def page(response) -> str:
    return response.get_data(as_text=True)


def test_the_list_shows_this_years_and_next_years_dates(app, signed_in, officer):
    add_occasion(app, officer)
    year = operations.vietnam_today().year
    with app.app_context():
        expected = operations.dates_of(operations.all_occasions(), year)

    listing = page(signed_in.get("/outreach/occasions"))

    this_year, next_year = next(iter(expected.values()))
    assert "Lunar New Year" in listing
    assert this_year.strftime("%d/%m/%Y") in listing
    assert next_year.strftime("%d/%m/%Y") in listing


def test_an_officer_adds_an_occasion_audited_and_logged(app, signed_in, caplog):
    caplog.set_level(logging.INFO, logger="registry.outreach.operations")

    response = signed_in.post("/outreach/occasions/new", data=FORM)

    assert response.status_code == 302
    with app.app_context():
        added = db.session.scalars(select(Occasion)).one()
        assert (added.kind, added.month, added.day) == ("solar", 11, 20)
    assert actions(app)[-1] == "occasion.create"
    assert "Occasion %s (solar 20/11) added" % added.id in caplog.text


@pytest.mark.parametrize("changes, message", [
    ({"kind": "lunar", "day": "31"}, "A lunar month has at most 30 days"),
    ({"month": "13"}, "A month is between 1 and 12."),
    ({"month": "2", "day": "30"}, "Month 2 has at most 29 days."),
    ({"day": "x"}, "Not a valid integer value."),
    ({"name": ""}, "This field is required."),
])
def test_bad_input_gets_a_clear_message(app, signed_in, changes, message):
    response = signed_in.post("/outreach/occasions/new", data={**FORM, **changes})

    assert response.status_code == 422
    assert message in page(response)
    with app.app_context():
        assert db.session.scalars(select(Occasion)).first() is None


def test_an_officer_edits_an_occasion(app, signed_in, officer):
    occasion_id = add_occasion(app, officer)

    form = page(signed_in.get(f"/outreach/occasions/{occasion_id}"))
    response = signed_in.post(f"/outreach/occasions/{occasion_id}",
                              data={**FORM, "kind": "lunar", "month": "1", "day": "1",
                                    "name": "Tết Nguyên Đán", "remind_days_before": "50"})

    assert 'value="Lunar New Year"' in form
    assert response.status_code == 302
    with app.app_context():
        changed = db.session.get(Occasion, occasion_id)
        assert changed.remind_days_before == 50 and changed.name_en == FORM["name_en"]
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event.action == "occasion.update"
        assert event.details["changes"]["remind_days_before"] == [45, 50]


def test_saving_without_a_change_records_nothing(app, signed_in, officer):
    occasion_id = add_occasion(app, officer, name_en=FORM["name_en"])
    same = {**FORM, "name": "Tết Nguyên Đán", "kind": "lunar", "month": "1", "day": "1",
            "remind_days_before": "45"}

    response = signed_in.post(f"/outreach/occasions/{occasion_id}", data=same,
                              follow_redirects=True)

    assert "Nothing was changed." in page(response)
    assert actions(app).count("occasion.update") == 0


def test_a_deactivated_occasion_leaves_the_home_page_and_comes_back(app, signed_in, officer):
    occasion_id = add_occasion(app, officer)

    signed_in.post(f"/outreach/occasions/{occasion_id}/deactivate")
    with app.app_context():
        assert db.session.get(Occasion, occasion_id).is_active is False
        assert operations.coming_occasions(date(2027, 1, 1)) == []
    signed_in.post(f"/outreach/occasions/{occasion_id}/activate")

    with app.app_context():
        assert db.session.get(Occasion, occasion_id).is_active is True
    assert actions(app)[-2:] == ["occasion.deactivate", "occasion.activate"]


def test_reminders_list_occasions_in_their_window_without_a_campaign(app, officer):
    add_occasion(app, officer)
    add_occasion(app, officer, name="Quốc khánh", name_en="National Day", kind="solar",
                 month=9, day=2, remind_days_before=30)

    with app.app_context():
        due = [(o.name_en, when) for o, when in operations.reminders(date(2026, 12, 23))]
        later = operations.reminders(date(2026, 12, 22))

    assert due == [("Lunar New Year", date(2027, 2, 6))]
    assert later == []


def test_the_home_page_card_shows_coming_occasions_and_reminders(app, signed_in, officer,
                                                                 monkeypatch):
    add_occasion(app, officer)
    monkeypatch.setattr(operations, "vietnam_today", lambda: date(2027, 1, 10))

    home = page(signed_in.get("/"))

    assert 'id="outreach-card"' in home
    assert "06/02/2027" in home and "Lunar New Year" in home
    assert "no campaign yet" in home


@pytest.mark.parametrize("role", ["police", "district", "viewer"])
def test_the_home_page_card_is_only_for_outreach_managers(app, client, login_as, make_user,
                                                          role):
    login_as(make_user(role))

    home = page(client.get("/"))

    assert 'id="outreach-card"' not in home and 'id="nav-outreach"' not in home


def test_operations_refuse_an_impossible_date(app, officer):
    from registry.core.errors import BadInput

    with app.app_context(), pytest.raises(BadInput):
        operations.create_occasion({"name": "X", "name_en": "X", "kind": "lunar",
                                    "month": 13, "day": 1}, officer)


def test_an_occasions_name_is_escaped_on_every_page(app, signed_in, officer, monkeypatch):
    add_occasion(app, officer, name_en="<b>Tết</b>")
    monkeypatch.setattr(operations, "vietnam_today", lambda: date(2027, 1, 10))

    pages = [page(signed_in.get(url)) for url in ("/", "/outreach/occasions")]

    assert all("<b>Tết</b>" not in text and "&lt;b&gt;Tết&lt;/b&gt;" in text
               for text in pages)
