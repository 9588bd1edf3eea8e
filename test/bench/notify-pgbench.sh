#!/usr/bin/env bash
# The NOTIFY placement at the SQL level, without Node: pgbench runs one command's writes
# (test/bench/sql/command-tx.sql) with no NOTIFY, a NOTIFY inside the transaction, and one after
# commit. Needs pgbench and a PostgreSQL server: DATABASE_URL's, or postgres://postgres@127.0.0.1:5432/test.
# Usage: test/bench/notify-pgbench.sh [clients=16] [seconds=10]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
clients=${1:-16}
seconds=${2:-10}
server=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
db="cairn_pgbench_$$"
psql "$server" -X -q -c "create database $db"
url="${server%/*}/$db"
scripts=$(mktemp -d)
trap 'psql "$server" -X -q -c "drop database if exists $db with (force)"; rm -rf "$scripts"' EXIT
notify="SELECT pg_notify('cairn_events', '');"
cp test/bench/sql/command-tx.sql "$scripts/command-tx.sql"
sed "s/^COMMIT;/$notify\nCOMMIT;/" test/bench/sql/command-tx.sql >"$scripts/command-tx-notify-inside.sql"
sed "s/^COMMIT;/COMMIT;\n$notify/" test/bench/sql/command-tx.sql >"$scripts/command-tx-notify-after.sql"
DATABASE_URL="$url" npx tsx src/cli/migrate.ts 2>/dev/null
psql "$url" -X -q -t -c 'select version()'
for variant in command-tx command-tx-notify-inside command-tx-notify-after; do
  psql "$url" -X -q -c 'checkpoint'
  tps=$(pgbench -n -c "$clients" -j "$clients" -T "$seconds" -f "$scripts/$variant.sql" "$url" 2>/dev/null |
    awk '/^tps/ { print $3; exit }')
  printf '%-28s clients=%s  %s tx/s\n' "$variant" "$clients" "$tps"
done
