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
    assert!(out.contains("ramp:     step 2 (5%) since 2026-11-30T12:00:00Z; next step at 2027-06-01T00:00:00Z"), "{out}");
    assert!(out.contains("boards.cyton_daisy.ramp.steps[1]"), "{out}");
    let (_, out, _) = explain(&["--board", "cyton_daisy", "--at", "2026-05-01T00:00:00Z"]);
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

fn explain_fleet(dir: &Path, csv: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let inventory = dir.join("devices.csv");
    std::fs::write(&inventory, csv).unwrap();
    let mut args = vec!["--identities", inventory.to_str().unwrap(), "--at", "2026-12-01T10:30:00Z"];
    args.extend_from_slice(extra);
    explain(&args)
}

#[test]
fn a_fleet_inventory_is_placed_now_and_under_a_proposal() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/switchyard.yaml")).unwrap();
    let proposed = dir.path().join("proposed.yaml");
    assert!(shipped.contains("percent: 25"));
    std::fs::write(&proposed, shipped.replacen("percent: 25", "percent: 30", 1)).unwrap();
    let mut csv = String::from("board,serial_number\n");
    for i in 0..2_000 {
        csv.push_str(&format!("cyton,FLEET-{i:05}\n"));
    }
    csv.push_str("cyton,\n");
    let (code, json, err) = explain_fleet(dir.path(), &csv, &["--proposed", proposed.to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let cyton = &report["boards"][0];
    assert_eq!(cyton["board"], "cyton");
    assert_eq!(cyton["devices"], 2_001);
    let (now, proposed_counts) = (&cyton["now"], &cyton["proposed"]);
    assert_eq!(now["random"], 1, "the row without identity is a draw, not a path");
    let rust_now = now["rust"].as_u64().unwrap();
    let rust_then = proposed_counts["rust"].as_u64().unwrap();
    let changes = cyton["changes"].as_array().unwrap();
    // Raising 25% to 30% moves devices one way only, and exactly the difference.
    assert!(changes.iter().all(|c| c["from"] == "cpp" && c["to"] == "rust"), "{changes:?}");
    assert_eq!(rust_then - rust_now, changes.len() as u64);
    assert!((60..150).contains(&changes.len()), "about 5% of 2000: {}", changes.len());
    // Every listed device really changes: explain one of them alone under each config.
    let serial = changes[0]["identity"]["serial_number"].as_str().unwrap();
    let (_, alone, _) = explain(&["--board", "cyton", "--serial-number", serial, "--at", "2026-12-01T10:30:00Z"]);
    assert!(alone.contains("path:     cpp"), "{alone}");

    let (code, text, _) = explain_fleet(dir.path(), &csv, &["--proposed", proposed.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert!(text.contains("cyton: 2001 devices"), "{text}");
    assert!(text.contains(&format!("{} devices change path", changes.len())), "{text}");
    assert!(text.contains(&format!("serial_number={serial}")), "{text}");
    assert!(text.contains("1 devices have none of the board's stickiness fields"), "{text}");
}

#[test]
fn a_bad_inventory_says_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("serial,x\n1,2\n", "devices.csv:1: unknown column `serial`; the header names identity fields"),
        ("serial_number\nA\n", "devices.csv:1: no `board` column: name the board with --board, or add a `board` column"),
        ("board,serial_number\ncyton,A\ncytn,B\n", "devices.csv:3: unknown board `cytn`"),
        ("board,serial_number\ncyton,A,extra\n", "devices.csv:2: 3 fields where the header has 2"),
    ];
    for (csv, want) in cases {
        let (code, _, err) = explain_fleet(dir.path(), csv, &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(want), "wanted {want:?} in {err}");
    }
    // --board stands in for the column.
    let (code, out, err) = explain_fleet(dir.path(), "serial_number\nA\n", &["--board", "cyton"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("cyton: 1 devices"), "{out}");
}
