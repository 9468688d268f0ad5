#!/usr/bin/env bash
# Start (creating it the first time) a PostgreSQL 15 cluster named "bench" on
# 127.0.0.1:5440 with bench/server/postgresql.conf, trust auth on loopback, for
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5440/exchange_bench make bench
# `bench/server/cluster.sh stop` stops it; `drop` removes it and its data.
# Debian's postgresql-common tools (pg_createcluster); never touches other clusters.
set -euo pipefail
cd "$(dirname "$0")"
VERSION="${PG_VERSION:-15}"
NAME="${BENCH_CLUSTER:-bench}"
PORT="${BENCH_PORT:-5440}"
case "${1:-start}" in
    stop) pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" stop; exit ;;
    drop) pg_dropcluster --stop "$VERSION" "$NAME"; exit ;;
    start) ;;
    *) echo "usage: $0 [start|stop|drop]" >&2; exit 2 ;;
esac
if ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$VERSION/$NAME"; then
    echo "creating cluster $VERSION/$NAME on port $PORT"
    pg_createcluster "$VERSION" "$NAME" -p "$PORT" -- --auth-local=trust --auth-host=trust
fi
# The settings are copied on every start, so an edit of postgresql.conf takes effect.
conf="/etc/postgresql/$VERSION/$NAME/conf.d"
mkdir -p "$conf"
{ cat postgresql.conf; echo "listen_addresses = '127.0.0.1'"; } > "$conf/90-bench.conf"
pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" start 2>/dev/null \
    || pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$NAME" restart
for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p "$PORT" -q && break; sleep 1; done
pg_isready -h 127.0.0.1 -p "$PORT"
psql -h 127.0.0.1 -p "$PORT" -U postgres -Atc "SHOW shared_buffers" | sed 's/^/shared_buffers: /'
