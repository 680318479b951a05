#!/usr/bin/env bash
# Encryption benchmark (issue 7): import throughput and linkage time with
# encryption off and on, on the same generated data set (~1M acts at the
# default size), with peak memory from /usr/bin/time.
#
#   bash bench/encryption/run.sh [TESTIMONIES=170000]
set -euo pipefail
cd "$(dirname "$0")/../.."
testimonies=${1:-170000}
cargo build --release -q -p girok
girok=$PWD/target/release/girok
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIROK_ACTOR=bench

"$girok" synth --testimonies "$testimonies" --seed 7 --out "$work/s.jsonl" | tail -1

measure() { # label, command...
    local label=$1; shift
    /usr/bin/time -f "$label: %e s, peak %M KiB" "$@" 2>&1 >"$work/out.txt" | tail -1
    grep -E "Imported|proposals|clusters" "$work/out.txt" | head -2 || true
}

for mode in off on; do
    data="$work/db-$mode"
    if [ "$mode" = on ]; then
        export GIROK_PASSPHRASE='a long benchmark passphrase'
        "$girok" --data "$data" init --encrypt >/dev/null
    else
        unset GIROK_PASSPHRASE
        "$girok" --data "$data" init >/dev/null
    fi
    echo "== encryption $mode"
    measure "import ($mode)" "$girok" --data "$data" import "$work/s.jsonl"
    measure "link ($mode)" "$girok" --data "$data" link
    du -sh "$data/girok.sqlite" | sed "s/^/database size ($mode): /"
done
