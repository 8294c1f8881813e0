//! The dispatch layer: per-session routing between the C++ and Rust implementations,
//! shadow comparison, hot standby, and automatic fallback.
//!
//! Layout: [`runtime`] owns board kinds and sessions and reacts to config and breaker
//! events; [`session`] is the `Board` a caller holds; [`dual`] runs both implementations
//! on one input; [`rust_side`] is the single door to any Rust implementation (breaker
//! admission, isolation, faults, outcome recording); [`kind`] holds what sessions of one
//! board kind share; [`trace`] the session and call spans every event lives in.

pub mod compare;
mod device;
mod factory;
pub mod faults;
pub mod isolate;
pub mod kind;
pub mod legacy;
mod producers;
mod pty_proxy;
mod pump;
mod registry;
pub mod queue;
mod runtime;
mod rust_side;
pub mod session;
mod stream;
mod trace;

pub use runtime::{Overrides, Runtime, RuntimeError};
pub use session::{Moved, Routing, Session};
pub use stream::{FAILOVER_MARKER, MOVE_MARKER};

/// Wall-clock time in Unix seconds, the timestamp BrainFlow puts in its data.
pub(crate) fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
