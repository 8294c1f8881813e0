//! Shadow comparison: the served samples against the other implementation's, row by row.
//!
//! Rows derived from integers on the wire (package numbers, raw aux bytes, footers,
//! analog readings) must match exactly; rows computed in floating point (µV, g, °C)
//! within a relative tolerance, because two correct implementations may round
//! differently. Timestamp and marker rows are not compared: each side stamps its own clock,
//! and markers are inserted per session, not decoded.

use board_api::{BoardDescriptor, BoardId, ChannelKind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How many mismatching values a comparator logs in full before it only counts.
const LOGGED_MISMATCHES: u64 = 5;

/// Totals a comparator keeps, shared with monitoring.
#[derive(Debug, Default)]
pub struct ShadowCounters {
    /// Samples compared.
    pub samples_compared: AtomicU64,
    /// Samples with at least one mismatching row.
    pub samples_mismatched: AtomicU64,
    /// Individual values that mismatched.
    pub values_mismatched: AtomicU64,
    /// Samples the candidate did not produce in time (or at all) to be compared.
    pub samples_missing: AtomicU64,
}

impl ShadowCounters {
    pub fn compared(&self) -> u64 {
        self.samples_compared.load(Ordering::Relaxed)
    }
    pub fn mismatched(&self) -> u64 {
        self.samples_mismatched.load(Ordering::Relaxed)
    }
    pub fn missing(&self) -> u64 {
        self.samples_missing.load(Ordering::Relaxed)
    }
}

/// Compares samples of one board's default preset.
pub struct Comparator {
    board: BoardId,
    exact_rows: Vec<usize>,
    tolerant_rows: Vec<usize>,
    tolerance: f64,
    logged: u64,
    counters: Arc<ShadowCounters>,
}

impl Comparator {
    pub fn new(board: BoardId, descriptor: &BoardDescriptor, tolerance: f64, counters: Arc<ShadowCounters>) -> Self {
        let mut exact: Vec<usize> = vec![descriptor.package_num_channel];
        for kind in [ChannelKind::Other, ChannelKind::Analog] {
            if matches!(board, BoardId::Cyton | BoardId::CytonDaisy) {
                exact.extend(descriptor.channels(kind).unwrap_or_default());
            }
        }
        let tolerant = descriptor.compared_rows().filter(|r| !exact.contains(r)).collect();
        Comparator { board, exact_rows: exact, tolerant_rows: tolerant, tolerance, logged: 0, counters }
    }

    pub fn counters(&self) -> &Arc<ShadowCounters> {
        &self.counters
    }

    /// Compares one sample (sample-major, one value per row); `index` is the sample's
    /// position in the session's stream, for the log. Returns whether it matched.
    pub fn compare(&mut self, index: u64, served: &[f64], candidate: &[f64]) -> bool {
        let mut mismatches = 0u64;
        for i in 0..self.exact_rows.len() {
            let row = self.exact_rows[i];
            let (a, b) = (served[row], candidate[row]);
            if !(a == b || (a.is_nan() && b.is_nan())) {
                mismatches += 1;
                self.log(index, row, a, b);
            }
        }
        for i in 0..self.tolerant_rows.len() {
            let row = self.tolerant_rows[i];
            let (a, b) = (served[row], candidate[row]);
            if !within(a, b, self.tolerance) {
                mismatches += 1;
                self.log(index, row, a, b);
            }
        }
        self.counters.samples_compared.fetch_add(1, Ordering::Relaxed);
        if mismatches > 0 {
            self.counters.samples_mismatched.fetch_add(1, Ordering::Relaxed);
            self.counters.values_mismatched.fetch_add(mismatches, Ordering::Relaxed);
        }
        mismatches == 0
    }

    /// Records samples that were served but that the candidate never produced.
    pub fn missing(&self, samples: u64) {
        self.counters.samples_missing.fetch_add(samples, Ordering::Relaxed);
    }

    fn log(&mut self, index: u64, row: usize, served: f64, candidate: f64) {
        if self.logged < LOGGED_MISMATCHES {
            self.logged += 1;
            tracing::warn!(
                board = self.board.kind(),
                sample = index,
                row,
                served,
                candidate,
                "shadow mismatch"
            );
        }
    }
}

/// Equal within a relative tolerance (absolute near zero); NaN equals NaN.
fn within(a: f64, b: f64, tolerance: f64) -> bool {
    if a == b || (a.is_nan() && b.is_nan()) {
        return true;
    }
    let scale = a.abs().max(b.abs()).max(1.0);
    (a - b).abs() <= tolerance * scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use board_api::{descriptor, Preset};

    fn cyton() -> Comparator {
        let d = descriptor(BoardId::Cyton, Preset::Default).unwrap();
        Comparator::new(BoardId::Cyton, d, 1e-9, Arc::default())
    }

    #[test]
    fn identical_samples_match_and_are_counted() {
        let mut c = cyton();
        let sample: Vec<f64> = (0..24).map(|v| v as f64 * 1.5).collect();
        assert!(c.compare(0, &sample, &sample));
        assert_eq!(c.counters().compared(), 1);
        assert_eq!(c.counters().mismatched(), 0);
    }

    #[test]
    fn timestamps_and_markers_are_not_compared() {
        let mut c = cyton();
        let a = vec![1.0; 24];
        let mut b = a.clone();
        b[22] = 99.0; // timestamp
        b[23] = 5.0; // marker
        assert!(c.compare(0, &a, &b));
    }

    #[test]
    fn float_rows_use_the_tolerance_but_integer_rows_are_exact() {
        let mut c = cyton();
        let a = vec![100.0; 24];
        let mut b = a.clone();
        b[1] = 100.0 + 1e-8; // µV row: within 1e-9 relative of 100
        assert!(c.compare(0, &a, &b));
        b[1] = 100.001;
        assert!(!c.compare(1, &a, &b));
        let mut b = a.clone();
        b[12] = 100.0 + 1e-12; // footer row: exact
        assert!(!c.compare(2, &a, &b));
        assert_eq!(c.counters().mismatched(), 2);
    }
}
