"""Timestamps are stored in UTC; display converts to Vietnam time."""
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Return value as aware UTC; SQLite hands back naive datetimes."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def vietnam_today() -> date:
    """Return today's date in Vietnam, which runs seven hours ahead of the server's UTC."""
    return utcnow().astimezone(VIETNAM).date()
