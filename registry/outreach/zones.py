"""Time zones of countries of residence, for sending in the recipient's local morning.

A country's zone comes from Babel's CLDR data; a country with several zones gets the
one in MAIN_ZONES. Unknown or missing codes get Vietnam's zone.

TODO: a recipient in a country with several zones gets its main zone (an officer in
Houston receives the Los Angeles morning), because the city of residence is free text
and not mapped to zones.
"""
import logging
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import get_global

log = logging.getLogger(__name__)
VIETNAM_ZONE = "Asia/Ho_Chi_Minh"

#: the zone where most people live, or where the Vietnamese community concentrates,
#: for every territory CLDR gives several zones; alternatives follow for tz databases
#: that know a zone by another name (Kyiv was Kiev before tzdata 2022b)
MAIN_ZONES = {
    "AQ": ("Antarctica/McMurdo",),  # the largest station
    "AR": ("America/Argentina/Buenos_Aires",),
    "AU": ("Australia/Sydney",),
    "BR": ("America/Sao_Paulo",),
    "CA": ("America/Toronto",),
    "CD": ("Africa/Kinshasa",),
    "CL": ("America/Santiago",),
    "CN": ("Asia/Shanghai",),
    "CY": ("Asia/Nicosia",),
    "DE": ("Europe/Berlin",),
    "EC": ("America/Guayaquil",),
    "ES": ("Europe/Madrid",),
    "FM": ("Pacific/Chuuk",),  # the most populous state; Pohnpei has the capital
    "GL": ("America/Nuuk",),
    "ID": ("Asia/Jakarta",),
    "KI": ("Pacific/Tarawa",),
    "KZ": ("Asia/Almaty",),
    "MH": ("Pacific/Majuro",),
    "MN": ("Asia/Ulaanbaatar",),
    "MX": ("America/Mexico_City",),
    "MY": ("Asia/Kuala_Lumpur",),
    "NZ": ("Pacific/Auckland",),
    "PF": ("Pacific/Tahiti",),
    "PG": ("Pacific/Port_Moresby",),
    "PS": ("Asia/Hebron",),  # the West Bank, where most Palestinians live
    "PT": ("Europe/Lisbon",),
    "RU": ("Europe/Moscow",),
    "UA": ("Europe/Kyiv", "Europe/Kiev"),
    "UM": ("Pacific/Wake",),  # the only islands with residents, contractors
    "US": ("America/Los_Angeles",),  # the largest Vietnamese community
    "UZ": ("Asia/Tashkent",),
}
#: CLDR's codes that are no country: the world (001) and the unknown region (ZZ)
NOT_COUNTRIES = {"001", "ZZ"}


def country_zone(country_code: str | None) -> ZoneInfo:
    """Return the time zone of the country, Vietnam's for an unknown or missing code."""
    return _zone_of((country_code or "").strip().upper())


def local_time_utc(day: date, hour: int, country_code: str | None) -> datetime:
    """Return, as naive UTC, the moment the clock shows hour:00 on day in the country.

    An hour that does not exist (the clock jumps over it when summer time begins) or
    exists twice (when it ends) is read with fold=0, zoneinfo's default: the offset in
    force before the change. So 02:00 in a gap is the moment the clock jumps (03:00 by
    the new clock), and a repeated 01:00 is the first one, still in summer time.
    """
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be 0 to 23, not {hour}")

    local = datetime(day.year, day.month, day.day, hour,
                     tzinfo=country_zone(country_code), fold=0)
    return local.astimezone(UTC).replace(tzinfo=None)


def next_local_morning(after_utc: datetime, day: date, hour: int,
                       country_code: str | None) -> datetime:
    """Return when to send: hour:00 local on day, or after_utc if that has passed.

    A campaign approved late still goes out at once rather than waiting a year.
    after_utc may be naive UTC or aware; the answer is of the same kind.
    """
    moment = local_time_utc(day, hour, country_code)
    if after_utc.tzinfo is None:
        return max(moment, after_utc)

    return max(moment.replace(tzinfo=UTC), after_utc.astimezone(UTC))


@cache
def _zone_of(code: str) -> ZoneInfo:
    for zone_id in _candidates(code):
        try:
            return ZoneInfo(zone_id)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("Time zone %s of %s is not in the tz database", zone_id, code)
    return ZoneInfo(VIETNAM_ZONE)


def _candidates(code: str) -> tuple[str, ...]:
    if code in NOT_COUNTRIES:
        return ()
    if code in MAIN_ZONES:
        return MAIN_ZONES[code]

    # Several zones without a MAIN_ZONES entry only after a Babel upgrade; the test
    # of every territory says which to add. Until then CLDR's order decides.
    return tuple(get_global("territory_zones").get(code, ()))
