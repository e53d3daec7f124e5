"""When occasions fall: solar dates as they are, lunar dates converted for Vietnam.

Pure date logic, with no database: an occasion here is anything with `kind`, `month`,
`day`, `remind_days_before` and `is_active`.
"""
from datetime import date, timedelta

import lunar_vn

SOLAR, LUNAR = "solar", "lunar"
KINDS = (SOLAR, LUNAR)
#: Vietnam's official offset from UTC; the lunar calendar of China (UTC+8) differs some years
VIETNAM_UTC_OFFSET = 7.0


def date_in(occasion, year: int) -> date | None:
    """Return the solar date of occasion in the Gregorian year, None if it has none there.

    Only a lunar date in the 11th or 12th month can miss a Gregorian year (or meet it
    twice, when the earlier is returned): lunar years straddle the solar ones.
    """
    if occasion.kind == SOLAR:
        return _solar_date(year, occasion.month, occasion.day)

    candidates = [_lunar_date(lunar_year, occasion.month, occasion.day)
                  for lunar_year in (year - 1, year)]
    in_year = [found for found in candidates if found.year == year]
    return min(in_year) if in_year else None


def next_date(occasion, today: date) -> date | None:
    """Return the first date of occasion on or after today."""
    dates = [date_in(occasion, year) for year in (today.year, today.year + 1)]
    return min((found for found in dates if found and found >= today), default=None)


def coming(occasions, today: date, horizon_days: int = 120) -> list[tuple]:
    """Return (occasion, date) for the active occasions within horizon_days, soonest first."""
    horizon = today + timedelta(days=horizon_days)
    found = [(occasion, next_date(occasion, today)) for occasion in occasions
             if occasion.is_active]
    within = [(occasion, when) for occasion, when in found if when and when <= horizon]
    return sorted(within, key=lambda pair: (pair[1], pair[0].month, pair[0].day))


def remind_from(occasion, when: date) -> date:
    """Return the first day of the reminder window of occasion falling on when."""
    return when - timedelta(days=occasion.remind_days_before)


def in_reminder_window(occasion, today: date) -> date | None:
    """Return the next date of occasion if today lies in its reminder window."""
    when = next_date(occasion, today) if occasion.is_active else None
    if when is None or today < remind_from(occasion, when):
        return None
    return when


def rule_problem(kind: str, month: int, day: int) -> str | None:
    """Return what is wrong with an occasion's date rule, in English, or None."""
    if kind not in KINDS:
        return "unknown calendar"
    if not 1 <= month <= 12:
        return "month out of range"
    longest = 30 if kind == LUNAR else _days_in_month(2024, month)  # 2024: a leap year
    if not 1 <= day <= longest:
        return "day out of range"
    return None


def _solar_date(year: int, month: int, day: int) -> date:
    # 29 February falls on the 28th in common years.
    return date(year, month, min(day, _days_in_month(year, month)))


def _days_in_month(year: int, month: int) -> int:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return (first_of_next - timedelta(days=1)).day


def _lunar_date(lunar_year: int, month: int, day: int) -> date:
    # The regular month, never its leap repetition: holidays are kept in the first one.
    first = lunar_vn.convert_lunar_to_solar(1, month, lunar_year, 0, VIETNAM_UTC_OFFSET)
    wanted = first + timedelta(days=day - 1)
    if day == 30 and lunar_vn.solar_to_lunar(wanted, VIETNAM_UTC_OFFSET).day != 30:
        return wanted - timedelta(days=1)  # a short month: its last day is the 29th
    return wanted
