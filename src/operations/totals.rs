//! Totals over the sessions a process serves: samples delivered and dropped, read errors,
//! polls, and per board the samples and read latency per path (for the live view's p99
//! and the status page's charts).

use board_api::BoardId;
use monitoring::names;
use std::sync::atomic::{AtomicU64, Ordering};
use toggles::Path;

/// Totals over the sessions served (for the run summary, the benchmark and the live view).
#[derive(Debug)]
pub struct FleetTotals {
    pub delivered: AtomicU64,
    pub dropped: AtomicU64,
    pub errors: AtomicU64,
    pub polls: AtomicU64,
    /// Indexed as [`BoardId::EVERY`].
    boards: Box<[BoardTotals]>,
}

impl Default for FleetTotals {
    fn default() -> Self {
        FleetTotals {
            delivered: AtomicU64::default(),
            dropped: AtomicU64::default(),
            errors: AtomicU64::default(),
            polls: AtomicU64::default(),
            boards: BoardId::EVERY.iter().map(|_| BoardTotals::default()).collect(),
        }
    }
}

/// One board's part of the totals.
#[derive(Debug, Default)]
pub struct BoardTotals {
    pub delivered: AtomicU64,
    pub dropped: AtomicU64,
    /// Read latency counts per path (cpp, rust, shadow, standby) and bucket of
    /// [`names::CALL_BUCKETS`] (the last slot is everything above).
    latency: [[AtomicU64; LATENCY_SLOTS]; 4],
}

impl BoardTotals {
    pub fn latency_counts(&self) -> [[u64; LATENCY_SLOTS]; 4] {
        let mut out = [[0u64; LATENCY_SLOTS]; 4];
        for (p, row) in self.latency.iter().enumerate() {
            for (b, c) in row.iter().enumerate() {
                out[p][b] = c.load(Ordering::Relaxed);
            }
        }
        out
    }
}

pub const LATENCY_SLOTS: usize = names::CALL_BUCKETS.len() + 1;

pub fn path_index(path: Path) -> usize {
    match path {
        Path::Cpp => 0,
        Path::Rust => 1,
        Path::Shadow => 2,
        Path::Standby => 3,
    }
}

impl FleetTotals {
    pub fn board(&self, board: BoardId) -> &BoardTotals {
        &self.boards[board.index()]
    }

    pub fn record_latency(&self, board: BoardId, path: Path, seconds: f64) {
        let slot = names::CALL_BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(names::CALL_BUCKETS.len());
        self.board(board).latency[path_index(path)][slot].fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_samples(&self, board: BoardId, delivered: u64, dropped: u64) {
        let totals = self.board(board);
        totals.delivered.fetch_add(delivered, Ordering::Relaxed);
        totals.dropped.fetch_add(dropped, Ordering::Relaxed);
        self.delivered.fetch_add(delivered, Ordering::Relaxed);
        self.dropped.fetch_add(dropped, Ordering::Relaxed);
    }

    /// Latency counts summed over the boards.
    pub fn latency_counts(&self) -> [[u64; LATENCY_SLOTS]; 4] {
        let mut out = [[0u64; LATENCY_SLOTS]; 4];
        for board in self.boards.iter() {
            for (p, row) in board.latency_counts().iter().enumerate() {
                for (b, c) in row.iter().enumerate() {
                    out[p][b] += c;
                }
            }
        }
        out
    }
}

/// The bucket bound under which 99% of the calls counted in `counts` fell (`None`
/// without calls; infinity when above the last bound).
pub fn p99(counts: &[u64; LATENCY_SLOTS]) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let needed = (total as f64 * 0.99).ceil() as u64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= needed {
            return Some(names::CALL_BUCKETS.get(i).copied().unwrap_or(f64::INFINITY));
        }
    }
    Some(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_is_the_bucket_bound_that_holds_99_percent() {
        let mut counts = [0u64; LATENCY_SLOTS];
        assert_eq!(p99(&counts), None);
        counts[0] = 99;
        counts[5] = 1;
        assert_eq!(p99(&counts), Some(names::CALL_BUCKETS[0]));
        counts[5] = 2;
        assert_eq!(p99(&counts), Some(names::CALL_BUCKETS[5]));
        counts[LATENCY_SLOTS - 1] = 100;
        assert_eq!(p99(&counts), Some(f64::INFINITY));
    }
}
