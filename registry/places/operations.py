"""Thanh Hóa's units and the world's countries: loading, resolving, searching.

A hometown is recorded as a current unit (since 1 July 2025). People often give
the commune they grew up in, which may have been merged or divided since; the
former name is kept beside the unit so nothing typed is lost.
"""
import functools
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pycountry
from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import selectinload

from registry.core.text import fold, has_diacritics, nfc, tone_key
from registry.extensions import db
from registry.places.models import FormerCommune, FormerDistrict, Succession, Unit

log = logging.getLogger(__name__)

DATA_FILE = Path(__file__).parent / "data" / "thanh_hoa_units.json"
EXACT, AMBIGUOUS, SPLIT, UNKNOWN = "exact", "ambiguous", "split", "unknown"
MAX_SUGGESTIONS = 50

# Prefixes people type before a name, keyed by their accent-free form.
COMMUNE_KINDS = {"xa": "Xã", "x": "Xã", "phuong": "Phường", "p": "Phường",
                 "thi tran": "Thị trấn", "tt": "Thị trấn"}
DISTRICT_KINDS = {"huyen": "Huyện", "h": "Huyện", "thi xa": "Thị xã", "tx": "Thị xã",
                  "thanh pho": "Thành phố", "tp": "Thành phố", "tinh": "Tỉnh"}
_PARENTHESES = re.compile(r"\([^)]*\)")
_SEPARATORS = re.compile(r"[,;]")


@dataclass
class Resolution:
    """What a typed hometown stands for, and what the user still has to choose."""

    given: str  # the text as typed, NFC
    status: str  # EXACT, AMBIGUOUS, SPLIT or UNKNOWN
    unit: Unit | None = None
    former: FormerCommune | None = None  # set when a former name was matched
    candidates: list[Unit] = field(default_factory=list)  # units to choose from
    #: the former communes behind an ambiguous or split answer
    formers: list[FormerCommune] = field(default_factory=list)


# Loading ---------------------------------------------------------------------

def load_units() -> int:
    """Insert the vendored units when the unit table is empty; return units added."""
    if db.session.scalar(select(func.count()).select_from(Unit)):
        return 0
    rows = reference_rows()

    for model in (FormerDistrict, Unit, FormerCommune, Succession):
        db.session.execute(insert(model), rows[model.__tablename__])
    db.session.flush()

    log.info("Loaded %d units, %d former districts and %d former communes",
             len(rows["unit"]), len(rows["former_district"]), len(rows["former_commune"]))
    return len(rows["unit"])


def reference_rows() -> dict[str, list[dict]]:
    """Return the vendored units as plain rows by table name (migrations use it too)."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))

    def place(item: dict) -> dict:
        return {"code": item["code"], "name": item["name"], "kind": item["kind"],
                "name_folded": fold(item["name"])}

    communes = data["former_communes"]
    return {
        "former_district": [place(item) for item in data["former_districts"]],
        "unit": [place(item) for item in data["units"]],
        "former_commune": [{**place(item), "district_code": item["district"],
                            "is_split": bool(item.get("is_split"))} for item in communes],
        "succession": [
            {"former_code": item["code"], "unit_code": code,
             "is_main": code == item.get("main", item["successors"][0])}
            for item in communes for code in item["successors"]],
    }


# Looking units up ------------------------------------------------------------

def get_unit(code: str | None) -> Unit | None:
    """Return the current unit with this code, or None."""
    return db.session.get(Unit, code) if code else None


def unit_choices() -> list[tuple[str, str]]:
    """Return (code, "Xã Foo") pairs for a select field, in accent-free name order."""
    units = db.session.scalars(select(Unit).order_by(Unit.name_folded, Unit.kind,
                                                     Unit.code))
    return [(unit.code, unit.full_name) for unit in units]


def lineage() -> list[tuple[Unit, list[FormerCommune]]]:
    """Return every current unit with the former communes that went (partly) to it."""
    links = db.session.scalars(select(Succession).options(
        selectinload(Succession.former).selectinload(FormerCommune.district)))
    formers: dict[str, list[FormerCommune]] = {}
    for link in links:
        formers.setdefault(link.unit_code, []).append(link.former)
    units = _sorted_units(db.session.scalars(select(Unit)))
    return [(unit, sorted(formers.get(unit.code, []), key=lambda f: f.name_folded))
            for unit in units]


def units_in_former_district(code: str) -> set[str]:
    """Return the codes of current units that took any commune of a former district."""
    query = (select(Succession.unit_code).join(Succession.former)
             .where(FormerCommune.district_code == code).distinct())
    return set(db.session.scalars(query))


def resolve_unit_choice(former_code: str, unit_code: str) -> Unit | None:
    """Return the unit if it is one the former commune went to, else None."""
    if not former_code or not unit_code:
        return None
    link = db.session.get(Succession, (former_code, unit_code))
    return link.unit if link else None


# Resolving a typed hometown --------------------------------------------------

def resolve_hometown(text: str | None, district_hint: str | None = None) -> Resolution:
    """Return what a typed hometown (current or former name, or a code) stands for.

    A name typed with diacritics must match those diacritics (tone placement
    aside); one typed without is accepted only when it points at one unit.
    A current name wins over a former one, unless the district names a former one.
    """
    given = nfc(text)
    name, district = _parse_hometown(given, district_hint)
    if not name:
        return Resolution(given, UNKNOWN)
    if name.isdigit():
        return _by_code(given, name)

    for kind, bare in _readings(name, COMMUNE_KINDS):
        places = _named(bare, kind, district)
        if places:
            return _decide(given, places)
    return Resolution(given, UNKNOWN)


def _parse_hometown(given: str, district_hint: str | None):
    """Return the commune part of the text and the district it names, if any."""
    parts = [part.strip() for part in _SEPARATORS.split(_PARENTHESES.sub(" ", given))]
    hints = ([district_hint] if district_hint else []) + parts[1:]
    district = next(filter(None, (_district(hint) for hint in hints)), None)
    return parts[0], district


def _readings(text: str, kinds: dict) -> list[tuple[str | None, str]]:
    """Return the ways to read text: without a leading kind word, then as it is.

    "Phuong Nghi" may be "Phường Nghi" or the commune Phượng Nghi; the caller
    tries each reading in turn.
    """
    words = text.replace(".", ". ").split()
    for size in (2, 1):
        head = " ".join(words[:size])
        kind = kinds.get(fold(head))
        if kind and len(words) > size and _same_word(head, kind):
            return [(kind, " ".join(words[size:])), (None, text)]
    return [(None, text)]


def _same_word(typed: str, kind: str) -> bool:
    # "Phượng" folds like "Phường" but, typed with its marks, is not the prefix.
    return not has_diacritics(typed) or tone_key(typed) == tone_key(kind)


def _district(text: str | None) -> FormerDistrict | None:
    text = nfc(text)
    if text.isdigit():
        return db.session.get(FormerDistrict, text)
    for kind, bare in _readings(text, DISTRICT_KINDS):
        if kind == "Tỉnh":
            return None  # the province, not a district
        found = _prefer(_with_name(FormerDistrict, bare), lambda row: row.kind == kind)
        if found:
            return found[0] if len(found) == 1 else None
    return None


def _named(name: str, kind: str | None, district: FormerDistrict | None) -> list:
    """Return current units and former communes called name, narrowed by the hints."""
    places = _with_name(Unit, name) + _with_name(FormerCommune, name)
    if kind:
        places = _prefer(places, lambda row: row.kind == kind)
    if district:
        places = _prefer(places, lambda row: getattr(row, "district_code", None)
                         == district.code)
    return places


def _with_name(model, name: str) -> list:
    rows = list(db.session.scalars(
        select(model).where(model.name_folded == fold(name)).order_by(model.code)
    ))
    if has_diacritics(name):
        rows = [row for row in rows if tone_key(row.name) == tone_key(name)]
    return rows


def _prefer(rows: list, wanted) -> list:
    """Return the rows that pass wanted, or all of them when none does."""
    return [row for row in rows if wanted(row)] or rows


def _decide(given: str, places: list) -> Resolution:
    options = _one_per_name(places)
    formers = [option for option in options if isinstance(option, FormerCommune)]
    units = _sorted_units(unit for option in options for unit in _units_of(option))

    if len(options) == 1 and isinstance(options[0], Unit):
        return Resolution(given, EXACT, unit=options[0])
    if len(options) == 1 and options[0].is_split:
        return Resolution(given, SPLIT, former=options[0], formers=formers,
                          candidates=_units_of(options[0]))
    if len(options) == 1:
        return Resolution(given, EXACT, unit=units[0], former=options[0])
    if len(units) == 1:
        # Several names (Hoa Lộc, Hòa Lộc) that all went to one unit.
        return Resolution(given, EXACT, unit=units[0])
    return Resolution(given, AMBIGUOUS, candidates=units, formers=formers)


def _one_per_name(places: list) -> list:
    """Return, for each distinct toned name, its current unit or else its formers."""
    by_name: dict[str, list] = {}
    for place in places:
        by_name.setdefault(tone_key(place.name), []).append(place)
    chosen = []
    for key in sorted(by_name):
        current = [place for place in by_name[key] if isinstance(place, Unit)]
        chosen += current or by_name[key]
    return chosen


def _units_of(place) -> list[Unit]:
    """Return the current unit(s) for a unit or former commune, main one first."""
    if isinstance(place, Unit):
        return [place]
    links = sorted(place.successors,
                   key=lambda link: (not link.is_main, link.unit.name_folded,
                                     link.unit.code))
    return [link.unit for link in links]


def _sorted_units(units) -> list[Unit]:
    unique = {unit.code: unit for unit in units}
    return sorted(unique.values(), key=lambda unit: (unit.name_folded, unit.code))


def _by_code(given: str, code: str) -> Resolution:
    unit = db.session.get(Unit, code)
    return Resolution(given, EXACT, unit=unit) if unit else Resolution(given, UNKNOWN)


# Search as you type ----------------------------------------------------------

def search_units(query: str | None, limit: int = 10) -> list[dict]:
    """Return suggestions {code, label, unit_code, former_code} for a hometown typed.

    Every word typed must begin a word of the name, accents aside; words after a
    comma narrow former communes to a district. A former name is labelled with
    the unit it is now part of, once per unit if it was split.
    """
    commune, district = (_SEPARATORS.split(nfc(query), maxsplit=1) + [""])[:2]
    district_words = _district_words(district)
    found: dict[tuple, tuple] = {}
    for _kind, bare in _readings(commune.strip(), COMMUNE_KINDS):
        for key, suggestion in _suggestions(fold(bare), district_words):
            found.setdefault(tuple(suggestion.values()), (key, suggestion))

    ordered = sorted(found.values(), key=lambda pair: pair[0])
    return [suggestion for key, suggestion in ordered[:_bounded(limit)]]


def _district_words(text: str) -> list[str]:
    kind, bare = _readings(text.strip(), DISTRICT_KINDS)[0]
    return [] if kind == "Tỉnh" else fold(bare).split()


def _suggestions(folded: str, district_words: list[str]):
    """Yield (sort key, suggestion) for units and former communes matching folded."""
    words = folded.split()
    if not words:
        return
    for unit in db.session.scalars(select(Unit).where(*_word_starts(Unit, words))):
        yield _rank(unit, folded, 0), _suggestion(unit.code, unit.full_name, unit)

    query = (select(FormerCommune).where(*_word_starts(FormerCommune, words))
             .options(selectinload(FormerCommune.district)))
    for former in db.session.scalars(query):
        if district_words and _closeness(former.district.name_folded,
                                         district_words) is None:
            continue
        for number, unit in enumerate(_units_of(former)):
            if tone_key(unit.name) != tone_key(former.name):  # the unit covers it
                yield _rank(former, folded, 1, number), _former_suggestion(former, unit)


def _word_starts(model, words: list[str]) -> list:
    conditions = []
    for word in words:
        pattern = word.replace("_", "\\_")
        conditions.append(or_(model.name_folded.like(pattern + "%", escape="\\"),
                              model.name_folded.like("% " + pattern + "%", escape="\\")))
    return conditions


def _closeness(key: str, words: list[str]) -> int | None:
    """Return 0 when words are the whole key, 1 its start, 2 starts of its words."""
    typed = " ".join(words)
    if key == typed:
        return 0
    if key.startswith(typed):
        return 1
    key_words = key.split()
    if all(any(part.startswith(word) for part in key_words) for word in words):
        return 2
    return None


def _rank(place, folded: str, former: int, number: int = 0) -> tuple:
    closeness = _closeness(place.name_folded, folded.split())
    return closeness, former, place.name_folded, place.code, number


def _suggestion(code: str, label: str, unit: Unit, former_code=None) -> dict:
    return {"code": code, "label": label, "unit_code": unit.code,
            "former_code": former_code}


def _former_suggestion(former: FormerCommune, unit: Unit) -> dict:
    label = _("%(unit)s (formerly %(former)s, %(district)s)", unit=unit.full_name,
              former=former.full_name, district=former.district.full_name)
    return _suggestion(former.code, label, unit, former_code=former.code)


# Countries -------------------------------------------------------------------

# Names people use that are not CLDR's or ISO's, written as people write them;
# they are compared accent-free. Earlier entries win over CLDR and ISO names.
COUNTRY_ALIASES = {
    "Korea": "KR", "South Korea": "KR", "Republic of Korea": "KR",
    "North Korea": "KP", "USA": "US", "America": "US", "United States of America": "US",
    "UK": "GB", "Britain": "GB", "Great Britain": "GB", "England": "GB",
    "Taiwan": "TW", "Russia": "RU", "Laos": "LA", "Vietnam": "VN",
    "Czech Republic": "CZ", "Holland": "NL", "Turkey": "TR", "Ivory Coast": "CI",
    "UAE": "AE", "Emirates": "AE", "Hong Kong": "HK", "Macau": "MO", "Burma": "MM",
    "Vatican": "VA", "Palestine": "PS",
    "Mỹ": "US", "Nhật": "JP", "Hàn": "KR", "Nam Hàn": "KR", "Đại Hàn": "KR",
    "Nam Triều Tiên": "KR", "Bắc Hàn": "KP", "Bắc Triều Tiên": "KP", "Anh": "GB",
    "Hồng Kông": "HK", "Ma Cao": "MO", "Ả Rập Saudi": "SA", "Cộng hòa Séc": "CZ",
    "Thụy Sỹ": "CH", "Ý": "IT", "Mã Lai": "MY", "Tân Tây Lan": "NZ", "Thái": "TH",
    "Cam Pu Chia": "KH", "Miến Điện": "MM", "Xin-ga-po": "SG", "Ca-na-đa": "CA",
    "Ăng-gô-la": "AO", "Cu Ba": "CU", "Phi-líp-pin": "PH", "Ả Rập Thống nhất": "AE",
}
_CODE_LIKE = re.compile(r"[A-Za-z]{2,3}")
_LEADING_WORDS = ("nuoc ", "the ")  # "nước Nhật", "the Philippines"


def country_name(code: str | None, locale=None) -> str:
    """Return the country's name in locale (default: the request's), or the code."""
    if not code:
        return ""
    return _country_names(_locale_tag(locale)).get(code.upper(), code)


def country_choices(locale=None) -> list[tuple[str, str]]:
    """Return (alpha-2 code, name) for every country, in the locale's name order."""
    return list(_sorted_countries(_locale_tag(locale)))


def resolve_country(text: str | None) -> str | None:
    """Return the alpha-2 code for a country typed as a code or an English or
    Vietnamese name (with or without diacritics), or None."""
    typed = nfc(text)
    if not typed:
        return None
    code = _by_iso_code(typed) if _CODE_LIKE.fullmatch(typed) else None
    # "NGA" is Nigeria's code but "Nga" is Russia in Vietnamese: capitals mean a code.
    if code and typed.isupper():
        return code

    key = fold(typed)
    names = _country_keys()
    for leading in _LEADING_WORDS:
        if key.startswith(leading) and key[len(leading):] in names:
            key = key[len(leading):]
    return names.get(key, code)


def search_countries(query: str | None, locale=None, limit: int = 10) -> list[dict]:
    """Return {code, label} for countries whose English or Vietnamese name is being typed."""
    words = fold(query).split()
    if not words:
        return []
    tag = _locale_tag(locale)
    best: dict[str, tuple[int, int]] = {}
    for key, code in _country_keys().items():
        closeness = _closeness(key, words)
        # The shorter of two names typed alike is the likelier: "Korea" before
        # "Korea, Democratic People's Republic of".
        if closeness is not None and (closeness, len(key)) < best.get(code, (3, 0)):
            best[code] = (closeness, len(key))

    order = {pair[0]: number for number, pair in enumerate(_sorted_countries(tag))}
    codes = sorted(best, key=lambda code: (best[code], order.get(code, 0)))
    return [{"code": code, "label": country_name(code, tag)}
            for code in codes[:_bounded(limit)]]


def _bounded(limit: int) -> int:
    return max(1, min(int(limit), MAX_SUGGESTIONS))


def _locale_tag(locale) -> str:
    return str(locale or get_locale() or "vi")


def _by_iso_code(text: str) -> str | None:
    country = pycountry.countries.get(**{f"alpha_{len(text)}": text.upper()})
    return country.alpha_2 if country else None


@functools.lru_cache(maxsize=8)
def _country_names(tag: str) -> dict[str, str]:
    """Return {alpha-2: name} in a locale, from CLDR, falling back to ISO names."""
    try:
        territories = Locale.parse(tag).territories
    except (UnknownLocaleError, ValueError):
        territories = Locale("en").territories
    return {country.alpha_2: territories.get(country.alpha_2, country.name)
            for country in pycountry.countries}


@functools.lru_cache(maxsize=8)
def _sorted_countries(tag: str) -> tuple[tuple[str, str], ...]:
    # TODO: sort with the locale's real collation (Vietnamese puts ă, â after a);
    # that needs ICU, which is not installed, so the accent-free form is used.
    names = _country_names(tag)
    return tuple(sorted(names.items(), key=lambda item: (fold(item[1]), item[1])))


@functools.lru_cache(maxsize=1)
def _country_keys() -> dict[str, str]:
    """Return {accent-free name: alpha-2} over aliases, CLDR and ISO names."""
    keys: dict[str, str] = {}
    for name, code in _country_name_sources():
        for variant in _variants(name):
            keys.setdefault(fold(variant), code)
    keys.pop("", None)
    return keys


def _country_name_sources():
    yield from COUNTRY_ALIASES.items()
    for tag in ("vi", "en"):
        for code, name in _country_names(tag).items():
            yield name, code
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            if getattr(country, attribute, None):
                yield getattr(country, attribute), country.alpha_2


def _variants(name: str) -> list[str]:
    """Return the name, and for "Myanmar (Burma)" also "Myanmar" and "Burma"."""
    inside = re.findall(r"\(([^)]*)\)", name)
    outside = _PARENTHESES.sub(" ", name)
    return [name, outside, *inside] if inside else [name]
