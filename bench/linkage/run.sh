#!/usr/bin/env bash
# Girok's record linkage side by side with Splink 5.0.0, on FEBRL3, FEBRL4,
# `girok synth` person records (10k 100k 1m) and the second generator's
# (gen2-6k gen2-60k gen2-1m, bench/linkage/SECOND-GENERATOR.md) at the sizes
# given (default 10k 100k 1m gen2-6k gen2-60k).
#
#   bash bench/linkage/run.sh [SIZES...]      e.g. bash bench/linkage/run.sh 10k gen2-60k
#
# Both engines use 2 threads. Results go to target/bench-linkage/*.json and a
# table on standard output. Splink runs in a virtual environment made here
# (pip install splink==5.0.0 duckdb==2.0.0 recordlinkage==0.16).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ $# -gt 0 ]]; then sizes=("$@"); else sizes=(10k 100k 1m gen2-6k gen2-60k); fi
# The second generator's scoring seed (seeds 1-9 are for tuning; see SECOND-GENERATOR.md).
gen2_seed=101
out=target/bench-linkage
venv=target/bench-linkage/venv
mkdir -p "$out"
cargo build --release --quiet -p girok -p girok-linkage
if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet splink==5.0.0 duckdb==2.0.0 recordlinkage==0.16
fi
py=$venv/bin/python
bench=target/release/linkage-bench
measure() { # name, command...: the JSON report of one engine on one data set
    local name=$1; shift
    local started=$SECONDS
    if ! "$@" > "$out/$name.json" 2> "$out/$name.err"; then
        # An engine that fails (Splink at 1M runs out of memory and disk) is reported, not fatal.
        echo "{\"failed\": \"after $((SECONDS - started)) s: $(tail -1 "$out/$name.err" | tr -d '"\\')\"}" > "$out/$name.json"
    fi
}
"$py" bench/linkage/splink_run.py export "$out"
measure febrl3-girok "$bench" run --schema febrl --input "$out/febrl3.csv"
measure febrl3-splink "$py" bench/linkage/splink_run.py febrl3 "$out"
measure febrl4-girok "$bench" run --schema febrl --input "$out/febrl4a.csv" "$out/febrl4b.csv"
measure febrl4-splink "$py" bench/linkage/splink_run.py febrl4 "$out"
for size in "${sizes[@]}"; do
    if [[ $size == gen2-* ]]; then
        case $size in
            gen2-6k) persons=3000 ;;
            gen2-60k) persons=30000 ;;
            gen2-1m) persons=490000 ;;
            *) echo "unknown size $size (gen2-6k, gen2-60k or gen2-1m)" >&2; exit 2 ;;
        esac
        if [[ ! -s $out/$size.csv ]]; then
            python3 bench/linkage/gen2.py --persons "$persons" --seed "$gen2_seed" --out "$out/$size"
        fi
        measure "$size-girok" "$bench" run --schema persons --input "$out/$size.csv" --truth "$out/$size.truth.tsv"
        measure "$size-splink" "$py" bench/linkage/splink_run.py persons "$out/$size.csv" "$out/$size.truth.tsv"
        continue
    fi
    case $size in
        10k) testimonies=2860 ;;
        100k) testimonies=28600 ;;
        1m) testimonies=286000 ;;
        *) echo "unknown size $size (10k, 100k, 1m or gen2-...)" >&2; exit 2 ;;
    esac
    records=$out/synth-$size.jsonl
    if [[ ! -s $out/persons-$size.csv ]]; then
        target/release/girok synth --testimonies "$testimonies" --seed 7 -o "$records" > /dev/null
        "$bench" flatten --records "$records" --out "$out/persons-$size.csv"
    fi
    truth=${records%.jsonl}.truth.tsv
    measure "synth-$size-girok" "$bench" run --schema persons --input "$out/persons-$size.csv" --truth "$truth"
    measure "synth-$size-splink" "$py" bench/linkage/splink_run.py persons "$out/persons-$size.csv" "$truth"
done
"$py" - "$out" <<'PY'
import glob, json, os, sys
print(f"{'data / engine':<22}{'records':>9}{'pairs':>11}{'PC':>7}{'pw F1':>7}{'B3 F1':>7}{'B3 out':>7}{'B3 hom':>7}{'end-to-end s':>13}{'cmp/s':>11}{'peak MiB':>9}")
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*-*.json"))):
    r = json.load(open(path))
    name = os.path.basename(path)[:-5]
    if "failed" in r:
        print(f"{name:<22} failed {r['failed']}")
        continue
    # B-cubed F1 outside homonym groups and inside them, where the truth marks them.
    homonyms = r.get("homonyms") or {}
    apart = "".join(f"{homonyms[k]['b_cubed']['f1']:>7.3f}" if k in homonyms else f"{'':>7}"
                    for k in ("outside_homonym_groups", "homonym_groups"))
    print(f"{name:<22}{r['records']:>9}{r['candidate_pairs']:>11}{r['pairs_completeness']:>7.3f}"
          f"{r['pairwise']['f1']:>7.3f}{r['b_cubed']['f1']:>7.3f}{apart}{r['seconds']['end_to_end']:>13.1f}"
          f"{r['comparisons_per_second']:>11.0f}{r['peak_memory_mib']:>9.0f}")
PY
