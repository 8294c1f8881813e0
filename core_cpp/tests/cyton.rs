//! The C++ Cyton and Cyton Daisy: the decoder on hand-made and emulated bytes, and both
//! boards end to end over the emulator's pseudo-terminal.

use std::time::{Duration, Instant};

use board_api::{Board, BoardId, DecodeCounters, ExitCode, InputParams, Preset, SampleMatrix, StreamDecoder};
use core_cpp::{CppBoard, CppDecoder};
use emulator::{packet_stream, Emulator, EmulatorOptions, Faults};

const SCALE_24: f64 = 4.5 / 8388607.0 / 24.0 * 1000000.0;

/// One packet: sample number, eight raw 24-bit counts, six aux bytes, footer.
fn packet(sample: u8, channels: [i32; 8], aux: [u8; 6], footer: u8) -> Vec<u8> {
    let mut p = vec![0xA0, sample];
    for c in channels {
        let v = (c as u32) & 0x00FF_FFFF;
        p.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
    }
    p.extend_from_slice(&aux);
    p.push(footer);
    assert_eq!(p.len(), 33);
    p
}

fn decoder(board: BoardId) -> CppDecoder {
    CppDecoder::new(board, &InputParams::default()).unwrap()
}

#[test]
fn cyton_packet_rows_follow_the_spec() {
    let mut d = decoder(BoardId::Cyton);
    assert_eq!(d.num_rows(), 24);
    let mut out = Vec::new();
    let mut bytes = packet(7, [1, -1, 8388607, -8388608, 0, 100, -100, 2], [0x01, 0x00, 0xFF, 0x00, 0x00, 0x10], 0xC0);
    bytes.extend(packet(8, [0; 8], [0, 0, 0, 0, 0, 0], 0xC0));
    bytes.extend(packet(9, [0; 8], [0x00, 0x05, 0xFF, 0xFE, 0x00, 0x01], 0xC1));
    assert_eq!(d.decode(&bytes, 99.0, &mut out).unwrap(), 3);
    let s0 = &out[..24];
    assert_eq!(s0[0], 7.0);
    assert_eq!(s0[1], SCALE_24);
    assert_eq!(s0[2], -SCALE_24);
    assert_eq!(s0[3], 8388607.0 * SCALE_24);
    assert_eq!(s0[4], -8388608.0 * SCALE_24);
    let accel = [256.0 * (0.002 / 16.0), -256.0 * (0.002 / 16.0), 16.0 * (0.002 / 16.0)];
    assert_eq!(&s0[9..12], &accel);
    assert_eq!(s0[12], 192.0);
    assert_eq!(&s0[13..19], &[1.0, 0.0, 255.0, 0.0, 0.0, 16.0]);
    assert_eq!(&s0[19..22], &[0.0, 0.0, 0.0]);
    assert_eq!((s0[22], s0[23]), (99.0, 0.0));
    let s1 = &out[24..48];
    assert_eq!(&s1[9..12], &accel, "an all-zero accel triple keeps the previous accel");
    let s2 = &out[48..72];
    assert_eq!(&s2[19..22], &[5.0, -2.0, 1.0], "0xC1 carries analog values unscaled");
    assert_eq!(&s2[9..12], &accel);
    assert_eq!(d.counters(), DecodeCounters { packets: 3, ..DecodeCounters::default() });
}

#[test]
fn gains_follow_channel_settings_and_defaults() {
    let mut d = decoder(BoardId::Cyton);
    // Channel 2 to gain code 3 (gain 6), channel 9 is not a Cyton channel: ignored.
    d.observe_command(b"x2030110Xx9060110X").unwrap();
    let mut out = Vec::new();
    d.decode(&packet(1, [1000; 8], [0; 6], 0xC4), 0.0, &mut out).unwrap();
    assert_eq!(out[1], 1000.0 * SCALE_24);
    assert_eq!(out[2], 1000.0 * (4.5 / 8388607.0 / 6.0 * 1000000.0));
    assert_eq!(out[9], 0.0, "accel starts at 0");
    d.observe_command(b"x20X").unwrap(); // malformed: nothing changes
    d.decode(&packet(2, [1000; 8], [0; 6], 0xC4), 0.0, &mut out).unwrap();
    assert_eq!(out[24 + 2], 1000.0 * (4.5 / 8388607.0 / 6.0 * 1000000.0));
    d.observe_command(b"d").unwrap();
    d.decode(&packet(3, [1000; 8], [0; 6], 0xC4), 0.0, &mut out).unwrap();
    assert_eq!(out[48 + 2], 1000.0 * SCALE_24);
}

#[test]
fn decoder_resyncs_after_garbage_and_bad_footers_and_counts_them() {
    let mut d = decoder(BoardId::Cyton);
    let mut bytes = vec![0x01, 0x02, 0x03];
    let mut bad = packet(1, [5; 8], [0; 6], 0xC4);
    bad[32] = 0x42;
    bytes.extend(&bad);
    bytes.extend(packet(2, [5; 8], [0; 6], 0xC4));
    let mut out = Vec::new();
    assert_eq!(d.decode(&bytes, 0.0, &mut out).unwrap(), 1);
    assert_eq!(out[0], 2.0);
    let c = d.counters();
    assert_eq!(c.packets, 1);
    assert_eq!(c.invalid_packets, 1);
    // 3 leading bytes, then the bad packet's 32 bytes after its header.
    assert_eq!(c.skipped_bytes, 3 + 32);
}

#[test]
fn packets_split_across_reads_decode_the_same() {
    let options = EmulatorOptions {
        faults: Faults { garbage_every: Some(7), bad_footer_every: Some(11), drop_byte_every: Some(13), stall_after: None },
        ..EmulatorOptions::cyton(5)
    };
    let stream = packet_stream(&options, 500);
    let mut whole = decoder(BoardId::Cyton);
    let mut expected = Vec::new();
    let n = whole.decode(&stream, 1.0, &mut expected).unwrap();
    assert!(n > 400, "only {n} of 500 packets decoded");
    let c = whole.counters();
    assert!(c.invalid_packets > 0 && c.skipped_bytes > 0, "{c:?}");

    let mut chunked = decoder(BoardId::Cyton);
    let mut got = Vec::new();
    for chunk in stream.chunks(5) {
        chunked.decode(chunk, 1.0, &mut got).unwrap();
    }
    assert_eq!(got, expected);
    assert_eq!(chunked.counters(), c);
}

#[test]
fn garbage_never_crashes_the_decoder() {
    let mut d = decoder(BoardId::CytonDaisy);
    let mut state = 0x1234_5678_u64;
    let mut bytes = Vec::new();
    for _ in 0..20_000 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let b = (state >> 56) as u8;
        // Plenty of headers and footers so that many candidate packets start and end.
        bytes.push(match b % 8 {
            0 => 0xA0,
            1 => 0xC0 + b % 7,
            _ => b,
        });
    }
    let mut out = Vec::new();
    d.decode(&bytes, 0.0, &mut out).unwrap();
    assert_eq!(out.len() % 32, 0);
}

#[test]
fn daisy_pairs_even_then_odd_halves_like_brainflow_and_counts_lone_halves() {
    let mut d = decoder(BoardId::CytonDaisy);
    assert_eq!(d.num_rows(), 32);
    d.observe_command(b"xQ010110X").unwrap(); // channel 9 to gain 2
    let mut bytes = Vec::new();
    bytes.extend(packet(2, [20; 8], [0, 3, 0, 0, 0, 0], 0xC1)); // daisy half first
    bytes.extend(packet(3, [10; 8], [0; 6], 0xC4)); // main half completes sample 2
    bytes.extend(packet(4, [0; 8], [0; 6], 0xC4)); // an even half without its odd half
    bytes.extend(packet(6, [30; 8], [0; 6], 0xC4));
    bytes.extend(packet(7, [40; 8], [0; 6], 0xC4));
    bytes.extend(packet(9, [0; 8], [0; 6], 0xC4)); // an odd half whose partner was lost
    bytes.extend(packet(254, [2; 8], [0; 6], 0xC4));
    bytes.extend(packet(255, [1; 8], [0; 6], 0xC4));
    let mut out = Vec::new();
    assert_eq!(d.decode(&bytes, 3.0, &mut out).unwrap(), 3);
    let s = &out[..32];
    assert_eq!(s[0], 2.0);
    assert_eq!(s[1], 10.0 * SCALE_24);
    assert_eq!(s[9], 20.0 * (4.5 / 8388607.0 / 2.0 * 1000000.0));
    assert_eq!(s[10], 20.0 * SCALE_24);
    assert_eq!(s[20], 196.0, "the odd half's footer");
    assert_eq!(&s[21..27], &[0.0, 1.5, 0.0, 0.0, 0.0, 0.0], "the halves' aux bytes averaged");
    assert_eq!(&s[27..30], &[3.0, 0.0, 0.0], "analog set by the even half and held");
    assert_eq!((s[30], s[31]), (3.0, 0.0));
    assert_eq!(out[32], 6.0);
    assert_eq!(out[64], 254.0);
    assert_eq!(d.counters().dropped_samples, 2);
    assert_eq!(d.counters().packets, 8);
}

fn cyton_params(emulator: &Emulator, timeout: i32) -> InputParams {
    InputParams {
        serial_port: emulator.port_path().to_str().unwrap().to_owned(),
        timeout,
        ..InputParams::default()
    }
}

fn wait_for(board: &mut CppBoard, samples: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while board.board_data_count(Preset::Default).unwrap() < samples {
        assert!(Instant::now() < deadline, "no {samples} samples within 30 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Streams `samples` samples from an emulated board and checks them against the C++
/// decoder fed the emulator's exact byte stream.
fn stream_end_to_end(options: EmulatorOptions, board_id: BoardId, samples: usize) -> (CppBoard, Emulator) {
    let emulator = Emulator::start(options.clone()).unwrap();
    let mut board = CppBoard::new(board_id, &cyton_params(&emulator, 3)).unwrap();
    board.prepare_session().unwrap();
    let reply = board.config_board("x1060110X").unwrap();
    assert!(reply.contains("Success"), "{reply:?}");
    board.start_stream(10_000).unwrap();
    board.insert_marker(11.0, Preset::Default).unwrap();
    wait_for(&mut board, samples);
    board.stop_stream().unwrap();
    let mut data = SampleMatrix::new(0);
    board.get_board_data(usize::MAX, Preset::Default, &mut data).unwrap();
    let rows = data.rows();
    let (timestamp_row, marker_row) = (rows - 2, rows - 1);
    assert!(data.samples() >= samples);
    assert_eq!(data.row(marker_row).iter().filter(|m| **m == 11.0).count(), 1);

    // The emulator reads commands on its own thread: wait until it has seen the stop.
    let deadline = Instant::now() + Duration::from_secs(10);
    let commands = loop {
        let commands = emulator.commands_received();
        if commands.ends_with(b"s") || Instant::now() > deadline {
            break commands;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(commands, b"vdx1060110Xbs", "{:?}", String::from_utf8_lossy(&commands));

    // The same bytes through a bare decoder that saw the same commands.
    let mut reference = CppDecoder::new(board_id, &InputParams::default()).unwrap();
    reference.observe_command(b"d").unwrap();
    reference.observe_command(b"x1060110X").unwrap();
    let stream = packet_stream(&options, (emulator.packets_sent() as usize).max(2 * samples + 4));
    let mut expected = Vec::new();
    let decoded = reference.decode(&stream, 0.0, &mut expected).unwrap();
    assert!(decoded >= data.samples());
    for i in 0..data.samples() {
        for row in 0..rows {
            if row != timestamp_row && row != marker_row {
                assert_eq!(data.get(row, i).to_bits(), expected[i * rows + row].to_bits(), "sample {i} row {row}");
            }
        }
        assert!(data.get(timestamp_row, i) > 1.0e9);
    }
    (board, emulator)
}

#[test]
fn cyton_streams_over_a_pty() {
    let (mut board, _emulator) = stream_end_to_end(EmulatorOptions::cyton(21), BoardId::Cyton, 50);
    assert_eq!(board.decode_counters().invalid_packets, 0);
    let registers = board.config_board("?").unwrap();
    assert!(registers.ends_with("$$$"), "{registers:?}");
    board.release_session().unwrap();
}

#[test]
fn cyton_daisy_streams_over_a_pty() {
    let (mut board, _emulator) = stream_end_to_end(EmulatorOptions::daisy(22), BoardId::CytonDaisy, 30);
    assert_eq!(board.descriptor(Preset::Default).unwrap().num_rows, 32);
    board.release_session().unwrap();
}

#[test]
fn board_resyncs_after_faults_on_the_wire() {
    let options = EmulatorOptions {
        faults: Faults { garbage_every: Some(5), bad_footer_every: Some(9), drop_byte_every: Some(13), stall_after: None },
        ..EmulatorOptions::cyton(23)
    };
    let (board, _emulator) = stream_end_to_end(options, BoardId::Cyton, 60);
    let counters = board.decode_counters();
    assert!(counters.invalid_packets > 0, "{counters:?}");
    assert!(counters.skipped_bytes > 0, "{counters:?}");
}

#[test]
fn stalled_board_stops_delivering_but_stop_still_works() {
    let options = EmulatorOptions { faults: Faults { stall_after: Some(20), ..Faults::default() }, ..EmulatorOptions::cyton(24) };
    let emulator = Emulator::start(options).unwrap();
    let mut board = CppBoard::new(BoardId::Cyton, &cyton_params(&emulator, 3)).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(1000).unwrap();
    wait_for(&mut board, 20);
    board.stop_stream().unwrap();
    assert_eq!(board.board_data_count(Preset::Default).unwrap(), 20);
    board.release_session().unwrap();
}

#[test]
fn dropping_a_streaming_board_stops_the_device() {
    let emulator = Emulator::start(EmulatorOptions::cyton(26)).unwrap();
    let mut board = CppBoard::new(BoardId::Cyton, &cyton_params(&emulator, 3)).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(100).unwrap();
    board.insert_marker(1.0, Preset::Default).unwrap();
    drop(board);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !emulator.commands_received().ends_with(b"bs") {
        assert!(Instant::now() < deadline, "no stop command: {:?}", emulator.commands_received());
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn silent_board_is_not_ready_within_the_timeout() {
    let options = EmulatorOptions { answer_handshake: false, ..EmulatorOptions::cyton(25) };
    let emulator = Emulator::start(options).unwrap();
    let mut board = CppBoard::new(BoardId::Cyton, &cyton_params(&emulator, 1)).unwrap();
    let e = board.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReadyError);
    assert!(e.message.contains("'v'"), "{e}");
    assert!(!board.is_prepared());
    assert_eq!(board.start_stream(10).unwrap_err().code, ExitCode::BoardNotCreatedError);
}

#[test]
fn missing_port_is_unable_to_open_and_named() {
    let params = InputParams { serial_port: "/dev/ttyDOES_NOT_EXIST9".into(), ..InputParams::default() };
    for id in [BoardId::Cyton, BoardId::CytonDaisy] {
        let mut board = CppBoard::new(id, &params).unwrap();
        let e = board.prepare_session().unwrap_err();
        assert_eq!(e.code, ExitCode::UnableToOpenPortError);
        assert!(e.message.contains("/dev/ttyDOES_NOT_EXIST9"), "{e}");
    }
}

#[test]
fn decoders_exist_only_for_byte_stream_boards() {
    let e = CppDecoder::new(BoardId::Synthetic, &InputParams::default()).unwrap_err();
    assert_eq!(e.code, ExitCode::UnsupportedBoardError);
}

#[test]
fn cyton_calls_in_the_wrong_order_answer_with_brainflow_codes() {
    let emulator = Emulator::start(EmulatorOptions::cyton(27)).unwrap();
    let mut board = CppBoard::new(BoardId::Cyton, &cyton_params(&emulator, 3)).unwrap();
    let mut out = SampleMatrix::new(24);
    assert_eq!(board.start_stream(10).unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.get_current_board_data(1, Preset::Default, &mut out).unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.config_board("?").unwrap_err().code, ExitCode::BoardNotCreatedError);
    board.prepare_session().unwrap();
    board.prepare_session().unwrap();
    assert_eq!(board.stop_stream().unwrap_err().code, ExitCode::StreamThreadIsNotRunning);
    assert_eq!(board.start_stream(0).unwrap_err().code, ExitCode::InvalidBufferSizeError);
    // BrainFlow's answer between prepare and the first start: there is no buffer yet.
    assert_eq!(board.get_board_data(10, Preset::Default, &mut out).unwrap_err().code, ExitCode::InvalidArgumentsError);
    assert_eq!(board.get_board_data(1, Preset::Auxiliary, &mut out).unwrap_err().code, ExitCode::InvalidArgumentsError);
    board.start_stream(10).unwrap();
    assert_eq!(board.start_stream(10).unwrap_err().code, ExitCode::StreamAlreadyRunError);
    assert_eq!(board.config_board("x1060110X").unwrap(), "", "no reply is read while streaming");
    // Releasing while streaming stops the stream first.
    board.release_session().unwrap();
    assert_eq!(board.release_session().unwrap_err().code, ExitCode::BoardNotCreatedError);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !emulator.commands_received().ends_with(b"bx1060110Xs") {
        assert!(Instant::now() < deadline, "{:?}", String::from_utf8_lossy(&emulator.commands_received()));
        std::thread::sleep(Duration::from_millis(5));
    }
}
