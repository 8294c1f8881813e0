//! Properties that must hold for any configuration and any call sequence.

mod common;

use std::collections::VecDeque;
use std::time::Duration;

use breaker::{BreakerConfig, Outcome, State, WindowConfig};
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone, Copy)]
enum Call {
    Ok,
    Fail,
    SlowOk,
    SlowFail,
    Ignored,
}

impl Call {
    fn outcome(self) -> (Outcome, Duration) {
        match self {
            Call::Ok => (Outcome::Success, FAST),
            Call::Fail => (FAIL, FAST),
            Call::SlowOk => (Outcome::Success, SLOW),
            Call::SlowFail => (Outcome::Timeout, SLOW),
            Call::Ignored => (Outcome::Failure { exit_code: 13 }, FAST),
        }
    }
}

fn any_call() -> impl Strategy<Value = Call> {
    prop_oneof![
        4 => Just(Call::Ok),
        2 => Just(Call::Fail),
        1 => Just(Call::SlowOk),
        1 => Just(Call::SlowFail),
        1 => Just(Call::Ignored),
    ]
}

fn config(window: u32, minimum: u32, failure: f64, slow: f64, probes: u32) -> BreakerConfig {
    BreakerConfig {
        window: WindowConfig::Count { calls: window },
        minimum_calls: minimum,
        failure_rate_threshold: failure,
        slow_call_rate_threshold: slow,
        permitted_probes: probes,
        ..count_config(window, minimum)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// While CLOSED the breaker agrees, call by call, with a plain model of the last N
    /// calls: it opens exactly when the model says a rate reached its threshold with at
    /// least the minimum number of calls, and never below the minimum.
    #[test]
    fn closed_breaker_matches_a_model_of_the_last_n_calls(
        window in 1u32..30,
        minimum in 0u32..40,
        failure in 1u32..=100,
        slow in 1u32..=100,
        calls in proptest::collection::vec(any_call(), 1..120),
    ) {
        let rig = Rig::new(config(window, minimum, f64::from(failure), f64::from(slow), 3));
        let mut model: VecDeque<(bool, bool)> = VecDeque::new();
        for call in calls {
            let (outcome, took) = call.outcome();
            rig.call(outcome, took);
            if !matches!(call, Call::Ignored) {
                model.push_back((matches!(call, Call::Fail | Call::SlowFail), matches!(call, Call::SlowOk | Call::SlowFail)));
                if model.len() > window as usize {
                    model.pop_front();
                }
            }
            let n = model.len() as u32;
            let failed = model.iter().filter(|c| c.0).count() as f64;
            let slowed = model.iter().filter(|c| c.1).count() as f64;
            let should_open = n > 0 && n >= minimum
                && (failed * 100.0 / f64::from(n) >= f64::from(failure)
                    || slowed * 100.0 / f64::from(n) >= f64::from(slow));
            let snapshot = rig.breaker.snapshot();
            prop_assert_eq!(snapshot.calls_in_window, n);
            if should_open {
                prop_assert_eq!(rig.breaker.state(), State::Open);
                let event = rig.only_transition();
                prop_assert!(event.calls >= minimum, "tripped below the minimum: {:?}", event);
                return Ok(());
            }
            prop_assert_eq!(rig.breaker.state(), State::Closed);
        }
    }

    /// Whatever the probes do, HALF_OPEN closes only after all N probes reported and
    /// only when the round's failure and slow rates are both under their thresholds.
    #[test]
    fn half_open_never_closes_while_probes_fail_too_often(
        probes in 1u32..12,
        failure in 1u32..=100,
        slow in 1u32..=100,
        rounds in proptest::collection::vec(proptest::collection::vec(any_call(), 1..16), 1..6),
    ) {
        let rig = Rig::new(config(10, 1, f64::from(failure), f64::from(slow), probes));
        rig.call(FAIL, FAST);
        let _ = rig.transitions();
        for round in rounds {
            let wait = rig.breaker.snapshot().open_remaining.unwrap_or_default();
            rig.clock.advance(wait);
            let (mut failed, mut slowed, mut recorded) = (0u32, 0u32, 0u32);
            for call in round {
                if rig.breaker.state() != State::HalfOpen {
                    break;
                }
                let (outcome, took) = call.outcome();
                let permission = rig.breaker.try_acquire();
                prop_assert!(permission.is_probe());
                rig.clock.advance(took);
                rig.breaker.record(permission, outcome);
                recorded += u32::from(!matches!(call, Call::Ignored));
                failed += u32::from(matches!(call, Call::Fail | Call::SlowFail));
                slowed += u32::from(matches!(call, Call::SlowOk | Call::SlowFail));
            }
            for event in rig.transitions() {
                if event.from == State::HalfOpen && event.to == State::Closed {
                    prop_assert_eq!(recorded, probes, "closed before every probe reported: {:?}", event);
                    prop_assert!(f64::from(failed) * 100.0 / f64::from(probes) < f64::from(failure), "{:?}", event);
                    prop_assert!(f64::from(slowed) * 100.0 / f64::from(probes) < f64::from(slow), "{:?}", event);
                    prop_assert!(event.failure_rate < f64::from(failure));
                    prop_assert!(event.slow_rate < f64::from(slow));
                    return Ok(());
                }
            }
            if rig.breaker.state() == State::HalfOpen {
                // Round unfinished (too few calls): let the cap expire it.
                rig.clock.advance(secs(60));
                prop_assert_eq!(rig.breaker.state(), State::Open);
            }
        }
    }
}
