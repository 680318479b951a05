#!/usr/bin/env bash
# Coverage of the 95% interval of N with the linkage taken as known and with
# its uncertainty carried (issue 18, item 3). Usage: linkage.sh [POPULATIONS] [DRAWS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/../.."
populations=${1:-200}
draws=${2:-10}
seed=${3:-1}
target=${CARGO_TARGET_DIR:-target}
nice -n 10 cargo build --release --locked -p girok-estimate --bin linkage-uncertainty-bench
nice -n 10 "$target/release/linkage-uncertainty-bench" "$populations" "$draws" "$seed"
