//! Many threads on one breaker: counts stay exact and probe permits are never exceeded.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use breaker::{Breaker, BreakerConfig, Outcome, State, WindowConfig};
use common::*;

const THREADS: usize = 8;
const CALLS_PER_THREAD: usize = 20_000;

fn hammer(breaker: Arc<Breaker>, calls_per_thread: usize) {
    let barrier = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|thread_index| {
            let breaker = Arc::clone(&breaker);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                for i in 0..calls_per_thread {
                    let permission = breaker.try_acquire();
                    assert!(permission.is_permitted());
                    let outcome = match (i + thread_index) % 4 {
                        0 => FAIL,
                        3 => Outcome::Failure { exit_code: 13 },
                        _ => Outcome::Success,
                    };
                    breaker.record(permission, outcome);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
}

fn lenient(window: WindowConfig) -> BreakerConfig {
    BreakerConfig {
        window,
        // A third of the counted calls fail: under 90% once a few dozen are in.
        minimum_calls: 48,
        failure_rate_threshold: 90.0,
        ..count_config(1, 1)
    }
}

#[test]
fn count_window_counts_are_exact_under_contention() {
    let total = (THREADS * CALLS_PER_THREAD) as u32;
    let clock = Arc::new(breaker::ManualClock::default());
    let breaker = Arc::new(Breaker::new(
        lenient(WindowConfig::Count { calls: total }),
        clock,
    ));
    hammer(Arc::clone(&breaker), CALLS_PER_THREAD);
    let snapshot = breaker.snapshot();
    assert_eq!(snapshot.state, State::Closed);
    assert_eq!(
        snapshot.calls_in_window,
        total * 3 / 4,
        "ignored codes are a quarter"
    );
    assert_eq!(snapshot.failed_in_window, total / 4);
}

#[test]
fn count_window_stays_consistent_when_writers_lap_the_ring() {
    let clock = Arc::new(breaker::ManualClock::default());
    let breaker = Arc::new(Breaker::new(
        lenient(WindowConfig::Count { calls: 64 }),
        clock,
    ));
    hammer(Arc::clone(&breaker), CALLS_PER_THREAD);
    let snapshot = breaker.snapshot();
    assert_eq!(snapshot.calls_in_window, 64);
    assert!(snapshot.failed_in_window <= 64);
    // Recording 64 known calls single-threaded must leave exactly those in the window.
    for i in 0..64 {
        let permission = breaker.try_acquire();
        breaker.record(permission, if i < 16 { FAIL } else { Outcome::Success });
    }
    let snapshot = breaker.snapshot();
    assert_eq!(
        (snapshot.calls_in_window, snapshot.failed_in_window),
        (64, 16)
    );
}

#[test]
fn time_window_counts_are_exact_under_contention() {
    // The clock stands still, so every call lands in one bucket; stay under the
    // 65,535 calls a bucket counts exactly.
    let per_thread = 8_000;
    let total = (THREADS * per_thread) as u32;
    let clock = Arc::new(breaker::ManualClock::default());
    let breaker = Arc::new(Breaker::new(
        lenient(WindowConfig::Time {
            seconds: 10,
            buckets: 10,
        }),
        clock,
    ));
    hammer(Arc::clone(&breaker), per_thread);
    let snapshot = breaker.snapshot();
    assert_eq!(snapshot.calls_in_window, total * 3 / 4);
    assert_eq!(snapshot.failed_in_window, total / 4);
}

#[test]
fn half_open_never_grants_more_than_n_probes_under_concurrency() {
    for probes in [1u32, 2, 3, 5, 8] {
        for _ in 0..20 {
            let rig = Rig::new(BreakerConfig {
                permitted_probes: probes,
                ..count_config(10, 1)
            });
            rig.trip();
            rig.clock.advance(secs(5));
            let breaker = Arc::new(rig.breaker);
            let barrier = Arc::new(Barrier::new(THREADS));
            let granted: Vec<_> = (0..THREADS)
                .map(|_| {
                    let breaker = Arc::clone(&breaker);
                    let barrier = Arc::clone(&barrier);
                    thread::spawn(move || {
                        barrier.wait();
                        (0..50).filter(|_| breaker.try_acquire().is_probe()).count()
                    })
                })
                .collect();
            let total: usize = granted.into_iter().map(|t| t.join().unwrap()).sum();
            assert_eq!(
                total, probes as usize,
                "permits granted for a round of {probes}"
            );
            assert_eq!(breaker.snapshot().probes_in_flight, probes);
        }
    }
}

#[test]
fn concurrent_probe_results_close_exactly_once() {
    let rig = Rig::new(BreakerConfig {
        permitted_probes: 8,
        ..count_config(10, 1)
    });
    rig.trip();
    rig.clock.advance(secs(5));
    let breaker = Arc::new(rig.breaker);
    let permits: Vec<_> = (0..8).map(|_| breaker.try_acquire()).collect();
    let barrier = Arc::new(Barrier::new(8));
    let workers: Vec<_> = permits
        .into_iter()
        .map(|permission| {
            let breaker = Arc::clone(&breaker);
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                barrier.wait();
                breaker.record(permission, Outcome::Success);
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let events: Vec<_> = rig.events.try_iter().collect();
    assert_eq!(
        events.iter().filter(|e| e.to == State::Closed).count(),
        1,
        "{events:#?}"
    );
    assert_eq!(breaker.state(), State::Closed);
}
