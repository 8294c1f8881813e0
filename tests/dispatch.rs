//! End to end through the dispatch layer with the real C++ and Rust synthetic and
//! playback boards: every mode serves correct data, shadow catches divergence, Rust
//! failures never reach the caller, standby fails over without loss, and config changes
//! move exactly the sessions they should.

mod common;

use board_api::{Board, BoardId, ExitCode, InputParams, Preset, SampleMatrix};
use common::*;
use std::time::Duration;
use switchyard::{Runtime, FAILOVER_MARKER};
use toggles::Path;

const LIMIT: Duration = Duration::from_secs(20);

fn started(runtime: &Runtime, seed: u64, key: &str) -> switchyard::Session {
    let mut s = runtime.open(BoardId::Synthetic, synthetic_params(seed, key));
    s.prepare_session().unwrap();
    s.start_stream(45_000).unwrap();
    s
}

#[test]
fn every_mode_serves_the_reference_signal() {
    for mode in ["cpp", "rust", "shadow", "standby"] {
        let config = ConfigFile::new(&synthetic_yaml(mode, "", ""));
        let runtime = config.runtime();
        let mut s = started(&runtime, 42, "dev-1");
        assert_eq!(s.path().as_str(), mode, "100% {mode} puts the session on {mode}");
        let mut got = Collected::new();
        got.until(&mut s, 100, LIMIT);
        assert_matches_reference(&got.samples, &reference(42, got.samples.len()), 0);
        assert_eq!(s.failovers(), 0, "mode {mode}");
        s.release_session().unwrap();
    }
}

#[test]
fn shadow_reports_no_mismatch_between_identical_implementations() {
    let config = ConfigFile::new(&synthetic_yaml("shadow", "", ""));
    let runtime = config.runtime();
    let mut s = started(&runtime, 7, "dev-1");
    let mut got = Collected::new();
    got.until(&mut s, 200, LIMIT);
    let shadow = runtime.kind(BoardId::Synthetic).counters.shadow.clone();
    wait_for("comparisons", LIMIT, || {
        got.drain(&mut s);
        shadow.compared() >= 150
    });
    assert_eq!(shadow.mismatched(), 0);
}

#[test]
fn shadow_catches_injected_corruption_and_still_serves_cpp_data() {
    let config = ConfigFile::new(&synthetic_yaml("shadow", "corrupt_rate: 100", ""));
    let runtime = config.runtime();
    let mut s = started(&runtime, 9, "dev-1");
    let mut got = Collected::new();
    got.until(&mut s, 100, LIMIT);
    let shadow = runtime.kind(BoardId::Synthetic).counters.shadow.clone();
    wait_for("mismatches", LIMIT, || {
        got.drain(&mut s);
        shadow.mismatched() > 0
    });
    assert_matches_reference(&got.samples, &reference(9, got.samples.len()), 0);
    assert_eq!(s.path(), Path::Shadow, "corruption is reported, not acted on");
}

#[test]
fn a_hung_shadow_side_is_judged_by_the_breaker_not_forgotten() {
    // The Rust side hangs on its first job; later jobs cannot be queued. Each one it cannot
    // take is recorded as a timeout, so the breaker opens instead of staying CLOSED over a
    // Rust side that does nothing (and a HALF_OPEN probe is never held by unqueued work).
    let config = ConfigFile::new(&synthetic_yaml("shadow", "hang: true", ""));
    let runtime = config.runtime();
    let kind = runtime.kind(BoardId::Synthetic).clone();
    let mut s = started(&runtime, 21, "dev-1");
    let mut got = Collected::new();
    wait_for("the breaker to open on the hung shadow side", LIMIT, || {
        got.drain(&mut s);
        kind.breaker.state() == breaker::State::Open
    });
    got.until(&mut s, got.samples.len() + 50, LIMIT);
    assert_matches_reference(&got.samples, &reference(21, got.samples.len()), 0);
}

#[test]
fn shadow_sample_percent_limits_which_sessions_run_the_rust_side() {
    let yaml = |p: u32| synthetic_yaml("shadow", "", &format!("    shadow: {{ sample_percent: {p} }}\n"));
    let config = ConfigFile::new(&yaml(0));
    let runtime = config.runtime();
    let none: Vec<_> = (0..20).map(|i| started(&runtime, i, &format!("dev-{i}"))).collect();
    assert!(none.iter().all(|s| s.path() == Path::Cpp), "0% sampled: C++ alone");
    assert!(none.iter().all(|s| s.routing().unwrap().override_reason == Some("SHADOW_NOT_SAMPLED")));
    config.change(&runtime, &yaml(50));
    let half: Vec<_> = (0..200).map(|i| started(&runtime, i, &format!("dev-{i}"))).collect();
    let shadowed = half.iter().filter(|s| s.path() == Path::Shadow).count();
    assert!((60..140).contains(&shadowed), "{shadowed} of 200 sessions shadowed at 50%");
    config.change(&runtime, &yaml(100));
    let all: Vec<_> = (0..20).map(|i| started(&runtime, i, &format!("dev-{i}"))).collect();
    assert!(all.iter().all(|s| s.path() == Path::Shadow));
}

/// A `rust` session that meets an injected fault mid-stream keeps streaming from C++ with
/// no error for the caller, and the first C++ sample carries the failover marker.
fn rust_fault_fails_over(fault: &str) {
    let config = ConfigFile::new(&synthetic_yaml("rust", "", ""));
    let runtime = config.runtime();
    let mut s = started(&runtime, 11, "dev-1");
    let mut got = Collected::new();
    got.until(&mut s, 50, LIMIT);
    assert_eq!(s.path(), Path::Rust);
    config.change(&runtime, &synthetic_yaml("rust", fault, ""));
    let before = got.samples.len();
    got.until(&mut s, before + 50, LIMIT);
    assert_eq!(s.path(), Path::Cpp, "{fault}: the session moved to C++");
    assert_eq!(s.failovers(), 1, "{fault}");
    assert_eq!(s.routing().unwrap().override_reason, Some("FAILOVER"));
    let markers: Vec<f64> =
        got.samples[before..].iter().map(|x| x[SYNTH_MARKER_ROW]).filter(|m| *m != 0.0).collect();
    assert_eq!(markers, vec![FAILOVER_MARKER], "{fault}: exactly one failover marker");
    assert_eq!(runtime.kind(BoardId::Synthetic).counters.failovers(), 1);
}

#[test]
fn rust_errors_fail_over_to_cpp_without_caller_errors() {
    rust_fault_fails_over("error_rate: 100");
}

#[test]
fn rust_panics_are_contained_and_fail_over() {
    rust_fault_fails_over("panic_rate: 100");
}

#[test]
fn hung_rust_calls_fail_over_without_hanging_the_caller() {
    rust_fault_fails_over("hang: true");
}

#[test]
fn slow_rust_calls_fail_over() {
    rust_fault_fails_over("added_latency: 2s");
}

#[test]
fn standby_failover_loses_and_repeats_nothing() {
    for fault in ["error_rate: 100", "panic_rate: 100", "hang: true"] {
        let config = ConfigFile::new(&synthetic_yaml("standby", "", ""));
        let runtime = config.runtime();
        let mut s = started(&runtime, 21, "dev-1");
        let mut got = Collected::new();
        got.until(&mut s, 60, LIMIT);
        config.change(&runtime, &synthetic_yaml("standby", fault, ""));
        let before = got.samples.len();
        got.until(&mut s, before + 120, LIMIT);
        assert_eq!(s.path(), Path::Cpp, "{fault}");
        assert_eq!(s.failovers(), 1, "{fault}");
        // Stream index k is sample k of the seed's signal, across the failover.
        assert_matches_reference(&got.samples, &reference(21, got.samples.len()), 0);
        let timestamps: Vec<f64> = got.samples.iter().map(|x| x[SYNTH_TIMESTAMP_ROW]).collect();
        assert!(timestamps.windows(2).all(|w| w[1] > w[0]), "{fault}: timestamps strictly increase");
        assert_eq!(runtime.kind(BoardId::Synthetic).counters.gap_samples(), 0);
    }
}

#[test]
fn breaker_opens_under_errors_and_new_sessions_go_to_cpp() {
    let config = ConfigFile::new(&synthetic_yaml("rust", "", ""));
    let runtime = config.runtime();
    let mut sessions: Vec<_> = (0..10).map(|i| started(&runtime, i, &format!("dev-{i}"))).collect();
    config.change(&runtime, &synthetic_yaml("rust", "error_rate: 100", ""));
    std::thread::sleep(Duration::from_millis(50));
    let mut m = SampleMatrix::default();
    for s in &mut sessions {
        s.get_board_data(10, Preset::Default, &mut m).expect("no caller error");
        assert_eq!(s.path(), Path::Cpp);
    }
    let kind = runtime.kind(BoardId::Synthetic);
    wait_for("breaker open", LIMIT, || kind.breaker.state() == breaker::State::Open);
    let mut fresh = runtime.open(BoardId::Synthetic, synthetic_params(99, "dev-new"));
    fresh.prepare_session().unwrap();
    assert_eq!(fresh.path(), Path::Cpp);
    assert_eq!(fresh.routing().unwrap().override_reason, Some("BREAKER_OPEN"));
    assert_eq!(fresh.decision().unwrap().path, Path::Rust, "the toggles still say rust");
}

#[test]
fn breaker_open_moves_live_rust_sessions() {
    let config = ConfigFile::new(&synthetic_yaml("rust", "", ""));
    let runtime = config.runtime();
    let sessions: Vec<_> = (0..5).map(|i| started(&runtime, i, &format!("dev-{i}"))).collect();
    runtime.kind(BoardId::Synthetic).breaker.force_open();
    wait_for("every session on C++", LIMIT, || sessions.iter().all(|s| s.path() == Path::Cpp));
}

#[test]
fn kill_switch_moves_every_session_and_standby_loses_nothing() {
    let yaml = |kill: bool| {
        format!(
            "kill_switch: {kill}\nboards:\n  synthetic:\n    mode: standby\n    targeting:\n      - {{ name: pinned-rust, serve: rust, serial_number: [r0, r1, r2] }}\n"
        )
    };
    let config = ConfigFile::new(&yaml(false));
    let runtime = config.runtime();
    let mut standby: Vec<_> = (0..3).map(|i| started(&runtime, 30 + i, &format!("s{i}"))).collect();
    let rust: Vec<_> = (0..3).map(|i| started(&runtime, 40 + i, &format!("r{i}"))).collect();
    assert!(standby.iter().all(|s| s.path() == Path::Standby));
    assert!(rust.iter().all(|s| s.path() == Path::Rust));
    let mut collected: Vec<Collected> = standby.iter().map(|_| Collected::new()).collect();
    for (s, c) in standby.iter_mut().zip(&mut collected) {
        c.until(s, 30, LIMIT);
    }
    config.change(&runtime, &yaml(true));
    assert!(standby.iter().chain(&rust).all(|s| s.path() == Path::Cpp), "kill switch applies at once");
    for (i, (s, c)) in standby.iter_mut().zip(&mut collected).enumerate() {
        let before = c.samples.len();
        c.until(s, before + 60, LIMIT);
        assert_matches_reference(&c.samples, &reference(30 + i as u64, c.samples.len()), 0);
    }
    let mut fresh = runtime.open(BoardId::Synthetic, synthetic_params(1, "r0"));
    fresh.prepare_session().unwrap();
    assert_eq!(fresh.path(), Path::Cpp);
    assert_eq!(fresh.decision().unwrap().reason, toggles::Reason::Disabled);
}

#[test]
fn a_percent_change_moves_only_new_sessions() {
    let yaml = |p: u32| format!("boards:\n  synthetic:\n    mode: rust\n    percent: {p}\n");
    let config = ConfigFile::new(&yaml(0));
    let runtime = config.runtime();
    let old: Vec<_> = (0..20).map(|i| started(&runtime, i, &format!("dev-{i}"))).collect();
    assert!(old.iter().all(|s| s.path() == Path::Cpp));
    config.change(&runtime, &yaml(100));
    assert!(old.iter().all(|s| s.path() == Path::Cpp), "live sessions stay where they are");
    let new: Vec<_> = (0..20).map(|i| started(&runtime, i, &format!("dev-{i}"))).collect();
    assert!(new.iter().all(|s| s.path() == Path::Rust), "new sessions follow the new percentage");
}

#[test]
fn lowering_the_percent_moves_live_sessions_when_configured() {
    let yaml = |p: u32| format!("boards:\n  synthetic:\n    mode: rust\n    percent: {p}\n    follow_percent_decrease: true\n");
    let config = ConfigFile::new(&yaml(100));
    let runtime = config.runtime();
    let live: Vec<_> = (0..10).map(|i| started(&runtime, i, &format!("dev-{i}"))).collect();
    assert!(live.iter().all(|s| s.path() == Path::Rust));
    config.change(&runtime, &yaml(0));
    assert!(live.iter().all(|s| s.path() == Path::Cpp));
}

#[test]
fn caller_errors_are_returned_as_they_are_and_never_fail_over() {
    for mode in ["cpp", "rust", "shadow", "standby"] {
        let config = ConfigFile::new(&synthetic_yaml(mode, "", ""));
        let runtime = config.runtime();
        let mut s = runtime.open(BoardId::Synthetic, synthetic_params(1, "dev"));
        let mut m = SampleMatrix::default();
        let e = s.get_board_data(10, Preset::Default, &mut m).unwrap_err();
        assert_eq!(e.code, ExitCode::BoardNotCreatedError, "{mode}");
        s.prepare_session().unwrap();
        assert_eq!(s.start_stream(0).unwrap_err().code, ExitCode::InvalidBufferSizeError, "{mode}");
        s.start_stream(1000).unwrap();
        assert_eq!(s.start_stream(1000).unwrap_err().code, ExitCode::StreamAlreadyRunError, "{mode}");
        assert_eq!(s.insert_marker(0.0, Preset::Default).unwrap_err().code, ExitCode::InvalidArgumentsError, "{mode}");
        s.stop_stream().unwrap();
        assert_eq!(s.stop_stream().unwrap_err().code, ExitCode::StreamThreadIsNotRunning, "{mode}");
        assert_eq!(s.failovers(), 0, "{mode}: caller errors are not Rust failures");
        assert_eq!(s.path().as_str(), mode);
    }
}

#[test]
fn markers_and_config_reach_the_data_in_every_mode() {
    for mode in ["cpp", "rust", "shadow", "standby"] {
        let config = ConfigFile::new(&synthetic_yaml(mode, "", ""));
        let runtime = config.runtime();
        let mut s = started(&runtime, 5, "dev");
        assert_eq!(s.config_board("gain").unwrap(), "Config:gain", "{mode}");
        let mut got = Collected::new();
        got.until(&mut s, 10, LIMIT);
        s.insert_marker(3.5, Preset::Default).unwrap();
        // The marker goes into the next sample produced: past what was already waiting.
        let held = s.board_data_count(Preset::Default).unwrap();
        got.until(&mut s, got.samples.len() + held + 10, LIMIT);
        let markers: Vec<f64> = got.samples.iter().map(|x| x[SYNTH_MARKER_ROW]).filter(|m| *m != 0.0).collect();
        assert_eq!(markers, vec![3.5], "{mode}");
        let mut aux = SampleMatrix::default();
        s.get_board_data(5, Preset::Auxiliary, &mut aux).unwrap();
        assert_eq!(aux.rows(), 20, "{mode}: auxiliary preset layout");
    }
}

#[test]
fn playback_in_shadow_and_standby_reads_the_file_once_and_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recording.csv");
    let lines: Vec<String> = (0..300)
        .map(|i| (0..24).map(|r| format!("{}", (i * 24 + r) as f64 * 0.5)).collect::<Vec<_>>().join("\t"))
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    for mode in ["shadow", "standby"] {
        let config = ConfigFile::new(&format!("boards:\n  playback: {mode}\n"));
        let runtime = config.runtime();
        let params = InputParams { file: file.display().to_string(), master_board: 0, ..InputParams::default() };
        let mut s = runtime.open(BoardId::PlaybackFile, params);
        s.prepare_session().unwrap();
        s.start_stream(10_000).unwrap();
        let mut got = Collected::new();
        got.until(&mut s, 200, LIMIT);
        for (i, sample) in got.samples.iter().enumerate() {
            assert_eq!(sample[1], (i * 24 + 1) as f64 * 0.5, "{mode}: sample {i}");
        }
        let shadow = runtime.kind(BoardId::PlaybackFile).counters.shadow.clone();
        wait_for("comparisons", LIMIT, || {
            got.drain(&mut s);
            shadow.compared() >= 100
        });
        assert_eq!(shadow.mismatched(), 0, "{mode}");
        assert_eq!(s.failovers(), 0, "{mode}");
    }
}

#[test]
fn many_concurrent_sessions_in_mixed_modes_lose_nothing_and_leak_no_thread() {
    let baseline = thread_count();
    let yaml = "boards:\n  synthetic:\n    mode: standby\n    percent: 50\n    targeting:\n      - { name: shadowed, serve: shadow, serial_number: [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9] }\n";
    let config = ConfigFile::new(yaml);
    let runtime = config.runtime();
    let sessions: Vec<_> = (0..200u64)
        .map(|i| {
            let key = if i < 10 { format!("s{i}") } else { format!("dev-{i}") };
            started(&runtime, i, &key)
        })
        .collect();
    let paths: std::collections::BTreeSet<&str> = sessions.iter().map(|s| s.path().as_str()).collect();
    assert!(paths.len() >= 3, "mixed modes: {paths:?}");
    let mut groups: Vec<Vec<switchyard::Session>> = (0..4).map(|_| Vec::new()).collect();
    for (i, s) in sessions.into_iter().enumerate() {
        groups[i % 4].push(s);
    }
    let mut workers = Vec::new();
    for mut group in groups {
        workers.push(std::thread::spawn(move || {
            let mut served: Vec<Collected> = group.iter().map(|_| Collected::new()).collect();
            for _ in 0..10 {
                for (s, c) in group.iter_mut().zip(&mut served) {
                    c.drain(s);
                }
                std::thread::sleep(Duration::from_millis(30));
            }
            let mut results = Vec::new();
            for (mut s, mut c) in group.into_iter().zip(served) {
                s.stop_stream().unwrap();
                c.drain(&mut s);
                let packages: Vec<u32> = c.samples.iter().map(|x| x[0] as u32).collect();
                results.push((packages, s.dropped_samples()));
                s.release_session().unwrap();
            }
            results
        }));
    }
    for w in workers {
        for (packages, dropped) in w.join().unwrap() {
            assert_eq!(dropped, 0);
            assert!(packages.len() >= 50, "every session streamed");
            assert_eq!(packages[0], 0, "served from the first sample");
            assert!(packages.windows(2).all(|p| p[1] == (p[0] + 1) % 256), "a sample was lost or repeated");
        }
    }
    drop(runtime);
    wait_for("worker threads to exit", LIMIT, || thread_count() <= baseline + 2);
}

#[test]
fn sessions_without_identity_keep_their_random_bucket_across_reloads() {
    // Sticky by serial number only, and these sessions have none: each bucket is drawn
    // at random once, when the session starts.
    let yaml = |p: u32, extra: &str| {
        format!("boards:\n  synthetic:\n    mode: rust\n    percent: {p}\n    stickiness: serial_number\n    follow_percent_decrease: true\n{extra}")
    };
    let config = ConfigFile::new(&yaml(50, ""));
    let runtime = config.runtime();
    let live: Vec<_> = (0..60).map(|i| started(&runtime, i, "")).collect();
    let on_rust = || live.iter().map(|s| s.path() == Path::Rust).collect::<Vec<bool>>();
    let at_50 = on_rust();
    assert!(at_50.iter().any(|r| *r) && at_50.iter().any(|r| !*r), "a 50% split of 60 random buckets: {at_50:?}");

    config.change(&runtime, &yaml(60, ""));
    assert_eq!(on_rust(), at_50, "raising the percentage moves no live session to C++");
    config.change(&runtime, &yaml(60, "  playback: cpp\n"));
    assert_eq!(on_rust(), at_50, "an edit to another board moves no session");

    config.change(&runtime, &yaml(20, "  playback: cpp\n"));
    let at_20 = on_rust();
    assert!(at_20.iter().zip(&at_50).all(|(now, before)| !*now || *before), "lowering only moves sessions to C++");
    assert!(at_20.iter().filter(|r| **r).count() < at_50.iter().filter(|r| **r).count(), "{at_20:?}");
    config.change(&runtime, &yaml(20, ""));
    assert_eq!(on_rust(), at_20, "re-deciding at the same percentage keeps every session where it is");
}

#[test]
fn a_rust_callers_error_reaches_the_caller_and_never_counts_against_rust() {
    // STREAM_ALREADY_RUN_ERROR is the caller's wrong call order: returned as it is, no
    // failover, and the breaker (minimum_calls 5, 50%) must not count it as a failure.
    let config = ConfigFile::new(&synthetic_yaml("rust", "", ""));
    let runtime = config.runtime();
    let kind = runtime.kind(BoardId::Synthetic).clone();
    let mut s = started(&runtime, 3, "dev-1");
    for _ in 0..10 {
        let e = s.start_stream(45_000).unwrap_err();
        assert_eq!(e.code, ExitCode::StreamAlreadyRunError);
    }
    assert_eq!(s.path(), Path::Rust);
    assert_eq!(s.failovers(), 0);
    let snapshot = kind.breaker.snapshot();
    assert_eq!(snapshot.state, breaker::State::Closed);
    assert_eq!(snapshot.failed_in_window, 0, "caller errors counted as failures: {snapshot:?}");
    s.release_session().unwrap();
}
