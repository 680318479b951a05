#!/usr/bin/env bash
# PostgreSQL against SQLite on the same data: `girok synth` testimonies,
# imported into a new store on each backend by the same import code and store
# logic, then checked (`check` replays the journal and compares every state
# table). Runs alternate between the backends; prints each run, then medians,
# ranges and the ratio PostgreSQL / SQLite.
#
#   bench/postgres/import-check.sh [TESTIMONIES] [RUNS]
#
# PostgreSQL runs as shipped: fsync, synchronous_commit and full_page_writes
# on, logged tables; it listens only on a Unix socket in a private directory.
set -euo pipefail

testimonies=${1:-20000}
runs=${2:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${BENCH_OUT:-$root/bench/out}
mkdir -p "$out"

cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p girok --bin girok --example backends
girok="$root/target/release/girok"
backends="$root/target/release/examples/backends"
records="$out/synth-$testimonies.jsonl"
[ -f "$records" ] || "$girok" synth --testimonies "$testimonies" --seed 1 --out "$records" > /dev/null
echo "data: $testimonies testimonies, $(grep -c '"type":"act"' "$records") acts, $(wc -l < "$records") records"

source "$root/bench/postgres/cluster.sh"

results="$out/backends-$testimonies.txt"
: > "$results"
for run in $(seq 1 "$runs"); do
    rm -f "$out/backends.sqlite" "$out/backends.sqlite-wal" "$out/backends.sqlite-shm"
    "$backends" sqlite "$out/backends.sqlite" "$records" | tee -a "$results"
    psql_admin "DROP DATABASE IF EXISTS bench" && psql_admin "CREATE DATABASE bench"
    "$backends" postgres "host=$cluster user=girok dbname=bench" "$records" | tee -a "$results"
done
rm -f "$out/backends.sqlite" "$out/backends.sqlite-wal" "$out/backends.sqlite-shm"

python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    backend, _, imported, _, checked, _, entries = line.split()
    runs.setdefault(backend, []).append((float(imported), float(checked)))
def summary(values):
    return f"median {statistics.median(values):.2f} s (range {min(values):.2f}-{max(values):.2f})"
for step, index in (("import", 0), ("check", 1)):
    medians = {}
    for backend in ("sqlite", "postgres"):
        values = [run[index] for run in runs[backend]]
        medians[backend] = statistics.median(values)
        print(f"{step:6} {backend:8} {summary(values)}")
    print(f"{step:6} ratio postgres/sqlite {medians['postgres'] / medians['sqlite']:.2f}")
PY
