"""Countries: names in Vietnamese and English, typed names and codes, suggestions."""
import pycountry
import pytest

from registry.core.text import fold
from registry.places import operations


@pytest.mark.parametrize("code, locale, name", [
    ("JP", "vi", "Nhật Bản"), ("KR", "vi", "Hàn Quốc"), ("TW", "vi", "Đài Loan"),
    ("US", "vi", "Hoa Kỳ"), ("LA", "vi", "Lào"), ("DE", "vi", "Đức"),
    ("US", "en", "United States"), ("KR", "en", "South Korea"), ("jp", "en", "Japan"),
])
def test_country_name_comes_from_cldr(code, locale, name):
    assert operations.country_name(code, locale) == name


def test_country_name_of_nothing_or_an_unknown_code():
    assert operations.country_name(None, "vi") == ""
    assert operations.country_name("QQ", "vi") == "QQ"


def test_country_name_follows_the_request_language(app):
    with app.test_request_context():
        assert operations.country_name("JP") == "Nhật Bản"  # Vietnamese by default


@pytest.mark.parametrize("typed, code", [
    ("JP", "JP"), ("jp", "JP"), ("JPN", "JP"), ("vnm", "VN"), ("GB", "GB"),
    ("Japan", "JP"), ("germany", "DE"), ("Korea", "KR"), ("South Korea", "KR"),
    ("North Korea", "KP"), ("Republic of Korea", "KR"), ("USA", "US"), ("UK", "GB"),
    ("United States of America", "US"), ("Taiwan", "TW"), ("Russian Federation", "RU"),
    ("Burma", "MM"), ("the Philippines", "PH"),
    ("Nhật Bản", "JP"), ("Nhat Ban", "JP"), ("nhật", "JP"), ("Hàn Quốc", "KR"),
    ("Han Quoc", "KR"), ("Hàn", "KR"), ("Mỹ", "US"), ("My", "US"), ("Hoa Kỳ", "US"),
    ("hoa ky", "US"), ("Đài Loan", "TW"), ("Dai Loan", "TW"), ("Lào", "LA"),
    ("Lao", "LA"), ("Đức", "DE"), ("Duc", "DE"), ("Nga", "RU"), ("Úc", "AU"),
    ("Anh", "GB"), ("nước Nhật", "JP"), ("Trung Quốc", "CN"), ("Việt Nam", "VN"),
    ("Angola", "AO"), ("Hồng Kông", "HK"), ("  Hàn   Quốc ", "KR"),
])
def test_country_typed_by_code_or_name_in_either_language(typed, code):
    assert operations.resolve_country(typed) == code


def test_capitals_mean_a_code_where_a_name_would_differ():
    assert operations.resolve_country("NGA") == "NG"  # Nigeria's alpha-3
    assert operations.resolve_country("Nga") == "RU"  # Russia, in Vietnamese
    assert operations.resolve_country("MY") == "MY"  # Malaysia
    assert operations.resolve_country("Mỹ") == "US"


@pytest.mark.parametrize("typed", ["", None, "XX", "Atlantis", "Nhật Bản Quốc Gia"])
def test_unknown_country_is_none(typed):
    assert operations.resolve_country(typed) is None


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_country_choices_cover_every_country_in_name_order(locale):
    choices = operations.country_choices(locale)

    assert len(choices) == len(pycountry.countries)
    keys = [fold(name) for _code, name in choices]
    assert keys == sorted(keys)


def test_country_choices_are_named_in_the_locale():
    assert ("JP", "Nhật Bản") in operations.country_choices("vi")
    assert ("JP", "Japan") in operations.country_choices("en")


@pytest.mark.parametrize("query, locale, first", [
    ("nhat", "vi", {"code": "JP", "label": "Nhật Bản"}),
    ("Hàn", "vi", {"code": "KR", "label": "Hàn Quốc"}),
    ("han", "en", {"code": "KR", "label": "South Korea"}),
    ("japan", "vi", {"code": "JP", "label": "Nhật Bản"}),
    ("dai lo", "vi", {"code": "TW", "label": "Đài Loan"}),
    ("united st", "en", {"code": "US", "label": "United States"}),
    ("kor", "en", {"code": "KR", "label": "South Korea"}),
])
def test_search_countries_in_both_languages(query, locale, first):
    assert operations.search_countries(query, locale)[0] == first


def test_search_countries_limits_and_ignores_empty_queries():
    assert len(operations.search_countries("a", "en", limit=5)) == 5
    assert operations.search_countries("", "vi") == []
    assert operations.search_countries("zzzz", "vi") == []


def test_countries_endpoint_answers_in_the_visitor_language(client):
    response = client.get("/places/countries", query_string={"q": "nhat"})

    assert response.status_code == 200
    assert response.json[0] == {"code": "JP", "label": "Nhật Bản"}
