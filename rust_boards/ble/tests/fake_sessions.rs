//! Whole sessions through the in-memory peripheral: the board, its link task, its ring
//! buffers and its reconnect logic run for real; only the radio is replaced.

use ble_boards::ganglion::{GanglionDecoder, GanglionFirmware};
use ble_boards::muse::encode_command;
use ble_boards::{
    board_over, LinkGuard, ReconnectAdmission, create_board, BleBoard, FakePeripheral, FakeStep, LinkState, GANGLION_NOTIFY, GANGLION_WRITE,
    GAP_MARKER, MUSE_ACCEL, MUSE_CONTROL, MUSE_EEG, MUSE_GYRO, MUSE_PPG,
};
use board_api::{Board, BoardId, ExitCode, InputParams, Preset, SampleMatrix};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAC: &str = "AA:BB:CC:DD:EE:01";

/// Waits until `condition` holds, failing the test (never hanging it) after 20 s.
fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn params(other_info: &str) -> InputParams {
    InputParams { mac_address: MAC.into(), other_info: other_info.into(), ..InputParams::default() }
}

/// Firmware 2: a raw packet then `n` 18-bit delta packets, every delta 1.
fn ganglion_stream(fake: &FakePeripheral, n: u8) {
    let mut raw = vec![0u8; 20];
    raw[1..4].copy_from_slice(&[0x00, 0x03, 0xE8]); // channel 1 = 1000
    fake.push_notification(GANGLION_NOTIFY, raw);
    for id in 1..=n {
        let mut p = vec![0u8; 20];
        p[0] = id;
        // Delta 1 for every one of the 8 values: bit 17 of each 18-bit field.
        for k in 0..8 {
            let bit = k * 18 + 17;
            p[1 + bit / 8] |= 1 << (7 - bit % 8);
        }
        fake.push_notification(GANGLION_NOTIFY, p);
    }
}

fn ganglion_fake() -> Arc<FakePeripheral> {
    let fake = Arc::new(FakePeripheral::new(MAC, "Ganglion-1a2b"));
    fake.advertise("AA:BB:CC:DD:EE:99", "Ganglion-other");
    fake.replay_on_write(b"b");
    fake
}

fn read_all(board: &mut BleBoard, preset: Preset) -> SampleMatrix {
    let mut m = SampleMatrix::default();
    board.get_board_data(usize::MAX, preset, &mut m).unwrap();
    m
}

#[test]
fn ganglion_streams_end_to_end() {
    let fake = ganglion_fake();
    ganglion_stream(&fake, 5);
    let mut board = board_over(BoardId::GanglionNative, &params("firmware=2"), fake.clone()).unwrap();
    board.prepare_session().unwrap();
    assert!(board.is_prepared());
    // No buffer before the first start (BrainFlow's answer), so the marker goes in after
    // it; the device holds its packets until the next command so the marker is pending
    // before the first sample arrives.
    assert_eq!(board.insert_marker(7.0, Preset::Default).unwrap_err().code, ExitCode::InvalidArgumentsError);
    fake.replay_on_write(b"z");
    board.start_stream(100).unwrap();
    board.insert_marker(7.0, Preset::Default).unwrap();
    board.config_board("z").unwrap();
    wait_for("11 samples", || board.board_data_count(Preset::Default).unwrap() == 11);
    let mut newest = SampleMatrix::default();
    board.get_current_board_data(2, Preset::Default, &mut newest).unwrap();
    assert_eq!(newest.samples(), 2);
    assert_eq!(board.board_data_count(Preset::Default).unwrap(), 11, "peeking removes nothing");
    let data = read_all(&mut board, Preset::Default);
    assert_eq!(data.rows(), 15);
    assert_eq!(data.samples(), 11);
    let scale = 1.2e6 / (8388607.0 * 1.5 * 51.0);
    // Channel 1 starts at 1000 and loses 1 per sample.
    let expected: Vec<f64> = (0..11).map(|i| f64::from(1000 - i) * scale).collect();
    assert_eq!(data.row(1), expected.as_slice());
    assert_eq!(data.row(0)[..3], [0.0, 1.0, 1.0]);
    assert_eq!(data.row(14)[0], 7.0, "the marker lands on the first sample");
    assert!(data.row(14)[1..].iter().all(|m| *m == 0.0));
    assert!(data.row(13).iter().all(|t| *t > 1.6e9), "unix timestamps");
    assert_eq!(newest.row(1), &expected[9..]);

    board.stop_stream().unwrap();
    let writes: Vec<Vec<u8>> = fake.writes().into_iter().map(|(c, w)| {
        assert_eq!(c, GANGLION_WRITE);
        w
    }).collect();
    assert_eq!(writes, vec![b"b".to_vec(), b"z".to_vec(), b"s".to_vec()]);
    assert_eq!(board.stop_stream().unwrap_err().code, ExitCode::StreamThreadIsNotRunning);
    board.release_session().unwrap();
    assert!(!fake.is_connected());
    assert_eq!(board.release_session().unwrap_err().code, ExitCode::BoardNotCreatedError);
}

#[test]
fn ganglion_reconnects_after_a_disconnect_and_marks_the_gap() {
    let fake = ganglion_fake();
    ganglion_stream(&fake, 5); // 11 samples
    fake.push(FakeStep::Disconnect);
    ganglion_stream(&fake, 3); // 7 more after the device restarts streaming
    let mut board = board_over(BoardId::GanglionNative, &params("firmware=2;reconnect_backoff_ms=1;gap_timeout_ms=600000"), fake.clone()).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(1000).unwrap();
    wait_for("all 18 samples", || board.board_data_count(Preset::Default).unwrap() == 18);
    let status = board.link_status();
    assert_eq!(status.state, LinkState::Connected);
    assert_eq!((status.disconnects, status.failures, status.reconnects, status.gap_marks), (1, 1, 1, 1));
    assert_eq!(status.last_failure.as_deref(), Some("the device disconnected"));
    let data = read_all(&mut board, Preset::Default);
    let markers = data.row(14);
    assert_eq!(markers[11], GAP_MARKER, "first sample after the gap");
    assert_eq!(markers.iter().filter(|m| **m != 0.0).count(), 1);
    let scale = 1.2e6 / (8388607.0 * 1.5 * 51.0);
    assert_eq!(data.row(1)[11], 1000.0 * scale, "decoding restarted from the new raw packet");
    let starts = fake.writes().iter().filter(|(_, w)| w == b"b").count();
    assert_eq!(starts, 2, "the stream was restarted after reconnecting");
    assert_eq!(fake.stats().connects, 2);
    board.release_session().unwrap();
}

/// A guard that holds the first `holds` reconnect attempts back, then lets them through,
/// and remembers what it was told.
#[derive(Default)]
struct ScriptedGuard {
    holds_left: std::sync::Mutex<u32>,
    failures: std::sync::Mutex<Vec<String>>,
    reports: Arc<std::sync::Mutex<Vec<bool>>>,
    released: std::sync::atomic::AtomicBool,
}

impl LinkGuard for ScriptedGuard {
    fn link_failed(&self, reason: &str) {
        self.failures.lock().unwrap().push(reason.to_owned());
    }
    fn before_reconnect(&self) -> ReconnectAdmission {
        let mut holds = self.holds_left.lock().unwrap();
        if *holds > 0 || !self.released.load(std::sync::atomic::Ordering::SeqCst) {
            *holds = holds.saturating_sub(1);
            return ReconnectAdmission::Hold(Duration::from_millis(5));
        }
        let reports = Arc::clone(&self.reports);
        ReconnectAdmission::Attempt(Box::new(move |ok| reports.lock().unwrap().push(ok)))
    }
}

#[test]
fn a_guard_hears_every_link_failure_and_paces_the_reconnect() {
    let fake = ganglion_fake();
    ganglion_stream(&fake, 5); // 11 samples
    fake.push(FakeStep::Disconnect);
    ganglion_stream(&fake, 3); // 7 more once the guard lets the board back
    let guard = Arc::new(ScriptedGuard { holds_left: std::sync::Mutex::new(3), ..ScriptedGuard::default() });
    let mut board = board_over(BoardId::GanglionNative, &params("firmware=2;reconnect_backoff_ms=1;gap_timeout_ms=600000"), fake.clone()).unwrap();
    board.set_link_guard(guard.clone());
    let link = board.link_handle();
    board.prepare_session().unwrap();
    board.start_stream(1000).unwrap();
    wait_for("the reconnect to be held", || link.status().state == LinkState::ReconnectHeld);
    assert_eq!(board.board_data_count(Preset::Default).unwrap(), 11, "nothing arrives while held");
    assert_eq!(fake.stats().connects, 1, "no attempt while the guard holds");
    assert_eq!(*guard.failures.lock().unwrap(), vec!["the device disconnected".to_owned()]);
    guard.released.store(true, std::sync::atomic::Ordering::SeqCst);
    wait_for("all 18 samples", || board.board_data_count(Preset::Default).unwrap() == 18);
    let status = link.status();
    assert_eq!(status.state, LinkState::Connected);
    assert!(status.reconnects_held >= 3, "{status:?}");
    assert_eq!((status.failures, status.reconnects, status.gap_marks), (1, 1, 1));
    assert_eq!(*guard.reports.lock().unwrap(), vec![true], "the one attempt is reported as a success");
    let data = read_all(&mut board, Preset::Default);
    assert_eq!(data.row(14)[11], GAP_MARKER);
    board.release_session().unwrap();
}

#[test]
fn a_stall_is_detected_reconnected_and_marked() {
    let fake = ganglion_fake();
    ganglion_stream(&fake, 2); // 5 samples
    fake.push(FakeStep::Stall);
    ganglion_stream(&fake, 1); // 3 samples
    let other = "firmware=2;gap_timeout_ms=30;reconnect_backoff_ms=1";
    let mut board = board_over(BoardId::GanglionNative, &params(other), fake.clone()).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(1000).unwrap();
    wait_for("8 samples", || board.board_data_count(Preset::Default).unwrap() == 8);
    let status = board.link_status();
    assert!(status.stalls >= 1, "{status:?}");
    assert!(status.last_failure.unwrap().contains("no notification for 30 ms"));
    let data = read_all(&mut board, Preset::Default);
    assert_eq!(data.row(14)[5], GAP_MARKER);
    assert!(fake.stats().disconnects_requested >= 1, "a stalled link is dropped before reconnecting");
    board.release_session().unwrap();
}

#[test]
fn reconnect_keeps_trying_with_backoff_until_the_device_answers() {
    let fake = ganglion_fake();
    ganglion_stream(&fake, 1);
    fake.push(FakeStep::Disconnect);
    ganglion_stream(&fake, 1);
    let other = "firmware=2;reconnect_backoff_ms=1;connect_attempts=1;gap_timeout_ms=600000";
    let mut board = board_over(BoardId::GanglionNative, &params(other), fake.clone()).unwrap();
    board.prepare_session().unwrap();
    fake.fail_next_connects(4);
    board.start_stream(100).unwrap();
    wait_for("the samples after reconnecting", || board.board_data_count(Preset::Default).unwrap() == 6);
    let status = board.link_status();
    assert_eq!(status.reconnect_attempts, 5, "four refused, the fifth connects");
    assert_eq!(status.reconnects, 1);
    assert_eq!(fake.stats().failed_connects, 4);
    board.release_session().unwrap();
}

#[test]
fn dropped_and_reordered_notifications_are_counted_not_hidden() {
    let fake = ganglion_fake();
    ganglion_stream(&fake, 4); // steps: raw, 1, 2, 3, 4
    fake.reorder(3, 4); // 1, 2, 4, 3
    let lost = vec![5u8; 20];
    fake.push(FakeStep::Drop { characteristic: GANGLION_NOTIFY, value: lost });
    let mut board = board_over(BoardId::GanglionNative, &params("firmware=2"), fake.clone()).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(100).unwrap();
    wait_for("9 samples", || board.board_data_count(Preset::Default).unwrap() == 9);
    let status = board.link_status();
    assert_eq!(status.decode.packets, 5);
    // 2 → 4 looks like packet 3 was lost; 3 arriving late is not counted again.
    assert_eq!(status.decode.dropped_samples, 2, "{status:?}");
    assert_eq!(fake.stats().dropped, 1);
    let data = read_all(&mut board, Preset::Default);
    assert_eq!(data.row(0), &[0.0, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0, 3.0, 3.0]);
    board.release_session().unwrap();
}

#[test]
fn ring_buffer_drops_the_oldest_and_counts_them() {
    let fake = ganglion_fake();
    ganglion_stream(&fake, 5);
    let mut board = board_over(BoardId::GanglionNative, &params("firmware=2"), fake.clone()).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(4).unwrap();
    wait_for("all notifications decoded", || board.link_status().decode.packets == 6);
    assert_eq!(board.board_data_count(Preset::Default).unwrap(), 4);
    assert_eq!(board.dropped_samples(), 7);
    let data = read_all(&mut board, Preset::Default);
    assert_eq!(data.row(0), &[4.0, 4.0, 5.0, 5.0]);
    board.release_session().unwrap();
}

fn muse_eeg_packet(package: u16, value: u16) -> Vec<u8> {
    let mut p = package.to_be_bytes().to_vec();
    for _ in 0..6 {
        p.extend_from_slice(&[(value >> 4) as u8, (((value & 0xF) << 4) | (value >> 8)) as u8, value as u8]);
    }
    p
}

fn muse_round(fake: &FakePeripheral, package: u16, electrodes: usize) {
    for (e, c) in MUSE_EEG.iter().enumerate().take(electrodes) {
        fake.push_notification(*c, muse_eeg_packet(package, 0x800 + 0x10 * e as u16));
    }
    let mut imu = package.to_be_bytes().to_vec();
    imu.extend_from_slice(&[0x40, 0x00].repeat(9)); // 16384 on every axis
    fake.push_notification(MUSE_ACCEL, imu.clone());
    fake.push_notification(MUSE_GYRO, imu);
    for (i, c) in MUSE_PPG.iter().enumerate() {
        let mut p = package.to_be_bytes().to_vec();
        p.extend_from_slice(&[0, 0, i as u8 + 1].repeat(6));
        fake.push_notification(*c, p);
    }
}

#[test]
fn muse_streams_three_presets_and_survives_a_disconnect() {
    for board_id in [BoardId::Muse2, BoardId::MuseS] {
        let fake = Arc::new(FakePeripheral::new(MAC, "MuseS-4F2A"));
        // Held until the marker is pending (there is no buffer to mark before the first
        // start); from then on `d` starts and resumes the replay.
        fake.replay_on_write(b"held");
        muse_round(&fake, 1, 5);
        muse_round(&fake, 2, 5);
        fake.push(FakeStep::Disconnect);
        muse_round(&fake, 3, 5);
        let no_mac = InputParams { other_info: "reconnect_backoff_ms=1;gap_timeout_ms=600000".into(), ..InputParams::default() };
        let mut board = board_over(board_id, &no_mac, fake.clone()).unwrap();
        board.prepare_session().unwrap();
        board.config_board("p50").unwrap();
        assert_eq!(board.insert_marker(3.0, Preset::Auxiliary).unwrap_err().code, ExitCode::InvalidArgumentsError);
        assert_eq!(board.insert_marker(0.0, Preset::Default).unwrap_err().code, ExitCode::InvalidArgumentsError);
        board.start_stream(1000).unwrap();
        board.insert_marker(3.0, Preset::Auxiliary).unwrap();
        fake.replay_on_write(&encode_command("d"));
        board.config_board("d").unwrap();
        wait_for("three rounds", || {
            board.board_data_count(Preset::Default).unwrap() == 36
                && board.board_data_count(Preset::Auxiliary).unwrap() == 9
                && board.board_data_count(Preset::Ancillary).unwrap() == 18
        });
        let eeg = read_all(&mut board, Preset::Default);
        assert_eq!(eeg.rows(), 8);
        let uv = |v: f64| (v - 2048.0) * 125.0 / 256.0;
        assert_eq!(eeg.get(1, 0), 0.0);
        assert_eq!(eeg.get(4, 0), uv(f64::from(0x830)));
        assert_eq!(eeg.get(5, 0), uv(f64::from(0x840)), "p50 streams the right aux electrode");
        assert_eq!(eeg.row(0)[24], 3.0);
        assert_eq!(eeg.row(7)[24], GAP_MARKER);
        let aux = read_all(&mut board, Preset::Auxiliary);
        assert_eq!(aux.rows(), 9);
        assert_eq!(aux.get(1, 0), 1.0);
        assert_eq!(aux.get(4, 0), 16384.0 * 0.007476);
        assert_eq!(aux.row(8)[0], 3.0, "user marker on the first auxiliary sample");
        assert_eq!(aux.row(8)[6], GAP_MARKER);
        let anc = read_all(&mut board, Preset::Ancillary);
        assert_eq!((anc.rows(), anc.get(1, 0), anc.get(3, 0)), (6, 1.0, 3.0));
        assert_eq!(anc.row(5)[12], GAP_MARKER);

        board.stop_stream().unwrap();
        let control: Vec<Vec<u8>> = fake.writes().into_iter().filter(|(c, _)| *c == MUSE_CONTROL).map(|(_, w)| w).collect();
        let d = encode_command("d");
        let p50 = encode_command("p50");
        assert_eq!(control, vec![p50.clone(), p50.clone(), d.clone(), d.clone(), p50, d, encode_command("h")]);
        board.release_session().unwrap();
    }
}

#[test]
fn lifecycle_errors_are_brainflows() {
    let fake = ganglion_fake();
    let mut board = board_over(BoardId::GanglionNative, &params(""), fake.clone()).unwrap();
    let mut m = SampleMatrix::default();
    assert_eq!(board.start_stream(10).unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.get_board_data(1, Preset::Default, &mut m).unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.config_board("z").unwrap_err().code, ExitCode::BoardNotCreatedError);
    board.prepare_session().unwrap();
    board.prepare_session().unwrap();
    assert_eq!(board.start_stream(0).unwrap_err().code, ExitCode::InvalidBufferSizeError);
    assert_eq!(board.board_data_count(Preset::Auxiliary).unwrap_err().code, ExitCode::InvalidArgumentsError);
    board.start_stream(10).unwrap();
    assert_eq!(board.start_stream(10).unwrap_err().code, ExitCode::StreamAlreadyRunError);
    board.release_session().unwrap();
    assert_eq!(board.board_data_count(Preset::Default).unwrap_err().code, ExitCode::BoardNotCreatedError);
}

#[test]
fn device_matching_follows_mac_then_serial_then_name() {
    let connect = |params: InputParams, board: BoardId| {
        let fake = Arc::new(FakePeripheral::new("AA:BB:CC:DD:EE:01", "Simblee"));
        fake.advertise("AA:BB:CC:DD:EE:02", "Ganglion-2");
        fake.advertise("AA:BB:CC:DD:EE:03", "Muse-3");
        let mut b = board_over(board, &params, fake.clone()).unwrap();
        let result = b.prepare_session();
        (result, fake)
    };
    let by_mac = InputParams { mac_address: "aa:bb:cc:dd:ee:02".into(), ..InputParams::default() };
    assert!(connect(by_mac, BoardId::GanglionNative).0.is_ok(), "MAC match ignores case");
    let by_serial = InputParams { serial_number: "Muse-3".into(), ..InputParams::default() };
    assert!(connect(by_serial, BoardId::GanglionNative).0.is_ok(), "serial number overrides the name prefix");
    assert!(connect(InputParams::default(), BoardId::GanglionNative).0.is_ok(), "Simblee is a Ganglion name");

    let missing = InputParams { mac_address: "AA:BB:CC:DD:EE:FF".into(), ..InputParams::default() };
    let e = connect(missing, BoardId::Muse2).0.unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReadyError);
    assert!(e.message.contains("device AA:BB:CC:DD:EE:FF not found in 5 s"), "{e}");
    let quick = InputParams { timeout: 2, serial_number: "Muse-9".into(), ..InputParams::default() };
    let e = connect(quick, BoardId::MuseS).0.unwrap_err();
    assert!(e.message.contains("device named \"Muse-9\" not found in 2 s"), "{e}");
}

#[test]
fn connect_retries_then_gives_up_with_the_reason() {
    let fake = ganglion_fake();
    fake.fail_next_connects(2);
    let mut board = board_over(BoardId::GanglionNative, &params(""), fake.clone()).unwrap();
    board.prepare_session().unwrap();
    board.release_session().unwrap();

    let fake = ganglion_fake();
    fake.fail_next_connects(10);
    let mut board = board_over(BoardId::GanglionNative, &params("connect_attempts=2"), fake.clone()).unwrap();
    let e = board.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReadyError);
    assert!(e.message.contains("after 2 attempts"), "{e}");
    assert!(!board.is_prepared());
    fake.fail_next_connects(0);
    board.prepare_session().expect("a failed prepare can be retried");
    board.release_session().unwrap();

    let fake = ganglion_fake();
    fake.with_characteristics(&[GANGLION_WRITE]);
    let mut board = board_over(BoardId::GanglionNative, &params(""), fake).unwrap();
    let e = board.prepare_session().unwrap_err();
    assert!(e.message.contains("no characteristic 2d30c082"), "{e}");
}

#[test]
fn only_ble_boards_are_made_here() {
    let e = create_board(BoardId::Cyton, &InputParams::default()).err().unwrap();
    assert_eq!(e.code, ExitCode::UnsupportedBoardError);
    let e = create_board(BoardId::GanglionNative, &params("gap_timeout_ms=soon")).err().unwrap();
    assert_eq!(e.code, ExitCode::InvalidArgumentsError);
    assert!(e.message.contains("gap_timeout_ms"));
    // The decoder the board uses is the public one.
    assert_eq!(GanglionDecoder::new(GanglionFirmware::V3).firmware(), GanglionFirmware::V3);
}

#[test]
fn a_device_that_stops_answering_never_hangs_the_caller() {
    let fake = ganglion_fake();
    let mut board = board_over(BoardId::GanglionNative, &params("call_timeout_ms=50"), fake.clone()).unwrap();
    board.prepare_session().unwrap();
    fake.hang_writes(true);
    let e = board.start_stream(10).unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReadyError);
    assert!(e.message.contains("writing \"b\" did not finish within 0.05 s"), "{e}");
    assert_eq!(board.config_board("z").unwrap_err().code, ExitCode::BoardNotReadyError);
    // The failed start left the session usable: once the device answers, it streams.
    fake.hang_writes(false);
    board.start_stream(10).unwrap();
    fake.hang_writes(true);
    assert!(board.release_session().is_ok(), "release gives up on the device and frees the session");
    assert!(!board.is_prepared());
}
