//! The last 15 minutes of each board, kept in memory for the status page's charts: one
//! point every few seconds with the sessions per path, the Rust error and slow rates, the
//! p99 read latency per path, shadow comparisons and mismatches, samples delivered and
//! dropped, and the breaker state. Bounded by time and by count; nothing is persisted.

use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// How far back the charts go.
pub const WINDOW_SECONDS: f64 = 15.0 * 60.0;
/// Points kept per board at most (one every 5 s fills the window with 180).
pub const MAX_POINTS: usize = 200;

/// One board at one moment. Counts of comparisons, mismatches and samples are for the
/// interval since the previous point.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Point {
    /// Unix seconds.
    pub at: f64,
    /// Live sessions on cpp, rust, shadow, standby.
    pub sessions: [usize; 4],
    pub error_percent: f64,
    pub slow_percent: f64,
    /// p99 read latency in milliseconds per path (cpp, rust, shadow, standby), when there
    /// were reads on it in the interval.
    pub p99_ms: [Option<f64>; 4],
    pub shadow_compared: u64,
    pub shadow_mismatched: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub breaker_state: String,
}

#[derive(Default)]
pub struct History {
    boards: Mutex<BTreeMap<&'static str, VecDeque<Point>>>,
}

impl History {
    pub fn record(&self, board: &'static str, point: Point) {
        let mut boards = self.boards.lock().unwrap_or_else(|p| p.into_inner());
        let points = boards.entry(board).or_default();
        let oldest = point.at - WINDOW_SECONDS;
        while points.front().is_some_and(|p| p.at < oldest) || points.len() >= MAX_POINTS {
            points.pop_front();
        }
        points.push_back(point);
    }

    /// The board's points, oldest first.
    pub fn of(&self, board: &str) -> Vec<Point> {
        let boards = self.boards.lock().unwrap_or_else(|p| p.into_inner());
        boards.get(board).map(|p| p.iter().cloned().collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_older_than_the_window_are_dropped_and_the_count_is_bounded() {
        let history = History::default();
        for i in 0..1000 {
            history.record("synthetic", Point { at: f64::from(i) * 5.0, ..Point::default() });
        }
        let points = history.of("synthetic");
        assert!(points.len() <= MAX_POINTS);
        let newest = points.last().unwrap().at;
        assert_eq!(newest, 999.0 * 5.0);
        assert!(points.first().unwrap().at >= newest - WINDOW_SECONDS);
        assert!(history.of("cyton").is_empty());
    }
}
