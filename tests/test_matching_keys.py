"""Match keys: how a person is normalised before blocking and scoring."""
import unicodedata

from registry.matching.keys import KEY_COLUMNS, from_key_row, key_values, make_record
from registry.matching.models import MatchKey


def record(full_name, **values):
    return make_record(1, full_name=full_name, **values)


def test_name_is_folded_and_toned():
    keys = record("Nguyễn Thị Hương")
    assert (keys.family, keys.middle, keys.given) == ("nguyen", "thi", "huong")
    assert keys.family_tone == "nguyên4"
    assert keys.given_tone == "hương"
    assert keys.given_marked
    assert keys.name_key == "huong nguyen thi"
    assert keys.initials == "nth"


def test_d_with_stroke_folds_to_d():
    keys = record("Đặng Đức Đạt")
    assert (keys.family, keys.middle, keys.given) == ("dang", "duc", "dat")


def test_decomposed_input_gives_the_same_keys():
    composed = record("Trịnh Thị Thủy")
    decomposed = record(unicodedata.normalize("NFD", "Trịnh Thị Thủy"))
    assert key_values(decomposed) == key_values(composed)


def test_old_and_new_tone_placement_agree_but_tones_stay_apart():
    assert record("Lê Thị Hoà").given_tone == record("Lê Thị Hòa").given_tone
    assert record("Lê Thị Hương").given_tone != record("Lê Thị Hường").given_tone
    assert record("Lê Thị Hương").given == record("Lê Thị Hường").given


def test_name_without_marks_is_not_marked():
    keys = record("Nguyen Thi Huong")
    assert not keys.given_marked
    assert keys.given == "huong"


def test_western_order_is_reordered():
    keys = record("Hung Van Nguyen")
    assert (keys.family, keys.middle, keys.given) == ("nguyen", "van", "hung")


def test_western_order_with_the_middle_name_first():
    keys = record("Thi Hoa Nguyen")
    assert (keys.family, keys.middle, keys.given) == ("nguyen", "thi", "hoa")


def test_western_order_when_the_given_name_is_also_a_surname():
    keys = record("Hoa Nguyen")
    assert (keys.family, keys.given) == ("nguyen", "hoa")
    assert record("Nguyễn Hoa").given == "hoa"


def test_missing_middle_name():
    keys = record("Trịnh Hà")
    assert (keys.family, keys.middle, keys.given) == ("trinh", "", "ha")
    assert keys.name_key == "ha trinh"


def test_one_word_name_is_the_given_name():
    keys = record("Mai")
    assert (keys.family, keys.middle, keys.given) == ("", "", "mai")


def test_punctuation_separates_words():
    keys = record("Nguyễn-Văn  Anh")
    assert (keys.family, keys.middle, keys.given) == ("nguyen", "van", "anh")


def test_gender_is_recorded_or_told_by_the_middle_name():
    assert record("Nguyễn Thị Lan").gender == "female"
    assert record("Nguyễn Văn Nam").gender == "male"
    assert record("Nguyễn Minh Anh").gender is None
    assert record("Nguyễn Văn Nam", gender="female").gender == "female"


def test_first_of_january_is_a_possible_placeholder():
    assert record("Lê Lan", birth_year=1990, birth_month=1, birth_day=1).birth_placeholder
    assert not record("Lê Lan", birth_year=1990, birth_month=1, birth_day=2).birth_placeholder
    assert not record("Lê Lan", birth_year=1990).birth_placeholder


def test_birth_parts_without_a_year_are_dropped():
    keys = record("Lê Lan", birth_month=3, birth_day=4)
    assert (keys.birth_year, keys.birth_month, keys.birth_day) == (None, None, None)


def test_contacts_and_documents_are_normalised():
    keys = record("Lê Lan", phones=["+84 912 345 678", "+84912345678"],
                  emails=[" Lan.Le@Example.COM "], passport="c 123-4567",
                  national_id="038 190 000 123", country_code="jp")
    assert keys.phones == ("+84912345678",)
    assert keys.emails == ("lan.le@example.com",)
    assert keys.passport == "C1234567"
    assert keys.national_id == "038190000123"
    assert keys.country_code == "JP"


def test_key_columns_are_the_match_key_table():
    table_columns = [c.name for c in MatchKey.__table__.columns if c.name != "computed_at"]
    assert sorted(KEY_COLUMNS) == sorted(table_columns)


def test_a_stored_row_gives_the_record_back():
    original = record("Phạm Thị Thu Hà", birth_year=1985, birth_month=1, birth_day=1,
                      hometown_code="38123", phones=["+84912345678"],
                      emails=["ha@example.org"], passport="B7654321")
    row = key_values(original)
    assert row["person_id"] == 1
    assert from_key_row(row, original.phones, original.emails) == original


def test_a_stored_row_with_nulls():
    row = dict.fromkeys(KEY_COLUMNS)
    row["person_id"] = 7
    keys = from_key_row(row, (), ())
    assert keys.given == "" and keys.given_marked is False and keys.phones == ()
