"""Time zones of countries of residence and the UTC moment of a local morning."""
import zoneinfo
from datetime import UTC, date, datetime

import pytest
from babel.core import get_global

from registry.outreach import zones
from registry.outreach.zones import country_zone, local_time_utc, next_local_morning

TERRITORY_ZONES = get_global("territory_zones")
SEVERAL_ZONES = sorted(code for code, ids in TERRITORY_ZONES.items()
                       if len(ids) > 1 and code not in zones.NOT_COUNTRIES)


def test_nine_in_the_morning_in_japan_is_midnight_utc():
    assert local_time_utc(date(2027, 2, 6), 9, "JP") == datetime(2027, 2, 6, 0, 0)


def test_the_answer_is_naive_utc():
    assert local_time_utc(date(2027, 2, 6), 9, "JP").tzinfo is None


def test_united_states_morning_moves_with_summer_time():
    assert local_time_utc(date(2027, 7, 4), 9, "US") == datetime(2027, 7, 4, 16, 0)
    assert local_time_utc(date(2027, 1, 15), 9, "US") == datetime(2027, 1, 15, 17, 0)


def test_a_country_with_several_zones_uses_the_main_zone_of_the_table():
    assert country_zone("AU").key == "Australia/Sydney"
    assert country_zone("US").key == "America/Los_Angeles"
    assert local_time_utc(date(2027, 1, 26), 9, "AU") == datetime(2027, 1, 25, 22, 0)


def test_a_country_with_one_zone_uses_it():
    assert country_zone("JP").key == "Asia/Tokyo"
    assert country_zone("KR").key == "Asia/Seoul"


@pytest.mark.parametrize("code", ["XX", "", None, "  ", "001", "ZZ", "VNM"])
def test_an_unknown_or_missing_code_gets_vietnam(code):
    assert country_zone(code).key == "Asia/Ho_Chi_Minh"
    assert local_time_utc(date(2027, 2, 6), 9, code) == datetime(2027, 2, 6, 2, 0)


def test_codes_are_read_without_regard_to_case_or_spaces():
    assert country_zone(" jp ").key == "Asia/Tokyo"


def test_a_moment_already_passed_gives_after_utc_itself():
    late = datetime(2027, 2, 6, 5, 30)

    assert next_local_morning(late, date(2027, 2, 6), 9, "JP") == late


def test_a_moment_still_to_come_is_the_local_morning():
    early = datetime(2027, 2, 5, 12, 0)

    assert next_local_morning(early, date(2027, 2, 6), 9, "JP") == datetime(2027, 2, 6)


def test_an_aware_after_utc_gives_an_aware_answer():
    early = datetime(2027, 2, 5, 12, 0, tzinfo=UTC)
    late = datetime(2027, 2, 6, 5, 30, tzinfo=UTC)

    assert next_local_morning(early, date(2027, 2, 6), 9, "JP") == datetime(
        2027, 2, 6, tzinfo=UTC)
    assert next_local_morning(late, date(2027, 2, 6), 9, "JP") is late


def test_an_hour_skipped_by_summer_time_is_the_moment_the_clock_jumps():
    # Los Angeles goes from 01:59 to 03:00 on 14 March 2027; 02:00 reads as standard time
    assert local_time_utc(date(2027, 3, 14), 2, "US") == datetime(2027, 3, 14, 10, 0)


def test_an_hour_repeated_when_summer_time_ends_is_the_first_one():
    # 01:00 comes twice on 7 November 2027 in Los Angeles: first at UTC-7, then UTC-8
    assert local_time_utc(date(2027, 11, 7), 1, "US") == datetime(2027, 11, 7, 8, 0)


@pytest.mark.parametrize("hour", [-1, 24])
def test_an_hour_outside_the_day_is_refused(hour):
    with pytest.raises(ValueError):
        local_time_utc(date(2027, 2, 6), hour, "JP")


def test_the_tz_database_is_available():
    assert "Asia/Ho_Chi_Minh" in zoneinfo.available_timezones()


@pytest.mark.parametrize("code", sorted(TERRITORY_ZONES))
def test_every_territory_babel_lists_resolves_to_a_zone_zoneinfo_knows(code):
    assert country_zone(code).key in zoneinfo.available_timezones()


@pytest.mark.parametrize("code", SEVERAL_ZONES)
def test_every_country_with_several_zones_has_a_main_zone_among_its_own(code):
    main = country_zone(code).key

    assert code in zones.MAIN_ZONES
    assert main in TERRITORY_ZONES[code] or _alias_of(main) in TERRITORY_ZONES[code]


def test_the_table_names_only_countries_with_several_zones():
    assert sorted(zones.MAIN_ZONES) == SEVERAL_ZONES


def _alias_of(zone_id: str) -> str | None:
    return get_global("zone_aliases").get(zone_id)
