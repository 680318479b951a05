#!/usr/bin/env bash
# Concurrent writers on a PostgreSQL database: 50 writers for SECONDS
# seconds through POST /api/changes (wrk, bench/web/write.lua), against one
# `girok serve` process and against two on the same database; then the
# same against two servers while one is killed with SIGKILL and PostgreSQL
# itself is stopped as by a crash and started again. Each scenario prints
# writes/s and latency percentiles, then counts the persons written against
# the writes answered 200 (none may be missing) and runs `girok check` and
# `girok verify`.
#
#   bash bench/postgres/writers.sh [SECONDS=60] [TESTIMONIES=2000]
#
# Needs wrk (Debian package wrk) and PostgreSQL's server programs.
set -euo pipefail
seconds=${1:-60}
testimonies=${2:-2000}
scope=write
source "$(dirname "$0")/team.sh"
persons() {
    "$bin/psql" -At -h "$cluster" -U girok -d bench -c "SELECT COUNT(*) FROM person"
}
auth="Authorization: Bearer $key"
writers() { # port, connections, id prefix: one wrk of the scenario
    wrk -t1 -c"$2" -d"${seconds}s" --latency -s "$root/bench/web/write.lua" -H "$auth" \
        "http://127.0.0.1:$1" -- "$3" > "$work/wrk-$3.txt" 2>&1
}
report() { # scenario, persons before, wrk prefixes...
    local scenario=$1 before=$2; shift 2
    local answered=0 rate=0
    for prefix in "$@"; do
        grep -E "Requests/sec|Latency  |50%|99%" "$work/wrk-$prefix.txt" | sed "s/^/  [$prefix] /"
        answered=$((answered + $(grep -o 'writes answered 200: [0-9]*' "$work/wrk-$prefix.txt" | grep -o '[0-9]*$')))
    done
    local written=$(( $(persons) - before ))
    echo "$scenario: writes answered 200: $answered, persons written: $written, $((written / seconds)) writes/s"
    if [ "$written" -lt "$answered" ]; then echo "LOST: $((answered - written)) acknowledged writes are missing"; fi
}

serve "$work/one" 18081
before=$(persons)
echo "== 50 writers, one server, ${seconds} s"
writers 18081 50 one-server
report "one server" "$before" one-server

serve "$work/two" 18082
before=$(persons)
echo "== 50 writers, two servers (25 each), ${seconds} s"
writers 18081 25 two-a & first=$!
writers 18082 25 two-b
wait "$first"
report "two servers" "$before" two-a two-b

before=$(persons)
echo "== 50 writers, two servers; server two killed with SIGKILL at 1/3, PostgreSQL crashed and restarted at 2/3"
writers 18081 25 crash-a & first=$!
writers 18082 25 crash-b & second=$!
sleep $((seconds / 3))
kill -9 "${servers[1]}"
sleep $((seconds / 3))
pg_server -m immediate stop > /dev/null
start_cluster
wait "$first" "$second" || true
report "kill -9 and crash" "$before" crash-a crash-b

for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true
servers=()
"$girok" --data "$work/one" check | tail -1
"$girok" --data "$work/one" verify | tail -1
