//! Sessions whose C++ path is BrainFlow's own library (`legacy: brainflow`): served by
//! BrainFlow in `cpp` mode, fallen back to by `rust` sessions, and refused with the reason
//! when the library is unusable while every other board runs.

mod common;

use board_api::{Board, BoardId};
use common::*;
use std::time::Duration;
use switchyard::FAILOVER_MARKER;
use toggles::Path;

const LIMIT: Duration = Duration::from_secs(20);

fn yaml(library: &std::path::Path, mode: &str, faults: &str) -> String {
    let faults = if faults.is_empty() { String::new() } else { format!("    faults: {{ {faults} }}\n") };
    format!(
        "brainflow:\n  library: {}\nboards:\n  synthetic:\n    mode: {mode}\n    legacy: brainflow\n    breaker:\n      minimum_calls: 5\n      window: {{ calls: 20 }}\n      open_wait: 60s\n{faults}",
        library.display()
    )
}

#[test]
fn cpp_sessions_are_served_by_brainflow() {
    let library = brainflow::brainflow_library();
    let config = ConfigFile::new(&yaml(&library, "cpp", ""));
    let runtime = config.runtime();
    let mut s = runtime.open(BoardId::Synthetic, synthetic_params(1, "bf-cpp"));
    s.prepare_session().unwrap();
    assert_eq!(s.path(), Path::Cpp);
    assert_eq!(s.config_board("x").unwrap(), "Config:x");
    s.start_stream(45_000).unwrap();
    let mut got = Collected::new();
    got.until(&mut s, 30, LIMIT);
    assert!(got.samples.iter().all(|x| x.len() == SYNTH_ROWS));
    // BrainFlow's generator is unseeded: its values are not ours. Its package numbers
    // count up by one and its timestamps are now.
    let packages: Vec<f64> = got.samples.iter().map(|x| x[0]).collect();
    assert!(packages.windows(2).all(|w| (w[1] - w[0]).rem_euclid(256.0) == 1.0), "{packages:?}");
    assert!(got.samples[0][SYNTH_TIMESTAMP_ROW] > 1.7e9);
    // Another session on the same config is a separate BrainFlow session.
    let mut other = runtime.open(BoardId::Synthetic, synthetic_params(2, "bf-cpp-2"));
    other.prepare_session().unwrap();
    other.release_session().unwrap();
    s.release_session().unwrap();
}

#[test]
fn a_failing_rust_session_falls_back_to_brainflow() {
    let library = brainflow::brainflow_library();
    let config = ConfigFile::new(&yaml(&library, "rust", ""));
    let runtime = config.runtime();
    let mut s = runtime.open(BoardId::Synthetic, synthetic_params(3, "bf-rust"));
    s.prepare_session().unwrap();
    s.start_stream(45_000).unwrap();
    let mut got = Collected::new();
    got.until(&mut s, 50, LIMIT);
    assert_eq!(s.path(), Path::Rust);
    config.change(&runtime, &yaml(&library, "rust", "error_rate: 100"));
    let before = got.samples.len();
    got.until(&mut s, before + 50, LIMIT);
    assert_eq!(s.path(), Path::Cpp, "the session moved to BrainFlow");
    assert_eq!(s.failovers(), 1);
    let markers: Vec<f64> = got.samples[before..].iter().map(|x| x[SYNTH_MARKER_ROW]).filter(|m| *m != 0.0).collect();
    assert_eq!(markers, vec![FAILOVER_MARKER], "exactly one failover marker");
    // BrainFlow's own answer, from BrainFlow.
    assert_eq!(s.config_board("y").unwrap(), "Config:y");
    s.release_session().unwrap();
}

#[test]
fn an_unusable_library_refuses_only_its_boards() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("libBoardController.so");
    let text = format!("{}  playback: cpp\n  cyton_daisy: cpp\n", yaml(&missing, "cpp", ""));
    let config = ConfigFile::new(&text);
    let runtime = config.runtime();
    let mut s = runtime.open(BoardId::Synthetic, synthetic_params(4, "bf-missing"));
    let e = s.prepare_session().unwrap_err();
    assert!(e.message.contains("the C++ path of board synthetic (-1) is refused"), "{e}");
    assert!(e.message.contains("no such file"), "{e}");
    // A board on switchyard's own core is untouched.
    let recording = dir.path().join("rec.csv");
    let line: Vec<String> = (0..SYNTH_ROWS).map(|i| format!("{i}.0")).collect();
    std::fs::write(&recording, format!("{}\n", line.join("\t"))).unwrap();
    let params = board_api::InputParams { file: recording.display().to_string(), master_board: BoardId::Synthetic.id(), ..Default::default() };
    let mut playback = runtime.open(BoardId::PlaybackFile, params);
    playback.prepare_session().unwrap();
    assert_eq!(playback.path(), Path::Cpp);
    playback.release_session().unwrap();
}

fn cyton_yaml(library: &std::path::Path, kind: &str, mode: &str, faults: &str) -> String {
    let faults = if faults.is_empty() { String::new() } else { format!("    faults: {{ {faults} }}\n") };
    format!(
        "brainflow:\n  library: {}\nboards:\n  {kind}:\n    mode: {mode}\n    legacy: brainflow\n    breaker:\n      minimum_calls: 5\n      window: {{ calls: 20 }}\n      open_wait: 60s\n{faults}",
        library.display()
    )
}

/// Shadow against BrainFlow's library: BrainFlow's board reads the emulator through the
/// dispatcher's pty, the Rust twin decodes the same bytes; BrainFlow serves, every sample
/// is compared (0 mismatches), and a corruption injected into the Rust side is caught.
#[test]
fn shadow_against_brainflow_compares_the_same_bytes_and_catches_corruption() {
    let library = brainflow::brainflow_library();
    for (board, kind, options) in [
        (BoardId::Cyton, "cyton", emulator::EmulatorOptions::cyton(41)),
        (BoardId::CytonDaisy, "cyton_daisy", emulator::EmulatorOptions::daisy(42).brainflow_ci()),
    ] {
        let device = emulator::Emulator::start(options).unwrap();
        let config = ConfigFile::new(&cyton_yaml(&library, kind, "shadow", ""));
        let runtime = config.runtime();
        let params = board_api::InputParams { serial_port: device.port_path().display().to_string(), ..Default::default() };
        let mut s = runtime.open(board, params);
        s.prepare_session().unwrap();
        assert_eq!(s.path(), Path::Shadow, "{kind}");
        s.start_stream(45_000).unwrap();
        let mut got = Collected::new();
        got.until(&mut s, 60, LIMIT);
        let shadow = runtime.kind(board).counters.shadow.clone();
        wait_for("comparisons", LIMIT, || {
            got.drain(&mut s);
            shadow.compared() >= 50
        });
        assert_eq!(shadow.mismatched(), 0, "{kind}: the Rust twin decodes the bytes BrainFlow read as BrainFlow does");
        let step = if board == BoardId::CytonDaisy { 2.0 } else { 1.0 };
        let packages: Vec<f64> = got.samples.iter().map(|x| x[0]).collect();
        assert!(packages.windows(2).all(|w| (w[1] - w[0]).rem_euclid(256.0) == step), "{kind}: BrainFlow's samples served in order: {packages:?}");
        config.change(&runtime, &cyton_yaml(&library, kind, "shadow", "corrupt_rate: 100"));
        wait_for("the corruption caught", LIMIT, || {
            got.drain(&mut s);
            shadow.mismatched() > 0
        });
        s.stop_stream().unwrap();
        s.release_session().unwrap();
    }
}

/// Standby against BrainFlow's library: Rust serves, BrainFlow's board runs alongside on
/// the same bytes, and a failing Rust side moves the session to BrainFlow with no sample
/// lost or repeated.
#[test]
fn standby_against_brainflow_falls_back_to_brainflow_losing_nothing() {
    let library = brainflow::brainflow_library();
    let device = emulator::Emulator::start(emulator::EmulatorOptions::cyton(43)).unwrap();
    let config = ConfigFile::new(&cyton_yaml(&library, "cyton", "standby", ""));
    let runtime = config.runtime();
    let params = board_api::InputParams { serial_port: device.port_path().display().to_string(), ..Default::default() };
    let mut s = runtime.open(BoardId::Cyton, params);
    s.prepare_session().unwrap();
    s.start_stream(45_000).unwrap();
    let mut got = Collected::new();
    got.until(&mut s, 60, LIMIT);
    assert_eq!(s.path(), Path::Standby);
    config.change(&runtime, &cyton_yaml(&library, "cyton", "standby", "error_rate: 100"));
    let before = got.samples.len();
    got.until(&mut s, before + 100, LIMIT);
    assert_eq!(s.path(), Path::Cpp, "the session moved to BrainFlow");
    let packages: Vec<f64> = got.samples.iter().map(|x| x[0]).collect();
    assert!(packages.windows(2).all(|w| (w[1] - w[0]).rem_euclid(256.0) == 1.0), "no sample lost or repeated: {packages:?}");
    s.stop_stream().unwrap();
    s.release_session().unwrap();
}

/// A board only BrainFlow implements (FreeEEG32, 17) is a session like any other: served
/// by BrainFlow's library on the C++ path, described by it, and shown under its name. Its
/// device here is a pseudo-terminal nobody writes to: BrainFlow opens it and streams
/// nothing, which is all a board without its hardware can do.
#[test]
fn a_board_only_brainflow_implements_is_served_by_brainflow() {
    let freeeeg32 = BoardId::from_id(17).unwrap();
    let pty = nix::pty::openpty(None, None).expect("a pseudo-terminal");
    let port = nix::unistd::ttyname(&pty.slave).unwrap().display().to_string();
    let params = board_api::InputParams { serial_port: port, ..Default::default() };

    // No library named: refused, saying what to set.
    let runtime = switchyard::Runtime::from_yaml("boards:\n  freeeeg32: cpp\n", "no-library.yaml").unwrap();
    let err = runtime.open(freeeeg32, params.clone()).prepare_session().unwrap_err();
    assert_eq!(err.code, board_api::ExitCode::UnsupportedBoardError, "{err}");
    assert!(err.message.contains("freeeeg32 (17) is implemented only by BrainFlow's library") && err.message.contains("set brainflow.library"), "{err}");

    let library = brainflow::brainflow_library();
    let config = ConfigFile::new(&format!("brainflow:\n  library: {}\nboards:\n  freeeeg32: cpp\n", library.display()));
    let runtime = std::sync::Arc::new(config.runtime());
    let mut s = runtime.open(freeeeg32, params);
    s.prepare_session().unwrap();
    assert_eq!(s.path(), Path::Cpp);
    // BrainFlow's descriptor of it, not one of ours: 35 rows at 512 Hz.
    let d = s.descriptor(board_api::Preset::Default).unwrap();
    assert_eq!((d.name, d.num_rows, d.sampling_rate), ("FreeEEG32", 35, 512));
    s.start_stream(45_000).unwrap();
    let mut data = board_api::SampleMatrix::new(d.num_rows);
    s.get_board_data(100, board_api::Preset::Default, &mut data).unwrap();
    assert_eq!((data.rows(), data.samples()), (35, 0));
    s.insert_marker(1.0, board_api::Preset::Default).unwrap();
    let status = switchyard::operations::Operations::new(runtime.clone(), None).status_document();
    let tile = status.boards.iter().find(|b| b.board == "freeeeg32").expect("a tile under BrainFlow's name");
    assert_eq!(tile.sessions_cpp, 1);
    s.stop_stream().unwrap();
    s.release_session().unwrap();

    // BrainFlow's streaming board has no rows of its own: a session's are its master's.
    let streaming = BoardId::from_id(-2).unwrap();
    assert_eq!(streaming.kind(), "streaming");
    let params = board_api::InputParams { master_board: BoardId::Cyton.id(), ..Default::default() };
    let session = runtime.open(streaming, params);
    assert_eq!(session.descriptor(board_api::Preset::Default).unwrap().name, "Cyton");
}

/// Playback against BrainFlow's playback board: BrainFlow reads the file itself, the Rust
/// twin plays the same bytes; by file row they agree, and an injected corruption of the
/// Rust side is caught.
#[test]
fn playback_shadow_against_brainflow_compares_by_file_row_and_catches_corruption() {
    let library = brainflow::brainflow_library();
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("recording.csv");
    brainflow::write_synthetic_recording(&recording, 3000);
    let yaml = |faults: &str| {
        format!(
            "brainflow:\n  library: {}\nboards:\n  playback:\n    mode: shadow\n    legacy: brainflow\n    faults: {{ {faults} }}\n",
            library.display()
        )
    };
    let config = ConfigFile::new(&yaml(""));
    let runtime = config.runtime();
    let params = board_api::InputParams { file: recording.display().to_string(), master_board: BoardId::Synthetic.id(), ..Default::default() };
    let mut s = runtime.open(BoardId::PlaybackFile, params);
    s.prepare_session().unwrap();
    assert_eq!(s.path(), Path::Shadow);
    s.start_stream(45_000).unwrap();
    let shadow = runtime.kind(BoardId::PlaybackFile).counters.shadow.clone();
    let mut got = Collected::new();
    wait_for("comparisons", LIMIT, || {
        got.drain(&mut s);
        shadow.compared() >= 100
    });
    assert_eq!(shadow.mismatched(), 0, "BrainFlow's playback and the twin agree row by row");
    // What is served is BrainFlow's: the file's rows in order.
    let packages: Vec<f64> = got.samples.iter().map(|x| x[0]).collect();
    assert!(packages.windows(2).all(|w| (w[1] - w[0]).rem_euclid(256.0) == 1.0), "{packages:?}");
    config.change(&runtime, &yaml("corrupt_rate: 100"));
    wait_for("the corruption to be caught", LIMIT, || {
        got.drain(&mut s);
        shadow.mismatched() > 0
    });
    s.stop_stream().unwrap();
    s.release_session().unwrap();
}
