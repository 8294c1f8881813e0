//! Per-call cost of the breaker while CLOSED, against failsafe's breaker in the same run.
//!
//! "One call" is admission plus recording (`try_acquire` + `record`), the whole work a
//! dispatcher does per call; failsafe's equivalent is `CircuitBreaker::call` with a
//! closure that succeeds at once.

use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use breaker::{
    Breaker, BreakerConfig, Clock, ManualClock, Outcome, PreciseClock, SystemClock, WindowConfig,
};
use criterion::{criterion_group, criterion_main, Criterion};
use failsafe::{backoff, failure_policy, CircuitBreaker, Config};

fn ours(window: WindowConfig, clock: Arc<dyn Clock>) -> Breaker {
    Breaker::new(
        BreakerConfig {
            window,
            ..BreakerConfig::default()
        },
        clock,
    )
}

#[inline]
fn one_call(breaker: &Breaker, outcome: Outcome) {
    let permission = breaker.try_acquire();
    breaker.record(black_box(permission), black_box(outcome));
}

/// Runs `call` `iters` times on each of two threads at once; returns the wall time of the
/// slower thread, i.e. the per-call latency each thread saw.
fn two_threads(iters: u64, call: impl Fn() + Sync) -> Duration {
    let barrier = Barrier::new(2);
    thread::scope(|scope| {
        let run = || {
            barrier.wait();
            let start = Instant::now();
            for _ in 0..iters {
                call();
            }
            start.elapsed()
        };
        let other = scope.spawn(run);
        let mine = run();
        mine.max(other.join().unwrap())
    })
}

fn bench(c: &mut Criterion) {
    let count = WindowConfig::Count { calls: 100 };
    let time = WindowConfig::Time {
        seconds: 10,
        buckets: 10,
    };
    let mut group = c.benchmark_group("closed_call");

    let breaker = ours(count, Arc::new(SystemClock));
    group.bench_function("ours/count_window", |b| {
        b.iter(|| one_call(&breaker, Outcome::Success))
    });

    let breaker = ours(count, Arc::new(PreciseClock));
    group.bench_function("ours/count_window/precise_clock", |b| {
        b.iter(|| one_call(&breaker, Outcome::Success))
    });

    let breaker = ours(count, Arc::new(ManualClock::default()));
    group.bench_function("ours/count_window/without_clock_read", |b| {
        b.iter(|| one_call(&breaker, Outcome::Success))
    });

    let breaker = ours(time, Arc::new(SystemClock));
    group.bench_function("ours/time_window", |b| {
        b.iter(|| one_call(&breaker, Outcome::Success))
    });

    let breaker = ours(count, Arc::new(SystemClock));
    let mut i = 0u32;
    group.bench_function("ours/count_window/10pct_failures", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let outcome = if i % 10 == 0 {
                Outcome::Failure { exit_code: 3 }
            } else {
                Outcome::Success
            };
            one_call(&breaker, outcome)
        })
    });

    let breaker = ours(count, Arc::new(SystemClock));
    group.bench_function("ours/count_window/2_threads", |b| {
        b.iter_custom(|iters| two_threads(iters, || one_call(&breaker, Outcome::Success)))
    });

    let breaker = ours(time, Arc::new(SystemClock));
    group.bench_function("ours/time_window/2_threads", |b| {
        b.iter_custom(|iters| two_threads(iters, || one_call(&breaker, Outcome::Success)))
    });

    let failsafe_default = Config::new().build();
    group.bench_function("failsafe/default_policy", |b| {
        b.iter(|| black_box(failsafe_default.call(|| Ok::<(), ()>(()))))
    });

    let failsafe_consecutive = Config::new()
        .failure_policy(failure_policy::consecutive_failures(
            5,
            backoff::constant(Duration::from_secs(5)),
        ))
        .build();
    group.bench_function("failsafe/consecutive_failures", |b| {
        b.iter(|| black_box(failsafe_consecutive.call(|| Ok::<(), ()>(()))))
    });

    let failsafe_shared = Config::new().build();
    group.bench_function("failsafe/default_policy/2_threads", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, || {
                black_box(failsafe_shared.call(|| Ok::<(), ()>(()))).ok();
            })
        })
    });

    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
