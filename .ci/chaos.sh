#!/usr/bin/env bash
# `make chaos`: the long crash run, not part of CI. CHAOS_MESSAGES (1,000)
# queued and the real binary `kill -9`ed CHAOS_KILLS (50) times at random
# moments while it sends them, on SQLite and on a PostgreSQL this script
# starts (restarted with an immediate shutdown every CHAOS_PG_EVERY (10)
# kills). Prints lost / sent twice / stray drafts and the time to drain;
# CHAOS_SEED repeats a run's kill timings.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/install.sh
. .ci/postgres.sh
install_build_tools
install_test_tools
trap stop_postgres EXIT
start_postgres
cargo test --locked -p server --features failpoints --test chaos -- \
  --ignored --nocapture --test-threads=1 long_run
