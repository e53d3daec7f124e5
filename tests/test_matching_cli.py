"""The duplicate commands: dedupe, export-pairs and rebuild-match-keys."""
from sqlalchemy import func, select

from registry.extensions import db
from registry.matching.models import (LIKELY, MERGED, NOT_SAME, OPEN, POSSIBLE, SKIPPED,
                                      DedupeRun, MatchKey, MatchPair)
from registry.people import operations as people
from registry.people.normalise import parse_birth_date
from tests.factories import BIM_SON


def add(actor, name: str, birth: str = "12/05/1991", source_ref: str | None = None,
        status: str = "active"):
    data = {"full_name": name, "birth": parse_birth_date(birth),
            "hometown": (BIM_SON, None, None), "country_code": "JP", "phones": [],
            "emails": [], "associations": [], "consents": ["record"], "status": status}
    person = people.create_person(data, actor, "officer")
    person.source_ref = source_ref
    db.session.commit()
    return person.id


def pair(a: int, b: int, score: float, band: str = LIKELY, state: str = OPEN) -> None:
    low, high = sorted((a, b))
    db.session.add(MatchPair(person_a_id=low, person_b_id=high, score=score, weight=5.0,
                             band=band, state=state, explanation=[]))
    db.session.commit()


def test_export_pairs_writes_the_undecided_queue_best_first(app, app_ctx, make_user,
                                                           tmp_path):
    officer = make_user("officer")
    ids = [add(officer, f"Người Thử {n}", source_ref=ref)
           for n, ref in enumerate(["ROW-1", None, "ROW-3", "ROW-4", None, "ROW-6"])]
    archived = add(officer, "Người Thử Cũ", status="archived")
    pair(ids[0], ids[1], 0.75, POSSIBLE)
    pair(ids[2], ids[3], 0.999812)
    pair(ids[4], ids[5], 0.5, POSSIBLE, state=SKIPPED)
    pair(ids[0], ids[2], 0.99, state=NOT_SAME)
    pair(ids[1], ids[3], 0.98, state=MERGED)
    pair(ids[0], archived, 0.97)
    path = tmp_path / "pairs.csv"

    result = app.test_cli_runner().invoke(args=["registry", "export-pairs", str(path)])

    assert result.exit_code == 0, result.output
    a, b, c, d, e, f = ids
    assert path.read_text(encoding="utf-8") == (
        "source_ref_a,source_ref_b,person_id_a,person_id_b,score,band\n"
        f"ROW-3,ROW-4,{c},{d},0.999812,likely\n"
        f"ROW-1,,{a},{b},0.750000,possible\n"
        f",ROW-6,{e},{f},0.500000,possible\n")
    assert "3 pairs written" in result.output


def test_export_pairs_of_an_empty_queue_writes_the_header_only(app, app_ctx, tmp_path):
    path = tmp_path / "pairs.csv"

    result = app.test_cli_runner().invoke(args=["registry", "export-pairs", str(path)])

    assert result.exit_code == 0
    assert path.read_text() == "source_ref_a,source_ref_b,person_id_a,person_id_b,score,band\n"


def test_dedupe_scans_in_the_foreground_and_prints_the_counts(app, app_ctx, make_user):
    officer = make_user("officer")
    first = add(officer, "Nguyễn Thị Hương")
    second = add(officer, "Nguyen Thi Huong")
    add(officer, "Lê Văn Hùng", birth="1980")

    result = app.test_cli_runner().invoke(args=["registry", "dedupe"])

    assert result.exit_code == 0, result.output
    assert "3 people, 1 pairs (1 new)" in result.output
    assert "1 very likely" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(DedupeRun.state)) == "done"
    assert db.session.execute(select(MatchPair.person_a_id, MatchPair.person_b_id)).all() == [
        (first, second)]


def test_rebuild_match_keys_writes_a_key_for_every_candidate(app, app_ctx, make_user):
    officer = make_user("officer")
    add(officer, "Nguyễn Thị Hương")
    add(officer, "Lê Văn Hùng", status="archived")
    db.session.execute(MatchKey.__table__.delete())
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["registry", "rebuild-match-keys"])

    assert result.exit_code == 0, result.output
    assert "Match keys written for 1 people." in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(MatchKey)) == 1
