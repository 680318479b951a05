#!/usr/bin/env bash
# Multiple Systems Estimation benchmarks and validation (issue 5).
#
#   bash bench/mse/run.sh            # Kosovo: speed, estimates; the sweep over lists and K
#
# Girok's sampler alone; bench/mse/ess.sh runs it beside R's LCMCR package
# and compares effective draws of N per CPU second.
set -euo pipefail
cd "$(dirname "$0")/../.."
kosovo=../shared/data/kosovo-1999.tsv
cargo build --release -q -p girok -p girok-stats

echo "== LCMCR iterations per CPU second, Kosovo (4 lists, 15 cells), K = 10, one thread (3 runs)"
for run in 1 2 3; do
    target/release/lcmcr-bench "$kosovo" 200000 10
done

echo
echo "== Estimates for Kosovo (4 chains on 2 threads; published: LCMCR median 10,250-10,650,"
echo "   2.5% 8,900-9,300; dga delta=1/16 12,595 [9,827, 16,544]; independence 7,394.6)"
/usr/bin/time -f "wall %e s, peak %M KB" \
    target/release/girok estimate --table "$kosovo" --samples 50000 --burn-in 50000 --thin 10 --delta 0.0625

echo
echo "== LCMCR cost by number of lists and K (simulated, 5,000 people in two classes)"
target/release/lcmcr-bench --sweep 50000
