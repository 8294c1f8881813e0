//! `switchyard check`: exit 0 with a per-board summary for a valid file, 2 with the
//! located error for an invalid one.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../brainflow_legacy/tests/support/mod.rs"]
mod brainflow;

fn switchyard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
}

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/switchyard.yaml")
}

#[test]
fn shipped_config_checks_clean() {
    let out = switchyard().arg("check").arg(shipped()).args(["--at", "2026-12-01T10:30:00Z"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("valid"), "{stdout}");
    assert!(stdout.contains("cyton            rust for 25% of sessions"), "{stdout}");
    assert!(stdout.contains("(step 2 of 4: 5% now)"), "{stdout}");
    assert!(stdout.contains("muse_2"), "{stdout}");
}

#[test]
fn broken_configs_exit_2_with_file_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("boards:\n  cyton:\n    mode: rust\n    percent: 150\n", ":4:14: boards.cyton.percent: 150 is above 100"),
        ("boards:\n  muse_s: shadow\n", "boards.muse_s.mode: muse_s has no C++ implementation"),
        ("boards:\n  cyton:\n    mode: rust\n    pecent: 5\n", ":4:5: boards.cyton.pecent: unknown field `pecent`"),
        ("", "empty"),
    ];
    for (i, (yaml, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let out = switchyard().arg("check").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(want), "wanted {want:?} in {stderr}");
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    }
    let out = switchyard().arg("check").arg(dir.path().join("missing.yaml")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_listen_address_beyond_loopback_is_valid_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.yaml");
    std::fs::write(&path, "monitoring:\n  listen: 0.0.0.0:9464\nboards:\n  cyton: rust\n").unwrap();
    let out = switchyard().arg("check").arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("warning: monitoring.listen: 0.0.0.0:9464 exposes the status page, metrics and controls beyond this host"),
        "{stdout}"
    );
    let quiet = switchyard().arg("check").arg(shipped()).output().unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stdout).contains("warning:"));
}

#[test]
fn a_brainflow_library_that_is_not_there_fails_check_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bf.yaml");
    std::fs::write(&path, "brainflow:\n  library: /nonexistent/libBoardController.so\nboards:\n  cyton:\n    mode: rust\n    legacy: brainflow\n").unwrap();
    let out = switchyard().arg("check").arg(&path).env_remove("SWITCHYARD_BRAINFLOW_LIBRARY").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("BrainFlow library /nonexistent/libBoardController.so: no such file"), "{stderr}");
    assert!(stderr.contains("the C++ path of cyton would be refused; every other board runs"), "{stderr}");
    // No library named at all, but a board needs one.
    std::fs::write(&path, "boards:\n  cyton:\n    mode: rust\n    legacy: brainflow\n").unwrap();
    let out = switchyard().arg("check").arg(&path).env_remove("SWITCHYARD_BRAINFLOW_LIBRARY").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the C++ path of cyton needs BrainFlow's library (legacy: brainflow), but none is named"));
}

#[test]
fn check_loads_brainflow_and_reports_its_version() {
    let library = brainflow::brainflow_library();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bf.yaml");
    std::fs::write(&path, format!("brainflow:\n  library: {}\nboards:\n  cyton:\n    mode: rust\n    legacy: brainflow\n", library.display())).unwrap();
    let out = switchyard().arg("check").arg(&path).env_remove("SWITCHYARD_BRAINFLOW_LIBRARY").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("loads, BrainFlow 5.23.0; serves the C++ path of cyton"), "{stdout}");
}

#[test]
fn boards_only_brainflow_implements_check_as_cpp_on_brainflows_library() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bf.yaml");
    // rust, shadow or standby: refused, naming the boards that have twins.
    for mode in ["rust", "shadow", "standby"] {
        std::fs::write(&path, format!("boards:\n  brainbit: {mode}\n")).unwrap();
        let out = switchyard().arg("check").arg(&path).env_remove("SWITCHYARD_BRAINFLOW_LIBRARY").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!(":2:13: boards.brainbit.mode: brainbit has no Rust twin (only BrainFlow's library implements it), so `{mode}` is not available; use cpp. Boards with Rust twins: playback, synthetic, cyton, cyton_daisy, muse_2, muse_s, ganglion_native")), "{stderr}");
    }
    // cpp without a library: the board would be refused, so check says what to set.
    std::fs::write(&path, "boards:\n  brainbit: cpp\n  unicorn: cpp\n").unwrap();
    let out = switchyard().arg("check").arg(&path).env_remove("SWITCHYARD_BRAINFLOW_LIBRARY").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the C++ path of brainbit, unicorn needs BrainFlow's library (legacy: brainflow), but none is named"), "{stderr}");
    // cpp with BrainFlow's library: valid, summarised under their names.
    let library = brainflow::brainflow_library();
    std::fs::write(&path, format!("brainflow:\n  library: {}\nboards:\n  brainbit: cpp\n  unicorn: cpp\n", library.display())).unwrap();
    let out = switchyard().arg("check").arg(&path).env_remove("SWITCHYARD_BRAINFLOW_LIBRARY").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("brainbit         cpp; C++ path: BrainFlow's library"), "{stdout}");
    assert!(stdout.contains("loads, BrainFlow 5.23.0; serves the C++ path of brainbit, unicorn"), "{stdout}");
}
