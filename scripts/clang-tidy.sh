#!/usr/bin/env bash
# clang-tidy (Debian's) over the legacy C++ core, core_cpp/cpp/, with the committed
# .clang-tidy; installs clang-tidy with apt-get when missing. The include paths are those
# cxx-build compiles with: the generated exit_codes.h and the cxx bridge headers, both in
# core_cpp's build-script output directory, which a `cargo build -p core_cpp` provides.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-tidy >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-tidy >/dev/null; }
out_dir="$(cargo build --locked -p core_cpp --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "build-script-executed" and m["package_id"].split("#")[0].endswith("/core_cpp"):
        print(m["out_dir"])')"
[ -d "$out_dir" ] || { echo "core_cpp's build output directory not found" >&2; exit 1; }
clang-tidy --quiet core_cpp/cpp/*.cc -- -x c++ -std=c++17 -pthread -DSWITCHYARD_BRIDGE_CHECKS=1 \
    -I "$out_dir/generated" -I "$out_dir/cxxbridge/include" -I "$out_dir/cxxbridge/crate"
echo "clang-tidy: clean"
