"""Template helpers: dates as dd/mm/yyyy, country names, the CSP nonce."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, request, url_for
from flask_babel import get_locale

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def init_app(app: Flask) -> None:
    """Register filters and globals on app's Jinja environment."""
    app.jinja_env.filters["dmy"] = format_dmy
    app.jinja_env.filters["dmy_time"] = format_dmy_time
    app.jinja_env.globals["csp_nonce"] = lambda: g.get("csp_nonce", "")
    app.jinja_env.globals["current_lang"] = lambda: str(get_locale() or "vi")
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["country_label"] = country_label
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def format_dmy(value: date | datetime | None) -> str:
    """Return value as dd/mm/yyyy, the way Vietnamese forms write dates."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return value.strftime("%d/%m/%Y")


def format_dmy_time(value: datetime | None) -> str:
    """Return value in Vietnam time as dd/mm/yyyy HH:MM."""
    if value is None:
        return ""
    return _local(value).strftime("%d/%m/%Y %H:%M")


def country_label(code: str | None) -> str:
    """Return the name of a country in the interface language."""
    if not code:
        return ""
    from registry.places.operations import country_name

    return country_name(code, str(get_locale() or "vi"))


def url_with(**changes) -> str:
    """Return the current URL with some query arguments replaced."""
    args = request.args.to_dict()
    args.update({key: value for key, value in changes.items() if value is not None})
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def _local(value: datetime) -> datetime:
    from registry.core.time import as_utc

    return as_utc(value).astimezone(VIETNAM)
