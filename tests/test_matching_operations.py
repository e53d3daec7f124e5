"""Duplicate detection against the database: keys, the model, entry checks, scans."""
import pytest
from sqlalchemy import func, select

from registry.accounts.models import AREA_COMMUNE
from registry.audit.models import AuditEvent
from registry.extensions import db
from registry.matching import operations as matching
from registry.matching import scoring
from registry.matching.models import (LIKELY, MERGED, NOT_SAME, OPEN, RUN_DONE, SKIPPED,
                                      DedupeRun, MatchKey, MatchModel, MatchPair)
from registry.people import operations as people
from registry.people.models import Person
from registry.people.normalise import parse_birth_date
from tests.factories import BIM_SON, MUONG_LAT


def record(name: str, birth: str = "12/05/1991", hometown: str = BIM_SON, **extra) -> dict:
    """Return cleaned person data as the operations take it."""
    return {"full_name": name, "gender": extra.pop("gender", None),
            "birth": parse_birth_date(birth), "hometown": (hometown, None, None),
            "country_code": extra.pop("country_code", "JP"), "city": "Osaka",
            "phones": extra.pop("phones", []), "emails": extra.pop("emails", []),
            "associations": [], "consents": ["record"], **extra}


PHONE = ("+819012345678", "9012345678")


@pytest.fixture
def officer(app_ctx, make_user):
    return make_user("officer")


def add(officer, name: str, **extra) -> Person:
    person = people.create_person(record(name, **extra), officer, "officer")
    db.session.commit()
    return person


def key_of(person_id: int) -> MatchKey | None:
    db.session.expire_all()
    return db.session.get(MatchKey, person_id)


# Keys beside every record


def test_creating_a_person_writes_its_match_key(officer):
    person = add(officer, "Nguyễn Thị Hương", phones=[PHONE], passport_number="C1234567")

    key = key_of(person.id)
    assert (key.family, key.given, key.given_marked) == ("nguyen", "huong", True)
    assert key.name_key == "huong nguyen thi"
    assert (key.birth_year, key.birth_month, key.birth_day) == (1991, 5, 12)
    assert (key.hometown_code, key.passport, key.gender) == (BIM_SON, "C1234567", "female")


def test_editing_the_name_rewrites_the_key_in_the_same_transaction(officer):
    person = add(officer, "Nguyễn Thị Hương")

    people.update_person(person, record("Lê Thị Lan", birth="1990"), officer)
    db.session.flush()

    key = db.session.get(MatchKey, person.id)
    db.session.refresh(key)
    assert (key.family, key.given, key.birth_year, key.birth_month) == ("le", "lan", 1990, None)


def test_edits_that_leave_the_keyed_values_alone_do_not_rewrite_the_key(officer):
    person = add(officer, "Nguyễn Thị Hương")
    stamp = key_of(person.id).computed_at

    people.update_person(person, record("Nguyễn Thị Hương", phones=[PHONE],
                                        occupation="Kỹ sư"), officer)
    db.session.commit()

    assert key_of(person.id).computed_at == stamp
    assert matching.likely_matches(record("Nguyen Thi Huong", birth="1970", phones=[PHONE]),
                                   officer)[0].person.id == person.id  # read from the phone


def test_only_active_and_submitted_people_keep_a_key(officer):
    person = add(officer, "Nguyễn Thị Hương")

    people.set_status(person, "archived", officer)
    db.session.commit()
    assert key_of(person.id) is None

    people.set_status(person, "active", officer)
    db.session.commit()
    assert key_of(person.id) is not None

    for status in ("merged", "deceased", "returned", "rejected"):
        people.set_status(person, status, officer)
        db.session.commit()
        assert key_of(person.id) is None, status


def test_a_rejected_submission_sent_back_to_review_gets_its_key_again(app_ctx, make_user):
    official = make_user("district", areas=[(AREA_COMMUNE, BIM_SON)])
    officer = make_user("officer")
    person = people.create_person(record("Lê Văn Hùng"), official, "district")
    db.session.commit()
    assert person.status == "submitted" and key_of(person.id) is not None

    people.set_status(person, "rejected", officer)
    db.session.commit()
    assert key_of(person.id) is None
    people.return_to_review(db.session.get(Person, person.id), official)
    db.session.commit()
    assert key_of(person.id) is not None


def test_a_deleted_person_loses_its_key(officer):
    person = add(officer, "Nguyễn Thị Hương")

    db.session.delete(person)
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(MatchKey)) == 0


def test_insert_keys_writes_the_keys_of_bulk_rows_in_both_shapes(officer):
    form_style = add(officer, "Placeholder One")
    import_style = add(officer, "Placeholder Two")
    archived = add(officer, "Placeholder Three")
    db.session.execute(MatchKey.__table__.delete())

    written = matching.insert_keys(db.session.connection(), [
        (form_style.id, record("Trịnh Văn Nam", phones=[PHONE])),
        (import_style.id, {"full_name": "Oanh Thi Mai", "birth": (1988, 3, None),
                           "hometown": (MUONG_LAT, None, "Mường Lát"), "gender": None,
                           "phones": [PHONE], "emails": ["Oanh@Example.com"],
                           "passport_number": "c 765 4321", "country_code": "kr"}),
        (archived.id, {"full_name": "Lê Văn Tài", "birth_year": 1970, "status": "archived"}),
    ])

    assert written == 2
    nam, hoa = key_of(form_style.id), key_of(import_style.id)
    assert (nam.family, nam.given, nam.birth_day) == ("trinh", "nam", 12)
    assert (hoa.family, hoa.given, hoa.birth_year, hoa.birth_month) == ("mai", "oanh", 1988, 3)
    assert (hoa.passport, hoa.country_code, hoa.hometown_code) == ("C7654321", "KR", MUONG_LAT)
    assert key_of(archived.id) is None


def test_rebuild_keys_recomputes_every_candidate(officer):
    kept = add(officer, "Nguyễn Thị Hương")
    archived = add(officer, "Lê Văn Hùng")
    people.set_status(archived, "archived", officer)
    db.session.execute(MatchKey.__table__.delete())
    db.session.execute(MatchKey.__table__.insert().values(person_id=archived.id, family="x"))

    assert matching.rebuild_keys() == 1
    assert key_of(kept.id).given == "huong" and key_of(archived.id) is None


def test_demo_people_inserted_in_bulk_get_keys(app_ctx):
    from registry.people.demo import PeopleGenerator, insert_people

    rows = [PeopleGenerator([BIM_SON, MUONG_LAT], seed=7).person(n) for n in range(40)]
    ids = insert_people(db.session.connection(), rows)

    candidates = {pid for pid, row in zip(ids, rows) if row["status"] in ("active", "submitted")}
    keyed = set(db.session.scalars(select(MatchKey.person_id)))
    assert keyed == candidates and candidates


# The model


def test_the_default_model_serves_until_one_is_saved_then_the_saved_one(app_ctx):
    assert matching.current_model().to_dict() == scoring.default_model().to_dict()

    model = scoring.default_model()
    model.likely = 0.97
    row = matching.save_model(model, record_count=1234)
    db.session.commit()
    matching._cached.update(id=None, model=None)  # as in another process

    assert matching.current_model().likely == 0.97
    again = matching.save_model(scoring.default_model(), record_count=5)
    assert db.session.scalar(select(func.count()).select_from(MatchModel)
                             .where(MatchModel.is_current.is_(True))) == 1
    assert matching.current_model().likely != 0.97 and again.id != row.id


# Entry-time checks


def test_an_entry_without_diacritics_finds_the_record_with_them(officer):
    existing = add(officer, "Nguyễn Thị Hương", phones=[PHONE])
    add(officer, "Lê Văn Hùng", birth="1980")

    found = matching.likely_matches(record("Nguyen Thi Huong", phones=[PHONE]), officer)

    assert [m.person.id for m in found] == [existing.id]
    assert found[0].band == LIKELY and not found[0].is_elsewhere
    assert {item["field"] for item in found[0].explanation} >= {"given_name", "birth_date"}


def test_a_sister_on_the_family_phone_is_not_a_likely_match(officer):
    add(officer, "Nguyễn Thị Hương", phones=[PHONE])

    found = matching.likely_matches(record("Nguyễn Thị Lan", birth="03/02/1994",
                                           phones=[PHONE]), officer)

    assert all(m.band != LIKELY for m in found)


def test_a_district_official_learns_only_that_a_record_exists_elsewhere(app_ctx, make_user):
    officer = make_user("officer")
    official = make_user("district", areas=[(AREA_COMMUNE, MUONG_LAT)])
    elsewhere = add(officer, "Nguyễn Thị Hương", hometown=BIM_SON)
    own = add(officer, "Nguyễn Thị Hương", hometown=MUONG_LAT)

    found = matching.likely_matches(record("Nguyễn Thị Hương", hometown=MUONG_LAT), official)

    shown = [m for m in found if not m.is_elsewhere]
    hidden = [m for m in found if m.is_elsewhere]
    assert [m.person.id for m in shown] == [own.id]
    assert len(hidden) == 1 and hidden[0].person is None and hidden[0].explanation == []
    assert elsewhere.id not in {m.person.id for m in shown}


def test_archived_and_decided_people_are_not_proposed(officer):
    archived = add(officer, "Nguyễn Thị Hương")
    people.set_status(archived, "archived", officer)
    twin = add(officer, "Nguyễn Thị Hương")
    edited = add(officer, "Nguyễn Thị Hương")
    db.session.add(MatchPair(person_a_id=twin.id, person_b_id=edited.id, score=0.9, weight=3,
                             band=LIKELY, state=NOT_SAME))
    db.session.commit()

    assert matching.likely_matches(edited, officer) == []
    assert [m.person.id for m in matching.likely_matches(record("Nguyễn Thị Hương"),
                                                         officer)] == [twin.id, edited.id]


def test_probable_matches_reports_an_import_row_that_exists(officer):
    existing = add(officer, "Nguyễn Thị Hương", passport_number="C1234567")

    found = matching.probable_matches({"full_name": "Huong Nguyen Thi", "birth": (1991, 5, 12),
                                       "hometown": (BIM_SON, None, None),
                                       "passport_number": "C1234567", "phones": [],
                                       "emails": []})

    assert [m.person.id for m in found] == [existing.id]


# Batch scans


def scan(actor=None) -> DedupeRun:
    run = matching.start_run(actor)
    db.session.commit()
    return matching.run_dedupe(run.id)


def test_a_scan_fills_the_queue_and_skips_decided_pairs(officer):
    a = add(officer, "Nguyễn Thị Hương", phones=[PHONE])
    b = add(officer, "Nguyen Thi Huong", phones=[PHONE])
    c = add(officer, "Lê Văn Hùng", birth="02/03/1980", passport_number="C7654321")
    d = add(officer, "Le Van Hung", birth="02/03/1980", passport_number="C7654321")
    e = add(officer, "Trịnh Văn Nam", birth="1975")
    f = add(officer, "Trinh Van Nam", birth="1975")
    gone = add(officer, "Nguyễn Thị Hương", phones=[PHONE])
    people.set_status(gone, "archived", officer)
    db.session.add_all([
        MatchPair(person_a_id=c.id, person_b_id=d.id, score=0.5, weight=1, band=LIKELY,
                  state=NOT_SAME),
        MatchPair(person_a_id=e.id, person_b_id=f.id, score=0.5, weight=1, band=LIKELY,
                  state=SKIPPED),
    ])
    db.session.commit()

    run = scan(officer)

    assert (run.state, run.progress, run.people_scanned) == (RUN_DONE, 100, 6)
    pairs = {(p.person_a_id, p.person_b_id): p for p in db.session.scalars(select(MatchPair))}
    assert pairs[(c.id, d.id)].state == NOT_SAME and pairs[(c.id, d.id)].score == 0.5
    assert pairs[(a.id, b.id)].state == OPEN and pairs[(a.id, b.id)].found_by_run_id == run.id
    assert {"field", "level", "weight"} <= set(pairs[(a.id, b.id)].explanation[0])
    assert pairs[(a.id, b.id)].found_at.year >= 2026
    assert not any(gone.id in ends for ends in pairs)
    assert run.pairs_new == 1 + ((e.id, f.id) not in pairs)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "dedupe.run"))
    assert event.actor_id == officer.id and event.details["found"] == run.pairs_found


def test_a_second_scan_rescores_open_pairs_and_drops_those_no_longer_alike(officer):
    a = add(officer, "Nguyễn Thị Hương", phones=[PHONE])
    b = add(officer, "Nguyen Thi Huong", phones=[PHONE])
    c = add(officer, "Lê Văn Hùng", birth="02/03/1980")
    d = add(officer, "Le Van Hung", birth="02/03/1980")
    scan()
    before = {(p.person_a_id, p.person_b_id): p.id for p in db.session.scalars(select(MatchPair))}
    assert set(before) == {(a.id, b.id), (c.id, d.id)}

    people.update_person(d, record("Mai Thị Oanh", birth="1999", hometown=MUONG_LAT), officer)
    db.session.commit()
    run = scan()

    after = {(p.person_a_id, p.person_b_id): p for p in db.session.scalars(select(MatchPair))}
    assert set(after) == {(a.id, b.id)} and after[(a.id, b.id)].id == before[(a.id, b.id)]
    assert after[(a.id, b.id)].found_by_run_id == run.id and run.pairs_new == 0


def test_queue_run_runs_the_job_and_reports_the_latest_run(officer):
    add(officer, "Nguyễn Thị Hương")
    add(officer, "Nguyen Thi Huong")

    run = matching.queue_run(officer)
    db.session.commit()

    assert matching.latest_run().id == run.id and matching.latest_run().state == RUN_DONE
    pairs, total = matching.open_pairs()
    assert total == 1 and len(pairs) == 1
    assert matching.pair_counts() == {"likely": 1, "possible": 0, "open": 1}
    assert matching.open_pairs(matching.PairFilters(unit=MUONG_LAT))[1] == 0


def test_a_saved_model_is_used_and_a_large_scan_trains_one(officer, monkeypatch):
    add(officer, "Nguyễn Thị Hương")
    add(officer, "Nguyen Thi Huong")
    monkeypatch.setattr(matching, "MIN_TRAINING_RECORDS", 2)
    seen = {}
    from registry.matching import engine

    real = engine.find_duplicates

    def spy(records, model=None, train=True, progress=None):
        seen["train"] = train
        result = real(records, model=model, train=False, progress=progress)
        return result

    monkeypatch.setattr(engine, "find_duplicates", spy)
    scan()

    assert seen["train"] is True
    assert db.session.scalar(select(MatchModel.record_count)) == 2


def test_a_degenerate_trained_model_does_not_replace_the_saved_one(officer, monkeypatch,
                                                                    caplog):
    add(officer, "Nguyễn Thị Hương", phones=[PHONE])
    add(officer, "Nguyen Thi Huong", phones=[PHONE])
    saved = scoring.default_model()
    saved.likely = 0.97
    row = matching.save_model(saved, record_count=1000)
    db.session.commit()
    monkeypatch.setattr(matching, "MIN_TRAINING_RECORDS", 2)
    # Agreeing on the given name counts against, a different one for: upside down.
    upside_down = scoring.Model(dict(scoring.DEFAULT_M,
                                     given_name=[0.01, 0.01, 0.01, 0.01, 0.96]),
                                scoring.DEFAULT_U)
    monkeypatch.setattr(scoring, "train", lambda *args, **kwargs: upside_down)

    run = scan()

    assert run.state == RUN_DONE and run.pairs_found == 1
    assert db.session.scalar(select(MatchModel.id).where(MatchModel.is_current.is_(True))) \
        == row.id
    assert db.session.scalar(select(func.count()).select_from(MatchModel)) == 1
    assert "Trained match model rejected, scoring with the saved model" in caplog.text


def test_explanations_are_stored_as_the_json_of_their_items():
    import json

    shared = {"field": "given_name", "level": "toned equal", "weight": 2.5}
    explanations = [[shared, {"field": "gender", "level": "equal", "weight": 0.6}],
                    [shared], [], [{"field": "phone", "level": "different", "weight": -0.4,
                                    "note": "Hương"}]]
    fragments = {}

    texts = [matching.explanation_json(items, fragments) for items in explanations]

    assert [json.loads(text) for text in texts] == explanations
    assert texts[0].startswith('[{"field":"given_name"') and "Hương" in texts[3]
    assert len(fragments) == 2  # each distinct item encoded once; odd items not kept


def test_automatic_merging_is_off_by_default(app, officer):
    assert app.config["MATCH_AUTO_MERGE"] is False
    assert app.config["MATCH_AUTO_MERGE_THRESHOLD"] == 0.999
    add(officer, "Nguyễn Thị Hương", passport_number="C1234567", phones=[PHONE])
    add(officer, "Nguyen Thi Huong", passport_number="C1234567", phones=[PHONE])

    scan()

    assert db.session.scalar(select(MatchPair.state)) == OPEN
    assert db.session.scalar(select(func.count()).select_from(Person)
                             .where(Person.status == MERGED)) == 0


def test_automatic_merging_when_on_merges_pairs_sharing_a_hard_identifier(app, officer,
                                                                          monkeypatch):
    monkeypatch.setitem(app.config, "MATCH_AUTO_MERGE", True)
    monkeypatch.setitem(app.config, "MATCH_AUTO_MERGE_THRESHOLD", 0.5)
    add(officer, "Nguyễn Thị Hương", passport_number="C1234567")
    add(officer, "Nguyen Thi Huong", passport_number="C1234567")
    add(officer, "Lê Văn Hùng", birth="02/03/1980")
    add(officer, "Le Van Hung", birth="02/03/1980")

    scan()

    states = dict(db.session.execute(select(Person.full_name, Person.status)).all())
    assert sorted(states.values()).count(MERGED) == 1
    assert states["Lê Văn Hùng"] == states["Le Van Hung"] == "active"


def test_a_scan_reports_its_stages_and_a_failed_scan_says_why(officer, monkeypatch):
    add(officer, "Nguyễn Thị Hương")
    add(officer, "Nguyen Thi Huong")
    run = matching.start_run(officer)
    db.session.commit()
    stages = []

    matching.run_dedupe(run.id, echo=lambda stage, percent: stages.append(stage))

    assert stages[0] == "loading" and stages[-1] == "storing"
    assert {"blocking", "scoring"} <= set(stages)
    from registry.matching import engine

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(engine, "find_duplicates", broken)
    failed = matching.start_run(officer)
    db.session.commit()
    with pytest.raises(RuntimeError):
        matching.run_dedupe(failed.id)
    db.session.expire_all()
    assert (failed.state, failed.error) == ("failed", "out of memory")
    assert matching.run_dedupe(failed.id).state == "failed"  # never run twice
