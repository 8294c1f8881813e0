#!/usr/bin/env bash
# Configures, builds and tests the CMake build (docs/cmake.md) in BUILD_DIR (default
# build/cmake): installs cmake and ninja-build with apt-get when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build/cmake}"

if ! command -v cmake >/dev/null || ! command -v ninja >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake ninja-build >/dev/null
fi

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Debug}"
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure
