//! A fixed-capacity sample buffer with BrainFlow's semantics: when it is full the oldest
//! sample is dropped and counted.

use board_api::SampleMatrix;
use std::collections::VecDeque;

/// Samples of one preset, stored sample-major. Memory grows with the samples actually
/// held, up to `capacity`, so thousands of idle sessions with BrainFlow's customary
/// 450,000-sample buffers cost nothing until data arrives.
#[derive(Debug)]
pub struct RingBuffer {
    rows: usize,
    capacity: usize,
    data: VecDeque<f64>,
    dropped: u64,
}

impl RingBuffer {
    /// Whether a buffer of `capacity` samples of `rows` values is addressable at all
    /// (the C++ twin's "too large" rule); zero is never valid.
    pub fn size_is_valid(rows: usize, capacity: usize) -> bool {
        capacity > 0
            && rows > 0
            && capacity
                .checked_mul(rows)
                .and_then(|n| n.checked_mul(std::mem::size_of::<f64>()))
                .is_some_and(|bytes| bytes <= isize::MAX as usize)
    }

    /// A buffer for `capacity` samples of `rows` values; `capacity` must be at least 1.
    pub fn new(rows: usize, capacity: usize) -> Self {
        assert!(capacity > 0, "a ring buffer needs room for one sample");
        RingBuffer { rows, capacity, data: VecDeque::new(), dropped: 0 }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn len(&self) -> usize {
        self.data.len() / self.rows.max(1)
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// Samples lost: overwritten because the buffer was full, or refused because memory
    /// ran out (counted, never a crash).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Appends one sample (`rows` values); a full buffer loses its oldest sample.
    pub fn push(&mut self, sample: &[f64]) {
        debug_assert_eq!(sample.len(), self.rows);
        if self.len() == self.capacity {
            self.data.drain(..self.rows);
            self.dropped += 1;
        } else if self.data.try_reserve(self.rows).is_err() {
            self.dropped += 1;
            tracing::warn!(rows = self.rows, held = self.len(), "no memory for another sample; dropped and counted");
            return;
        }
        self.data.extend(sample.iter().copied());
    }

    /// Moves up to `max` oldest samples into `out` (row-major), removing them.
    pub fn take_oldest(&mut self, max: usize, out: &mut SampleMatrix) {
        let n = max.min(self.len());
        self.copy_out(0, n, out);
        self.data.drain(..n * self.rows);
    }

    /// Copies up to `max` newest samples into `out` (row-major, oldest first).
    pub fn copy_newest(&self, max: usize, out: &mut SampleMatrix) {
        let n = max.min(self.len());
        self.copy_out(self.len() - n, n, out);
    }

    fn copy_out(&self, skip: usize, n: usize, out: &mut SampleMatrix) {
        let rows = self.rows;
        let dest = out.reset(rows, n);
        // Walk the held values once, sample-major, scattering into rows: no allocation.
        let (mut sample, mut row) = (0, 0);
        for value in self.data.range(skip * rows..(skip + n) * rows) {
            dest[row * n + sample] = *value;
            row += 1;
            if row == rows {
                row = 0;
                sample += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_samples_are_dropped_and_counted() {
        let mut ring = RingBuffer::new(2, 3);
        for i in 0..5 {
            ring.push(&[i as f64, 10.0 * i as f64]);
        }
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.dropped(), 2);
        let mut out = SampleMatrix::new(2);
        ring.copy_newest(2, &mut out);
        assert_eq!(out.row(0), &[3.0, 4.0]);
        assert_eq!(ring.len(), 3);
        ring.take_oldest(10, &mut out);
        assert_eq!(out.row(0), &[2.0, 3.0, 4.0]);
        assert_eq!(out.row(1), &[20.0, 30.0, 40.0]);
        assert!(ring.is_empty());
        ring.take_oldest(10, &mut out);
        assert_eq!(out.samples(), 0);
    }

    #[test]
    fn sizes_that_cannot_exist_are_refused() {
        assert!(RingBuffer::size_is_valid(32, 450_000));
        assert!(!RingBuffer::size_is_valid(32, 0));
        assert!(!RingBuffer::size_is_valid(32, usize::MAX));
        assert!(!RingBuffer::size_is_valid(32, usize::MAX / 64));
        // A huge but addressable buffer costs nothing until samples arrive.
        let mut ring = RingBuffer::new(32, usize::MAX / 512);
        ring.push(&[1.0; 32]);
        assert_eq!(ring.len(), 1);
    }

    #[test]
    fn partial_takes_keep_order_across_the_wrap() {
        let mut ring = RingBuffer::new(1, 4);
        let mut out = SampleMatrix::new(1);
        let mut next = 0.0;
        let mut expected = 0.0;
        for _ in 0..10 {
            for _ in 0..3 {
                ring.push(&[next]);
                next += 1.0;
            }
            ring.take_oldest(3, &mut out);
            for v in out.row(0) {
                assert_eq!(*v, expected);
                expected += 1.0;
            }
        }
        assert_eq!(ring.dropped(), 0);
    }
}
