//! `switchyard drill` end to end: the real binary, a fault on the synthetic board's Rust
//! path, and the verdict in the exit code.

use std::process::Command;

const CONFIG: &str = "boards:\n  synthetic:\n    mode: rust\n    breaker:\n      minimum_calls: 5\n      window: { calls: 20 }\n      open_wait: 300ms\n";

fn drill(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchyard.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("drill")
        .arg("--config")
        .arg(&config)
        .args(["--board", "synthetic", "--warmup", "300ms", "--sessions", "4"])
        .args(args)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_drill_prints_the_incident_timeline_and_passes_when_callers_saw_nothing() {
    let (code, stdout, stderr) = drill(&["--fault", "errors=100%", "--for", "2s", "--max-fallback", "30s"]);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let at = |step: &str| stdout.find(step).unwrap_or_else(|| panic!("`{step}` missing in:\n{stdout}"));
    // Probes may start while the fault still lasts (and reopen the breaker); the order
    // that must hold is this.
    assert!(at("fault start") < at("every synthetic session on C++"), "{stdout}");
    assert!(at("fault start") < at("breaker OPEN"), "{stdout}");
    assert!(at("breaker OPEN") < at("HALF_OPEN"), "{stdout}");
    assert!(at("fault end") < at("CLOSED again"), "{stdout}");
    assert!(at("CLOSED again") < at("DRILL PASSED"), "{stdout}");
    assert!(stdout.contains("0 caller errors"), "{stdout}");
}

#[test]
fn a_fallback_slower_than_the_bound_fails_the_drill() {
    let (code, stdout, _) = drill(&["--fault", "errors=100%", "--for", "1s", "--max-fallback", "0s"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("DRILL FAILED"), "{stdout}");
}

#[test]
fn a_malformed_fault_is_a_usage_error() {
    let (code, _, stderr) = drill(&["--fault", "gremlins=5%"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("gremlins"), "{stderr}");
}

#[test]
fn a_board_without_a_rust_twin_cannot_be_drilled() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchyard.yaml");
    std::fs::write(&config, "boards:\n  brainbit: cpp\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["drill", "--config"])
        .arg(&config)
        .args(["--board", "brainbit", "--fault", "errors=30%"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("brainbit has no Rust twin (only BrainFlow's library implements it): there is no Rust path to drill"), "{stderr}");
}
