#!/usr/bin/env bash
# Web benchmark (issue 6): a database with ~100,000 acts, wrk on loopback.
#   1. authenticated reads: one record by id, a page of 50 acts and the acts
#      of one victim (API key); a source page, a person page, a name
#      search, the pickers' suggestions (JSON) and a victim's case file
#      (session cookie of a signed-in documenter);
#   2. 50 concurrent writers for 60 s through POST /api/changes, then the
#      count of written records, `girok check` and `girok verify`.
#
#   bash bench/web/run.sh [TESTIMONIES=17000] [SECONDS=20]
set -euo pipefail
cd "$(dirname "$0")/../.."
testimonies=${1:-17000}
seconds=${2:-20}
cargo build --release -q -p girok
girok=target/release/girok
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT

"$girok" synth --testimonies "$testimonies" --seed 1 --out "$work/s.jsonl" | tail -1
"$girok" --data "$work/db" init >/dev/null
"$girok" --data "$work/db" import "$work/s.jsonl" | grep Imported
echo 'a long enough password' | "$girok" --data "$work/db" user add bench --role documenter >/dev/null
key=$("$girok" --data "$work/db" user key bench --label wrk --scope write | tail -1)
port=18080
"$girok" --data "$work/db" serve --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/openapi.json" >/dev/null && break; sleep 0.2; done
auth="Authorization: Bearer $key"
act=$(curl -s -H "$auth" "http://127.0.0.1:$port/api/records?kind=acts&offset=5000&limit=1" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["record"]["id"])')

echo "== one record by id: GET /api/records/$act (2 threads, 64 connections, ${seconds}s)"
wrk -t2 -c64 -d"${seconds}s" --latency -H "$auth" "http://127.0.0.1:$port/api/records/$act" | grep -E "Requests/sec|Latency  |99%|50%|Non-2xx"
echo "== a page of 50 acts: GET /api/records?kind=acts&offset=20000&limit=50"
wrk -t2 -c64 -d"${seconds}s" --latency -H "$auth" "http://127.0.0.1:$port/api/records?kind=acts&offset=20000&limit=50" | grep -E "Requests/sec|Latency  |99%|50%|Non-2xx"

victim=$(curl -s -H "$auth" "http://127.0.0.1:$port/api/records/$act" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["record"]["victim"])')
echo "== the acts of one victim: GET /api/records?kind=acts&refers_to=$victim"
wrk -t2 -c64 -d"${seconds}s" --latency -H "$auth" "http://127.0.0.1:$port/api/records?kind=acts&refers_to=$victim" | grep -E "Requests/sec|Latency  |99%|50%|Non-2xx"

# Sign in as a browser does: the form's token and its cookie, then the session cookie.
login=$(curl -s -D - "http://127.0.0.1:$port/login")
token=$(grep -o 'name="token" value="[^"]*"' <<<"$login" | cut -d'"' -f4)
login_cookie=$(grep -i '^set-cookie: girok_login=' <<<"$login" | sed 's/^[^:]*: //; s/;.*//')
session=$(curl -s -o /dev/null -D - -H "Cookie: $login_cookie" \
    --data-urlencode "name=bench" --data-urlencode "password=a long enough password" --data-urlencode "token=$token" \
    "http://127.0.0.1:$port/login" | grep -i '^set-cookie: girok_session=' | sed 's/^[^:]*: //; s/;.*//')
source=$(curl -s -H "$auth" "http://127.0.0.1:$port/api/records?kind=sources&offset=3000&limit=1" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["record"]["id"])')
for path in "/sources/$source" "/persons/$victim" "/persons?q=Kim+Young-ho" \
    "/pick/persons?q=Kim+Young-ho" "/pick/sources?q=Interview+12" "/persons/$victim/case-file"; do
    echo "== HTML with a session cookie: GET $path"
    wrk -t2 -c64 -d"${seconds}s" --latency -H "Cookie: $session" "http://127.0.0.1:$port$path" | grep -E "Requests/sec|Latency  |99%|50%|Non-2xx"
done

before=$(curl -s -H "$auth" "http://127.0.0.1:$port/api/records?kind=persons&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
echo "== 50 concurrent writers for 60 s: POST /api/changes"
wrk -t2 -c50 -d60s --latency -s bench/web/write.lua -H "$auth" "http://127.0.0.1:$port" \
    | grep -E "Requests/sec|Latency  |99%|writes answered"
after=$(curl -s -H "$auth" "http://127.0.0.1:$port/api/records?kind=persons&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
echo "persons written: $((after - before)) (at least the writes answered 200; up to 50 more may land after wrk stops reading answers)"
kill $server; wait $server 2>/dev/null || true
"$girok" --data "$work/db" check | tail -1
"$girok" --data "$work/db" verify | tail -1
