//! Moves between paths lose and repeat nothing: the kill switch on and off, a lowered
//! percentage, an operator's force-open and release, the breaker opening with `move_now`,
//! a Rust failure, and failback once the breaker closes. Every test reads every sample a
//! session served and checks it against the signal itself (the synthetic reference, or a
//! Cyton's package numbers), and that the switch point carries its marker.

mod common;

use board_api::{Board, BoardId, InputParams};
use breaker::OperatorMode;
use common::*;
use emulator::{Emulator, EmulatorOptions};
use std::time::Duration;
use switchyard::{Runtime, Session, FAILOVER_MARKER, MOVE_MARKER};
use toggles::Path;

const LIMIT: Duration = Duration::from_secs(30);

fn started(runtime: &Runtime, seed: u64, key: &str) -> Session {
    let mut s = runtime.open(BoardId::Synthetic, synthetic_params(seed, key));
    s.prepare_session().unwrap();
    s.start_stream(45_000).unwrap();
    s
}

fn markers(samples: &[Vec<f64>]) -> Vec<f64> {
    samples.iter().map(|s| s[SYNTH_MARKER_ROW]).filter(|m| *m != 0.0).collect()
}

/// Sessions with what each has served so far.
struct Fleet {
    sessions: Vec<(u64, Session, Collected)>,
}

impl Fleet {
    fn start(runtime: &Runtime, n: u64) -> Fleet {
        Fleet { sessions: (0..n).map(|i| (100 + i, started(runtime, 100 + i, &format!("dev-{i}")), Collected::new())).collect() }
    }

    /// Reads until every session has served `more` samples beyond what it had served or
    /// held unread (so a read after a move reaches past the switch point).
    fn read(&mut self, more: usize) {
        for (_, s, got) in &mut self.sessions {
            let held = s.board_data_count(board_api::Preset::Default).unwrap();
            let want = got.samples.len() + held + more;
            got.until(s, want, LIMIT);
        }
    }

    fn all_on(&self, path: Path) -> bool {
        self.sessions.iter().all(|(_, s, _)| s.path() == path)
    }

    /// Every sample served is the reference signal's next one: none lost, none repeated.
    fn assert_whole(&self, what: &str) {
        for (seed, _, got) in &self.sessions {
            assert!(!got.samples.is_empty(), "{what}");
            assert_matches_reference(&got.samples, &reference(*seed, got.samples.len()), 0);
        }
    }

    fn assert_markers(&self, want: &[f64], what: &str) {
        for (seed, _, got) in &self.sessions {
            assert_eq!(markers(&got.samples), want, "{what}: session with seed {seed}");
        }
    }
}

#[test]
fn the_kill_switch_moves_every_session_and_back_without_losing_a_sample() {
    let yaml = |kill: bool| synthetic_yaml("rust", "", "").replace("kill_switch: false", &format!("kill_switch: {kill}"));
    let config = ConfigFile::new(&yaml(false));
    let runtime = config.runtime();
    let mut fleet = Fleet::start(&runtime, 12);
    fleet.read(40);
    assert!(fleet.all_on(Path::Rust));

    config.change(&runtime, &yaml(true));
    assert!(fleet.all_on(Path::Cpp), "the kill switch moves every session at once");
    fleet.read(40);
    fleet.assert_whole("kill switch on");
    fleet.assert_markers(&[MOVE_MARKER], "one move marker at the switch point");
    let counters = &runtime.kind(BoardId::Synthetic).counters;
    assert_eq!(counters.failovers(), 0, "a planned move is not a failover");
    assert_eq!(counters.moves.load(std::sync::atomic::Ordering::Relaxed), 12);

    config.change(&runtime, &yaml(false));
    wait_for("every session back on Rust", LIMIT, || fleet.all_on(Path::Rust));
    fleet.read(40);
    fleet.assert_whole("kill switch off");
    fleet.assert_markers(&[MOVE_MARKER, MOVE_MARKER], "and one more on the way back");
    assert!(fleet.sessions.iter().all(|(_, s, _)| s.moves() == 2 && s.failovers() == 0));
}

#[test]
fn a_lowered_percentage_moves_sessions_losslessly() {
    let yaml = |p: u32| synthetic_yaml("rust", "", &format!("    percent: {p}\n    follow_percent_decrease: true\n"));
    let config = ConfigFile::new(&yaml(100));
    let runtime = config.runtime();
    let mut fleet = Fleet::start(&runtime, 8);
    fleet.read(30);
    config.change(&runtime, &yaml(0));
    assert!(fleet.all_on(Path::Cpp));
    fleet.read(30);
    fleet.assert_whole("percent lowered");
    fleet.assert_markers(&[MOVE_MARKER], "percent lowered");
}

#[test]
fn force_open_and_release_move_sessions_there_and_back() {
    let config = ConfigFile::new(&synthetic_yaml("rust", "", ""));
    let runtime = config.runtime();
    let mut fleet = Fleet::start(&runtime, 6);
    fleet.read(30);
    runtime.set_breaker_override(BoardId::Synthetic, Some(OperatorMode::ForcedOpen));
    wait_for("every session on C++", LIMIT, || fleet.all_on(Path::Cpp));
    fleet.read(30);
    runtime.set_breaker_override(BoardId::Synthetic, None);
    wait_for("every session back on Rust", LIMIT, || fleet.all_on(Path::Rust));
    fleet.read(30);
    fleet.assert_whole("force-open, then release");
    fleet.assert_markers(&[MOVE_MARKER, MOVE_MARKER], "force-open, then release");
}

#[test]
fn sessions_stay_on_cpp_after_release_when_failback_is_manual() {
    let config = ConfigFile::new(&synthetic_yaml("rust", "", "    failback: manual\n"));
    let runtime = config.runtime();
    let mut fleet = Fleet::start(&runtime, 3);
    fleet.read(20);
    runtime.set_breaker_override(BoardId::Synthetic, Some(OperatorMode::ForcedOpen));
    wait_for("every session on C++", LIMIT, || fleet.all_on(Path::Cpp));
    runtime.set_breaker_override(BoardId::Synthetic, None);
    fleet.read(60);
    assert!(fleet.all_on(Path::Cpp), "manual failback leaves moved sessions on C++");
    fleet.assert_whole("manual failback");
    let fresh = started(&runtime, 1, "new");
    assert_eq!(fresh.path(), Path::Rust, "new sessions follow the toggles");
}

#[test]
fn a_rust_failure_in_rust_mode_loses_nothing_and_is_marked_as_a_failover() {
    let config = ConfigFile::new(&synthetic_yaml("rust", "", ""));
    let runtime = config.runtime();
    let mut fleet = Fleet::start(&runtime, 4);
    fleet.read(30);
    config.change(&runtime, &synthetic_yaml("rust", "panic_rate: 100", ""));
    wait_for("every session on C++", LIMIT, || fleet.all_on(Path::Cpp));
    fleet.read(30);
    fleet.assert_whole("a Rust panic in rust mode");
    fleet.assert_markers(&[FAILOVER_MARKER], "a failure is marked as one");
    assert!(fleet.sessions.iter().all(|(_, s, _)| s.failovers() == 1 && s.moves() == 0));
    assert_eq!(runtime.kind(BoardId::Synthetic).counters.gap_samples(), 0, "nothing was lost to count");
}

#[test]
fn failback_after_the_breaker_closes_returns_sessions_that_failed_over() {
    // Errors open the breaker; once the errors stop and the breaker has closed through
    // its probes, the sessions that failed over return to Rust.
    // A window as small as the fleet: four sessions failing once each open it.
    let yaml = |faults: &str| {
        synthetic_yaml("rust", faults, "")
            .replace("open_wait: 60s", "open_wait: 200ms")
            .replace("minimum_calls: 5", "minimum_calls: 4")
            .replace("window: { calls: 20 }", "window: { calls: 4 }")
    };
    let config = ConfigFile::new(&yaml(""));
    let runtime = config.runtime();
    let mut fleet = Fleet::start(&runtime, 4);
    fleet.read(20);
    config.change(&runtime, &yaml("error_rate: 100"));
    wait_for("every session on C++", LIMIT, || fleet.all_on(Path::Cpp));
    config.change(&runtime, &yaml(""));
    // Probes come from new sessions (live ones are on C++): open some until it closes.
    let kind = runtime.kind(BoardId::Synthetic).clone();
    let mut probes = Vec::new();
    wait_for("the breaker to close", LIMIT, || {
        if kind.breaker.state() != breaker::State::Closed {
            let mut p = started(&runtime, 7, &format!("probe-{}", probes.len()));
            let mut got = Collected::new();
            got.drain(&mut p);
            probes.push(p);
        }
        kind.breaker.state() == breaker::State::Closed
    });
    wait_for("the failed-over sessions back on Rust", LIMIT, || fleet.all_on(Path::Rust));
    fleet.read(30);
    fleet.assert_whole("failover, then failback");
    for (seed, _, got) in &fleet.sessions {
        // A session's own failure (failover marker) or the opening breaker's move (move
        // marker) took it to C++, whichever came first; failback is a move.
        let marks = markers(&got.samples);
        assert!(marks.len() == 2 && [FAILOVER_MARKER, MOVE_MARKER].contains(&marks[0]) && marks[1] == MOVE_MARKER, "seed {seed}: {marks:?}");
    }
}

#[test]
fn a_cyton_moves_to_cpp_and_back_at_a_packet_boundary() {
    for (board, kind, options, step) in [
        (BoardId::Cyton, "cyton", EmulatorOptions::cyton(5), 1u32),
        (BoardId::CytonDaisy, "cyton_daisy", EmulatorOptions::daisy(6), 2),
    ] {
        let yaml = |kill: bool| format!("kill_switch: {kill}\nboards:\n  {kind}:\n    mode: rust\n");
        let emu = Emulator::start(options).unwrap();
        let config = ConfigFile::new(&yaml(false));
        let runtime = config.runtime();
        let params = InputParams { serial_port: emu.port_path().display().to_string(), ..InputParams::default() };
        let mut s = runtime.open(board, params);
        s.prepare_session().unwrap();
        s.start_stream(10_000).unwrap();
        let mut got = Collected::new();
        got.until(&mut s, 100, LIMIT);
        config.change(&runtime, &yaml(true));
        assert_eq!(s.path(), Path::Cpp, "{kind}");
        let n = got.samples.len();
        got.until(&mut s, n + 100, LIMIT);
        config.change(&runtime, &yaml(false));
        wait_for("the session back on Rust", LIMIT, || s.path() == Path::Rust);
        let n = got.samples.len();
        got.until(&mut s, n + 100, LIMIT);
        let packages: Vec<u32> = got.samples.iter().map(|x| x[0] as u32).collect();
        for w in packages.windows(2) {
            assert_eq!(w[1], (w[0] + step) % 256, "{kind}: a packet was lost or repeated across the moves ({} then {})", w[0], w[1]);
        }
        let marker_row = board_api::descriptor(board, board_api::Preset::Default).unwrap().marker_channel;
        let marks: Vec<f64> = got.samples.iter().map(|x| x[marker_row]).filter(|m| *m != 0.0).collect();
        assert_eq!(marks, vec![MOVE_MARKER, MOVE_MARKER], "{kind}");
        assert_eq!(runtime.kind(board).counters.gap_samples(), 0, "{kind}");
        s.stop_stream().unwrap();
        s.release_session().unwrap();
    }
}

#[test]
fn a_plan_rollback_moves_the_sessions_its_stage_no_longer_puts_on_rust() {
    // What the migration controller does on a rollback verdict: the stage it rolled back to
    // decides C++ for these sessions, and they move now, though the board does not follow
    // percentage decreases.
    let config = ConfigFile::new(&synthetic_yaml("rust", "", ""));
    let runtime = config.runtime();
    let mut fleet = Fleet::start(&runtime, 4);
    fleet.read(20);
    config.change(&runtime, &synthetic_yaml("cpp", "", ""));
    assert!(fleet.all_on(Path::Rust), "a plain edit moves no live session");
    runtime.move_sessions_the_toggles_put_on_cpp(BoardId::Synthetic, "PLAN_ROLLBACK");
    assert!(fleet.all_on(Path::Cpp));
    fleet.read(20);
    fleet.assert_whole("plan rollback");
    fleet.assert_markers(&[MOVE_MARKER], "plan rollback");
    assert!(fleet.sessions.iter().all(|(_, s, _)| s.routing().unwrap().override_reason == Some("PLAN_ROLLBACK")));
}
