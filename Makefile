# The two commands: `make run` and `make test`. Both install what is missing.
SHELL := /bin/bash
.PHONY: run watch test bench bench-db load fuzz chaos screenshots demo fmt

## Build (release) and serve on http://127.0.0.1:3000 with SQLite under ./data/
run:
	@. .ci/install.sh && install_build_tools && .ci/build.sh && \
	  echo "Tenant Mail will be at http://localhost:3000/admin/tenants" && \
	  exec target/release/tenant-mail

## Development: debug build, rebuilt and reloaded on every save (cargo-leptos)
watch:
	@. .ci/install.sh && install_watch_tools && cargo leptos watch

## Everything CI runs: fmt, clippy (ssr+hydrate), tests on SQLite+PostgreSQL, Playwright
test:
	@.ci/test.sh

## Tenant Mail + the Microsoft stand-in, seeded: try the connect flow without Azure
demo:
	@.ci/demo.sh

## Size and throughput measurements reported in the README
bench:
	@.ci/bench.sh

## The outbox and inbox benches on SQLite and PostgreSQL, with 1 and 3 instances
bench-db:
	@.ci/bench-db.sh

## The release binary under mixed load with injected Graph faults, SQLite + PostgreSQL
load:
	@.ci/load.sh

## The long crash run: 1,000 messages, 50 kill -9 at random moments, PostgreSQL restarts (not CI)
chaos:
	@.ci/chaos.sh

## Every fuzz target for FUZZ_RUNS runs (default 1,000,000), corpus merged back into server/fuzz/corpus
fuzz:
	@.ci/fuzz.sh

## Regenerate the README screenshots (needs a release build)
screenshots:
	@. .ci/install.sh && install_build_tools && .ci/build.sh && \
	  d=$$(mktemp -d) && cd end2end && E2E_DATA_DIR=$$d SCREENSHOTS=1 npx playwright test screenshots setup account-types doctor rotation --project app; s=$$?; rm -rf $$d; exit $$s

fmt:
	cargo fmt --all
