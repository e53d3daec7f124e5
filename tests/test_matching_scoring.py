"""Scoring pairs: comparison levels, weights, the two paths agreeing, training."""
import json
import random
import time

import numpy as np
import pytest

from registry.matching import scoring
from registry.matching.blocking import candidate_pairs
from registry.matching.keys import make_record
from registry.matching.scoring import (
    INDEX, NULL, Context, Model, RecordTable, default_model, score, score_arrays,
    score_candidates,
)

HOME, OTHER_HOME = "38001", "38456"
PHONE, OTHER_PHONE = "+84912345678", "+819012345678"


def person(person_id=1, full_name="Nguyễn Thị Hương", **values):
    values = {"gender": None, "birth_year": 1990, "birth_month": 3, "birth_day": 14,
              "hometown_code": HOME, "country_code": "JP", **values}
    return make_record(person_id, full_name=full_name, **values)


def level(a, b, comparison, context=None):
    table = RecordTable([a, b])
    levels = scoring.compare(table, np.array([0]), np.array([1]), context or Context(),
                             default_model())
    return scoring.COMPARISONS[INDEX[comparison]][1][levels[0, INDEX[comparison]]] \
        if levels[0, INDEX[comparison]] != NULL else None


@pytest.mark.parametrize("first, second, expected", [
    ("Nguyễn Thị Hoà", "Nguyễn Thị Hòa", "toned equal"),
    ("Nguyễn Thị Hương", "Nguyen Thi Huong", "folded equal, unmarked"),
    ("Nguyễn Thị Hương", "Nguyễn Thị Hường", "folded equal, tones differ"),
    ("Nguyễn Thị Hương", "Nguyễn Thị Hươngg", "close spelling"),
    ("Nguyễn Thị Hương", "Nguyễn Thị Lan", "different"),
])
def test_given_name_levels(first, second, expected):
    assert level(person(1, first), person(2, second), "given_name") == expected


def test_western_order_and_no_marks_agree_on_every_name_part():
    a, b = person(1, "Nguyễn Văn Hùng"), person(2, "Hung Van Nguyen")
    assert level(a, b, "given_name") == "folded equal, unmarked"
    assert level(a, b, "family_name") == "equal"
    assert level(a, b, "middle_name") == "equal"


def test_same_words_split_differently_count_as_the_same_name():
    a, b = person(1, "Cao Hải Hương"), person(2, "Hải Hương Cao")
    assert level(a, b, "given_name") == "folded equal, unmarked"


def test_middle_name_levels():
    assert level(person(1, "Lê Thị Lan"), person(2, "Lê Lan"), "middle_name") == \
        "one side empty"
    assert level(person(1, "Lê Lan"), person(2, "Lê Lan"), "middle_name") is None
    assert level(person(1, "Lê Thị Lan"), person(2, "Lê Ngọc Lan"), "middle_name") == \
        "different"


@pytest.mark.parametrize("first, second, expected", [
    ((1990, 3, 14), (1990, 3, 14), "equal"),
    ((1990, 3, 4), (1990, 4, 3), "day and month swapped"),
    ((1990, 3, 14), (1990, 3, 15), "one typo"),
    ((1990, 3, 14), (1980, 3, 14), "one typo"),
    ((1990, 3, 12), (1990, 3, 21), "one typo"),
    ((1990, 3, 14), (1990, None, None), "same year, imprecise"),
    ((1990, 3, 14), (1990, 3, None), "same year, imprecise"),
    ((1990, 3, 14), (1990, 1, 1), "same year, imprecise"),
    ((1990, 3, 14), (1991, 3, 14), "one typo"),
    ((1990, 3, 14), (1991, 7, 2), "one year apart"),
    ((1989, 3, 14), (1990, None, None), "one year apart"),
    ((1990, 3, 14), (1990, 8, 25), "different"),
    ((1990, 3, 14), (None, None, None), None),
])
def test_birth_date_levels(first, second, expected):
    a = person(1, birth_year=first[0], birth_month=first[1], birth_day=first[2])
    b = person(2, birth_year=second[0], birth_month=second[1], birth_day=second[2])
    assert level(a, b, "birth_date") == expected


def test_phone_shared_by_a_household_is_weaker_than_a_personal_one():
    a, b = person(1, phones=[PHONE]), person(2, phones=[OTHER_PHONE, PHONE])
    assert level(a, b, "phone") == "shared personal phone"
    household = Context(household_phones={PHONE})
    assert level(a, b, "phone", household) == "shared household phone"
    assert level(a, person(2, phones=[OTHER_PHONE]), "phone") == "different"
    assert level(a, person(2), "phone") is None


def test_household_phones_are_phones_seen_with_two_given_names():
    records = [person(1, "Lê Văn Nam", phones=[PHONE]), person(2, "Lê Văn Hải", phones=[PHONE]),
               person(3, "Lê Văn Nam", phones=[OTHER_PHONE]),
               person(4, "Le Van Nam", phones=[OTHER_PHONE])]
    assert Context.from_records(records).household_phones == {PHONE}


def test_documents():
    a = person(1, passport="C1234567", national_id="038190000123")
    assert level(a, person(2, passport="C1234567"), "passport") == "equal"
    assert level(a, person(2, passport="C1234568"), "passport") == "one typo"
    assert level(a, person(2, passport="P7654321"), "passport") == "different"
    assert level(a, person(2, national_id="038190000123"), "national_id") == "equal"
    assert level(a, person(2, national_id="038190999999"), "national_id") == "different"
    # An old 9-digit CMND and a new 12-digit CCCD say nothing about each other.
    assert level(a, person(2, national_id="172345678"), "national_id") is None


def test_gender_email_country_hometown():
    a = person(1, gender="female", emails=["a@example.com"])
    assert level(a, person(2, gender="male"), "gender") == "different"
    assert level(a, person(2, emails=["A@example.com"]), "email") == "shared"
    assert level(a, person(2, country_code="KR"), "country") == "different"
    assert level(a, person(2, hometown_code=OTHER_HOME), "hometown") == "different"


# -- whole pairs -------------------------------------------------------------------

def band(a, b, context=None, model=None):
    return score(a, b, model or default_model(), context or Context()).band


@pytest.mark.parametrize("variant", [
    dict(full_name="Huong Thi Nguyen"),
    dict(full_name="Nguyen Thi Huong", birth_year=1990, birth_month=None, birth_day=None,
         phones=[PHONE]),
    dict(birth_month=14 and 3, birth_day=14, phones=[PHONE], country_code="KR"),
    dict(full_name="Nguyễn Hương", birth_month=1, birth_day=1, phones=[PHONE]),
    dict(birth_month=3, birth_day=15, emails=["huong@example.com"]),
    dict(full_name="Nguyễn Thị Hươngg", passport="C1234567", country_code="TW",
         phones=[OTHER_PHONE]),
])
def test_true_variants_are_likely(variant):
    original = person(1, gender="female", phones=[PHONE], emails=["huong@example.com"],
                      passport="C1234567")
    assert band(original, person(2, **variant)) == "likely"


def test_day_and_month_swapped_with_the_same_phone_is_likely():
    a = person(1, birth_month=3, birth_day=4, phones=[PHONE])
    b = person(2, full_name="Nguyen Thi Huong", birth_month=4, birth_day=3, phones=[PHONE])
    assert band(a, b) == "likely"


def test_twins_are_not_likely():
    household = Context(household_phones={PHONE})
    a = person(1, "Trịnh Văn Hùng", gender="male", phones=[PHONE])
    b = person(2, "Trịnh Văn Dũng", gender="male", phones=[PHONE])
    assert band(a, b, household) != "likely"
    assert band(a, b, household) is None
    tones = person(2, "Nguyễn Thị Hường", phones=[PHONE])
    assert band(person(1, phones=[PHONE]), tones, household) != "likely"


def test_spouses_sharing_phone_and_commune_are_not_likely():
    household = Context(household_phones={PHONE})
    husband = person(1, "Lê Văn Nam", gender="male", birth_year=1985, phones=[PHONE])
    wife = person(2, "Phạm Thị Lan", gender="female", birth_year=1988, phones=[PHONE])
    assert band(husband, wife, household) is None


def test_siblings_are_not_likely():
    household = Context(household_phones={PHONE})
    a = person(1, "Hoàng Thị Mai", birth_year=1990, phones=[PHONE])
    b = person(2, "Hoàng Thị Lan", birth_year=1993, birth_month=7, birth_day=2,
               phones=[PHONE])
    assert band(a, b, household) is None


def test_namesakes_born_the_same_year_in_other_communes_are_not_likely():
    a = person(1, "Nguyễn Văn Anh", birth_month=5, birth_day=2, phones=[PHONE])
    b = person(2, "Nguyễn Văn Anh", birth_month=9, birth_day=20, hometown_code=OTHER_HOME,
               phones=[OTHER_PHONE])
    c = person(3, "Nguyễn Văn Anh", birth_month=None, birth_day=None,
               hometown_code=OTHER_HOME, country_code="KR")
    assert band(a, b) is None
    assert band(a, c) != "likely"


def test_explanation_says_why():
    a, b = person(1, phones=[PHONE]), person(2, "Nguyen Thi Huong", phones=[PHONE])
    result = score(a, b, default_model(), Context())
    fields = {item["field"]: item for item in result.explanation}
    assert fields["given_name"]["level"] == "folded equal, unmarked"
    assert fields["phone"]["level"] == "shared personal phone"
    assert "passport" not in fields  # missing on both sides: weighs nothing
    assert all(isinstance(item["weight"], float) for item in result.explanation)
    total = default_model().prior_bits + sum(item["weight"] for item in result.explanation)
    assert result.weight == pytest.approx(total, abs=0.1)
    json.dumps(result.explanation)


def test_vectorised_and_scalar_scores_agree():
    records = _population(300, seed=3)
    table = RecordTable(records)
    context = Context.from_records(records)
    left, right = candidate_pairs(table)
    model = scoring.train(table, left, right, context)
    probability, weight, levels = score_arrays(table, left, right, model, context)
    for k in range(0, len(left), max(1, len(left) // 40)):
        single = score(records[left[k]], records[right[k]], model, context)
        assert single.probability == pytest.approx(probability[k], rel=1e-12, abs=1e-15)
        assert single.weight == round(float(weight[k]), 2)
        assert single.explanation == scoring.explain_pairs(
            table, left[k:k + 1], levels[k:k + 1], model)[0]


def test_entry_time_check_of_fifty_candidates_is_fast():
    records = _population(51, seed=4)
    model, context = default_model(), Context()
    score_candidates(records[0], records[1:], model, context)
    started = time.perf_counter()
    for _ in range(10):
        results = score_candidates(records[0], records[1:], model, context)
    assert len(results) == 50
    assert (time.perf_counter() - started) / 10 < 0.025


def test_model_round_trips_through_json():
    records = _population(300, seed=5)
    table = RecordTable(records)
    context = Context.from_records(records)
    model = scoring.train(table, *candidate_pairs(table), context)
    again = Model.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again.to_dict() == model.to_dict()
    a, b = records[0], records[1]
    assert score(a, b, again, context) == score(a, b, model, context)


def test_training_keeps_hard_identifiers_sane():
    records = _population(400, seed=6)
    table = RecordTable(records)
    context = Context.from_records(records)
    model = scoring.train(table, *candidate_pairs(table), context)
    assert 0 < model.prior <= 0.5
    assert model.m["national_id"][0] >= 0.8
    assert model.m["gender"][1] <= 0.05
    weights = model.weights
    assert weights[INDEX["national_id"], 1] > 5
    assert weights[INDEX["relatives"], 1] < -10
    assert model.tf["family"]["nguyen"] > model.tf["family"].get("trinh", 0)


def test_common_names_count_for_less_than_rare_ones():
    model = Model(scoring.DEFAULT_M, scoring.DEFAULT_U,
                  tf={"family": {"nguyen": 0.4, "khuat": 0.001, "le": 0.2}})
    common = score(person(1, "Nguyễn Thị Lan"), person(2, "Nguyễn Thị Lan"), model, Context())
    rare = score(person(1, "Khuất Thị Lan"), person(2, "Khuất Thị Lan"), model, Context())
    assert rare.weight > common.weight


def _population(count, seed):
    """Return people with some registered twice with errors, and relatives."""
    pick = random.Random(seed)
    families = ["Nguyễn", "Nguyễn", "Nguyễn", "Lê", "Lê", "Trịnh", "Hoàng", "Phạm"]
    given = ["Anh", "Hùng", "Hương", "Hường", "Lan", "Linh", "Dũng", "Mai", "Hoà", "Nam"]
    records = []
    while len(records) < count:
        number = len(records) + 1
        values = dict(full_name=f"{pick.choice(families)} {pick.choice(['Thị', 'Văn', 'Minh'])}"
                                f" {pick.choice(given)}",
                      birth_year=pick.randint(1960, 2005), birth_month=pick.randint(1, 12),
                      birth_day=pick.randint(1, 28), hometown_code=f"38{pick.randint(0, 40):03d}",
                      country_code=pick.choice(["JP", "KR", "TW"]),
                      phones=[f"+8491{number:07d}"] if pick.random() < .9 else [],
                      emails=[f"p{number}@example.com"] if pick.random() < .5 else [],
                      passport=f"C{number:07d}" if pick.random() < .6 else None,
                      national_id=f"038190{number:06d}" if pick.random() < .4 else None)
        records.append(make_record(number, **values))
        if pick.random() < .4:
            copy = dict(values, full_name=values["full_name"].replace("Thị", "Thi"))
            if pick.random() < .5:
                copy.update(birth_month=None, birth_day=None)
            records.append(make_record(len(records) + 1, **copy))
    return records[:count]


def test_household_phones_from_the_table_are_the_same():
    records = _population(300, seed=7)
    for record in records[::7]:
        record.phones = ("+84911111111",)
    assert Context.from_table(RecordTable(records)) == Context.from_records(records)
