#!/usr/bin/env bash
# `make load`: the load bench (server/benches/load.rs) against the release
# build, on SQLite and on a PostgreSQL this script starts with fsync on.
# LOAD_SECONDS sets how long each database is loaded (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/install.sh
. .ci/postgres.sh
install_build_tools
trap stop_postgres EXIT
PG_FSYNC=on start_postgres
unset TENANT_MAIL_REQUIRE_POSTGRES
cargo bench --locked -p server --bench load
