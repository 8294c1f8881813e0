//! Lifecycle and error codes of the C++ boards through the bridge, and the ring buffer.

use std::time::{Duration, Instant};

use board_api::{Board, BoardId, ExitCode, InputParams, Preset, SampleGenerator, SampleMatrix};
use core_cpp::{CppBoard, CppSyntheticGenerator};

fn seeded(seed: u64) -> InputParams {
    InputParams { other_info: format!("seed={seed}"), ..InputParams::default() }
}

/// Polls until `board` holds at least `samples` samples, failing after a generous deadline.
fn wait_for_samples(board: &mut CppBoard, samples: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while board.board_data_count(Preset::Default).unwrap() < samples {
        assert!(Instant::now() < deadline, "no {samples} samples within 20 s");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn calls_in_the_wrong_order_answer_with_brainflow_codes() {
    let mut board = CppBoard::new(BoardId::Synthetic, &seeded(1)).unwrap();
    let mut out = SampleMatrix::new(32);
    assert!(!board.is_prepared());
    assert_eq!(board.start_stream(100).unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.get_board_data(1, Preset::Default, &mut out).unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.board_data_count(Preset::Default).unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.config_board("x").unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.insert_marker(1.0, Preset::Default).unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.stop_stream().unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.release_session().unwrap_err().code, ExitCode::BoardNotCreatedError);

    board.prepare_session().unwrap();
    board.prepare_session().unwrap(); // a second prepare is accepted without effect
    assert!(board.is_prepared());
    assert_eq!(board.stop_stream().unwrap_err().code, ExitCode::StreamThreadIsNotRunning);
    assert_eq!(board.start_stream(0).unwrap_err().code, ExitCode::InvalidBufferSizeError);
    assert_eq!(board.insert_marker(0.0, Preset::Default).unwrap_err().code, ExitCode::InvalidArgumentsError);
    assert_eq!(board.config_board("gain").unwrap(), "Config:gain");
    let e = board.start_stream(usize::MAX).unwrap_err();
    assert_eq!(e.code, ExitCode::InvalidBufferSizeError, "{e}");
    board.start_stream(1000).unwrap();
    assert_eq!(board.start_stream(1000).unwrap_err().code, ExitCode::StreamAlreadyRunError);
    board.stop_stream().unwrap();
    assert_eq!(board.stop_stream().unwrap_err().code, ExitCode::StreamThreadIsNotRunning);
    board.release_session().unwrap();
    assert!(!board.is_prepared());
    assert_eq!(board.release_session().unwrap_err().code, ExitCode::BoardNotCreatedError);
}

#[test]
fn boards_without_a_cpp_twin_are_unsupported() {
    let brainflow_only = BoardId::from_id(7).unwrap();
    for id in [BoardId::Muse2, BoardId::MuseS, BoardId::GanglionNative, BoardId::Ganglion, brainflow_only] {
        let e = CppBoard::new(id, &InputParams::default()).unwrap_err();
        assert_eq!(e.code, ExitCode::UnsupportedBoardError, "{id}");
    }
}

#[test]
fn bad_seed_is_reported_by_prepare() {
    let params = InputParams { other_info: "seed=minus one".into(), ..InputParams::default() };
    let mut board = CppBoard::new(BoardId::Synthetic, &params).unwrap();
    let e = board.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::InvalidArgumentsError);
    assert!(e.message.contains("seed"), "{e}");
    assert_eq!(board.start_stream(10).unwrap_err().code, ExitCode::BoardNotCreatedError);
}

#[test]
fn synthetic_board_streams_the_seeded_signal_and_keeps_data_after_stop() {
    let mut board = CppBoard::new(BoardId::Synthetic, &seeded(42)).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(45_000).unwrap();
    board.insert_marker(7.0, Preset::Default).unwrap();
    wait_for_samples(&mut board, 20);
    board.stop_stream().unwrap();

    let count = board.board_data_count(Preset::Default).unwrap();
    assert!(count >= 20);
    let mut current = SampleMatrix::new(32);
    board.get_current_board_data(5, Preset::Default, &mut current).unwrap();
    assert_eq!(current.samples(), 5);
    assert_eq!(board.board_data_count(Preset::Default).unwrap(), count, "current data removes nothing");

    let mut data = SampleMatrix::new(32);
    board.get_board_data(usize::MAX, Preset::Default, &mut data).unwrap();
    assert_eq!(data.rows(), 32);
    assert_eq!(data.samples(), count);
    assert_eq!(board.board_data_count(Preset::Default).unwrap(), 0);
    // The newest five are the last five of everything.
    for row in 0..32 {
        assert_eq!(current.row(row), &data.row(row)[count - 5..], "row {row}");
    }

    // Same seed, same samples: compare with the bare generator (timestamp and marker aside).
    let mut generator = CppSyntheticGenerator::new(42).unwrap();
    let (mut expected, mut aux) = (Vec::new(), Vec::new());
    generator.generate(count, 0.0, 0.004, &mut expected, &mut aux).unwrap();
    for i in 0..count {
        for row in 0..30 {
            assert_eq!(data.get(row, i).to_bits(), expected[i * 32 + row].to_bits(), "sample {i} row {row}");
        }
        assert_eq!(data.get(0, i), (i % 256) as f64);
    }
    // The marker went into the first sample after it was inserted, and only there.
    let markers: Vec<f64> = data.row(31).iter().copied().filter(|m| *m != 0.0).collect();
    assert_eq!(markers, vec![7.0]);
    // Timestamps advance by one sample period.
    let ts = data.row(30);
    assert!((ts[1] - ts[0] - 0.004).abs() < 1e-6, "{} {}", ts[0], ts[1]);

    let mut aux_data = SampleMatrix::new(20);
    board.get_board_data(usize::MAX, Preset::Auxiliary, &mut aux_data).unwrap();
    assert_eq!(aux_data.rows(), 20);
    assert_eq!(aux_data.samples(), count);
    assert_eq!(aux_data.row(1), data.row(29), "aux battery is default row 29");
    assert_eq!(
        board.get_board_data(1, Preset::Ancillary, &mut aux_data).unwrap_err().code,
        ExitCode::InvalidArgumentsError
    );
    board.release_session().unwrap();
}

#[test]
fn generator_follows_the_written_formula() {
    // Sample 0 of seed 0, channel 1, computed here from docs/board-behaviour.md.
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    let mut state = 0u64;
    let u = (splitmix(&mut state) >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    let amp = 10.0;
    let noise = (((2.0 * u - 1.0) * amp) * (0.1 * 1.0)) / 2.0;
    let expected = amp + ((amp + noise) * std::f64::consts::SQRT_2) * 0.0f64.sin();

    let mut generator = CppSyntheticGenerator::new(0).unwrap();
    let (mut default, mut aux) = (Vec::new(), Vec::new());
    generator.generate(3, 100.0, 0.5, &mut default, &mut aux).unwrap();
    assert_eq!(generator.next_index(), 3);
    assert_eq!(default.len(), 3 * 32);
    assert_eq!(aux.len(), 3 * 20);
    assert_eq!(default[1].to_bits(), expected.to_bits());
    assert_eq!(default[30], 100.0);
    assert_eq!(default[32 + 30], 100.5);
    assert_eq!(default[32], 1.0, "package number of sample 1");
    for s in 0..3 {
        let d = &default[s * 32..(s + 1) * 32];
        let a = &aux[s * 20..(s + 1) * 20];
        assert!((0.8..1.0).contains(&d[17]), "accel {}", d[17]);
        assert!((36.59..36.61).contains(&d[26]), "temperature {}", d[26]);
        assert_eq!(&a[2..5], &d[17..20]);
        assert_eq!(a[1], d[29]);
    }
}

#[test]
fn full_ring_buffer_drops_the_oldest_and_counts_them() {
    let mut board = CppBoard::new(BoardId::Synthetic, &seeded(3)).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(10).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while board.dropped_samples() < 5 {
        assert!(Instant::now() < deadline, "nothing dropped within 20 s");
        board.board_data_count(Preset::Default).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    board.stop_stream().unwrap();
    assert_eq!(board.board_data_count(Preset::Default).unwrap(), 10);
    let dropped = board.dropped_samples();
    let mut data = SampleMatrix::new(32);
    board.get_board_data(100, Preset::Default, &mut data).unwrap();
    assert_eq!(data.samples(), 10);
    // The ten kept are the newest: package numbers continue from the dropped ones.
    for i in 0..10 {
        assert_eq!(data.get(0, i), ((dropped as usize + i) % 256) as f64);
    }
}
