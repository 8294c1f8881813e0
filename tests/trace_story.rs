//! One Cyton session over the emulator, followed in JSON logs through a failover: every
//! expected event of both languages is there, each with the session's id and a call id,
//! and the C++ reader thread's lines carry the id of the call that started it.
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
            .with(tracing_subscriber::EnvFilter::new("info,core_cpp::cyton=trace"))
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
    // The Rust board, on its worker thread, in the caller's call span.
    let rust_prepared = find("rust_boards::cyton::board", "prepared");
    assert_eq!(call_of(rust_prepared), prepare_call);
    assert_eq!(rust_prepared["op"], "prepare_session");

    let failed = find("switchyard::dispatch::rust_side", "rust path call failed");
    let failover = find("switchyard::dispatch::session", "session failed over to C++");
    let failover_call = call_of(failover);
    assert_eq!(call_of(failed), failover_call);
    assert_ne!(failover_call, prepare_call);
    // The C++ side's own lines: the handshake in the failing call, and the reader thread
    // it started, under that same call.
    let greeted = find("core_cpp::cyton", "board answered the greeting and took its defaults");
    assert_eq!(call_of(greeted), failover_call);
    assert_eq!(greeted["board"], "cyton");
    assert!(greeted["file"].as_str().unwrap().ends_with("cyton_board.cc"), "{greeted}");
    assert!(greeted["spans"].as_array().unwrap().contains(&Value::from("prepare_device")), "{greeted}");
    let reader = find("core_cpp::cyton", "serial reader started");
    assert_eq!(call_of(reader), failover_call);
    assert!(reader["spans"].as_array().unwrap().contains(&Value::from("reader")), "{reader}");

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
    // Garbage on the wire makes the C++ decoder log (trace) on the session's thread; the
    // failing Rust shadow job logs on its worker. One read's lines must share a call id.
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
        let rust = calls("switchyard::dispatch::rust_side", "rust shadow call failed");
        cpp.intersection(&rust).next().copied()
    };
    wait_for("a read whose C++ and Rust lines share a call id", LIMIT, || {
        got.drain(&mut s);
        shared_call().is_some()
    });
    s.release_session().unwrap();
}
