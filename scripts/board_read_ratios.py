#!/usr/bin/env python3
"""Rust/C++ ratios of the last `cargo bench --bench board_reads` run, one line per board
and read kind (medians; both sides were measured in that same run).

Usage: scripts/board_read_ratios.py [CRITERION_DIR]   (default: target/criterion)
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def median_ns(board, kind, side):
    path = root / f"reads_{board}" / f"{kind}_{side}" / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]


def show(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.1f} ns"


print("| board | read | C++ direct | Rust direct | Rust / C++ |")
print("|---|---|---|---|---|")
worst = 0.0
for board in ["synthetic", "playback", "cyton", "daisy"]:
    for kind in ["count", "current_250", "take_250"]:
        try:
            cpp, rust = median_ns(board, kind, "cpp"), median_ns(board, kind, "rust")
        except FileNotFoundError:
            continue
        worst = max(worst, rust / cpp)
        print(f"| {board} | {kind} | {show(cpp)} | {show(rust)} | {rust / cpp:.2f}× |")
print(f"\nworst Rust / C++: {worst:.2f}×")
