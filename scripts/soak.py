"""Soak run: `switchyard serve` with a fleet for a set time, with faults injected
periodically through the operator controls, checking that memory and open file
descriptors stay flat and that every sample is delivered.

The fleet: the shipped config's boards, SESSIONS synthetic sessions (two of them recorded
to CSV), and a Cyton on the pty emulator, recorded. Every FAULT_EVERY seconds the next
fault of the cycle is applied: the kill switch on (every board to C++), off again, the
Cyton's breaker forced open, released. Checks at the end:
- RSS: the median of the last quarter of the run is at most the median of the second
  quarter (after warm-up) plus max(10 %, 8 MiB);
- open fds: the same comparison, plus 4;
- every sample delivered: serve's run summary reports 0 samples dropped and 0 read errors;
  each recorded synthetic CSV's package numbers (row 0) advance by one, mod 256, from its
  first line to its last (a lost or repeated sample is a jump: moves between the
  implementations lose nothing, so none is allowed), and it holds 250 samples
  for every second streamed (less 2 % and one second for start and stop).

Usage: python3 scripts/soak.py [--seconds 60] [--fault-every 5] [--sessions 8] [--release]
(a long run: --seconds 3600 --release). Exits non-zero, saying which check failed.
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def control(port, token, path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/control/{path}", method="POST",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def flat(name, series, slack):
    q = max(1, len(series) // 4)
    settled = statistics.median(series[q:2 * q])
    last = statistics.median(series[-q:])
    ok = last <= settled + slack(settled)
    print(f"{name}: settled {settled:.0f}, last quarter {last:.0f}, allowed {settled + slack(settled):.0f}: {'flat' if ok else 'GROWING'}")
    return ok


def contiguous(csv_path):
    """Package numbers (first column) advance by one mod 256 on every line: a session moved
    to the other implementation and back (every fault here is a planned move) continues
    the same stream, losing and repeating nothing. Returns (ok, lines, moves, why), where
    moves counts the samples carrying the move marker (-65534) in the last column."""
    previous = None
    lines = moves = 0
    with open(csv_path) as f:
        for line in f:
            cells = line.rstrip("\n").split("\t")
            value = int(float(cells[0]))
            if previous is not None and value != (previous + 1) % 256:
                return False, lines, moves, f"line {lines + 1}: package {value} after {previous}"
            if float(cells[-1]) == -65534.0:
                moves += 1
            previous = value
            lines += 1
    return lines > 0, lines, moves, "no lines" if lines == 0 else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--fault-every", type=float, default=5)
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--release", action="store_true")
    args = ap.parse_args()

    profile = ["--release"] if args.release else []
    subprocess.run(["cargo", "build", "--locked", "--bin", "switchyard", "--bin", "cyton-emulator",
                    "-p", "switchyard", "-p", "emulator", *profile], cwd=REPO, check=True)
    bin_dir = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")),
                           "release" if args.release else "debug")

    with tempfile.TemporaryDirectory() as scratch:
        emulator = subprocess.Popen([os.path.join(bin_dir, "cyton-emulator"), "--seed", "5"],
                                    stdout=subprocess.PIPE, text=True)
        try:
            port_path = emulator.stdout.readline().strip()
            sessions = os.path.join(scratch, "sessions.yaml")
            with open(sessions, "w") as f:
                f.write("sessions:\n"
                        "  - board: synthetic\n    serial_number: SOAK-1\n    record: true\n"
                        "  - board: synthetic\n    serial_number: SOAK-2\n    record: true\n"
                        f"  - board: cyton\n    serial_port: {port_path}\n    record: true\n")
            token = "soak-token-" + os.urandom(8).hex()
            token_file = os.path.join(scratch, "token")
            with open(token_file, "w") as f:
                f.write(token)
            os.chmod(token_file, 0o600)
            port = free_port()
            data_dir = os.path.join(scratch, "data")
            serve = subprocess.Popen(
                [os.path.join(bin_dir, "switchyard"), "serve", "--config", os.path.join(REPO, "config", "switchyard.yaml"),
                 "--sessions-file", sessions, "--sessions", str(args.sessions), "--listen", f"127.0.0.1:{port}",
                 "--data-dir", data_dir, "--token-file", token_file, "--summary-json"],
                cwd=REPO, stdout=subprocess.PIPE, stderr=open(os.path.join(scratch, "serve.log"), "w"), text=True)
            try:
                faults = ["kill-switch/on", "kill-switch/off", "breaker/cyton/force-open", "breaker/cyton/release"]
                rss, open_fds, applied = [], [], 0
                started = time.monotonic()
                next_fault = started + args.fault_every
                while time.monotonic() - started < args.seconds:
                    assert serve.poll() is None, f"serve exited early with {serve.returncode}"
                    rss.append(rss_kib(serve.pid))
                    open_fds.append(fds(serve.pid))
                    if time.monotonic() >= next_fault:
                        try:
                            control(port, token, faults[applied % len(faults)])
                            applied += 1
                        except OSError as e:
                            print(f"fault {faults[applied % len(faults)]} not applied: {e}", file=sys.stderr)
                        next_fault += args.fault_every
                    time.sleep(0.5)
                if applied % 2 == 1:
                    control(port, token, faults[applied % len(faults)])  # leave nothing forced
                serve.send_signal(signal.SIGTERM)
                out, _ = serve.communicate(timeout=30)
            finally:
                if serve.poll() is None:
                    serve.kill()
        finally:
            emulator.kill()

        print(f"ran {args.seconds:.0f} s with {args.sessions + 3} sessions; {applied} faults applied; serve exited {serve.returncode}")
        ok = serve.returncode == 0 and applied >= 1
        summary = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        print(f"run summary: {json.dumps(summary)}")
        ok &= flat("RSS KiB", rss, lambda v: max(0.10 * v, 8 * 1024))
        ok &= flat("open fds", open_fds, lambda v: 4)
        for key in ("dropped", "samples_dropped", "errors", "read_errors"):
            if key in summary and summary[key] != 0:
                print(f"summary {key} = {summary[key]}: samples were lost")
                ok = False
        streaming = summary.get("streaming_seconds", args.seconds)
        for name in sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else []:
            if not name.startswith("synthetic-") or "preset" in name:
                continue
            good, lines, moves, why = contiguous(os.path.join(data_dir, name))
            # The synthetic board makes 250 samples a second: a recording holds them all.
            expected = 250 * streaming
            enough = lines >= 0.98 * expected - 250
            print(f"{name}: {lines} samples of ~{expected:.0f} expected, {moves} moves marked: "
                  + ("contiguous" if good and enough else "MISSING SAMPLES " + why))
            ok &= good and enough
        if not ok:
            with open(os.path.join(scratch, "serve.log")) as f:
                print(f.read()[-4000:], file=sys.stderr)
        print("soak: " + ("passed" if ok else "FAILED"))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
