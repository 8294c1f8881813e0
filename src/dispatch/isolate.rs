//! Running the Rust side of sessions where it cannot hurt the caller, on a bounded pool.
//!
//! A Rust implementation may return an error, panic, or hang. The first two are easy to
//! contain on any thread; a hang is not: a thread that entered a hung call never comes
//! back. So no caller ever runs Rust board code itself. Each session's Rust object lives on
//! a *lane* ([`Isolated`]) of one process-wide pool of worker threads: a lane runs its jobs
//! one at a time and in the order they were queued, on whichever worker is free, and a
//! caller that needs an answer waits for it with a deadline.
//!
//! A job that overruns its deadline is the watchdog's business: it retires the worker stuck
//! in it and starts a fresh one, so the pool keeps its number of healthy workers whatever
//! hangs. The stuck thread leaves the pool when its call returns (and drops the Rust object
//! if its lane was abandoned meanwhile). When every worker is busy and work waits (a device
//! handshake can hold a worker for seconds), the watchdog adds workers up to a cap; the
//! extra ones leave after a second idle.
//!
//! So the process's threads are `base` workers (the machine's parallelism, at least 2),
//! up to `4 × base` while busy, one watchdog, and one per hang not yet returned: none of
//! it depends on how many sessions are open. An idle worker waits on a condition
//! variable and costs no CPU; the watchdog wakes every 5 ms.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Why an isolated call produced no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsolationFailure {
    #[error("the Rust implementation panicked: {0}")]
    Panicked(String),
    #[error("the Rust implementation did not answer within {0:?}")]
    TimedOut(Duration),
    #[error("the Rust implementation's worker has stopped (an earlier call panicked or hung)")]
    WorkerGone,
}

type Job<T> = Box<dyn FnOnce(&mut T) + Send>;

/// Jobs a lane holds before `submit` reports it as falling behind.
const LANE_QUEUE_LIMIT: usize = 64;
/// Jobs a worker runs from one lane before giving other lanes a turn.
const LANE_BATCH: usize = 16;
/// How often the watchdog looks at the workers.
const WATCH_PERIOD: Duration = Duration::from_millis(5);
/// Work waiting this long with every worker busy gets an extra worker.
const QUEUE_WAIT_LIMIT: Duration = Duration::from_millis(5);
/// An extra worker idle this long leaves the pool.
const EXTRA_IDLE_LIMIT: Duration = Duration::from_secs(1);

/// Something a worker can run: a lane with queued jobs.
trait Runnable: Send + Sync {
    fn run(self: Arc<Self>, worker: &Worker);
}

struct Busy {
    since: Instant,
    deadline: Duration,
}

struct Worker {
    busy: Mutex<Option<Busy>>,
    /// Set by the watchdog when this worker overran a job's deadline: a replacement has
    /// been started, and this thread leaves the pool as soon as its job returns.
    retired: AtomicBool,
}

struct PoolShared {
    queue: Mutex<VecDeque<(Instant, Arc<dyn Runnable>)>>,
    ready: Condvar,
    workers: Mutex<Vec<Arc<Worker>>>,
    /// Healthy workers the pool keeps at least.
    base: usize,
    /// Healthy workers it may grow to while work waits.
    cap: usize,
    /// Threads currently in the pool's service, stuck ones included (for tests and `/status`).
    threads: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Pool bookkeeping never panics while holding a lock; jobs run outside every lock here.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn pool() -> &'static Arc<PoolShared> {
    static POOL: OnceLock<Arc<PoolShared>> = OnceLock::new();
    POOL.get_or_init(|| {
        let base = thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
        let shared = Arc::new(PoolShared {
            queue: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            workers: Mutex::new(Vec::new()),
            base,
            cap: base * 4,
            threads: AtomicUsize::new(0),
        });
        for _ in 0..base {
            start_worker(&shared, false);
        }
        let watched = Arc::clone(&shared);
        thread::Builder::new()
            .name("rust-watchdog".into())
            .spawn(move || watch(watched))
            .expect("the Rust pool's watchdog thread must start");
        shared
    })
}

/// Threads serving the Rust pool right now (workers, stuck ones included; not the watchdog).
pub fn pool_threads() -> usize {
    pool().threads.load(Ordering::Relaxed)
}

fn start_worker(shared: &Arc<PoolShared>, extra: bool) {
    let worker = Arc::new(Worker { busy: Mutex::new(None), retired: AtomicBool::new(false) });
    lock(&shared.workers).push(Arc::clone(&worker));
    shared.threads.fetch_add(1, Ordering::Relaxed);
    let pool = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name("rust-worker".into())
        .stack_size(512 * 1024)
        .spawn(move || work(pool, worker, extra));
    if spawned.is_err() {
        // Out of threads: the workers already running keep serving.
        shared.threads.fetch_sub(1, Ordering::Relaxed);
        lock(&shared.workers).retain(|w| !w.retired.load(Ordering::Relaxed) && Arc::strong_count(w) > 1);
        tracing::error!("cannot start a Rust pool worker thread");
    }
}

fn work(shared: Arc<PoolShared>, me: Arc<Worker>, extra: bool) {
    loop {
        let next = {
            let mut queue = lock(&shared.queue);
            loop {
                if let Some((_, runnable)) = queue.pop_front() {
                    break Some(runnable);
                }
                if extra {
                    let (q, timeout) = shared.ready.wait_timeout(queue, EXTRA_IDLE_LIMIT).unwrap_or_else(|p| p.into_inner());
                    queue = q;
                    if timeout.timed_out() && queue.is_empty() {
                        break None;
                    }
                } else {
                    queue = shared.ready.wait(queue).unwrap_or_else(|p| p.into_inner());
                }
            }
        };
        let Some(runnable) = next else { break };
        runnable.run(&me);
        if me.retired.load(Ordering::Acquire) {
            break;
        }
    }
    lock(&shared.workers).retain(|w| !Arc::ptr_eq(w, &me));
    shared.threads.fetch_sub(1, Ordering::Relaxed);
}

thread_local! {
    /// Set while this thread queues a batch of work (see [`batch`]): waking a worker per
    /// job would cost a context switch each.
    static BATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn enqueue(shared: &PoolShared, runnable: Arc<dyn Runnable>) {
    lock(&shared.queue).push_back((Instant::now(), runnable));
    if !BATCHING.with(|b| b.get()) {
        shared.ready.notify_one();
    }
}

/// Runs `f`, which queues many jobs (the pump's turn over every session), and wakes the
/// workers once at the end instead of once per job.
pub fn batch<R>(f: impl FnOnce() -> R) -> R {
    let shared = pool();
    let outer = BATCHING.with(|b| b.replace(true));
    let result = f();
    BATCHING.with(|b| b.set(outer));
    if !outer && !lock(&shared.queue).is_empty() {
        shared.ready.notify_all();
    }
    result
}

fn watch(shared: Arc<PoolShared>) {
    loop {
        thread::sleep(WATCH_PERIOD);
        let mut healthy = 0;
        let mut idle = 0;
        for w in lock(&shared.workers).iter() {
            if w.retired.load(Ordering::Acquire) {
                continue;
            }
            match &*lock(&w.busy) {
                Some(busy) if busy.since.elapsed() > busy.deadline => {
                    // The caller waiting for this job has given up on it already; the
                    // thread is lost until the call returns. Keep the pool's strength.
                    w.retired.store(true, Ordering::Release);
                    tracing::warn!(overran_ms = busy.since.elapsed().as_millis() as u64, "a Rust call overran its deadline; its worker is replaced");
                }
                Some(_) => healthy += 1,
                None => {
                    healthy += 1;
                    idle += 1;
                }
            }
        }
        let waited = lock(&shared.queue).front().map(|(at, _)| at.elapsed());
        let mut start = shared.base.saturating_sub(healthy);
        if start == 0 && idle == 0 && healthy < shared.cap && waited.is_some_and(|w| w > QUEUE_WAIT_LIMIT) {
            start = 1;
        }
        for k in 0..start {
            start_worker(&shared, healthy + k >= shared.base);
        }
    }
}

/// A lane: one Rust object and the jobs queued for it, run in order by the pool.
struct Lane<T> {
    state: Mutex<LaneState<T>>,
}

struct LaneState<T> {
    /// `None` while a job runs (the worker holds it) and after the lane was closed.
    value: Option<T>,
    jobs: VecDeque<(Job<T>, Duration)>,
    /// In the pool's queue or on a worker: at most one worker serves a lane at a time.
    scheduled: bool,
    /// No more jobs are taken; the value is dropped once the queued ones have run.
    closed: bool,
    /// The value has been dropped (or handed back by a job that returned after abandonment).
    finished: bool,
}

impl<T: Send + 'static> Runnable for Lane<T> {
    fn run(self: Arc<Self>, worker: &Worker) {
        for _ in 0..LANE_BATCH {
            let (job, deadline, mut value) = {
                let mut s = lock(&self.state);
                let Some((job, deadline)) = s.jobs.pop_front() else {
                    s.scheduled = false;
                    let leftover = if s.closed { s.value.take() } else { None };
                    if s.closed {
                        s.finished = true;
                    }
                    drop(s);
                    drop(leftover); // on the worker: dropping a board may wait for its threads
                    return;
                };
                match s.value.take() {
                    Some(value) => (job, deadline, value),
                    None => {
                        // Abandoned while queued: nothing left to run the jobs on.
                        s.jobs.clear();
                        s.scheduled = false;
                        s.finished = true;
                        return;
                    }
                }
            };
            *lock(&worker.busy) = Some(Busy { since: Instant::now(), deadline });
            job(&mut value);
            *lock(&worker.busy) = None;
            let mut s = lock(&self.state);
            if s.finished {
                // Abandoned while this job ran: the value is ours to drop.
                s.scheduled = false;
                drop(s);
                drop(value);
                return;
            }
            s.value = Some(value);
            if worker.retired.load(Ordering::Acquire) {
                // This thread leaves the pool: hand the lane to another worker.
                if s.jobs.is_empty() && !s.closed {
                    s.scheduled = false;
                } else {
                    drop(s);
                    enqueue(pool(), self);
                }
                return;
            }
        }
        let s = lock(&self.state);
        drop(s);
        enqueue(pool(), self); // a fair turn for the other lanes
    }
}

/// A value of type `T` owned by a lane of the Rust pool.
pub struct Isolated<T: Send + 'static> {
    lane: Arc<Lane<T>>,
    poisoned: bool,
    /// How long a queued job (one nobody waits for) may run before the watchdog gives
    /// its worker up.
    submit_deadline: Duration,
}

impl<T: Send + 'static> Isolated<T> {
    /// Puts `value` on a new lane of the pool. `_name` is kept for the call sites' sake:
    /// lanes have no thread of their own to name.
    pub fn spawn(_name: &str, value: T) -> std::io::Result<Self> {
        pool();
        Ok(Isolated {
            lane: Arc::new(Lane {
                state: Mutex::new(LaneState {
                    value: Some(value),
                    jobs: VecDeque::new(),
                    scheduled: false,
                    closed: false,
                    finished: false,
                }),
            }),
            poisoned: false,
            submit_deadline: Duration::from_secs(1),
        })
    }

    /// How long a submitted job may run before its worker is given up.
    pub fn set_submit_deadline(&mut self, deadline: Duration) {
        self.submit_deadline = deadline;
    }

    /// Queues a job; false when the lane is closed or `limit` jobs are waiting already.
    fn push(&self, job: Job<T>, deadline: Duration, limit: usize) -> bool {
        let mut s = lock(&self.lane.state);
        if s.closed || s.finished || s.jobs.len() >= limit {
            return false;
        }
        s.jobs.push_back((job, deadline));
        if !s.scheduled {
            s.scheduled = true;
            drop(s);
            enqueue(pool(), Arc::clone(&self.lane) as Arc<dyn Runnable>);
        }
        true
    }

    /// Runs `f` on the lane and waits at most `deadline` for its result. A panic in `f`
    /// is caught on the worker and reported; the value is then considered broken and every
    /// later call answers `WorkerGone`.
    pub fn call<R, F>(&mut self, deadline: Duration, f: F) -> Result<R, IsolationFailure>
    where
        R: Send + 'static,
        F: FnOnce(&mut T) -> R + Send + 'static,
    {
        if self.poisoned {
            return Err(IsolationFailure::WorkerGone);
        }
        let (reply_tx, reply_rx) = mpsc::sync_channel::<Result<R, String>>(1);
        let job: Job<T> = Box::new(move |value: &mut T| {
            let outcome = catch_unwind(AssertUnwindSafe(|| f(value))).map_err(panic_message);
            let _ = reply_tx.send(outcome);
        });
        // A call waits behind whatever was submitted before it, so it is never refused
        // for a full queue; the deadline covers the wait.
        if !self.push(job, deadline, usize::MAX) {
            self.poisoned = true;
            return Err(IsolationFailure::WorkerGone);
        }
        match reply_rx.recv_timeout(deadline) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(message)) => {
                self.abandon();
                Err(IsolationFailure::Panicked(message))
            }
            Err(RecvTimeoutError::Timeout) => {
                self.abandon();
                Err(IsolationFailure::TimedOut(deadline))
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.abandon();
                Err(IsolationFailure::WorkerGone)
            }
        }
    }

    /// Queues `f` without waiting. Returns false when the lane is broken or its queue is
    /// full (the caller then knows the Rust side is falling behind).
    pub fn submit<F>(&mut self, f: F) -> bool
    where
        F: FnOnce(&mut T) + Send + 'static,
    {
        if self.poisoned {
            return false;
        }
        let job: Job<T> = Box::new(move |value: &mut T| {
            // A panic here is reported through the value's own state by the caller's
            // closure design; catching it keeps the worker for the next job.
            let _ = catch_unwind(AssertUnwindSafe(|| f(value)));
        });
        self.push(job, self.submit_deadline, LANE_QUEUE_LIMIT)
    }

    /// Whether an earlier call panicked or hung.
    pub fn is_broken(&self) -> bool {
        self.poisoned
    }

    /// Stops waiting for the lane: queued jobs are dropped, and the value is dropped on the
    /// worker when the job it is stuck in returns. Never blocks.
    fn abandon(&mut self) {
        self.poisoned = true;
        let (value, jobs) = {
            let mut s = lock(&self.lane.state);
            s.closed = true;
            let jobs = std::mem::take(&mut s.jobs);
            // A value at rest can go now; one in use is dropped by its worker.
            let value = s.value.take();
            s.finished = true;
            (value, jobs)
        };
        drop(jobs);
        if let Some(value) = value {
            // Not on the caller: dropping a board may wait for its threads.
            let _ = thread::Builder::new().name("rust-drop".into()).spawn(move || drop(value));
        }
    }

    /// Closes the lane, waiting at most `deadline` for its queued jobs to run and its value
    /// to be dropped.
    pub fn shutdown(self, deadline: Duration) -> bool {
        {
            let mut s = lock(&self.lane.state);
            if s.finished {
                return false;
            }
            s.closed = true;
            if !s.scheduled {
                s.scheduled = true;
                drop(s);
                enqueue(pool(), Arc::clone(&self.lane) as Arc<dyn Runnable>);
            }
        }
        let until = Instant::now() + deadline;
        loop {
            if lock(&self.lane.state).finished {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            thread::sleep(Duration::from_millis(1));
        }
    }
}

impl<T: Send + 'static> Drop for Isolated<T> {
    fn drop(&mut self) {
        // The value is dropped on a worker after the queued jobs; a hung job keeps it until
        // it returns. Never blocks.
        let mut s = lock(&self.lane.state);
        if s.finished || s.closed {
            return;
        }
        s.closed = true;
        if !s.scheduled {
            s.scheduled = true;
            drop(s);
            enqueue(pool(), Arc::clone(&self.lane) as Arc<dyn Runnable>);
        }
    }
}

/// The text of a panic payload (`&str` or `String`; anything else is named as such).
pub fn panic_message(payload: Box<dyn Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn calls_run_on_the_worker_and_return() {
        let mut counter = Isolated::spawn("test-worker", 0u32).unwrap();
        for expected in 1..=3 {
            let got = counter.call(Duration::from_secs(5), |c| {
                *c += 1;
                *c
            });
            assert_eq!(got, Ok(expected));
        }
        assert!(counter.shutdown(Duration::from_secs(5)));
    }

    #[test]
    fn a_panic_is_reported_and_breaks_the_worker() {
        let mut v = Isolated::spawn("test-worker", ()).unwrap();
        let got: Result<(), _> = v.call(Duration::from_secs(5), |_| panic!("decoder exploded"));
        assert_eq!(got, Err(IsolationFailure::Panicked("decoder exploded".into())));
        assert!(v.is_broken());
        assert_eq!(v.call(Duration::from_secs(5), |_| 1), Err(IsolationFailure::WorkerGone));
    }

    #[test]
    fn a_hung_call_times_out_without_blocking_the_caller() {
        let release = Arc::new(AtomicBool::new(false));
        let r = release.clone();
        let mut v = Isolated::spawn("test-worker", ()).unwrap();
        let got = v.call(Duration::from_millis(50), move |_| {
            while !r.load(Ordering::Acquire) {
                thread::sleep(Duration::from_millis(1));
            }
        });
        assert_eq!(got, Err(IsolationFailure::TimedOut(Duration::from_millis(50))));
        assert!(v.is_broken());
        release.store(true, Ordering::Release); // let the abandoned worker finish
    }

    #[test]
    fn lanes_share_a_pool_whose_size_does_not_follow_them() {
        let mut lanes: Vec<_> = (0..500u32).map(|i| Isolated::spawn("lane", i).unwrap()).collect();
        for (i, lane) in lanes.iter_mut().enumerate() {
            assert_eq!(lane.call(Duration::from_secs(5), |v| *v), Ok(i as u32));
        }
        let cap = pool().cap;
        assert!(pool_threads() <= cap + 4, "{} pool threads for 500 lanes (cap {cap})", pool_threads());
        for lane in lanes {
            assert!(lane.shutdown(Duration::from_secs(5)));
        }
    }

    #[test]
    fn a_lane_runs_its_jobs_in_order() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut lane = Isolated::spawn("lane", ()).unwrap();
        for k in 0..40 {
            let seen = seen.clone();
            assert!(lane.submit(move |_| lock(&seen).push(k)));
        }
        let seen2 = seen.clone();
        lane.call(Duration::from_secs(5), move |_| lock(&seen2).push(99)).unwrap();
        let got = lock(&seen).clone();
        assert_eq!(got, (0..40).chain([99]).collect::<Vec<_>>());
    }

    #[test]
    fn a_hang_does_not_stop_other_lanes() {
        let release = Arc::new(AtomicBool::new(false));
        let mut hung: Vec<_> = (0..pool().base * 2).map(|_| Isolated::spawn("hung", ()).unwrap()).collect();
        for lane in &mut hung {
            let r = release.clone();
            let got = lane.call(Duration::from_millis(30), move |_| {
                while !r.load(Ordering::Acquire) {
                    thread::sleep(Duration::from_millis(1));
                }
            });
            assert_eq!(got, Err(IsolationFailure::TimedOut(Duration::from_millis(30))));
        }
        // Every base worker has been stuck at some point; the watchdog replaced them.
        let mut healthy = Isolated::spawn("healthy", 7u8).unwrap();
        assert_eq!(healthy.call(Duration::from_secs(5), |v| *v), Ok(7));
        release.store(true, Ordering::Release);
    }
}
