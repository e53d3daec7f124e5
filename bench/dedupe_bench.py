"""Batch duplicate detection: the registry's engine against Splink 5 used off the shelf.

Both engines read the same synthetic registrations (bench/dedupe_data.py, seed 2 by
default: the matching module is tuned on seed 1, never on these), each in its own
spawned process so that the peak memory of one does not mix with the other's.

For each engine it prints pairwise precision, recall and F1 in the "likely" band
(Splink: match probability >= 0.95) and for "possible" and above (Splink: >= 0.5), the
clusters' F1 counted on the pairs they imply and as B-cubed, wall time split into
normalisation, training and blocking+scoring, and peak memory.

    .venv/bin/python bench/dedupe_bench.py --records 30000 150000
    .venv/bin/python bench/dedupe_bench.py --records 1000000 --only ours
"""
import argparse
import json
import logging
import multiprocessing
import os
import pickle
import resource
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(BENCH))
sys.path.insert(0, BENCH)

OUT = os.path.join(BENCH, "out")
SPLINK_LIKELY, SPLINK_POSSIBLE = 0.95, 0.5
TARGET_PRECISION, TARGET_F1 = 0.98, 0.97
TARGET_1M_SECONDS, TARGET_1M_MB = 240, 8 * 1024
ENGINES = ("ours", "splink")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[30_000])
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--only", choices=ENGINES, help="run one engine")
    args = parser.parse_args()

    engines = (args.only,) if args.only else ENGINES
    for count in args.records:
        results = run_size(count, args.seed, engines)
        report(count, args.seed, results)


def run_size(count: int, seed: int, engines: tuple[str, ...]) -> dict:
    """Generate one data set and run each engine on it in its own process."""
    from dedupe_data import generate, truth_pairs

    print(f"\n== {count:,} registrations, seed {seed}", flush=True)
    started = time.perf_counter()
    rows = generate(count, seed)
    true_pairs = len(truth_pairs(rows))
    entities = len({row["entity_id"] for row in rows})
    print(f"  generated in {time.perf_counter() - started:.1f} s: {entities:,} people, "
          f"{true_pairs:,} true duplicate pairs", flush=True)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"dedupe_rows_{count}_{seed}.pickle")
    with open(path, "wb") as handle:
        pickle.dump(rows, handle, protocol=pickle.HIGHEST_PROTOCOL)
    del rows

    context = multiprocessing.get_context("spawn")
    results = {}
    for engine in engines:
        print(f"  running {engine}...", flush=True)
        with context.Pool(1) as pool:
            results[engine] = pool.apply(run_engine, (engine, path))
        print_engine(engine, results[engine])
    os.remove(path)
    return results


def run_engine(engine: str, path: str) -> dict:
    """Run one engine on the pickled rows; return its figures (in the child process)."""
    with open(path, "rb") as handle:
        rows = pickle.load(handle)
    entity = _entities(rows)
    base_mb, cpu_before = _peak_mb(), _cpu_seconds()
    run = run_ours if engine == "ours" else run_splink
    found = run(rows)
    # CPU seconds say more than wall time when other jobs share the two cores.
    found["cpu"] = _cpu_seconds() - cpu_before
    found["peak_mb"] = _peak_mb()
    found["input_mb"] = base_mb
    found.update(evaluate(entity, found.pop("scored"), found.pop("clusters")))
    return found


def _entities(rows: list[dict]):
    """Return the true entity of each person, indexed by person id."""
    import numpy as np

    entity = np.zeros(len(rows) + 1, dtype=np.int64)
    for row in rows:
        entity[row["person_id"]] = row["entity_id"]
    return entity


# -- the registry's engine -------------------------------------------------------------

def run_ours(rows: list[dict]) -> dict:
    from registry.matching.engine import find_duplicates
    from registry.matching.keys import make_record

    started = time.perf_counter()
    records = [make_record(row["person_id"], full_name=row["full_name"],
                           gender=row["gender"], birth_year=row["birth_year"],
                           birth_month=row["birth_month"], birth_day=row["birth_day"],
                           hometown_code=row["hometown_code"],
                           country_code=row["country_code"], phones=row["phones"],
                           emails=row["emails"], passport=row["passport"],
                           national_id=row["national_id"]) for row in rows]
    rows.clear()  # a scan reads people from the database, not from a second copy
    normalised = time.perf_counter()
    result = find_duplicates(records)
    finished = time.perf_counter()

    scored = [(pair.person_a_id, pair.person_b_id, pair.band == "likely")
              for pair in result.pairs]
    steps = _seconds(result.timings)
    timings = {"normalisation": normalised - started,
               "training": steps.get("training", 0.0),
               "blocking+scoring": sum(steps.get(step, 0.0) for step in (
                   "prepare", "blocking", "scoring", "explaining")),
               "clustering": steps.get("clustering", 0.0)}
    return {"timings": timings, "engine_timings": steps, "wall": finished - started,
            "scored": scored, "clusters": [list(ids) for ids in result.clusters]}


def _seconds(timings) -> dict:
    """Return the engine's own timings as {step: seconds}, whatever shape they come in."""
    if not timings:
        return {}
    if not isinstance(timings, dict):
        timings = vars(timings) if hasattr(timings, "__dict__") else dict(timings)
    return {str(k): float(v) for k, v in timings.items() if isinstance(v, (int, float))}


# -- the peer: Splink 5 off the shelf --------------------------------------------------

def run_splink(rows: list[dict]) -> dict:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    table = splink_input(rows)
    rows.clear()
    db_api = DuckDBAPI()
    people = db_api.register(table, dataset_display_name="people")
    del table
    normalised = time.perf_counter()

    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="person_id",
        comparisons=[
            cl.ForenameSurnameComparison("given", "family",
                                         forename_surname_concat_col_name="given_family"),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.ExactMatch("gender"),
            cl.ExactMatch("hometown_code").configure(term_frequency_adjustments=True),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone"),
            cl.EmailComparison("email"),
            cl.LevenshteinAtThresholds("passport", 1),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("name_sorted", "birth_year"),
            block_on("given", "birth_date"),
            block_on("family", "birth_date"),
            block_on("birth_date", "hometown_code"),
            block_on("phone"),
            block_on("email"),
            block_on("passport"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(people, settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name_sorted", "birth_date"), block_on("passport")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    # given + family alone blocks tens of millions of pairs at 150,000 (Nguyễn, Anh).
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given", "family", "birth_year"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_date"))
    trained = time.perf_counter()

    predictions = linker.inference.predict(threshold_match_probability=SPLINK_POSSIBLE)
    scored_at = time.perf_counter()
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=SPLINK_LIKELY)
    finished = time.perf_counter()

    scored, clusters = _splink_output(predictions, clustered)
    timings = {"normalisation": normalised - started, "training": trained - normalised,
               "blocking+scoring": scored_at - trained, "clustering": finished - scored_at}
    return {"timings": timings, "wall": finished - started, "scored": scored,
            "clusters": clusters}


def splink_input(rows: list[dict]) -> dict[str, list]:
    """Return Splink's columns: folded names, first phone and e-mail, ISO birth date."""
    from registry.core.text import fold

    columns = {name: [] for name in (
        "person_id", "family", "given", "given_family", "name_sorted", "birth_date",
        "birth_year", "gender", "hometown_code", "city", "phone", "email", "passport")}
    for row in rows:
        words = fold(row["full_name"]).split()
        family, given = (words[0], words[-1]) if words else (None, None)
        day = row["birth_day"]
        columns["person_id"].append(row["person_id"])
        columns["family"].append(family)
        columns["given"].append(given)
        columns["given_family"].append(f"{given} {family}" if words else None)
        columns["name_sorted"].append(" ".join(sorted(words)) or None)
        columns["birth_date"].append(
            f"{row['birth_year']:04d}-{row['birth_month']:02d}-{day:02d}" if day else None)
        columns["birth_year"].append(row["birth_year"])
        columns["gender"].append(row["gender"])
        columns["hometown_code"].append(row["hometown_code"])
        columns["city"].append(row["city"])
        columns["phone"].append(row["phones"][0] if row["phones"] else None)
        columns["email"].append(row["emails"][0].lower() if row["emails"] else None)
        columns["passport"].append(row["passport"])
    return columns


def _splink_output(predictions, clustered) -> tuple[list, list]:
    pairs = predictions.as_duckdbpyrelation().project(
        f"person_id_l, person_id_r, match_probability >= {SPLINK_LIKELY}").fetchall()
    groups = clustered.as_duckdbpyrelation().aggregate(
        "list(person_id) AS ids", "cluster_id").filter("len(ids) > 1").project("ids")
    return pairs, [ids for (ids,) in groups.fetchall()]


# -- scoring against the truth ---------------------------------------------------------

def evaluate(entity, scored: list[tuple], clusters: list[list[int]]) -> dict:
    """Return pairwise and cluster precision, recall and F1 against the true entities."""
    import numpy as np

    true_pairs = _pairs_within(entity[1:])

    figures = {"true_pairs": int(true_pairs)}
    if scored:
        a, b, likely = (np.array(column) for column in zip(*scored))
        likely = likely.astype(bool)
        same = entity[a.astype(np.int64)] == entity[b.astype(np.int64)]
    else:
        same = likely = np.zeros(0, dtype=bool)
    figures["likely"] = _prf(int((same & likely).sum()), int(likely.sum()), true_pairs)
    figures["possible+"] = _prf(int(same.sum()), len(same), true_pairs)
    figures["clusters"] = _cluster_scores(entity, clusters)
    return figures


def _cluster_scores(entity, clusters: list[list[int]]) -> dict:
    """Return the pairwise F1 of the pairs the clusters imply, and B-cubed F1."""
    import numpy as np

    label = np.arange(len(entity), dtype=np.int64)
    for number, ids in enumerate(clusters):
        label[np.asarray(ids, dtype=np.int64)] = len(entity) + number
    cluster_of = np.unique(label[1:], return_inverse=True)[1].ravel()
    entity_of = np.unique(entity[1:], return_inverse=True)[1].ravel()
    cell_of = np.unique(cluster_of * (entity_of.max() + 1) + entity_of,
                        return_inverse=True)[1].ravel()
    cell_size, cluster_size = np.bincount(cell_of), np.bincount(cluster_of)
    entity_size = np.bincount(entity_of)

    inside = int((cell_size * (cell_size - 1) // 2).sum())
    implied = _prf(inside, int((cluster_size * (cluster_size - 1) // 2).sum()),
                   int((entity_size * (entity_size - 1) // 2).sum()))
    precision = float((cell_size[cell_of] / cluster_size[cluster_of]).mean())
    recall = float((cell_size[cell_of] / entity_size[entity_of]).mean())
    return {"pairwise": implied, "bcubed": {"precision": precision, "recall": recall,
                                            "f1": _f1(precision, recall)}}


def _pairs_within(groups) -> int:
    import numpy as np

    sizes = np.unique(groups, return_counts=True)[1]
    return int((sizes * (sizes - 1) // 2).sum())


def _prf(hits: int, said: int, true: int) -> dict:
    precision = hits / said if said else 0.0
    recall = hits / true if true else 0.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
            "pairs": said}


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- output ----------------------------------------------------------------------------

def print_engine(engine: str, found: dict) -> None:
    for band in ("likely", "possible+"):
        f = found[band]
        print(f"    {band:10s} precision {f['precision']:.4f}  recall {f['recall']:.4f}  "
              f"F1 {f['f1']:.4f}  ({f['pairs']:,} pairs)")
    pairwise, bcubed = found["clusters"]["pairwise"], found["clusters"]["bcubed"]
    print(f"    clusters   pairwise P {pairwise['precision']:.4f} R {pairwise['recall']:.4f} "
          f"F1 {pairwise['f1']:.4f};  B-cubed P {bcubed['precision']:.4f} "
          f"R {bcubed['recall']:.4f} F1 {bcubed['f1']:.4f}")
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in found["timings"].items())
    print(f"    wall {found['wall']:.1f} s ({steps}); CPU {found['cpu']:.1f} s")
    if found.get("engine_timings"):
        print("    engine's own steps: " + ", ".join(
            f"{step} {seconds:.1f} s" for step, seconds in found["engine_timings"].items()))
    print(f"    peak memory {found['peak_mb']:,.0f} MB (of which input rows "
          f"{found['input_mb']:,.0f} MB)", flush=True)


def report(count: int, seed: int, results: dict) -> None:
    """Print the summary table and the targets; write them to bench/out/dedupe_<n>.json."""
    print(f"\n  {count:,} records  P likely  R likely F1 likely  F1 poss+  F1 clust"
          f"   norm s  train s  score s   wall s    CPU s  peak MB")
    for engine, f in results.items():
        t = f["timings"]
        print(f"  {engine:14s} {f['likely']['precision']:9.4f} {f['likely']['recall']:9.4f} "
              f"{f['likely']['f1']:9.4f} {f['possible+']['f1']:9.4f} "
              f"{f['clusters']['pairwise']['f1']:9.4f} {t['normalisation']:8.1f} "
              f"{t['training']:8.1f} {t['blocking+scoring']:8.1f} {f['wall']:8.1f} "
              f"{f['cpu']:8.1f} {f['peak_mb']:8,.0f}")
    targets = _targets(count, results)
    for label, met in targets.items():
        print(f"  target {label}: {'met' if met else 'NOT met'}")
    path = os.path.join(OUT, f"dedupe_{count}.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"records": count, "seed": seed, "results": results, "targets": targets},
                  handle, indent=2)
    print(f"  written to {path}", flush=True)


def _targets(count: int, results: dict) -> dict:
    targets = {}
    ours = results.get("ours")
    if ours:
        targets["precision >= 0.98 (likely)"] = ours["likely"]["precision"] >= TARGET_PRECISION
        targets["F1 >= 0.97 (likely)"] = ours["likely"]["f1"] >= TARGET_F1
    if ours and "splink" in results:
        ratio = ours["wall"] / results["splink"]["wall"]
        print(f"  wall time ours/Splink: {ratio:.2f} "
              f"(CPU time {ours['cpu'] / results['splink']['cpu']:.2f})")
        targets["wall time <= half of Splink's"] = ratio <= 0.5
    if ours and count >= 1_000_000:
        targets["1M under 240 s"] = ours["wall"] < TARGET_1M_SECONDS
        targets["1M under 8 GB"] = ours["peak_mb"] < TARGET_1M_MB
    return targets


if __name__ == "__main__":
    main()
