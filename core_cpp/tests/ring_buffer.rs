//! The C++ ring buffer grows its storage with the samples it holds, and growing must never
//! show: capacity, drop-oldest, counts and the order of both reads stay exactly those of a
//! buffer allocated whole. Checked against the Rust twin's ring (`sample_ring::SampleRing`)
//! and against plain expectations at every growth step.

use board_api::{ExitCode, SampleMatrix};
use core_cpp::CppRingBuffer;
use sample_ring::SampleRing;

const ROWS: usize = 3;

/// Sample `n`: every row tells which sample and which row it is.
fn sample(n: u64) -> [f64; ROWS] {
    [n as f64, n as f64 + 0.25, -(n as f64)]
}

/// Asserts `out` holds samples `first..first + count` in order, every row.
fn assert_holds(what: &str, out: &SampleMatrix, first: u64, count: usize) {
    assert_eq!((out.rows(), out.samples()), (ROWS, count), "{what}: shape");
    for i in 0..count {
        let expected = sample(first + i as u64);
        for (row, value) in expected.iter().enumerate() {
            assert_eq!(out.get(row, i), *value, "{what}: sample {i} row {row}");
        }
    }
}

#[test]
fn nothing_is_allocated_until_samples_arrive() {
    let mut ring = CppRingBuffer::new(32, 45_000).unwrap();
    assert_eq!(ring.allocated_samples(), 0);
    let mut out = SampleMatrix::new(0);
    ring.copy_newest(10, &mut out);
    ring.take_oldest(10, &mut out);
    assert_eq!(out.samples(), 0);
    ring.push(&[1.0; 32]);
    let first = ring.allocated_samples();
    assert!((1..45_000).contains(&first), "one sample allocated {first} of 45000 slots");
}

#[test]
fn every_growth_step_keeps_order_and_counts_up_to_and_past_capacity() {
    // Capacities below, at and around the first allocation, and one needing several steps.
    for capacity in [1usize, 2, 255, 256, 257, 1000, 5000] {
        let mut ring = CppRingBuffer::new(ROWS, capacity).unwrap();
        let mut steps = Vec::new();
        let mut out = SampleMatrix::new(0);
        let total = 2 * capacity as u64 + 3;
        for n in 0..total {
            let before = ring.allocated_samples();
            ring.push(&sample(n));
            let after = ring.allocated_samples();
            if after != before {
                steps.push(after);
                // Right after growing, everything held is still there and in order.
                let held = ring.len();
                ring.copy_newest(usize::MAX, &mut out);
                assert_holds(&format!("capacity {capacity}, grown to {after}"), &out, n + 1 - held as u64, held);
            }
            let expected_len = (n as usize + 1).min(capacity);
            assert_eq!(ring.len(), expected_len, "capacity {capacity}: count after sample {n}");
            assert_eq!(ring.dropped(), (n + 1).saturating_sub(capacity as u64), "capacity {capacity}: dropped after {n}");
            assert!(ring.allocated_samples() >= ring.len() && ring.allocated_samples() <= capacity);
        }
        assert_eq!(steps.last(), Some(&capacity), "capacity {capacity}: storage ends at the capacity");
        for pair in steps.windows(2) {
            assert_eq!(pair[1], (pair[0] * 2).min(capacity), "capacity {capacity}: steps {steps:?} double");
        }
        if capacity == 5000 {
            assert!(steps.len() >= 4, "several growth steps: {steps:?}");
        }
        // Past capacity: the newest `capacity` samples remain, oldest first.
        let oldest = total - capacity as u64;
        ring.copy_newest(capacity, &mut out);
        assert_holds(&format!("capacity {capacity}, full, peek"), &out, oldest, capacity);
        assert_eq!(ring.len(), capacity, "peeking removes nothing");
        ring.take_oldest(capacity, &mut out);
        assert_holds(&format!("capacity {capacity}, full, take"), &out, oldest, capacity);
        assert!(ring.is_empty());
    }
}

#[test]
fn growing_while_wrapped_keeps_the_order() {
    // Doubling, and the last step that stops at the capacity.
    for capacity in [10_000usize, 300] {
        let mut ring = CppRingBuffer::new(ROWS, capacity).unwrap();
        let mut out = SampleMatrix::new(0);
        ring.push(&sample(0));
        let slots = ring.allocated_samples();
        // Fill the first storage, take some from the front, then refill so the held
        // samples wrap around the end of the storage before it has to grow.
        let mut next = 1u64;
        while next < slots as u64 {
            ring.push(&sample(next));
            next += 1;
        }
        ring.take_oldest(slots / 2, &mut out);
        assert_holds("front half", &out, 0, slots / 2);
        while ring.len() < slots {
            ring.push(&sample(next));
            next += 1;
        }
        assert_eq!(ring.allocated_samples(), slots, "full but not yet grown");
        ring.push(&sample(next));
        next += 1;
        assert_eq!(ring.allocated_samples(), (2 * slots).min(capacity), "grew once");
        let first = (slots / 2) as u64;
        ring.copy_newest(3, &mut out);
        assert_holds("newest three after the wrap", &out, next - 3, 3);
        ring.copy_newest(usize::MAX, &mut out);
        assert_holds("all after growing while wrapped, peek", &out, first, (next - first) as usize);
        // Fill to the capacity and past it: the free slots opened in the middle are used
        // in order, then the oldest go.
        while next < first + capacity as u64 + 5 {
            ring.push(&sample(next));
            next += 1;
        }
        assert_eq!(ring.dropped(), 5, "capacity {capacity}");
        ring.take_oldest(usize::MAX, &mut out);
        assert_holds("all, past capacity", &out, first + 5, capacity);
    }
}

/// A small deterministic generator for the operation mix (SplitMix64).
struct Ops(u64);

impl Ops {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % below
    }
}

#[test]
fn behaves_exactly_like_the_rust_ring_under_mixed_pushes_and_reads() {
    for (seed, capacity) in [(1u64, 7usize), (2, 300), (3, 1500), (4, 4097)] {
        let mut ops = Ops(seed);
        let mut cpp = CppRingBuffer::new(ROWS, capacity).unwrap();
        let mut rust = SampleRing::new(ROWS, capacity);
        let (mut c, mut r) = (SampleMatrix::new(0), SampleMatrix::new(0));
        let mut next = 0u64;
        for step in 0..3000 {
            let what = format!("seed {seed} capacity {capacity} step {step}");
            match ops.next(10) {
                0..=5 => {
                    // Batches of pushes, sometimes larger than the whole buffer.
                    let batch = ops.next(2 * capacity as u64 + 2) as usize;
                    let mut values = Vec::with_capacity(batch * ROWS);
                    for _ in 0..batch {
                        values.extend_from_slice(&sample(next));
                        rust.push(&sample(next));
                        next += 1;
                    }
                    cpp.push(&values);
                }
                6 | 7 => {
                    let max = ops.next(capacity as u64 + 2) as usize;
                    cpp.copy_newest(max, &mut c);
                    rust.peek_latest_into(max, &mut r);
                    assert_eq!(c, r, "{what}: copy_newest({max})");
                }
                _ => {
                    let max = ops.next(capacity as u64 + 2) as usize;
                    cpp.take_oldest(max, &mut c);
                    rust.take_into(max, &mut r);
                    assert_eq!(c, r, "{what}: take_oldest({max})");
                }
            }
            assert_eq!(cpp.len(), rust.len(), "{what}: count");
            assert_eq!(cpp.dropped(), rust.dropped(), "{what}: dropped");
        }
        assert!(cpp.dropped() > 0, "seed {seed}: the mix overflowed the buffer at least once");
    }
}

#[test]
fn impossible_sizes_are_refused_like_the_rust_ring() {
    assert_eq!(CppRingBuffer::new(ROWS, 0).unwrap_err().code, ExitCode::InvalidBufferSizeError);
    for capacity in [usize::MAX, usize::MAX / 64, isize::MAX as usize / 8 / 32 + 1] {
        let e = CppRingBuffer::new(32, capacity).unwrap_err();
        assert_eq!(e.code, ExitCode::InvalidBufferSizeError, "{capacity}: {e}");
        assert!(!SampleRing::size_is_valid(32, capacity), "{capacity}");
    }
    // The largest addressable size is accepted and costs nothing until used.
    let largest = isize::MAX as usize / 8 / 32;
    assert!(SampleRing::size_is_valid(32, largest));
    let mut ring = CppRingBuffer::new(32, largest).unwrap();
    ring.push(&[1.0; 32]);
    assert_eq!(ring.len(), 1);
}
