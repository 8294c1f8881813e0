//! The wait in OPEN before probing.
//!
//! failsafe's backoff iterators are not used: its exponential strategy has a fixed
//! multiplier of 2, its jitter draws from a thread RNG that tests cannot seed, and its
//! iterators are stateful objects that cannot be rebuilt from a changed config while
//! keeping the reopen count. This is a pure function of (policy, reopen count, random
//! draw) instead, with a small seeded generator.

use std::time::Duration;

use crate::config::Backoff;

/// The wait before the `reopens`-th probe round (0 for the first trip), given a uniform
/// random draw in `[0, 1)`. Exponential waits are capped at `max`, then spread by
/// ±`jitter`, and the result is clamped to `max` again.
pub(crate) fn open_wait(policy: &Backoff, reopens: u32, draw: f64) -> Duration {
    match policy {
        Backoff::Constant(wait) => *wait,
        Backoff::Exponential {
            initial,
            multiplier,
            max,
            jitter,
        } => {
            let growth = multiplier.powi(reopens.min(i32::MAX as u32) as i32);
            let base = (initial.as_secs_f64() * growth).min(max.as_secs_f64());
            let spread = 1.0 + jitter * (2.0 * draw - 1.0);
            Duration::from_secs_f64((base * spread).clamp(0.0, max.as_secs_f64()))
        }
    }
}

/// splitmix64: enough randomness to de-synchronise a fleet's probes, and seedable.
#[derive(Debug, Clone)]
pub(crate) struct Jitter {
    state: u64,
}

impl Jitter {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn draw(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn exponential_grows_then_caps() {
        let policy = Backoff::Exponential {
            initial: secs(5),
            multiplier: 2.0,
            max: secs(60),
            jitter: 0.0,
        };
        let waits: Vec<_> = (0..6).map(|n| open_wait(&policy, n, 0.5)).collect();
        assert_eq!(
            waits,
            [secs(5), secs(10), secs(20), secs(40), secs(60), secs(60)]
        );
        assert_eq!(open_wait(&policy, u32::MAX, 0.5), secs(60));
    }

    #[test]
    fn jitter_stays_within_its_fraction_and_the_cap() {
        let policy = Backoff::Exponential {
            initial: secs(10),
            multiplier: 3.0,
            max: secs(100),
            jitter: 0.2,
        };
        let mut jitter = Jitter::new(7);
        let mut seen_low = false;
        let mut seen_high = false;
        for _ in 0..1000 {
            let wait = open_wait(&policy, 0, jitter.draw()).as_secs_f64();
            assert!((8.0..=12.0).contains(&wait), "{wait}");
            seen_low |= wait < 9.0;
            seen_high |= wait > 11.0;
            let capped = open_wait(&policy, 5, jitter.draw()).as_secs_f64();
            assert!((80.0..=100.0).contains(&capped), "{capped}");
        }
        assert!(seen_low && seen_high, "jitter should spread both ways");
    }

    #[test]
    fn constant_never_changes() {
        assert_eq!(open_wait(&Backoff::Constant(secs(3)), 9, 0.9), secs(3));
    }
}
