#!/usr/bin/env bash
# `make fuzz`: every libFuzzer target in server/fuzz/ for FUZZ_RUNS runs
# (default 1,000,000), starting from the corpus kept in the repo. Afterwards
# server/fuzz/corpus/<target> becomes the smallest set of inputs covering every
# edge reached so far (FUZZ_MERGE=0 leaves it alone, as CI's short pass does). A crash stops the run
# and leaves its input in target/fuzz/artifacts/<target>/.
#
# Built on stable Rust without cargo-fuzz: the same SanitizerCoverage flags
# cargo-fuzz passes (no AddressSanitizer: the code is safe Rust).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/install.sh
install_build_tools

runs=${FUZZ_RUNS:-1000000}
merge=${FUZZ_MERGE:-1}
only=${FUZZ_TARGETS:-}
triple=$(rustc -vV | sed -n 's/^host: //p')
target_dir=${CARGO_TARGET_DIR:-target}/fuzz
fuzz=server/fuzz

RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares" \
  cargo build --locked --profile fuzz -p tenant-mail-fuzz --bins \
  --target "$triple" --target-dir "$target_dir"
bin="$target_dir/$triple/fuzz"

# The longest input each target needs: a callback query may be 8 KB (a bit
# more shows the refusal), a Retry-After is a short header value; HTML
# parsing is slow per byte, and 4 KB already nests every construct.
max_len() {
  case "$1" in
    retry_after) echo 128 ;;
    callback_query) echo 9000 ;;
    html_body) echo 4096 ;;
    *) echo 8192 ;;
  esac
}

printf '\n%-16s %10s %8s %10s %8s\n' target runs seconds "runs/s" corpus
summary=()
for source in "$fuzz"/fuzz_targets/*.rs; do
  t=$(basename "$source" .rs)
  if [ -n "$only" ] && [[ " $only " != *" $t "* ]]; then continue; fi
  corpus="$fuzz/corpus/$t"
  mkdir -p "$corpus" "$target_dir/artifacts/$t"
  work=$(mktemp -d /tmp/tenant-mail-fuzz.XXXXXX)
  dict=()
  if [ -f "$fuzz/dicts/$t.dict" ]; then dict=(-dict="$fuzz/dicts/$t.dict"); fi
  log="$target_dir/artifacts/$t/last.log"
  t0=$(date +%s.%N)
  if ! "$bin/$t" -runs="$runs" -max_len="$(max_len "$t")" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$target_dir/artifacts/$t/" "${dict[@]}" "$work" "$corpus" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $t failed: input in $target_dir/artifacts/$t/" >&2
    exit 1
  fi
  seconds=$(python3 -c "import time; print(f'{time.time() - $t0:.1f}')")
  done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  if [ "$merge" = 1 ]; then
    # The smallest set of inputs reaching every edge the corpus and this
    # run reached (edges only, not hit counts: a few hundred files instead
    # of thousands), replacing the corpus kept in the repo.
    fresh=$(mktemp -d /tmp/tenant-mail-fuzz.XXXXXX)
    "$bin/$t" -set_cover_merge=1 -use_counters=0 -use_cmp=0 -max_len="$(max_len "$t")" \
      "$fresh" "$corpus" "$work" >>"$log" 2>&1
    rm -rf "$corpus" && mv "$fresh" "$corpus" && chmod 755 "$corpus"
  fi
  rm -rf "$work"
  files=$(find "$corpus" -type f | wc -l)
  line=$(printf '%-16s %10s %8s %10s %8s' "$t" "$done_runs" "$seconds" \
    "$(python3 -c "print(round(${done_runs:-0} / max($seconds, 0.001)))")" "$files")
  echo "$line"
  summary+=("$line")
done
echo
echo "fuzz: ${#summary[@]} targets, $runs runs each, no crash"
