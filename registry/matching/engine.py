"""The batch duplicate scan: block, train, score, cluster. No database here."""
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from registry.matching import scoring
from registry.matching.blocking import candidate_pairs
from registry.matching.keys import MatchRecord
from registry.matching.scoring import Context, Model, RecordTable

log = logging.getLogger(__name__)

#: pairs scored at once, to bound memory on a million records
CHUNK = 1_000_000


@dataclass
class ScoredPair:
    person_a_id: int  # always the lower id
    person_b_id: int
    probability: float
    weight: float
    band: str
    explanation: list[dict]


@dataclass
class BatchResult:
    model: Model
    pairs: list[ScoredPair]
    clusters: list[list[int]]
    timings: dict = field(default_factory=dict)
    #: why the model trained in this run was not used (and must not be saved)
    rejected: list[str] = field(default_factory=list)


def find_duplicates(records: list[MatchRecord], model: Model | None = None,
                    train: bool = True,
                    progress: Callable[[str, int], None] | None = None,
                    min_band: str = "possible") -> BatchResult:
    """Return the pairs at min_band or better among records, and the likely clusters."""
    report = progress or (lambda stage, percent: None)
    timings, clock = {}, _Clock()

    report("preparing", 0)
    table = RecordTable(records)
    context = Context.from_table(table)
    timings["prepare"] = clock.lap()

    report("blocking", 10)
    left, right = candidate_pairs(table)
    timings["blocking"] = clock.lap()

    rejected = []
    if train or model is None:
        report("training", 25)
        model, rejected = _trained_or_fallback(table, left, right, context, model) if train \
            else (scoring.default_model(), [])
        timings["training"] = clock.lap()

    threshold = model.likely if min_band == "likely" else model.possible
    kept = _score_in_chunks(table, left, right, model, context, threshold, report)
    timings["scoring"] = clock.lap()

    report("explaining", 90)
    pairs = _scored_pairs(table, model, context, *kept)
    timings["explaining"] = clock.lap()

    report("clustering", 95)
    by_id = dict(zip(table.person_id.tolist(), records))
    edges = [(p.person_a_id, p.person_b_id, p.probability) for p in pairs if p.band == "likely"]
    clusters = form_clusters(edges, by_id)
    timings["clustering"] = clock.lap()
    timings["total"] = clock.total()

    report("done", 100)
    log.info("Dedupe of %d records: %d candidate pairs, %d kept, %d clusters in %.1f s",
             len(records), len(left), len(pairs), len(clusters), timings["total"])
    return BatchResult(model, pairs, clusters, timings, rejected)


def _trained_or_fallback(table, left, right, context, saved) -> tuple[Model, list[str]]:
    """Return (model to score with, problems of the trained one) after training.

    A trained model that looks degenerate gives way to the saved one, or to the
    hand-set one when the saved one fails the same checks (an older run may have
    saved a bad one).
    """
    trained = scoring.train(table, left, right, context, saved)
    problems = scoring.model_problems(trained, table, left, right, context)
    if not problems:
        return trained, []
    fallback, kind = saved, "saved"
    if saved is None or scoring.model_problems(saved, table, left, right, context):
        fallback, kind = scoring.default_model(), "hand-set"
    log.warning("Trained match model rejected, scoring with the %s model: %s", kind,
                "; ".join(problems))
    return fallback, problems


def _score_in_chunks(table, left, right, model, context, threshold, report):
    kept_left, kept_right = [], []
    for start in range(0, len(left), CHUNK):
        chunk_left, chunk_right = left[start:start + CHUNK], right[start:start + CHUNK]
        probability, _, _ = scoring.score_arrays(table, chunk_left, chunk_right, model,
                                                 context)
        keep = probability >= threshold
        kept_left.append(chunk_left[keep])
        kept_right.append(chunk_right[keep])
        report("scoring", 30 + int(60 * min(start + CHUNK, len(left)) / max(len(left), 1)))
    if not kept_left:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    return np.concatenate(kept_left), np.concatenate(kept_right)


def _scored_pairs(table, model, context, left, right) -> list[ScoredPair]:
    # Only the kept pairs are scored again, to get their levels and explanations.
    probability, weight, levels = scoring.score_arrays(table, left, right, model, context)
    explanations = scoring.explain_pairs(table, left, levels, model)
    ids_left, ids_right = table.person_id[left].tolist(), table.person_id[right].tolist()

    pairs = []
    for a, b, p, w, e in zip(ids_left, ids_right, probability.tolist(), weight.tolist(),
                             explanations):
        low, high = (a, b) if a < b else (b, a)
        pairs.append(ScoredPair(low, high, p, round(w, 2), model.band(p), e))
    pairs.sort(key=lambda pair: -pair.probability)
    return pairs


def form_clusters(edges: list[tuple[int, int, float]], records: dict[int, MatchRecord],
                  max_size: int = 8) -> list[list[int]]:
    """Return groups of person ids joined by edges, strongest edges first.

    An edge that would join two groups is dropped when the result would hold more
    than max_size records or two records that cannot be one person (different
    national ids, different genders, given names typed with marks that differ,
    clearly different full birth dates): the weakest edges are the ones given up.
    Passports are not compared: they are renewed.
    """
    parent: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    signatures: dict[int, tuple | None] = {}

    def root(node: int) -> int:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def signature(node: int) -> tuple | None:
        if node not in signatures:
            signatures[node] = _signature(records.get(node))
        return signatures[node]

    for a, b, _ in sorted(edges, key=lambda edge: -edge[2]):
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        group_a, group_b = members.get(ra, [a]), members.get(rb, [b])
        if len(group_a) + len(group_b) > max_size or any(
                _cannot_be_one(signature(x), signature(y)) for x in group_a for y in group_b):
            continue
        parent[rb] = ra
        members[ra] = group_a + group_b
        members.pop(rb, None)
    return sorted(sorted(group) for group in members.values() if len(group) > 1)


def _signature(record: MatchRecord | None) -> tuple | None:
    """Return what tells two records apart for good, computed once per record."""
    if record is None:
        return None
    full = record.has_full_birth and not record.birth_placeholder
    birth = f"{record.birth_year:04d}{record.birth_month:02d}{record.birth_day:02d}" \
        if full else None
    tone = record.given_tone if record.given_marked else None
    return record.national_id, record.gender, record.given, tone, birth


def _cannot_be_one(a: tuple | None, b: tuple | None) -> bool:
    if a is None or b is None:
        return False
    (id_a, gender_a, given_a, tone_a, birth_a) = a
    (id_b, gender_b, given_b, tone_b, birth_b) = b
    if id_a and id_b and id_a != id_b and len(id_a) == len(id_b):
        return True
    if gender_a and gender_b and gender_a != gender_b:
        return True
    if given_a == given_b and tone_a and tone_b and tone_a != tone_b:
        return True  # Hương and Hường
    return bool(birth_a and birth_b) and _different_birth(birth_a, birth_b)


def _different_birth(first: str, second: str) -> bool:
    """Tell whether two YYYYMMDD dates are not equal, swapped or one typo apart."""
    if first == second or first == second[:4] + second[6:] + second[4:6]:
        return False
    differ = [k for k in range(8) if first[k] != second[k]]
    transposed = len(differ) == 2 and differ[1] == differ[0] + 1 \
        and first[differ[0]] == second[differ[1]] and first[differ[1]] == second[differ[0]]
    return len(differ) > 1 and not transposed


class _Clock:
    def __init__(self):
        self.start = self.last = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        elapsed, self.last = round(now - self.last, 3), now
        return elapsed

    def total(self) -> float:
        return round(time.perf_counter() - self.start, 3)
