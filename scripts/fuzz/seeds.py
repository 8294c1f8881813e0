"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ (committed; rerun
after changing how fuzz_checks reads its input). The encodings follow fuzz_checks/src."""
import os
import random
import struct
import sys

root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fuzz", "corpus"))
rng = random.Random(16)


def write(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def chunk(data):
    """One decode step per <=255 bytes: tag 1, length, bytes."""
    out = b""
    for i in range(0, len(data), 255):
        part = data[i:i + 255]
        out += bytes([1, len(part)]) + part
    return out


def command(text):
    assert len(text) < 16
    return bytes([8 * len(text)]) + text


def cyton_packet(n, footer=0xC0):
    body = bytes(rng.randrange(256) for _ in range(24))
    aux = struct.pack(">hhh", rng.randrange(-2000, 2000), rng.randrange(-2000, 2000), 1000)
    return bytes([0xA0, n % 256]) + body + aux + bytes([footer])


# Config: the shipped file and small variants.
repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
with open(os.path.join(repo, "config", "switchyard.yaml"), "rb") as f:
    write("config", "shipped", f.read())
write("config", "minimal", b"boards:\n  synthetic: rust\n")
write("config", "modes", b"boards:\n  synthetic: shadow\n  cyton: standby\n  cyton_daisy: cpp\n")
write("config", "bad-mode", b"boards:\n  synthetic: sideways\n")

# Cyton / Daisy: clean streams, a gain command mid-stream, garbage and a bad footer.
stream = b"".join(cyton_packet(n) for n in range(12))
write("cyton_differential", "cyton-clean", b"\x00" + chunk(stream))
write("cyton_differential", "daisy-clean", b"\x01" + chunk(stream))
write("cyton_differential", "cyton-gain", b"\x00" + command(b"x1020110X") + chunk(stream))
write("cyton_differential", "daisy-gain", b"\x01" + command(b"xQ030110X") + chunk(stream))
noisy = cyton_packet(0) + b"\x13\x37" + cyton_packet(1, footer=0x55) + cyton_packet(2, footer=0xC1) + cyton_packet(3)
write("cyton_differential", "cyton-noisy", b"\x00" + chunk(noisy))

# Playback CSV: lines of each master board's width, a bad line, CRLF, a partial line.
def csv_line(rows):
    return "\t".join(f"{rng.uniform(-100, 100):.6f}" for _ in range(rows)).encode() + b"\n"

for master, rows, name in [(0, 24, "cyton"), (1, 32, "daisy"), (2, 32, "synthetic")]:
    text = b"".join(csv_line(rows) for _ in range(4)) + b"not\ta\tsample\n" + csv_line(rows).replace(b"\n", b"\r\n") + csv_line(rows)[:20]
    write("playback_differential", name, bytes([master]) + chunk(text))

# Ganglion: a raw packet (id 0) then delta packets, an impedance packet; both firmwares.
def ganglion_stream():
    out = bytes([20, 0]) + bytes(rng.randrange(256) for _ in range(19))
    for pid in range(1, 6):
        out += bytes([20, pid]) + bytes(rng.randrange(256) for _ in range(19))
    out += bytes([6]) + bytes([201]) + b"1234Z"
    return out

write("ganglion", "firmware2", b"\x00" + ganglion_stream())
write("ganglion", "firmware3", b"\x01" + ganglion_stream())

# Muse: 20-byte notifications on every characteristic.
def muse_stream():
    out = b""
    for seq in range(3):
        for source in range(10):
            out += bytes([source, 20]) + struct.pack(">H", seq) + bytes(rng.randrange(256) for _ in range(18))
    return out

write("muse", "aux-off", b"\x00" + muse_stream())
write("muse", "aux-on", b"\x01" + muse_stream())

# C API: op, board index, params index, null-choice byte, then op-specific bytes.
def call(op, board=0, params=1, *rest):
    return bytes([op, board, params, 1] + list(rest))

session = (call(0) + call(2, 0, 1, 2, 3, 1) + call(3, 0, 1, 1, 0) + call(4, 0, 1, 0, 12, 1)
           + call(5, 0, 1, 0, 5, 1) + call(6, 0, 1, 1, 0, 0, 0, 0) + call(9) + call(10))
write("capi_sequence", "synthetic-session", session)
write("capi_sequence", "descriptors", call(12, 0, 0, 0, 0, 200, 0) + call(13, 0, 0, 3, 0, 5, 2) + call(14, 0, 0, 2, 0, 1))
write("capi_sequence", "playback-missing-file", call(0, 1, 2) + call(2, 1, 2, 2, 0, 1) + call(15))
write("capi_sequence", "unknown-board", call(0, 2, 0) + call(3, 3, 4, 0, 0) + call(7, 2, 0, 1, 0, 1, 9))
print("seed corpus written to", os.path.normpath(root), file=sys.stderr)
