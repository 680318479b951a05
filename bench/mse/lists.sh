#!/usr/bin/env bash
# Speed and memory by number of lists (3 to 10) and classes K (2, 5, 10,
# 20): Girok's LCMCR sampler and R's LCMCR package side by side, on the
# simulated tables of `lcmcr-bench --sweep` (5,000 people in two latent
# classes), 1,000 burn-in and 10,000 kept sweeps each (issue 18, item 5).
#
#   bash bench/mse/lists.sh
#
# Needs R with LCMCR installed from source, as bench/mse/ess.sh. Sweeps per
# CPU second from each sampler's own CPU time (model creation to last draw,
# both with their 500 warm-up sweeps); peak memory of each process
# (/usr/bin/time; R's includes the R interpreter, about 60 MB).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p girok-stats --bin lcmcr-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
burn_in=1000 samples=10000
echo "lists	cells	K	R sweeps/s	Girok sweeps/s	Girok / R	R peak MB	Girok peak MB"
for lists in 3 4 5 6 7 8 9 10; do
    target/release/lcmcr-bench --simulated "$lists" >"$work/table.tsv"
    cells=$(($(wc -l <"$work/table.tsv") - 1))
    for classes in 2 5 10 20; do
        r_kb=$(/usr/bin/time -f %M Rscript bench/mse/lcmcr.R "$work/table.tsv" "$classes" \
            "$burn_in" "$samples" 1 1 "$work/r.txt" 2>&1 >/dev/null | tail -1)
        g_kb=$( { /usr/bin/time -f %M target/release/lcmcr-bench --ess "$work/table.tsv" "$classes" \
            "$burn_in" "$samples" 1 1 "$work/r.txt" >"$work/ess.txt"; } 2>&1 | tail -1)
        awk -F'\t' -v lists="$lists" -v cells="$cells" -v k="$classes" -v sweeps=$((burn_in + samples)) \
            -v r_kb="$r_kb" -v g_kb="$g_kb" '
            $1 == "other" { r = sweeps / $4 } $1 == "girok" { g = sweeps / $4 }
            END { printf "%d\t%d\t%d\t%.0f\t%.0f\t%.2f\t%.0f\t%.0f\n", lists, cells, k, r, g, g / r, r_kb / 1024, g_kb / 1024 }' \
            "$work/ess.txt"
    done
done
