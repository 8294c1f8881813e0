#!/usr/bin/env bash
# The test command the README gives: every crate's unit tests and every end-to-end test.
# It needs only the Rust toolchain and g++; anything else a test needs, the test installs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
