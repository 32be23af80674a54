#!/usr/bin/env bash
# `make bench-db`: the outbox and inbox benches on SQLite and on a
# PostgreSQL this script starts (fsync on, as in production), with one and
# with three instances on the same database. BENCH_DATABASES and
# BENCH_INSTANCE_COUNTS narrow the matrix (defaults "sqlite postgres", "1 3").
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/install.sh
. .ci/postgres.sh
install_build_tools
install_test_tools
export PG_FSYNC=on
trap stop_postgres EXIT
start_postgres
cargo bench --locked -p server --bench outbox --bench inbox --no-run
for db in ${BENCH_DATABASES:-sqlite postgres}; do
  for n in ${BENCH_INSTANCE_COUNTS:-1 3}; do
    for bench in outbox inbox; do
      echo
      BENCH_DATABASE=$db BENCH_INSTANCES=$n cargo bench --locked -q -p server --bench "$bench" 2>/dev/null
    done
  done
done
