//! switchyard: the runtime that routes each board session to the legacy C++ implementation
//! or to its Rust twin.
//!
//! This package owns the dispatch layer (per-session routing, shadow comparison, hot
//! standby, automatic fallback) and the `switchyard` command line. The board contract,
//! the toggle decision and the breaker live in their own crates; this one composes them.
#![forbid(unsafe_code)]

pub mod dispatch;
pub mod logging;
pub mod operations;
pub mod serve;
pub mod drill;

pub use dispatch::{Moved, Overrides, Routing, Runtime, RuntimeError, Session, FAILOVER_MARKER, MOVE_MARKER};
