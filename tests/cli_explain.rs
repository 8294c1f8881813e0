//! `switchyard explain`: the decision for one session, with reason, rule, bucket and ramp step.

use std::path::{Path, PathBuf};
use std::process::Command;

fn explain(args: &[&str]) -> (Option<i32>, String, String) {
    let config: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/switchyard.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("explain")
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn targeting_match_names_the_rule() {
    let (code, out, err) = explain(&["--board", "cyton", "--serial-number", "CY-00017"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("path:     cpp"), "{out}");
    assert!(out.contains("TARGETING_MATCH"), "{out}");
    assert!(out.contains("boards.cyton.targeting[1] (customer-pilots-opted-out)"), "{out}");
}

#[test]
fn split_shows_the_bucket_and_is_stable() {
    let (code, first, err) = explain(&["--board", "cyton", "--serial-number", "CY-0001"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(first.contains("SPLIT"), "{first}");
    assert!(first.contains("bucket:   0.414"), "{first}");
    assert!(first.contains("hash of serial_number"), "{first}");
    assert!(first.contains("inside 25%") || first.contains("outside 25%"), "{first}");
    let (_, second, _) = explain(&["--board", "cyton", "--serial-number", "CY-0001"]);
    let strip = |s: &str| s.lines().filter(|l| !l.starts_with("at:")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&first), strip(&second));
}

#[test]
fn ramp_step_and_next_step_are_shown() {
    let (code, out, err) = explain(&["--board", "cyton_daisy", "--mac-address", "AA:BB", "--at", "2026-12-01T10:30:00Z"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("ramp:     step 2 (5%) since 2026-12-01T10:00:00Z; next step at 2026-12-01T11:00:00Z"), "{out}");
    assert!(out.contains("boards.cyton_daisy.ramp.steps[1]"), "{out}");
    let (_, out, _) = explain(&["--board", "cyton_daisy", "--at", "2026-11-01T00:00:00Z"]);
    assert!(out.contains("not started"), "{out}");
}

#[test]
fn unknown_board_and_bad_config_exit_2() {
    let (code, _, err) = explain(&["--board", "cytn"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown board `cytn`"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "boards: [").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["explain", "--board", "cyton", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_session_without_identity_is_explained_as_a_draw_not_a_path() {
    // cyton in the shipped config: rust for 25%; no identity field given at all.
    let runs: Vec<String> = (0..8).map(|_| explain(&["--board", "cyton", "--at", "2026-12-01T10:30:00Z"]).1).collect();
    for out in &runs {
        assert!(out.contains("path:     drawn at random: rust with probability 25%, cpp otherwise"), "{out}");
        assert!(out.contains("bucket:   random: the session has none of the stickiness fields"), "{out}");
        assert!(!out.contains("path:     rust\n") && !out.contains("path:     cpp\n"), "{out}");
    }
    assert!(runs.windows(2).all(|w| w[0] == w[1]), "the same question gets the same answer: {runs:?}");
}
