//! `boards.<board>.migration`: plans that parse, plans refused with line, column, field
//! and the fix, and the stage overlay a plan's controller sets on the store.

use board_api::BoardId;
use std::path::Path;
use toggles::{Config, Evidence, Measure, OnFail, Path as Mode, RollbackTo, Timestamp, ToggleStore};

pub const PLAN: &str = "boards:
  synthetic:
    migration:
      start: 2026-01-01T00:00:00Z
      check_every: 3s
      evidence: prometheus
      prometheus: { url: http://127.0.0.1:9090, timeout: 1s, settle: 2s }
      rollback_to: previous
      stages:
        - mode: cpp
          min_duration: 3s
          min_sample: { shadow_comparisons: 100 }
          checks:
            - { measure: shadow_mismatches, max: 0 }
        - mode: shadow
          sample_percent: 100
          min_duration: 3s
          min_sample: { shadow_comparisons: 100 }
          checks:
            - { measure: shadow_mismatches, max: 0, on_fail: hold }
            - { measure: breaker_openings, max: 0, on_fail: rollback }
        - mode: rust
          percent: 50
          min_sample: { rust_calls: 10 }
          checks:
            - { measure: rust_failure_rate, max: 5 }
            - { measure: breaker_openings, max: 0, on_fail: rollback }
        - mode: rust
          percent: 100
";

fn parse(yaml: &str) -> Result<Config, toggles::ConfigError> {
    Config::parse(yaml, Path::new("plan.yaml"))
}

fn refused(yaml: &str, line: u64, field: &str, says: &str) {
    let e = parse(yaml).expect_err("must be refused");
    assert_eq!(e.line, Some(line), "{e}");
    assert_eq!(e.field, field, "{e}");
    assert!(e.to_string().contains(says), "{e}");
}

#[test]
fn a_plan_parses_and_the_board_starts_in_its_first_stage() {
    let config = parse(PLAN).unwrap();
    let board = config.board(BoardId::Synthetic);
    let plan = board.migration.as_ref().unwrap();
    assert_eq!(plan.stages.len(), 4);
    assert_eq!(plan.rollback_to, RollbackTo::Previous);
    assert!(matches!(&plan.evidence, Evidence::Prometheus(p) if p.url == "http://127.0.0.1:9090"));
    assert_eq!(plan.stages[1].checks[1].measure, Measure::BreakerOpenings);
    assert_eq!(plan.stages[1].checks[1].on_fail, OnFail::Rollback);
    assert_eq!(board.mode, Mode::Cpp);
    assert_eq!(board.plan_stage(), Some(0));
    assert_eq!(plan.boundary(2), Timestamp(plan.start.0 + 6000));
}

#[test]
fn stages_that_go_backwards_are_refused() {
    let backwards = PLAN.replace("        - mode: rust\n          percent: 100\n", "        - mode: rust\n          percent: 40\n");
    refused(&backwards, 28, "boards.synthetic.migration.stages[3]", "stages must move from cpp");
    let shadow_last = format!("{PLAN}          min_sample: {{ rust_calls: 1 }}\n        - mode: shadow\n");
    refused(&shadow_last, 31, "boards.synthetic.migration.stages[4]", "does not come after stage 4 (rust 100%)");
}

#[test]
fn measures_we_do_not_export_and_contradictions_are_refused() {
    refused(&PLAN.replace("measure: rust_failure_rate", "measure: cpu_temperature"), 26, "boards.synthetic.migration.stages[2].checks[0].measure", "not a measure switchyard exports");
    refused(&PLAN.replace("    migration:\n", "    mode: rust\n    migration:\n"), 3, "boards.synthetic.mode", "remove mode");
    refused(&PLAN.replace("evidence: prometheus\n      prometheus: { url: http://127.0.0.1:9090, timeout: 1s, settle: 2s }\n", "evidence: prometheus\n"), 6, "boards.synthetic.migration.evidence", "needs `prometheus:");
    refused(&PLAN.replace("http://127.0.0.1:9090", "https://prom?x"), 7, "boards.synthetic.migration.prometheus.url", "not a Prometheus base URL");
    refused(&PLAN.replace("synthetic:", "muse_2:"), 4, "boards.muse_2.migration", "no C++ implementation");
    refused(&PLAN.replace("- mode: cpp", "- mode: shadow"), 10, "boards.synthetic.migration.stages[0].mode", "starts from C++");
    refused(&PLAN.replace("max: 0, on_fail: hold", "max: -1, on_fail: hold"), 20, "boards.synthetic.migration.stages[1].checks[0].max", "finite number");
    refused(&PLAN.replace("max: 0, on_fail: hold", "max: \"0\", on_fail: hold"), 20, "boards.synthetic.migration.stages[1].checks[0].max", "");
}

#[test]
fn a_middle_stage_without_evidence_is_refused() {
    let no_evidence = PLAN.replace("          min_sample: { rust_calls: 10 }\n          checks:\n            - { measure: rust_failure_rate, max: 5 }\n            - { measure: breaker_openings, max: 0, on_fail: rollback }\n", "");
    refused(&no_evidence, 22, "boards.synthetic.migration.stages[2]", "advance on the clock alone");
}

#[test]
fn plain_ramps_keep_working_beside_plans() {
    let yaml = format!("{PLAN}  cyton:\n    mode: rust\n    ramp: {{ start: 2026-01-01T00:00:00Z, step_duration: 1h, steps: [1, 5, 25, 100] }}\n");
    let config = parse(&yaml).unwrap();
    assert!(config.board(BoardId::Cyton).migration.is_none());
    assert_eq!(config.board(BoardId::Cyton).percent_at(Timestamp::parse("2026-01-01T01:30:00Z").unwrap()).basis_points(), 500);
}

#[test]
fn the_stage_overlay_is_a_new_generation_and_survives_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.yaml");
    std::fs::write(&path, PLAN).unwrap();
    let store = ToggleStore::open(&path).unwrap();
    assert_eq!(store.set_plan_stage(BoardId::Synthetic, 0, "already there"), None);
    assert_eq!(store.set_plan_stage(BoardId::Synthetic, 2, "advanced"), Some(2));
    let snap = store.load_full();
    let board = snap.config.board(BoardId::Synthetic);
    assert_eq!((board.mode, board.percent_at(Timestamp(0)).basis_points()), (Mode::Rust, 5000));
    assert!(store.recent_events().last().unwrap().changes[0].contains("migration stage 3 of 4 (rust 50%): advanced"));
    // An edit elsewhere in the file keeps the plan's stage.
    std::fs::write(&path, format!("{PLAN}  cyton: rust\n")).unwrap();
    assert!(matches!(store.reload(), toggles::ReloadOutcome::Applied { generation: 3 }));
    assert_eq!(store.load().config.board(BoardId::Synthetic).plan_stage(), Some(2));
    assert_eq!(store.set_plan_stage(BoardId::Synthetic, 9, "no such stage"), None);
    assert_eq!(store.load().generation, 3);
}
