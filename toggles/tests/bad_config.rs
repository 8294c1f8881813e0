//! Every kind of bad input, from real files: each is rejected with the file, line,
//! column and field named, none panics, and none changes the config in force.

use std::path::{Path, PathBuf};
use toggles::{ConfigError, ReloadOutcome, ToggleStore};

const GOOD: &str = "boards:\n  cyton:\n    mode: rust\n    percent: 25\n";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn reject(yaml: &str) -> ConfigError {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "switchyard.yaml", yaml.as_bytes());
    let err = toggles::load_file(&path).expect_err("must be rejected");
    assert_eq!(err.file, path);
    // The same content must also be refused by a running store, leaving generation 1.
    let good = write(dir.path(), "live.yaml", GOOD.as_bytes());
    let store = ToggleStore::open(&good).unwrap();
    std::fs::write(&good, yaml).unwrap();
    assert!(matches!(store.reload(), ReloadOutcome::Rejected(_)));
    assert_eq!(store.load().generation, 1);
    assert_eq!(store.load().config.board(board_api::BoardId::Cyton).percent_at(toggles::Timestamp(0)).basis_points(), 2500);
    err
}

fn at(err: &ConfigError, line: u64, column: u64, field: &str) {
    assert_eq!((err.line, err.column), (Some(line), Some(column)), "{err}");
    assert_eq!(err.field, field, "{err}");
}

#[test]
fn wrong_types_name_line_column_and_field() {
    let e = reject("kill_switch: 3\nboards: {}\n");
    at(&e, 1, 14, "kill_switch");
    let e = reject("boards:\n  cyton:\n    mode: rust\n    percent: lots\n");
    at(&e, 4, 14, "boards.cyton.percent");
    let e = reject("boards:\n  cyton:\n    mode: rust\n    targeting: yes\n");
    assert_eq!(e.field, "boards.cyton.targeting", "{e}");
    let e = reject("boards:\n  cyton:\n    mode: rust\n    faults:\n      added_latency: 5\n");
    at(&e, 5, 22, "boards.cyton.faults.added_latency");
    assert!(e.problem.contains("no unit"), "{e}");
    let rendered = e.to_string();
    assert!(rendered.contains("switchyard.yaml:5:22: boards.cyton.faults.added_latency:"), "{rendered}");
}

#[test]
fn out_of_range_numbers_are_located() {
    let e = reject("boards:\n  cyton:\n    mode: rust\n    percent: 120\n");
    at(&e, 4, 14, "boards.cyton.percent");
    assert!(e.problem.contains("above 100"), "{e}");
    let e = reject("boards:\n  cyton:\n    mode: rust\n    percent: 12.345\n");
    assert!(e.problem.contains("0.01 resolution"), "{e}");
    let e = reject("boards:\n  cyton:\n    mode: shadow\n    shadow:\n      sample_percent: -5\n");
    at(&e, 5, 23, "boards.cyton.shadow.sample_percent");
    let e = reject("boards:\n  cyton:\n    mode: rust\n    breaker:\n      permitted_probes: 0\n");
    assert_eq!(e.field, "boards.cyton.breaker.permitted_probes", "{e}");
    assert!(e.line.is_some(), "{e}");
    let e = reject("boards:\n  cyton:\n    mode: rust\n    breaker:\n      minimum_calls: -3\n");
    assert_eq!(e.field, "boards.cyton.breaker.minimum_calls", "{e}");
}

#[test]
fn unknown_fields_and_boards_are_errors() {
    let e = reject("boards:\n  cyton:\n    mode: rust\n    percnt: 12\n");
    at(&e, 4, 5, "boards.cyton.percnt");
    assert!(e.problem.contains("unknown field `percnt`"), "{e}");
    let e = reject("kill_swich: true\n");
    at(&e, 1, 1, "kill_swich");
    let e = reject("boards:\n  cytn: rust\n");
    assert_eq!(e.field, "boards.cytn", "{e}");
    assert!(e.problem.contains("unknown board `cytn`"), "{e}");
    assert_eq!(e.line, Some(2), "{e}");
    let e = reject("boards:\n  cyton: rusty\n");
    assert!(e.problem.contains("rusty"), "{e}");
}

#[test]
fn modes_a_board_cannot_run_are_errors() {
    let e = reject("boards:\n  muse_2:\n    mode: shadow\n");
    at(&e, 3, 11, "boards.muse_2.mode");
    assert!(e.problem.contains("no C++ implementation"), "{e}");
    let e = reject("boards:\n  muse_s: cpp\n");
    assert_eq!(e.field, "boards.muse_s.mode", "{e}");
    assert_eq!(e.line, Some(2), "{e}");
    let e = reject("boards:\n  ganglion_native:\n    mode: rust\n    targeting:\n      - serve: standby\n        mac_address: [AA]\n");
    assert_eq!(e.field, "boards.ganglion_native.targeting[0].serve", "{e}");
    let e = reject("boards:\n  ganglion_native:\n    mode: rust\n    percent: 50\n");
    assert!(e.problem.contains("no C++ implementation"), "{e}");
}

#[test]
fn percentages_that_do_not_add_up_and_ramps_that_do_not_increase() {
    let e = reject("boards:\n  cyton:\n    mode: cpp\n    percent: 30\n");
    at(&e, 4, 14, "boards.cyton.percent");
    let e = reject("boards:\n  cyton:\n    mode: rust\n    percent: 30\n    ramp:\n      start: 2026-01-01T00:00:00Z\n      step_duration: 1h\n      steps: [1, 5]\n");
    assert_eq!(e.field, "boards.cyton.ramp", "{e}");
    let e = reject("boards:\n  cyton:\n    mode: rust\n    ramp:\n      start: 2026-01-01T00:00:00Z\n      step_duration: 1h\n      steps: [1, 25, 5, 100]\n");
    at(&e, 7, 22, "boards.cyton.ramp.steps[2]");
    assert!(e.problem.contains("must increase"), "{e}");
    let e = reject("boards:\n  cyton:\n    mode: rust\n    ramp:\n      start: yesterday\n      step_duration: 1h\n      steps: [1]\n");
    at(&e, 5, 14, "boards.cyton.ramp.start");
    let e = reject("boards:\n  cyton:\n    mode: rust\n    targeting:\n      - serve: rust\n");
    assert_eq!(e.field, "boards.cyton.targeting[0]", "{e}");
    assert!(e.problem.contains("matches no session"), "{e}");
}

#[test]
fn empty_garbage_huge_and_bombs_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("empty.yaml", b"".to_vec()),
        ("blank.yaml", b"   \n# only a comment\n".to_vec()),
        ("garbage.yaml", (0u8..=255).cycle().take(4096).collect::<Vec<u8>>()),
        ("nul.yaml", b"\x00\x01\x02 boards".to_vec()),
        ("big.yaml", {
            let mut v = b"boards:\n  cyton: rust\n".to_vec();
            v.resize(10 * 1024 * 1024, b'#');
            v
        }),
    ] {
        let path = write(dir.path(), name, &bytes);
        let e = toggles::load_file(&path).expect_err(name);
        assert_eq!(e.file, path);
        assert!(!e.problem.is_empty());
    }
    let e = toggles::load_file(&dir.path().join("big.yaml")).unwrap_err();
    assert!(e.problem.contains("at most 1048576 bytes"), "{e}");
    let e = toggles::load_file(&dir.path().join("empty.yaml")).unwrap_err();
    assert!(e.problem.contains("empty"), "{e}");

    // Billion laughs: nine levels of ten aliases each would expand to 10^9 nodes.
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..10 {
        let prev = level - 1;
        let refs = vec![format!("*a{prev}"); 10].join(", ");
        bomb.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
    }
    bomb.push_str("boards: {}\n");
    let e = reject(&bomb);
    eprintln!("bomb: {e}");
    assert!(!e.problem.is_empty());
    // Inside a field that is parsed (so unknown-field rejection cannot be what stops it).
    let mut nested = String::from("boards:\n  cyton:\n    mode: rust\n    targeting:\n      - serve: rust\n        serial_number: &l0 [a, b, c, d, e, f, g, h, i, j]\n        file: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]\n");
    for level in 2..9 {
        let refs = vec![format!("*l{}", level - 1); 10].join(", ");
        nested.push_str(&format!("        other_info: &l{level} [{refs}]\n"));
    }
    let e = reject(&nested);
    eprintln!("nested: {e}");
    assert!(!e.problem.is_empty());
}

#[test]
fn shipped_config_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/switchyard.yaml");
    let report = toggles::check_file(&path, toggles::Timestamp(0)).unwrap();
    let text = report.to_string();
    assert!(text.contains("cyton"), "{text}");
    assert!(text.contains("valid"), "{text}");
}
