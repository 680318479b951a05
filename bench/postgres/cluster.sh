# A private PostgreSQL cluster for a benchmark, sourced by the scripts
# beside it: durable as shipped (fsync, synchronous_commit and
# full_page_writes on, logged tables), listening only on a Unix socket in
# a private directory, stopped and removed when the script exits.
# Sets $cluster (the socket directory), $bin, pg_server and psql_admin.
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cluster=$(mktemp -d)
as_server=()
if [ "$(id -u)" -eq 0 ]; then
    chown nobody:nogroup "$cluster"
    as_server=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
pg_server() { "${as_server[@]}" "$bin/pg_ctl" -D "$cluster/data" "$@"; }
stop_cluster() { pg_server -m fast stop > /dev/null 2>&1 || true; rm -rf "$cluster"; }
trap stop_cluster EXIT
LC_ALL=C.UTF-8 "${as_server[@]}" "$bin/initdb" -D "$cluster/data" -U girok --auth=trust --encoding=UTF8 > /dev/null
start_cluster() {
    pg_server -l "$cluster/server.log" -w \
        -o "-k $cluster -c listen_addresses='' -c shared_buffers=512MB -c max_connections=200" start > /dev/null
}
start_cluster
psql_admin() { "$bin/psql" -q -h "$cluster" -U girok -d postgres -c "$1"; }
"$bin/psql" -At -h "$cluster" -U girok -d postgres \
    -c "SELECT 'postgres ' || version() || '; fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit')"
