#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo-fuzz on the stable toolchain with --sanitizer none)
# for SECONDS_PER_TARGET seconds each, starting from the committed seed corpus, and prints
# libFuzzer's executions per second, total executions and coverage per target. New inputs
# go to a scratch copy, never into fuzz/corpus; a crash leaves its input in
# fuzz/artifacts/<target>/ and fails the run.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 25 s, every target)
# A crash, once fixed, goes into fuzz/regressions/<target>/ so cargo test replays it
# (fuzz_checks/tests/corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-25}"
shift || true
cargo_fuzz_version="0.13.1"

if ! cargo fuzz --version 2>/dev/null | grep -q "$cargo_fuzz_version"; then
    cargo install --locked cargo-fuzz --version "$cargo_fuzz_version"
fi

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cd fuzz
export CARGO_INCREMENTAL=0
cargo fuzz build --sanitizer none
printf '%-24s %10s %12s %8s %8s\n' target exec/s executions cov ft > "$scratch/summary"
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target"
    log="$scratch/$target.log"
    if ! cargo fuzz run --sanitizer none "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 > "$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz target $target failed; its input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -Eo "cov: [0-9]+" "$log" | tail -n1 | awk '{print $2}')
    ft=$(grep -Eo "ft: [0-9]+" "$log" | tail -n1 | awk '{print $2}')
    printf '%-24s %10s %12s %8s %8s\n' "$target" "$rate" "$execs" "${cov:-?}" "${ft:-?}" >> "$scratch/summary"
done
cat "$scratch/summary"
