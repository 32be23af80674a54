#!/usr/bin/env bash
# `make test`: formatting, lints (ssr + hydrate), unit and integration tests on
# SQLite and a PostgreSQL this script starts, a release build, and Playwright
# in Debian's Chromium against the built server and the Microsoft stand-in.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/install.sh
. .ci/postgres.sh

started=$(date +%s)
timings=()
step() {
  local name="$1"; shift
  local t0=$(date +%s)
  echo
  echo "==> $name"
  "$@"
  timings+=("$(printf '%-48s %5ss' "$name" $(( $(date +%s) - t0 )))")
}

e2e_dir="$(mktemp -d /tmp/tenant-mail-e2e.XXXXXX)"
cleanup() {
  stop_postgres
  rm -rf "$e2e_dir"
}
trap cleanup EXIT

step "install build tools" install_build_tools
step "install test tools" install_test_tools
step "rustfmt" cargo fmt --all -- --check
step "clippy ssr (-D warnings)" cargo clippy --locked -p app --features app/ssr,server/fuzzing -p server -p ms-stand-in -p tenant-mail-fuzz --all-targets -- -D warnings
step "clippy hydrate (-D warnings)" cargo clippy --locked -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown -- -D warnings
# Built before the tests: the secret canary test reads the assets it serves.
step "release build (.ci/build.sh)" .ci/build.sh
export TENANT_MAIL_REQUIRE_ASSETS=1
step "start PostgreSQL" start_postgres
# A hung test must fail the run, not hold CI past its time limit.
step "unit + integration tests (SQLite + PostgreSQL)" timeout 1800 cargo test --locked -p app --features app/ssr,server/failpoints,server/fuzzing -p server -p ms-stand-in
# Free loopback ports, so a stray process on the defaults cannot break the run.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
step "Playwright (Chromium)" env E2E_DATA_DIR="$e2e_dir" APP_PORT="$(free_port)" STAND_IN_PORT="$(free_port)" SETUP_APP_PORT="$(free_port)" \
  bash -c 'cd end2end && npx playwright test'
# A short pass of every fuzz target from the committed corpus (`make fuzz`
# runs a million each); the corpus is left as it is.
step "fuzz (short pass)" env FUZZ_RUNS=20000 FUZZ_MERGE=0 .ci/fuzz.sh

echo
echo "==> timings"
printf '%s\n' "${timings[@]}"
echo "total $(( $(date +%s) - started ))s"
