#![allow(dead_code)]

use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Duration;

use breaker::{
    Backoff, Breaker, BreakerConfig, ManualClock, Outcome, State, Transition, WindowConfig,
};

pub const FAST: Duration = Duration::from_millis(10);
pub const SLOW: Duration = Duration::from_millis(400);
pub const FAIL: Outcome = Outcome::Failure { exit_code: 7 };

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A count-window config with no jitter so waits are exact.
pub fn count_config(calls: u32, minimum_calls: u32) -> BreakerConfig {
    BreakerConfig {
        window: WindowConfig::Count { calls },
        minimum_calls,
        failure_rate_threshold: 50.0,
        slow_call_rate_threshold: 50.0,
        slow_call_duration: Duration::from_millis(250),
        permitted_probes: 3,
        open_wait: Backoff::Exponential {
            initial: secs(5),
            multiplier: 2.0,
            max: secs(30),
            jitter: 0.0,
        },
        max_half_open: Some(secs(60)),
        ..BreakerConfig::default()
    }
}

pub struct Rig {
    pub clock: Arc<ManualClock>,
    pub breaker: Breaker,
    pub events: Receiver<Transition>,
}

impl Rig {
    pub fn new(config: BreakerConfig) -> Self {
        let clock = Arc::new(ManualClock::new(secs(1000)));
        let breaker = Breaker::with_jitter_seed(config, clock.clone(), 42).expect("valid config");
        let events = breaker.subscribe();
        Self {
            clock,
            breaker,
            events,
        }
    }

    /// One permitted call that takes `took` and ends with `outcome`.
    pub fn call(&self, outcome: Outcome, took: Duration) {
        let permission = self.breaker.try_acquire();
        assert!(
            permission.is_permitted(),
            "call refused in {}",
            self.breaker.state()
        );
        self.clock.advance(took);
        self.breaker.record(permission, outcome);
    }

    pub fn calls(&self, outcomes: &[(Outcome, Duration)]) {
        for &(outcome, took) in outcomes {
            self.call(outcome, took);
        }
    }

    pub fn ok(&self, n: usize) {
        for _ in 0..n {
            self.call(Outcome::Success, FAST);
        }
    }

    pub fn fail(&self, n: usize) {
        for _ in 0..n {
            self.call(FAIL, FAST);
        }
    }

    pub fn transitions(&self) -> Vec<Transition> {
        self.events.try_iter().collect()
    }

    pub fn only_transition(&self) -> Transition {
        let mut all = self.transitions();
        assert_eq!(all.len(), 1, "expected one transition, got {all:#?}");
        all.pop().unwrap()
    }

    pub fn refused(&self) -> bool {
        !self.breaker.try_acquire().is_permitted()
    }

    /// Trips a closed breaker with failures and drains the event.
    pub fn trip(&self) {
        let minimum = self.breaker.config().minimum_calls.max(1) as usize;
        self.fail(minimum);
        assert_eq!(self.breaker.state(), State::Open);
        let _ = self.transitions();
    }
}
