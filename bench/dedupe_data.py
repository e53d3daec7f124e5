"""Synthetic Thanh Hóa people abroad for the duplicate-detection benchmark, truth kept.

About two entities in five are registered two to four times, each copy typed with
the errors officers see (no marks, Western order, NFD text, old tone placement, a
missing middle name, a partial or placeholder birth date, a swapped day and month,
a moved person's new phone and country, a renewed passport, a misspelt given name).
Households make the hard non-matches: siblings and spouses sharing a phone, twins
born the same day, and namesakes ("Nguyễn Văn Anh", born the same year).

    .venv/bin/python bench/dedupe_data.py --records 30000 --seed 2 --csv bench/out/d.csv
"""
import argparse
import csv
import json
import os
import random
import sys
import time
import unicodedata
from bisect import bisect_right
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from registry.core.text import fold  # noqa: E402
from registry.people.demo import COUNTRIES, GIVEN, MIDDLE, SURNAMES  # noqa: E402

UNITS_JSON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "registry", "places", "data", "thanh_hoa_units.json")
FIELDS = ("person_id", "source_ref", "full_name", "gender", "birth_year", "birth_month",
          "birth_day", "hometown_code", "country_code", "city", "phones", "emails",
          "passport", "national_id", "entity_id")

# Nguyễn is about 38 % of Thanh Hóa's people; the demo's other weights are kept.
SURNAME_WEIGHTS = {**dict(SURNAMES), "Nguyễn": 38}
# The given names everybody knows someone with; Hương and Hường are both here.
COMMON_GIVEN = {"Anh": 6, "Hùng": 6, "Hương": 7, "Hường": 4, "Lan": 6, "Linh": 7,
                "Dũng": 4, "Tuấn": 4, "Trang": 4, "Hà": 3, "Nam": 3, "Thảo": 3}
GIVEN_EXTRA = {"female": ["Anh"]}
# Share of entities registered more than once, and how many copies they get.
DUPLICATED_SHARE = 0.40
COPIES = ((2, 70), (3, 22), (4, 8))
# Households: (kind, weight). Each yields one or more entities.
HOUSEHOLDS = (("single", 52), ("siblings", 18), ("twins", 6), ("spouses", 14),
              ("namesakes", 10))
# The names shared by many people born the same year.
NAMESAKES = {"male": [("Văn", "Anh"), ("Văn", "Hùng"), ("Văn", "Dũng"), ("Văn", "Nam")],
             "female": [("Thị", "Hương"), ("Thị", "Lan"), ("Thị", "Linh"), ("Thị", "Hường"),
                        ("Thị", "Trang")]}
# The errors a copy may carry, with how often each is drawn.
ERRORS = (("no_marks", 16), ("western_order", 9), ("nfd", 6), ("old_tone", 6),
          ("no_middle", 6), ("year_only", 6), ("month_only", 4), ("jan_first", 4),
          ("day_month_swap", 4), ("date_digit", 4), ("year_off", 4), ("moved", 8),
          ("no_phone", 6), ("no_email", 6), ("passport_renewed", 4),
          ("passport_typo", 3), ("given_typo", 5), ("no_gender", 3))
# Old ("hoà") against new ("hòa") tone placement on oa, oe and uy.
OLD_TONE = {"òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ",
            "òe": "oè", "óe": "oé", "ùy": "uỳ", "úy": "uý", "ủy": "uỷ", "ũy": "uỹ",
            "ụy": "uỵ"}
NEIGHBOUR_KEYS = {"a": "s", "n": "m", "h": "g", "g": "h", "u": "y", "i": "o", "o": "i",
                  "t": "r", "l": "k", "m": "n", "e": "r", "y": "u", "c": "v"}
MAIL_DOMAINS = ("example.com", "example.net", "example.org")


def generate(n: int, seed: int) -> list[dict]:
    """Return n synthetic registrations, shuffled, with the true entity of each."""
    maker = _Maker(seed)
    rows: list[dict] = []
    while len(rows) < n:
        for entity in maker.household():
            rows.extend(maker.copies(entity))
    del rows[n:]
    maker.random.shuffle(rows)
    for number, row in enumerate(rows, start=1):
        row["person_id"] = number
        row["source_ref"] = f"BENCH-{number:07d}"
    return rows


def truth_clusters(rows: list[dict]) -> list[list[int]]:
    """Return the person ids of each true entity registered more than once."""
    by_entity = defaultdict(list)
    for row in rows:
        by_entity[row["entity_id"]].append(row["person_id"])
    return [ids for ids in by_entity.values() if len(ids) > 1]


def truth_pairs(rows: list[dict]) -> set[tuple[int, int]]:
    """Return every (smaller id, larger id) pair registered for the same entity."""
    pairs = set()
    for ids in truth_clusters(rows):
        ids = sorted(ids)
        pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1:])
    return pairs


def write_csv(rows: list[dict], path: str) -> None:
    """Write rows as CSV, phones and e-mails joined by ';'."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        for row in rows:
            writer.writerow([";".join(row[f]) if f in ("phones", "emails") else
                             "" if row[f] is None else row[f] for f in FIELDS])


class _Maker:
    """Entities and their typed copies, from one seeded random source."""

    def __init__(self, seed: int):
        self.random = random.Random(seed)
        self.entities = 0
        with open(UNITS_JSON, encoding="utf-8") as handle:
            self.units = [unit["code"] for unit in json.load(handle)["units"]]
        self.surnames = list(SURNAME_WEIGHTS)
        self.surname_cum = _cumulative(SURNAME_WEIGHTS.values())
        self.given = {g: names + GIVEN_EXTRA.get(g, []) for g, names in GIVEN.items()}
        self.given_cum = {g: _cumulative(COMMON_GIVEN.get(name, 1) for name in names)
                          for g, names in self.given.items()}
        self.countries = [code for code, _, _ in COUNTRIES]
        self.country_cum = _cumulative(weight for _, weight, _ in COUNTRIES)
        self.cities = {code: cities for code, _, cities in COUNTRIES}
        self.phone_plans = {code: _phone_plan(code) for code in self.countries + ["VN"]}
        self.household_kinds = [kind for kind, _ in HOUSEHOLDS]
        self.household_cum = _cumulative(weight for _, weight in HOUSEHOLDS)
        self.errors = [error for error, _ in ERRORS]
        self.error_cum = _cumulative(weight for _, weight in ERRORS)
        # Serials run through a multiplier prime to 10 look random but never repeat.
        self.scramble = (7_654_321, 3_141_593, 2_718_283)[seed % 3]
        self.serials: dict[str, int] = defaultdict(int)

    # -- households -------------------------------------------------------------------

    def household(self) -> list[dict]:
        """Return the entities of one household: a single person or a hard non-match."""
        kind = self._pick(self.household_kinds, self.household_cum)
        return getattr(self, f"_{kind}")()

    def _single(self) -> list[dict]:
        return [self.entity()]

    def _siblings(self) -> list[dict]:
        first = self.entity()
        home_phone = self.phone("VN")
        first["phones"] = [home_phone] + first["phones"][:1]
        people = [first]
        for _ in range(self.random.choice((1, 1, 2))):
            sibling = self.entity(family=first["family"], hometown=first["hometown_code"])
            gap = self.random.choice((-5, -4, -3, -2, 2, 3, 4))
            sibling["birth_year"] = min(first["birth_year"] + gap, 2008)
            sibling["given"] = self._other_given(sibling["gender"], people)
            sibling["phones"] = [home_phone] + sibling["phones"][:1]
            people.append(sibling)
        return people

    def _twins(self) -> list[dict]:
        first = self.entity()
        second = self.entity(family=first["family"], hometown=first["hometown_code"],
                             gender=first["gender"] if self.random.random() < .6 else None,
                             country=first["country_code"])
        for key in ("birth_year", "birth_month", "birth_day", "city"):
            second[key] = first[key]
        if first["birth_day"] is None:
            second["birth_month"] = first["birth_month"] = first["birth_month"] or 5
            second["birth_day"] = first["birth_day"] = 1 + self.random.randrange(28)
        second["given"] = self._other_given(second["gender"], [first])
        if self.random.random() < .5:
            second["phones"] = first["phones"][:1] + second["phones"][1:]
        return [first, second]

    def _spouses(self) -> list[dict]:
        husband = self.entity(gender="male")
        wife = self.entity(gender="female", country=husband["country_code"],
                           family=husband["family"] if self.random.random() < .25 else None)
        wife["birth_year"] = min(husband["birth_year"] + self.random.randint(-2, 6), 2006)
        wife["city"] = husband["city"]
        wife["phones"] = husband["phones"][:1] + wife["phones"][:1]
        return [husband, wife]

    def _namesakes(self) -> list[dict]:
        gender = self.random.choice(("male", "female"))
        middle, given = self.random.choice(NAMESAKES[gender])
        family = "Nguyễn" if self.random.random() < .7 else "Lê"
        first = self.entity(gender=gender, family=family)
        first["middle"], first["given"] = middle, given
        people = [first]
        for _ in range(self.random.choice((1, 1, 2))):
            other = self.entity(gender=gender, family=family)
            other["middle"], other["given"] = middle, given
            other["birth_year"] = first["birth_year"]
            if self.random.random() < .5:
                other["hometown_code"] = first["hometown_code"]
                other["birth_month"] = _other_month(first["birth_month"], self.random)
            people.append(other)
        return people

    # -- one entity and its copies ----------------------------------------------------

    def entity(self, *, family: str | None = None, hometown: str | None = None,
               gender: str | None = None, country: str | None = None) -> dict:
        """Return the true attributes of a new person."""
        pick = self.random
        self.entities += 1
        gender = gender or ("male" if pick.random() < .5 else "female")
        country = country or self._pick(self.countries, self.country_cum)
        year, month, day = self._birth()
        person = {
            "entity_id": self.entities, "gender": gender,
            "family": family or self._pick(self.surnames, self.surname_cum),
            "middle": pick.choice(MIDDLE[gender]),
            "given": self._pick(self.given[gender], self.given_cum[gender]),
            "birth_year": year, "birth_month": month, "birth_day": day,
            "hometown_code": hometown or pick.choice(self.units),
            "country_code": country, "city": pick.choice(self.cities[country]),
            "phones": [self.phone(country)] if pick.random() < .93 else [],
            "passport": f"C{self._unique(7, 'passport')}" if pick.random() < .6 else None,
            "national_id": pick.random() < .35,  # made once the birth year is final
        }
        if pick.random() < .08:
            person["phones"].append(self.phone(country))
        return person

    def copies(self, entity: dict) -> list[dict]:
        """Return the registrations of an entity: one clean, the others with errors."""
        entity["emails"] = [self._email(entity)] if self.random.random() < .55 else []
        if entity["national_id"]:
            entity["national_id"] = _national_id(entity["gender"], entity["birth_year"],
                                                 self._unique(6, "national_id"))
        else:
            entity["national_id"] = None
        count = 1
        if self.random.random() < DUPLICATED_SHARE:
            count = self._pick([c for c, _ in COPIES], _cumulative(w for _, w in COPIES))
        rows = [self._typed(entity, [])]
        for _ in range(count - 1):
            errors = {self._pick(self.errors, self.error_cum)
                      for _ in range(self.random.choice((1, 1, 2, 2, 3)))}
            rows.append(self._typed(entity, sorted(errors)))
        return rows

    def _typed(self, entity: dict, errors: list[str]) -> dict:
        row = {key: entity[key] for key in ("entity_id", "gender", "birth_year", "birth_month",
                                             "birth_day", "hometown_code", "country_code",
                                             "city", "passport", "national_id")}
        row["phones"], row["emails"] = list(entity["phones"]), list(entity["emails"])
        parts = {"family": entity["family"], "middle": entity["middle"],
                 "given": entity["given"]}
        for error in errors:
            self._apply(error, row, parts)
        row["full_name"] = self._spell(parts, errors)
        return row

    def _apply(self, error: str, row: dict, parts: dict) -> None:
        pick = self.random
        if error == "no_middle":
            parts["middle"] = ""
        elif error == "given_typo":
            parts["given"] = _typo(parts["given"], pick)
        elif error == "no_gender":
            row["gender"] = None
        elif error in ("year_only", "month_only", "jan_first", "day_month_swap",
                       "date_digit", "year_off"):
            _birth_error(error, row, pick)
        elif error == "moved":
            self._move(row)
        elif error == "no_phone":
            row["phones"] = []
        elif error == "no_email":
            row["emails"] = []
        elif error == "passport_renewed" and row["passport"]:
            row["passport"] = f"P{self._unique(7, 'passport')}"
        elif error == "passport_typo" and row["passport"]:
            row["passport"] = _digit_typo(row["passport"], pick)

    def _spell(self, parts: dict, errors: list[str]) -> str:
        words = [parts["family"], parts["middle"], parts["given"]]
        if "western_order" in errors:
            words = ([parts["middle"], parts["given"], parts["family"]]
                     if self.random.random() < .6 else
                     [parts["given"], parts["middle"], parts["family"]])
        name = " ".join(word for word in words if word)
        if "old_tone" in errors:
            for new, old in OLD_TONE.items():
                name = name.replace(new, old)
        if "no_marks" in errors:
            name = " ".join(word.capitalize() for word in fold(name).split())
        elif self.random.random() < .03:
            name = name.upper()
        if "nfd" in errors:
            name = unicodedata.normalize("NFD", name)
        return name

    def _move(self, row: dict) -> None:
        country = row["country_code"]
        while country == row["country_code"]:
            country = self._pick(self.countries, self.country_cum)
        row["country_code"], row["city"] = country, self.random.choice(self.cities[country])
        row["phones"] = [self.phone(country)]

    # -- values -----------------------------------------------------------------------

    def phone(self, country: str) -> str:
        """Return a made-up mobile in E.164 that no other call returns."""
        calling_code, prefix, width = self.phone_plans[country]
        return f"+{calling_code}{prefix}{self._unique(width, country)}"

    def _email(self, entity: dict) -> str:
        local = f"{fold(entity['given'])}.{fold(entity['family'])}".replace(" ", "")
        return f"{local}{entity['entity_id']}@{self.random.choice(MAIL_DOMAINS)}"

    def _birth(self) -> tuple[int, int | None, int | None]:
        pick = self.random
        year = 2005 - int(44 * pick.random() ** 1.3)  # more young workers than old
        roll = pick.random()
        if roll < .06:
            return year, None, None
        month = 1 + pick.randrange(12)
        if roll < .1:
            return year, month, None
        return year, month, 1 + pick.randrange(28)

    def _other_given(self, gender: str, family: list[dict]) -> str:
        # Parents do not name two children Hương and Hường, nor Đức Thành and Thành Đức.
        taken = {fold(person[part]) for person in family for part in ("middle", "given")}
        while True:
            given = self._pick(self.given[gender], self.given_cum[gender])
            if fold(given) not in taken:
                return given

    def _unique(self, width: int, kind: str) -> str:
        self.serials[kind] += 1
        return f"{(self.serials[kind] * self.scramble) % 10 ** width:0{width}d}"

    def _pick(self, items: list, cumulative: list[float]):
        return items[bisect_right(cumulative, self.random.random() * cumulative[-1])]


def _cumulative(weights) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _phone_plan(region: str) -> tuple[int, str, int]:
    """Return (calling code, fixed leading digits, random digits) of a region's mobiles."""
    import phonenumbers

    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    width = min(7, len(national) - 2)
    return example.country_code, national[:len(national) - width], width


def _national_id(gender: str, year: int, serial: str) -> str:
    century = (0 if year < 2000 else 2) + (1 if gender == "female" else 0)
    return f"038{century}{year % 100:02d}{serial}"


def _birth_error(error: str, row: dict, pick: random.Random) -> None:
    month, day = row["birth_month"], row["birth_day"]
    if error == "year_only":
        row["birth_month"] = row["birth_day"] = None
    elif error == "month_only" and month:
        row["birth_day"] = None
    elif error == "jan_first":
        row["birth_month"], row["birth_day"] = 1, 1
    elif error == "day_month_swap" and day and day <= 12 and day != month:
        row["birth_month"], row["birth_day"] = day, month
    elif error == "date_digit" and day:
        row["birth_day"] = _digit_typo(f"{day:02d}", pick, lambda d: 1 <= int(d) <= 28)
        row["birth_day"] = int(row["birth_day"])
    elif error == "date_digit":
        row["birth_year"] += pick.choice((-10, 10)) if row["birth_year"] < 1996 else -10
    elif error == "year_off":
        row["birth_year"] += pick.choice((-1, 1))


def _digit_typo(text: str, pick: random.Random, valid=None) -> str:
    """Return text with one digit changed, still valid when a check is given."""
    positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    for _ in range(20):
        i = pick.choice(positions)
        typed = text[:i] + str((int(text[i]) + pick.choice((1, 9, 3))) % 10) + text[i + 1:]
        if valid is None or valid(typed):
            return typed
    return text


def _typo(word: str, pick: random.Random) -> str:
    """Return word with one letter dropped, doubled, swapped or struck beside its key."""
    if len(word) < 3:
        return word + word[-1]
    i = 1 + pick.randrange(len(word) - 1)
    kind = pick.randrange(4)
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    near = NEIGHBOUR_KEYS.get(word[i], "")
    return word[:i] + near + word[i + 1:] if near else word[:i] + word[i + 1:]


def _other_month(month: int | None, pick: random.Random) -> int:
    return 1 + (((month or 6) - 1 + pick.randint(1, 11)) % 12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--csv", help="write the rows here")
    args = parser.parse_args()

    started = time.perf_counter()
    rows = generate(args.records, args.seed)
    elapsed = time.perf_counter() - started
    clusters = truth_clusters(rows)
    in_clusters = sum(len(ids) for ids in clusters)
    entities = len({row["entity_id"] for row in rows})
    print(f"{len(rows):,} rows, {entities:,} entities, {len(clusters):,} registered more "
          f"than once ({len(clusters) / entities:.0%}), {in_clusters:,} rows in them, "
          f"generated in {elapsed:.1f} s")
    if args.csv:
        write_csv(rows, args.csv)
        print(f"written to {args.csv}")


if __name__ == "__main__":
    main()
