#!/usr/bin/env bash
# Load test of `qabilet serve` on loopback, for SQLite and PostgreSQL (BENCHMARKS.md):
# starts the release server on a fresh database, creates a token, runs the load generator
# (qabilet-server/examples/load.rs) with EXAMINERS concurrent examiners for SECONDS, stops
# the server. Usage: tests/bench/load.sh [EXAMINERS] [SECONDS]
# QABILET_BIN and LOAD_BIN name other builds to measure (e.g. an earlier commit's, for a
# before/after comparison in one run); without them this tree's release build is used.
set -euo pipefail
cd "$(dirname "$0")/../.."
EXAMINERS=${1:-32}
SECONDS_=${2:-10}
if [ -z "${QABILET_BIN:-}" ] || [ -z "${LOAD_BIN:-}" ]; then
  cargo build --release --quiet -p qabilet-server --bin qabilet --example load
fi
Q=${QABILET_BIN:-target/release/qabilet}
LOAD=${LOAD_BIN:-target/release/examples/load}
T=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$T"' EXIT
run() {
  local db=$1 label=$2
  $Q serve --addr 127.0.0.1:0 --db "$db" 2> "$T/serve.log" &
  PID=$!
  until grep -q "serving gRPC on" "$T/serve.log"; do sleep 0.1; done
  local addr
  addr=$(sed -n 's/^qabilet: serving gRPC on \([^ ]*\).*/\1/p' "$T/serve.log")
  local token
  token=$($Q token create --db "$db" --role psychologist --centre load --subject "load-$label" 2>/dev/null)
  echo "== $label"
  "$LOAD" --url "http://$addr" --token "$token" --examiners "$EXAMINERS" --seconds "$SECONDS_"
  kill -TERM $PID
  wait $PID || true
}
run "sqlite://$T/load.db" sqlite
PG=${QABILET_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA="load_$(date +%s)"
psql "$PG" -qc "CREATE SCHEMA $SCHEMA" >/dev/null
run "$PG?options=-c%20search_path%3D$SCHEMA" postgres
psql "$PG" -qc "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1
