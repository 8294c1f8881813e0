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

/// The whole message `check` prints for a refused file, without the file name.
fn message(yaml: &str) -> String {
    let e = reject(yaml);
    let text = e.to_string();
    let file = e.file.display().to_string();
    text.strip_prefix(&file).unwrap_or(&text).to_owned()
}

#[test]
fn yaml_forms_are_refused_in_our_words() {
    let cases: &[(&str, &str)] = &[
        (
            "boards:\n  cyton: rust\n  cyton: cpp\n",
            ":3:3: boards.cyton: `cyton` is given twice (first at line 2, column 3); keep one",
        ),
        (
            "boards:\n  cyton: rust\n---\nboards:\n  cyton: cpp\n",
            ":3:1: a second YAML document starts here (after a `---` line); a config is one document: remove the `---` and keep one set of settings",
        ),
        (
            "boards:\n",
            ":1:7: boards: has nothing under it; list each board with its mode (like `cyton: rust`), or write `boards: {}` for none",
        ),
        (
            "boards:\n  cyton:\n",
            ":2:8: boards.cyton: has no value; give a mode (like `cyton: rust`) or a map of settings with `mode:`",
        ),
        (
            "boards:\n  cyton:\n    mode: rust\n    percent: [50]\n",
            ":4:14: boards.cyton.percent: is a list; write a number from 0 to 100, like 50 (one value, no brackets)",
        ),
        (
            "boards:\n  cyton:\n    mode: rust\n    percent: NaN\n",
            ":4:14: boards.cyton.percent: NaN is not a finite number; write a number from 0 to 100, like 50",
        ),
        (
            "boards:\n  cyton:\n    mode: rust\n    percent: 50%\n",
            ":4:14: boards.cyton.percent: 50% has a % sign; write the number alone, like 50",
        ),
        (
            "boards:\n  cyton:\n    mode: rust\n    percent: 0x32\n",
            ":4:14: boards.cyton.percent: 0x32 is not written in decimal; write 50",
        ),
        (
            "boards:\n  cyton:\n    mode: rust\n    ramp:\n      start: 2026-01-01T00:00:00Z\n      step_duration: 1h\n      steps: [1, .nan]\n",
            ":7:18: boards.cyton.ramp.steps[1]: .nan is not a finite number; write a number from 0 to 100, like 50",
        ),
    ];
    for (yaml, expected) in cases {
        assert_eq!(&message(yaml), expected, "for {yaml:?}");
    }
}

#[test]
fn booleans_are_lower_case_and_unquoted() {
    for (value, fix) in [("True", "true"), ("TRUE", "true"), ("False", "false"), ("yes", "true"), ("off", "false")] {
        assert_eq!(
            message(&format!("kill_switch: {value}\nboards: {{}}\n")),
            format!(":1:14: kill_switch: {value} is not how this config writes a boolean; write {fix} (lower case)")
        );
    }
    assert_eq!(
        message("kill_switch: \"true\"\nboards: {}\n"),
        ":1:14: kill_switch: \"true\" is quoted, so it is text, not a boolean; write true without quotes"
    );
    assert_eq!(
        message("boards:\n  cyton:\n    mode: rust\n    follow_percent_decrease: 'false'\n"),
        ":4:30: boards.cyton.follow_percent_decrease: \"false\" is quoted, so it is text, not a boolean; write false without quotes"
    );
    assert_eq!(
        message("boards:\n  cyton:\n    mode: rust\n    faults:\n      hang: \"true\"\n"),
        ":5:13: boards.cyton.faults.hang: \"true\" is quoted, so it is text, not a number or a boolean; write true without quotes"
    );
}

#[test]
fn numbers_are_not_quoted() {
    for (value, bare) in [("\"50\"", "50"), ("\" 50 \"", "50"), ("\"1e1\"", "1e1"), ("'25'", "25")] {
        let shown = format!("{:?}", value.trim_matches(['"', '\'']));
        assert_eq!(
            message(&format!("boards:\n  cyton:\n    mode: rust\n    percent: {value}\n")),
            format!(":4:14: boards.cyton.percent: {shown} is quoted, so it is text, not a number; write {bare} without quotes")
        );
    }
    assert_eq!(
        message("boards:\n  cyton:\n    mode: rust\n    breaker:\n      minimum_calls: \"20\"\n"),
        ":5:22: boards.cyton.breaker.minimum_calls: \"20\" is quoted, so it is text, not a number; write 20 without quotes"
    );
    // An alias carries the anchored scalar's form with it.
    assert_eq!(
        message("boards:\n  cyton:\n    mode: rust\n    salt: &p \"50\"\n    percent: *p\n"),
        ":5:14: boards.cyton.percent: \"50\" is quoted, so it is text, not a number; write 50 without quotes"
    );
}

#[test]
fn a_key_given_twice_through_merge_keys_is_an_error() {
    assert_eq!(
        message("boards:\n  <<: {cyton: rust}\n  cyton: cpp\n"),
        ":3:3: boards.cyton: `cyton` is given here and also through the merge key `<<` at line 2, column 3; YAML would keep this one silently: give it once"
    );
    assert_eq!(
        message("boards:\n  <<: [{cyton: rust}, {cyton: cpp}]\n"),
        ":2:3: boards.cyton: `cyton` is in more than one of the maps this merge key `<<` brings in; YAML would keep one silently: give it once"
    );
    assert_eq!(
        message("boards:\n  cyton: &c\n    mode: rust\n    percent: 5\n  cyton_daisy:\n    <<: *c\n    percent: 10\n"),
        ":7:5: boards.cyton_daisy.percent: `percent` is given here and also through the merge key `<<` at line 6, column 5; YAML would keep this one silently: give it once"
    );
    // Merging without overlap stays allowed.
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "ok.yaml", b"boards:\n  cyton: &c\n    mode: rust\n    percent: 5\n  cyton_daisy:\n    <<: *c\n    salt: daisy\n");
    let (config, _) = toggles::load_file(&path).unwrap();
    assert_eq!(config.board(board_api::BoardId::CytonDaisy).percent_at(toggles::Timestamp(0)).basis_points(), 500);
}

#[test]
fn ramp_errors_point_at_the_value_and_suggest_a_valid_one() {
    let ramp = |duration: &str, steps: &str| {
        format!("boards:\n  cyton:\n    mode: rust\n    ramp:\n      start: 2026-01-01T00:00:00Z\n      step_duration: {duration}\n      steps: {steps}\n")
    };
    assert_eq!(
        message(&ramp("0s", "[1, 100]")),
        ":6:22: boards.cyton.ramp.step_duration: 0s is shorter than 1s, the shortest ramp step (it must last long enough to observe); write 1s or more, like 30s, 10m or 1h"
    );
    assert_eq!(
        message(&ramp("0", "[1, 100]")),
        ":6:22: boards.cyton.ramp.step_duration: 0 has no unit, and a ramp step lasts at least 1s; write it like 30s, 10m or 1h"
    );
    assert_eq!(message(&ramp("30", "[1, 100]")), ":6:22: boards.cyton.ramp.step_duration: 30 has no unit; write it like 30s or 30m");
    assert_eq!(
        message(&ramp("1h", "[]")),
        ":7:14: boards.cyton.ramp.steps: a ramp needs at least one step, like [1, 5, 25, 100]"
    );
}

#[test]
fn non_utf8_bytes_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "latin1.yaml",
        b"boards:\n  cyton:\n    mode: rust\n    targeting:\n      - serve: cpp\n        serial_number: [\"caf\xe9\"]\n",
    );
    let e = toggles::load_file(&path).unwrap_err();
    assert_eq!((e.line, e.column), (Some(6), Some(29)), "{e}");
    assert!(e.problem.starts_with("byte 0xe9 at offset 94 is not UTF-8 text; save the file as UTF-8"), "{e}");
}

#[test]
fn operator_fuzz_inputs_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    // A ramp that started in the past with a step of a year: valid, on its first step.
    let path = write(dir.path(), "year.yaml", b"boards:\n  cyton:\n    mode: rust\n    ramp:\n      start: 2020-01-01T00:00:00Z\n      step_duration: 8760h\n      steps: [1, 50]\n");
    let (config, _) = toggles::load_file(&path).unwrap();
    let now = toggles::Timestamp::parse("2020-06-01T00:00:00Z").unwrap();
    assert_eq!(config.board(board_api::BoardId::Cyton).percent_at(now).basis_points(), 100);
    // 10,000 targeting values, and a 100 KB one: accepted and matched.
    let mut yaml = String::from("boards:\n  cyton:\n    mode: rust\n    percent: 0\n    targeting:\n      - serve: rust\n        serial_number:\n");
    for i in 0..10_000 {
        yaml.push_str(&format!("          - SN{i:05}\n"));
    }
    let long = "x".repeat(100 * 1024);
    yaml.push_str(&format!("          - {long}\n"));
    let path = write(dir.path(), "many.yaml", yaml.as_bytes());
    let (config, _) = toggles::load_file(&path).unwrap();
    for serial in ["SN09999", long.as_str()] {
        let params = board_api::InputParams { serial_number: serial.to_owned(), ..Default::default() };
        let d = config.decide(board_api::BoardId::Cyton, &toggles::SessionIdentity::new(&params), now, 1);
        assert_eq!(d.path, toggles::Path::Rust, "{serial:.10}");
    }
}

#[test]
fn legacy_brainflow_is_refused_where_it_cannot_serve() {
    assert_eq!(
        message("boards:\n  synthetic:\n    mode: shadow\n    legacy: brainflow\n"),
        ":4:13: boards.synthetic.legacy: synthetic cannot run shadow or standby against BrainFlow's library: BrainFlow's synthetic generator is unseeded, so its values can never equal the Rust twin's and a comparison would report only noise; use mode cpp or rust with legacy: brainflow, or legacy: core_cpp for shadow and standby"
    );
    // Playback shares its file with BrainFlow's playback board: standby against it is fine.
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "playback.yaml", b"boards:\n  playback:\n    mode: rust\n    legacy: brainflow\n    targeting:\n      - serve: standby\n        file: [a.csv]\n");
    assert!(toggles::load_file(&path).is_ok(), "{:?}", toggles::load_file(&path).err().map(|e| e.to_string()));
    assert_eq!(
        message("boards:\n  muse_2:\n    mode: rust\n    legacy: brainflow\n"),
        ":4:13: boards.muse_2.legacy: muse_2 has no C++ path in switchyard (it is Rust-only), so no legacy library serves it; remove legacy"
    );
    assert!(message("boards:\n  cyton:\n    mode: rust\n    legacy: brainflw\n").contains("boards.cyton.legacy: unknown variant `brainflw`"));
    assert!(message("brainflow:\n  libary: x\nboards: {}\n").contains("brainflow.libary: unknown field `libary`"));
    // Accepted: the library path is the runtime's to load, and `check` loads it.
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bf.yaml", b"brainflow:\n  library: /opt/brainflow/lib/libBoardController.so\nboards:\n  cyton:\n    mode: shadow\n    legacy: brainflow\n");
    let (config, _) = toggles::load_file(&path).unwrap();
    assert_eq!(config.board(board_api::BoardId::Cyton).legacy, toggles::Legacy::BrainFlow);
    assert_eq!(config.brainflow_library.as_deref(), Some(Path::new("/opt/brainflow/lib/libBoardController.so")));
    assert!(config.uses_brainflow());
}

#[test]
fn boards_only_brainflow_implements_are_named_as_brainflow_names_them_and_run_only_cpp() {
    let twinned = "playback, synthetic, cyton, cyton_daisy, muse_2, muse_s, ganglion_native";
    assert_eq!(
        message("boards:\n  brainbit: rust\n"),
        format!(":2:13: boards.brainbit.mode: brainbit has no Rust twin (only BrainFlow's library implements it), so `rust` is not available; use cpp. Boards with Rust twins: {twinned}")
    );
    for mode in ["shadow", "standby"] {
        let e = message(&format!("boards:\n  unicorn:\n    mode: {mode}\n"));
        assert!(e.contains(&format!("boards.unicorn.mode: unicorn has no Rust twin (only BrainFlow's library implements it), so `{mode}` is not available; use cpp. Boards with Rust twins: {twinned}")), "{e}");
    }
    let e = message("boards:\n  galea:\n    mode: cpp\n    targeting:\n      - serve: rust\n        serial_number: [G1]\n");
    assert!(e.contains("boards.galea.targeting[0].serve: galea has no Rust twin"), "{e}");
    let e = message("boards:\n  freeeeg32:\n    mode: cpp\n    legacy: core_cpp\n");
    assert!(e.contains("boards.freeeeg32.legacy: switchyard's C++ core has no freeeeg32 board: only BrainFlow's library serves it"), "{e}");
    let e = message("boards:\n  brainbit_board: cpp\n");
    assert!(e.contains("unknown board `brainbit_board`") && e.contains("every other BrainFlow board by its BoardIds name in lower case without `_board`"), "{e}");

    // Accepted: mode cpp, its legacy BrainFlow's library whether the file says so or not.
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bf.yaml", b"boards:\n  brainbit: cpp\n  neuropawn_knight_imu:\n    mode: cpp\n    legacy: brainflow\n    breaker: { minimum_calls: 5 }\n");
    let (config, _) = toggles::load_file(&path).unwrap();
    let brainbit = board_api::BoardId::from_id(7).unwrap();
    let knight_imu = board_api::BoardId::from_id(66).unwrap();
    for board in [brainbit, knight_imu] {
        assert!(config.board(board).listed);
        assert_eq!(config.board(board).legacy, toggles::Legacy::BrainFlow);
    }
    assert_eq!(config.board(knight_imu).breaker.minimum_calls, 5);
    assert!(config.uses_brainflow());
    let listed: Vec<&str> = config.boards().map(|b| b.board.kind()).filter(|k| k.starts_with("brainbit") || k.starts_with("neuropawn")).collect();
    assert_eq!(listed, ["brainbit", "neuropawn_knight_imu"]);
    // Unnamed, such a board is still cpp on BrainFlow's library, and not in the summary.
    let unicorn = board_api::BoardId::from_id(8).unwrap();
    assert_eq!(config.board(unicorn).legacy, toggles::Legacy::BrainFlow);
    assert_eq!(config.board(unicorn).mode, toggles::Path::Cpp);
    assert!(!config.boards().any(|b| b.board == unicorn));
}

#[test]
fn the_dongles_ganglion_runs_only_on_brainflows_library() {
    let e = message("boards:\n  ganglion: rust\n");
    assert!(e.contains("boards.ganglion.mode: ganglion has no Rust twin (only BrainFlow's library implements it), so `rust` is not available; use cpp"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "g.yaml", b"boards:\n  ganglion: cpp\n");
    let (config, _) = toggles::load_file(&path).unwrap();
    assert_eq!(config.board(board_api::BoardId::Ganglion).legacy, toggles::Legacy::BrainFlow);
}
