"""The calendar of occasions: solar and Vietnamese lunar dates, what is coming, reminders."""
import importlib.util
import os
from datetime import date
from types import SimpleNamespace

import lunar_vn
import pytest

from registry.outreach import calendar

MIGRATION = os.path.join(os.path.dirname(__file__), "..", "migrations", "versions",
                         "2026_12_03_outreach.py")


def occasion(kind="lunar", month=1, day=1, remind=30, active=True, name="Dịp"):
    return SimpleNamespace(kind=kind, month=month, day=day, remind_days_before=remind,
                           is_active=active, name=name)


def default_occasions() -> list:
    spec = importlib.util.spec_from_file_location("outreach_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [occasion(kind, month, day, remind, name=name)
            for name, _en, kind, month, day, remind in module.DEFAULTS]


TET = occasion("lunar", 1, 1, remind=45, name="Tết Nguyên Đán")


@pytest.mark.parametrize("year, expected", [
    (2026, date(2026, 2, 17)), (2027, date(2027, 2, 6)), (2028, date(2028, 1, 26)),
    (2029, date(2029, 2, 13)), (2030, date(2030, 2, 2)),
])
def test_tet_falls_on_vietnams_dates(year, expected):
    assert calendar.date_in(TET, year) == expected


def test_tet_2030_differs_from_chinas_calendar():
    china = lunar_vn.convert_lunar_to_solar(1, 1, 2030, 0, 8.0)

    assert china == date(2030, 2, 3)
    assert calendar.date_in(TET, 2030) == date(2030, 2, 2)


@pytest.mark.parametrize("month, day, expected", [
    (8, 15, date(2026, 9, 25)),  # Trung thu
    (3, 10, date(2026, 4, 26)),  # Giỗ Tổ Hùng Vương
    (8, 22, date(2026, 10, 2)),  # Lễ hội Lam Kinh
])
def test_other_lunar_occasions_in_2026(month, day, expected):
    assert calendar.date_in(occasion("lunar", month, day), 2026) == expected


def test_solar_dates_are_the_same_every_year():
    national_day = occasion("solar", 9, 2)

    assert [calendar.date_in(national_day, y) for y in (2026, 2030)] == [
        date(2026, 9, 2), date(2030, 9, 2)]


def test_the_30th_of_a_short_lunar_month_falls_on_its_29th():
    # The 8th lunar month of 2026 has 29 days: 29/8 is 9 October, 1/9 is 10 October.
    end_of_month = calendar.date_in(occasion("lunar", 8, 30), 2026)

    assert end_of_month == date(2026, 10, 9)
    assert lunar_vn.solar_to_lunar(end_of_month) == lunar_vn.LunarDate(29, 8, 2026)


def test_the_30th_of_a_long_lunar_month_stays():
    assert calendar.date_in(occasion("lunar", 1, 30), 2026) == date(2026, 3, 18)


def test_a_leap_year_uses_the_regular_month_not_its_repetition():
    # 2028 has a leap 5th month; 15/5 is the first, regular one.
    fifteenth = calendar.date_in(occasion("lunar", 5, 15), 2028)

    assert lunar_vn.solar_to_lunar(fifteenth) == lunar_vn.LunarDate(15, 5, 2028, False)


def test_29_february_falls_on_the_28th_in_common_years():
    leap_day = occasion("solar", 2, 29)

    assert calendar.date_in(leap_day, 2027) == date(2027, 2, 28)
    assert calendar.date_in(leap_day, 2028) == date(2028, 2, 29)


def test_a_late_lunar_date_comes_from_the_lunar_year_before():
    # 23 tháng Chạp of the lunar year 2025 is in February 2026, a week before Tết.
    tao_quan = calendar.date_in(occasion("lunar", 12, 23), 2026)

    assert tao_quan == date(2026, 2, 10)


def test_a_late_lunar_date_can_miss_a_gregorian_year():
    # 30/11 of the lunar year 2027 is in December 2027, of 2028 in January 2029.
    assert calendar.date_in(occasion("lunar", 11, 30), 2028) is None


def test_coming_lists_the_active_occasions_within_the_horizon_soonest_first():
    occasions = default_occasions()
    occasions[0].is_active = False  # Tết Dương lịch

    found = calendar.coming(occasions, date(2026, 12, 3), horizon_days=120)

    assert [(o.name, when) for o, when in found] == [
        ("Tết Nguyên Đán", date(2027, 2, 6))]


def test_coming_takes_this_years_date_until_it_has_passed():
    occasions = default_occasions()

    found = calendar.coming(occasions, date(2026, 4, 1), horizon_days=40)

    assert [(o.name, when) for o, when in found] == [
        ("Giỗ Tổ Hùng Vương", date(2026, 4, 26)),
        ("Ngày Giải phóng miền Nam", date(2026, 4, 30)),
        ("Quốc tế Lao động", date(2026, 5, 1)),
        ("Ngày kỷ niệm Danh xưng Thanh Hóa", date(2026, 5, 8)),
    ]


def test_every_default_occasion_has_a_date_each_year():
    for found in default_occasions():
        assert calendar.rule_problem(found.kind, found.month, found.day) is None
        assert all(calendar.date_in(found, year) for year in range(2026, 2031))


def test_tets_reminder_starts_weeks_before_23_thang_chap():
    tao_quan_2027 = date(2027, 1, 30)  # 23/12 of the lunar year 2026

    assert calendar.in_reminder_window(TET, date(2026, 12, 23)) == date(2027, 2, 6)
    assert calendar.in_reminder_window(TET, date(2026, 12, 22)) is None
    assert (tao_quan_2027 - date(2026, 12, 23)).days == 38
    assert calendar.date_in(occasion("lunar", 12, 23), 2027) == tao_quan_2027


def test_an_inactive_occasion_has_no_reminder():
    assert calendar.in_reminder_window(occasion(active=False), date(2027, 2, 1)) is None


@pytest.mark.parametrize("kind, month, day, problem", [
    ("lunar", 1, 31, "day out of range"), ("lunar", 13, 1, "month out of range"),
    ("solar", 2, 30, "day out of range"), ("solar", 0, 1, "month out of range"),
    ("julian", 1, 1, "unknown calendar"), ("solar", 12, 31, None), ("lunar", 12, 30, None),
])
def test_rule_problems(kind, month, day, problem):
    assert calendar.rule_problem(kind, month, day) == problem
