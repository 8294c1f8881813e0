//! One Cyton session over the emulator, followed in JSON logs through a failover: every
//! expected event is there, each with the session's id and a call id (a caller's call, or
//! a pump turn), and in shadow mode both languages' lines of one turn share its call id.
//! Its own test binary: the subscriber is process-wide (C++ and worker threads log too).

mod common;

use board_api::{Board, BoardId, InputParams};
use common::*;
use emulator::{Emulator, EmulatorOptions};
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use toggles::Path;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const LIMIT: Duration = Duration::from_secs(30);

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's one subscriber: info, and the Cyton C++ decoder's lines down to trace.
fn captured() -> &'static Captured {
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("info,core_cpp::cyton=trace,switchyard::pump=debug"))
            .with(switchyard::logging::JsonLines::new(move || writer.clone()))
            .init();
        captured
    })
}

/// What was logged since byte `from` of the capture.
fn captured_lines(from: usize) -> (String, Vec<Value>) {
    let text = String::from_utf8(captured().0.lock().unwrap()[from..].to_vec()).unwrap();
    let lines = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (text, lines)
}

fn cyton_yaml(mode: &str, faults: &str) -> String {
    let faults = if faults.is_empty() { String::new() } else { format!("    faults: {{ {faults} }}\n") };
    format!("boards:\n  cyton:\n    mode: {mode}\n    breaker: {{ minimum_calls: 5, slow_call_duration: 300ms }}\n{faults}")
}

fn captured_len() -> usize {
    captured().0.lock().unwrap().len()
}

// Both scenarios run in one test, one after the other: session ids are per runtime, so
// each scenario reads only what was logged after it began.
#[test]
fn one_session_s_story_in_json_logs() {
    one_cyton_session_through_a_failover();
    in_shadow_both_sides_events_of_one_read_share_its_call_id();
}

fn one_cyton_session_through_a_failover() {
    let from = captured_len();

    let emu = Emulator::start(EmulatorOptions::cyton(8)).unwrap();
    let config = ConfigFile::new(&cyton_yaml("rust", ""));
    let runtime = config.runtime();
    let params = InputParams { serial_port: emu.port_path().display().to_string(), ..InputParams::default() };
    let mut s = runtime.open(BoardId::Cyton, params);
    s.prepare_session().unwrap();
    s.start_stream(10_000).unwrap();
    let mut got = Collected::new();
    got.until(&mut s, 50, LIMIT);
    config.change(&runtime, &cyton_yaml("rust", "error_rate: 100"));
    let before = got.samples.len();
    got.until(&mut s, before + 50, LIMIT);
    assert_eq!(s.path(), Path::Cpp);
    assert_eq!(s.failovers(), 1);
    s.stop_stream().unwrap();
    s.release_session().unwrap();
    let id = s.id();
    drop(s);

    let (text, lines) = captured_lines(from);
    // What `jq 'select(.session_id == ID)'` would show.
    let story: Vec<&Value> = lines.iter().filter(|l| l["session_id"] == id).collect();
    let find = |target: &str, message: &str| -> &Value {
        story
            .iter()
            .copied()
            .find(|l| l["target"] == target && l["message"] == message)
            .unwrap_or_else(|| panic!("no {target} {message:?} in session {id}'s story:\n{text}"))
    };
    let call_of = |line: &Value| line["call_id"].as_u64().unwrap_or_else(|| panic!("no call_id on {line}"));

    let flag = find("switchyard::feature_flag", "feature flag evaluated");
    assert_eq!(flag["name"], "feature_flag.evaluation");
    assert_eq!(flag["feature_flag.key"], "cyton");
    assert_eq!(flag["feature_flag.result.variant"], "rust");
    assert_eq!(flag["feature_flag.result.reason"], "static");
    assert_eq!(flag["feature_flag.provider.name"], "switchyard");
    assert!(flag["feature_flag.version"].as_u64().is_some());
    let prepare_call = call_of(flag);
    let decision = find("switchyard::dispatch::session", "routing decision");
    assert_eq!(call_of(decision), prepare_call);

    // The Rust decoder's job failed on its worker, in the pump turn that queued it; the
    // C++ decoder joined in a later turn (or read) and the session counted the failover.
    let failed = find("switchyard::dispatch::rust_side", "rust path job failed");
    assert_eq!(failed["op"], "pump");
    let switched = find("switchyard::dispatch::stream", "stream switched sides");
    assert_eq!(switched["to"], "cpp");
    assert_eq!(switched["joined"], true);
    let failover = find("switchyard::dispatch::session", "session failed over to C++");
    let failover_call = call_of(failover);
    assert_eq!(call_of(switched), failover_call);
    assert_ne!(failover_call, prepare_call);
    assert!(call_of(failed) <= failover_call, "the failure came first");

    // Every line of the session's story names its board and a call.
    for line in &story {
        assert!(line["board"].as_str().is_some_and(|b| b.starts_with("cyton")), "{line}");
        call_of(line);
    }
    // Nothing about this session escaped its spans.
    assert!(lines.iter().all(|l| l["session"] != id || l["session_id"] == id), "{text}");
}

fn in_shadow_both_sides_events_of_one_read_share_its_call_id() {
    let from = captured_len();
    // Garbage on the wire makes the C++ decoder log (trace) in the pump turn; the failing
    // Rust shadow job logs on its worker. One turn's lines must share a call id.
    let options = EmulatorOptions {
        faults: emulator::Faults { garbage_every: Some(1), ..emulator::Faults::default() },
        ..EmulatorOptions::cyton(9)
    };
    let emu = Emulator::start(options).unwrap();
    let config = ConfigFile::new(&cyton_yaml("shadow", "error_rate: 100"));
    let runtime = config.runtime();
    let params = InputParams { serial_port: emu.port_path().display().to_string(), ..InputParams::default() };
    let mut s = runtime.open(BoardId::Cyton, params);
    s.prepare_session().unwrap();
    assert_eq!(s.path(), Path::Shadow);
    s.start_stream(10_000).unwrap();
    let id = s.id();
    let mut got = Collected::new();
    let shared_call = || {
        let (_, lines) = captured_lines(from);
        let calls = |target: &str, message: &str| -> std::collections::HashSet<u64> {
            lines
                .iter()
                .filter(|l| l["session_id"] == id && l["target"] == target && l["message"] == message)
                .filter_map(|l| l["call_id"].as_u64())
                .collect()
        };
        let cpp = calls("core_cpp::cyton", "skipped a byte looking for a packet header");
        let rust = calls("switchyard::dispatch::rust_side", "rust path job failed");
        cpp.intersection(&rust).next().copied()
    };
    wait_for("a turn whose C++ and Rust lines share a call id", LIMIT, || {
        got.drain(&mut s);
        shared_call().is_some()
    });
    s.release_session().unwrap();
}
