#!/usr/bin/env bash
# Reads on a PostgreSQL database from one `girok serve` process and from
# two: the pages of bench/web/run.sh (one record by id, a page of 50 acts,
# the acts of one victim by API key; a source page, a person page and a
# name search in HTML by session cookie), each for SECONDS seconds with 64
# connections, against one server, then split over two. Prints requests/s
# and p99 of each, and the CPU time the servers and PostgreSQL spent per
# request (from /proc), so the two layouts compare on one machine.
#
#   bash bench/postgres/reads.sh [TESTIMONIES=17000] [SECONDS=10]
#
# Needs wrk (Debian package wrk) and PostgreSQL's server programs.
set -euo pipefail
testimonies=${1:-17000}
seconds=${2:-10}
scope=read
source "$(dirname "$0")/team.sh"
serve "$work/one" 18091
serve "$work/two" 18092
base=http://127.0.0.1:18091
auth="Authorization: Bearer $key"
json() { curl -s -H "$auth" "$base$1" | python3 -c "import json,sys; print($2)"; }
act=$(json "/api/records?kind=acts&offset=5000&limit=1" 'json.load(sys.stdin)["items"][0]["record"]["id"]')
victim=$(json "/api/records/$act" 'json.load(sys.stdin)["record"]["victim"]')
source_id=$(json "/api/records?kind=sources&offset=3000&limit=1" 'json.load(sys.stdin)["items"][0]["record"]["id"]')
login=$(curl -s -D - "$base/login")
token=$(grep -o 'name="token" value="[^"]*"' <<<"$login" | cut -d'"' -f4)
login_cookie=$(grep -i '^set-cookie: girok_login=' <<<"$login" | sed 's/^[^:]*: //; s/;.*//')
session=$(curl -s -o /dev/null -D - -H "Cookie: $login_cookie" \
    --data-urlencode "name=bench" --data-urlencode "password=a long enough password" --data-urlencode "token=$token" \
    "$base/login" | grep -i '^set-cookie: girok_session=' | sed 's/^[^:]*: //; s/;.*//')

# CPU seconds (user + system) of the servers and of every PostgreSQL process.
cpu() {
    local pids="${servers[*]} $(pgrep -d ' ' -f "postgres" || true)"
    local ticks=0
    for pid in $pids; do
        [ -r "/proc/$pid/stat" ] || continue
        ticks=$((ticks + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat")))
    done
    echo "$ticks"
}
hz=$(getconf CLK_TCK)
measure() { # label, header, path, ports...
    local label=$1 header=$2 path=$3; shift 3
    local connections=$((64 / $#)) before after requests=0 outputs=() loads=()
    before=$(cpu)
    for port in "$@"; do
        wrk -t1 -c"$connections" -d"${seconds}s" --latency -H "$header" "http://127.0.0.1:$port$path" \
            > "$work/wrk-$port.txt" 2>&1 &
        loads+=($!)
        outputs+=("$work/wrk-$port.txt")
    done
    wait "${loads[@]}"
    after=$(cpu)
    local p99s=()
    for output in "${outputs[@]}"; do
        requests=$((requests + $(awk '/requests in/ {print $1}' "$output")))
        p99s+=("$(awk '$1 == "99%" {print $2}' "$output")")
    done
    printf '%-22s %-12s %9.0f req/s  p99 %-18s %6.0f us CPU per request\n' "$path" "$label" \
        "$(echo "$requests / $seconds" | bc -l)" "${p99s[*]}" \
        "$(echo "($after - $before) / $hz / $requests * 1000000" | bc -l)"
}
for page in "/api/records/$act|$auth" "/api/records?kind=acts&offset=20000&limit=50|$auth" \
    "/api/records?kind=acts&refers_to=$victim|$auth" "/sources/$source_id|Cookie: $session" \
    "/persons/$victim|Cookie: $session" "/persons?q=Kim+Young-ho|Cookie: $session"; do
    path=${page%%|*}; header=${page#*|}
    measure "one server" "$header" "$path" 18091
    measure "two servers" "$header" "$path" 18091 18092
done
