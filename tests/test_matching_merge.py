"""Merging records of one person and undoing it: nothing lost, exact restore, races."""
import os
import threading

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text

from registry.accounts.models import User
from registry.audit.models import AuditEvent
from registry.core.errors import BadInput
from registry.extensions import db
from registry.intake.models import ACCEPTED, PENDING, Submission
from registry.matching import merging
from registry.matching.models import MERGED as PAIR_MERGED
from registry.matching.models import NOT_SAME, OPEN, MatchPair, Merge
from registry.people import operations as people
from registry.people.models import Consent, Person, PersonVersion, PoliceNote
from registry.people.normalise import parse_birth_date
from tests.factories import BIM_SON, MUONG_LAT, commune_area

ASSOCIATION_JP = "Hội đồng hương Thanh Hóa tại Nhật Bản"
ASSOCIATION_KR = "Hội người Thanh Hóa tại Hàn Quốc"



@pytest.fixture(autouse=True)
def english(app_ctx):
    """Refusals are checked by their English wording."""
    with force_locale("en"):
        yield

def data(name: str, *, phones=(), emails=(), associations=(), consents=("record",),
         birth="12/05/1991", hometown=BIM_SON, **extra) -> dict:
    """Return cleaned person data as the people operations take it."""
    return {"full_name": name, "gender": extra.pop("gender", "female"),
            "birth": parse_birth_date(birth) if birth else None,
            "hometown": (hometown, None, None), "country_code": extra.pop("country", "JP"),
            "city": extra.pop("city", "Osaka"),
            "phones": [(number, number[3:]) for number in phones], "emails": list(emails),
            "associations": list(associations), "consents": list(consents), **extra}



def pair_of(first: Person, second: Person, score=0.99, band="likely") -> MatchPair:
    low, high = sorted((first.id, second.id))
    pair = MatchPair(person_a_id=low, person_b_id=high, score=score, weight=12.0, band=band,
                     explanation=[{"field": "given", "level": "equal", "weight": 4.5}])
    db.session.add(pair)
    db.session.flush()
    return pair


def state_of(person_id: int) -> dict:
    """Return everything about a record that a merge and its undo touch."""
    db.session.expire_all()
    person = db.session.get(Person, person_id)
    values = people.snapshot(person)
    values.update(
        notes=person.notes, source_ref=person.source_ref, full_name=person.full_name,
        phone_rows=sorted((p.id, p.number, p.label) for p in person.phones),
        email_rows=sorted((e.id, e.address, e.is_verified) for e in person.emails),
        membership_rows=sorted((m.association_id, m.role) for m in person.memberships),
        consent_rows=sorted((c.id, c.purpose, c.withdrawn_at is None) for c in person.consents),
        police_notes=sorted(db.session.scalars(
            select(PoliceNote.id).where(PoliceNote.person_id == person_id))),
        submissions=sorted(db.session.execute(
            select(Submission.id, Submission.state).where(Submission.person_id == person_id))
            .all()),
    )
    return values


@pytest.fixture
def staff(app_ctx, make_user):
    """Return an officer, a police officer and a district official of Bỉm Sơn."""
    made = {"officer": make_user("officer"), "police": make_user("police"),
            "district": make_user("district", areas=[commune_area(BIM_SON)])}
    return {role: db.session.get(User, account.id) for role, account in made.items()}


@pytest.fixture
def twins(staff):
    """Return two records of one woman: an officer's entry and a district submission."""
    officer, district = staff["officer"], staff["district"]
    first = people.create_person(data(
        "Nguyễn Thị Hương", phones=["+819012345678"], emails=["huong@example.com"],
        associations=[ASSOCIATION_JP], consents=["record", "greetings"],
        passport_number="C1234567", notes="Gọi buổi tối."), officer, "officer")
    second = people.create_person(data(
        "Nguyen Thi Huong", phones=["+819012345678", "+821012345678"],
        emails=["HUONG.N@example.com".lower()], associations=[ASSOCIATION_KR],
        consents=["record", "sharing"], city="Tokyo", occupation="Kỹ sư",
        notes="Đã chuyển lên Tokyo."), district, "district")
    people.add_police_note(second, "Đã xác minh tại địa phương.", True, staff["police"])
    db.session.commit()
    return first, second


def test_default_choices_prefer_a_value_then_police_verified_then_trusted_source(twins):
    first, second = twins

    chosen = merging.default_choices([first, second])

    assert chosen["city"] == second.id  # verified by the police beats the officer
    assert chosen["full_name"] == first.id  # the same name, written with its marks
    assert chosen["occupation"] == second.id  # only the second has one
    assert chosen["passport_number"] == first.id  # a value beats an empty one
    assert merging.default_survivor([first, second]).id == first.id  # the active record


def test_merge_keeps_every_phone_email_membership_consent_note_and_history(twins, staff):
    first, second = twins
    officer = staff["officer"]
    pair = pair_of(first, second)
    versions_before = db.session.scalar(select(func.count(PersonVersion.id)))

    merge = merging.merge_people([first, second], first, {"city": second.id}, officer)
    db.session.commit()

    survivor, absorbed = state_of(first.id), state_of(second.id)
    assert survivor["city"] == "Tokyo" and survivor["full_name"] == "Nguyễn Thị Hương"
    assert survivor["passport_number"] == "C1234567"
    assert sorted(survivor["phones"]) == ["+819012345678", "+821012345678"]
    assert sorted(survivor["emails"]) == ["huong.n@example.com", "huong@example.com"]
    assert sorted(survivor["associations"]) == sorted([ASSOCIATION_JP, ASSOCIATION_KR])
    assert [c[1] for c in survivor["consent_rows"]].count("record") == 2  # every row kept
    assert set(survivor["consents"]) == {"record", "greetings", "sharing"}
    assert survivor["notes"] == "Gọi buổi tối.\n\nĐã chuyển lên Tokyo."
    assert survivor["is_verified"] is True
    assert len(survivor["police_notes"]) == 1
    assert [state for _id, state in survivor["submissions"]] == [ACCEPTED]
    # The absorbed record is marked, never deleted; the shared phone stays on it.
    assert (absorbed["status"], absorbed["merged_into_id"]) == ("merged", first.id)
    assert absorbed["phones"] == ["+819012345678"] and absorbed["consent_rows"] == []
    # Each record keeps its history and gains a "merge" version.
    assert db.session.scalar(select(func.count(PersonVersion.id))) == versions_before + 2
    actions = db.session.scalars(select(PersonVersion.action).where(
        PersonVersion.person_id == first.id).order_by(PersonVersion.version)).all()
    assert actions == ["create", "merge"]
    db.session.refresh(pair)
    assert (pair.state, pair.merge_id) == (PAIR_MERGED, merge.id)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.merge"))


def test_undo_restores_both_records_exactly(twins, staff):
    first, second = twins
    pair = pair_of(first, second)
    db.session.commit()
    before = (state_of(first.id), state_of(second.id))

    merge = merging.merge_people([first, second], first, {"city": second.id,
                                                          "full_name": second.id},
                                 staff["officer"])
    db.session.commit()
    assert state_of(first.id) != before[0]
    merging.undo_merge(merge, staff["officer"])
    db.session.commit()

    assert (state_of(first.id), state_of(second.id)) == before
    db.session.refresh(pair)
    assert (pair.state, pair.merge_id) == (OPEN, None)
    assert db.session.get(Merge, merge.id).is_undone
    assert db.session.scalar(select(PersonVersion.action).where(
        PersonVersion.person_id == second.id).order_by(PersonVersion.version.desc())
        .limit(1)) == "unmerge"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "person.unmerge"))


def test_undo_after_a_later_edit_of_the_survivor_keeps_the_edit(twins, staff):
    first, second = twins
    officer = staff["officer"]
    before_second = state_of(second.id)
    merge = merging.merge_people([first, second], first,
                                 {"city": second.id, "occupation": second.id}, officer)
    db.session.commit()

    survivor = db.session.get(Person, first.id)
    edit = data("Nguyễn Thị Hương", phones=[p.number for p in survivor.phones],
                emails=[e.address for e in survivor.emails],
                associations=[m.association.name for m in survivor.memberships],
                consents=sorted(people.active_consents(survivor)), city="Nagoya",
                occupation="Kỹ sư", passport_number="C1234567")
    people.update_person(survivor, edit, officer)
    db.session.commit()
    merging.undo_merge(db.session.get(Merge, merge.id), officer)
    db.session.commit()

    survivor = state_of(first.id)
    assert survivor["city"] == "Nagoya"  # edited after the merge: stays
    assert survivor["occupation"] is None  # still the merged value: given back
    assert survivor["phones"] == ["+819012345678"]
    assert state_of(second.id) == before_second


def test_undo_remakes_a_moved_phone_the_survivor_dropped_later(twins, staff):
    first, second = twins
    officer = staff["officer"]
    before_second = state_of(second.id)
    merge = merging.merge_people([first, second], first, None, officer)
    db.session.commit()

    survivor = db.session.get(Person, first.id)
    people.update_person(survivor, data(
        "Nguyễn Thị Hương", phones=["+819012345678"], consents=["record"],
        passport_number="C1234567"), officer)
    db.session.commit()
    merging.undo_merge(db.session.get(Merge, merge.id), officer)
    db.session.commit()

    assert state_of(second.id)["phone_rows"] == before_second["phone_rows"]
    assert state_of(second.id)["email_rows"] == before_second["email_rows"]
    assert state_of(second.id)["membership_rows"] == before_second["membership_rows"]


def test_a_group_of_three_merges_in_one_step_and_undoes(twins, staff):
    first, second = twins
    third = people.create_person(data("Huong Nguyen Thi", phones=["+84901234567"],
                                      birth="1991"), None, "self")
    pairs = [pair_of(first, second), pair_of(second, third), pair_of(first, third, 0.7,
                                                                      "possible")]
    db.session.commit()
    before = [state_of(p.id) for p in (first, second, third)]

    merge = merging.merge_people([first, second, third], second, None, staff["officer"])
    db.session.commit()

    assert sorted(merge.absorbed_ids) == [first.id, third.id]
    assert sorted(state_of(second.id)["phones"]) == [
        "+819012345678", "+821012345678", "+84901234567"]
    assert {db.session.get(MatchPair, p.id).state for p in pairs} == {PAIR_MERGED}
    merging.undo_merge(merge, staff["officer"])
    db.session.commit()
    assert [state_of(p.id) for p in (first, second, third)] == before


def test_a_merged_record_cannot_be_merged_again(twins, staff):
    first, second = twins
    merging.merge_people([first, second], first, None, staff["officer"])
    db.session.commit()
    other = people.create_person(data("Lê Văn Nam", gender="male"), staff["officer"],
                                 "officer")
    db.session.commit()

    with pytest.raises(BadInput, match="already been merged"):
        merging.merge_people([second, other], other, None, staff["officer"])


def test_merge_is_refused_if_a_record_changed_since_the_officer_looked(twins, staff):
    first, second = twins
    seen = {first.id: first.version, second.id: second.version}
    people.set_status(db.session.get(Person, second.id), "active", staff["officer"])
    db.session.commit()

    with pytest.raises(BadInput, match="changed by someone else"):
        merging.merge_people([first, second], first, None, staff["officer"], seen)
    db.session.rollback()
    assert db.session.get(Person, second.id).status == "active"
    assert db.session.scalar(select(func.count(Merge.id))) == 0


def test_a_refused_merge_leaves_nothing_behind_even_if_the_caller_commits(twins, staff):
    first, second = twins
    before = (state_of(first.id), state_of(second.id))

    with pytest.raises(BadInput):
        merging.merge_people([first, second], first, {"city": 999999}, staff["officer"])
    db.session.commit()

    assert (state_of(first.id), state_of(second.id)) == before


def test_undo_twice_is_refused(twins, staff):
    first, second = twins
    merge = merging.merge_people([first, second], first, None, staff["officer"])
    db.session.commit()
    merging.undo_merge(merge, staff["officer"])
    db.session.commit()

    with pytest.raises(BadInput, match="already been undone"):
        merging.undo_merge(merge, staff["officer"])


def test_not_the_same_person_is_remembered(twins, staff):
    first, second = twins
    pair = pair_of(first, second)

    merging.mark_not_same(pair, staff["officer"])
    db.session.commit()

    assert db.session.get(MatchPair, pair.id).state == NOT_SAME
    with pytest.raises(BadInput):
        merging.mark_not_same(pair, staff["officer"])
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "match.not_same"))


# Two officers at once -------------------------------------------------------------

def merge_in_thread(app, ids: list[int], survivor_id: int, actor_id: int, start, results):
    with app.app_context(), force_locale("en"):
        try:
            start.wait(timeout=10)
            records = [db.session.get(Person, pid) for pid in ids]
            actor = db.session.get(User, actor_id)
            merge = merging.merge_people(records, db.session.get(Person, survivor_id), None,
                                         actor)
            db.session.commit()
            results.append(("merged", merge.id))
        except BadInput as error:
            db.session.rollback()
            results.append(("refused", error.message))
        finally:
            db.session.remove()


def test_two_officers_merging_the_same_pair_at_once_one_wins(app, twins, staff):
    first, second = twins
    ids, officer_id = [first.id, second.id], staff["officer"].id
    db.session.commit()
    db.session.remove()
    start, results = threading.Barrier(2), []

    threads = [threading.Thread(target=merge_in_thread,
                                args=(app, ids, survivor, officer_id, start, results))
               for survivor in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(kind for kind, _detail in results) == ["merged", "refused"]
    refusal = next(detail for kind, detail in results if kind == "refused")
    assert "already been merged" in refusal or "changed" in refusal
    assert db.session.scalar(select(func.count(Merge.id))) == 1
    statuses = sorted(db.session.scalars(select(Person.status).where(Person.id.in_(ids))))
    assert statuses == ["active", "merged"]


@pytest.mark.skipif(not (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres"),
                    reason="two open readers at once need PostgreSQL")
def test_a_merge_read_before_another_committed_is_refused(app, twins, staff):
    first, second = twins
    ids, officer_id = [first.id, second.id], staff["officer"].id
    db.session.commit()
    with app.app_context():  # the second officer's page, read before the first merges
        stale = [db.session.get(Person, pid) for pid in ids]
        seen = {p.id: p.version for p in stale}
        with app.app_context():
            records = [db.session.get(Person, pid) for pid in ids]
            merging.merge_people(records, records[0], None, db.session.get(User, officer_id))
            db.session.commit()
            db.session.remove()
        with pytest.raises(BadInput):
            merging.merge_people(stale, stale[1], None, db.session.get(User, officer_id),
                                 seen)
        db.session.rollback()
        db.session.remove()
    assert db.session.scalar(select(func.count(Merge.id))) == 1


def test_pending_submission_of_the_absorbed_record_is_closed_and_reopened(twins, staff):
    first, second = twins
    entry = db.session.scalar(select(Submission).where(Submission.person_id == second.id))
    assert entry.state == PENDING

    merge = merging.merge_people([first, second], first, None, staff["officer"])
    db.session.commit()
    assert (entry.person_id, entry.state) == (first.id, ACCEPTED)
    merging.undo_merge(merge, staff["officer"])
    db.session.commit()

    db.session.refresh(entry)
    assert (entry.person_id, entry.state) == (second.id, PENDING)


def test_consent_withdrawn_after_the_merge_stays_withdrawn(twins, staff):
    first, second = twins
    merge = merging.merge_people([first, second], first, None, staff["officer"])
    db.session.commit()
    sharing = db.session.scalar(select(Consent).where(Consent.purpose == "sharing"))
    from registry.core.time import utcnow
    sharing.withdrawn_at = utcnow()
    db.session.commit()

    merging.undo_merge(merge, staff["officer"])
    db.session.commit()

    db.session.refresh(sharing)
    assert sharing.person_id == second.id and sharing.withdrawn_at is not None


def test_records_of_another_district_can_be_merged_by_an_officer(staff):
    officer = staff["officer"]
    here = people.create_person(data("Trịnh Văn Long", gender="male"), officer, "officer")
    there = people.create_person(data("Trinh Van Long", gender="male", hometown=MUONG_LAT),
                                 officer, "officer")
    db.session.commit()

    merge = merging.merge_people([here, there], here, {"hometown": there.id}, officer)

    assert db.session.get(Person, here.id).hometown_code == MUONG_LAT
    assert merge.chosen["hometown"] == there.id


def test_a_record_written_behind_the_merges_back_is_refused_by_its_version(
        twins, staff, monkeypatch):
    first, second = twins
    before = (state_of(first.id), state_of(second.id))
    touch = merging._touch

    def written_meanwhile(records, actor):
        # Another writer bumps the absorbed record's version after it was read.
        db.session.execute(text("UPDATE person SET version = version + 1 WHERE id = :id"),
                           {"id": second.id})
        touch(records, actor)

    monkeypatch.setattr(merging, "_touch", written_meanwhile)

    with pytest.raises(BadInput, match="changed these records at the same moment"):
        merging.merge_people([first, second], first, None, staff["officer"])
    db.session.commit()
    assert (state_of(first.id), state_of(second.id)) == before
    assert db.session.scalar(select(func.count(Merge.id))) == 0
