//! A bounded queue of samples that remembers each sample's position in the stream.
//!
//! The dispatch layer keeps one per implementation when a session runs both (shadow,
//! standby): the same stream index in both queues is the same moment of the same signal,
//! which is what lets shadow compare sample for sample and standby switch sides without
//! losing or repeating a sample.

use board_api::SampleMatrix;
use std::collections::VecDeque;

#[derive(Clone)]
pub struct SampleQueue {
    rows: usize,
    capacity: usize,
    values: VecDeque<f64>,
    /// Stream index of the oldest sample held.
    first_index: u64,
    dropped: u64,
}

impl SampleQueue {
    pub fn new(rows: usize, capacity: usize) -> Self {
        SampleQueue { rows, capacity: capacity.max(1), values: VecDeque::new(), first_index: 0, dropped: 0 }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn len(&self) -> usize {
        self.values.len() / self.rows
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// Stream index of the oldest sample held (or of the next one, when empty).
    pub fn first_index(&self) -> u64 {
        self.first_index
    }
    /// Stream index the next pushed sample gets.
    pub fn end_index(&self) -> u64 {
        self.first_index + self.len() as u64
    }
    /// Samples pushed out by newer ones because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        self.trim();
    }

    /// Appends whole samples given sample-major (`rows` values each).
    pub fn push_sample_major(&mut self, samples: &[f64]) {
        debug_assert_eq!(samples.len() % self.rows, 0);
        self.values.extend(samples.iter().copied());
        self.trim();
    }

    /// Forgets every sample before stream index `index` (they were served or compared).
    pub fn discard_before(&mut self, index: u64) {
        if index <= self.first_index {
            return;
        }
        let n = ((index - self.first_index) as usize).min(self.len());
        self.values.drain(..n * self.rows);
        self.first_index += n as u64;
    }

    /// Skips to stream index `index` when the queue starts later (samples that were never
    /// produced): returns how many were skipped.
    pub fn align_to(&mut self, index: u64) -> u64 {
        if self.is_empty() && index > self.first_index {
            let skipped = index - self.first_index;
            self.first_index = index;
            return skipped;
        }
        0
    }

    /// The sample at stream index `index`, if held.
    pub fn get(&self, index: u64) -> Option<impl Iterator<Item = f64> + '_> {
        if index < self.first_index || index >= self.end_index() {
            return None;
        }
        let start = (index - self.first_index) as usize * self.rows;
        Some(self.values.range(start..start + self.rows).copied())
    }

    /// Copies the sample at `index` into `out` (cleared first); false when not held.
    pub fn copy_sample(&self, index: u64, out: &mut Vec<f64>) -> bool {
        out.clear();
        match self.get(index) {
            Some(values) => {
                out.extend(values);
                true
            }
            None => false,
        }
    }

    /// Removes up to `max` oldest samples into `out` (row-major); returns the stream index
    /// of the first one.
    pub fn take_into(&mut self, max: usize, out: &mut SampleMatrix) -> u64 {
        let first = self.first_index;
        let n = max.min(self.len());
        self.copy_range_into(0, n, out);
        self.discard_before(first + n as u64);
        first
    }

    /// Copies up to `max` newest samples into `out` (row-major, oldest first) and keeps
    /// them; returns the stream index of the first one.
    pub fn peek_latest_into(&mut self, max: usize, out: &mut SampleMatrix) -> u64 {
        let n = max.min(self.len());
        let skip = self.len() - n;
        self.copy_range_into(skip, n, out);
        self.first_index + skip as u64
    }

    fn copy_range_into(&self, skip: usize, n: usize, out: &mut SampleMatrix) {
        let rows = self.rows;
        let data = out.reset(rows, n);
        for i in 0..n {
            let base = (skip + i) * rows;
            for row in 0..rows {
                data[row * n + i] = self.values[base + row];
            }
        }
    }

    fn trim(&mut self) {
        let len = self.len();
        if len > self.capacity {
            let excess = len - self.capacity;
            self.values.drain(..excess * self.rows);
            self.first_index += excess as u64;
            self.dropped += excess as u64;
        }
    }

    /// Mutable access to the value at (`index`, `row`), for marking samples.
    pub fn value_mut(&mut self, index: u64, row: usize) -> Option<&mut f64> {
        if index < self.first_index || index >= self.end_index() {
            return None;
        }
        let at = (index - self.first_index) as usize * self.rows + row;
        self.values.get_mut(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(from: u64, n: u64) -> Vec<f64> {
        (from..from + n).flat_map(|i| [i as f64, i as f64 * 10.0]).collect()
    }

    #[test]
    fn take_keeps_stream_indices() {
        let mut q = SampleQueue::new(2, 100);
        q.push_sample_major(&samples(0, 5));
        let mut m = SampleMatrix::new(2);
        assert_eq!(q.take_into(3, &mut m), 0);
        assert_eq!(m.row(0), &[0.0, 1.0, 2.0]);
        assert_eq!(q.first_index(), 3);
        assert_eq!(q.take_into(10, &mut m), 3);
        assert_eq!(m.row(1), &[30.0, 40.0]);
        assert!(q.is_empty());
        assert_eq!(q.end_index(), 5);
    }

    #[test]
    fn overflow_drops_the_oldest_and_counts() {
        let mut q = SampleQueue::new(2, 3);
        q.push_sample_major(&samples(0, 5));
        assert_eq!(q.len(), 3);
        assert_eq!(q.dropped(), 2);
        assert_eq!(q.first_index(), 2);
        let mut m = SampleMatrix::new(2);
        assert_eq!(q.peek_latest_into(2, &mut m), 3);
        assert_eq!(m.row(0), &[3.0, 4.0]);
        assert_eq!(q.len(), 3);
    }

    #[test]
    fn lookup_and_discard_by_index() {
        let mut q = SampleQueue::new(2, 100);
        q.push_sample_major(&samples(0, 4));
        let mut s = Vec::new();
        assert!(q.copy_sample(2, &mut s));
        assert_eq!(s, vec![2.0, 20.0]);
        q.discard_before(3);
        assert!(!q.copy_sample(2, &mut s));
        assert!(q.copy_sample(3, &mut s));
        *q.value_mut(3, 1).unwrap() = -1.0;
        assert!(q.copy_sample(3, &mut s));
        assert_eq!(s, vec![3.0, -1.0]);
    }
}
