"""Phones, e-mails, dates and documents as the registry stores them."""
from datetime import date

import pytest

from registry.people import normalise
from registry.people.normalise import BirthDate, Invalid


@pytest.mark.parametrize("typed, country, e164", [
    ("090-1234-5678", "JP", "+819012345678"),
    ("010 1234 5678", "KR", "+821012345678"),
    ("0912 345 678", "TW", "+886912345678"),
    ("+84 912 345 678", "JP", "+84912345678"),
    ("0084912345678", "DE", "+84912345678"),
    ("0912345678", None, "+84912345678"),
])
def test_phone_country_comes_from_residence_when_no_prefix(typed, country, e164):
    assert normalise.normalise_phone(typed, country)[0] == e164


@pytest.mark.parametrize("typed", ["12", "abc", "+1 000", "090-0000-0000x"])
def test_invalid_phone_is_refused(typed):
    with pytest.raises(Invalid):
        normalise.normalise_phone(typed, "JP")


def test_phone_search_keys_accept_any_format():
    assert normalise.phone_search_keys("090 1234 5678") == (set(), "9012345678")
    assert normalise.phone_search_keys("+81 90-1234-5678") == ({"+819012345678"}, "9012345678")
    assert "+819012345678" in normalise.phone_search_keys("819012345678")[0]


@pytest.mark.parametrize("typed, expected", [
    ("05/03/1990", BirthDate(1990, 3, 5)),
    ("1990-03-05", BirthDate(1990, 3, 5)),
    ("03/1990", BirthDate(1990, 3)),
    ("1990-03", BirthDate(1990, 3)),
    ("1990", BirthDate(1990)),
    ("", BirthDate(None)),
])
def test_birth_date_with_its_precision(typed, expected):
    assert normalise.parse_birth_date(typed, today=date(2026, 12, 1)) == expected


@pytest.mark.parametrize("typed", ["31/02/1990", "13/2000", "2099", "01/01/2030", "1850",
                                   "yesterday", "1990/13/01"])
def test_impossible_or_future_birth_dates_are_refused(typed):
    with pytest.raises(Invalid):
        normalise.parse_birth_date(typed, today=date(2026, 12, 1))


def test_email_is_checked_and_lowered():
    assert normalise.normalise_email(" Lan.Nguyen@Example.COM ") == "lan.nguyen@example.com"
    with pytest.raises(Invalid):
        normalise.normalise_email("lan@")


def test_documents_are_stripped():
    assert normalise.normalise_document(" c-123 4567 ") == "C1234567"
    with pytest.raises(Invalid):
        normalise.check_national_id("12345")
    normalise.check_national_id("038090001234")


@pytest.mark.parametrize("name", ["<script>", "Lan{{7*7}}", "Nguyễn 3", "Lê_Văn"])
def test_markup_or_digits_in_a_name_are_refused(name):
    with pytest.raises(Invalid):
        normalise.check_person_name(name)


def test_ordinary_names_pass():
    for name in ("Nguyễn Thị Thủy", "Lò Văn Pọm", "Hà Thị Mỹ-Linh", "H'Hen Niê"):
        normalise.check_person_name(name)
