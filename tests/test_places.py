"""Thanh Hóa's units: the vendored data, resolving typed hometowns, suggestions."""
import json

import pytest
from sqlalchemy import func, select

from registry.core.errors import BadInput
from registry.extensions import db
from registry.places import operations
from registry.places.forms import validate_hometown_input
from registry.places.models import FormerCommune, FormerDistrict, Succession, Unit

HOANG_GIANG, HOANG_PHU, HOANG_HOA = "15880", "15889", "15865"  # current xã
HOANG_QUY_HUYEN, HOANG_QUY_SAC = "15886", "15916"  # former Hoằng Quỳ, Hoằng Quý
BA_DINH, BIM_SON, HAC_THANH, HAM_RONG = "16171", "14812", "14797", "14758"
HA_TRUNG, HOAT_GIANG = "15271", "15286"
DONG_TIEN_PHUONG, DONG_TIEN_XA = "15853", "15724"  # Phường Đông Tiến, Xã Đồng Tiến


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# The reference data ----------------------------------------------------------

def test_loaded_data_has_every_unit_of_thanh_hoa(app_ctx):
    assert count(Unit) == 166
    assert count(FormerDistrict) == 26
    assert count(FormerCommune) == 547
    assert db.session.scalar(
        select(func.count()).where(FormerCommune.is_split.is_(True))) == 10


def test_loading_again_adds_nothing(app_ctx):
    assert operations.load_units() == 0
    assert count(Unit) == 166


def test_every_former_commune_went_somewhere_and_split_ones_have_one_main(app_ctx):
    for former in db.session.scalars(select(FormerCommune)):
        mains = [link for link in former.successors if link.is_main]
        assert (len(former.successors) > 1) == former.is_split, former.code
        assert len(mains) == 1, former.code


def test_vendored_file_matches_the_tables(app_ctx):
    data = json.loads(operations.DATA_FILE.read_text(encoding="utf-8"))
    links = sum(len(item["successors"]) for item in data["former_communes"])

    assert count(Succession) == links
    assert data["source"]["package"] == "vietnamadminunits"
    assert db.session.get(FormerCommune, "15061").kind == "Thị trấn"  # Ngọc Lặc


# Resolving a hometown as typed -----------------------------------------------

@pytest.mark.parametrize("typed, unit, former", [
    ("Hoằng Hóa", HOANG_HOA, None),
    ("Xã Hoằng Hóa", HOANG_HOA, None),
    ("Hoằng Hoá", HOANG_HOA, None),  # old tone placement
    ("Hoang Hoa", HOANG_HOA, None),
    ("  hoằng   HÓA ", HOANG_HOA, None),
    ("Hạc Thành", HAC_THANH, None),
    ("Ham Rong", HAM_RONG, None),
    ("Hoằng Quỳ", HOANG_GIANG, HOANG_QUY_HUYEN),
    ("Hoằng Quý", HOANG_PHU, HOANG_QUY_SAC),
    ("Xã Hoằng Quỳ", HOANG_GIANG, HOANG_QUY_HUYEN),
    ("X. Hoằng Quỳ", HOANG_GIANG, HOANG_QUY_HUYEN),
    ("Hoằng Quỳ, Hoằng Hóa", HOANG_GIANG, HOANG_QUY_HUYEN),
    ("Xã Hoằng Quỳ, Huyện Hoằng Hóa, Tỉnh Thanh Hóa", HOANG_GIANG, HOANG_QUY_HUYEN),
    ("TT. Bút Sơn", HOANG_HOA, HOANG_HOA),
    ("Thị trấn Bút Sơn", HOANG_HOA, HOANG_HOA),
    ("Thiệu Hoà", "15820", "15823"),
    ("Phuong Nghi", "16234", "16240"),  # a name, not "Phường Nghi"
    (BA_DINH, BA_DINH, None),
])
def test_name_resolves_to_one_unit(app_ctx, typed, unit, former):
    found = operations.resolve_hometown(typed)

    assert found.status == "exact"
    assert found.unit.code == unit
    assert (found.former.code if found.former else None) == former
    assert found.given == " ".join(typed.split())


def test_current_name_wins_over_former_one(app_ctx):
    found = operations.resolve_hometown("Ba Đình")

    assert (found.status, found.unit.code, found.former) == ("exact", BA_DINH, None)


@pytest.mark.parametrize("typed, hint, unit, former", [
    ("Ba Đình, Bỉm Sơn", None, BIM_SON, "14812"),
    ("Ba Đình, TX. Bỉm Sơn", None, BIM_SON, "14812"),
    ("Ba Đình", "381", BIM_SON, "14812"),
    ("Ba Đình", "Bỉm Sơn", BIM_SON, "14812"),
    ("Đông Tiến, Thanh Hóa", None, DONG_TIEN_PHUONG, "16405"),
    ("Xuân Lộc, Hậu Lộc", None, "16072", "16057"),
])
def test_district_points_to_former_commune(app_ctx, typed, hint, unit, former):
    found = operations.resolve_hometown(typed, district_hint=hint)

    assert found.status == "exact"
    assert (found.unit.code, found.former.code) == (unit, former)


def test_district_that_does_not_fit_is_ignored(app_ctx):
    found = operations.resolve_hometown("Hạc Thành, Hoằng Hóa")

    assert (found.status, found.unit.code) == ("exact", HAC_THANH)


def test_accent_free_name_shared_by_two_communes_is_ambiguous(app_ctx):
    found = operations.resolve_hometown("Hoang Quy")

    assert found.status == "ambiguous"
    assert found.unit is None
    assert [unit.code for unit in found.candidates] == [HOANG_GIANG, HOANG_PHU]
    assert {former.code for former in found.formers} == {HOANG_QUY_HUYEN, HOANG_QUY_SAC}


@pytest.mark.parametrize("typed, candidates", [
    ("xa hoang quy", {HOANG_GIANG, HOANG_PHU}),
    ("Dong Tien", {DONG_TIEN_PHUONG, DONG_TIEN_XA}),
    ("Phường Ba Đình", {BIM_SON, HAC_THANH}),
    ("Xuân Lộc", {"15643", "15763", "16072"}),
])
def test_ambiguous_names_list_the_candidates(app_ctx, typed, candidates):
    found = operations.resolve_hometown(typed)

    assert found.status == "ambiguous"
    assert {unit.code for unit in found.candidates} == candidates


def test_accent_free_names_going_to_one_unit_resolve(app_ctx):
    found = operations.resolve_hometown("Hoa Loc")  # Hoa Lộc and Hòa Lộc: both 16072

    assert (found.status, found.unit.code) == ("exact", "16072")


@pytest.mark.parametrize("typed, main, other", [
    ("Thị trấn Hà Trung", HA_TRUNG, HOAT_GIANG),
    ("Hà Bình", HOAT_GIANG, HA_TRUNG),
    ("Đông Thọ", HAC_THANH, HAM_RONG),
])
def test_split_commune_asks_for_a_choice(app_ctx, typed, main, other):
    found = operations.resolve_hometown(typed)

    assert found.status == "split"
    assert found.unit is None
    assert found.former.is_split
    assert [unit.code for unit in found.candidates] == [main, other]


@pytest.mark.parametrize("typed", [
    "Atlantis", "", "   ", "99999",
    "Hoằng Quy",  # diacritics that fit neither Hoằng Quỳ nor Hoằng Quý
    "Hoang Quỳ",
])
def test_unknown_names_are_not_guessed(app_ctx, typed):
    found = operations.resolve_hometown(typed)

    assert (found.status, found.unit, found.candidates) == ("unknown", None, [])


def test_choice_among_split_successors_is_checked(app_ctx):
    assert operations.resolve_unit_choice(HA_TRUNG, HOAT_GIANG).code == HOAT_GIANG
    assert operations.resolve_unit_choice(HA_TRUNG, BIM_SON) is None
    assert operations.resolve_unit_choice("", HOAT_GIANG) is None


# Lists and scopes ------------------------------------------------------------

def test_units_of_a_former_district_include_those_that_took_part_of_it(app_ctx):
    assert operations.units_in_former_district("381") == {BIM_SON, "14818"}
    hatrung = operations.units_in_former_district("392")
    assert {HA_TRUNG, HOAT_GIANG, BIM_SON} <= hatrung  # Hà Vinh went to Bỉm Sơn
    assert len(operations.units_in_former_district("399")) == 8
    assert operations.units_in_former_district("000") == set()


def test_unit_choices_are_every_unit_in_accent_free_order(app_ctx):
    choices = operations.unit_choices()

    assert len(choices) == 166
    assert (BA_DINH, "Xã Ba Đình") in choices
    folded = [db.session.get(Unit, code).name_folded for code, _label in choices]
    assert folded == sorted(folded)


def test_get_unit(app_ctx):
    assert operations.get_unit(HAM_RONG).full_name == "Phường Hàm Rồng"
    assert operations.get_unit("nope") is None
    assert operations.get_unit(None) is None


# Suggestions -----------------------------------------------------------------

def test_search_finds_former_names_with_their_unit_and_district(app_ctx):
    found = operations.search_units("hoang quy")

    assert [(item["unit_code"], item["former_code"]) for item in found] == [
        (HOANG_GIANG, HOANG_QUY_HUYEN), (HOANG_PHU, HOANG_QUY_SAC)]
    assert "Xã Hoằng Giang" in found[0]["label"]
    assert "Xã Hoằng Quỳ" in found[0]["label"]
    assert "Huyện Hoằng Hóa" in found[0]["label"]


def test_search_puts_current_names_first_and_is_stable(app_ctx):
    found = operations.search_units("Ba Đình")

    assert found[0] == {"code": BA_DINH, "label": "Xã Ba Đình", "unit_code": BA_DINH,
                        "former_code": None}
    assert {item["unit_code"] for item in found[1:]} == {HAC_THANH, BIM_SON}
    assert operations.search_units("Ba Đình") == found


def test_search_matches_word_starts_and_prefixes(app_ctx):
    labels = [item["label"] for item in operations.search_units("hoang q", limit=50)]

    assert any("Hoằng Quỳ" in label for label in labels)
    assert any("Hoằng Quý" in label for label in labels)
    assert operations.search_units("xa hoang q", limit=50) == operations.search_units(
        "hoang q", limit=50)
    assert operations.search_units("rong")[0]["unit_code"] == HAM_RONG


def test_search_lists_each_successor_of_a_split_commune(app_ctx):
    found = operations.search_units("dong tho")

    assert [(item["former_code"], item["unit_code"]) for item in found] == [
        ("14758", HAC_THANH), ("14758", HAM_RONG)]


def test_search_narrows_former_names_to_the_district_after_a_comma(app_ctx):
    found = operations.search_units("ba dinh, bim son")

    assert {item["unit_code"] for item in found if item["former_code"]} == {BIM_SON}


def test_search_limits_and_ignores_empty_queries(app_ctx):
    assert len(operations.search_units("x", limit=3)) == 3
    assert operations.search_units("") == []
    assert operations.search_units("  ,  ") == []
    assert operations.search_units("100%_") == []


# Checking the form input -----------------------------------------------------

def test_form_accepts_a_clear_name_whatever_was_chosen(app_ctx):
    assert validate_hometown_input("Hoằng Quỳ", HOANG_PHU) == (
        HOANG_GIANG, HOANG_QUY_HUYEN, "Hoằng Quỳ")


def test_form_needs_a_choice_for_a_split_commune(app_ctx):
    with pytest.raises(BadInput) as refused:
        validate_hometown_input("Thị trấn Hà Trung")
    assert "Xã Hoạt Giang" in refused.value.message
    assert refused.value.field == "hometown"

    assert validate_hometown_input("Thị trấn Hà Trung", HOAT_GIANG) == (
        HOAT_GIANG, HA_TRUNG, "Thị trấn Hà Trung")


def test_form_takes_the_former_commune_behind_an_ambiguous_choice(app_ctx):
    assert validate_hometown_input("Hoang Quy", HOANG_PHU) == (
        HOANG_PHU, HOANG_QUY_SAC, "Hoang Quy")
    with pytest.raises(BadInput):
        validate_hometown_input("Hoang Quy", BA_DINH)


def test_form_refuses_unknown_names_and_codes(app_ctx):
    with pytest.raises(BadInput) as refused:
        validate_hometown_input("Không Có Xã Này")
    assert "Không Có Xã Này" in refused.value.message

    with pytest.raises(BadInput):
        validate_hometown_input("", "99999")


def test_form_allows_a_blank_hometown_or_a_bare_choice(app_ctx):
    assert validate_hometown_input("  ") == (None, None, None)
    assert validate_hometown_input(None, BIM_SON) == (BIM_SON, None, None)


# The endpoints ---------------------------------------------------------------

def test_public_suggestions_need_no_sign_in(client):
    response = client.get("/places/public/units", query_string={"q": "hoang quy"})

    assert response.status_code == 200
    assert {"code", "label", "unit_code"} <= set(response.json[0])
    assert response.json[0]["unit_code"] == HOANG_GIANG


def test_staff_suggestions_need_sign_in(client):
    response = client.get("/places/units", query_string={"q": "ba dinh"})

    assert response.status_code in (302, 401)


def test_staff_suggestions_for_a_signed_in_officer(client, make_user, login_as):
    login_as(make_user("officer"))

    response = client.get("/places/units", query_string={"q": "ba dinh"})

    assert response.status_code == 200
    assert response.json[0]["code"] == BA_DINH


def test_htmx_request_gets_a_fragment(client):
    response = client.get("/places/public/units", query_string={"q": "ham rong"},
                          headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert f'data-unit-code="{HAM_RONG}"' in response.get_data(as_text=True)


def test_overlong_query_is_cut_not_refused(client):
    response = client.get("/places/public/units", query_string={"q": "a" * 5000})

    assert response.status_code == 200
    assert response.json == []


def test_admin_sees_the_units_with_their_former_communes(client, make_user, login_as):
    login_as(make_user("admin"))

    page = client.get("/places/").get_data(as_text=True)

    assert "Phường Hàm Rồng" in page and "Đông Thọ" in page


def test_reference_data_page_is_for_admins_only(client, make_user, login_as):
    login_as(make_user("officer"))

    assert client.get("/places/").status_code == 403
