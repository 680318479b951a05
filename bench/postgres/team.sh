# A team's installation for a benchmark, sourced by the scripts beside it
# after they set $testimonies and $scope: a private cluster (cluster.sh),
# a database with `girok synth` testimonies imported, a documenter `bench`
# with an API key of $scope in $key, and two data directories naming the
# database ($work/one, $work/two). `serve DIR PORT` starts a server and
# waits for it; every server started and the cluster stop at exit.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p girok --bin girok
girok="$root/target/release/girok"
work=$(mktemp -d)
servers=()
source "$root/bench/postgres/cluster.sh"
cleanup() {
    for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
    stop_cluster
    rm -rf "$work"
}
trap cleanup EXIT

psql_admin "CREATE DATABASE bench"
GIROK_POSTGRES_URL="host=$cluster user=girok dbname=bench" "$girok" --data "$work/one" init > /dev/null
"$girok" synth --testimonies "$testimonies" --seed 1 --out "$work/s.jsonl" > /dev/null
"$girok" --data "$work/one" import "$work/s.jsonl" | grep Imported
echo 'a long enough password' | "$girok" --data "$work/one" user add bench --role documenter > /dev/null
key=$("$girok" --data "$work/one" user key bench --label wrk --scope "$scope" | tail -1)
mkdir -p "$work/two"
cp "$work/one/postgres.url" "$work/one/girok.key" "$work/two/"

serve() { # data directory, port: starts a server and waits for it
    "$girok" --data "$1" serve --addr "127.0.0.1:$2" > "$work/serve-$2.log" 2>&1 &
    servers+=($!)
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/api/openapi.json" > /dev/null && return; sleep 0.1; done
    echo "the server on port $2 did not start" >&2; exit 1
}
