"""Prints, as JSON, what a BoardShim program sees of boards that only BrainFlow implements,
without their hardware: each board's prepare_session on a serial port that does not
exist, and for FreeEEG32 and NeuroPawn Knight (which need no greeting) a whole session
on a pseudo-terminal nobody writes to, every call's exit code and data shape in order,
calls out of order included. capi/tests/brainflow_boards.rs runs it on BrainFlow's own
library and on ours and requires the same output."""
import json
import os

from brainflow.board_shim import BoardShim, BrainFlowInputParams, BrainFlowError

BoardShim.disable_board_logger()

# Serial boards whose prepare answers at once when the port is missing (others wait for a
# device on the network or over BLE for seconds).
MISSING_PORT = [1, 17, 52, 56, 57, 59, 60, 63, 65, 68]
ON_A_PTY = [17, 57]


def code(call, *args):
    try:
        result = call(*args)
    except BrainFlowError as e:
        return {"error": e.exit_code}
    if result is None:
        return 0
    if getattr(result, "ndim", 0) > 0:
        return {"shape": list(result.shape)}
    return result if isinstance(result, (bool, str)) else int(result)


out = {"missing_port": {}, "on_a_pty": {}}
for board_id in MISSING_PORT:
    params = BrainFlowInputParams()
    params.serial_port = "/nonexistent/ttyUSB9"
    board = BoardShim(board_id, params)
    out["missing_port"][str(board_id)] = {
        "prepare_session": code(board.prepare_session),
        "is_prepared": board.is_prepared(),
        "release_session": code(board.release_session),
    }
    del board

for board_id in ON_A_PTY:
    master, slave = os.openpty()
    params = BrainFlowInputParams()
    params.serial_port = os.ttyname(slave)
    board = BoardShim(board_id, params)
    steps = [
        ("start_stream before prepare", lambda: board.start_stream(1000)),
        ("prepare_session", board.prepare_session),
        ("prepare_session again", board.prepare_session),
        ("is_prepared", board.is_prepared),
        ("get_board_data before start", board.get_board_data),
        ("start_stream", lambda: board.start_stream(1000)),
        ("start_stream again", lambda: board.start_stream(1000)),
        ("get_board_data_count", board.get_board_data_count),
        ("get_current_board_data", lambda: board.get_current_board_data(10)),
        ("get_board_data", board.get_board_data),
        ("insert_marker", lambda: board.insert_marker(1.0)),
        ("stop_stream", board.stop_stream),
        ("stop_stream again", board.stop_stream),
        ("release_session", board.release_session),
        ("release_session again", board.release_session),
        ("is_prepared after release", board.is_prepared),
    ]
    out["on_a_pty"][str(board_id)] = {name: code(call) for name, call in steps}
    del steps
    del board
    os.close(master)
    os.close(slave)
print(json.dumps(out, sort_keys=True, indent=1))
