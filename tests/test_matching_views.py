"""The duplicate pages as an officer uses them: list, compare, merge, undo, decide.

Requests run outside the test's application context (the `app` fixture), so that
they do not share `g` and the signed-in user; set-up and checks open their own.
"""
import pytest
from sqlalchemy import func, select

from registry.accounts.models import User
from registry.extensions import db
from registry.matching.models import NOT_SAME, OPEN, SKIPPED, DedupeRun, MatchPair, Merge
from registry.people import operations as people
from registry.people.models import Person
from registry.people.normalise import parse_birth_date
from tests.factories import BIM_SON

EXPLANATION = [{"field": "given_name", "level": "folded equal, unmarked", "weight": 5.2},
               {"field": "birth_date", "level": "equal", "weight": 13.1},
               {"field": "country", "level": "different", "weight": -1.6}]


def data(name: str, city: str, phones=(), **extra) -> dict:
    return {"full_name": name, "gender": extra.pop("gender", "female"),
            "birth": parse_birth_date(extra.pop("birth", "12/05/1991")),
            "hometown": (BIM_SON, None, None), "country_code": extra.pop("country", "JP"),
            "city": city, "phones": [(p, p[3:]) for p in phones], "emails": [],
            "associations": [], "consents": ["record"], **extra}


def add_pair(first_id: int, second_id: int, score=0.99, band="likely") -> int:
    low, high = sorted((first_id, second_id))
    pair = MatchPair(person_a_id=low, person_b_id=high, score=score, weight=16.7, band=band,
                     explanation=EXPLANATION)
    db.session.add(pair)
    db.session.flush()
    return pair.id


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(app, make_user):
    """Return an officer and the ids of two records of one woman, paired."""
    officer = make_user("officer")
    with app.app_context():
        actor = db.session.get(User, officer.id)
        first = people.create_person(data("Nguyễn Thị Hương", "Osaka", ["+819012345678"]),
                                     actor, "officer")
        second = people.create_person(data("Nguyen Thi Huong", "Tokyo", ["+821012345678"],
                                           occupation="Kỹ sư"), actor, "officer")
        pair_id = add_pair(first.id, second.id)
        ids = {"first": first.id, "second": second.id, "pair": pair_id}
        db.session.commit()
    return {"officer": officer, **ids}


@pytest.fixture
def english(client, login_as, world):
    """Sign the officer in, with the pages in English."""
    login_as(world["officer"])
    client.post("/lang/en")
    return client


def test_the_list_shows_open_pairs_with_counts_per_band(app, english, world):
    with app.app_context():
        third = people.create_person(data("Lê Văn Nam", "Seoul", gender="male"), None, "self")
        add_pair(world["first"], third.id, score=0.6, band="possible")
        db.session.commit()

    page = text(english.get("/duplicates/"))
    likely = text(english.get("/duplicates/?band=likely"))

    assert "Nguyễn Thị Hương" in page and "Nguyen Thi Huong" in page and "Lê Văn Nam" in page
    assert page.count('data-pair="') == 2
    assert likely.count('data-pair="') == 1 and "Lê Văn Nam" not in likely
    assert "Run a scan" in page
    assert 'id="nav-duplicates-count"' in page


def test_the_pair_page_shows_both_records_the_differences_and_why(english, world):
    page = text(english.get(f"/duplicates/pairs/{world['pair']}"))

    assert "Nguyễn Thị Hương" in page and "Nguyen Thi Huong" in page
    assert '<tr data-field="city" class="table-warning" data-differs>' in page
    assert '<tr data-field="country_code">' in page  # the same on both sides
    assert page.count('data-weight="for"') == 2 and page.count('data-weight="against"') == 1
    assert "equal, one written without marks" in page
    assert "Not the same person" in page and "Skip" in page


def test_merge_page_preselects_defaults_and_merges_the_chosen_values(app, english, world):
    url = f"/duplicates/merge?people={world['first']}&people={world['second']}"
    page = text(english.get(url))
    second = world["second"]
    assert f'id="city-{second}" value="{second}" checked>' in page  # updated last
    assert f'id="survivor-{world["first"]}" value="{world["first"]}" checked>' in page

    with app.app_context():
        versions = ",".join(f"{p.id}:{p.version}" for p in db.session.scalars(
            select(Person).order_by(Person.id)))
    response = english.post(url, data={"survivor": world["first"], "city": world["second"],
                                       "versions": versions})

    assert response.status_code == 302
    with app.app_context():
        merge = db.session.scalar(select(Merge))
        assert response.location.endswith(f"/duplicates/merges/{merge.id}")
        assert db.session.get(Person, world["first"]).city == "Tokyo"
        assert db.session.get(Person, world["second"]).status == "merged"
        assert db.session.get(MatchPair, world["pair"]).state == "merged"
    done = text(english.get(response.location))
    assert "Undo this merge" in done and "Tokyo" in done
    absorbed = text(english.get(f"/people/{world['second']}"))
    assert "This record was merged into another one" in absorbed
    assert f'href="/people/{world["first"]}"' in absorbed


def test_undo_from_the_merge_page_separates_the_records(app, english, world):
    url = f"/duplicates/merge?people={world['first']}&people={world['second']}"
    english.post(url, data={"survivor": world["first"], "city": world["second"]})
    with app.app_context():
        merge_id = db.session.scalar(select(Merge.id))

    response = english.post(f"/duplicates/merges/{merge_id}/undo")

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Person, world["first"]).city == "Osaka"
        assert db.session.get(Person, world["second"]).status == "active"
        assert db.session.get(MatchPair, world["pair"]).state == OPEN
    merges = text(english.get("/duplicates/merges"))
    assert "Undone on" in merges


def test_a_merge_of_records_changed_meanwhile_is_refused_with_a_message(app, english, world):
    url = f"/duplicates/merge?people={world['first']}&people={world['second']}"

    response = english.post(url, data={"survivor": world["first"],
                                       "versions": f"{world['first']}:1,{world['second']}:9"})

    assert response.status_code == 422
    assert "was changed by someone else meanwhile" in text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count(Merge.id))) == 0


def test_the_second_officer_to_merge_the_same_pair_is_told_it_is_done(app, english, world):
    url = f"/duplicates/merge?people={world['first']}&people={world['second']}"
    english.post(url, data={"survivor": world["first"]})

    response = english.post(url, data={"survivor": world["second"]}, follow_redirects=True)

    assert "has already been merged into another record" in text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count(Merge.id))) == 1


def test_not_the_same_person_is_remembered_and_leaves_the_queue(app, english, world):
    response = english.post(f"/duplicates/pairs/{world['pair']}/not-same")

    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(MatchPair, world["pair"]).state == NOT_SAME
    assert 'data-pair="' not in text(english.get("/duplicates/"))
    again = text(english.get(f"/duplicates/pairs/{world['pair']}"))
    assert "Not the same person" in again and 'id="pair-actions"' not in again


def test_skip_puts_the_pair_off_and_opens_the_next(app, english, world):
    with app.app_context():
        third = people.create_person(data("Lê Văn Nam", "Seoul", gender="male"), None, "self")
        fourth = people.create_person(data("Le Van Nam", "Seoul", gender="male"), None, "self")
        other = add_pair(third.id, fourth.id, score=0.97)
        db.session.commit()

    response = english.post(f"/duplicates/pairs/{world['pair']}/skip")

    assert response.location.endswith(f"/duplicates/pairs/{other}")
    with app.app_context():
        assert db.session.get(MatchPair, world["pair"]).state == SKIPPED
    assert text(english.get("/duplicates/")).count('data-pair="') == 2


def test_a_group_of_three_is_offered_and_merged_in_one_step(app, english, world):
    with app.app_context():
        third = people.create_person(data("Huong Nguyen Thi", "Tokyo"), None, "self")
        add_pair(world["second"], third.id, score=0.98)
        db.session.commit()
        ids = sorted([world["first"], world["second"], third.id])

    pair_page = text(english.get(f"/duplicates/pairs/{world['pair']}"))
    group_page = text(english.get(f"/duplicates/pairs/{world['pair']}/group"))
    query = "&".join(f"people={pid}" for pid in ids)
    response = english.post(f"/duplicates/merge?{query}", data={"survivor": ids[0]})

    assert "a group of 3 records" in pair_page
    assert "Merge the 3 records" in group_page
    assert response.status_code == 302
    with app.app_context():
        merge = db.session.scalar(select(Merge))
        assert sorted(merge.absorbed_ids) == ids[1:]


def test_a_scan_starts_and_its_progress_page_reloads_when_done(app, english, world):
    response = english.post("/duplicates/runs")

    assert response.status_code == 302
    with app.app_context():
        run = db.session.scalar(select(DedupeRun))
    assert response.location.endswith(f"/duplicates/runs/{run.id}")
    assert "Duplicate scan" in text(english.get(response.location))
    progress = english.get(f"/duplicates/runs/{run.id}/progress")
    assert progress.status_code == 200 and 'id="run-progress"' in text(progress)
    assert progress.headers.get("HX-Refresh") == "true"


def test_police_may_open_a_record_but_not_the_duplicate_pages(client, make_user, login_as,
                                                               world):
    login_as(make_user("police"))

    assert client.get(f"/people/{world['first']}").status_code == 200
    assert client.get(f"/duplicates/pairs/{world['pair']}").status_code == 403
    assert client.post(f"/duplicates/merge?people={world['first']}&people={world['second']}",
                       data={"survivor": world["first"]}).status_code == 403
    assert 'id="nav-duplicates"' not in text(client.get("/"))
