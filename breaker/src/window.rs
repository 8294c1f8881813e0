//! The call windows: the last N calls (a ring) or the last N seconds (buckets).
//!
//! Both are lock-free: recording is a handful of atomic operations and never allocates.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};

use crate::config::WindowConfig;

/// What one judged call contributes to a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub failed: bool,
    pub slow: bool,
}

/// Counts over the calls currently in a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub calls: u32,
    pub failed: u32,
    pub slow: u32,
}

impl Totals {
    pub fn failure_rate(&self) -> f64 {
        percent(self.failed, self.calls)
    }
    pub fn slow_rate(&self) -> f64 {
        percent(self.slow, self.calls)
    }
}

pub(crate) fn percent(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) * 100.0 / f64::from(whole)
    }
}

pub(crate) enum Window {
    Count(CountWindow),
    Time(TimeWindow),
}

impl Window {
    pub fn new(config: WindowConfig) -> Self {
        match config {
            WindowConfig::Count { calls } => Window::Count(CountWindow::new(calls)),
            WindowConfig::Time { seconds, buckets } => {
                Window::Time(TimeWindow::new(seconds, buckets))
            }
        }
    }

    /// Adds one call. Returns the window's totals when they may have changed in a way
    /// that can raise a rate or complete the minimum (so the caller judges), else `None`.
    #[inline]
    pub fn record(&self, entry: Entry, now_nanos: u64) -> Option<Totals> {
        match self {
            Window::Count(ring) => ring.record(entry),
            Window::Time(buckets) => {
                buckets.record(entry, now_nanos);
                if entry.failed || entry.slow {
                    Some(buckets.totals(now_nanos))
                } else {
                    None
                }
            }
        }
    }

    pub fn totals(&self, now_nanos: u64) -> Totals {
        match self {
            Window::Count(ring) => ring.totals(),
            Window::Time(buckets) => buckets.totals(now_nanos),
        }
    }

    pub fn reset(&self) {
        match self {
            Window::Count(ring) => ring.reset(),
            Window::Time(buckets) => buckets.reset(),
        }
    }
}

// Count window -------------------------------------------------------------------------

const PRESENT: u8 = 1;
const FAILED: u8 = 2;
const SLOW: u8 = 4;
const FIELD_BITS: u32 = 21;
const FIELD_MASK: u64 = (1 << FIELD_BITS) - 1;

fn encode(entry: Entry) -> u8 {
    PRESENT | if entry.failed { FAILED } else { 0 } | if entry.slow { SLOW } else { 0 }
}

/// What one slot adds to the packed totals: calls, failed and slow in 21-bit fields
/// (the ring holds at most 2^20 calls, so no field can carry into the next).
fn contribution(slot: u8) -> u64 {
    u64::from(slot & PRESENT)
        | u64::from((slot & FAILED) >> 1) << FIELD_BITS
        | u64::from((slot & SLOW) >> 2) << (2 * FIELD_BITS)
}

fn unpack(packed: u64) -> Totals {
    Totals {
        calls: (packed & FIELD_MASK) as u32,
        failed: ((packed >> FIELD_BITS) & FIELD_MASK) as u32,
        slow: ((packed >> (2 * FIELD_BITS)) & FIELD_MASK) as u32,
    }
}

/// The last `len` calls. Each call takes the next slot of a ring; the packed totals are
/// kept in step so reading them is one load.
///
/// Invariant that keeps the totals from ever underflowing when two writers lap each
/// other on one slot: a slot's contribution is added *before* the slot is written and
/// subtracted only *after* it has been swapped out.
pub(crate) struct CountWindow {
    slots: Box<[AtomicU8]>,
    cursor: AtomicU32,
    len: u32,
    /// Lemire's fast-modulo constant for `len`, so picking a slot needs no division.
    fastmod: u64,
    totals: AtomicU64,
}

impl CountWindow {
    fn new(len: u32) -> Self {
        let len = len.max(1);
        Self {
            slots: (0..len).map(|_| AtomicU8::new(0)).collect(),
            cursor: AtomicU32::new(0),
            len,
            fastmod: (u64::MAX / u64::from(len)).wrapping_add(1),
            totals: AtomicU64::new(0),
        }
    }

    #[inline]
    fn slot_index(&self, ticket: u32) -> usize {
        // When the u32 ticket wraps, one slot is reused early; harmless for a window.
        let low = self.fastmod.wrapping_mul(u64::from(ticket));
        ((u128::from(low) * u128::from(self.len)) >> 64) as usize
    }

    #[inline]
    fn record(&self, entry: Entry) -> Option<Totals> {
        let ticket = self.cursor.fetch_add(1, Ordering::Relaxed);
        let slot = &self.slots[self.slot_index(ticket)];
        let new = encode(entry);
        if slot.load(Ordering::Relaxed) == new {
            // The call leaving the window is the same kind as the one entering it:
            // no total changes, so nothing to write and nothing to judge.
            return None;
        }
        self.totals.fetch_add(contribution(new), Ordering::AcqRel);
        let old = slot.swap(new, Ordering::AcqRel);
        let packed = self
            .totals
            .fetch_sub(contribution(old), Ordering::AcqRel)
            .wrapping_sub(contribution(old));
        Some(unpack(packed))
    }

    fn totals(&self) -> Totals {
        unpack(self.totals.load(Ordering::Acquire))
    }

    fn reset(&self) {
        for slot in self.slots.iter() {
            let old = slot.swap(0, Ordering::AcqRel);
            self.totals.fetch_sub(contribution(old), Ordering::AcqRel);
        }
    }
}

// Time window --------------------------------------------------------------------------

const COUNT_MAX: u64 = 0xFFFF;

/// One bucket word: bits 48..64 the low 16 bits of the bucket's epoch, then calls,
/// failed and slow in 16 bits each.
fn bucket_word(epoch: u64, totals: (u64, u64, u64)) -> u64 {
    (epoch & 0xFFFF) << 48 | totals.0 << 32 | totals.1 << 16 | totals.2
}

fn bucket_counts(word: u64) -> (u64, u64, u64) {
    (
        (word >> 32) & COUNT_MAX,
        (word >> 16) & COUNT_MAX,
        word & COUNT_MAX,
    )
}

/// The last `seconds` seconds in `buckets` buckets. A bucket is claimed for a new epoch
/// by whichever call first lands in it (one compare-and-swap that also clears it).
pub(crate) struct TimeWindow {
    words: Box<[AtomicU64]>,
    /// Full epoch of each bucket's last reset, so a bucket untouched for 65,536 periods
    /// (where the 16-bit tag would alias) is still recognised as stale.
    full_epochs: Box<[AtomicU64]>,
    bucket_nanos: u64,
    /// Epochs start at 1 so the zeroed initial words never look current.
    epoch_offset: u64,
}

impl TimeWindow {
    fn new(seconds: u32, buckets: u32) -> Self {
        let buckets = buckets.max(1);
        let bucket_nanos = (u64::from(seconds) * 1_000_000_000 / u64::from(buckets)).max(1);
        Self {
            words: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            full_epochs: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            bucket_nanos,
            epoch_offset: 1,
        }
    }

    #[inline]
    fn epoch(&self, now_nanos: u64) -> u64 {
        now_nanos / self.bucket_nanos + self.epoch_offset
    }

    #[inline]
    fn record(&self, entry: Entry, now_nanos: u64) {
        let epoch = self.epoch(now_nanos);
        let index = (epoch % self.words.len() as u64) as usize;
        let cell = &self.words[index];
        let mut current = cell.load(Ordering::Acquire);
        loop {
            let fresh = current >> 48 != epoch & 0xFFFF
                || self.full_epochs[index].load(Ordering::Relaxed) + self.words.len() as u64
                    <= epoch;
            if fresh {
                // Stamp the full epoch before claiming the bucket, so no other writer
                // can see the claimed bucket with an old stamp and clear it again.
                self.full_epochs[index].fetch_max(epoch, Ordering::AcqRel);
            }
            let (mut calls, mut failed, mut slow) = if fresh {
                (0, 0, 0)
            } else {
                bucket_counts(current)
            };
            if calls == COUNT_MAX {
                // Saturated: halve every count so the rates survive.
                calls /= 2;
                failed /= 2;
                slow /= 2;
            }
            calls += 1;
            failed += u64::from(entry.failed);
            slow += u64::from(entry.slow);
            let next = bucket_word(epoch, (calls, failed, slow));
            match cell.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }

    fn totals(&self, now_nanos: u64) -> Totals {
        let epoch = self.epoch(now_nanos);
        let len = self.words.len() as u64;
        let mut totals = Totals::default();
        for back in 0..len.min(epoch) {
            let wanted = epoch - back;
            let index = (wanted % len) as usize;
            let word = self.words[index].load(Ordering::Acquire);
            if word >> 48 != wanted & 0xFFFF {
                continue;
            }
            if self.full_epochs[index].load(Ordering::Relaxed) + len <= wanted {
                continue;
            }
            let (calls, failed, slow) = bucket_counts(word);
            totals.calls += calls as u32;
            totals.failed += failed as u32;
            totals.slow += slow as u32;
        }
        totals
    }

    fn reset(&self) {
        for word in self.words.iter() {
            word.store(0, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: Entry = Entry {
        failed: false,
        slow: false,
    };
    const FAIL: Entry = Entry {
        failed: true,
        slow: false,
    };
    const SLOW: Entry = Entry {
        failed: false,
        slow: true,
    };

    #[test]
    fn count_window_keeps_only_the_last_n_calls() {
        let ring = CountWindow::new(4);
        for entry in [FAIL, FAIL, SLOW, OK, OK, OK] {
            ring.record(entry);
        }
        assert_eq!(
            ring.totals(),
            Totals {
                calls: 4,
                failed: 0,
                slow: 1
            }
        );
        ring.reset();
        assert_eq!(ring.totals(), Totals::default());
    }

    #[test]
    fn fast_modulo_matches_division() {
        for len in [1u32, 3, 7, 100, 1000, 1 << 20] {
            let ring = CountWindow::new(len);
            for ticket in [
                0u32,
                1,
                len - 1,
                len,
                len + 1,
                12345,
                u32::MAX - 1,
                u32::MAX,
            ] {
                assert_eq!(
                    ring.slot_index(ticket),
                    (ticket % len) as usize,
                    "len {len} ticket {ticket}"
                );
            }
        }
    }

    #[test]
    fn time_window_forgets_expired_buckets() {
        let second = 1_000_000_000;
        let window = TimeWindow::new(10, 10);
        window.record(FAIL, 0);
        window.record(OK, 5 * second);
        assert_eq!(
            window.totals(9 * second),
            Totals {
                calls: 2,
                failed: 1,
                slow: 0
            }
        );
        assert_eq!(
            window.totals(10 * second),
            Totals {
                calls: 1,
                failed: 0,
                slow: 0
            }
        );
        window.record(SLOW, 11 * second);
        assert_eq!(
            window.totals(11 * second),
            Totals {
                calls: 2,
                failed: 0,
                slow: 1
            }
        );
        assert_eq!(window.totals(100 * second), Totals::default());
    }

    #[test]
    fn time_window_bucket_is_cleared_when_reused_after_alias_period() {
        let window = TimeWindow::new(1, 1);
        let period = 1_000_000_000u64;
        window.record(FAIL, 0);
        // 65,536 periods later the 16-bit tag matches again; the full epoch does not.
        assert_eq!(window.totals(65_536 * period), Totals::default());
        window.record(OK, 65_536 * period);
        assert_eq!(
            window.totals(65_536 * period),
            Totals {
                calls: 1,
                failed: 0,
                slow: 0
            }
        );
    }

    #[test]
    fn saturated_bucket_keeps_its_rates() {
        let window = TimeWindow::new(1, 1);
        for i in 0..200_000u32 {
            window.record(if i % 4 == 0 { FAIL } else { OK }, 0);
        }
        let totals = window.totals(0);
        assert!(totals.calls <= 0xFFFF);
        assert!((totals.failure_rate() - 25.0).abs() < 1.0, "{totals:?}");
    }
}
