#!/usr/bin/env bash
# valgrind memcheck over the C++ host program (CMake build, libBoardController linked in
# statically) and over BrainFlow's Python binding loading our libBoardController.so, in every
# mode, on the synthetic board and a Cyton on the pty emulator: prepare, stream, read,
# release. Fails on any definitely lost block or any invalid read or write.
# Suppressions (scripts/memcheck/valgrind.supp) cover only code that is not ours.
#
# Usage: scripts/valgrind.sh [CMAKE_BUILD_DIR]   (default build/cmake; built when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
build_dir="$(realpath -m "${1:-build/cmake}")"
target_dir="$build_dir/cargo"
scratch="$(mktemp -d)"
emulator_pid=""
cleanup() {
    if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT

command -v valgrind >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
[ -x "$build_dir/cpp_host" ] || bash scripts/cmake.sh "$build_dir"
cmake --build "$build_dir" --target cpp_host
# The shared library BrainFlow's binding loads, and the Cyton emulator, from the same tree.
cargo build --locked -p switchyard_capi -p emulator --target-dir "$target_dir"

"$target_dir/debug/cyton-emulator" --seed 3 > "$scratch/port" &
emulator_pid=$!
for _ in $(seq 100); do [ -s "$scratch/port" ] && break; sleep 0.1; done
port="$(head -n1 "$scratch/port")"
[ -e "$port" ] || { echo "the Cyton emulator did not report its port" >&2; exit 1; }

memcheck=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite
          --errors-for-leak-kinds=definite --error-exitcode=99 --track-origins=no
          --suppressions="$repo/scripts/memcheck/valgrind.supp" --num-callers=30)

summarise() {
    # The two lines the report needs from each run: definitely lost and the error count.
    grep -E "definitely lost:|ERROR SUMMARY:" "$1" | sed "s/^==[0-9]*== */  /"
}

venv="${BRAINFLOW_VENV:-$repo/build/brainflow-venv}"
mkdir -p "$(dirname "$venv")"
package="$(bash scripts/brainflow-venv.sh "$venv")"
mkdir -p "$scratch/pkg"
cp -r "$package" "$scratch/pkg/"
cp "$target_dir/debug/libBoardController.so" "$scratch/pkg/brainflow/lib/libBoardController.so"

failed=0
for mode in cpp rust shadow standby; do
    printf 'boards:\n  synthetic: %s\n  cyton: %s\n' "$mode" "$mode" > "$scratch/$mode.yaml"

    log="$scratch/cpp_host-$mode.log"
    if SWITCHYARD_CONFIG="$scratch/$mode.yaml" "${memcheck[@]}" --log-file="$log" "$build_dir/cpp_host" "$port" > "$scratch/out"; then
        echo "cpp_host, mode $mode: clean"
    else
        echo "cpp_host, mode $mode: FAILED"; cat "$log"; failed=1
    fi
    summarise "$log"

    log="$scratch/python-$mode.log"
    # PYTHONMALLOC=malloc: Python's own allocator hides blocks from memcheck.
    if PYTHONMALLOC=malloc PYTHONPATH="$scratch/pkg" SWITCHYARD_CONFIG="$scratch/$mode.yaml" \
        "${memcheck[@]}" --log-file="$log" "$venv/bin/python" scripts/memcheck/session.py "$port" > "$scratch/out"; then
        echo "BrainFlow Python binding, mode $mode: clean"
    else
        echo "BrainFlow Python binding, mode $mode: FAILED"; cat "$scratch/out" "$log"; failed=1
    fi
    summarise "$log"
done
exit "$failed"
