//! BLE boards through the dispatcher, end to end: sessions from a `Runtime` on a real
//! config file, served by the simulated Ganglion and Muse devices (`transport=simulated`),
//! with the link task, reconnects, the breaker and the rebuild path all running for real.
//!
//! These boards have no C++ twin, so what is checked is the other half of the contract:
//! their breaker still guards them, by pacing reconnects instead of failing over, and a
//! failure never reaches the caller as lost or unmarked data.

mod common;

use ble_boards::simulate::{ganglion_microvolts, muse_eeg_microvolts};
use ble_boards::{LinkState, GAP_MARKER};
use board_api::{Board, BoardId, ExitCode, InputParams, Preset, SampleMatrix};
use breaker::State;
use common::{wait_for, ConfigFile};
use std::time::Duration;
use toggles::Path;

const LIMIT: Duration = Duration::from_secs(30);
const GANGLION_MARKER_ROW: usize = 14;

/// Every BLE board in `rust` mode; `ganglion` is extra YAML under `ganglion_native:`.
fn ble_yaml(ganglion: &str) -> String {
    format!("kill_switch: false\nboards:\n  ganglion_native:\n    mode: rust\n{ganglion}  muse_2: rust\n  muse_s: rust\n")
}

fn simulated(settings: &str) -> InputParams {
    InputParams { other_info: format!("transport=simulated;{settings}"), ..InputParams::default() }
}

/// Appends everything buffered in `preset` to `into`, sample-major, failing on an error.
fn drain(session: &mut dyn Board, preset: Preset, into: &mut Vec<Vec<f64>>) {
    let mut m = SampleMatrix::default();
    session.get_board_data(usize::MAX, preset, &mut m).expect("reads through the session never fail");
    for j in 0..m.samples() {
        into.push((0..m.rows()).map(|r| m.get(r, j)).collect());
    }
}

/// Ganglion samples split into streams at the gap markers; each stream must be exactly the
/// simulated signal from its start (the device restarts its stream on every reconnect).
fn check_ganglion_streams(samples: &[Vec<f64>]) -> usize {
    let mut streams = 0;
    let mut n = 0u64;
    for (j, sample) in samples.iter().enumerate() {
        if j == 0 || sample[GANGLION_MARKER_ROW] == GAP_MARKER {
            streams += 1;
            n = 0;
        }
        assert_eq!(sample[0], ((n / 2) % 200) as f64, "packet id of sample {j}");
        assert_eq!(sample[1..5], ganglion_microvolts(n), "EEG of sample {j} ({n} of its stream)");
        n += 1;
    }
    streams
}

#[test]
fn ganglion_and_muse_stream_through_sessions_on_the_rust_path() {
    let config = ConfigFile::new(&ble_yaml(""));
    let runtime = config.runtime();

    let mut ganglion = runtime.open(BoardId::GanglionNative, simulated(""));
    ganglion.prepare_session().unwrap();
    assert_eq!(ganglion.path(), Path::Rust);
    assert_eq!(ganglion.routing().unwrap().override_reason, None);
    ganglion.start_stream(45_000).unwrap();
    let mut samples = Vec::new();
    wait_for("200 Ganglion samples", LIMIT, || {
        drain(&mut ganglion, Preset::Default, &mut samples);
        samples.len() >= 200
    });
    assert_eq!(check_ganglion_streams(&samples), 1, "no gap in a healthy stream");
    assert_eq!(ganglion.link_status().unwrap().state, LinkState::Connected);
    let summary = runtime.link_summary(BoardId::GanglionNative).unwrap();
    assert_eq!((summary.connected, summary.failures_total), (1, 0));

    for board in [BoardId::Muse2, BoardId::MuseS] {
        let mut muse = runtime.open(board, simulated(""));
        muse.prepare_session().unwrap();
        assert_eq!(muse.path(), Path::Rust);
        muse.start_stream(45_000).unwrap();
        let (mut eeg, mut imu, mut ppg) = (Vec::new(), Vec::new(), Vec::new());
        wait_for("every Muse preset", LIMIT, || {
            drain(&mut muse, Preset::Default, &mut eeg);
            drain(&mut muse, Preset::Auxiliary, &mut imu);
            drain(&mut muse, Preset::Ancillary, &mut ppg);
            eeg.len() >= 256 && imu.len() >= 52 && ppg.len() >= 64
        });
        for (n, sample) in eeg.iter().enumerate() {
            let expected: Vec<f64> = (0..4).map(|e| muse_eeg_microvolts(e, n as u64)).collect();
            assert_eq!(sample[1..5], expected[..], "{board}: EEG sample {n}");
        }
        muse.stop_stream().unwrap();
        muse.release_session().unwrap();
    }
    ganglion.stop_stream().unwrap();
    ganglion.release_session().unwrap();
    assert_eq!(runtime.kind(BoardId::GanglionNative).counters.failovers(), 0);
}

#[test]
fn a_dropped_link_is_reconnected_marked_and_counted_by_the_breaker() {
    let config = ConfigFile::new(&ble_yaml(""));
    let runtime = config.runtime();
    let kind = runtime.kind(BoardId::GanglionNative);
    let mut session = runtime.open(BoardId::GanglionNative, simulated("sim_disconnect_every_ms=300"));
    session.prepare_session().unwrap();
    session.start_stream(45_000).unwrap();
    let mut samples = Vec::new();
    wait_for("three streams: two reconnects with samples after each", LIMIT, || {
        drain(&mut session, Preset::Default, &mut samples);
        samples.iter().filter(|s| s[GANGLION_MARKER_ROW] == GAP_MARKER).count() >= 2
    });
    assert!(check_ganglion_streams(&samples) >= 3);
    let link = session.link_status().unwrap();
    assert!(link.disconnects >= 2 && link.reconnects >= 2, "{link:?}");
    assert_eq!(session.path(), Path::Rust, "a Rust-only board stays on Rust");
    assert_eq!(session.failovers(), 0);
    let counters = &kind.counters;
    let failures = counters.link_failures.load(std::sync::atomic::Ordering::Relaxed);
    assert!(failures >= 2, "the runtime heard {failures} link failures");
    let snapshot = kind.breaker.snapshot();
    assert!(snapshot.failed_in_window >= 2, "the breaker recorded the lost links: {snapshot:?}");
    assert_eq!(snapshot.state, State::Closed, "default minimum_calls (20) is not reached");
    session.release_session().unwrap();
}

#[test]
fn an_open_breaker_holds_lost_links_back_then_lets_a_reconnect_probe_close_it() {
    // Every lost link is a failure and every restored one a success, so links that drop
    // every 200 ms open this breaker after three calls.
    let breaker = "    breaker:\n      minimum_calls: 3\n      window: { calls: 10 }\n      failure_rate_threshold: 50\n      permitted_probes: 1\n      open_wait: 1s\n";
    let config = ConfigFile::new(&ble_yaml(breaker));
    let runtime = config.runtime();
    let kind = runtime.kind(BoardId::GanglionNative).clone();
    let transitions = kind.breaker.subscribe();
    let mut session = runtime.open(BoardId::GanglionNative, simulated("sim_disconnect_every_ms=200"));
    session.prepare_session().unwrap();
    session.start_stream(45_000).unwrap();

    // No reads meanwhile: a read in HALF_OPEN would take the probe this test watches.
    wait_for("the breaker to open on lost links", LIMIT, || kind.breaker.state() == State::Open);
    wait_for("the lost link to be held back", LIMIT, || {
        session.link_status().unwrap().state == LinkState::ReconnectHeld
    });
    assert_eq!(runtime.link_summary(BoardId::GanglionNative).unwrap().reconnect_held, 1, "the status page sees it");

    // A new session still starts (there is no C++ to send it to) and says why it is here.
    let mut late = runtime.open(BoardId::GanglionNative, simulated(""));
    late.prepare_session().unwrap();
    assert_eq!(late.path(), Path::Rust);
    assert_eq!(late.routing().unwrap().override_reason, Some("BREAKER_OPEN_NO_FALLBACK"));
    late.release_session().unwrap();

    wait_for("a reconnect probe to close the breaker", LIMIT, || {
        transitions.try_iter().any(|t| t.from == State::HalfOpen && t.to == State::Closed)
    });
    let link = session.link_status().unwrap();
    assert!(link.reconnects_held >= 1, "{link:?}");
    let mut samples = Vec::new();
    wait_for("the stream to go on after the held reconnect", LIMIT, || {
        drain(&mut session, Preset::Default, &mut samples);
        samples.iter().filter(|s| s[GANGLION_MARKER_ROW] == GAP_MARKER).count() >= 3
    });
    check_ganglion_streams(&samples);
    assert_eq!((session.path(), session.failovers()), (Path::Rust, 0));
    session.release_session().unwrap();
}

#[test]
fn a_panicking_ble_board_is_rebuilt_with_the_gap_marked_instead_of_failing_over() {
    let config = ConfigFile::new(&ble_yaml(""));
    let runtime = config.runtime();
    let mut session = runtime.open(BoardId::GanglionNative, simulated(""));
    session.prepare_session().unwrap();
    session.start_stream(45_000).unwrap();
    let mut samples = Vec::new();
    wait_for("samples before the fault", LIMIT, || {
        drain(&mut session, Preset::Default, &mut samples);
        samples.len() >= 50
    });

    // Every Rust call panics: the read that hits it cannot be answered, and rebuilding the
    // board (whose prepare panics too) fails. The caller hears "not ready", never a panic.
    config.change(&runtime, &ble_yaml("    faults: { panic_rate: 100 }\n"));
    let mut m = SampleMatrix::default();
    let error = session.get_board_data(usize::MAX, Preset::Default, &mut m).unwrap_err();
    assert_eq!(error.code, ExitCode::BoardNotReadyError, "{error}");
    // (The cause reads "panicked", or "did not answer" when printing the panic's backtrace
    // outlasts the call deadline.)
    assert!(error.message.contains("being rebuilt after"), "{error}");
    assert_eq!(session.restarts(), 0);

    config.change(&runtime, &ble_yaml(""));
    let before = samples.len();
    wait_for("the rebuilt board to serve", LIMIT, || {
        let mut m = SampleMatrix::default();
        match session.get_board_data(usize::MAX, Preset::Default, &mut m) {
            Ok(()) => {
                for j in 0..m.samples() {
                    samples.push((0..m.rows()).map(|r| m.get(r, j)).collect());
                }
            }
            Err(e) => assert_eq!(e.code, ExitCode::BoardNotReadyError, "only 'being rebuilt' while it is: {e}"),
        }
        samples.len() >= before + 50
    });
    assert_eq!(session.restarts(), 1);
    assert_eq!((session.path(), session.failovers()), (Path::Rust, 0));
    assert_eq!(samples[before][GANGLION_MARKER_ROW], GAP_MARKER, "the rebuilt stream's first sample marks the gap");
    assert_eq!(check_ganglion_streams(&samples), 2);
    let summary = runtime.link_summary(BoardId::GanglionNative).unwrap();
    assert_eq!((summary.restarts_total, summary.connected), (1, 1));
    session.release_session().unwrap();
}
