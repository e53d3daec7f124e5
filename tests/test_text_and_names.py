"""Folding, tone keys and name splitting."""
import unicodedata

import pytest

from registry.core.text import fold, has_diacritics, nfc, tone_key
from registry.people.names import gender_hint, split_name


@pytest.mark.parametrize("typed, folded", [
    ("Nguyễn Văn Đức", "nguyen van duc"),
    ("ĐẶNG THỊ HOÀ", "dang thi hoa"),
    ("Lê  Thị\tHồng", "le thi hong"),
    ("Trịnh-Văn O'Hoa", "trinh van o hoa"),
])
def test_fold_removes_marks_and_maps_d(typed, folded):
    assert fold(typed) == folded


def test_fold_treats_decomposed_input_like_composed():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Thủy")
    assert fold(decomposed) == fold("Nguyễn Thị Thủy") == "nguyen thi thuy"
    assert nfc(decomposed) == "Nguyễn Thị Thủy"


@pytest.mark.parametrize("old, new", [("hoà", "hòa"), ("thuỷ", "thủy"), ("khoẻ", "khỏe"),
                                      ("Quý", "Qúy")])
def test_tone_key_ignores_tone_placement(old, new):
    assert tone_key(old) == tone_key(new)


def test_tone_key_keeps_different_tones_apart():
    assert tone_key("Hương") != tone_key("Hường")
    assert tone_key("Quỳ") != tone_key("Quý")
    assert fold("Hương") == fold("Hường")


def test_has_diacritics():
    assert has_diacritics("Đan")
    assert has_diacritics("Hoà")
    assert not has_diacritics("Nguyen Van A")


def test_split_vietnamese_order():
    parts = split_name("Lê Thị Hồng Nhung")
    assert (parts.family, parts.middle, parts.given) == ("Lê", "Thị Hồng", "Nhung")
    assert not parts.is_reordered


def test_split_reorders_western_order():
    parts = split_name("Hung Van Nguyen")
    assert (parts.family, parts.middle, parts.given) == ("Nguyen", "Van", "Hung")
    assert parts.is_reordered


def test_split_name_without_middle_name():
    parts = split_name("Trịnh Hà")
    assert (parts.family, parts.middle, parts.given) == ("Trịnh", "", "Hà")


def test_gender_hint_from_middle_name():
    assert gender_hint(split_name("Nguyễn Thị Lan")) == "female"
    assert gender_hint(split_name("Nguyễn Văn Nam")) == "male"
    assert gender_hint(split_name("Nguyễn Minh Anh")) is None
