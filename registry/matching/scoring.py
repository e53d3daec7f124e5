"""Fellegi-Sunter scoring of record pairs, explainable and vectorised.

Each comparison puts a pair at one level (most to least agreeing) or at the null
level -1 when either side lacks the value; a level weighs log2(m / u) bits, where
m is the chance of that level among true matches and u among other pairs. The
match weight is the prior's log-odds plus the levels' weights plus the
term-frequency adjustments (Nguyễn counts for little, a rare name for much).

The batch (score_arrays over a RecordTable) and the entry-time check (score,
score_candidates) run the very same code, so both paths give the same figures.
"""
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.process import cpdist

from registry.matching.keys import MatchRecord

log = logging.getLogger(__name__)

#: (comparison, level labels from most to least agreeing)
COMPARISONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("given_name", ("toned equal", "folded equal, unmarked", "folded equal, tones differ",
                    "close spelling", "different")),
    ("family_name", ("equal", "close spelling", "different")),
    ("middle_name", ("equal", "one side empty", "different")),
    ("birth_date", ("equal", "day and month swapped", "one typo", "same year, imprecise",
                    "one year apart", "different")),
    ("gender", ("equal", "different")),
    ("hometown", ("equal", "different")),
    ("phone", ("shared personal phone", "shared household phone", "different")),
    ("email", ("shared", "different")),
    ("passport", ("equal", "one typo", "different")),
    ("national_id", ("equal", "one typo", "different")),
    ("country", ("equal", "different")),
    # Siblings, twins and spouses: a different given name with the same family name
    # and a shared phone or commune. The fields above are scored as if independent,
    # which they are not among relatives, so this level corrects for it. Its
    # parameters are set by hand, never trained: EM cannot tell it apart.
    ("relatives", ("looks like a relative",)),
)
NAMES = tuple(name for name, _ in COMPARISONS)
INDEX = {name: i for i, name in enumerate(NAMES)}
NULL = -1
MAX_LEVELS = max(len(levels) for _, levels in COMPARISONS)
#: comparison → (term-frequency table, levels the adjustment applies to)
TF_FIELDS = {"family_name": ("family", (0,)), "given_name": ("given", (0, 1)),
             "hometown": ("hometown", (0,))}
#: term-frequency adjustments are bounded so a typo (a "rare name") cannot win alone
TF_BOUNDS = (-4.0, 4.0)
GIVEN_JW = 0.9
#: a name rarer than this may be a misspelling of a close, common one
RARE_NAME = 0.001
PROBABILITY_FLOOR = 1e-6
#: a record keeps at most this many phones and e-mails for comparison
MAX_CONTACTS = 4

# Hand-set parameters used before any training, rounded from a model trained on
# 30,000 synthetic registrations (bench/dedupe_data.py, seed 1) and made a little
# more forgiving where the generator never errs (family name typos, a changed
# commune). m: among true matches; u: among candidate pairs that are not.
DEFAULT_M = {
    "given_name": [0.6, 0.29, 0.005, 0.09, 0.015],
    "family_name": [0.98, 0.01, 0.01],
    "middle_name": [0.86, 0.13, 0.01],
    "birth_date": [0.53, 0.02, 0.1, 0.3, 0.035, 0.015],
    "gender": [0.99, 0.01],
    "hometown": [0.98, 0.02],
    "phone": [0.6, 0.23, 0.17],
    "email": [0.99, 0.01],
    "passport": [0.85, 0.07, 0.08],
    "national_id": [0.99, 0.005, 0.005],
    "country": [0.83, 0.17],
    "relatives": [1e-6],
}
DEFAULT_U = {
    "given_name": [0.23, 0.053, 0.03, 0.0026, 0.684],
    "family_name": [0.71, 5e-6, 0.29],
    "middle_name": [0.26, 0.063, 0.677],
    "birth_date": [0.0026, 9e-5, 0.0055, 0.025, 0.04, 0.92681],
    "gender": [0.69, 0.31],
    "hometown": [0.071, 0.929],
    "phone": [0.00017, 0.0026, 0.99723],
    "email": [0.00028, 0.99972],
    "passport": [0.00026, 0.00014, 0.9996],
    "national_id": [0.00045, 3.5e-6, 0.9995465],
    "country": [0.18, 0.82],
    "relatives": [0.5],
}
DEFAULT_PRIOR = 0.15
# Rough shares of family names in Thanh Hóa and a list of common given names, so
# that the untrained model already counts Nguyễn for little and tells a typo
# ("Hùngg") from another common name ("Dũng").
DEFAULT_FAMILY_TF = {
    "nguyen": 0.38, "le": 0.12, "tran": 0.05, "pham": 0.05, "hoang": 0.04, "trinh": 0.04,
    "do": 0.03, "vu": 0.03, "mai": 0.02, "ha": 0.02, "bui": 0.02, "dang": 0.02,
    "dinh": 0.02, "luong": 0.015, "cao": 0.015, "ngo": 0.01, "duong": 0.01, "ho": 0.01,
    "phan": 0.01, "truong": 0.01, "tong": 0.01, "lai": 0.01, "lo": 0.01,
}
DEFAULT_GIVEN_TF = dict.fromkeys("""
anh binh chau chi cuong dat duc dung duy duyen giang ha hai hang hanh hau hieu hien
hoa hoai hoang hong hue hung huong huy huyen khanh khoa lam lan linh loan long mai
minh my nam nga ngan ngoc nguyet nhung oanh phong phuc phuong quan quang quyen quynh
son tai tam tan thang thanh thao thu thuy tien trang trung tu tuan tung tuyet van vinh
yen
""".split(), 0.01)
#: match probability from which a pair is "very likely the same person" / "possible"
DEFAULT_LIKELY, DEFAULT_POSSIBLE = 0.98, 0.5


class Model:
    """The m and u probabilities, prior, term frequencies and thresholds."""

    def __init__(self, m: dict, u: dict, prior: float = DEFAULT_PRIOR,
                 tf: dict | None = None, likely: float = DEFAULT_LIKELY,
                 possible: float = DEFAULT_POSSIBLE):
        self.m = {name: [float(p) for p in m.get(name, DEFAULT_M[name])] for name in NAMES}
        self.u = {name: [float(p) for p in u.get(name, DEFAULT_U[name])] for name in NAMES}
        self.prior = float(prior)
        self.tf = {key: dict(tf.get(key, {})) for key in ("family", "given", "hometown")} \
            if tf else {"family": {}, "given": {}, "hometown": {}}
        self.likely, self.possible = float(likely), float(possible)
        self._weights = None
        self._tf_stats: dict[str, tuple[float, float]] = {}

    @property
    def prior_bits(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    @property
    def weights(self) -> np.ndarray:
        """Return [comparison × (null + levels)] weights in bits; null weighs 0."""
        if self._weights is None:
            table = np.zeros((len(NAMES), MAX_LEVELS + 1))
            for i, name in enumerate(NAMES):
                for level, (m, u) in enumerate(zip(self.m[name], self.u[name])):
                    table[i, level + 1] = math.log2(max(m, PROBABILITY_FLOOR)
                                                    / max(u, PROBABILITY_FLOOR / 100))
            self._weights = table
        return self._weights

    def band(self, probability: float) -> str | None:
        if probability >= self.likely:
            return "likely"
        if probability >= self.possible:
            return "possible"
        return None

    def tf_bits(self, key: str, vocabulary: Sequence[str]) -> np.ndarray:
        """Return the adjustment in bits for agreeing on each value of vocabulary."""
        table = self.tf[key]
        if not table:
            return np.zeros(len(vocabulary))
        if key not in self._tf_stats:
            freqs = np.fromiter(table.values(), float, len(table))
            # the chance two random records agree, and the frequency of an unseen value
            self._tf_stats[key] = float((freqs * freqs).sum()), float(freqs.min())
        expected, unseen = self._tf_stats[key]
        looked_up = np.array([table.get(value, unseen) for value in vocabulary], float)
        return np.clip(np.log2(expected / looked_up), *TF_BOUNDS)

    def to_dict(self) -> dict:
        return {"version": 1, "m": self.m, "u": self.u, "prior": self.prior, "tf": self.tf,
                "likely": self.likely, "possible": self.possible}

    @classmethod
    def from_dict(cls, data: dict) -> "Model":
        return cls(data.get("m", {}), data.get("u", {}), data.get("prior", DEFAULT_PRIOR),
                   data.get("tf"), data.get("likely", DEFAULT_LIKELY),
                   data.get("possible", DEFAULT_POSSIBLE))


def default_model() -> Model:
    """Return the hand-set model used until one is trained on the registry."""
    return Model(DEFAULT_M, DEFAULT_U,
                 tf={"family": DEFAULT_FAMILY_TF, "given": DEFAULT_GIVEN_TF})


@dataclass
class Context:
    """What is known from the whole data rather than from the two records."""

    #: phones seen with more than one given name: shared by a household
    household_phones: set[str] = field(default_factory=set)

    @classmethod
    def from_records(cls, records: Iterable[MatchRecord]) -> "Context":
        given_by_phone: dict[str, str] = {}
        household = set()
        for record in records:
            for phone in record.phones:
                seen = given_by_phone.setdefault(phone, record.given)
                if seen != record.given:
                    household.add(phone)
        return cls(household_phones=household)

    @classmethod
    def from_table(cls, table: "RecordTable") -> "Context":
        """Return the same as from_records, from a table's columns (faster)."""
        rows, slots = np.nonzero(table.phones)
        phones = table.phones[rows, slots].astype(np.int64)
        pairs = np.unique(phones * (len(table.vocab["given"]) + 1) + table.given[rows])
        owners = pairs // (len(table.vocab["given"]) + 1)
        shared = np.unique(owners[1:][owners[1:] == owners[:-1]])
        return cls(household_phones={table.vocab["phones"][code] for code in shared.tolist()})


@dataclass
class PairScore:
    probability: float
    weight: float  # bits: prior plus every comparison's weight
    band: str | None
    explanation: list[dict]


class RecordTable:
    """Records as columns of integer codes so that comparisons are vectorised.

    Code 0 always means missing; vocab[column][code] gives the string back.
    """

    def __init__(self, records: Sequence[MatchRecord]):
        n = len(records)
        self.size = n
        self.records = records
        self.vocab: dict[str, list[str]] = {}
        self.person_id = np.fromiter((r.person_id for r in records), np.int64, n)
        for column in ("family", "middle", "given", "given_tone", "name_key", "initials",
                       "hometown_code", "country_code", "passport", "national_id"):
            setattr(self, column, self._codes(column, (getattr(r, column) for r in records)))
        self.given_marked = np.fromiter((r.given_marked for r in records), bool, n)
        self.gender = np.fromiter((_GENDER_CODES.get(r.gender, 0) for r in records),
                                  np.int8, n)
        self.year = np.fromiter((r.birth_year or 0 for r in records), np.int16, n)
        self.month = np.fromiter((r.birth_month or 0 for r in records), np.int8, n)
        self.day = np.fromiter((r.birth_day or 0 for r in records), np.int8, n)
        self.placeholder = np.fromiter((r.birth_placeholder for r in records), bool, n)
        self.phones = self._contacts("phones", records)
        self.emails = self._contacts("emails", records)
        self.id_length = np.array([len(v) for v in self.vocab["national_id"]],
                                  np.int8)[self.national_id]
        self._tf_cache: dict = {}

    def _codes(self, column: str, values: Iterable[str | None]) -> np.ndarray:
        values = [value or "" for value in values]
        index = dict.fromkeys(chain([""], values))  # "" first: code 0
        for code, value in enumerate(index):
            index[value] = code
        self.vocab[column] = list(index)
        return np.fromiter(map(index.__getitem__, values), np.int32, len(values))

    def _contacts(self, column: str, records: Sequence[MatchRecord]) -> np.ndarray:
        widest = min(MAX_CONTACTS, max((len(getattr(r, column)) for r in records), default=0))
        codes = np.zeros((self.size, max(widest, 1)), np.int32)
        index = {"": 0}
        for i, record in enumerate(records):
            for k, value in enumerate(getattr(record, column)[:widest]):
                codes[i, k] = index.setdefault(value, len(index))
        self.vocab[column] = list(index)
        return codes

    def tf_bits(self, model: Model, key: str) -> np.ndarray:
        """Return the term-frequency adjustment per code of a column, cached."""
        cache_key = (id(model), key)
        if cache_key not in self._tf_cache:
            column = {"family": "family", "given": "given", "hometown": "hometown_code"}[key]
            bits = model.tf_bits(key, self.vocab[column])
            bits[0] = 0.0
            self._tf_cache[cache_key] = bits
        return self._tf_cache[cache_key]

    def rare(self, model: Model, column: str) -> np.ndarray:
        """Return, per code of a name column, whether the name is rare in the model."""
        cache_key = (id(model), "rare", column)
        if cache_key not in self._tf_cache:
            table = model.tf[column]
            self._tf_cache[cache_key] = np.array(
                [table.get(value, 0.0) < RARE_NAME for value in self.vocab[column]], bool)
        return self._tf_cache[cache_key]

    def may_be_one_edit(self, column: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Tell cheaply which document numbers might be one edit apart.

        One edit in a number of 7 or more characters leaves its first three or its
        last three alone; shorter numbers are always looked at.
        """
        if ("ends", column) not in self._tf_cache:
            index: dict[str, int] = {}
            vocabulary = self.vocab[column]
            self._tf_cache[("ends", column)] = (
                np.array([index.setdefault(v[:3], len(index)) for v in vocabulary]),
                np.array([index.setdefault(v[-3:], len(index)) for v in vocabulary]),
                np.array([len(v) >= 7 for v in vocabulary]))
        prefix, suffix, long = self._tf_cache[("ends", column)]
        return ~(long[a] & long[b]) | (prefix[a] == prefix[b]) | (suffix[a] == suffix[b])

    def household_flags(self, context: Context) -> np.ndarray:
        """Return, per phone code, whether the phone belongs to a household."""
        return np.array([phone in context.household_phones for phone in self.vocab["phones"]],
                        bool)


_GENDER_CODES = {"male": 1, "female": 2}


# -- comparisons ---------------------------------------------------------------------

def compare(table: RecordTable, left: np.ndarray, right: np.ndarray, context: Context,
            model: Model | None = None) -> np.ndarray:
    """Return the level of every comparison for each pair: int8 [pairs × comparisons].

    The model's name frequencies tell a typo from another name: "Nsm" is close to
    "Nam", but "Hùng" and "Dũng", both common, are two names.
    """
    levels = np.empty((len(left), len(NAMES)), np.int8, order="F")  # read by column
    levels[:, INDEX["given_name"]] = _given_level(table, left, right, model)
    levels[:, INDEX["family_name"]] = _name_level(table, "family", left, right, model)
    levels[:, INDEX["middle_name"]] = _middle_level(table, left, right)
    _same_words(table, left, right, levels)
    levels[:, INDEX["birth_date"]] = _birth_level(table, left, right)
    levels[:, INDEX["gender"]] = _equal_level(table.gender, left, right)
    levels[:, INDEX["hometown"]] = _equal_level(table.hometown_code, left, right)
    levels[:, INDEX["phone"]] = _phone_level(table, left, right, context)
    levels[:, INDEX["email"]] = _email_level(table, left, right)
    levels[:, INDEX["passport"]] = _document_level(table, "passport", left, right)
    levels[:, INDEX["national_id"]] = _national_id_level(table, left, right)
    levels[:, INDEX["country"]] = _equal_level(table.country_code, left, right)
    levels[:, INDEX["relatives"]] = _relatives_level(levels)
    return levels


def _equal_level(codes, left, right) -> np.ndarray:
    a, b = codes[left], codes[right]
    return np.where((a == 0) | (b == 0), NULL, np.where(a == b, 0, 1)).astype(np.int8)


def _given_level(table, left, right, model) -> np.ndarray:
    a, b = table.given[left], table.given[right]
    equal = a == b
    both_marked = table.given_marked[left] & table.given_marked[right]
    same_tone = table.given_tone[left] == table.given_tone[right]

    level = np.full(len(a), 4, np.int8)
    fuzzy = ~equal & (a != 0) & (b != 0)
    level[fuzzy] = np.where(_typo(table, "given", a[fuzzy], b[fuzzy], model), 3, 4)
    level[equal] = 1
    level[equal & both_marked & same_tone] = 0
    level[equal & both_marked & ~same_tone] = 2
    level[(a == 0) | (b == 0)] = NULL
    return level


def _name_level(table, column, left, right, model) -> np.ndarray:
    codes = getattr(table, column)
    a, b = codes[left], codes[right]
    level = np.full(len(a), 2, np.int8)
    fuzzy = (a != b) & (a != 0) & (b != 0)
    level[fuzzy] = np.where(_typo(table, column, a[fuzzy], b[fuzzy], model), 1, 2)
    level[a == b] = 0
    level[(a == 0) | (b == 0)] = NULL
    return level


def _middle_level(table, left, right) -> np.ndarray:
    a, b = table.middle[left], table.middle[right]
    level = np.where(a == b, 0, np.where((a == 0) | (b == 0), 1, 2)).astype(np.int8)
    level[(a == 0) & (b == 0)] = NULL
    return level


def _same_words(table, left, right, levels) -> None:
    """Treat names made of the same words as the same name, whatever the split.

    "Thu Hương Cao" may be split as given name Thu; "Cao Thu Hương" as Hương.
    Tones are not known to agree, so the given name counts as folded equal.
    """
    same = (table.name_key[left] == table.name_key[right]) & (table.name_key[left] != 0)
    given = levels[:, INDEX["given_name"]]
    resplit = same & ((given == 3) | (given == 4))
    levels[resplit, INDEX["given_name"]] = 1
    levels[resplit, INDEX["family_name"]] = 0
    levels[resplit & (levels[:, INDEX["middle_name"]] != NULL), INDEX["middle_name"]] = 0


def _typo(table, column, a, b, model) -> np.ndarray:
    """Tell whether two different names are one misspelt: close, and one of them rare."""
    close = _close(table.vocab[column], a, b, GIVEN_JW)
    if model is None or not model.tf[column]:
        return close
    rare = table.rare(model, column)
    return close & (rare[a] | rare[b])


def _close(vocabulary, a, b, jaro_winkler) -> np.ndarray:
    """Tell, per pair of codes, whether the spellings are close; each pair computed once."""
    if len(a) == 0:
        return np.zeros(0, bool)
    low, high = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    unique, inverse = _unique_inverse(low * (len(vocabulary) + 1) + high)
    first = [vocabulary[c] for c in unique // (len(vocabulary) + 1)]
    second = [vocabulary[c] for c in unique % (len(vocabulary) + 1)]
    workers = -1 if len(unique) > 20_000 else 1
    similar = cpdist(first, second, scorer=JaroWinkler.normalized_similarity,
                     workers=workers) >= jaro_winkler
    one_edit = cpdist(first, second, scorer=DamerauLevenshtein.distance, score_cutoff=1,
                      workers=workers) <= 1
    return (similar | one_edit)[inverse]


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted distinct values and, per value, its index among them."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    inverse = np.empty(len(values), np.intp)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


def _birth_level(table, left, right) -> np.ndarray:
    ya, yb = table.year[left].astype(np.int32), table.year[right].astype(np.int32)
    ma, mb = table.month[left].astype(np.int32), table.month[right].astype(np.int32)
    da, db = table.day[left].astype(np.int32), table.day[right].astype(np.int32)
    both_full = (da > 0) & ~table.placeholder[left] & (db > 0) & ~table.placeholder[right]
    same_year = ya == yb
    months_agree = (ma == mb) | (ma == 0) | (mb == 0) | table.placeholder[left] \
        | table.placeholder[right]

    level = np.full(len(ya), 5, np.int8)
    level[np.abs(ya - yb) == 1] = 4
    level[same_year & ~both_full & months_agree] = 3
    level[_one_typo((ya, ma, da), (yb, mb, db), both_full)] = 2
    level[both_full & same_year & (da == mb) & (ma == db) & (da != ma)] = 1
    level[both_full & same_year & (ma == mb) & (da == db)] = 0
    level[(ya == 0) | (yb == 0)] = NULL
    return level


def _one_typo(first, second, both_full) -> np.ndarray:
    """Tell whether two full dates differ by one digit or two adjacent digits swapped.

    Such a typo changes one of year, month and day, so only pairs agreeing on the
    other two are looked at; a swap across the year and month is not caught.
    """
    agree = sum((a == b).astype(np.int8) for a, b in zip(first, second))
    typo = np.zeros(len(agree), bool)
    for a, b, width in zip(first, second, (4, 2, 2)):
        look = np.flatnonzero(both_full & (agree == 2) & (a != b))
        typo[look] = _one_digit(a[look], b[look], width)
    return typo


def _one_digit(a: np.ndarray, b: np.ndarray, width: int) -> np.ndarray:
    digits_a = np.stack([(a // 10 ** k) % 10 for k in range(width)], axis=1)
    digits_b = np.stack([(b // 10 ** k) % 10 for k in range(width)], axis=1)
    differ = digits_a != digits_b
    count = differ.sum(axis=1)
    swapped = np.zeros(len(a), bool)
    for k in range(width - 1):
        swapped |= differ[:, k] & differ[:, k + 1] \
            & (digits_a[:, k] == digits_b[:, k + 1]) & (digits_a[:, k + 1] == digits_b[:, k])
    return (count == 1) | ((count == 2) & swapped)


def _shared(codes, left, right) -> tuple[np.ndarray, np.ndarray]:
    """Return [pairs × k × k] equality of contact codes and whether both sides have one."""
    a, b = codes[left], codes[right]
    same = (a[:, :, None] == b[:, None, :]) & (a[:, :, None] != 0)
    return same, (a[:, 0] != 0) & (b[:, 0] != 0)


def _phone_level(table, left, right, context) -> np.ndarray:
    same, both = _shared(table.phones, left, right)
    household = table.household_flags(context)[table.phones[left]]
    personal = (same & ~household[:, :, None]).any(axis=(1, 2))
    level = np.where(personal, 0, np.where(same.any(axis=(1, 2)), 1, 2)).astype(np.int8)
    level[~both] = NULL
    return level


def _email_level(table, left, right) -> np.ndarray:
    same, both = _shared(table.emails, left, right)
    level = np.where(same.any(axis=(1, 2)), 0, 1).astype(np.int8)
    level[~both] = NULL
    return level


def _document_level(table, column, left, right) -> np.ndarray:
    codes = getattr(table, column)
    a, b = codes[left], codes[right]
    level = np.full(len(a), 2, np.int8)
    differ = (a != b) & (a != 0) & (b != 0)
    differ &= table.may_be_one_edit(column, a, b)
    level[differ] = np.where(_one_edit(table.vocab[column], a[differ], b[differ]), 1, 2)
    level[a == b] = 0
    level[(a == 0) | (b == 0)] = NULL
    return level


def _national_id_level(table, left, right) -> np.ndarray:
    level = _document_level(table, "national_id", left, right)
    # A 9-digit CMND and a 12-digit CCCD of the same person differ: say nothing.
    level[table.id_length[left] != table.id_length[right]] = NULL
    return level


def _one_edit(vocabulary, a, b) -> np.ndarray:
    if len(a) == 0:
        return np.zeros(0, bool)
    first, second = [vocabulary[c] for c in a], [vocabulary[c] for c in b]
    workers = -1 if len(a) > 20_000 else 1
    return cpdist(first, second, scorer=DamerauLevenshtein.distance, score_cutoff=1,
                  workers=workers) <= 1


def _relatives_level(levels: np.ndarray) -> np.ndarray:
    given = levels[:, INDEX["given_name"]]
    contact = (np.isin(levels[:, INDEX["phone"]], (0, 1))
               | (levels[:, INDEX["hometown"]] == 0))
    relative = ((given == 4) | (given == 2)) & (levels[:, INDEX["family_name"]] == 0) & contact
    return np.where(relative, 0, NULL).astype(np.int8)


# -- weights ----------------------------------------------------------------------

def tf_adjustments(table: RecordTable, left: np.ndarray, levels: np.ndarray,
                   model: Model) -> np.ndarray:
    """Return the term-frequency bits per pair and comparison: float [pairs × comparisons].

    On the adjusted levels both sides hold the same folded value, so the left
    record's value is looked up.
    """
    adjust = np.zeros(levels.shape, np.float32, order="F")
    for name, (key, applies) in TF_FIELDS.items():
        column = INDEX[name]
        codes = getattr(table, {"hometown": "hometown_code"}.get(key, key))[left]
        bits = table.tf_bits(model, key)[codes]
        adjust[:, column] = np.where(np.isin(levels[:, column], applies), bits, 0.0)
    return adjust


def pair_weights(levels: np.ndarray, adjust: np.ndarray, model: Model) -> np.ndarray:
    """Return the weight in bits of every comparison of every pair [pairs × comparisons]."""
    bits = np.empty(levels.shape, order="F")
    relatives = levels[:, INDEX["relatives"]] == 0
    for column in range(len(NAMES)):
        bits[:, column] = _column_weights(levels, adjust, model, column, relatives)
    return bits


def weigh(levels: np.ndarray, adjust: np.ndarray, model: Model) -> tuple[np.ndarray, np.ndarray]:
    """Return (probability, weight in bits) of pairs from their levels and adjustments."""
    total = np.full(len(levels), model.prior_bits)
    relatives = levels[:, INDEX["relatives"]] == 0
    for column in range(len(NAMES)):
        total += _column_weights(levels, adjust, model, column, relatives)
    return 1.0 / (1.0 + np.exp2(-total)), total


def _column_weights(levels, adjust, model, column, relatives) -> np.ndarray:
    bits = model.weights[column][levels[:, column].astype(np.intp) + 1]
    if NAMES[column] in TF_FIELDS:
        bits = bits + adjust[:, column]
    if column in _FAMILY_EVIDENCE:
        # Among relatives the shared phone and commune come from the family, so they
        # are no evidence of one person.
        bits = np.where(relatives, np.minimum(bits, 0.0), bits)
    return bits


_FAMILY_EVIDENCE = (INDEX["phone"], INDEX["hometown"])


def score_arrays(table: RecordTable, left_idx: np.ndarray, right_idx: np.ndarray,
                 model: Model, context: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (probability, weight, levels) of the pairs (left_idx[k], right_idx[k])."""
    levels = compare(table, left_idx, right_idx, context, model)
    adjust = tf_adjustments(table, left_idx, levels, model)
    probability, weight = weigh(levels, adjust, model)
    return probability, weight, levels


def explain(levels_row: np.ndarray, model: Model,
            adjust_row: np.ndarray | None = None) -> list[dict]:
    """Return [{"field", "level", "weight"}] for one pair, missing fields left out."""
    levels = np.asarray(levels_row, np.int8).reshape(1, -1)
    adjust = np.zeros(levels.shape) if adjust_row is None else np.reshape(adjust_row, (1, -1))
    return _explanations(levels, pair_weights(levels, adjust, model))[0]


def explain_pairs(table: RecordTable, left: np.ndarray, levels: np.ndarray,
                  model: Model) -> list[list[dict]]:
    """Return the explanation of each pair, term-frequency adjustments included."""
    bits = pair_weights(levels, tf_adjustments(table, left, levels, model), model)
    return _explanations(levels, bits)


def _explanations(levels: np.ndarray, bits: np.ndarray) -> list[list[dict]]:
    """Return the explanations of pairs; equal items are one shared dict, not copies.

    A million pairs hold few distinct (field, level, weight) items, so each is made
    once (and serialised once, see operations.explanation_json). Read them, never
    change them.
    """
    labels = [labels for _, labels in COMPARISONS]
    items: dict[tuple, dict] = {}

    def item(c: int, level: int, weight: float) -> dict:
        key = (c, level, weight)
        found = items.get(key)
        if found is None:
            found = items[key] = {"field": NAMES[c], "level": labels[c][level],
                                  "weight": weight}
        return found

    return [[item(c, level, weight)
             for c, (level, weight) in enumerate(zip(level_row, bit_row)) if level != NULL]
            for level_row, bit_row in zip(levels.tolist(), np.round(bits, 2).tolist())]


def score_candidates(record: MatchRecord, candidates: Sequence[MatchRecord], model: Model,
                     context: Context) -> list[PairScore]:
    """Return the score of record against each candidate, in the candidates' order."""
    if not candidates:
        return []
    table = RecordTable([record, *candidates])
    left = np.zeros(len(candidates), np.intp)
    right = np.arange(1, len(candidates) + 1)
    probability, weight, levels = score_arrays(table, left, right, model, context)
    explanations = explain_pairs(table, left, levels, model)
    return [PairScore(float(p), round(float(w), 2), model.band(float(p)), e)
            for p, w, e in zip(probability, weight, explanations)]


def score(a: MatchRecord, b: MatchRecord, model: Model, context: Context) -> PairScore:
    """Return the score of one pair, the same as the batch would give it."""
    return score_candidates(a, [b], model, context)[0]


# -- training ---------------------------------------------------------------------

#: pseudo-matches that pull the estimated m towards the hand-set values, so that a
#: small registry with few shared identifiers keeps sane parameters
M_PSEUDO_COUNT = 20.0
#: (comparison, level) → (lowest, highest) m allowed after training
M_BOUNDS = {
    ("national_id", 0): (0.8, 1.0), ("national_id", 2): (0.0, 0.03),
    ("passport", 0): (0.5, 1.0), ("email", 0): (0.4, 1.0), ("phone", 0): (0.2, 1.0),
    ("gender", 1): (0.002, 0.05), ("given_name", 4): (0.002, 0.1),
    ("birth_date", 5): (0.002, 0.1), ("family_name", 2): (0.002, 0.1),
    # Never seen in a sample does not mean impossible.
    ("given_name", 2): (0.002, 0.1), ("family_name", 1): (0.002, 0.1),
    ("hometown", 1): (0.005, 0.3), ("email", 1): (0.002, 0.3),
}
FIXED = ("relatives",)
#: pairs sharing one of these are, nearly always, one person
ANCHORS = ("national_id", "email", "passport")
MIN_ANCHORED = 30
#: an identifier on more records than this is reused (a family's e-mail, a number typed
#: from a template, the demo's random passports) and anchors nothing
ANCHOR_MAX_SHARED = 2
#: an anchor must also look alike by names, birth date and gender (bits, start model):
#: two strangers whose passports collide would teach m that names disagree
ANCHOR_MIN_BITS = 0.0
_ANCHOR_EVIDENCE = ("given_name", "family_name", "middle_name", "birth_date", "gender")
#: bounds of the share of candidate pairs that match. EM on candidates full of
#: namesakes and few duplicates drifts up (0.2 on demo data that hold none), and the
#: probability thresholds move with it; the cap keeps "possible" at 1.6 bits of
#: evidence at least, the floor keeps a clean registry's model from missing the
#: duplicates typed later
PRIOR_BOUNDS = (0.01, 0.25)
RANDOM_PAIRS = 500_000
#: candidate pairs looked at in training, a random sample when there are more
TRAINING_PAIRS = 2_000_000
#: weight of the random-pair u against the candidates' u (geometric mean)
RANDOM_U_SHARE = 0.5
EM_ITERATIONS = 50


def train(table: RecordTable, candidate_left: np.ndarray, candidate_right: np.ndarray,
          context: Context, model: Model | None = None, seed: int = 1) -> Model:
    """Return a model trained on the data.

    - term frequencies from all records;
    - m from the candidate pairs that share a hard identifier (each identifier's
      own m from pairs anchored by the others). EM left free to move m collapses
      here: blocking on names fills the candidates with namesakes and EM takes
      "same name" for "same person" (prior 0.5, precision 0.24 on 30,000 records);
    - u twice: from random pairs, which treat fields as independent and so count
      namesakes' agreement on name, year and commune as if it were rare, and by EM
      over the candidates' level patterns with m held, which learns that
      namesakes are common among candidates but over-corrects (the rules make
      agreement on names and on dates exclusive). The model keeps their geometric
      mean (RANDOM_U_SHARE), which measured best;
    - the prior by EM with m and u held, within PRIOR_BOUNDS.

    Anchors are identifiers shared by at most ANCHOR_MAX_SHARED records, on pairs
    that also look alike without them. Check the result with model_problems
    before using it.
    """
    start = model or default_model()
    tf = _term_frequencies(table)
    base = Model(start.m, start.u, start.prior, tf)
    u = _estimate_u(table, context, base, seed)

    sample = _sample(len(candidate_left), TRAINING_PAIRS, seed)
    left, right = candidate_left[sample], candidate_right[sample]
    levels = compare(table, left, right, context, base)
    m = _anchored_m(levels, start, _anchors(table, left, right, levels, base))
    patterns, counts = _patterns(levels)
    u_candidates, prior = _expectation_maximisation(patterns, counts, m, u, start.prior)
    u = _blend(u, u_candidates)
    prior = float(np.clip(_estimate_prior(patterns, counts, m, u, prior), *PRIOR_BOUNDS))
    trained = Model(m, u, prior, tf, start.likely, start.possible)
    log.info("Match model trained on %d records, %d candidate pairs (%d patterns), "
             "prior %.4f", table.size, len(candidate_left), len(patterns), prior)
    return trained


def _sample(count: int, size: int, seed: int) -> np.ndarray:
    if count <= size:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size, replace=False))


def _anchors(table, left, right, levels, model) -> dict[str, np.ndarray]:
    """Return, per anchor, which pairs share a rare value of it and look alike besides."""
    evidence = pair_weights(levels, tf_adjustments(table, left, levels, model), model)
    alike = evidence[:, [INDEX[name] for name in _ANCHOR_EVIDENCE]].sum(axis=1) \
        > ANCHOR_MIN_BITS
    anchors = {}
    for name in ANCHORS:
        rare = _rare_identifier(table, name)
        anchors[name] = (levels[:, INDEX[name]] == 0) & rare[left] & rare[right] & alike
    log.debug("Training anchors: %s", {name: int(a.sum()) for name, a in anchors.items()})
    return anchors


def _rare_identifier(table, name) -> np.ndarray:
    """Tell, per record, whether its values of an identifier are on few records."""
    if name == "email":
        codes = table.emails
        counts = np.bincount(codes.ravel(), minlength=len(table.vocab["emails"]))
        counts[0] = 0
        return (counts[codes] <= ANCHOR_MAX_SHARED).all(axis=1)
    codes = getattr(table, name)
    counts = np.bincount(codes, minlength=len(table.vocab[name]))
    return counts[codes] <= ANCHOR_MAX_SHARED


def _anchored_m(levels: np.ndarray, start: Model, shares: dict[str, np.ndarray]) -> dict:
    m = {}
    for column, (name, labels) in enumerate(COMPARISONS):
        if name in FIXED:
            m[name] = list(start.m[name])
            continue
        anchored = np.zeros(len(levels), bool)
        for anchor in ANCHORS:
            if anchor != name:
                anchored |= shares[anchor]
        observed = levels[anchored, column]
        observed = observed[observed >= 0]
        counts = np.bincount(observed, minlength=len(labels)).astype(float)
        if counts.sum() < MIN_ANCHORED:
            m[name] = list(start.m[name])
            continue
        counts += M_PSEUDO_COUNT * np.asarray(start.m[name])
        m[name] = _bounded(name, np.maximum(counts / counts.sum(), 1e-4)).tolist()
    return m


def _expectation_maximisation(patterns, counts, m, u, prior) -> tuple[dict, float]:
    """Return (u among candidate non-matches, prior) by EM with m held.

    Random pairs give u under independence, but the candidates are not random:
    blocking on names fills them with namesakes, who agree on the whole name and
    often on the commune. Re-estimating u over the candidates learns that.
    """
    if len(patterns) == 0:
        return u, prior
    log_m = _log_likelihood(patterns, {k: np.array(v) for k, v in m.items()})
    u = {name: np.array(u[name], float) for name in NAMES}
    for _ in range(EM_ITERATIONS):
        log_u = _log_likelihood(patterns, u)
        odds = np.exp2(np.clip(log_m - log_u + math.log2(prior / (1 - prior)), -60, 60))
        match = odds / (1 + odds)
        prior = float(np.clip((counts * match).sum() / counts.sum(), 1e-6, 0.5))
        other = counts * (1 - match)
        for column, name in enumerate(NAMES):
            if name not in FIXED:
                u[name] = _level_shares(patterns[:, column], other, u[name])
    return {name: u[name].tolist() for name in NAMES}, prior


def _blend(u_random: dict, u_candidates: dict) -> dict:
    blended = {name: list(u_random[name]) for name in FIXED}
    for name in NAMES:
        if name in FIXED:
            continue
        logs = RANDOM_U_SHARE * np.log(np.maximum(u_random[name], PROBABILITY_FLOOR)) \
            + (1 - RANDOM_U_SHARE) * np.log(np.maximum(u_candidates[name], PROBABILITY_FLOOR))
        blended[name] = (np.exp(logs) / np.exp(logs).sum()).tolist()
    return blended


def _estimate_prior(patterns, counts, m, u, prior) -> float:
    """Return the share of candidate pairs that match, by EM with m and u held."""
    if len(patterns) == 0:
        return prior
    log_ratio = _log_likelihood(patterns, {k: np.array(v) for k, v in m.items()}) \
        - _log_likelihood(patterns, {k: np.array(v) for k, v in u.items()})
    for _ in range(EM_ITERATIONS):
        odds = np.exp2(np.clip(log_ratio + math.log2(prior / (1 - prior)), -60, 60))
        updated = float(np.clip((counts * odds / (1 + odds)).sum() / counts.sum(),
                                1e-6, 0.5))
        if abs(updated - prior) < 1e-7:
            return updated
        prior = updated
    return prior


def _level_shares(levels, weights, fallback) -> np.ndarray:
    observed = levels >= 0
    sums = np.bincount(levels[observed], weights=weights[observed], minlength=len(fallback))
    if sums.sum() <= 0:
        return np.asarray(fallback)
    return np.maximum(sums / sums.sum(), PROBABILITY_FLOOR)


def _estimate_u(table, context, start, seed) -> dict:
    n = table.size
    if n < 50:
        return {name: list(start.u[name]) for name in NAMES}
    rng = np.random.default_rng(seed)
    size = min(RANDOM_PAIRS, n * (n - 1) // 2)
    left, right = rng.integers(n, size=size), rng.integers(n, size=size)
    keep = left != right
    levels = compare(table, left[keep], right[keep], context, start)

    u = {}
    for column, (name, labels) in enumerate(COMPARISONS):
        if name in FIXED:
            u[name] = list(start.u[name])
            continue
        counts = np.bincount(levels[:, column][levels[:, column] >= 0],
                             minlength=len(labels)).astype(float)
        u[name] = ((counts + 0.5) / (counts.sum() + 0.5 * len(labels))).tolist()
    return u


def _term_frequencies(table) -> dict:
    tf = {}
    for key, column in (("family", "family"), ("given", "given"),
                        ("hometown", "hometown_code")):
        codes = getattr(table, column)
        counts = np.bincount(codes, minlength=len(table.vocab[column]))
        counts[0] = 0
        total = counts.sum()
        vocabulary = table.vocab[column]
        # Values seen once are left out (often typos); they count as the rarest kept.
        tf[key] = {vocabulary[c]: float(counts[c] / total)
                   for c in np.flatnonzero(counts >= 2)} if total else {}
    return tf


def _patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct level patterns and how many pairs show each."""
    if len(levels) == 0:
        return np.zeros((0, len(NAMES)), np.int8), np.zeros(0)
    codes = np.zeros(len(levels), np.int64)
    for column in range(len(NAMES)):
        codes = codes * (MAX_LEVELS + 1) + (levels[:, column].astype(np.int64) + 1)
    codes.sort()
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    unique, counts = codes[starts], np.diff(np.append(starts, len(codes)))
    patterns = np.empty((len(unique), len(NAMES)), np.int8)
    for column in reversed(range(len(NAMES))):
        patterns[:, column] = unique % (MAX_LEVELS + 1) - 1
        unique = unique // (MAX_LEVELS + 1)
    return patterns, counts.astype(float)


def _log_likelihood(patterns, probabilities) -> np.ndarray:
    total = np.zeros(len(patterns))
    for column, name in enumerate(NAMES):
        logs = np.concatenate([[0.0], np.log2(np.maximum(probabilities[name],
                                                         PROBABILITY_FLOOR))])
        total += logs[patterns[:, column].astype(np.intp) + 1]
    return total


def _bounded(name, m) -> np.ndarray:
    m = np.array(m, float)
    for level in range(len(m)):
        low, high = M_BOUNDS.get((name, level), (0.0, 1.0))
        if not low <= m[level] <= high:
            wanted = float(np.clip(m[level], low, high))
            others = np.arange(len(m)) != level
            if m[others].sum() > 0:
                m[others] *= (1 - wanted) / m[others].sum()
            m[level] = wanted
    return np.maximum(m, 1e-4) / np.maximum(m, 1e-4).sum()


# -- sanity of a trained model ------------------------------------------------------

#: (comparison, level) that must weigh for one person, and those that must weigh against
MUST_AGREE = (("given_name", 0), ("family_name", 0), ("birth_date", 0), ("gender", 0),
              ("phone", 0), ("email", 0), ("passport", 0), ("national_id", 0))
MUST_DISAGREE = (("given_name", 4), ("family_name", 2), ("birth_date", 5), ("gender", 1))
#: candidate pairs looked at to compare a model's bands with the hand-set model's
SANITY_PAIRS = 200_000
#: a model may put this many times the hand-set model's pairs in a band, plus this
#: share of the candidates, before it counts as flooding the queue
FLOOD_RATIO, FLOOD_SHARE = 3.0, 0.002


def model_problems(model: Model, table: RecordTable, left: np.ndarray, right: np.ndarray,
                   context: Context, seed: int = 1) -> list[str]:
    """Return what makes model unfit to score these candidates; empty when it looks sane.

    Agreeing on a name, a date or an identifier must count for one person and
    disagreeing against; and on a sample of the candidates the model must not put
    many more pairs in a band than the hand-set model does, a sign that it learnt
    "namesake" as "same person".
    """
    problems = [f"{name} {COMPARISONS[INDEX[name]][1][level]} weighs {bits:+.1f} bits"
                for name, level, bits in _level_bits(model, MUST_AGREE) if bits <= 0]
    problems += [f"{name} {COMPARISONS[INDEX[name]][1][level]} weighs {bits:+.1f} bits"
                 for name, level, bits in _level_bits(model, MUST_DISAGREE) if bits >= 0]

    sample = _sample(len(left), SANITY_PAIRS, seed)
    if len(sample):
        left, right = left[sample], right[sample]
        flagged = _in_a_band(model, table, left, right, context)
        reference = _in_a_band(default_model(), table, left, right, context)
        if flagged > FLOOD_RATIO * reference + FLOOD_SHARE * len(sample):
            problems.append(f"{flagged} of {len(sample)} sampled candidate pairs in a band, "
                            f"against {reference} with the hand-set model")
    return problems


def _level_bits(model: Model, levels) -> list[tuple[str, int, float]]:
    weights = model.weights
    return [(name, level, float(weights[INDEX[name], level + 1])) for name, level in levels]


def _in_a_band(model, table, left, right, context) -> int:
    probability, _, _ = score_arrays(table, left, right, model, context)
    return int((probability >= model.possible).sum())
