"""Statistics: who is counted, small cells hidden, district scope, the dashboard page."""
import pytest
from sqlalchemy import select

from registry.accounts.models import User
from registry.extensions import db
from registry.people.models import MERGED, SUBMITTED, Person
from registry.reports import statistics
from registry.reports.statistics import COMPLEMENT, SMALL, Cell, suppress_cells
from tests.factories import BIM_SON, MUONG_LAT, commune_area, create_person

MUONG_LAT_FORM = {"hometown": "Xã Mường Lát", "hometown_code": MUONG_LAT}


@pytest.fixture
def officer(app_ctx, make_user):
    return db.session.get(User, make_user("officer").id)


def people(officer, count: int, **changes) -> list[Person]:
    return [create_person(officer, full_name=f"Lê Văn Số {n}", **changes) for n in range(count)]


def figures(user):
    db.session.expire_all()
    return statistics.figures_for(user)


def counts(table) -> dict[str, int | None]:
    return {cell.key: cell.count for cell in table.cells}


def test_merged_and_submitted_records_are_not_counted(officer):
    kept, absorbed, waiting = people(officer, 3)
    absorbed.status, absorbed.merged_into_id = MERGED, kept.id
    waiting.status = SUBMITTED
    db.session.commit()

    shown = figures(officer)

    assert shown.total.count == 1
    assert counts(shown.tables["country"]) == {"JP": 1}
    assert counts(shown.tables["status"]) == {"active": 1, "submitted": 1}


def test_counts_by_country_unit_district_purpose_gender_and_age(officer):
    people(officer, 2)
    people(officer, 1, country="KR", gender="male", purpose="study", **MUONG_LAT_FORM)

    shown = figures(officer)

    assert counts(shown.tables["country"]) == {"JP": 2, "KR": 1}
    assert counts(shown.tables["unit"]) == {BIM_SON: 2, MUONG_LAT: 1}
    district_of = statistics.former_district_of_units()
    assert counts(shown.tables["district"]) == {district_of[BIM_SON]: 2,
                                                 district_of[MUONG_LAT]: 1}
    assert counts(shown.tables["gender"]) == {"female": 2, "male": 1}
    assert sum(cell.raw for cell in shown.tables["age"].cells) == 3
    assert sum(cell.raw for cell in shown.tables["month"].cells) == 3
    assert shown.tables["country"].total.count == 3


def test_district_official_counts_only_their_areas(officer, make_user):
    people(officer, 2)
    people(officer, 7, **MUONG_LAT_FORM)
    district = db.session.get(User, make_user("district", areas=[commune_area()]).id)

    shown = figures(district)

    assert shown.total.count == 2
    assert counts(shown.tables["unit"]) == {BIM_SON: 2}
    assert not shown.is_suppressed
    assert all(sum(cell.raw for cell in table.cells) == 2
               for name, table in shown.tables.items() if name not in ("status", "month"))


def test_viewer_sees_small_counts_hidden_and_no_way_to_derive_them(officer, make_user):
    people(officer, 12)
    people(officer, 2, country="KR")
    people(officer, 6, country="TW")
    viewer = db.session.get(User, make_user("viewer").id)

    shown = figures(viewer)

    country = {cell.key: cell for cell in shown.tables["country"].cells}
    assert country["KR"].hidden == SMALL and country["KR"].count is None
    # Total 20 minus the shown 12 would give Korea's 2: Taiwan is hidden beside it.
    assert country["TW"].hidden == COMPLEMENT
    assert country["JP"].count == 12
    assert shown.total.count == 20


def test_suppression_hides_at_least_two_cells_that_add_up_to_five():
    cells = [Cell("a", 1), Cell("b", 2), Cell("c", 30), Cell("d", 8), Cell("e", 0)]

    suppress_cells(cells)

    assert [cell.hidden for cell in cells] == [SMALL, SMALL, None, COMPLEMENT, None]


def test_suppression_leaves_a_table_without_small_cells_alone():
    cells = [Cell("a", 5), Cell("b", 9)]

    suppress_cells(cells)

    assert [cell.count for cell in cells] == [5, 9]


def test_viewer_total_below_five_is_hidden(officer, make_user):
    people(officer, 3)
    viewer = db.session.get(User, make_user("viewer").id)

    shown = figures(viewer)

    assert shown.total.count is None and shown.total.hidden == SMALL
    assert all(cell.count is None for table in shown.tables.values() for cell in table.cells
               if cell.raw)


def test_units_are_suppressed_within_each_former_district(officer, make_user):
    people(officer, 3)  # Bỉm Sơn alone in its former district
    people(officer, 9, **MUONG_LAT_FORM)
    viewer = db.session.get(User, make_user("viewer").id)

    shown = figures(viewer)

    units = {cell.key: cell for cell in shown.tables["unit"].cells}
    assert units[BIM_SON].hidden == SMALL
    assert units[MUONG_LAT].count == 9  # another district: its total shows it anyway


def test_cached_cells_give_the_same_figures_as_counting_live(officer, app):
    people(officer, 4)
    people(officer, 2, country="KR", **MUONG_LAT_FORM)
    live = statistics.build_figures(statistics.live_rows(None), suppress=False)

    statistics.rebuild_cells()
    db.session.commit()
    cached = statistics.figures_from_sums(*statistics.cached_sums(None), suppress=False)

    assert {name: table.as_dict() for name, table in live.tables.items()} == \
        {name: table.as_dict() for name, table in cached.tables.items()}


def test_large_registry_reads_the_cache_and_says_how_old_it_is(officer, app):
    people(officer, 2)
    app.config["STATS_LIVE_LIMIT"] = 0
    try:
        shown = figures(officer)
    finally:
        app.config.pop("STATS_LIVE_LIMIT")

    assert shown.as_of is not None
    assert shown.total.count == 2


@pytest.mark.parametrize("role", ["officer", "admin", "police", "district", "viewer"])
def test_dashboard_shows_each_role_a_table_for_every_chart(client, make_user, login_as, role,
                                                           officer):
    people(officer, 6)
    areas = [commune_area()] if role == "district" else []
    login_as(make_user(role, areas=areas))
    client.post("/lang/en")

    page = client.get("/dashboard").get_data(as_text=True)

    for name in ("country", "district", "purpose", "status", "age", "gender", "month", "unit"):
        assert f'id="table-{name}"' in page
    assert ('data-list-url="/people/?country=__CODE__"' in page) == (role != "viewer")
    assert ("Waiting for review" in page) == (role in ("officer", "admin"))
    assert ("nobody can be singled out" in page) == (role == "viewer")


def test_viewer_dashboard_shows_small_counts_as_less_than_five(client, make_user, login_as,
                                                               officer):
    people(officer, 8)
    people(officer, 2, country="KR")
    login_as(make_user("viewer"))

    page = client.get("/dashboard").get_data(as_text=True)

    assert 'data-hidden="small">&lt; 5</td>' in page
    assert 'data-value="2"' not in page


def test_people_from_merges_undone_count_again(officer):
    kept, absorbed = people(officer, 2)
    absorbed.status, absorbed.merged_into_id = MERGED, kept.id
    db.session.commit()
    assert figures(officer).total.count == 1

    absorbed.status, absorbed.merged_into_id = "active", None
    db.session.commit()

    assert figures(officer).total.count == 2
    assert db.session.scalar(select(Person.status).where(Person.id == absorbed.id)) == "active"


def test_dashboard_rebuilds_a_quick_stale_cache_while_only_reading(
        officer, client, login_as, app):
    people(officer, 2)
    login_as(officer)
    app.config.update(STATS_LIVE_LIMIT=0, STATS_CACHE_SECONDS=0)
    try:
        first = client.get("/dashboard").get_data(as_text=True)
        people(officer, 1)
        second = client.get("/dashboard").get_data(as_text=True)
    finally:
        app.config.pop("STATS_LIVE_LIMIT")
        app.config.pop("STATS_CACHE_SECONDS")

    assert total_shown(first) == "2" and total_shown(second) == "3"


def total_shown(page: str) -> str:
    return page.split('id="total-people">', 1)[1].split("</p>", 1)[0].strip()


def test_officer_dashboard_counts_open_duplicate_pairs(officer, client, login_as):
    from registry.matching.models import MatchPair

    first, second = people(officer, 2)
    db.session.add(MatchPair(person_a_id=first.id, person_b_id=second.id, score=0.9,
                             weight=8.0, band="likely"))
    db.session.commit()
    login_as(officer)

    page = client.get("/dashboard").get_data(as_text=True)

    assert page.split('id="waiting-duplicates">', 1)[1].split("</p>", 1)[0].strip() == "1"
