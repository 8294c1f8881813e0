"""Prints, as JSON, every descriptor answer BrainFlow's Python binding gets for the boards
switchyard implements (or, with the argument `all`, for every board id of BrainFlow's
BoardIds but NO_BOARD): the descriptor, names, presets, and each channel getter's list or
error code. capi/tests/brainflow_binding.rs and capi/tests/brainflow_boards.rs run it
once on BrainFlow's own library and once on ours and require the same output."""
import json
import sys

from brainflow.board_shim import BoardIds, BoardShim, BrainFlowError

if sys.argv[1:] == ["all"]:
    BOARDS = [b.value for b in BoardIds if b != BoardIds.NO_BOARD]
else:
    BOARDS = [-3, -1, 0, 1, 2, 38, 39, 46]
GETTERS = [
    "get_board_descr", "get_sampling_rate", "get_package_num_channel", "get_timestamp_channel",
    "get_marker_channel", "get_battery_channel", "get_num_rows", "get_eeg_names", "get_device_name",
    "get_exg_channels", "get_eeg_channels", "get_emg_channels", "get_ecg_channels", "get_eog_channels",
    "get_ppg_channels", "get_optical_channels", "get_eda_channels", "get_accel_channels",
    "get_rotation_channels", "get_analog_channels", "get_gyro_channels", "get_other_channels",
    "get_temperature_channels", "get_resistance_channels", "get_magnetometer_channels",
]


def answer(call, *args):
    try:
        return call(*args)
    except BrainFlowError as e:
        return {"error": e.exit_code}


out = {}
for board in BOARDS:
    presets = answer(BoardShim.get_board_presets, board)
    entry = {"presets": presets}
    for preset in presets if isinstance(presets, list) else [0]:
        entry[str(preset)] = {name: answer(getattr(BoardShim, name), board, preset) for name in GETTERS}
    out[str(board)] = entry
print(json.dumps(out, sort_keys=True, indent=1))
