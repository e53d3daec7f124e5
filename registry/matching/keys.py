"""The normalised form of a person that blocking and scoring compare.

Pure Python: the database helper stores these keys in match_key and reads them
back with from_key_row; the batch and the entry-time check both start here.
"""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from registry.core.text import fold, fold_spaces, has_diacritics, tone_key
from registry.people.names import gender_hint, split_name

GENDERS = ("male", "female")


@dataclass(slots=True)
class MatchRecord:
    person_id: int
    family: str = ""  # folded
    family_tone: str = ""
    middle: str = ""  # folded
    given: str = ""  # folded
    given_tone: str = ""
    #: the name was typed with its marks, so given_tone can be trusted
    given_marked: bool = False
    #: the folded name words sorted, so that any word order agrees
    name_key: str = ""
    initials: str = ""
    gender: str | None = None  # recorded, else told by Thị/Văn
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    #: 1 January, often typed when only the year is known
    birth_placeholder: bool = False
    hometown_code: str | None = None
    country_code: str | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    passport: str | None = None
    national_id: str | None = None

    @property
    def has_full_birth(self) -> bool:
        return None not in (self.birth_year, self.birth_month, self.birth_day)


#: The columns of match_key, in the order of registry.matching.models.MatchKey.
KEY_COLUMNS = (
    "person_id", "family", "family_tone", "middle", "given", "given_tone", "given_marked",
    "name_key", "initials", "gender", "birth_year", "birth_month", "birth_day",
    "birth_placeholder", "hometown_code", "country_code", "passport", "national_id",
)


def make_record(person_id: int, *, full_name: str, gender: str | None = None,
                birth_year: int | None = None, birth_month: int | None = None,
                birth_day: int | None = None, hometown_code: str | None = None,
                country_code: str | None = None, phones: Iterable[str] = (),
                emails: Iterable[str] = (), passport: str | None = None,
                national_id: str | None = None) -> MatchRecord:
    """Return the match keys of one person from the values as stored."""
    names = _name_keys(full_name or "")
    gender = gender if gender in GENDERS else names[-1]
    month = birth_month if birth_year else None
    day = birth_day if month else None

    return MatchRecord(
        person_id, *names[:-1], gender=gender,
        birth_year=birth_year or None, birth_month=month or None, birth_day=day or None,
        birth_placeholder=bool(birth_year and month == 1 and day == 1),
        hometown_code=hometown_code or None,
        country_code=(country_code or "").upper() or None,
        phones=_unique(p.replace(" ", "") for p in phones if p and p.strip()),
        emails=_unique(e.strip().casefold() for e in emails if e and e.strip()),
        passport=_document(passport), national_id=_document(national_id),
    )


def key_values(record: MatchRecord) -> dict:
    """Return the match_key columns of a record, person_id included."""
    return {column: getattr(record, column) for column in KEY_COLUMNS}


def from_key_row(row: Mapping, phones: Iterable[str] = (),
                 emails: Iterable[str] = ()) -> MatchRecord:
    """Return the record of a match_key row and the person's phones and e-mails."""
    values = {column: row[column] for column in KEY_COLUMNS}
    for column in ("family", "family_tone", "middle", "given", "given_tone", "name_key",
                   "initials"):
        values[column] = values[column] or ""
    values["given_marked"] = bool(values["given_marked"])
    values["birth_placeholder"] = bool(values["birth_placeholder"])
    return MatchRecord(**values, phones=tuple(phones), emails=tuple(emails))


@lru_cache(maxsize=200_000)
def _name_keys(full_name: str) -> tuple:
    # Names repeat a lot (Nguyễn Văn Anh), so the split and folds are cached.
    # Punctuation becomes a space first: "Nguyễn-Văn Anh" has three words.
    parts = split_name(fold_spaces(full_name))
    folded = [fold(parts.family), fold(parts.middle), fold(parts.given)]
    words = " ".join(folded).split()
    return (
        folded[0], tone_key(parts.family), folded[1], folded[2], tone_key(parts.given),
        has_diacritics(full_name), " ".join(sorted(words)),
        "".join(word[0] for word in words), gender_hint(parts),
    )


def _document(number: str | None) -> str | None:
    cleaned = "".join(ch for ch in (number or "").upper() if ch.isalnum())
    return cleaned or None


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
