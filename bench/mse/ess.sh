#!/usr/bin/env bash
# Effective draws of N per CPU second: Girok's LCMCR sampler against R's
# LCMCR package, side by side on one table (issue 18, item 2).
#
#   bash bench/mse/ess.sh [RUNS] [TABLE] [K]     # default 5 runs, Kosovo, K = 10
#
# Needs R (Debian: r-base-core, libgsl-dev) with LCMCR installed from its
# source (`R CMD INSTALL path/to/LCMCR`; CRAN's package, version 0.4.14).
# Each run draws one chain of each sampler with the same settings and seed
# (10,000 burn-in, 40,000 draws thinned by 10), one after the other on one
# core; both report the CPU seconds from the model's creation to the last
# draw, and `lcmcr-bench --ess` computes the effective sample size of both
# traces with the same estimator (girok_stats::diagnostics, Geyer's initial
# monotone sequence). Then the median and range of each over the runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
table=${2:-../shared/data/kosovo-1999.tsv}
classes=${3:-10}
burn_in=10000 samples=40000 thin=10
cargo build --release -q -p girok-stats --bin lcmcr-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "run	sampler	draws	ESS	CPU s	ESS/s	q2.5	median	q97.5"
for run in $(seq 1 "$runs"); do
    Rscript bench/mse/lcmcr.R "$table" "$classes" "$burn_in" "$samples" "$thin" "$run" "$work/r.txt"
    target/release/lcmcr-bench --ess "$table" "$classes" "$burn_in" "$samples" "$thin" "$run" "$work/r.txt" |
        sed '1d; s/^other/R/' | sed "s/^/$run	/" | tee -a "$work/all.tsv"
done
echo
awk -F'\t' -v sweeps=$((samples * thin + burn_in)) '
    function summary(name, values, n,    i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && values[j - 1] > values[j]; j--) {
            t = values[j]; values[j] = values[j - 1]; values[j - 1] = t }
        printf "%s: median %.2f, range %.2f-%.2f over %d runs\n", name, \
            n % 2 ? values[(n + 1) / 2] : (values[n / 2] + values[n / 2 + 1]) / 2, values[1], values[n], n
    }
    $2 == "R" { r[++nr] = $6; rcpu[nr] = $5 }
    $2 == "girok" { g[++ng] = $6; gcpu[ng] = $5 }
    $2 == "ratio" { q[++nq] = $3 }
    END {
        summary("R ESS/s", r, nr); summary("Girok ESS/s", g, ng)
        for (i = 1; i <= nr; i++) { rs[i] = sweeps / rcpu[i]; gs[i] = sweeps / gcpu[i]; sr[i] = gs[i] / rs[i] }
        summary("R sweeps per CPU second", rs, nr); summary("Girok sweeps per CPU second", gs, ng)
        summary("sweeps per CPU second, Girok / R", sr, nr)
        summary("ESS/s, Girok / R", q, nq)
    }' "$work/all.tsv"
