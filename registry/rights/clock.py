"""The legal clock of a request: Vietnam working days and the two deadlines.

Decree 356/2025/NĐ-CP gives two working days to acknowledge a request and
fifteen days to complete it. Working days are Monday to Friday, without the
public holidays of the Labour Code 2019 (article 112). Deadlines fall at the end
of a day in Vietnam time and are stored in UTC.
"""
from datetime import UTC, date, datetime, time, timedelta

from registry.core.time import VIETNAM, as_utc

WORKING_DAYS_TO_ACKNOWLEDGE = 2
DAYS_TO_COMPLETE = 15
FIRST_YEAR, LAST_YEAR = 2026, 2030

# New Year's Day, Reunification Day, Labour Day and National Day.
SOLAR_HOLIDAYS = ((1, 1), (4, 30), (5, 1), (9, 2))
# National Day has a second day, 1/9 or 3/9 as the government decides each year.
# TODO: these are the days that join a weekend, until each year's decision is out.
NATIONAL_DAY_SECOND = (date(2026, 9, 1), date(2027, 9, 3), date(2028, 9, 1),
                       date(2029, 9, 3), date(2030, 9, 3))

# Hùng Kings' Commemoration, 10th day of the 3rd lunar month, converted to the
# solar calendar for Vietnam's time zone.
HUNG_KINGS = (date(2026, 4, 26), date(2027, 4, 16), date(2028, 4, 4), date(2029, 4, 23),
              date(2030, 4, 12))

# Tết, the lunar new year. The government decides each year's days off some months
# ahead; the lunar new year days are those of the Vietnamese calendar (UTC+7:
# 2030 begins on 2 February in Vietnam and on the 3rd in China). 2026 is the decided
# range (14 to 22 February); for later years, the Labour Code's five days are taken
# as the day before the new year, the new year's day and the three after it.
# TODO: replace the 2027-2030 ranges with the government's decision each year, and
# add the years after 2030; past LAST_YEAR only weekends and solar holidays count.
TET_NEW_YEAR = (date(2026, 2, 17), date(2027, 2, 6), date(2028, 1, 26), date(2029, 2, 13),
                date(2030, 2, 2))
TET_DECIDED = {2026: (date(2026, 2, 14), date(2026, 2, 22))}


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def _tet_days() -> set[date]:
    days: set[date] = set()
    for new_year in TET_NEW_YEAR:
        first, last = TET_DECIDED.get(
            new_year.year, (new_year - timedelta(days=1), new_year + timedelta(days=3)))
        days |= _days(first, last)
    return days


def _with_days_in_lieu(days: set[date]) -> set[date]:
    # A holiday on a Saturday or Sunday gives the next working day off (article 111).
    result = set(days)
    for day in sorted(days):
        if day.weekday() < 5:
            continue
        following = day + timedelta(days=1)
        while following.weekday() >= 5 or following in result:
            following += timedelta(days=1)
        result.add(following)
    return result


def _holidays() -> frozenset[date]:
    fixed = {date(year, month, day) for year in range(FIRST_YEAR, LAST_YEAR + 1)
             for month, day in SOLAR_HOLIDAYS}
    fixed |= set(NATIONAL_DAY_SECOND) | set(HUNG_KINGS)
    return frozenset(_with_days_in_lieu(fixed) | _tet_days())


HOLIDAYS = _holidays()


def is_working_day(day: date) -> bool:
    """Tell whether day is a working day in Vietnam."""
    return day.weekday() < 5 and day not in HOLIDAYS


def add_working_days(day: date, count: int) -> date:
    """Return the working day that comes count working days after day."""
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def local_date(moment: datetime) -> date:
    """Return the calendar day of moment in Vietnam."""
    return as_utc(moment).astimezone(VIETNAM).date()


def end_of(day: date) -> datetime:
    """Return the last microsecond of day in Vietnam, in UTC."""
    return datetime.combine(day, time.max, tzinfo=VIETNAM).astimezone(UTC)


def acknowledge_by(received_at: datetime) -> datetime:
    """Return when a request received at received_at must be acknowledged."""
    return end_of(add_working_days(local_date(received_at), WORKING_DAYS_TO_ACKNOWLEDGE))


def due_at(received_at: datetime) -> datetime:
    """Return when a request received at received_at must be completed."""
    return end_of(local_date(received_at) + timedelta(days=DAYS_TO_COMPLETE))


def days_left(deadline: datetime, now: datetime) -> int:
    """Return the calendar days from now to deadline in Vietnam; negative when past."""
    return (local_date(deadline) - local_date(now)).days
