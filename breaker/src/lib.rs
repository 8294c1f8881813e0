//! The circuit breaker that guards one board kind's Rust path.
//!
//! Owns: the breaker states (CLOSED, OPEN, HALF_OPEN and the operator modes), the call
//! windows and thresholds, probe admission, the open-state backoff, and transition events.
//! Does not own: parsing configuration (the `toggles` crate builds [`BreakerConfig`]) or
//! routing calls (the dispatcher asks [`Breaker::try_acquire`] and reports outcomes).
#![forbid(unsafe_code)]

mod config;

pub use config::{
    Backoff, BreakerConfig, ConfigError, OperatorMode, WindowConfig, INVALID_ARGUMENTS_ERROR,
    MAX_COUNT_WINDOW, MAX_TIME_BUCKETS,
};
