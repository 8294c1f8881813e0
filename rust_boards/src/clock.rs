//! Time as the boards see it, injectable so that tests control it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A monotonic clock for deciding how many samples are due, plus wall-clock time for
/// timestamps.
pub trait Clock: Send + Sync {
    /// Time since an arbitrary fixed origin; never goes backwards.
    fn monotonic(&self) -> Duration;
    /// Unix time in seconds.
    fn unix_now(&self) -> f64;
}

/// The real clocks.
#[derive(Debug, Clone)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock { origin: Instant::now() }
    }
}

impl Clock for SystemClock {
    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }
    fn unix_now(&self) -> f64 {
        unix_now()
    }
}

pub(crate) fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    elapsed: Arc<Mutex<Duration>>,
}

impl ManualClock {
    /// Unix time at the clock's origin.
    pub const UNIX_ORIGIN: f64 = 1_700_000_000.0;

    pub fn new() -> Self {
        Self::default()
    }
    pub fn advance(&self, by: Duration) {
        if let Ok(mut e) = self.elapsed.lock() {
            *e += by;
        }
    }
}

impl Clock for ManualClock {
    fn monotonic(&self) -> Duration {
        self.elapsed.lock().map(|e| *e).unwrap_or_default()
    }
    fn unix_now(&self) -> f64 {
        Self::UNIX_ORIGIN + self.monotonic().as_secs_f64()
    }
}

/// Samples due after `elapsed` at `rate` per second: `floor(elapsed · rate)`.
pub(crate) fn samples_due(elapsed: Duration, rate: u32) -> u64 {
    (elapsed.as_nanos() * u128::from(rate) / 1_000_000_000) as u64
}
