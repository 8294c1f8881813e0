//! The exports called directly from Rust, as a C host calls them.

use std::ffi::{c_char, c_int, CString};
use std::ptr;
use BoardController::*;

const OK: c_int = 0;
const INVALID_ARGUMENTS: c_int = 13;
const UNSUPPORTED_BOARD: c_int = 14;
const NOT_CREATED: c_int = 15;
const ANOTHER_CREATED: c_int = 16;
const STREAM_NOT_RUNNING: c_int = 11;
const INVALID_BUFFER_SIZE: c_int = 9;
const SYNTHETIC: c_int = -1;

fn params(other_info: &str) -> CString {
    CString::new(format!("{{\"other_info\": \"{other_info}\", \"serial_port\": \"\"}}")).unwrap()
}

fn wait_for_samples(p: &CString, at_least: c_int) -> c_int {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let mut count = 0;
        // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
        assert_eq!(unsafe { get_board_data_count(0, &mut count, SYNTHETIC, p.as_ptr()) }, OK);
        if count >= at_least {
            return count;
        }
        assert!(std::time::Instant::now() < deadline, "no {at_least} samples within 20 s (have {count})");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn synthetic_session_lifecycle_with_brainflow_codes() {
    let p = params("lifecycle");
    let mut prepared = -1;
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { is_prepared(&mut prepared, SYNTHETIC, p.as_ptr()) }, OK);
    assert_eq!(prepared, 0);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { start_stream(100, ptr::null(), SYNTHETIC, p.as_ptr()) }, NOT_CREATED);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(SYNTHETIC, p.as_ptr()) }, OK);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(SYNTHETIC, p.as_ptr()) }, ANOTHER_CREATED);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { is_prepared(&mut prepared, SYNTHETIC, p.as_ptr()) }, OK);
    assert_eq!(prepared, 1);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { stop_stream(SYNTHETIC, p.as_ptr()) }, STREAM_NOT_RUNNING);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { start_stream(0, ptr::null(), SYNTHETIC, p.as_ptr()) }, INVALID_BUFFER_SIZE);
    let file = tempfile::NamedTempFile::new().unwrap();
    let spec = CString::new(format!("file://{}:w", file.path().display())).unwrap();
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { start_stream(45000, spec.as_ptr(), SYNTHETIC, p.as_ptr()) }, OK);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { insert_marker(7.0, 0, SYNTHETIC, p.as_ptr()) }, OK);
    let count = wait_for_samples(&p, 10);

    let mut rows = 0;
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_num_rows(SYNTHETIC, 0, &mut rows) }, OK);
    assert_eq!(rows, 32);
    let mut current = vec![0.0f64; rows as usize * 5];
    let mut returned = 0;
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_current_board_data(5, 0, current.as_mut_ptr(), &mut returned, SYNTHETIC, p.as_ptr()) }, OK);
    assert_eq!(returned, 5);

    let mut data = vec![0.0f64; rows as usize * count as usize];
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_board_data(count, 0, data.as_mut_ptr(), SYNTHETIC, p.as_ptr()) }, OK);
    let mut marker_row = 0;
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_marker_channel(SYNTHETIC, 0, &mut marker_row) }, OK);
    let markers = &data[marker_row as usize * count as usize..(marker_row as usize + 1) * count as usize];
    assert!(markers.contains(&7.0), "the marker is in the marker row: {markers:?}");
    let mut after = 0;
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_board_data_count(0, &mut after, SYNTHETIC, p.as_ptr()) }, OK);
    assert!(after < count, "get_board_data removes what it returns");

    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { stop_stream(SYNTHETIC, p.as_ptr()) }, OK);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { release_session(SYNTHETIC, p.as_ptr()) }, OK);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { release_session(SYNTHETIC, p.as_ptr()) }, NOT_CREATED);
    let csv = std::fs::read_to_string(file.path()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines.len() >= count as usize, "the streamer file holds the stream");
    assert_eq!(lines[0].split('\t').count(), 32);
}

#[test]
fn null_and_negative_arguments_are_invalid_arguments() {
    let p = params("nulls");
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(SYNTHETIC, ptr::null()) }, INVALID_ARGUMENTS);
    let bad_json = CString::new("{not json").unwrap();
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(SYNTHETIC, bad_json.as_ptr()) }, INVALID_ARGUMENTS);
    let bad_utf8 = [0xffu8 as c_char, 0];
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(SYNTHETIC, bad_utf8.as_ptr()) }, INVALID_ARGUMENTS);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(7, p.as_ptr()) }, UNSUPPORTED_BOARD);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_num_rows(SYNTHETIC, 0, ptr::null_mut()) }, INVALID_ARGUMENTS);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_num_rows(SYNTHETIC, 5, &mut 0) }, INVALID_ARGUMENTS);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(SYNTHETIC, p.as_ptr()) }, OK);
    let mut returned = 0;
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_current_board_data(-1, 0, [0.0; 4].as_mut_ptr(), &mut returned, SYNTHETIC, p.as_ptr()) }, INVALID_ARGUMENTS);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_board_data(10, 0, ptr::null_mut(), SYNTHETIC, p.as_ptr()) }, INVALID_ARGUMENTS);
    let mut len = 0;
    let mut resp = [0 as c_char; 8];
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { config_board(ptr::null(), resp.as_mut_ptr(), &mut len, 8, SYNTHETIC, p.as_ptr()) }, INVALID_ARGUMENTS);
    let cfg = CString::new("x").unwrap();
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { config_board(cfg.as_ptr(), resp.as_mut_ptr(), &mut len, -3, SYNTHETIC, p.as_ptr()) }, INVALID_ARGUMENTS);
    let other = CString::new("udp://127.0.0.1:5000").unwrap();
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { add_streamer(other.as_ptr(), 0, SYNTHETIC, p.as_ptr()) }, INVALID_ARGUMENTS);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { release_session(SYNTHETIC, p.as_ptr()) }, OK);
    let mut prepared = 1;
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { is_prepared(&mut prepared, SYNTHETIC, p.as_ptr()) }, OK);
    assert_eq!(prepared, 0);
}

#[test]
fn descriptor_getters_answer_brainflows_json_and_lists() {
    let mut buf = vec![0u8; 16000];
    let mut len = 0;
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_board_descr(0, 0, buf.as_mut_ptr().cast(), &mut len, 16000) }, OK);
    let text = std::str::from_utf8(&buf[..len as usize]).unwrap();
    let ours: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(ours["num_rows"], 24);
    assert_eq!(ours["sampling_rate"], 250);
    let mut small = [0u8; 4];
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_board_descr(0, 0, small.as_mut_ptr().cast(), &mut len, 4) }, INVALID_ARGUMENTS);

    let mut channels = [0 as c_int; 512];
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_eeg_channels(0, 0, channels.as_mut_ptr(), &mut len) }, OK);
    assert_eq!(&channels[..len as usize], &[1, 2, 3, 4, 5, 6, 7, 8]);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_ppg_channels(0, 0, channels.as_mut_ptr(), &mut len) }, UNSUPPORTED_BOARD);
    let mut presets = [0 as c_int; 8];
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_board_presets(SYNTHETIC, presets.as_mut_ptr(), &mut len) }, OK);
    assert_eq!(&presets[..len as usize], &[1, 0], "BrainFlow lists presets highest first");
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_version_board_controller(buf.as_mut_ptr().cast(), &mut len, 64) }, OK);
    assert!(len > 0);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { set_log_level_board_controller(9) }, INVALID_ARGUMENTS);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { set_log_level_board_controller(6) }, OK);
    let msg = CString::new("hello").unwrap();
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { log_message_board_controller(4, msg.as_ptr()) }, OK);
}

/// The Rust-only BLE boards as a BrainFlow program reaches them: board ids 46 and 38
/// through the exports, on simulated devices, with a disconnect whose gap is marked.
#[test]
fn ble_boards_stream_through_the_exports_and_mark_a_reconnect() {
    const GANGLION_NATIVE: c_int = 46;
    const MUSE_2: c_int = 38;
    const GAP_MARKER: f64 = -99_999.0;
    let count_of = |board: c_int, preset: c_int, p: &CString| {
        let mut count = 0;
        // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
        assert_eq!(unsafe { get_board_data_count(preset, &mut count, board, p.as_ptr()) }, OK);
        count
    };
    let read_marker_row = |board: c_int, preset: c_int, p: &CString| -> Vec<f64> {
        let mut rows = 0;
        // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
        assert_eq!(unsafe { get_num_rows(board, preset, &mut rows) }, OK);
        let mut marker_row = 0;
        // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
        assert_eq!(unsafe { get_marker_channel(board, preset, &mut marker_row) }, OK);
        let count = count_of(board, preset, p);
        let mut data = vec![0.0f64; rows as usize * count as usize];
        // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
        assert_eq!(unsafe { get_board_data(count, preset, data.as_mut_ptr(), board, p.as_ptr()) }, OK);
        data[marker_row as usize * count as usize..(marker_row as usize + 1) * count as usize].to_vec()
    };
    let deadline = || std::time::Instant::now() + std::time::Duration::from_secs(20);

    let ganglion = params("transport=simulated;sim_disconnect_every_ms=300");
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(GANGLION_NATIVE, ganglion.as_ptr()) }, OK);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { start_stream(45000, ptr::null(), GANGLION_NATIVE, ganglion.as_ptr()) }, OK);
    let until = deadline();
    let mut markers = Vec::new();
    while !markers.contains(&GAP_MARKER) {
        assert!(std::time::Instant::now() < until, "no gap marked within 20 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
        markers.extend(read_marker_row(GANGLION_NATIVE, 0, &ganglion));
    }
    assert!(markers.len() > 60, "a full 300 ms stream came before the gap");
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { stop_stream(GANGLION_NATIVE, ganglion.as_ptr()) }, OK);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { release_session(GANGLION_NATIVE, ganglion.as_ptr()) }, OK);

    let muse = params("transport=simulated");
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(MUSE_2, muse.as_ptr()) }, OK);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { start_stream(45000, ptr::null(), MUSE_2, muse.as_ptr()) }, OK);
    let until = deadline();
    while count_of(MUSE_2, 0, &muse) < 256 || count_of(MUSE_2, 1, &muse) < 52 || count_of(MUSE_2, 2, &muse) < 64 {
        assert!(std::time::Instant::now() < until, "the three Muse presets did not fill within 20 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { stop_stream(MUSE_2, muse.as_ptr()) }, OK);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { release_session(MUSE_2, muse.as_ptr()) }, OK);
}
