"""The columns of an import file and the checks of one row, like the person form's.

A row's problems are kept as {"column", "message", "params"} with the English
msgid, so that the report is translated into whoever reads it later.
"""
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from registry.core.text import fold, nfc
from registry.core.time import vietnam_today
from registry.imports.parsing import Formula, msgid_of
from registry.people import normalise
from registry.people.forms import MAX_EMAILS, MAX_PHONES
from registry.people.normalise import Invalid

# The registry fields a column can be mapped to, with the Vietnamese header name.
HEADERS = {
    "source_ref": "Mã tham chiếu", "full_name": "Họ và tên", "gender": "Giới tính",
    "date_of_birth": "Ngày sinh", "hometown_commune": "Quê quán",
    "hometown_district": "Huyện (cũ)", "country": "Nước cư trú", "city": "Thành phố",
    "address": "Địa chỉ", "phone": "Số điện thoại", "email": "Email",
    "passport_number": "Số hộ chiếu", "occupation": "Nghề nghiệp",
}
FIELDS = tuple(HEADERS)
FIELD_LABELS = {
    "source_ref": _l("Reference in the source"), "full_name": _l("Full name"),
    "gender": _l("Gender"), "date_of_birth": _l("Date of birth"),
    "hometown_commune": _l("Hometown (commune or ward)"),
    "hometown_district": _l("Former district of the hometown"),
    "country": _l("Country of residence"), "city": _l("City"),
    "address": _l("Address abroad"), "phone": _l("Phone"), "email": _l("E-mail"),
    "passport_number": _l("Passport number"), "occupation": _l("Occupation"),
}
REQUIRED_FIELDS = ("full_name", "hometown_commune", "country")
# Other names people give these columns, compared as header_key() makes them.
ALIASES = {
    "ho ten": "full_name", "ten": "full_name", "name": "full_name",
    "gioi": "gender", "sex": "gender", "phai": "gender",
    "ngay thang nam sinh": "date_of_birth", "nam sinh": "date_of_birth",
    "birth date": "date_of_birth", "dob": "date_of_birth",
    "que": "hometown_commune", "xa": "hometown_commune", "xa phuong": "hometown_commune",
    "hometown": "hometown_commune", "huyen": "hometown_district",
    "quoc gia": "country", "nuoc": "country", "dia chi o nuoc ngoai": "address",
    "dien thoai": "phone", "sdt": "phone", "so dt": "phone", "e mail": "email",
    "ho chieu": "passport_number", "passport": "passport_number",
    "nghe": "occupation", "ma": "source_ref", "ref": "source_ref", "id": "source_ref",
}
# Longest text each column may hold; the person form's limits where it has one.
LIMITS = {"source_ref": 80, "full_name": 120, "gender": 10, "date_of_birth": 10,
          "hometown_commune": 120, "hometown_district": 120, "country": 80, "city": 120,
          "address": 255, "phone": 200, "email": 600, "passport_number": 20,
          "occupation": 120}
GENDERS = {"m": "male", "nam": "male", "male": "male", "f": "female", "nu": "female",
           "female": "female"}
_LIST_SEPARATORS = re.compile(r"[;,/\n]")
_KEY_NOISE = re.compile(r"[\s_.\-]+")
_HEADER_PARTS = re.compile(r"[/|()\[\]]")

REQUIRED = _l("This field is required.")
TOO_LONG = _l("At most %(max)d characters.")
FORMULA = _l("Formulas are not accepted.")
BAD_GENDER = _l("Write the gender as M, F, Nam or Nữ.")
BAD_DATE = _l("Write the date of birth as YYYY-MM-DD, DD/MM/YYYY, YYYY-MM or YYYY.")
UNKNOWN_COMMUNE = _l("No commune or ward of Thanh Hóa is called “%(name)s”.")
AMBIGUOUS_COMMUNE = _l("“%(name)s” fits several units (%(units)s): give the former "
                       "district in its own column, or the current unit's name.")
UNKNOWN_COUNTRY = _l("No country is called “%(name)s”.")
TOO_MANY = _l("At most %(max)d values.")
EXTRA_CELLS = _l("This row has more cells than the header has columns.")
SAME_AS_ROW = _l("The same person as row %(row)d.")
ALREADY_IMPORTED = _l("Reference “%(ref)s” was imported before.")


def header_key(text: str) -> str:
    """Return the key a header is compared by: no case, marks, spaces or underscores."""
    return _KEY_NOISE.sub(" ", fold(text).replace("_", " ")).strip()


_KNOWN = {header_key(name): name for name in FIELDS}
_KNOWN.update({header_key(vietnamese): name for name, vietnamese in HEADERS.items()})
_KNOWN.update({header_key(alias): name for alias, name in ALIASES.items()})


def known_field(header: str) -> str | None:
    """Return the field a header names in English or Vietnamese, or None."""
    key = header_key(header)
    if key in _KNOWN:
        return _KNOWN[key]
    # "Họ và tên / full_name", "Quê quán (hometown_commune)": any part may say it.
    parts = [header_key(part) for part in _HEADER_PARTS.split(header)]
    found = {_KNOWN[part] for part in parts if part in _KNOWN}
    return found.pop() if len(found) == 1 else None


def auto_mapping(headers: list[str]) -> tuple[dict[str, str], list[str]]:
    """Return ({header: field} for the headers recognised, the headers left over)."""
    mapping, unknown = {}, []
    for header in filter(None, headers):
        name = known_field(header)
        if name and name not in mapping.values():
            mapping[header] = name
        else:
            unknown.append(header)
    return mapping, unknown


def error(column: str | None, message, **params) -> dict:
    """Return a row problem as stored: the column, the msgid and its values."""
    return {"column": column, "message": msgid_of(message), "params": params}


def error_text(problem: dict) -> str:
    """Return a stored row problem in the current language."""
    return gettext(problem["message"], **(problem.get("params") or {}))


@dataclass
class Checked:
    """One row after checking: its cleaned data, or its problems."""

    row_number: int
    data: dict | None
    errors: list[dict] = field(default_factory=list)
    duplicate_key: tuple | None = None
    source_ref: str | None = None  # as given, kept for the report of an invalid row


class RowChecker:
    """Check rows as the person form would, remembering resolved places."""

    def __init__(self, headers: list[str], mapping: dict[str, str],
                 today: date | None = None):
        self.columns = [(index, header, mapping[header]) for index, header
                        in enumerate(headers) if header and mapping.get(header) in HEADERS]
        self.column_of = {name: header for _index, header, name in self.columns}
        self.headers = headers
        self.width = len(headers)
        self.today = today or vietnam_today()
        self._hometowns: dict[tuple, tuple] = {}
        self._countries: dict[str, str | None] = {}

    def check(self, row_number: int, cells: list[str]) -> Checked:
        """Return the row checked: cleaned data when valid, else its problems."""
        problems = [error(self._header(index), FORMULA)
                    for index, cell in enumerate(cells) if isinstance(cell, Formula)]
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width:]):
            problems.append(error(None, EXTRA_CELLS))
        values = {}
        for index, header, name in self.columns:
            text = cells[index] if index < len(cells) else ""
            if isinstance(text, Formula):
                text = None  # reported above
            elif text:
                text = nfc(text)
                if len(text) > LIMITS[name]:
                    problems.append(error(header, TOO_LONG, max=LIMITS[name]))
                    text = None
            values[name] = text

        data = self._clean(values, problems)
        if problems:
            return Checked(row_number, None, problems, source_ref=values.get("source_ref"))
        return Checked(row_number, data, [], self._duplicate_key(data))

    def _header(self, index: int) -> str | None:
        return self.headers[index] or None if index < self.width else None

    def _clean(self, values: dict, problems: list) -> dict:
        spoiled = {name for name, text in values.items() if text is None}
        data = {"source_ref": values.get("source_ref") or None}
        for key, clean, source in (
                ("full_name", self._name, "full_name"), ("gender", self._gender, "gender"),
                ("birth", self._birth, "date_of_birth"),
                ("hometown", self._hometown, "hometown_commune"),
                ("country_code", self._country, "country"), ("phones", self._phones, "phone"),
                ("emails", self._emails, "email"),
                ("passport_number", self._passport, "passport_number")):
            if source in spoiled:  # its problem is reported already
                continue
            try:
                data[key] = clean(values, data)
            except _Problem as problem:
                problems.append(problem.args[0])
            except Invalid as invalid:
                problems.append(error(self.column_of.get(invalid.field), invalid.args[0]))
        data["city"] = values.get("city") or None
        data["address_abroad"] = values.get("address") or None
        data["occupation"] = values.get("occupation") or None
        return data

    def _name(self, values: dict, data: dict) -> str:
        text = values.get("full_name", "")
        if not text:
            raise _Problem(error(self.column_of.get("full_name", "full_name"), REQUIRED))
        _raise_for("full_name", normalise.check_person_name, text)
        return text

    def _gender(self, values: dict, data: dict) -> str | None:
        text = values.get("gender", "")
        if not text:
            return None
        if fold(text) not in GENDERS:
            raise _Problem(error(self.column_of["gender"], BAD_GENDER))
        return GENDERS[fold(text)]

    def _birth(self, values: dict, data: dict) -> list | None:
        text = values.get("date_of_birth", "")
        if not text:
            return None
        birth = _raise_for("date_of_birth", normalise.parse_birth_date, text, self.today)
        return [birth.year, birth.month, birth.day]

    def _hometown(self, values: dict, data: dict) -> list:
        commune = values.get("hometown_commune", "")
        if not commune:
            raise _Problem(error(self.column_of.get("hometown_commune", "hometown_commune"),
                                 REQUIRED))
        key = (commune, values.get("hometown_district") or "")
        if key not in self._hometowns:
            self._hometowns[key] = _resolve_hometown(*key)
        found, problem = self._hometowns[key]
        if problem:
            message, params = problem
            raise _Problem(error(self.column_of["hometown_commune"], message, **params))
        return [found[0], found[1], commune]

    def _country(self, values: dict, data: dict) -> str:
        text = values.get("country", "")
        if not text:
            raise _Problem(error(self.column_of.get("country", "country"), REQUIRED))
        if text not in self._countries:
            from registry.places import operations as places

            self._countries[text] = places.resolve_country(text)
        if self._countries[text] is None:
            raise _Problem(error(self.column_of["country"], UNKNOWN_COUNTRY, name=text))
        return self._countries[text]

    def _phones(self, values: dict, data: dict) -> list:
        country = data.get("country_code")
        if country is None:
            return []
        texts = _split(values.get("phone", ""))
        if len(texts) > MAX_PHONES:
            raise _Problem(error(self.column_of["phone"], TOO_MANY, max=MAX_PHONES))
        phones = [_raise_for("phone", normalise.normalise_phone, text, country)
                  for text in texts]
        return [list(pair) for pair in dict.fromkeys(phones)]

    def _emails(self, values: dict, data: dict) -> list:
        texts = _split(values.get("email", ""))
        if len(texts) > MAX_EMAILS:
            raise _Problem(error(self.column_of["email"], TOO_MANY, max=MAX_EMAILS))
        return list(dict.fromkeys(_raise_for("email", normalise.normalise_email, text)
                                  for text in texts))

    def _passport(self, values: dict, data: dict) -> str | None:
        number = normalise.normalise_document(values.get("passport_number"))
        _raise_for("passport_number", normalise.check_passport, number)
        return number

    def _duplicate_key(self, data: dict) -> tuple | None:
        """Return what makes two rows of a file the same person, if the row has it."""
        if not data["phones"]:
            return None
        return fold(data["full_name"]), tuple(data["birth"] or ()), data["phones"][0][0]


class _Problem(Exception):
    """A row problem found while cleaning one value."""


def _raise_for(name: str, check, *args):
    try:
        return check(*args)
    except Invalid as invalid:
        invalid.field = name
        raise


def _split(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


def _resolve_hometown(commune: str, district: str) -> tuple[tuple | None, tuple | None]:
    """Return ((unit code, former code), None) or (None, (message, params))."""
    from registry.places import operations as places

    found = places.resolve_hometown(commune, district or None)
    if found.status == places.EXACT:
        return (found.unit.code, found.former.code if found.former else None), None
    if found.status == places.UNKNOWN:
        return None, (UNKNOWN_COMMUNE, {"name": commune})
    units = ", ".join(unit.full_name for unit in found.candidates)
    return None, (AMBIGUOUS_COMMUNE, {"name": commune, "units": units})
