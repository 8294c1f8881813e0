//! The circuit breaker that guards one board kind's Rust path.
//!
//! Owns: the breaker states (CLOSED, OPEN, HALF_OPEN and the operator modes), the call
//! windows and thresholds, probe admission, the open-state backoff, and transition events.
//! Does not own: parsing configuration (the `toggles` crate builds [`BreakerConfig`]) or
//! routing calls (the dispatcher asks [`Breaker::try_acquire`] and reports outcomes).
#![forbid(unsafe_code)]

mod config;

pub use config::{
    caller_error_codes, Backoff, BreakerConfig, ConfigError, OperatorMode, WindowConfig,
    MAX_COUNT_WINDOW, MAX_IGNORABLE_EXIT_CODE, MAX_PROBES, MAX_TIME_BUCKETS,
};

mod backoff;
mod breaker;
mod clock;
mod window;

pub use crate::breaker::{
    Breaker, BreakerSnapshot, Outcome, Permission, State, Transition, SUBSCRIBER_CAPACITY,
};
pub use clock::{Clock, ManualClock, PreciseClock, SystemClock};
