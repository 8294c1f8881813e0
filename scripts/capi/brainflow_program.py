"""An ordinary BrainFlow program, run by capi/tests/brainflow_binding.rs against BrainFlow's
own Python binding with switchyard's libBoardController in place of BrainFlow's.

Usage: python brainflow_program.py <cyton serial port> <scratch dir>
Exits non-zero (with the failing check on stderr) when anything differs from BrainFlow.
"""
import os
import sys
import time

import numpy as np
from brainflow.board_shim import BoardIds, BoardShim, BrainFlowError, BrainFlowInputParams
from brainflow.exit_codes import BrainFlowExitCodes


def expect_error(code, call, *args):
    try:
        call(*args)
    except BrainFlowError as e:
        assert e.exit_code == code, f"{call.__name__}: expected {code.name}, got {e}"
        return
    raise AssertionError(f"{call.__name__}: expected {code.name}, got success")


def wait_for(board, count, what):
    deadline = time.monotonic() + 20
    while board.get_board_data_count() < count:
        assert time.monotonic() < deadline, f"{what}: fewer than {count} samples within 20 s"
        time.sleep(0.02)


def descriptors():
    synthetic = BoardIds.SYNTHETIC_BOARD.value
    cyton = BoardIds.CYTON_BOARD.value
    assert BoardShim.get_sampling_rate(synthetic) == 250
    assert BoardShim.get_num_rows(synthetic) == 32
    assert BoardShim.get_eeg_channels(synthetic) == list(range(1, 17))
    assert BoardShim.get_eeg_channels(cyton) == list(range(1, 9))
    assert BoardShim.get_accel_channels(cyton) == [9, 10, 11]
    assert BoardShim.get_num_rows(cyton) == 24
    assert BoardShim.get_timestamp_channel(cyton) == 22
    assert BoardShim.get_marker_channel(cyton) == 23
    assert BoardShim.get_board_presets(synthetic) == [1, 0], "BrainFlow lists presets highest first"
    descr = BoardShim.get_board_descr(cyton)
    assert descr["name"] == "Cyton" and descr["num_rows"] == 24, descr
    assert BoardShim.get_device_name(cyton) == "Cyton"
    assert BoardShim.get_eeg_names(cyton)[0] == "Fp1", BoardShim.get_eeg_names(cyton)
    expect_error(BrainFlowExitCodes.UNSUPPORTED_BOARD_ERROR, BoardShim.get_ppg_channels, cyton)
    assert BoardShim.get_version() != ""


def synthetic_session(scratch):
    params = BrainFlowInputParams()
    params.other_info = "seed=3"
    board = BoardShim(BoardIds.SYNTHETIC_BOARD.value, params)
    expect_error(BrainFlowExitCodes.BOARD_NOT_CREATED_ERROR, board.start_stream)
    expect_error(BrainFlowExitCodes.BOARD_NOT_CREATED_ERROR, board.get_board_data)
    board.prepare_session()
    assert board.is_prepared()
    twin = BoardShim(BoardIds.SYNTHETIC_BOARD.value, params)
    expect_error(BrainFlowExitCodes.ANOTHER_BOARD_IS_CREATED_ERROR, twin.prepare_session)
    expect_error(BrainFlowExitCodes.STREAM_THREAD_IS_NOT_RUNNING, board.stop_stream)
    assert board.config_board("abc") == "Config:abc"
    csv = os.path.join(scratch, "synthetic.csv")
    board.start_stream(45000, f"file://{csv}:w")
    expect_error(BrainFlowExitCodes.STREAM_ALREADY_RUN_ERROR, board.start_stream)
    board.insert_marker(5.0)
    wait_for(board, 20, "synthetic")
    current = board.get_current_board_data(10)
    assert current.shape == (32, 10), current.shape
    data = board.get_board_data()
    assert data.shape[0] == 32 and data.shape[1] >= 20, data.shape
    marker_row = BoardShim.get_marker_channel(BoardIds.SYNTHETIC_BOARD.value)
    assert 5.0 in data[marker_row], "the marker is in the marker row"
    assert board.get_board_data_count() < data.shape[1], "get_board_data removes what it returns"
    aux = board.get_board_data(preset=1)
    assert aux.shape[0] == 20, aux.shape
    board.stop_stream()
    board.release_session()
    expect_error(BrainFlowExitCodes.BOARD_NOT_CREATED_ERROR, board.release_session)
    with open(csv) as f:
        lines = f.read().splitlines()
    assert len(lines) >= data.shape[1] and len(lines[0].split("\t")) == 32, len(lines)


def two_boards_at_once(serial_port):
    cyton_params = BrainFlowInputParams()
    cyton_params.serial_port = serial_port
    synthetic = BoardShim(BoardIds.SYNTHETIC_BOARD.value, BrainFlowInputParams())
    cyton = BoardShim(BoardIds.CYTON_BOARD.value, cyton_params)
    synthetic.prepare_session()
    cyton.prepare_session()
    synthetic.start_stream()
    cyton.start_stream()
    cyton.insert_marker(2.0)
    wait_for(synthetic, 25, "synthetic beside a cyton")
    wait_for(cyton, 25, "cyton")
    data = cyton.get_board_data()
    assert data.shape[0] == 24 and data.shape[1] >= 25, data.shape
    assert np.all(np.isfinite(data))
    assert 2.0 in data[23], "the cyton marker is in its marker row"
    assert synthetic.get_board_data().shape[0] == 32
    cyton.stop_stream()
    # Both are released by release_all_sessions, as BrainFlow's users do at exit.
    BoardShim.release_all_sessions()
    assert not synthetic.is_prepared() and not cyton.is_prepared()


def main():
    serial_port, scratch = sys.argv[1], sys.argv[2]
    BoardShim.enable_dev_board_logger()
    BoardShim.disable_board_logger()
    descriptors()
    synthetic_session(scratch)
    two_boards_at_once(serial_port)
    print("brainflow program: all checks passed")


if __name__ == "__main__":
    main()
