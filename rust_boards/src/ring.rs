//! A fixed-capacity sample buffer with BrainFlow's semantics: when it is full the oldest
//! sample is dropped and counted.

use board_api::SampleMatrix;

/// Samples of one preset, stored sample-major in a preallocated circle.
#[derive(Debug)]
pub struct RingBuffer {
    rows: usize,
    capacity: usize,
    data: Vec<f64>,
    /// Slot of the oldest sample.
    head: usize,
    len: usize,
    dropped: u64,
}

impl RingBuffer {
    /// A buffer for `capacity` samples of `rows` values; `capacity` must be at least 1.
    pub fn new(rows: usize, capacity: usize) -> Self {
        assert!(capacity > 0, "a ring buffer needs room for one sample");
        RingBuffer { rows, capacity, data: vec![0.0; rows * capacity], head: 0, len: 0, dropped: 0 }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Samples overwritten because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Appends one sample (`rows` values); a full buffer loses its oldest sample.
    pub fn push(&mut self, sample: &[f64]) {
        debug_assert_eq!(sample.len(), self.rows);
        let slot = (self.head + self.len) % self.capacity;
        if self.len == self.capacity {
            self.head = (self.head + 1) % self.capacity;
            self.dropped += 1;
        } else {
            self.len += 1;
        }
        self.data[slot * self.rows..(slot + 1) * self.rows].copy_from_slice(sample);
    }

    /// Moves up to `max` oldest samples into `out` (row-major), removing them.
    pub fn take_oldest(&mut self, max: usize, out: &mut SampleMatrix) {
        let n = max.min(self.len);
        self.copy_out(0, n, out);
        self.head = (self.head + n) % self.capacity;
        self.len -= n;
    }

    /// Copies up to `max` newest samples into `out` (row-major, oldest first).
    pub fn copy_newest(&self, max: usize, out: &mut SampleMatrix) {
        let n = max.min(self.len);
        self.copy_out(self.len - n, n, out);
    }

    fn copy_out(&self, skip: usize, n: usize, out: &mut SampleMatrix) {
        let rows = self.rows;
        let dest = out.reset(rows, n);
        for i in 0..n {
            let slot = (self.head + skip + i) % self.capacity;
            let sample = &self.data[slot * rows..(slot + 1) * rows];
            for (row, value) in sample.iter().enumerate() {
                dest[row * n + i] = *value;
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
