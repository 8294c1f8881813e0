//! Monotonic time for the breaker, injectable so tests never sleep.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A monotonic clock in nanoseconds since an arbitrary origin.
pub trait Clock: Send + Sync {
    /// Nanoseconds since this clock's origin; never goes backwards.
    fn now_nanos(&self) -> u64;
}

/// The system's monotonic clock at scheduler-tick resolution: on Linux
/// `CLOCK_MONOTONIC_COARSE` (1–4 ms steps), read in a few nanoseconds, where the precise
/// clock costs tens of nanoseconds and is read twice per call. The breaker compares
/// durations with `slow_call_duration` (hundreds of ms) and waits of seconds, so a tick
/// is plenty; keep `slow_call_duration` at 10 ms or more with this clock, or use
/// [`PreciseClock`]. Elsewhere it falls back to [`PreciseClock`].
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use nix::time::{clock_gettime, ClockId};
            if let Ok(now) = clock_gettime(ClockId::CLOCK_MONOTONIC_COARSE) {
                return (now.tv_sec() as u64)
                    .wrapping_mul(1_000_000_000)
                    .wrapping_add(now.tv_nsec() as u64);
            }
        }
        PreciseClock.now_nanos()
    }
}

/// The process's precise monotonic clock (`std::time::Instant`), nanosecond steps.
#[derive(Debug, Default, Clone, Copy)]
pub struct PreciseClock;

fn process_origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

impl Clock for PreciseClock {
    fn now_nanos(&self) -> u64 {
        // u64 nanoseconds last 584 years from process start.
        process_origin().elapsed().as_nanos() as u64
    }
}

/// A clock that moves only when told to; for tests and simulations.
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock reading `start`.
    pub fn new(start: Duration) -> Self {
        Self {
            nanos: AtomicU64::new(start.as_nanos() as u64),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(by.as_nanos() as u64, Ordering::SeqCst);
    }

    /// The current reading.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> u64 {
        self.nanos.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_moves_forward_and_never_back() {
        let clock = SystemClock;
        let first = clock.now_nanos();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = first;
        while last == first && Instant::now() < deadline {
            let now = clock.now_nanos();
            assert!(now >= last);
            last = now;
        }
        assert!(last > first, "coarse clock never ticked in 5 s");
    }
}
