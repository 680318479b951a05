#!/usr/bin/env bash
# Import, check and verify benchmark (issues 2 and 3): generates testimonies with `girok synth`,
# imports them into a fresh database, runs `girok check` and `girok verify`, and reports wall time,
# peak memory and database size. Side by side, `sha256sum` over the same input
# bytes gives a floor for anything that must read and hash every byte.
#
#   bench/import-check.sh [TESTIMONIES] [SEED]
#
# 170000 testimonies give about 1,000,000 acts (3.5 million records).
set -euo pipefail

testimonies=${1:-170000}
seed=${2:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${BENCH_OUT:-$root/bench/out}
mkdir -p "$out"

cargo build --release --quiet --manifest-path "$root/Cargo.toml"
girok="$root/target/release/girok"
data="$out/data-$testimonies"
records="$out/synth-$testimonies.jsonl"
rm -rf "$data"

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "$label: %e s wall, %M KiB peak resident" "$@" 2>&1 | grep -v '^\s*$'
}

echo "== girok synth --testimonies $testimonies --seed $seed"
measure synth "$girok" synth --testimonies "$testimonies" --seed "$seed" --out "$records"
acts=$(grep -c '"type":"act"' "$records")
echo "acts in the file: $acts; file size: $(du -h "$records" | cut -f1)"

echo "== sha256sum over the same bytes (floor for reading and hashing)"
measure sha256sum sha256sum "$records"

echo "== girok import"
"$girok" --data "$data" init > /dev/null
start=$(date +%s.%N)
measure import "$girok" --data "$data" import "$records"
end=$(date +%s.%N)
awk -v acts="$acts" -v s="$start" -v e="$end" 'BEGIN { printf "import throughput: %d acts/s\n", acts / (e - s) }'
echo "database size: $(du -h "$data/girok.sqlite" | cut -f1) ($(stat -c %s "$data/girok.sqlite") bytes)"

echo "== girok check (full replay into a scratch store and comparison)"
measure check "$girok" --data "$data" check

echo "== girok verify (chain, replay and comparison, Merkle tree rebuilt from the leaves, checkpoints, evidence)"
measure verify "$girok" --data "$data" verify
echo "== sha256sum over the journal's entry bytes (the bytes verify hashes)"
python3 - "$data/girok.sqlite" "$out/journal.bytes" <<'PY'
import sqlite3, sys
with open(sys.argv[2], "wb") as out:
    for (chunk,) in sqlite3.connect(sys.argv[1]).execute("SELECT bytes FROM journal ORDER BY seq"):
        out.write(chunk)
PY
echo "journal bytes: $(du -h "$out/journal.bytes" | cut -f1)"
measure sha256sum-journal sha256sum "$out/journal.bytes"
rm -f "$out/journal.bytes"

echo "== one inclusion proof (girok tree --entry)"
"$girok" --data "$data" tree --entry "$(( $(grep -c . "$records") / 2 ))" | sed -n 3p
