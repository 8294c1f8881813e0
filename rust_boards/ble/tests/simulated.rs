//! Whole sessions against the simulated devices (`other_info` `transport=simulated`): the
//! board, its link task and the device's clock-driven task all run for real.
//!
//! No test asserts how fast anything happens. Rates are checked two ways that load cannot
//! break: exact packet schedules in the unit tests of `simulate` (elapsed time injected),
//! and here, that no sample is stamped before the device could have acquired it
//! (`start + (n + 1) / rate`), with "enough samples arrive" bounded only by a 20 s deadline.

use ble_boards::simulate::{
    ganglion_accel_g, ganglion_microvolts, muse_eeg_microvolts, muse_imu_values, muse_ppg_value, simulated_device,
    SimSettings,
};
use ble_boards::{board_over, create_ble_board, create_board, BleBoard, GAP_MARKER};
use board_api::{Board, BoardId, ExitCode, InputParams, Preset, SampleMatrix};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Waits until `condition` holds, failing the test (never hanging it) after 20 s.
fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn simulated(settings: &str) -> InputParams {
    InputParams { other_info: format!("transport=simulated;{settings}"), ..InputParams::default() }
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

fn read_all(board: &mut dyn Board, preset: Preset) -> SampleMatrix {
    let mut m = SampleMatrix::default();
    board.get_board_data(usize::MAX, preset, &mut m).unwrap();
    m
}

/// Slack between the device's monotonic clock and the wall clock the board stamps with.
const CLOCK_SLACK: f64 = 0.005;

/// Sample `n` of a stream at `rate` that started after `started` is stamped no earlier
/// than the moment it was acquired.
fn assert_not_early(timestamps: &[f64], started: f64, rate: f64) {
    for (n, t) in timestamps.iter().enumerate() {
        let acquired = started + (n + 1) as f64 / rate;
        assert!(*t >= acquired - CLOCK_SLACK, "sample {n} stamped {t} before it was acquired at {acquired}");
    }
}

fn check_ganglion_segment(data: &SampleMatrix, first: usize, count: usize) {
    for n in 0..count {
        let j = first + n;
        assert_eq!(data.get(0, j), ((n / 2) % 200) as f64, "packet id of sample {n} of the stream");
        let eeg: Vec<f64> = (1..5).map(|row| data.get(row, j)).collect();
        assert_eq!(eeg, ganglion_microvolts(n as u64), "EEG of sample {n} of the stream");
    }
}

#[test]
fn a_simulated_ganglion_streams_the_documented_signal_at_200_hz() {
    let mut board = create_board(BoardId::GanglionNative, &simulated("")).unwrap();
    board.prepare_session().unwrap();
    assert_eq!(
        board.insert_marker(4.0, Preset::Default).unwrap_err().code,
        ExitCode::InvalidArgumentsError,
        "no buffer to mark before the first start"
    );
    let started = unix_now();
    board.start_stream(10_000).unwrap();
    board.insert_marker(4.0, Preset::Default).unwrap();
    wait_for("1 s of samples", || board.board_data_count(Preset::Default).unwrap() >= 200);
    let data = read_all(&mut *board, Preset::Default);
    let count = data.samples();
    assert!(count >= 200);
    check_ganglion_segment(&data, 0, count);
    // The accel axes arrive in packets 0 (z), 1 (y) and 2 (x); from then on all three hold.
    for j in 6..count {
        assert_eq!([data.get(5, j), data.get(6, j), data.get(7, j)], ganglion_accel_g(), "accel of sample {j}");
    }
    assert!(data.row(8).iter().all(|r| *r == 0.0), "no impedance is simulated");
    // The marker lands on whichever sample came next after it, and on no other; no gaps.
    assert_eq!(data.row(14).iter().filter(|m| **m == 4.0).count(), 1, "one marked sample");
    assert!(data.row(14).iter().all(|m| *m == 0.0 || *m == 4.0), "no gaps");
    assert_not_early(data.row(13), started, 200.0);
    board.stop_stream().unwrap();
    board.release_session().unwrap();
}

#[test]
fn simulated_muse_2_and_muse_s_fill_all_three_presets() {
    for (board_id, aux_electrode) in [(BoardId::Muse2, false), (BoardId::MuseS, true)] {
        let mut board = create_board(board_id, &simulated("")).unwrap();
        board.prepare_session().unwrap();
        if aux_electrode {
            board.config_board("p50").unwrap();
        }
        let started = unix_now();
        board.start_stream(10_000).unwrap();
        wait_for("1 s of every preset", || {
            board.board_data_count(Preset::Default).unwrap() >= 256
                && board.board_data_count(Preset::Auxiliary).unwrap() >= 52
                && board.board_data_count(Preset::Ancillary).unwrap() >= 64
        });
        let eeg = read_all(&mut *board, Preset::Default);
        let aux = read_all(&mut *board, Preset::Auxiliary);
        let anc = read_all(&mut *board, Preset::Ancillary);
        board.stop_stream().unwrap();
        board.release_session().unwrap();

        assert_eq!(eeg.samples() % 12, 0, "{board_id}: EEG comes 12 samples per package");
        for n in 0..eeg.samples() {
            assert_eq!(eeg.get(0, n), (n / 12) as f64, "{board_id}: package number");
            let values: Vec<f64> = (1..5).map(|row| eeg.get(row, n)).collect();
            let expected: Vec<f64> = (0..4).map(|e| muse_eeg_microvolts(e, n as u64)).collect();
            assert_eq!(values, expected, "{board_id}: EEG sample {n}");
            let right_aux = if aux_electrode { muse_eeg_microvolts(4, n as u64) } else { 0.0 };
            assert_eq!(eeg.get(5, n), right_aux, "{board_id}: right aux of sample {n}");
        }
        assert_not_early(eeg.row(6), started, 256.0);

        assert_eq!(aux.samples() % 3, 0, "{board_id}: IMU comes 3 samples per package");
        for n in 0..aux.samples() {
            assert_eq!(aux.get(0, n), (n / 3) as f64);
            let values: Vec<f64> = (1..7).map(|row| aux.get(row, n)).collect();
            assert_eq!(values, muse_imu_values(n as u64), "{board_id}: accel and gyro of sample {n}");
        }
        assert_not_early(aux.row(7), started, 52.0);

        assert_eq!(anc.samples() % 6, 0, "{board_id}: PPG comes 6 samples per package");
        for n in 0..anc.samples() {
            assert_eq!(anc.get(0, n), (n / 6) as f64);
            let values: Vec<f64> = (1..4).map(|row| anc.get(row, n)).collect();
            let expected: Vec<f64> = (0..3).map(|c| f64::from(muse_ppg_value(c, n as u64))).collect();
            assert_eq!(values, expected, "{board_id}: PPG sample {n}");
        }
        assert_not_early(anc.row(4), started, 64.0);
        for (data, marker_row) in [(&eeg, 7), (&aux, 8), (&anc, 5)] {
            assert!(data.row(marker_row).iter().all(|m| *m == 0.0), "{board_id}: no gaps");
        }
    }
}

/// Where each stream begins in `markers` (a preset's marker row): 0, then every sample
/// marked as the first after a gap.
fn stream_starts(markers: &[f64]) -> Vec<usize> {
    std::iter::once(0).chain((1..markers.len()).filter(|&j| markers[j] == GAP_MARKER)).collect()
}

/// The samples of each stream in a preset, split at the gap markers; the last stream
/// may still be running.
fn stream_lengths(markers: &[f64]) -> Vec<usize> {
    let mut bounds = stream_starts(markers);
    bounds.push(markers.len());
    bounds.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Waits until at least `gaps` gaps have been marked (a gap is marked on the first sample
/// after a reconnect, so samples arrived after each).
fn wait_for_gaps(board: &BleBoard, gaps: u64) {
    wait_for("link failures, reconnects and samples after them", || board.link_status().gap_marks >= gaps);
}

#[test]
fn a_ganglion_that_drops_the_link_every_300_ms_is_reconnected_and_the_gaps_marked() {
    let mut board = create_ble_board(BoardId::GanglionNative, &simulated("sim_disconnect_every_ms=300")).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(100_000).unwrap();
    wait_for_gaps(&board, 3);
    let data = read_all(&mut board, Preset::Default);
    let status = board.link_status();
    assert!(status.disconnects >= 3 && status.stalls == 0, "{status:?}");
    assert_eq!(status.last_failure.as_deref(), Some("the device disconnected"));

    let markers = data.row(14);
    let lengths = stream_lengths(markers);
    assert!(lengths.len() >= 4, "at least three gaps and samples after each: {lengths:?}");
    let marked = markers.iter().filter(|m| **m == GAP_MARKER).count() as u64;
    assert!(marked >= 3 && marked <= status.gap_marks, "{marked} marked, {status:?}");
    // 300 ms at 200 Hz: every stream but the running one is exactly 60 samples long.
    assert!(lengths[..lengths.len() - 1].iter().all(|n| *n == 60), "{lengths:?}");
    for (first, count) in stream_starts(markers).into_iter().zip(lengths) {
        check_ganglion_segment(&data, first, count);
    }
    board.release_session().unwrap();
}

#[test]
fn a_muse_that_drops_the_link_marks_the_gap_in_every_preset() {
    let mut board = create_ble_board(BoardId::Muse2, &simulated("sim_disconnect_every_ms=300")).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(100_000).unwrap();
    wait_for_gaps(&board, 2);
    // Let every preset see the stream after the last reconnect.
    let gaps_seen = |board: &mut BleBoard, preset: Preset, marker_row: usize| {
        let mut m = SampleMatrix::default();
        board.get_current_board_data(usize::MAX, preset, &mut m).unwrap();
        m.row(marker_row).iter().filter(|v| **v == GAP_MARKER).count()
    };
    wait_for("two gaps in every preset", || {
        gaps_seen(&mut board, Preset::Default, 7) >= 2
            && gaps_seen(&mut board, Preset::Auxiliary, 8) >= 2
            && gaps_seen(&mut board, Preset::Ancillary, 5) >= 2
    });
    // 300 ms of a stream: 6 EEG packages (72 samples), 5 IMU (15), 3 PPG (18).
    for (preset, marker_row, per_stream) in [(Preset::Default, 7, 72), (Preset::Auxiliary, 8, 15), (Preset::Ancillary, 5, 18)]
    {
        let data = read_all(&mut board, preset);
        let markers = data.row(marker_row);
        let lengths = stream_lengths(markers);
        assert!(lengths.len() >= 3, "{preset:?}: {lengths:?}");
        assert!(lengths[..lengths.len() - 1].iter().all(|n| *n == per_stream), "{preset:?}: {lengths:?}");
        for first in stream_starts(markers) {
            assert_eq!(data.get(0, first), 0.0, "{preset:?}: each stream restarts its package numbers");
        }
    }
    board.release_session().unwrap();
}

#[test]
fn a_ganglion_that_goes_silent_is_caught_by_the_stall_path() {
    let settings = "sim_stall_every_ms=300;gap_timeout_ms=200";
    let mut board = create_ble_board(BoardId::GanglionNative, &simulated(settings)).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(100_000).unwrap();
    wait_for_gaps(&board, 2);
    let data = read_all(&mut board, Preset::Default);
    let status = board.link_status();
    assert!(status.stalls >= 2, "{status:?}");
    assert_eq!(status.disconnects, 0, "the device never dropped the link: {status:?}");
    assert!(status.last_failure.as_deref().unwrap().contains("no notification for 200 ms"), "{status:?}");
    let markers = data.row(14);
    let lengths = stream_lengths(markers);
    assert!(lengths.len() >= 3, "{lengths:?}");
    // Each stream is at most 300 ms (60 samples): a busy machine can only end one early.
    assert!(lengths.iter().all(|n| *n <= 60), "{lengths:?}");
    for (first, count) in stream_starts(markers).into_iter().zip(lengths) {
        check_ganglion_segment(&data, first, count);
    }
    board.release_session().unwrap();
}

#[test]
fn bad_settings_are_named_errors() {
    let cases = [
        ("transport=usb", "transport=\"usb\""),
        ("transport=simulated;sim_disconnect_every_ms=soon", "sim_disconnect_every_ms=\"soon\""),
        ("transport=simulated;sim_stall_every_ms=0", "sim_stall_every_ms=500"),
        ("sim_stall_every_ms=100", "add transport=simulated"),
        ("transport=simulated;firmware=4", "firmware"),
    ];
    for (other_info, named) in cases {
        let params = InputParams { other_info: other_info.into(), ..InputParams::default() };
        let e = create_board(BoardId::Muse2, &params).err().unwrap();
        assert_eq!(e.code, ExitCode::InvalidArgumentsError, "{other_info}");
        assert!(e.message.contains(named), "{other_info}: {e}");
    }
    let e = create_board(BoardId::Cyton, &simulated("")).err().unwrap();
    assert_eq!(e.code, ExitCode::UnsupportedBoardError);
}

#[test]
fn the_device_is_found_by_the_mac_or_name_asked_for() {
    let by_mac = InputParams { mac_address: "C0:FF:EE:00:00:01".into(), ..simulated("") };
    let by_name = InputParams { serial_number: "MuseS-ABCD".into(), ..simulated("") };
    for (board_id, params) in [(BoardId::MuseS, by_mac), (BoardId::MuseS, by_name), (BoardId::Muse2, simulated(""))] {
        let mut board = create_board(board_id, &params).unwrap();
        board.prepare_session().unwrap_or_else(|e| panic!("{board_id} {params:?}: {e}"));
        board.release_session().unwrap();
    }
}

#[test]
fn the_device_streams_only_between_start_and_stop_and_ends_with_the_board() {
    let params = simulated("");
    let sim = SimSettings::from_params(&params).unwrap().unwrap();
    let device = simulated_device(BoardId::GanglionNative, &params, &sim).unwrap();
    let mut board = board_over(BoardId::GanglionNative, &params, device.clone()).unwrap();
    board.prepare_session().unwrap();
    assert!(!device.is_streaming());
    for round in 0..2 {
        board.start_stream(10_000).unwrap();
        assert!(device.is_streaming());
        wait_for("samples", || board.board_data_count(Preset::Default).unwrap() >= 20);
        board.stop_stream().unwrap();
        assert!(!device.is_streaming(), "round {round}: the stop command stops the device");
        let data = read_all(&mut board, Preset::Default);
        assert_eq!(data.get(0, 0), 0.0, "round {round}: a new stream starts at packet 0");
        check_ganglion_segment(&data, 0, data.samples());
    }
    assert_eq!(device.stream_starts(), 2);
    board.release_session().unwrap();
    let weak = Arc::downgrade(&device);
    drop(device);
    drop(board);
    wait_for("the device to be freed", || weak.strong_count() == 0);
}
