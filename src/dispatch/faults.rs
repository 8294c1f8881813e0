//! Fault injection into the Rust path, for tests and incident drills.
//!
//! Faults are configured per board in the YAML (off by default) and injected only where
//! the Rust implementation runs, never into C++ and never into what C++ serves. Each
//! injected fault is logged at WARN so that nobody mistakes a drill for an incident.

use board_api::{BoardError, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What to inject, as probabilities per Rust call (0.0 ..= 1.0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    pub error_rate: f64,
    pub panic_rate: f64,
    pub hang_rate: f64,
    pub corrupt_rate: f64,
    pub added_latency: Duration,
}

impl FaultPlan {
    pub fn is_active(&self) -> bool {
        self.error_rate > 0.0
            || self.panic_rate > 0.0
            || self.hang_rate > 0.0
            || self.corrupt_rate > 0.0
            || !self.added_latency.is_zero()
    }
}

/// The fault chosen for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Error,
    Panic,
    Hang,
    Corrupt,
}

/// Marker value written into samples altered by an injected corruption, so a drill's data
/// can be told apart afterwards. It is added to the first data row.
pub const CORRUPTION_OFFSET: f64 = 1000.0;


/// Chooses faults for one session's Rust calls. Deterministic for a given seed, so a test
/// or drill that fails can be replayed.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    plan: FaultPlan,
    state: u64,
}

impl FaultInjector {
    pub fn new(plan: FaultPlan, seed: u64) -> Self {
        FaultInjector { plan, state: seed ^ 0x5DEE_CE66_D1CE_4E5B }
    }

    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    pub fn set_plan(&mut self, plan: FaultPlan) {
        self.plan = plan;
    }

    fn uniform(&mut self) -> f64 {
        // xorshift64*: tiny, and good enough to spread faults over calls.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let x = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Draws the fault for the next call (one draw per kind, in a fixed order).
    pub fn draw(&mut self) -> Fault {
        if !self.plan.is_active() {
            return Fault::None;
        }
        let p = self.plan.clone();
        if self.uniform() < p.panic_rate {
            Fault::Panic
        } else if self.uniform() < p.hang_rate {
            Fault::Hang
        } else if self.uniform() < p.error_rate {
            Fault::Error
        } else if self.uniform() < p.corrupt_rate {
            Fault::Corrupt
        } else {
            Fault::None
        }
    }
}

/// Performs the part of `fault` that happens before the real call: latency, hang, panic,
/// error. Runs on the Rust side's worker. `Corrupt` is applied to the output afterwards
/// by [`corrupt_samples`].
/// An injected hang lasts until `hang_release` is set (the runtime sets it at shutdown).
pub fn before_call(fault: Fault, latency: Duration, board: &str, hang_release: &AtomicBool) -> Result<(), BoardError> {
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
    match fault {
        Fault::None | Fault::Corrupt => Ok(()),
        Fault::Error => {
            tracing::warn!(board, fault = "error", "injected fault");
            Err(BoardError::new(ExitCode::GeneralError, "injected fault: error on the Rust path"))
        }
        Fault::Panic => {
            tracing::warn!(board, fault = "panic", "injected fault");
            panic!("injected fault: panic on the Rust path");
        }
        Fault::Hang => {
            tracing::warn!(board, fault = "hang", "injected fault");
            while !hang_release.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(BoardError::general("injected fault: hang released at shutdown"))
        }
    }
}

/// Alters every sample of a row-major block: adds [`CORRUPTION_OFFSET`] to `row`.
pub fn corrupt_samples(row_major: &mut [f64], samples: usize, row: usize, board: &str) {
    if samples == 0 {
        return;
    }
    tracing::warn!(board, fault = "corrupt", samples, "injected fault");
    for v in &mut row_major[row * samples..(row + 1) * samples] {
        *v += CORRUPTION_OFFSET;
    }
}

/// The same for sample-major data (`rows` values per sample).
pub fn corrupt_samples_sample_major(sample_major: &mut [f64], rows: usize, row: usize, board: &str) {
    let samples = sample_major.len() / rows.max(1);
    if samples == 0 {
        return;
    }
    tracing::warn!(board, fault = "corrupt", samples, "injected fault");
    for sample in sample_major.chunks_exact_mut(rows) {
        sample[row] += CORRUPTION_OFFSET;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inactive_plan_injects_nothing() {
        let mut f = FaultInjector::new(FaultPlan::default(), 1);
        assert!((0..1000).all(|_| f.draw() == Fault::None));
    }

    #[test]
    fn rates_are_respected_roughly_and_deterministically() {
        let plan = FaultPlan { error_rate: 0.3, ..FaultPlan::default() };
        let mut a = FaultInjector::new(plan.clone(), 7);
        let mut b = FaultInjector::new(plan, 7);
        let draws: Vec<Fault> = (0..10_000).map(|_| a.draw()).collect();
        assert!(draws.iter().zip((0..10_000).map(|_| b.draw())).all(|(x, y)| *x == y));
        let errors = draws.iter().filter(|f| **f == Fault::Error).count();
        assert!((2_500..3_500).contains(&errors), "{errors} errors in 10,000 at 30%");
    }

    #[test]
    fn always_error_gives_a_general_error() {
        let e = before_call(Fault::Error, Duration::ZERO, "synthetic", &AtomicBool::new(false)).unwrap_err();
        assert_eq!(e.code, ExitCode::GeneralError);
    }
}
