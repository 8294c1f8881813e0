//! Scripted call sequences with the transitions each rule must produce.

mod common;

use std::time::Duration;

use breaker::{Backoff, BreakerConfig, OperatorMode, Outcome, State, WindowConfig};
use common::*;

#[test]
fn count_window_opens_at_the_failure_threshold_with_its_cause() {
    let rig = Rig::new(count_config(10, 5));
    rig.ok(3);
    rig.fail(2); // 2/5 = 40%
    assert_eq!(rig.breaker.state(), State::Closed);
    rig.fail(1); // 3/6 = 50%
    let event = rig.only_transition();
    assert_eq!((event.from, event.to), (State::Closed, State::Open));
    assert_eq!(
        event.cause,
        "failure rate 50% ≥ 50% over the last 6 calls; open for 5.0s"
    );
    assert_eq!(
        (event.failure_rate, event.slow_rate, event.calls),
        (50.0, 0.0, 6)
    );
    assert!(event.enforced);
    assert!(rig.refused());
}

#[test]
fn cause_reads_like_the_issue() {
    let config = BreakerConfig {
        failure_rate_threshold: 20.0,
        ..count_config(40, 40)
    };
    let rig = Rig::new(config);
    rig.ok(25);
    rig.fail(15);
    let event = rig.only_transition();
    assert!(
        event
            .cause
            .starts_with("failure rate 37.5% ≥ 20% over the last 40 calls"),
        "{}",
        event.cause
    );
}

#[test]
fn count_window_forgets_calls_that_slid_out() {
    let rig = Rig::new(count_config(4, 4));
    rig.fail(1);
    rig.ok(3); // [F S S S] 25%
    rig.ok(2);
    rig.fail(1); // [S S S F] 25%
    assert_eq!(rig.breaker.state(), State::Closed);
    assert_eq!(rig.breaker.snapshot().failure_rate, 25.0);
    rig.fail(1); // [S S F F] 50%
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn no_rate_is_judged_below_the_minimum_calls() {
    let rig = Rig::new(count_config(100, 20));
    rig.fail(19);
    assert_eq!(rig.breaker.state(), State::Closed);
    let snapshot = rig.breaker.snapshot();
    assert_eq!(
        (snapshot.calls_in_window, snapshot.failure_rate),
        (19, 100.0)
    );
    rig.fail(1);
    assert_eq!(rig.breaker.state(), State::Open);
    assert_eq!(rig.only_transition().calls, 20);
}

#[test]
fn successes_completing_the_minimum_trip_a_count_window() {
    let rig = Rig::new(count_config(100, 10));
    rig.fail(6);
    rig.ok(3);
    assert_eq!(rig.breaker.state(), State::Closed);
    rig.ok(1); // 6/10 = 60%, judged when the minimum is reached
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn slow_rate_is_judged_apart_from_failure_rate_and_both_are_reported() {
    let config = BreakerConfig {
        slow_call_rate_threshold: 30.0,
        ..count_config(10, 10)
    };
    let rig = Rig::new(config);
    rig.ok(6);
    rig.calls(&[(Outcome::Success, SLOW); 2]);
    rig.calls(&[(FAIL, FAST); 1]);
    let snapshot = rig.breaker.snapshot();
    assert_eq!(
        (snapshot.failure_rate, snapshot.slow_rate),
        (100.0 / 9.0, 200.0 / 9.0)
    );
    rig.calls(&[(FAIL, SLOW)]); // failed and slow: 20% failed, 30% slow
    let event = rig.only_transition();
    assert_eq!((event.failure_rate, event.slow_rate), (20.0, 30.0));
    assert!(
        event.cause.starts_with(
            "slow-call rate 30% ≥ 30% (slow = 250ms or longer) over the last 10 calls"
        ),
        "{}",
        event.cause
    );
}

#[test]
fn both_thresholds_crossed_are_both_named() {
    let rig = Rig::new(count_config(4, 4));
    rig.calls(&[(FAIL, SLOW); 4]);
    let cause = rig.only_transition().cause;
    assert!(
        cause.starts_with("failure rate 100% ≥ 50% and slow-call rate 100% ≥ 50%"),
        "{cause}"
    );
}

#[test]
fn exactly_slow_call_duration_counts_as_slow() {
    let rig = Rig::new(count_config(2, 2));
    rig.call(Outcome::Success, Duration::from_millis(250));
    rig.call(Outcome::Success, Duration::from_millis(249));
    assert_eq!(rig.breaker.snapshot().slow_in_window, 1);
}

#[test]
fn panics_and_timeouts_are_failures() {
    let rig = Rig::new(count_config(4, 4));
    rig.calls(&[
        (Outcome::Panic, FAST),
        (Outcome::Timeout, FAST),
        (Outcome::Success, FAST),
    ]);
    assert_eq!(rig.breaker.snapshot().failed_in_window, 2);
}

fn time_config(seconds: u32, buckets: u32, minimum_calls: u32) -> BreakerConfig {
    BreakerConfig {
        window: WindowConfig::Time { seconds, buckets },
        ..count_config(1, minimum_calls)
    }
}

#[test]
fn time_window_judges_only_the_last_seconds() {
    let rig = Rig::new(time_config(10, 10, 4));
    rig.fail(3);
    rig.clock.advance(secs(11)); // those failures expire
    rig.ok(2);
    rig.fail(1); // 1/3, below minimum anyway
    assert_eq!(rig.breaker.state(), State::Closed);
    let snapshot = rig.breaker.snapshot();
    assert_eq!(
        (snapshot.calls_in_window, snapshot.failed_in_window),
        (3, 1)
    );
    rig.fail(1); // 2/4 = 50%
    let event = rig.only_transition();
    assert!(
        event
            .cause
            .starts_with("failure rate 50% ≥ 50% over 4 calls in the last 10 s"),
        "{}",
        event.cause
    );
}

#[test]
fn time_window_keeps_calls_spread_over_its_buckets() {
    let rig = Rig::new(time_config(10, 5, 10));
    for _ in 0..5 {
        rig.ok(1);
        rig.fail(1);
        rig.clock.advance(secs(2));
    }
    // Ten calls over ten seconds, half failed; the last failure completed the judgement.
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn time_window_respects_the_minimum() {
    let rig = Rig::new(time_config(5, 5, 6));
    rig.fail(5);
    rig.clock.advance(secs(6));
    rig.fail(5);
    assert_eq!(
        rig.breaker.state(),
        State::Closed,
        "never more than 5 calls in any 5 s"
    );
}

#[test]
fn open_waits_then_permits_exactly_n_probes_and_closes_when_they_pass() {
    let rig = Rig::new(count_config(10, 4));
    rig.trip();
    rig.clock.advance(Duration::from_millis(4999));
    assert!(rig.refused());
    assert_eq!(rig.breaker.state(), State::Open);
    rig.clock.advance(Duration::from_millis(1));
    let probes: Vec<_> = (0..3).map(|_| rig.breaker.try_acquire()).collect();
    assert!(probes.iter().all(|p| p.is_permitted() && p.is_probe()));
    assert!(rig.refused(), "a fourth call must go to C++");
    let event = rig.only_transition();
    assert_eq!((event.from, event.to), (State::Open, State::HalfOpen));
    assert_eq!(
        event.cause,
        "open wait of 5.0s elapsed; permitting 3 probes"
    );
    let snapshot = rig.breaker.snapshot();
    assert_eq!(
        (snapshot.probes_permitted, snapshot.probes_in_flight),
        (3, 3)
    );
    for probe in probes {
        rig.breaker.record(probe, Outcome::Success);
    }
    let event = rig.only_transition();
    assert_eq!((event.from, event.to), (State::HalfOpen, State::Closed));
    assert_eq!(
        event.cause,
        "3/3 probes succeeded (failure rate 0% < 50%, slow-call rate 0% < 50%)"
    );
    let snapshot = rig.breaker.snapshot();
    assert_eq!(snapshot.calls_in_window, 0, "closing starts a fresh window");
    assert_eq!(snapshot.open_wait, None);
}

#[test]
fn one_success_does_not_close_half_open() {
    let rig = Rig::new(count_config(10, 4));
    rig.trip();
    rig.clock.advance(secs(5));
    let first = rig.breaker.try_acquire();
    rig.breaker.record(first, Outcome::Success);
    assert_eq!(rig.breaker.state(), State::HalfOpen);
}

#[test]
fn probes_under_the_threshold_close_even_with_a_failure() {
    let config = BreakerConfig {
        permitted_probes: 5,
        ..count_config(10, 4)
    };
    let rig = Rig::new(config);
    rig.trip();
    rig.clock.advance(secs(5));
    for outcome in [
        FAIL,
        Outcome::Success,
        FAIL,
        Outcome::Success,
        Outcome::Success,
    ] {
        rig.call(outcome, FAST);
    }
    let events = rig.transitions();
    let last = events.last().unwrap();
    assert_eq!(last.to, State::Closed);
    assert_eq!(
        last.cause,
        "3/5 probes succeeded (failure rate 40% < 50%, slow-call rate 0% < 50%)"
    );
}

#[test]
fn failing_probes_reopen_with_growing_capped_waits() {
    let rig = Rig::new(count_config(10, 4));
    rig.trip();
    let mut waits = vec![rig.breaker.snapshot().open_wait.unwrap()];
    for _ in 0..4 {
        let wait = rig.breaker.snapshot().open_remaining.unwrap();
        rig.clock.advance(wait);
        rig.call(Outcome::Success, FAST);
        rig.call(FAIL, FAST);
        rig.call(FAIL, FAST); // 2/3 failed: reopen without a fourth probe
        assert_eq!(rig.breaker.state(), State::Open);
        let events = rig.transitions();
        let reopen = events.last().unwrap();
        assert_eq!((reopen.from, reopen.to), (State::HalfOpen, State::Open));
        assert!(
            reopen
                .cause
                .starts_with("2/3 probes failed (failure rate 66.7% ≥ 50%)"),
            "{}",
            reopen.cause
        );
        waits.push(rig.breaker.snapshot().open_wait.unwrap());
    }
    assert_eq!(waits, [secs(5), secs(10), secs(20), secs(30), secs(30)]);
    assert_eq!(rig.breaker.snapshot().reopens, 4);
    // A later clean round closes and the next trip starts from the initial wait again.
    rig.clock.advance(secs(30));
    rig.calls(&[(Outcome::Success, FAST); 3]);
    assert_eq!(rig.breaker.state(), State::Closed);
    rig.trip();
    assert_eq!(rig.breaker.snapshot().open_wait, Some(secs(5)));
}

#[test]
fn slow_probes_reopen() {
    let rig = Rig::new(count_config(10, 4));
    rig.trip();
    rig.clock.advance(secs(5));
    rig.calls(&[(Outcome::Success, SLOW), (Outcome::Success, SLOW)]);
    assert_eq!(rig.breaker.state(), State::Open);
    assert!(rig
        .transitions()
        .last()
        .unwrap()
        .cause
        .starts_with("2/3 probes slow"));
}

#[test]
fn jittered_waits_stay_within_their_spread() {
    let config = BreakerConfig {
        open_wait: Backoff::Exponential {
            initial: secs(10),
            multiplier: 2.0,
            max: secs(300),
            jitter: 0.2,
        },
        ..count_config(10, 4)
    };
    let rig = Rig::new(config);
    rig.trip();
    let wait = rig.breaker.snapshot().open_wait.unwrap();
    assert!(wait >= secs(8) && wait <= secs(12), "{wait:?}");
}

#[test]
fn constant_wait_does_not_grow() {
    let config = BreakerConfig {
        open_wait: Backoff::Constant(secs(7)),
        ..count_config(10, 4)
    };
    let rig = Rig::new(config);
    rig.trip();
    rig.clock.advance(secs(7));
    rig.fail(2);
    assert_eq!(rig.breaker.snapshot().open_wait, Some(secs(7)));
}

#[test]
fn half_open_that_outlives_its_cap_reopens() {
    let rig = Rig::new(count_config(10, 4));
    rig.trip();
    rig.clock.advance(secs(5));
    let hung = rig.breaker.try_acquire();
    assert!(hung.is_probe());
    rig.clock.advance(secs(60));
    assert!(rig.refused());
    let events = rig.transitions();
    let reopen = events.last().unwrap();
    assert_eq!((reopen.from, reopen.to), (State::HalfOpen, State::Open));
    assert!(
        reopen
            .cause
            .starts_with("half-open lasted 60.0s with only 0/3 probe results"),
        "{}",
        reopen.cause
    );
    assert_eq!(rig.breaker.snapshot().open_wait, Some(secs(10)));
    // The late probe result belongs to the expired round and changes nothing.
    rig.breaker.record(hung, Outcome::Success);
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn forced_open_refuses_until_released_and_release_starts_fresh() {
    let rig = Rig::new(count_config(10, 4));
    rig.fail(2);
    rig.breaker.force_open();
    assert_eq!(rig.breaker.state(), State::ForcedOpen);
    assert!(rig.refused());
    rig.clock.advance(secs(3600));
    assert!(rig.refused(), "forced open ignores waits");
    let event = rig.only_transition();
    assert_eq!(
        (event.from, event.to, event.cause.as_str()),
        (State::Closed, State::ForcedOpen, "forced open by operator")
    );
    rig.breaker.release();
    assert_eq!(rig.breaker.state(), State::Closed);
    assert_eq!(rig.breaker.snapshot().calls_in_window, 0);
    assert_eq!(rig.only_transition().cause, "released by operator");
    rig.fail(3);
    assert_eq!(
        rig.breaker.state(),
        State::Closed,
        "old failures were cleared"
    );
}

#[test]
fn forced_open_over_an_open_breaker_and_back() {
    let rig = Rig::new(count_config(10, 4));
    rig.trip();
    rig.breaker.force_open();
    rig.clock.advance(secs(10));
    assert_eq!(rig.breaker.state(), State::ForcedOpen);
    rig.breaker.release();
    assert_eq!(rig.breaker.state(), State::Closed);
}

#[test]
fn metrics_only_reports_what_it_would_do_and_never_refuses() {
    let config = BreakerConfig {
        mode: OperatorMode::MetricsOnly,
        ..count_config(10, 4)
    };
    let rig = Rig::new(config);
    rig.fail(4);
    assert_eq!(rig.breaker.state(), State::MetricsOnly);
    assert_eq!(rig.breaker.automatic_state(), State::Open);
    let event = rig.only_transition();
    assert!(!event.enforced);
    assert_eq!((event.from, event.to), (State::Closed, State::Open));
    assert!(
        event
            .cause
            .starts_with("metrics only, would act: failure rate 100%"),
        "{}",
        event.cause
    );
    for _ in 0..10 {
        assert!(!rig.refused());
    }
    rig.clock.advance(secs(5));
    rig.ok(10); // the first 3 are would-be probes, the rest would be refused
    assert_eq!(rig.breaker.automatic_state(), State::Closed);
    let events = rig.transitions();
    assert_eq!(
        events.iter().map(|e| e.to).collect::<Vec<_>>(),
        [State::HalfOpen, State::Closed]
    );
    assert!(events.iter().all(|e| !e.enforced));
}

#[test]
fn arming_metrics_only_enforces_the_would_be_state() {
    let config = BreakerConfig {
        mode: OperatorMode::MetricsOnly,
        ..count_config(10, 4)
    };
    let rig = Rig::new(config);
    rig.fail(4);
    rig.breaker.set_mode(OperatorMode::Automatic);
    assert_eq!(rig.breaker.state(), State::Open);
    assert!(rig.refused());
}

#[test]
fn disabled_measures_but_never_trips() {
    let config = BreakerConfig {
        mode: OperatorMode::Disabled,
        ..count_config(10, 4)
    };
    let rig = Rig::new(config);
    rig.fail(10);
    assert_eq!(rig.breaker.state(), State::Disabled);
    assert!(rig.transitions().is_empty());
    let snapshot = rig.breaker.snapshot();
    assert_eq!(
        (snapshot.calls_in_window, snapshot.failure_rate),
        (10, 100.0)
    );
    // Arming it judges the window it measured.
    rig.breaker.set_mode(OperatorMode::Automatic);
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn ignored_exit_codes_do_not_count_at_all() {
    let rig = Rig::new(count_config(10, 4));
    for _ in 0..10 {
        rig.call(Outcome::Failure { exit_code: 13 }, FAST);
    }
    assert_eq!(rig.breaker.state(), State::Closed);
    assert_eq!(rig.breaker.snapshot().calls_in_window, 0);
    rig.call(Outcome::Failure { exit_code: 13 }, SLOW);
    assert_eq!(rig.breaker.snapshot().calls_in_window, 0, "even when slow");
    rig.fail(4);
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn every_caller_error_is_ignored_by_default_and_cannot_be_unignored() {
    // STREAM_ALREADY_RUN_ERROR (8) is a caller's wrong call order: routing hands it back
    // unchanged, so the breaker must not count it against the Rust path either.
    for config in [
        count_config(10, 4),
        BreakerConfig { ignored_exit_codes: vec![13], ..count_config(10, 4) },
        BreakerConfig { ignored_exit_codes: vec![], ..count_config(10, 4) },
    ] {
        let rig = Rig::new(config);
        for code in board_api::caller_error_codes() {
            for _ in 0..10 {
                rig.call(Outcome::Failure { exit_code: code }, FAST);
            }
        }
        assert_eq!(rig.breaker.state(), State::Closed);
        assert_eq!(rig.breaker.snapshot().calls_in_window, 0);
    }
    assert_eq!(BreakerConfig::default().ignored_exit_codes, breaker::caller_error_codes());
}

#[test]
fn an_extra_ignored_code_is_not_counted_either() {
    let rig = Rig::new(BreakerConfig { ignored_exit_codes: vec![7], ..count_config(10, 4) });
    rig.fail(10);
    assert_eq!(rig.breaker.state(), State::Closed);
    assert_eq!(rig.breaker.snapshot().calls_in_window, 0);
}

#[test]
fn an_ignored_probe_gives_its_permit_back() {
    let rig = Rig::new(count_config(10, 4));
    rig.trip();
    rig.clock.advance(secs(5));
    for _ in 0..5 {
        rig.call(Outcome::Failure { exit_code: 13 }, FAST);
    }
    assert_eq!(rig.breaker.state(), State::HalfOpen);
    rig.ok(3);
    assert_eq!(rig.breaker.state(), State::Closed);
}

#[test]
fn hung_calls_trip_the_breaker_while_in_flight() {
    let rig = Rig::new(count_config(10, 4));
    let hung: Vec<_> = (0..4).map(|_| rig.breaker.try_acquire()).collect();
    rig.clock.advance(Duration::from_millis(249));
    assert!(!rig.breaker.mark_in_flight_slow(&hung[0]), "not slow yet");
    assert_eq!(
        rig.breaker.slow_deadline_nanos(&hung[0]),
        hung[0].started_at_nanos() + 250_000_000
    );
    rig.clock.advance(Duration::from_millis(1));
    for permission in &hung {
        assert!(rig.breaker.mark_in_flight_slow(permission));
    }
    assert!(!rig.breaker.mark_in_flight_slow(&hung[0]), "marked once");
    assert_eq!(
        rig.breaker.state(),
        State::Open,
        "four hung calls, none returned"
    );
    assert!(rig
        .only_transition()
        .cause
        .starts_with("slow-call rate 100% ≥ 50%"));
    // When they finally return nothing is counted twice.
    for permission in hung {
        rig.breaker.record(permission, FAIL);
    }
    assert_eq!(rig.breaker.snapshot().calls_in_window, 4);
}

#[test]
fn a_hung_probe_counts_as_a_slow_probe() {
    let rig = Rig::new(count_config(10, 4));
    rig.trip();
    rig.clock.advance(secs(5));
    let probes: Vec<_> = (0..2).map(|_| rig.breaker.try_acquire()).collect();
    rig.clock.advance(SLOW);
    for probe in &probes {
        rig.breaker.mark_in_flight_slow(probe);
    }
    assert_eq!(rig.breaker.state(), State::Open);
}

#[test]
fn results_admitted_before_a_transition_are_dropped() {
    let rig = Rig::new(count_config(10, 4));
    let late = rig.breaker.try_acquire();
    rig.trip();
    rig.breaker.record(late, FAIL);
    assert_eq!(rig.breaker.snapshot().calls_in_window, 4);
}

#[test]
fn reconfigure_keeps_the_window_when_its_shape_is_unchanged_and_judges_at_once() {
    let rig = Rig::new(count_config(10, 4));
    rig.ok(3);
    rig.fail(1); // 25%
    let mut config = rig.breaker.config();
    config.failure_rate_threshold = 30.0;
    config.permitted_probes = 7;
    rig.breaker.reconfigure(config.clone()).unwrap();
    assert_eq!(rig.breaker.state(), State::Closed);
    assert_eq!(rig.breaker.snapshot().calls_in_window, 4, "window kept");
    config.failure_rate_threshold = 25.0;
    rig.breaker.reconfigure(config).unwrap();
    assert_eq!(
        rig.breaker.state(),
        State::Open,
        "lowered below the current rate: opens now"
    );
    rig.clock.advance(secs(5));
    assert_eq!(rig.breaker.state(), State::HalfOpen);
    assert_eq!(rig.breaker.snapshot().probes_permitted, 7);
}

#[test]
fn reconfigure_resets_the_window_when_its_shape_changes() {
    let rig = Rig::new(count_config(10, 4));
    rig.fail(3);
    let config = BreakerConfig {
        window: WindowConfig::Count { calls: 20 },
        ..rig.breaker.config()
    };
    rig.breaker.reconfigure(config).unwrap();
    assert_eq!(rig.breaker.snapshot().calls_in_window, 0);
    let config = BreakerConfig {
        window: WindowConfig::Time {
            seconds: 10,
            buckets: 10,
        },
        ..rig.breaker.config()
    };
    rig.fail(2);
    rig.breaker.reconfigure(config).unwrap();
    assert_eq!(rig.breaker.snapshot().calls_in_window, 0);
}

#[test]
fn reconfigure_keeps_open_state_and_wait_and_applies_mode() {
    let rig = Rig::new(count_config(10, 4));
    rig.trip();
    let mut config = rig.breaker.config();
    config.open_wait = Backoff::Constant(secs(1));
    rig.breaker.reconfigure(config.clone()).unwrap();
    assert_eq!(rig.breaker.state(), State::Open);
    assert_eq!(
        rig.breaker.snapshot().open_wait,
        Some(secs(5)),
        "the chosen wait stands"
    );
    config.mode = OperatorMode::ForcedOpen;
    rig.breaker.reconfigure(config).unwrap();
    assert_eq!(rig.breaker.state(), State::ForcedOpen);
}

#[test]
fn reconfigure_rejects_invalid_config_and_keeps_the_old_one() {
    let rig = Rig::new(count_config(10, 4));
    let bad = BreakerConfig {
        slow_call_rate_threshold: 140.0,
        ..rig.breaker.config()
    };
    let error = rig.breaker.reconfigure(bad).unwrap_err();
    assert_eq!(
        error.to_string(),
        "slow_call_rate_threshold: 140 is above 100"
    );
    assert_eq!(rig.breaker.config().slow_call_rate_threshold, 50.0);
}

#[test]
fn subscribers_that_fall_behind_lose_events_instead_of_blocking() {
    let rig = Rig::new(count_config(1, 1));
    let gone = rig.breaker.subscribe();
    drop(gone);
    for _ in 0..(breaker::SUBSCRIBER_CAPACITY / 2 + 10) {
        rig.breaker.force_open();
        rig.breaker.release();
    }
    let snapshot = rig.breaker.snapshot();
    assert_eq!(snapshot.events_dropped, 20);
    assert_eq!(rig.transitions().len(), breaker::SUBSCRIBER_CAPACITY);
    assert_eq!(snapshot.last_cause, "released by operator");
}

#[test]
fn snapshot_shows_probes_and_open_time_left() {
    let rig = Rig::new(count_config(10, 4));
    rig.trip();
    rig.clock.advance(secs(2));
    assert_eq!(rig.breaker.snapshot().open_remaining, Some(secs(3)));
    rig.clock.advance(secs(3));
    let a = rig.breaker.try_acquire();
    let b = rig.breaker.try_acquire();
    rig.breaker.record(a, Outcome::Success);
    let snapshot = rig.breaker.snapshot();
    assert_eq!(snapshot.state, State::HalfOpen);
    assert_eq!(
        (
            snapshot.probes_permitted,
            snapshot.probes_in_flight,
            snapshot.probes_succeeded,
            snapshot.probes_failed
        ),
        (3, 1, 1, 0)
    );
    assert!(b.is_probe(), "the second probe is still running");
}
