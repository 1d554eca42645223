#!/usr/bin/env bash
# A screening day in one region, on loopback, for SQLite and PostgreSQL (BENCHMARKS.md): a
# fresh database, one cohort per school grade on the screener qabilet-screener-demo (4 classes
# of 30 children aged 7 to 9, today within its dates), its roster imported and its tickets
# issued as CSV, until CHILDREN children have tickets; then the release server, the load
# generator (qabilet-server/examples/take_load.rs) playing every child through /take for
# SECONDS of steady state, and the server stopped.
# Usage: tests/bench/take_load.sh [CHILDREN] [SECONDS]
# A roster import is capped at 2,000 rows and is all or nothing, and a cohort is one school's
# grade: CHILDREN is split into cohorts of COHORT_SIZE (default 120), each imported once.
# QABILET_BIN and TAKE_LOAD_BIN name other builds to measure; TAKE_LOAD_ARGS adds flags to the
# generator (e.g. "--think-ms 2000 --connections 100"); BACKENDS=sqlite (or postgres) runs one.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHILDREN=${1:-5000}
SECONDS_=${2:-60}
COHORT_SIZE=${COHORT_SIZE:-120}
if [ -z "${QABILET_BIN:-}" ] || [ -z "${TAKE_LOAD_BIN:-}" ]; then
  cargo build --release --quiet -p qabilet-server --bin qabilet --example take_load
fi
Q=${QABILET_BIN:-target/release/qabilet}
LOAD=${TAKE_LOAD_BIN:-target/release/examples/take_load}
T=$(mktemp -d)
export QABILET_IIN_KEY_FILE="$T/iin.key"
PID=
PG=${QABILET_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [ -n "$SCHEMA" ]; then psql "$PG" -qc "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 || true; fi
  rm -rf "$T"
}
trap cleanup EXIT
STARTS=$(date -u -d yesterday +%F)
ENDS=$(date -u -d '+7 days' +%F)
YEAR=$(date -u +%Y)

# The roster of cohort $1 with $2 children: classes of 30, born 8 or 9 years before this year.
roster() {
  awk -v s="$1" -v n="$2" -v y="$YEAR" 'BEGIN {
    srand(s); print "code,birth_date,sex,language,class"
    for (i = 0; i < n; i++)
      printf "S%03d-%03d,%d-%02d-%02d,%s,%s,%d\n", s, i, y - 8 - i % 2, 1 + int(rand() * 12),
        1 + int(rand() * 28), (i % 2 ? "F" : "M"), (i % 3 ? "kk" : "ru"), 1 + int(i / 30)
  }'
}

# Cohorts, rosters and tickets for CHILDREN children in database $1; the tickets in $T/tickets.csv.
enrol() {
  local db=$1 left=$CHILDREN s=0 n cohort
  rm -f "$T/tickets.csv"
  while [ "$left" -gt 0 ]; do
    s=$((s + 1))
    n=$((left < COHORT_SIZE ? left : COHORT_SIZE))
    cohort=$($Q cohort create --db "$db" --centre load --owner load-psy --name "School $s, grade 3" \
      --region Almaty --district Bostandyq --institution "School $s" --kind school \
      --locality urban --grade 3 --language kk --starts-on "$STARTS" --ends-on "$ENDS")
    roster "$s" "$n" > "$T/roster.csv"
    $Q roster import --db "$db" --cohort "$cohort" --input "$T/roster.csv" 2>> "$T/enrol.log" \
      || { cat "$T/enrol.log" >&2; exit 1; }
    $Q tickets --db "$db" --cohort "$cohort" --format csv --output "$T/cohort.csv" 2>> "$T/enrol.log" \
      || { cat "$T/enrol.log" >&2; exit 1; }
    if [ -f "$T/tickets.csv" ]; then
      tail -n +2 "$T/cohort.csv" >> "$T/tickets.csv"
    else
      cp "$T/cohort.csv" "$T/tickets.csv"
    fi
    left=$((left - n))
  done
  echo "$s cohorts, $(($(wc -l < "$T/tickets.csv") - 1)) tickets"
}

run() {
  local db=$1 label=$2
  echo "== $label: $CHILDREN children, $SECONDS_ s"
  enrol "$db"
  $Q serve --addr 127.0.0.1:0 --http-addr 127.0.0.1:0 --db "$db" 2> "$T/serve.log" &
  PID=$!
  until grep -q "serving gRPC on" "$T/serve.log"; do sleep 0.1; done
  local console
  console=$(sed -n 's/^qabilet: serving the console on \(http:[^ ]*\).*/\1/p' "$T/serve.log")
  # shellcheck disable=SC2086
  "$LOAD" --url "$console" --tickets "$T/tickets.csv" --seconds "$SECONDS_" --server-pid "$PID" ${TAKE_LOAD_ARGS:-}
  kill -TERM $PID
  wait $PID || true
  PID=
}
BACKENDS=${BACKENDS:-sqlite postgres}
if [[ " $BACKENDS " == *" sqlite "* ]]; then
  run "sqlite://$T/take.db" sqlite
fi
[[ " $BACKENDS " == *" postgres "* ]] || exit 0
SCHEMA="take_load_$(date +%s)"
psql "$PG" -qc "CREATE SCHEMA $SCHEMA" >/dev/null
run "$PG?options=-c%20search_path%3D$SCHEMA" postgres
