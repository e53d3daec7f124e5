"""Turning what people type into the forms the registry stores and compares."""
import re
from dataclasses import dataclass
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l

from registry.core.time import vietnam_today

_MARKUP = re.compile(r"[<>{}\[\]\\|`^~$%=]|&#?\w+;")
_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?$", re.UNICODE)
_DOCUMENT = re.compile(r"[^0-9A-Z]")
_DATE_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_DATE_MY = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")
_YEAR = re.compile(r"^(\d{4})$")


class Invalid(ValueError):
    """A value that cannot be stored; its message is a translatable string."""


@dataclass(frozen=True)
class BirthDate:
    year: int | None
    month: int | None = None
    day: int | None = None

    def display(self) -> str:
        if self.year is None:
            return ""
        if self.month is None:
            return str(self.year)
        if self.day is None:
            return f"{self.month:02d}/{self.year}"
        return f"{self.day:02d}/{self.month:02d}/{self.year}"


def has_markup(text: str | None) -> bool:
    """Tell whether text holds characters used by markup or templates."""
    return bool(text) and bool(_MARKUP.search(text))


def check_person_name(text: str) -> None:
    """Raise Invalid unless text looks like a person's name."""
    if has_markup(text) or not _NAME_CHARS.match(text):
        raise Invalid(_l("A name may contain only letters, spaces, hyphens and apostrophes."))


def parse_birth_date(text: str | None, today: date | None = None) -> BirthDate:
    """Return the date of birth in text: dd/mm/yyyy, mm/yyyy, yyyy or ISO."""
    text = (text or "").strip()
    if not text:
        return BirthDate(None)
    birth = _match_birth_date(text)
    if birth is None:
        raise Invalid(_l("Write the date of birth as dd/mm/yyyy, mm/yyyy or yyyy."))
    _check_birth_date(birth, today or vietnam_today())
    return birth


def normalise_phone(text: str, country_code: str | None) -> tuple[str, str]:
    """Return (E.164, national digits) for a phone typed in any common format."""
    region = (country_code or "VN").upper()
    cleaned = text.strip()
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    try:
        number = phonenumbers.parse(cleaned, None if cleaned.startswith("+") else region)
    except phonenumbers.NumberParseException:
        raise Invalid(_l("This is not a phone number.")) from None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise Invalid(_l("This phone number is not valid for its country."))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, str(number.national_number)


def phone_search_keys(text: str) -> tuple[set[str], str]:
    """Return (E.164 candidates, national digits) to look a typed phone up."""
    digits = re.sub(r"\D", "", text).removeprefix("00" if text.strip().startswith("00") else "")
    international = set()
    try:
        number = phonenumbers.parse("+" + digits, None)
        if phonenumbers.is_valid_number(number):
            international.add(phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164))
    except phonenumbers.NumberParseException:
        pass
    if text.strip().startswith(("+", "00")):
        national = str(number.national_number) if international else digits
        return international, national
    return international, digits.lstrip("0")


def display_phone(e164: str) -> str:
    """Return an E.164 number in international format for reading."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalise_email(text: str) -> str:
    """Return the e-mail address checked and in lower case."""
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise Invalid(_l("This e-mail address is not valid.")) from None
    return result.normalized.lower()


def normalise_document(text: str | None) -> str | None:
    """Return a passport or ID number upper-cased without spaces or dashes."""
    cleaned = _DOCUMENT.sub("", (text or "").upper())
    return cleaned or None


def check_national_id(number: str | None) -> None:
    """Raise Invalid unless number is a 9-digit CMND or a 12-digit CCCD."""
    if number and not (number.isdigit() and len(number) in (9, 12)):
        raise Invalid(_l("A Vietnamese ID number has 9 or 12 digits."))


def check_passport(number: str | None) -> None:
    """Raise Invalid unless number looks like a passport number."""
    if number and not (6 <= len(number) <= 12):
        raise Invalid(_l("A passport number has 6 to 12 letters and digits."))


def _match_birth_date(text: str) -> BirthDate | None:
    if match := _DATE_DMY.match(text):
        day, month, year = (int(part) for part in match.groups())
        return BirthDate(year, month, day)
    if match := _DATE_MY.match(text):
        return BirthDate(int(match.group(2)), int(match.group(1)))
    if match := _DATE_ISO.match(text):
        year, month, day = match.groups()
        return BirthDate(int(year), int(month), int(day) if day else None)
    if match := _YEAR.match(text):
        return BirthDate(int(match.group(1)))
    return None


def _check_birth_date(birth: BirthDate, today: date) -> None:
    if birth.month is not None and not 1 <= birth.month <= 12:
        raise Invalid(_l("This date does not exist."))
    if birth.day is not None:
        try:
            date(birth.year, birth.month, birth.day)
        except ValueError:
            raise Invalid(_l("This date does not exist.")) from None
    if birth.year < 1900:
        raise Invalid(_l("The year of birth is too far in the past."))
    if (birth.year, birth.month or 1, birth.day or 1) > (today.year, today.month, today.day):
        raise Invalid(_l("The date of birth cannot be in the future."))
