//! Our boards against BrainFlow 5.23's own library, not against each other: the same
//! device (the emulator, in BrainFlow's CI firmware and in strict OpenBCI firmware, from
//! one seed, so every board reads the same bytes) read by BrainFlow's library, by our C++
//! core and by our Rust twin; every decoded value must be BrainFlow's.

mod common;

use board_api::{Board, BoardId, InputParams, Preset, SampleMatrix};
use emulator::{Emulator, EmulatorOptions};
use std::time::{Duration, Instant};

const SAMPLES: usize = 150;

/// Streams `SAMPLES` samples from a fresh emulator with `options` through `board`.
fn stream(options: &EmulatorOptions, make: impl FnOnce(&InputParams) -> Box<dyn Board>) -> (SampleMatrix, Duration) {
    let emulator = Emulator::start(options.clone()).unwrap();
    let params = InputParams { serial_port: emulator.port_path().display().to_string(), ..InputParams::default() };
    let mut board = make(&params);
    let started = Instant::now();
    board.prepare_session().unwrap_or_else(|e| panic!("prepare on {:?} firmware: {e}", options.firmware));
    let prepare_took = started.elapsed();
    board.start_stream(45_000).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while board.board_data_count(Preset::Default).unwrap() < SAMPLES {
        assert!(Instant::now() < deadline, "fewer than {SAMPLES} samples in 20 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut out = SampleMatrix::default();
    board.get_board_data(SAMPLES, Preset::Default, &mut out).unwrap();
    board.stop_stream().unwrap();
    board.release_session().unwrap();
    (out, prepare_took)
}

/// Every row but the timestamp, sample by sample, with the first difference named.
fn assert_same_as_brainflow(who: &str, ours: &SampleMatrix, brainflow: &SampleMatrix, timestamp_row: usize) {
    assert_eq!(ours.rows(), brainflow.rows(), "{who}: rows");
    let n = ours.samples().min(brainflow.samples());
    assert!(n >= SAMPLES, "{who}: {n} samples");
    for row in (0..ours.rows()).filter(|r| *r != timestamp_row) {
        for i in 0..n {
            let (a, b) = (ours.get(row, i), brainflow.get(row, i));
            let close = a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
            assert!(close, "{who}: row {row}, sample {i}: ours {a}, BrainFlow's {b}\nours row: {:?}\nBrainFlow row: {:?}", &ours.row(row)[..n.min(8)], &brainflow.row(row)[..n.min(8)]);
        }
    }
}

fn compare_on(options: EmulatorOptions, board: BoardId) {
    let library = brainflow_legacy::BrainFlowLibrary::load(&common::brainflow::brainflow_library()).unwrap();
    let (theirs, theirs_took) = stream(&options, |p| Box::new(library.board(board, p).unwrap()));
    let (cpp, cpp_took) = stream(&options, |p| Box::new(core_cpp::CppBoard::new(board, p).unwrap()));
    let (rust, rust_took) = stream(&options, |p| rust_boards::create_board(board, p).unwrap());
    let timestamp_row = board_api::descriptor(board, Preset::Default).unwrap().timestamp_channel;
    assert_same_as_brainflow("core_cpp", &cpp, &theirs, timestamp_row);
    assert_same_as_brainflow("rust", &rust, &theirs, timestamp_row);
    // Prepare waits for the answer to `d` no longer than BrainFlow does.
    for (who, took) in [("core_cpp", cpp_took), ("rust", rust_took)] {
        assert!(took < theirs_took + Duration::from_millis(700), "{who} prepared in {took:?}, BrainFlow in {theirs_took:?}");
    }
}

#[test]
fn cyton_on_brainflows_ci_emulator_decodes_as_brainflow_does() {
    compare_on(EmulatorOptions::cyton(21).brainflow_ci(), BoardId::Cyton);
}

#[test]
fn cyton_on_strict_firmware_decodes_as_brainflow_does() {
    compare_on(EmulatorOptions::cyton(22), BoardId::Cyton);
}

#[test]
fn daisy_on_brainflows_ci_emulator_decodes_as_brainflow_does() {
    compare_on(EmulatorOptions::daisy(23).brainflow_ci(), BoardId::CytonDaisy);
}

#[test]
fn daisy_on_strict_firmware_decodes_as_brainflow_does() {
    compare_on(EmulatorOptions::daisy(24), BoardId::CytonDaisy);
}
