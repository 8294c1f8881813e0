//! The backend against BrainFlow 5.23's own library, from the PyPI package (installed
//! into a virtual environment by `scripts/brainflow-venv.sh`): loading and its refusals,
//! and a synthetic session through BrainFlow's C API with BrainFlow's own answers.

use board_api::{Board, BoardId, ExitCode, InputParams, Preset, SampleMatrix};
use brainflow_legacy::{BrainFlowLibrary, LoadError};
use std::path::Path;

mod support;
use support::brainflow_library;
use std::time::{Duration, Instant};

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn loads_brainflow_and_reports_its_version() {
    let library = BrainFlowLibrary::load(&brainflow_library()).expect("BrainFlow's library loads");
    assert_eq!(library.version(), "5.23.0");
    // Loading again is fine (one library, shared).
    assert_eq!(BrainFlowLibrary::load(&brainflow_library()).unwrap().version(), "5.23.0");
}

#[test]
fn refuses_what_is_not_brainflow_naming_the_path() {
    let missing = Path::new("/nonexistent/libBoardController.so");
    let e = BrainFlowLibrary::load(missing).unwrap_err();
    assert_eq!(e, LoadError::NotFound { path: missing.to_owned() });
    assert!(e.to_string().contains("/nonexistent/libBoardController.so: no such file"), "{e}");

    // A real shared library that is not BrainFlow's: BrainFlow's own data-handler library.
    let other = brainflow_library().with_file_name("libDataHandler.so");
    let e = BrainFlowLibrary::load(&other).unwrap_err();
    assert!(matches!(e, LoadError::NotBrainFlow { missing: "prepare_session", .. }), "{e}");
    assert!(e.to_string().contains("libDataHandler.so: not BrainFlow's board controller"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("libBoardController.so");
    std::fs::write(&junk, b"not an ELF file").unwrap();
    let e = BrainFlowLibrary::load(&junk).unwrap_err();
    assert!(matches!(e, LoadError::Open { .. }), "{e}");
}

fn synthetic(library: &std::sync::Arc<BrainFlowLibrary>, tag: &str) -> brainflow_legacy::BrainFlowBoard {
    // BrainFlow tells sessions apart by (board id, params): each test uses its own.
    let params = InputParams { other_info: tag.into(), ..InputParams::default() };
    library.board(BoardId::Synthetic, &params).unwrap()
}

#[test]
fn a_synthetic_session_streams_through_brainflow() {
    let library = BrainFlowLibrary::load(&brainflow_library()).unwrap();
    let mut board = synthetic(&library, "stream");
    let mut out = SampleMatrix::default();

    // Before prepare: BrainFlow's own "not created".
    let e = board.board_data_count(Preset::Default).unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotCreatedError, "{e}");

    board.prepare_session().unwrap();
    assert!(board.is_prepared());
    // The same (board, params) twice is BrainFlow's ANOTHER_BOARD_IS_CREATED.
    let mut twin = synthetic(&library, "stream");
    assert_eq!(twin.prepare_session().unwrap_err().code, ExitCode::AnotherBoardIsCreatedError);
    drop(twin); // it never prepared, so dropping it leaves ours alone
    assert!(board.is_prepared());

    assert_eq!(board.config_board("x").unwrap(), "Config:x");
    board.start_stream(45_000).unwrap();
    board.insert_marker(7.0, Preset::Default).unwrap();
    wait_until("50 samples", || board.board_data_count(Preset::Default).unwrap() >= 50);

    board.get_current_board_data(10, Preset::Default, &mut out).unwrap();
    assert_eq!((out.rows(), out.samples()), (32, 10));
    board.get_board_data(20, Preset::Default, &mut out).unwrap();
    assert_eq!((out.rows(), out.samples()), (32, 20));
    // Package numbers count up by one (mod 256); the marker landed in one sample, the first
    // BrainFlow's thread made after the call (which thread runs first after start_stream is
    // the scheduler's choice, so that may be the first sample or one of the next few).
    let packages = out.row(0);
    assert!(packages.windows(2).all(|w| (w[1] - w[0]).rem_euclid(256.0) == 1.0), "{packages:?}");
    let marked: Vec<usize> = (0..out.samples()).filter(|i| out.get(31, *i) != 0.0).collect();
    assert!(marked.len() == 1 && marked[0] < 10 && out.get(31, marked[0]) == 7.0, "marker row: {:?}", out.row(31));
    // The timestamp row is Unix seconds.
    assert!(out.get(30, 0) > 1.7e9, "{}", out.get(30, 0));

    // More than the buffer holds: what there is.
    board.get_current_board_data(1_000_000, Preset::Default, &mut out).unwrap();
    assert!(out.samples() >= 30 && out.samples() < 1_000_000, "{}", out.samples());

    board.stop_stream().unwrap();
    board.release_session().unwrap();
    assert!(!board.is_prepared());
    assert_eq!(board.release_session().unwrap_err().code, ExitCode::BoardNotCreatedError);
}

#[test]
fn dropping_a_prepared_board_releases_it_in_brainflow() {
    let library = BrainFlowLibrary::load(&brainflow_library()).unwrap();
    {
        let mut board = synthetic(&library, "drop");
        board.prepare_session().unwrap();
    }
    // Released: the same params prepare again.
    let mut again = synthetic(&library, "drop");
    again.prepare_session().unwrap();
}
