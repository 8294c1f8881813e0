//! Operator overrides meet config reloads: the runtime is the one writer of breaker
//! modes, so a reload (even one that changes the breaker's settings) never lifts a
//! forced-open breaker or the kill switch, not even for a moment, and releasing returns
//! to what the file says.

mod common;

use board_api::BoardId;
use breaker::{OperatorMode, State};
use common::*;

const BOARD: BoardId = BoardId::Synthetic;

fn with_threshold(threshold: u32) -> String {
    synthetic_yaml("rust", "", "").replace("failure_rate_threshold: 50", &format!("failure_rate_threshold: {threshold}"))
}

#[test]
fn a_reload_that_changes_breaker_settings_keeps_a_forced_open_breaker_forced_open() {
    let file = ConfigFile::new(&with_threshold(50));
    let runtime = file.runtime();
    let breaker = runtime.kind(BOARD).breaker.clone();
    runtime.set_breaker_override(BOARD, Some(OperatorMode::ForcedOpen));
    assert_eq!(breaker.snapshot().state, State::ForcedOpen);

    let transitions = breaker.subscribe();
    file.change(&runtime, &with_threshold(30));
    assert_eq!(breaker.config().failure_rate_threshold, 30.0, "the new settings are in force");
    assert_eq!(breaker.mode(), OperatorMode::ForcedOpen);
    let seen: Vec<String> = transitions.try_iter().map(|t| format!("{} -> {}", t.from, t.to)).collect();
    assert!(seen.is_empty(), "the override was lifted during the reload: {seen:?}");

    runtime.set_breaker_override(BOARD, None);
    assert_eq!(breaker.mode(), OperatorMode::Automatic, "released to the file's mode");
    assert!(runtime.overrides().breaker_modes.is_empty());
}

#[test]
fn the_operators_kill_switch_survives_reloads_and_lifts_to_the_file() {
    let file = ConfigFile::new(&with_threshold(50));
    let runtime = file.runtime();
    let breaker = runtime.kind(BOARD).breaker.clone();
    runtime.set_kill_switch_override(true);
    assert_eq!(breaker.mode(), OperatorMode::ForcedOpen);
    let transitions = breaker.subscribe();
    file.change(&runtime, &with_threshold(40));
    file.change(&runtime, &with_threshold(40).replace("mode: rust", "mode: standby"));
    assert_eq!(breaker.mode(), OperatorMode::ForcedOpen);
    assert_eq!(transitions.try_iter().count(), 0, "no transition while the kill switch is on");

    // A metrics-only override under the kill switch waits for the kill switch to go off.
    runtime.set_breaker_override(BOARD, Some(OperatorMode::MetricsOnly));
    assert_eq!(breaker.mode(), OperatorMode::ForcedOpen);
    runtime.set_kill_switch_override(false);
    assert_eq!(breaker.mode(), OperatorMode::MetricsOnly);
    runtime.set_breaker_override(BOARD, None);
    assert_eq!(breaker.mode(), OperatorMode::Automatic);
}
