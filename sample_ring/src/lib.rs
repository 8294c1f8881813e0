//! The one sample ring: a bounded buffer of whole samples with BrainFlow's drop-oldest
//! semantics, that remembers each sample's position in its stream.
//!
//! Every Rust buffer of samples is a [`SampleRing`]: each preset's buffer of the Rust
//! twins (`rust_boards`), of the BLE boards (`ble_boards`), and the dispatcher's indexed
//! queues (shadow and standby keep one per implementation, and the same stream index in
//! both is the same moment of the same signal). A board can ignore the indices; the
//! dispatcher lives by them.
//!
//! It is its own crate rather than part of `board_api` because `board_api` is the
//! contract (what a board is and says), and this is a mechanism that implementations and
//! the dispatcher share; it depends only on `board_api` (for [`SampleMatrix`]), so every
//! crate that buffers samples can depend on it without a cycle.
//!
//! It owns storage, eviction, drop counting and the sample-major → row-major copy of a
//! read. It does not own markers, locking, lifecycle rules or what a read may ask for:
//! its users decide those.
//!
//! Speed: a read is one pass over at most two contiguous runs of storage (either side of
//! the wrap) into the caller's matrix, transposed in cache-sized blocks, with no zeroing
//! and no allocation once the matrix has grown; a push is one or two `copy_from_slice`s.
//! Storage grows by doubling up to the capacity, so the 450,000-sample buffers BrainFlow
//! users customarily ask for cost nothing until samples arrive.
#![forbid(unsafe_code)]

use board_api::SampleMatrix;

/// The first allocation, in samples: about a second of the fastest board, so slow boards
/// and short sessions never grow, and a growing ring copies each sample about twice.
/// The same as the C++ ring's, so the two allocate alike.
const FIRST_SLOTS: usize = 256;

/// Samples of one stream, stored sample-major, each with its stream index.
///
/// The stream index of a sample is how many samples were pushed before it; samples
/// evicted (full ring), discarded or taken still count, so indices never repeat and a
/// sample keeps its index for as long as it is held.
#[derive(Debug, Clone)]
pub struct SampleRing {
    rows: usize,
    capacity: usize,
    /// `slots * rows` values; the samples held run from slot `head` for `len` slots,
    /// wrapping at `slots`.
    storage: Vec<f64>,
    slots: usize,
    head: usize,
    len: usize,
    /// Stream index of the sample at `head`.
    first_index: u64,
    dropped: u64,
}

impl SampleRing {
    /// Whether a ring of `capacity` samples of `rows` values is addressable at all (the
    /// C++ ring's "too large" rule, [`board_api::buffer_size_is_valid`]); zero is never valid.
    pub fn size_is_valid(rows: usize, capacity: usize) -> bool {
        board_api::buffer_size_is_valid(rows, capacity)
    }

    /// A ring for up to `capacity` samples (at least 1) of `rows` values, allocating
    /// nothing yet.
    pub fn new(rows: usize, capacity: usize) -> Self {
        SampleRing {
            rows,
            capacity: capacity.max(1),
            storage: Vec::new(),
            slots: 0,
            head: 0,
            len: 0,
            first_index: 0,
            dropped: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Samples it holds at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// Samples held.
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Stream index of the oldest sample held (or of the next one, when empty).
    pub fn first_index(&self) -> u64 {
        self.first_index
    }
    /// Stream index the next pushed sample gets.
    pub fn end_index(&self) -> u64 {
        self.first_index + self.len as u64
    }
    /// Samples lost: pushed out by newer ones because the ring was full, or (counted,
    /// never a crash) because memory ran out while it grew.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
    /// Samples the storage has room for now (never more than the capacity).
    pub fn allocated_samples(&self) -> usize {
        self.slots
    }

    /// Changes the capacity (at least 1); a smaller one drops the oldest excess samples
    /// and counts them.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        if self.len > self.capacity {
            self.evict(self.len - self.capacity);
        }
        if self.slots > self.capacity {
            self.make_contiguous();
            self.slots = self.capacity.max(self.len);
            self.storage.truncate(self.slots * self.rows);
            self.storage.shrink_to_fit();
        }
    }

    /// Appends one sample (`rows` values); returns whether it pushed the oldest out.
    pub fn push(&mut self, sample: &[f64]) -> bool {
        let dropped = self.dropped;
        self.push_sample_major(sample);
        self.dropped > dropped
    }

    /// Appends whole samples given sample-major (`rows` values each). When they do not
    /// fit, the oldest are dropped and counted, as if pushed one by one.
    pub fn push_sample_major(&mut self, samples: &[f64]) {
        let rows = self.rows;
        if rows == 0 {
            return;
        }
        debug_assert_eq!(samples.len() % rows, 0, "push takes whole samples of {rows} values");
        let count = samples.len() / rows;
        let mut incoming = &samples[..count * rows];
        let overflow = (self.len + count).saturating_sub(self.capacity);
        if overflow > 0 {
            let from_held = overflow.min(self.len);
            self.evict(from_held);
            // Samples that would be pushed out by later ones of this same batch.
            let from_batch = overflow - from_held;
            self.skip(from_batch);
            incoming = &incoming[from_batch * rows..];
        }
        let count = incoming.len() / rows;
        if self.len + count > self.slots && !self.grow(self.len + count) {
            // No memory to grow: the ring is full at its current size.
            let overflow = self.len + count - self.slots;
            let from_held = overflow.min(self.len);
            self.evict(from_held);
            let from_batch = overflow - from_held;
            self.skip(from_batch);
            incoming = &incoming[from_batch * rows..];
            tracing::warn!(rows, held = self.len, lost = overflow, "no memory to grow a sample ring; oldest samples dropped and counted");
        }
        let count = incoming.len() / rows;
        if count == 0 {
            return;
        }
        let tail = (self.head + self.len) % self.slots;
        let first_run = count.min(self.slots - tail);
        self.storage[tail * rows..(tail + first_run) * rows].copy_from_slice(&incoming[..first_run * rows]);
        self.storage[..(count - first_run) * rows].copy_from_slice(&incoming[first_run * rows..]);
        self.len += count;
    }

    /// Forgets every sample before stream index `index` (they were served or compared).
    pub fn discard_before(&mut self, index: u64) {
        if index <= self.first_index {
            return;
        }
        let n = ((index - self.first_index) as usize).min(self.len);
        self.advance(n);
    }

    /// Skips to stream index `index` when the ring is empty and starts later (samples
    /// that were never produced): returns how many were skipped.
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
        let slot = self.slot_of(index)?;
        Some(self.storage[slot * self.rows..(slot + 1) * self.rows].iter().copied())
    }

    /// Copies the sample at `index` into `out` (cleared first); false when not held.
    pub fn copy_sample(&self, index: u64, out: &mut Vec<f64>) -> bool {
        out.clear();
        match self.slot_of(index) {
            Some(slot) => {
                out.extend_from_slice(&self.storage[slot * self.rows..(slot + 1) * self.rows]);
                true
            }
            None => false,
        }
    }

    /// Mutable access to the value at (`index`, `row`), for marking samples.
    pub fn value_mut(&mut self, index: u64, row: usize) -> Option<&mut f64> {
        if row >= self.rows {
            return None;
        }
        let slot = self.slot_of(index)?;
        self.storage.get_mut(slot * self.rows + row)
    }

    /// Removes up to `max` oldest samples into `out` (row-major); returns the stream index
    /// of the first one. BrainFlow's `get_board_data`.
    pub fn take_into(&mut self, max: usize, out: &mut SampleMatrix) -> u64 {
        let first = self.first_index;
        let n = max.min(self.len);
        self.copy_range_into(0, n, out);
        self.advance(n);
        first
    }

    /// Copies up to `max` newest samples into `out` (row-major, oldest first) and keeps
    /// them; returns the stream index of the first one. BrainFlow's
    /// `get_current_board_data`.
    pub fn peek_latest_into(&self, max: usize, out: &mut SampleMatrix) -> u64 {
        let n = max.min(self.len);
        let skip = self.len - n;
        self.copy_range_into(skip, n, out);
        self.first_index + skip as u64
    }

    /// The `n` samples from the `skip`-th oldest on, as at most two sample-major runs.
    fn runs(&self, skip: usize, n: usize) -> (&[f64], &[f64]) {
        if n == 0 {
            return (&[], &[]);
        }
        let rows = self.rows;
        let start = (self.head + skip) % self.slots;
        let first_run = n.min(self.slots - start);
        (&self.storage[start * rows..(start + first_run) * rows], &self.storage[..(n - first_run) * rows])
    }

    fn copy_range_into(&self, skip: usize, n: usize, out: &mut SampleMatrix) {
        let (first, second) = self.runs(skip, n);
        out.fill_from_sample_major_parts(self.rows, first, second);
    }

    fn slot_of(&self, index: u64) -> Option<usize> {
        if index < self.first_index || index >= self.end_index() {
            return None;
        }
        Some((self.head + (index - self.first_index) as usize) % self.slots)
    }

    /// Removes the `n` oldest held samples (served, not lost).
    fn advance(&mut self, n: usize) {
        debug_assert!(n <= self.len);
        if n == 0 {
            return;
        }
        self.head = (self.head + n) % self.slots;
        self.len -= n;
        self.first_index += n as u64;
        if self.len == 0 {
            self.head = 0;
        }
    }

    /// Loses the `n` oldest held samples, counted as dropped.
    fn evict(&mut self, n: usize) {
        self.advance(n);
        self.dropped += n as u64;
    }

    /// Counts `n` samples that were pushed but never stored (an empty ring's next ones).
    fn skip(&mut self, n: usize) {
        debug_assert!(self.len == 0 || n == 0);
        self.first_index += n as u64;
        self.dropped += n as u64;
    }

    /// Grows the storage to hold at least `needed` samples (doubling, at most the
    /// capacity). False when memory ran out; the ring is then unchanged.
    fn grow(&mut self, needed: usize) -> bool {
        let bigger = needed.max(FIRST_SLOTS).max(self.slots * 2).min(self.capacity);
        let extra = (bigger - self.slots) * self.rows;
        if self.storage.try_reserve_exact(extra).is_err() {
            return false;
        }
        self.make_contiguous();
        self.storage.resize(bigger * self.rows, 0.0);
        self.slots = bigger;
        true
    }

    /// Moves the held samples so the oldest is at slot 0.
    fn make_contiguous(&mut self) {
        if self.head != 0 {
            self.storage.rotate_left(self.head * self.rows);
            self.head = 0;
        }
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
        let mut q = SampleRing::new(2, 100);
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
        let mut q = SampleRing::new(2, 3);
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
        let mut q = SampleRing::new(2, 100);
        q.push_sample_major(&samples(0, 4));
        let mut s = Vec::new();
        assert!(q.copy_sample(2, &mut s));
        assert_eq!(s, vec![2.0, 20.0]);
        assert_eq!(q.get(1).unwrap().collect::<Vec<_>>(), vec![1.0, 10.0]);
        q.discard_before(3);
        assert!(!q.copy_sample(2, &mut s));
        assert!(q.get(2).is_none());
        assert!(q.copy_sample(3, &mut s));
        *q.value_mut(3, 1).unwrap() = -1.0;
        assert!(q.value_mut(3, 2).is_none(), "row beyond the sample");
        assert!(q.copy_sample(3, &mut s));
        assert_eq!(s, vec![3.0, -1.0]);
    }

    #[test]
    fn oldest_samples_are_dropped_and_counted_one_by_one() {
        let mut ring = SampleRing::new(2, 3);
        for i in 0..5 {
            assert_eq!(ring.push(&[i as f64, 10.0 * i as f64]), i >= 3);
        }
        assert_eq!(ring.len(), 3);
        assert_eq!(ring.dropped(), 2);
        let mut out = SampleMatrix::new(2);
        ring.peek_latest_into(2, &mut out);
        assert_eq!(out.row(0), &[3.0, 4.0]);
        assert_eq!(ring.len(), 3);
        ring.take_into(10, &mut out);
        assert_eq!(out.row(0), &[2.0, 3.0, 4.0]);
        assert_eq!(out.row(1), &[20.0, 30.0, 40.0]);
        assert!(ring.is_empty());
        ring.take_into(10, &mut out);
        assert_eq!(out.samples(), 0);
    }

    #[test]
    fn sizes_that_cannot_exist_are_refused() {
        assert!(SampleRing::size_is_valid(32, 450_000));
        assert!(!SampleRing::size_is_valid(32, 0));
        assert!(!SampleRing::size_is_valid(0, 10));
        assert!(!SampleRing::size_is_valid(32, usize::MAX));
        assert!(!SampleRing::size_is_valid(32, usize::MAX / 64));
        // A huge but addressable ring costs nothing until samples arrive.
        let mut ring = SampleRing::new(32, usize::MAX / 512);
        ring.push(&[1.0; 32]);
        assert_eq!(ring.len(), 1);
        assert_eq!(ring.allocated_samples(), FIRST_SLOTS);
    }

    #[test]
    fn partial_takes_keep_order_across_the_wrap() {
        let mut ring = SampleRing::new(1, 4);
        let mut out = SampleMatrix::new(1);
        let mut next = 0.0;
        let mut expected = 0.0;
        for _ in 0..10 {
            for _ in 0..3 {
                ring.push(&[next]);
                next += 1.0;
            }
            ring.take_into(3, &mut out);
            for v in out.row(0) {
                assert_eq!(*v, expected);
                expected += 1.0;
            }
        }
        assert_eq!(ring.dropped(), 0);
    }

    /// The same pushes and reads against the obvious model (a plain list of samples):
    /// growth while wrapped, batches larger than the ring, shrinking capacity.
    #[test]
    fn agrees_with_a_plain_list_under_mixed_operations() {
        let rows = 3;
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut draw = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for capacity in [1usize, 5, 300, 700] {
            let mut ring = SampleRing::new(rows, capacity);
            let mut model: std::collections::VecDeque<(u64, Vec<f64>)> = Default::default();
            let (mut next, mut dropped) = (0u64, 0u64);
            let (mut got, mut want) = (SampleMatrix::new(rows), SampleMatrix::new(rows));
            for step in 0..4000 {
                match draw(10) {
                    0..=4 => {
                        let n = draw(2 * capacity as u64 + 3);
                        let batch: Vec<f64> =
                            (next..next + n).flat_map(|i| (0..rows).map(move |r| (i * 10 + r as u64) as f64)).collect();
                        ring.push_sample_major(&batch);
                        for (k, s) in batch.chunks(rows).enumerate() {
                            model.push_back((next + k as u64, s.to_vec()));
                            if model.len() > capacity {
                                model.pop_front();
                                dropped += 1;
                            }
                        }
                        next += n;
                    }
                    5 | 6 => {
                        let max = draw(capacity as u64 + 2) as usize;
                        let first = ring.peek_latest_into(max, &mut got);
                        let n = max.min(model.len());
                        let newest: Vec<f64> = model.iter().skip(model.len() - n).flat_map(|(_, s)| s.clone()).collect();
                        want.fill_from_sample_major(rows, &newest);
                        assert_eq!(got, want, "capacity {capacity} step {step}: peek {max}");
                        assert_eq!(first, model.get(model.len() - n).map_or(next, |(i, _)| *i));
                    }
                    7 | 8 => {
                        let max = draw(capacity as u64 + 2) as usize;
                        let first = ring.take_into(max, &mut got);
                        let n = max.min(model.len());
                        assert_eq!(first, model.front().map_or(next, |(i, _)| *i));
                        let oldest: Vec<f64> = model.drain(..n).flat_map(|(_, s)| s).collect();
                        want.fill_from_sample_major(rows, &oldest);
                        assert_eq!(got, want, "capacity {capacity} step {step}: take {max}");
                    }
                    _ => {
                        let index = next.saturating_sub(draw(capacity as u64 + 2));
                        let mut sample = Vec::new();
                        let held = model.iter().find(|(i, _)| *i == index);
                        assert_eq!(ring.copy_sample(index, &mut sample), held.is_some());
                        if let Some((_, s)) = held {
                            assert_eq!(&sample, s);
                        }
                    }
                }
                assert_eq!(ring.len(), model.len(), "capacity {capacity} step {step}: len");
                assert_eq!(ring.dropped(), dropped, "capacity {capacity} step {step}: dropped");
                assert_eq!(ring.end_index(), next);
                assert!(ring.allocated_samples() <= capacity);
            }
        }
    }

    #[test]
    fn a_smaller_capacity_drops_the_oldest_and_keeps_indices() {
        let mut ring = SampleRing::new(2, 100);
        ring.push_sample_major(&samples(0, 10));
        let mut out = SampleMatrix::new(2);
        ring.take_into(3, &mut out);
        ring.push_sample_major(&samples(10, 2));
        ring.set_capacity(4);
        assert_eq!((ring.len(), ring.dropped(), ring.first_index()), (4, 5, 8));
        assert_eq!(ring.peek_latest_into(10, &mut out), 8);
        assert_eq!(out.row(0), &[8.0, 9.0, 10.0, 11.0]);
        assert_eq!(ring.allocated_samples(), 4);
        ring.push_sample_major(&samples(12, 1));
        assert_eq!(ring.take_into(10, &mut out), 9);
        assert_eq!(out.row(1), &[90.0, 100.0, 110.0, 120.0]);
        ring.set_capacity(0);
        assert_eq!(ring.capacity(), 1);
    }

    #[test]
    fn an_empty_ring_aligns_to_a_later_start() {
        let mut ring = SampleRing::new(2, 10);
        assert_eq!(ring.align_to(5), 5);
        assert_eq!(ring.align_to(3), 0);
        ring.push_sample_major(&samples(5, 1));
        assert_eq!(ring.align_to(9), 0, "only an empty ring skips");
        assert_eq!(ring.first_index(), 5);
    }
}
