//! Parity: the legacy C++ boards and their Rust twins, given the same input (a seed, a CSV
//! file, a byte stream), produce the same samples, bit for bit, in every row but the
//! timestamp (each side stamps its own clock).

mod common;

use common::InFlightDevice;
use board_api::{
    Board, BoardId, DecodeCounters, ExitCode, InputParams, Preset, SampleGenerator, SampleMatrix, StreamDecoder,
};
use core_cpp::{CppBoard, CppDecoder, CppSyntheticGenerator};
use emulator::{packet_stream, Emulator, EmulatorOptions, Faults};
use rust_boards::{CytonDecoder, PlaybackDecoder, SyntheticGenerator};
use std::io::Write;
use std::time::{Duration, Instant};

/// Asserts two sample-major buffers are equal bit for bit, except `skip_row`.
fn assert_same_samples(what: &str, rows: usize, cpp: &[f64], rust: &[f64], skip_row: Option<usize>) {
    assert_eq!(cpp.len(), rust.len(), "{what}: C++ gave {} values, Rust {}", cpp.len(), rust.len());
    for (i, (c, r)) in cpp.chunks(rows).zip(rust.chunks(rows)).enumerate() {
        for row in 0..rows {
            if Some(row) == skip_row {
                continue;
            }
            assert_eq!(
                c[row].to_bits(),
                r[row].to_bits(),
                "{what}: sample {i} row {row}: C++ {} vs Rust {}",
                c[row],
                r[row]
            );
        }
    }
}

/// Asserts two row-major matrices agree on their first `samples` samples, every row but
/// `skip_rows`.
fn assert_same_matrix_prefix(what: &str, cpp: &SampleMatrix, rust: &SampleMatrix, samples: usize, skip_rows: &[usize]) {
    assert_eq!(cpp.rows(), rust.rows(), "{what}: row counts differ");
    for row in (0..cpp.rows()).filter(|r| !skip_rows.contains(r)) {
        for i in 0..samples {
            assert_eq!(
                cpp.get(row, i).to_bits(),
                rust.get(row, i).to_bits(),
                "{what}: sample {i} row {row}: C++ {} vs Rust {}",
                cpp.get(row, i),
                rust.get(row, i)
            );
        }
    }
}

// ---------------------------------------------------------------- synthetic

#[test]
fn synthetic_generators_agree_bit_for_bit_over_10000_samples() {
    for seed in [0u64, 1, 42, 0xDEAD_BEEF, u64::MAX] {
        let mut cpp = CppSyntheticGenerator::new(seed).unwrap();
        let mut rust = SyntheticGenerator::new(seed);
        let (mut cd, mut ca, mut rd, mut ra) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // Uneven batches, as reads after irregular pauses would ask for them.
        let mut produced = 0;
        for batch in [1usize, 7, 250, 1000, 3, 2739].iter().cycle() {
            if produced >= 10_000 {
                break;
            }
            let n = (*batch).min(10_000 - produced);
            let first = 1_700_000_000.0 + produced as f64 / 250.0;
            cpp.generate(n, first, 0.004, &mut cd, &mut ca).unwrap();
            rust.generate(n, first, 0.004, &mut rd, &mut ra).unwrap();
            produced += n;
        }
        assert_eq!(cpp.next_index(), 10_000);
        assert_eq!(rust.next_index(), 10_000);
        assert_same_samples(&format!("seed {seed} default"), 32, &cd, &rd, Some(30));
        assert_same_samples(&format!("seed {seed} auxiliary"), 20, &ca, &ra, Some(18));
        // The check can fail: another seed gives other samples.
        let mut other = SyntheticGenerator::new(seed ^ 1);
        let (mut od, mut oa) = (Vec::new(), Vec::new());
        other.generate(1, 0.0, 0.0, &mut od, &mut oa).unwrap();
        assert_ne!(od[2].to_bits(), rd[2].to_bits(), "row 2 of sample 0 depends on the seed");
    }
}

#[test]
fn either_generator_continues_the_others_signal_from_its_state() {
    // A move between paths hands the generator's state over: the samples after it must be
    // the ones the first generator would have produced, bit for bit, both ways round.
    let seed = 0x5EED_u64;
    let mut whole = SyntheticGenerator::new(seed);
    let (mut wd, mut wa) = (Vec::new(), Vec::new());
    whole.generate(3_000, 0.0, 0.004, &mut wd, &mut wa).unwrap();

    let mut rust = SyntheticGenerator::new(seed);
    let (mut d, mut a) = (Vec::new(), Vec::new());
    rust.generate(1_234, 0.0, 0.004, &mut d, &mut a).unwrap();
    let mut cpp = CppSyntheticGenerator::resume(rust.state()).unwrap();
    assert_eq!(cpp.next_index(), 1_234);
    cpp.generate(1_000, 1_234.0 * 0.004, 0.004, &mut d, &mut a).unwrap();
    let mut back = SyntheticGenerator::resume(cpp.state());
    back.generate(766, 2_234.0 * 0.004, 0.004, &mut d, &mut a).unwrap();
    assert_eq!(back.next_index(), 3_000);
    assert_same_samples("Rust, then C++, then Rust", 32, &wd, &d, Some(30));
    assert_same_samples("auxiliary across the hand-overs", 20, &wa, &a, Some(18));
    // A fresh generator at the same index is not the same signal: the state is what carries it.
    let mut fresh = CppSyntheticGenerator::new(seed).unwrap();
    let (mut fd, mut fa) = (Vec::new(), Vec::new());
    fresh.generate(1, 0.0, 0.004, &mut fd, &mut fa).unwrap();
    assert_ne!(fd[1].to_bits(), wd[1_234 * 32 + 1].to_bits());
}

/// Waits until both boards hold at least `n` samples of `preset`, failing after 10 s.
fn wait_for_both(cpp: &mut dyn Board, rust: &mut dyn Board, n: usize, preset: Preset) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = cpp.board_data_count(preset).unwrap();
        let r = rust.board_data_count(preset).unwrap();
        if c >= n && r >= n {
            return;
        }
        assert!(Instant::now() < deadline, "after 10 s C++ holds {c} samples and Rust {r}, wanted {n}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn synthetic_boards_agree_on_both_presets() {
    let params = InputParams { other_info: "seed=2024".into(), ..Default::default() };
    let mut cpp: Box<dyn Board> = Box::new(CppBoard::new(BoardId::Synthetic, &params).unwrap());
    let mut rust = rust_boards::create_board(BoardId::Synthetic, &params).unwrap();
    for b in [&mut cpp, &mut rust] {
        b.prepare_session().unwrap();
        b.start_stream(10_000).unwrap();
    }
    wait_for_both(cpp.as_mut(), rust.as_mut(), 60, Preset::Default);
    for b in [&mut cpp, &mut rust] {
        b.stop_stream().unwrap();
        assert_eq!(b.config_board("gain").unwrap(), "Config:gain");
    }
    for (preset, skip) in [(Preset::Default, vec![30]), (Preset::Auxiliary, vec![18])] {
        let (mut c, mut r) = (SampleMatrix::new(0), SampleMatrix::new(0));
        cpp.get_board_data(usize::MAX, preset, &mut c).unwrap();
        rust.get_board_data(usize::MAX, preset, &mut r).unwrap();
        let n = c.samples().min(r.samples());
        assert!(n >= 60);
        assert_same_matrix_prefix(&format!("synthetic {preset:?}"), &c, &r, n, &skip);
    }
    for b in [&mut cpp, &mut rust] {
        b.release_session().unwrap();
    }
}

// ---------------------------------------------------------------- call order and bad input

/// Runs the same calls on both boards and requires the same outcome code for each.
fn same_codes(board: BoardId, params: &InputParams) {
    let mut cpp: Box<dyn Board> = Box::new(CppBoard::new(board, params).unwrap());
    let mut rust = rust_boards::create_board(board, params).unwrap();
    type Call = fn(&mut dyn Board) -> Result<(), board_api::BoardError>;
    let calls: Vec<(&str, Call)> = vec![
        ("count before prepare", |b| b.board_data_count(Preset::Default).map(|_| ())),
        ("start before prepare", |b| b.start_stream(100)),
        ("stop before prepare", |b| b.stop_stream()),
        ("release before prepare", |b| b.release_session()),
        ("marker before prepare", |b| b.insert_marker(1.0, Preset::Default)),
        ("get before prepare", |b| b.get_board_data(1, Preset::Default, &mut SampleMatrix::new(0))),
        ("prepare", |b| b.prepare_session()),
        ("prepare again", |b| b.prepare_session()),
        ("count before start", |b| b.board_data_count(Preset::Default).map(|_| ())),
        ("stop before start", |b| b.stop_stream()),
        ("zero buffer", |b| b.start_stream(0)),
        ("zero marker", |b| b.insert_marker(0.0, Preset::Default)),
        ("missing preset", |b| b.insert_marker(1.0, Preset::Ancillary)),
        ("impossible buffer", |b| b.start_stream(usize::MAX / 64)),
        ("start", |b| b.start_stream(100)),
        ("start twice", |b| b.start_stream(100)),
        ("stop", |b| b.stop_stream()),
        ("read after stop", |b| b.get_board_data(10, Preset::Default, &mut SampleMatrix::new(0))),
        ("release", |b| b.release_session()),
        ("release twice", |b| b.release_session()),
    ];
    for (what, call) in calls {
        let c = call(cpp.as_mut()).map_err(|e| e.code);
        let r = call(rust.as_mut()).map_err(|e| e.code);
        assert_eq!(c, r, "{board}: {what}: C++ {c:?} vs Rust {r:?}");
    }
}

#[test]
fn wrong_call_order_gives_the_same_codes() {
    same_codes(BoardId::Synthetic, &InputParams { other_info: "seed=1".into(), ..Default::default() });
    let file = csv_file(&cyton_recording(5));
    same_codes(BoardId::PlaybackFile, &playback_params(&file));
    let emu_c = Emulator::start(EmulatorOptions::cyton(1)).unwrap();
    same_codes(BoardId::Cyton, &serial_params(&emu_c));
}

#[test]
fn bad_playback_files_fail_the_same_way() {
    let good = cyton_recording(3);
    let mut cases: Vec<(&str, String, Option<&str>)> = vec![
        ("empty", String::new(), None),
        ("short line", format!("{good}1\t2\t3\n"), Some("line 4")),
        ("extra column", good.replacen('\t', "\tabc\t", 1), Some("line 1")),
    ];
    // A file where line 2 column 3 is not a number.
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    let mut cells: Vec<&str> = lines[1].split('\t').collect();
    cells[2] = "1.2.3";
    lines[1] = cells.join("\t");
    cases.push(("non-numeric", lines.join("\n") + "\n", Some("line 2")));
    for (what, text, needle) in cases {
        let file = csv_file(&text);
        let params = playback_params(&file);
        let c = CppBoard::new(BoardId::PlaybackFile, &params).unwrap().prepare_session().unwrap_err();
        let r = rust_boards::create_board(BoardId::PlaybackFile, &params).unwrap().prepare_session().unwrap_err();
        assert_eq!(c.code, r.code, "{what}: C++ {c} vs Rust {r}");
        assert_eq!(r.code, ExitCode::InvalidArgumentsError, "{what}: {r}");
        if let Some(needle) = needle {
            assert!(c.message.contains(needle), "{what}: C++ says {c}");
            assert!(r.message.contains(needle), "{what}: Rust says {r}");
        }
    }
    let missing = InputParams { file: "/nonexistent/recording.csv".into(), master_board: 0, ..Default::default() };
    for e in [
        CppBoard::new(BoardId::PlaybackFile, &missing).unwrap().prepare_session().unwrap_err(),
        rust_boards::create_board(BoardId::PlaybackFile, &missing).unwrap().prepare_session().unwrap_err(),
    ] {
        assert_eq!(e.code, ExitCode::UnableToOpenPortError, "{e}");
        assert!(e.message.contains("/nonexistent/recording.csv"), "{e}");
    }
}

#[test]
fn missing_serial_port_fails_the_same_way() {
    let params = InputParams { serial_port: "/dev/no-such-tty-9".into(), ..Default::default() };
    for board in [BoardId::Cyton, BoardId::CytonDaisy] {
        let c = CppBoard::new(board, &params).unwrap().prepare_session().unwrap_err();
        let r = rust_boards::create_board(board, &params).unwrap().prepare_session().unwrap_err();
        assert_eq!(c.code, ExitCode::UnableToOpenPortError, "{c}");
        assert_eq!(r.code, ExitCode::UnableToOpenPortError, "{r}");
        assert!(c.message.contains("/dev/no-such-tty-9") && r.message.contains("/dev/no-such-tty-9"));
    }
}

#[test]
fn silent_board_is_not_ready_on_both_sides() {
    let emu = Emulator::start(EmulatorOptions { answer_handshake: false, ..Default::default() }).unwrap();
    let params = InputParams { timeout: 1, ..serial_params(&emu) };
    let c = CppBoard::new(BoardId::Cyton, &params).unwrap().prepare_session().unwrap_err();
    let r = rust_boards::create_board(BoardId::Cyton, &params).unwrap().prepare_session().unwrap_err();
    assert_eq!(c.code, ExitCode::BoardNotReadyError, "{c}");
    assert_eq!(r.code, ExitCode::BoardNotReadyError, "{r}");
}

// ---------------------------------------------------------------- playback

/// A Cyton-layout recording: what the Rust decoder makes of the emulator's stream, with
/// the timestamp and marker rows filled in as a real recording has them.
fn cyton_recording(samples: usize) -> String {
    let mut d = CytonDecoder::cyton();
    let mut values = Vec::new();
    d.decode(&packet_stream(&EmulatorOptions::cyton(77), samples), 0.0, &mut values).unwrap();
    let mut text = String::new();
    for (i, s) in values.chunks(24).enumerate() {
        let mut s = s.to_vec();
        s[22] = 1_700_000_000.123456 + i as f64 / 250.0;
        s[23] = if i % 17 == 5 { 2.0 } else { 0.0 };
        let line: Vec<String> = s.iter().map(|v| format!("{v}")).collect();
        text.push_str(&line.join("\t"));
        text.push('\n');
    }
    text
}

fn csv_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn playback_params(file: &tempfile::NamedTempFile) -> InputParams {
    InputParams { file: file.path().to_str().unwrap().into(), master_board: BoardId::Cyton.id(), ..Default::default() }
}

#[test]
fn playback_boards_serve_the_same_samples_and_loop_alike() {
    let file = csv_file(&cyton_recording(40));
    let params = playback_params(&file);
    let mut cpp: Box<dyn Board> = Box::new(CppBoard::new(BoardId::PlaybackFile, &params).unwrap());
    let mut rust = rust_boards::create_board(BoardId::PlaybackFile, &params).unwrap();
    for b in [&mut cpp, &mut rust] {
        b.prepare_session().unwrap();
        assert_eq!(b.descriptor(Preset::Default).unwrap().num_rows, 24);
        b.config_board("loopback_true").unwrap();
        assert_eq!(b.config_board("rewind").unwrap_err().code, ExitCode::InvalidArgumentsError);
        b.start_stream(1000).unwrap();
    }
    // 100 samples from a 40-line file: the loop must come around twice.
    wait_for_both(cpp.as_mut(), rust.as_mut(), 100, Preset::Default);
    for b in [&mut cpp, &mut rust] {
        b.stop_stream().unwrap();
    }
    let (mut c, mut r) = (SampleMatrix::new(0), SampleMatrix::new(0));
    cpp.get_board_data(usize::MAX, Preset::Default, &mut c).unwrap();
    rust.get_board_data(usize::MAX, Preset::Default, &mut r).unwrap();
    let n = c.samples().min(r.samples());
    assert_same_matrix_prefix("playback", &c, &r, n, &[22]);
    assert_eq!(r.row(0)[40], r.row(0)[0], "looped back to line 1");
}

#[test]
fn playback_decoders_agree_on_chunked_bytes() {
    let mut text = cyton_recording(30);
    text.push_str("not\ta\tsample\n");
    text.push_str(&cyton_recording(5));
    let params = InputParams { master_board: 0, ..Default::default() };
    let mut cpp = CppDecoder::new(BoardId::PlaybackFile, &params).unwrap();
    let mut rust = PlaybackDecoder::new(&params).unwrap();
    let (mut co, mut ro) = (Vec::new(), Vec::new());
    for (k, chunk) in text.as_bytes().chunks(97).enumerate() {
        let c = cpp.decode(chunk, k as f64, &mut co).unwrap();
        let r = rust.decode(chunk, k as f64, &mut ro).unwrap();
        assert_eq!(c, r, "chunk {k}");
    }
    assert_eq!(ro.len(), 35 * 24);
    assert_same_samples("playback decoder", 24, &co, &ro, None);
    assert_eq!(cpp.counters(), rust.counters());
    assert_eq!(rust.counters().invalid_packets, 1);
}

#[test]
fn playback_decoders_skip_blank_lines_alike() {
    // Blank lines and CRLF endings, as editors and other tools leave them.
    let text = format!("\n{}\r\n\n\r\n{}", cyton_recording(3).replace('\n', "\r\n"), cyton_recording(2));
    let params = InputParams { master_board: 0, ..Default::default() };
    let mut cpp = CppDecoder::new(BoardId::PlaybackFile, &params).unwrap();
    let mut rust = PlaybackDecoder::new(&params).unwrap();
    let (mut co, mut ro) = (Vec::new(), Vec::new());
    cpp.decode(text.as_bytes(), 1.0, &mut co).unwrap();
    rust.decode(text.as_bytes(), 1.0, &mut ro).unwrap();
    assert_eq!(ro.len(), 5 * 24, "five samples, blank lines skipped");
    assert_same_samples("playback decoder with blank lines", 24, &co, &ro, None);
    assert_eq!(cpp.counters(), rust.counters());
    assert_eq!(rust.counters().invalid_packets, 0);
}

// ---------------------------------------------------------------- Cyton / Daisy decoders

fn decoders(daisy: bool) -> (CppDecoder, CytonDecoder) {
    let id = if daisy { BoardId::CytonDaisy } else { BoardId::Cyton };
    let cpp = CppDecoder::new(id, &InputParams::default()).unwrap();
    let rust = if daisy { CytonDecoder::daisy() } else { CytonDecoder::cyton() };
    (cpp, rust)
}

/// Feeds `bytes` to both decoders in chunks of the given sizes (cycled), observing
/// `commands[k]` before chunk `k` where given; requires the same samples and counters.
fn decode_both(daisy: bool, bytes: &[u8], chunk_sizes: &[usize], commands: &[(usize, &[u8])]) -> (Vec<f64>, DecodeCounters) {
    let (mut cpp, mut rust) = decoders(daisy);
    let rows = rust.num_rows();
    assert_eq!(cpp.num_rows(), rows);
    let (mut co, mut ro) = (Vec::new(), Vec::new());
    let mut offset = 0;
    let mut k = 0;
    while offset < bytes.len() {
        for (at, command) in commands {
            if *at == k {
                cpp.observe_command(command).unwrap();
                rust.observe_command(command).unwrap();
            }
        }
        let size = chunk_sizes[k % chunk_sizes.len()].max(1);
        let chunk = &bytes[offset..(offset + size).min(bytes.len())];
        let c = cpp.decode(chunk, 100.0 + k as f64, &mut co).unwrap();
        let r = rust.decode(chunk, 100.0 + k as f64, &mut ro).unwrap();
        assert_eq!(c, r, "chunk {k}: C++ emitted {c} samples, Rust {r}");
        assert_eq!(cpp.counters(), rust.counters(), "counters after chunk {k}");
        offset += size;
        k += 1;
    }
    assert_same_samples(if daisy { "daisy decoder" } else { "cyton decoder" }, rows, &co, &ro, None);
    (ro, rust.counters())
}

#[test]
fn cyton_and_daisy_decoders_agree_on_clean_streams() {
    for daisy in [false, true] {
        let options = EmulatorOptions { daisy, ..EmulatorOptions::cyton(5) };
        let bytes = packet_stream(&options, 1000);
        let (out, counters) = decode_both(daisy, &bytes, &[33], &[]);
        let expected = if daisy { 500 } else { 1000 };
        assert_eq!(out.len(), expected * if daisy { 32 } else { 24 });
        assert_eq!(counters, DecodeCounters { packets: 1000, ..Default::default() });
        // Odd chunking must not change anything.
        decode_both(daisy, &bytes, &[1, 5, 32, 34, 100, 7], &[]);
    }
}

#[test]
fn decoders_agree_on_faulty_streams_and_count_the_damage() {
    for daisy in [false, true] {
        let options = EmulatorOptions {
            daisy,
            seed: 9,
            faults: Faults { garbage_every: Some(5), bad_footer_every: Some(9), drop_byte_every: Some(13), stall_after: None },
            answer_handshake: true,
            firmware: emulator::Firmware::OpenBci,
        };
        let bytes = packet_stream(&options, 2000);
        let (_, counters) = decode_both(daisy, &bytes, &[64, 3, 500, 33], &[]);
        assert!(counters.invalid_packets > 0, "{counters:?}");
        assert!(counters.skipped_bytes > 0, "{counters:?}");
        assert!(counters.packets < 2000, "{counters:?}");
        if daisy {
            assert!(counters.dropped_samples > 0, "{counters:?}");
        }
    }
}

#[test]
fn decoders_track_the_same_gains() {
    let commands: Vec<(usize, &[u8])> = vec![
        (0, b"d"),
        (3, b"x1000000Xx2010000X"),
        (7, b"x8060110X"),
        (10, b"xQ030000XxI040000X"), // daisy channels 9 and 16 (ignored by a Cyton)
        (14, b"x3090000X"),          // gain code 9 does not exist
        (18, b"x4050000"),           // no closing X
        (22, b"d"),
        (25, b"?x5020000X"),
    ];
    for daisy in [false, true] {
        let options = EmulatorOptions { daisy, ..EmulatorOptions::cyton(21) };
        // Chunks of two packets keep every Daisy pair inside one chunk, so a gain change
        // never falls between the halves of one sample.
        let bytes = packet_stream(&options, 60);
        let (with_gains, _) = decode_both(daisy, &bytes, &[66], &commands);
        let (plain, _) = decode_both(daisy, &bytes, &[66], &[]);
        assert_eq!(with_gains.len(), plain.len());
        assert_ne!(with_gains, plain, "the gain commands changed nothing");
    }
}

// ---------------------------------------------------------------- both boards over a pty

fn serial_params(emu: &Emulator) -> InputParams {
    InputParams { serial_port: emu.port_path().to_str().unwrap().into(), timeout: 2, ..Default::default() }
}

/// Streams a finite emulated stream through one board and returns all its samples.
fn stream_through(board: &mut dyn Board, samples: usize) -> SampleMatrix {
    board.prepare_session().unwrap();
    let reply = board.config_board("x2040110X").unwrap();
    assert!(reply.contains("Success"), "{reply}");
    board.start_stream(10_000).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while board.board_data_count(Preset::Default).unwrap() < samples {
        assert!(Instant::now() < deadline, "{}: fewer than {samples} samples after 10 s", board.board_id());
        std::thread::sleep(Duration::from_millis(10));
    }
    board.stop_stream().unwrap();
    let mut out = SampleMatrix::new(0);
    board.get_board_data(usize::MAX, Preset::Default, &mut out).unwrap();
    board.release_session().unwrap();
    out
}

#[test]
fn both_cyton_boards_stream_the_same_samples_through_the_emulator() {
    for daisy in [false, true] {
        let id = if daisy { BoardId::CytonDaisy } else { BoardId::Cyton };
        let packets: u64 = if daisy { 160 } else { 80 };
        let options = EmulatorOptions {
            daisy,
            seed: 4,
            faults: Faults { stall_after: Some(packets), garbage_every: Some(10), ..Faults::default() },
            answer_handshake: true,
            firmware: emulator::Firmware::OpenBci,
        };
        let cpp_emu = Emulator::start(options.clone()).unwrap();
        let rust_emu = Emulator::start(options.clone()).unwrap();
        let mut cpp = CppBoard::new(id, &serial_params(&cpp_emu)).unwrap();
        let mut rust = rust_boards::create_board(id, &serial_params(&rust_emu)).unwrap();
        let c = stream_through(&mut cpp, 80);
        let r = stream_through(rust.as_mut(), 80);
        assert_eq!(c.samples(), 80, "{id}: C++ got every sample");
        assert_eq!(r.samples(), 80, "{id}: Rust got every sample");
        let ts = if daisy { 30 } else { 22 };
        assert_same_matrix_prefix(&format!("{id} over a pty"), &c, &r, 80, &[ts]);
        assert_eq!(cpp_emu.commands_received(), rust_emu.commands_received(), "{id}: same conversation");
    }
}

// ---------------------------------------------------------------- Cyton stop: in-flight packets

/// Samples a board holds after `stop_stream`, and how many it held when stop was called.
struct Stopped {
    samples: SampleMatrix,
    before_stop: usize,
}

/// Streams through `board` until it holds `before_stop` samples, stops it, and takes
/// everything it then holds.
fn stream_then_stop(board: &mut dyn Board, before_stop: usize) -> Stopped {
    board.prepare_session().unwrap();
    board.start_stream(10_000).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let held = board.board_data_count(Preset::Default).unwrap();
        if held >= before_stop {
            break;
        }
        assert!(Instant::now() < deadline, "{}: {held} of {before_stop} samples after 10 s", board.board_id());
        std::thread::sleep(Duration::from_millis(5));
    }
    let before_stop = board.board_data_count(Preset::Default).unwrap();
    board.stop_stream().unwrap();
    let mut samples = SampleMatrix::new(0);
    board.get_board_data(usize::MAX, Preset::Default, &mut samples).unwrap();
    board.release_session().unwrap();
    Stopped { samples, before_stop }
}

/// Spec (Cyton and Daisy, stop): packets the board sent before it saw `s` are delivered.
#[test]
fn both_cyton_boards_keep_the_packets_in_flight_at_stop() {
    for daisy in [false, true] {
        let id = if daisy { BoardId::CytonDaisy } else { BoardId::Cyton };
        let options = EmulatorOptions { daisy, ..EmulatorOptions::cyton(12) };
        let (before_stop, in_flight) = (40, 12); // packets; even, so Daisy pairs stay whole
        let per_sample = if daisy { 2 } else { 1 };
        let expected = (before_stop + in_flight) / per_sample;

        let cpp_device = InFlightDevice::start(&options, before_stop, in_flight);
        let mut cpp = CppBoard::new(id, &cpp_device.params()).unwrap();
        let c = stream_then_stop(&mut cpp, before_stop / per_sample);
        let rust_device = InFlightDevice::start(&options, before_stop, in_flight);
        let mut rust = rust_boards::create_board(id, &rust_device.params()).unwrap();
        let r = stream_then_stop(rust.as_mut(), before_stop / per_sample);

        assert_eq!(c.before_stop, before_stop / per_sample, "{id}: C++ held what was sent before stop");
        assert_eq!(r.before_stop, before_stop / per_sample, "{id}: Rust held what was sent before stop");
        assert_eq!(c.samples.samples(), expected, "{id}: C++ kept the {in_flight} packets in flight at stop");
        assert_eq!(r.samples.samples(), expected, "{id}: Rust kept the {in_flight} packets in flight at stop");
        let ts = if daisy { 30 } else { 22 };
        assert_same_matrix_prefix(&format!("{id} stop with packets in flight"), &c.samples, &r.samples, expected, &[ts]);
        // Nothing lost or reordered: the sample numbers run on through the stop.
        let first_number = r.samples.get(0, 0);
        for i in 0..expected {
            let number = (first_number as usize + i * per_sample) % 256;
            assert_eq!(r.samples.get(0, i), number as f64, "{id}: sample {i}'s number");
        }
    }
}

/// Spec (Cyton, stop) on the emulator: every packet it queued before it read `s` reaches
/// the user on both sides, and the two sides agree on them.
#[test]
fn both_cyton_boards_deliver_every_packet_the_emulator_sent_before_stop() {
    let options = EmulatorOptions::cyton(31);
    let mut results = Vec::new();
    for cpp_side in [true, false] {
        let emu = Emulator::start(options.clone()).unwrap();
        let mut board: Box<dyn Board> = if cpp_side {
            Box::new(CppBoard::new(BoardId::Cyton, &serial_params(&emu)).unwrap())
        } else {
            rust_boards::create_board(BoardId::Cyton, &serial_params(&emu)).unwrap()
        };
        let stopped = stream_then_stop(board.as_mut(), 50);
        // Once the emulator has read `s` it queues nothing more.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !emu.commands_received().ends_with(b"s") {
            assert!(Instant::now() < deadline, "the emulator never read s: {:?}", emu.commands_received());
            std::thread::sleep(Duration::from_millis(5));
        }
        let sent = emu.packets_sent() as usize;
        let side = if cpp_side { "C++" } else { "Rust" };
        assert_eq!(stopped.samples.samples(), sent, "{side}: every packet sent before s is a sample");
        assert!(stopped.samples.samples() >= stopped.before_stop);
        results.push(stopped.samples);
    }
    let n = results[0].samples().min(results[1].samples());
    assert_same_matrix_prefix("Cyton stopped on the emulator", &results[0], &results[1], n, &[22]);
}

/// A device that goes away while streaming is reported by both sides, never silent, and
/// what arrived before stays readable.
#[test]
fn both_cyton_boards_report_an_unplugged_device() {
    for side in ["C++", "Rust"] {
        let emu = Emulator::start(EmulatorOptions::cyton(5)).unwrap();
        let params = serial_params(&emu);
        let mut board: Box<dyn Board> = if side == "C++" {
            Box::new(CppBoard::new(BoardId::Cyton, &params).unwrap())
        } else {
            rust_boards::create_board(BoardId::Cyton, &params).unwrap()
        };
        board.prepare_session().unwrap();
        board.start_stream(1000).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while board.board_data_count(Preset::Default).unwrap() < 10 {
            assert!(Instant::now() < deadline, "{side}: no samples");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(board.stream_failure(), None, "{side}: healthy");
        drop(emu); // closes the pty: the device is gone
        let deadline = Instant::now() + Duration::from_secs(10);
        let failure = loop {
            if let Some(failure) = board.stream_failure() {
                break failure;
            }
            assert!(Instant::now() < deadline, "{side}: a dead device went unnoticed");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(failure.contains("serial"), "{side}: {failure}");
        assert!(board.board_data_count(Preset::Default).unwrap() >= 10, "{side}: what arrived is kept");
        let _ = board.stop_stream();
        let _ = board.release_session();
    }
}
