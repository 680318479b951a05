#!/usr/bin/env bash
# Does the LCMCR start bias the estimate? (issue 18)
#
#   bash bench/mse/start.sh [SEEDS]     # default 100: seeds 1..SEEDS
#   GIROK=path/to/girok bash bench/mse/start.sh 20   # another build
#
# Runs `girok estimate` on the Kosovo table at the command's defaults (4
# chains, 5,000 kept draws each, 10,000 burn-in, thin 20), one seed after
# another, and compares the pooled 2.5% quantile and median with R's LCMCR
# 0.4.14 long run (../shared/data/kosovo-lcmcr-r.tsv: 2.5% 9,001, median
# 10,418). Acceptance: mean 2.5% within three Monte Carlo standard errors of
# 9,001; at least 95 of 100 seeds with the 2.5% quantile in 8,850-9,300 and
# the median in 10,250-10,650.
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=${1:-100}
kosovo=../shared/data/kosovo-1999.tsv
if [[ -z "${GIROK:-}" ]]; then
    cargo build --release -q -p girok
    GIROK=target/release/girok
fi
results=$(mktemp)
trap 'rm -f "$results"' EXIT
start=$(date +%s)
for seed in $(seq 1 "$seeds"); do
    "$GIROK" estimate --table "$kosovo" --seed "$seed" --format json |
        jq -r --arg seed "$seed" '.strata[0] | [$seed, .lcmcr.low, .lcmcr.median,
            ([.lcmcr.drift[] | select(. != null) | fabs] | max // 0),
            ([.warnings[] | select(test("move away from their start"))] | length)] | @tsv' >>"$results"
done
echo "seed	q2.5	median	max|drift|	drift warning" 
cat "$results"
echo
awk -v r_low=9001 -v seconds=$(( $(date +%s) - start )) '
    { n++; low[n] = $2; sum += $2; sq += $2 * $2
      if ($2 >= 8850 && $2 <= 9300) low_in++
      if ($3 >= 10250 && $3 <= 10650) median_in++
      if ($2 >= 8850 && $2 <= 9300 && $3 >= 10250 && $3 <= 10650) both_in++
      if (n == 1 || $2 < min) min = $2
      if (n == 1 || $2 > max) max = $2
      warned += $5 }
    END {
      mean = sum / n; sd = sqrt((sq - n * mean * mean) / (n - 1)); se = sd / sqrt(n)
      printf "%d seeds in %d s\n", n, seconds
      printf "q2.5: mean %.0f, Monte Carlo standard error %.1f (sd %.0f), range %d-%d\n", mean, se, sd, min, max
      printf "mean q2.5 - R (%d): %+.0f = %+.1f standard errors (accept: within 3)\n", r_low, mean - r_low, (mean - r_low) / se
      printf "q2.5 in 8,850-9,300: %d; median in 10,250-10,650: %d; both: %d (accept: 95 of 100)\n", low_in, median_in, both_in
      printf "drift warnings: %d seeds\n", warned
    }' "$results"
