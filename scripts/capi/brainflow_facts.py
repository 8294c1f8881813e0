"""One BoardShim program that records what a board does, as facts, so that the same program
run on BrainFlow's own library and on switchyard's can be compared fact by fact
(tests/parity_brainflow.rs and capi/tests/brainflow_facts.rs).

Usage: python brainflow_facts.py <board> [<serial port or playback file>]
  board: synthetic | cyton | cyton_daisy | playback (the second argument: the file)
Prints one JSON object: fact name -> value. Values are what a user's program could see:
exit codes of calls made out of order, shapes, rates, the marker row, package numbers.
Nothing here depends on time or on the generator's random values.
"""
import json
import sys
import time

import numpy as np
from brainflow.board_shim import BoardIds, BoardShim, BrainFlowError, BrainFlowInputParams


def outcome(call, *args, **kwargs):
    """What a call answers: "ok" and its value, or the BrainFlow error name."""
    try:
        value = call(*args, **kwargs)
    except BrainFlowError as e:
        return "error " + BrainFlowError.__name__ + " " + str(e.exit_code)
    if isinstance(value, np.ndarray):
        return "ok shape " + "x".join(str(d) for d in value.shape)
    if value is None:
        return "ok"
    return "ok " + str(value)


def wait_for(board, count, what, preset=0):
    deadline = time.monotonic() + 20
    while board.get_board_data_count(preset) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: fewer than {count} samples within 20 s")
        time.sleep(0.01)


def facts_for(board_id, params, layout_id=None):
    f = {}
    layout_id = board_id if layout_id is None else layout_id
    marker = BoardShim.get_marker_channel(layout_id)
    package = BoardShim.get_package_num_channel(layout_id)
    rows = BoardShim.get_num_rows(layout_id)
    f["rows"] = rows
    f["sampling_rate"] = BoardShim.get_sampling_rate(layout_id)
    board = BoardShim(board_id, params)
    f["before prepare: start_stream"] = outcome(board.start_stream)
    f["before prepare: get_board_data_count"] = outcome(board.get_board_data_count)
    f["before prepare: insert_marker"] = outcome(board.insert_marker, 1.0)
    f["before prepare: release_session"] = outcome(board.release_session)
    f["prepare_session"] = outcome(board.prepare_session)
    f["is_prepared"] = outcome(board.is_prepared)
    # Kept alive: a BoardShim's destructor releases the session with its (board, params),
    # which is this one's.
    twin = BoardShim(board_id, params)
    f["prepare twice"] = outcome(twin.prepare_session)
    f["before start: get_board_data_count"] = outcome(board.get_board_data_count)
    f["before start: get_current_board_data"] = outcome(board.get_current_board_data, 10)
    f["before start: get_board_data"] = outcome(board.get_board_data)
    f["before start: insert_marker"] = outcome(board.insert_marker, 3.0)
    f["before start: stop_stream"] = outcome(board.stop_stream)
    f["start_stream"] = outcome(board.start_stream, 45000)
    f["start twice"] = outcome(board.start_stream, 45000)
    f["insert_marker 0"] = outcome(board.insert_marker, 0.0)
    for value in (8.0, 9.0, 10.0):
        board.insert_marker(value)
    wait_for(board, 40, "first stream")
    f["get_current_board_data 10"] = outcome(board.get_current_board_data, 10)
    f["get_current_board_data 0"] = outcome(board.get_current_board_data, 0)
    data = board.get_board_data()
    f["get_board_data rows"] = int(data.shape[0])
    marked = [(i, float(v)) for i, v in enumerate(data[marker]) if v != 0]
    f["markers 8, 9, 10 in order"] = [v for _, v in marked]
    f["markers in consecutive samples"] = bool(len(marked) > 0 and all(b[0] - a[0] == 1 for a, b in zip(marked, marked[1:])))
    steps = np.diff(data[package]) % 256
    f["package numbers step"] = sorted(set(int(s) for s in steps))
    f["get_board_data on empty"] = outcome(board.get_board_data, 0)
    f["stop_stream"] = outcome(board.stop_stream)
    f["stop twice"] = outcome(board.stop_stream)
    f["after stop: get_board_data_count >= 0"] = bool(board.get_board_data_count() >= 0)
    f["restart: start_stream"] = outcome(board.start_stream, 45000)
    f["restart: count right after start is below 5"] = bool(board.get_board_data_count() < 5)
    wait_for(board, 10, "second stream")
    f["restart: stream flows"] = True
    f["restart: stop_stream"] = outcome(board.stop_stream)
    f["release_session"] = outcome(board.release_session)
    f["release twice"] = outcome(board.release_session)
    f["after release: is_prepared"] = outcome(board.is_prepared)
    del twin
    return f


def main():
    which = sys.argv[1]
    params = BrainFlowInputParams()
    BoardShim.disable_board_logger()
    if which == "synthetic":
        board_id = BoardIds.SYNTHETIC_BOARD.value
    elif which == "playback":
        # A file in BrainFlow's CSV format with the synthetic board's layout.
        board_id = BoardIds.PLAYBACK_FILE_BOARD.value
        params.file = sys.argv[2]
        params.master_board = BoardIds.SYNTHETIC_BOARD.value
        print(json.dumps(facts_for(board_id, params, BoardIds.SYNTHETIC_BOARD.value), sort_keys=True))
        return
    elif which in ("cyton", "cyton_daisy"):
        board_id = BoardIds.CYTON_BOARD.value if which == "cyton" else BoardIds.CYTON_DAISY_BOARD.value
        params.serial_port = sys.argv[2]
    else:
        raise SystemExit(f"unknown board {which}")
    print(json.dumps(facts_for(board_id, params), sort_keys=True))


if __name__ == "__main__":
    main()
