//! The Rust Cyton boards end to end over a real pseudo-terminal, against the emulator.

use board_api::{Board, BoardId, ExitCode, InputParams, Preset, SampleMatrix, StreamDecoder};
use emulator::{packet_stream, Emulator, EmulatorOptions, Faults};
use rust_boards::{CytonBoard, CytonDecoder};
use std::time::{Duration, Instant};

fn params_for(emu: &Emulator) -> InputParams {
    InputParams { serial_port: emu.port_path().to_str().unwrap().into(), timeout: 2, ..Default::default() }
}

/// Polls until the board holds at least `n` samples, failing after 10 s.
fn wait_for_samples(board: &mut CytonBoard, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while board.board_data_count(Preset::Default).unwrap() < n {
        assert!(Instant::now() < deadline, "no {n} samples within 10 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What the decoder makes of the emulator's first `packets` packets, given the commands.
fn expected(daisy: bool, options: &EmulatorOptions, packets: usize, commands: &[u8]) -> Vec<f64> {
    let mut d = if daisy { CytonDecoder::daisy() } else { CytonDecoder::cyton() };
    d.observe_command(commands).unwrap();
    let mut out = Vec::new();
    d.decode(&packet_stream(options, packets), 0.0, &mut out).unwrap();
    out
}

fn stream_and_compare(daisy: bool) {
    // The stall makes the stream finite, so the test knows when everything has arrived.
    let packets = if daisy { 200 } else { 100 };
    let base = if daisy { EmulatorOptions::daisy(11) } else { EmulatorOptions::cyton(11) };
    let options = EmulatorOptions { faults: Faults { stall_after: Some(packets as u64), ..Faults::default() }, ..base };
    let emu = Emulator::start(options.clone()).unwrap();
    let id = if daisy { BoardId::CytonDaisy } else { BoardId::Cyton };
    let mut board = CytonBoard::new(id, &params_for(&emu)).unwrap();
    board.prepare_session().unwrap();
    let reply = board.config_board("x1030110X").unwrap();
    assert!(reply.starts_with("Success"), "{reply}");
    assert!(board.config_board("?").unwrap().contains("ADS_ID"));
    board.start_stream(45_000).unwrap();
    wait_for_samples(&mut board, 40);
    board.insert_marker(3.0, Preset::Default).unwrap();
    wait_for_samples(&mut board, 100);
    board.stop_stream().unwrap();
    let mut out = SampleMatrix::new(0);
    board.get_board_data(usize::MAX, Preset::Default, &mut out).unwrap();
    let rows = out.rows();
    assert_eq!(rows, if daisy { 32 } else { 24 });
    assert_eq!(emu.packets_sent(), packets as u64);
    let reference = expected(daisy, &options, packets, b"dx1030110X");
    // Every sample the emulator sent arrived, in order, decoded as the decoder does alone.
    assert_eq!(out.samples(), reference.len() / rows);
    let (ts_row, marker_row) = (rows - 2, rows - 1);
    let mut markers = 0;
    for i in 0..out.samples() {
        for row in 0..rows {
            if row == ts_row {
                continue;
            }
            if row == marker_row {
                markers += usize::from(out.get(row, i) == 3.0);
                continue;
            }
            assert_eq!(out.get(row, i), reference[i * rows + row], "sample {i} row {row}");
        }
    }
    assert_eq!(markers, 1);
    assert_eq!(&emu.commands_received()[..2], b"vd");
    board.release_session().unwrap();
    assert_eq!(board.board_data_count(Preset::Default).unwrap_err().code, ExitCode::BoardNotCreatedError);
}

#[test]
fn cyton_streams_every_packet_through_a_pty() {
    stream_and_compare(false);
}

#[test]
fn daisy_streams_every_packet_through_a_pty() {
    stream_and_compare(true);
}

#[test]
fn faulty_stream_still_decodes_and_counts() {
    let options = EmulatorOptions {
        faults: Faults { garbage_every: Some(7), bad_footer_every: Some(11), drop_byte_every: Some(13), stall_after: Some(120) },
        ..EmulatorOptions::cyton(3)
    };
    let emu = Emulator::start(options.clone()).unwrap();
    let mut board = CytonBoard::new(BoardId::Cyton, &params_for(&emu)).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(1000).unwrap();
    let reference = expected(false, &options, 120, b"d");
    wait_for_samples(&mut board, reference.len() / 24);
    board.stop_stream().unwrap();
    assert!(reference.len() / 24 < 120, "faults must cost samples");
    assert_eq!(board.board_data_count(Preset::Default).unwrap(), reference.len() / 24);
}

#[test]
fn missing_port_is_unable_to_open_and_names_it() {
    let params = InputParams { serial_port: "/dev/does-not-exist-0".into(), ..Default::default() };
    let e = CytonBoard::new(BoardId::Cyton, &params).unwrap().prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::UnableToOpenPortError);
    assert!(e.message.contains("/dev/does-not-exist-0"), "{e}");
}

#[test]
fn silent_board_is_not_ready_within_the_timeout() {
    let emu = Emulator::start(EmulatorOptions { answer_handshake: false, ..Default::default() }).unwrap();
    let mut params = params_for(&emu);
    params.timeout = 1;
    let mut board = CytonBoard::new(BoardId::Cyton, &params).unwrap();
    let e = board.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReadyError);
    assert!(!board.is_prepared());
}

#[test]
fn wrong_call_order_gives_brainflow_codes() {
    let emu = Emulator::start(EmulatorOptions::cyton(0)).unwrap();
    let mut board = CytonBoard::new(BoardId::Cyton, &params_for(&emu)).unwrap();
    assert_eq!(board.start_stream(10).unwrap_err().code, ExitCode::BoardNotCreatedError);
    board.prepare_session().unwrap();
    assert_eq!(board.stop_stream().unwrap_err().code, ExitCode::StreamThreadIsNotRunning);
    board.start_stream(10).unwrap();
    assert_eq!(board.start_stream(10).unwrap_err().code, ExitCode::StreamAlreadyRunError);
    assert_eq!(board.config_board("x1060110X").unwrap(), "", "no reply while streaming");
    board.release_session().unwrap();
    assert!(CytonBoard::new(BoardId::Synthetic, &InputParams::default()).is_err());
}

#[test]
fn unplugged_device_is_reported_not_silent() {
    let emu = Emulator::start(EmulatorOptions::cyton(2)).unwrap();
    let mut board = CytonBoard::new(BoardId::Cyton, &params_for(&emu)).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(1000).unwrap();
    wait_for_samples(&mut board, 10);
    assert_eq!(board.reader_failure(), None);
    drop(emu); // closes the pty: the device is gone
    let deadline = Instant::now() + Duration::from_secs(10);
    while board.reader_failure().is_none() {
        assert!(Instant::now() < deadline, "a dead device went unnoticed");
        std::thread::sleep(Duration::from_millis(10));
    }
    // What arrived before is kept.
    assert!(board.board_data_count(Preset::Default).unwrap() >= 10);
    let _ = board.stop_stream();
    board.release_session().unwrap();
}
