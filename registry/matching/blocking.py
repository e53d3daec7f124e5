"""Blocking: the candidate pairs worth scoring, from several strict keys.

A pair is a candidate when the two records agree exactly on every column of at
least one rule. No rule uses the family or the given name alone: thousands of
people are called Nguyễn Văn Anh.
"""
import logging
from dataclasses import dataclass

import numpy as np

from registry.matching.keys import MatchRecord
from registry.matching.scoring import RecordTable

log = logging.getLogger(__name__)

#: Blocks bigger than this are skipped: a block of 1,000 records is half a million
#: pairs, and keys that common (a placeholder date in a big commune) say too little
#: to be worth it. Identifiers get a smaller cap: a phone or e-mail on more than
#: 100 records is an agency's or a placeholder, not a person's.
NAME_CAP = 1000
IDENTIFIER_CAP = 100
BIRTH = ("birth_year", "birth_month", "birth_day")
#: match_key column → RecordTable attribute
_TABLE_COLUMNS = {"birth_year": "year", "birth_month": "month", "birth_day": "day"}


@dataclass(frozen=True)
class Rule:
    name: str
    columns: tuple[str, ...]  # match_key columns, or ("phone",) / ("email",)
    cap: int = NAME_CAP
    #: only pairs where one side's date is year only, month only or 1 January
    imprecise_only: bool = False
    #: the match_key equalities of the entry-time look-up, when not the columns
    probe: tuple[str, ...] | None = None


# The names alone with a year make huge blocks among a million people (36 million
# pairs), so pairs whose dates are both full are left to the sharper rules: the
# exact date rules, and the name with the year and the lower or the higher of
# month and day (a typo in the day or the month keeps one of them, a swap both)
# or with month and day (a typo in the year).
RULES = (
    Rule("name_year", ("name_key", "birth_year"), imprecise_only=True),
    Rule("name_year_low", ("name_key", "birth_year", "date_low"),
         probe=("name_key", "birth_year")),
    Rule("name_year_high", ("name_key", "birth_year", "date_high"),
         probe=("name_key", "birth_year")),
    Rule("name_day_month", ("name_key", "birth_month", "birth_day")),
    Rule("given_birth", ("given", *BIRTH)),
    Rule("family_birth", ("family", *BIRTH)),
    Rule("birth_hometown", (*BIRTH, "hometown_code")),
    # A typo in the given name and one in the family name at once still share these.
    Rule("initials_birth", ("initials", *BIRTH)),
    # A year typed wrong on a year-only date, and a middle name dropped on one side.
    Rule("names_hometown", ("given", "family", "hometown_code"), imprecise_only=True),
    Rule("phone", ("phone",), IDENTIFIER_CAP),
    Rule("email", ("email",), IDENTIFIER_CAP),
    Rule("passport", ("passport",), IDENTIFIER_CAP),
    Rule("national_id", ("national_id",), IDENTIFIER_CAP),
)


def candidate_pairs(table: RecordTable, rules=RULES) -> tuple[np.ndarray, np.ndarray]:
    """Return (left, right) record indices of the candidate pairs, left < right, unique."""
    codes = np.concatenate([np.zeros(0, np.int64), *(_rule_pairs(table, r) for r in rules)])
    codes.sort()
    codes = codes[np.concatenate([[True], codes[1:] != codes[:-1]])] if len(codes) else codes
    left, right = codes // max(table.size, 1), codes % max(table.size, 1)
    log.info("Blocking found %d candidate pairs among %d records", len(codes), table.size)
    return left, right


def probe_filters(record: MatchRecord, rules=RULES) -> list[tuple[str, dict]]:
    """Return, per rule that applies to record, the equalities to look candidates up.

    Contact rules give {"phone": ...} or {"email": ...}, one per value; the others
    give match_key column → value. A rule whose look-up is the same as an
    earlier one's (the name rules with a part of the date) is left out.
    """
    filters, seen = [], []
    for rule in rules:
        if rule.columns == ("phone",):
            filters += [(rule.name, {"phone": phone}) for phone in record.phones]
        elif rule.columns == ("email",):
            filters += [(rule.name, {"email": email}) for email in record.emails]
        elif _applies(record, rule):
            values = {column: getattr(record, column) for column in rule.probe or rule.columns}
            if all(value not in (None, "") for value in values.values()) \
                    and values not in seen:
                seen.append(values)
                filters.append((rule.name, values))
    return filters


def _applies(record: MatchRecord, rule: Rule) -> bool:
    derived = [column for column in rule.columns if column in ("date_low", "date_high")]
    if derived and (not record.has_full_birth or record.birth_placeholder):
        return False
    if rule.columns[-2:] == ("birth_month", "birth_day") and record.birth_placeholder:
        return False
    return True


def _rule_pairs(table: RecordTable, rule: Rule) -> np.ndarray:
    """Return the pairs of one rule encoded as left * size + right."""
    if rule.columns in (("phone",), ("email",)):
        contacts = getattr(table, rule.columns[0] + "s")
        members, slot = np.nonzero(contacts)
        keys = contacts[members, slot].astype(np.int64)
    else:
        keys, members = _keys(table, rule.columns)
    probing = _imprecise(table)[members] if rule.imprecise_only else None
    left, right = _pairs_in_blocks(keys, members, rule.cap, probing)
    low, high = np.minimum(left, right), np.maximum(left, right)
    different = low != high
    log.debug("Rule %s: %d pairs", rule.name, int(different.sum()))
    return low[different] * table.size + high[different]


def _imprecise(table: RecordTable) -> np.ndarray:
    return (table.day == 0) | table.placeholder


def _column(table: RecordTable, column: str) -> np.ndarray:
    """Return a blocking column as int64, 0 where missing."""
    if column in ("date_low", "date_high"):
        month, day = table.month.astype(np.int64), table.day.astype(np.int64)
        values = np.minimum(month, day) if column == "date_low" else np.maximum(month, day)
        return np.where(_imprecise(table), 0, values)
    if column in ("birth_month", "birth_day"):
        # 1 January may stand for an unknown date: no block of everyone born "1/1".
        values = getattr(table, _TABLE_COLUMNS[column]).astype(np.int64)
        return np.where(table.placeholder, 0, values)
    return getattr(table, _TABLE_COLUMNS.get(column, column)).astype(np.int64)


def _keys(table: RecordTable, columns) -> tuple[np.ndarray, np.ndarray]:
    """Return one int64 key per record having every column, and those records."""
    arrays = [_column(table, c) for c in columns]
    present = np.ones(table.size, bool)
    for values in arrays:
        present &= values != 0
    members = np.flatnonzero(present)

    key = np.zeros(len(members), np.int64)
    for values in arrays:
        values = values[members]
        radix = int(values.max(initial=0)) + 1
        if (int(key.max(initial=0)) + 1) * radix >= 2 ** 62:
            # Too wide for one integer: renumber the key so far densely.
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
        key = key * radix + values
    return key, members


def _pairs_in_blocks(keys, members, cap, probing=None) -> tuple[np.ndarray, np.ndarray]:
    """Return every pair of members sharing a key, in blocks of 2 to cap members.

    With probing (a flag per member), only pairs with a flagged member are made:
    each flagged member is paired with every other member of its block. A pair
    of two flagged members comes twice; the caller keeps unique pairs.
    """
    if len(keys) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(keys, kind="stable")
    keys, members = keys[order], members[order]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(keys)) + 1])
    sizes = np.diff(np.concatenate([starts, [len(keys)]]))
    kept = (sizes >= 2) & (sizes <= cap)
    starts, sizes = starts[kept], sizes[kept]
    group_start = np.repeat(starts, sizes)
    group_size = np.repeat(sizes, sizes)
    position = group_start + _ranges(sizes)

    if probing is None:
        # Each position gets as partners the positions after it in its block.
        partners = group_size - (position - group_start) - 1
        left = np.repeat(position, partners)
        right = left + 1 + _ranges(partners)
    else:
        flagged = probing[order][position]
        position, group_start = position[flagged], group_start[flagged]
        partners = group_size[flagged] - 1
        left = np.repeat(position, partners)
        right = np.repeat(group_start, partners) + _ranges(partners)
        right += right >= left  # skip the member itself
    return members[left].astype(np.int64), members[right].astype(np.int64)


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """Return 0..n-1 for each n of lengths, concatenated."""
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    return np.arange(total) - np.repeat(ends - lengths, lengths)
