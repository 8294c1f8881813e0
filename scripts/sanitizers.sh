#!/usr/bin/env bash
# The legacy C++ core and the cxx bridge under AddressSanitizer + UndefinedBehaviorSanitizer,
# running the tests that cross the bridge: core_cpp's tests and tests/parity.rs.
#
# g++ gets -fsanitize=address,undefined through CXXFLAGS (cxx-build compiles with the cc
# crate, which honours it); the Rust test binaries are linked against gcc's ASan and UBSan
# runtimes (rustc links with -nodefaultlibs, so the runtimes are named explicitly), and run
# with them preloaded so ASan's allocator is the process's one, first in the library list,
# for the C++ and the Rust side alike. `--target` keeps RUSTFLAGS off build scripts and proc
# macros (a proc macro linked with ASan cannot load into rustc), and the binaries are built
# first and run directly, so cargo and rustc themselves never run under the preload. The
# build has its own target directory: sanitized objects never mix with the ordinary ones.
# Fails on any report: UBSan does not recover, ASan stops at the first error, and LSan
# reports leaks at exit.
#
# Usage: scripts/sanitizers.sh [TARGET_DIR]   (default target-sanitizers)
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${1:-target-sanitizers}"
host="$(rustc -vV | sed -n 's/^host: //p')"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
export CXXFLAGS="$sanitize -g"
export RUSTFLAGS="-Clink-arg=-fsanitize=address,undefined -Clink-arg=-lasan -Clink-arg=-lubsan -Cforce-frame-pointers=yes"
export CARGO_INCREMENTAL=0
preload="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)"

# The test binaries that cross the bridge, each with the directory cargo would run it in.
binaries() {
    cargo test --locked --target "$host" --target-dir "$target_dir" --no-run --message-format=json "$@" \
        | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"], m["manifest_path"].rsplit("/", 1)[0], sep="\t")'
}
{ binaries -p core_cpp; binaries -p switchyard --test parity; } > "$log.list"

status=0
while IFS=$'\t' read -r binary dir; do
    echo "==> $(basename "$binary")"
    ( cd "$dir" && LD_PRELOAD="$preload" \
        ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        "$binary" ) 2>&1 | tee -a "$log" || status=1
done < "$log.list"
rm -f "$log.list"
asan=$(grep -c "ERROR: AddressSanitizer" "$log" || true)
ubsan=$(grep -c "runtime error:" "$log" || true)
lsan=$(grep -c "ERROR: LeakSanitizer" "$log" || true)
tests=$(grep -Eo "test result: ok. [0-9]+ passed" "$log" | awk '{s+=$4} END {print s+0}')
echo "sanitizer reports over $tests passing tests: AddressSanitizer $asan, UndefinedBehaviorSanitizer $ubsan, LeakSanitizer $lsan"
if [ "$status" -ne 0 ] || [ "$asan" -ne 0 ] || [ "$ubsan" -ne 0 ] || [ "$lsan" -ne 0 ]; then
    echo "sanitizers: FAILED" >&2
    exit 1
fi
echo "sanitizers: clean"
