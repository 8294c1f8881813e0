//! The call path (admission and recording while CLOSED, and in HALF_OPEN without a
//! transition) must not allocate. A counting global allocator proves it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use breaker::{Breaker, BreakerConfig, ManualClock, Outcome, SystemClock, WindowConfig};

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are passed through; the only addition is a thread-local counter
// bump, which does not allocate (const-initialised `Cell`).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: same contract as ours, forwarded as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout` (via `alloc` above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: same contract as ours, forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations_during(work: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    work();
    ALLOCATIONS.with(Cell::get) - before
}

fn closed_calls(breaker: &Breaker, clock: Option<&ManualClock>) {
    for i in 0..10_000u32 {
        let permission = breaker.try_acquire();
        assert!(permission.is_permitted());
        if let Some(clock) = clock {
            clock.advance(Duration::from_millis(if i % 7 == 0 { 300 } else { 1 }));
        }
        let outcome = match i % 10 {
            0 => Outcome::Failure { exit_code: 3 },
            1 => Outcome::Failure { exit_code: 13 },
            _ => Outcome::Success,
        };
        breaker.record(permission, outcome);
    }
}

fn lenient(window: WindowConfig) -> BreakerConfig {
    BreakerConfig {
        window,
        failure_rate_threshold: 90.0,
        slow_call_rate_threshold: 90.0,
        ..Default::default()
    }
}

#[test]
fn closed_path_does_not_allocate() {
    for window in [
        WindowConfig::Count { calls: 100 },
        WindowConfig::Time {
            seconds: 10,
            buckets: 10,
        },
    ] {
        let clock = Arc::new(ManualClock::default());
        let breaker = Breaker::new(lenient(window), clock.clone());
        closed_calls(&breaker, Some(&clock)); // first use may set up per-thread state
        let allocated = allocations_during(|| closed_calls(&breaker, Some(&clock)));
        assert_eq!(allocated, 0, "{window:?}");
        assert_eq!(breaker.state(), breaker::State::Closed);

        let breaker = Breaker::new(lenient(window), Arc::new(SystemClock));
        closed_calls(&breaker, None);
        assert_eq!(
            allocations_during(|| closed_calls(&breaker, None)),
            0,
            "{window:?} system clock"
        );
    }
}

#[test]
fn marking_a_hung_call_does_not_allocate() {
    let clock = Arc::new(ManualClock::default());
    let breaker = Breaker::new(lenient(WindowConfig::Count { calls: 100 }), clock.clone());
    closed_calls(&breaker, Some(&clock));
    let allocated = allocations_during(|| {
        for _ in 0..50 {
            let permission = breaker.try_acquire();
            clock.advance(Duration::from_millis(300));
            assert!(breaker.mark_in_flight_slow(&permission));
            breaker.record(permission, Outcome::Success);
        }
    });
    assert_eq!(allocated, 0);
}

#[test]
fn the_counter_sees_allocations() {
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 64]))) > 0);
}
