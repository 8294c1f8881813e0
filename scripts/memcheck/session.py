"""One BrainFlow session cycle through BrainFlow's own Python binding, run under valgrind by
scripts/valgrind.sh with switchyard's libBoardController in place of BrainFlow's: prepare,
stream, read, release, for the synthetic board and (when a port is given) a Cyton.

Usage: python session.py [cyton serial port]
"""
import sys
import time

from brainflow.board_shim import BoardIds, BoardShim, BrainFlowInputParams


def cycle(board_id, params, wanted):
    board = BoardShim(board_id, params)
    board.prepare_session()
    board.start_stream(45000)
    board.insert_marker(1.0)
    deadline = time.monotonic() + 60
    while board.get_board_data_count() < wanted:
        assert time.monotonic() < deadline, f"board {board_id}: fewer than {wanted} samples in 60 s"
        time.sleep(0.05)
    data = board.get_board_data()
    assert data.shape[1] >= wanted, data.shape
    board.stop_stream()
    board.release_session()
    print(f"board {board_id}: {data.shape[1]} samples of {data.shape[0]} rows")


params = BrainFlowInputParams()
params.other_info = "seed=1"
cycle(BoardIds.SYNTHETIC_BOARD.value, params, 20)
if len(sys.argv) > 1:
    params = BrainFlowInputParams()
    params.serial_port = sys.argv[1]
    cycle(BoardIds.CYTON_BOARD.value, params, 20)
