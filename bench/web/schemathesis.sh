#!/usr/bin/env bash
# Schemathesis (PyPI) against the OpenAPI document of a live server on the
# demo database: no 5xx, no response outside the documented schema, status
# codes and content types as documented.
#
#   bash bench/web/schemathesis.sh [GIROK_BINARY]   (default target/debug/girok)
set -euo pipefail
cd "$(dirname "$0")/../.."
girok=${1:-target/debug/girok}
[ -x "$girok" ] || cargo build -q -p girok
command -v schemathesis >/dev/null 2>&1 || pip install -q schemathesis
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
"$girok" demo --dir "$work/demo" --no-serve >/dev/null
echo 'a long enough password' | "$girok" --data "$work/demo" user add api --role documenter >/dev/null
key=$("$girok" --data "$work/demo" user key api --label schemathesis --scope write | tail -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$girok" --data "$work/demo" serve --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/api/openapi.json" >/dev/null && break; sleep 0.2; done
schemathesis run "http://127.0.0.1:$port/api/openapi.json" \
    -H "Authorization: Bearer $key" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --max-examples 100 --seed 1
