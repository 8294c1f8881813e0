//! Running the Rust side of a session where it cannot hurt the caller.
//!
//! A Rust implementation may return an error, panic, or hang. The first two are easy to
//! contain on any thread; a hang is not: a caller that entered a hung call never comes
//! back. So each session's Rust side lives on its own worker thread, and the caller waits
//! for each call with a deadline. A worker that misses a deadline is abandoned (it keeps
//! the Rust object until its call returns, then drops it and exits); the session has
//! already moved to C++ by then.
//!
//! The worker parks on a channel between calls: it never wakes on a timer, so an idle
//! session costs memory for one parked thread, not CPU.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
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

/// A value of type `T` owned by a dedicated worker thread.
pub struct Isolated<T: Send + 'static> {
    jobs: Option<SyncSender<Job<T>>>,
    worker: Option<thread::JoinHandle<()>>,
    poisoned: bool,
}

impl<T: Send + 'static> Isolated<T> {
    /// Moves `value` to a new worker thread named `name`.
    pub fn spawn(name: &str, value: T) -> std::io::Result<Self> {
        // Bounded, so fire-and-forget work (shadow decoding) cannot pile up without limit
        // behind a stuck worker: `submit` reports a full queue instead.
        let (tx, rx) = mpsc::sync_channel::<Job<T>>(64);
        let worker = thread::Builder::new()
            .name(name.to_owned())
            .stack_size(256 * 1024)
            .spawn(move || run_worker(value, rx))?;
        Ok(Isolated { jobs: Some(tx), worker: Some(worker), poisoned: false })
    }

    /// Runs `f` on the worker and waits at most `deadline` for its result. A panic in `f`
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
        let jobs = self.jobs.as_ref().ok_or(IsolationFailure::WorkerGone)?;
        let (reply_tx, reply_rx) = mpsc::sync_channel::<Result<R, String>>(1);
        let job: Job<T> = Box::new(move |value: &mut T| {
            let outcome = catch_unwind(AssertUnwindSafe(|| f(value))).map_err(panic_message);
            let _ = reply_tx.send(outcome);
        });
        if jobs.send(job).is_err() {
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

    /// Queues `f` without waiting. Returns false when the worker is gone or its queue is
    /// full (the caller then knows the Rust side is falling behind).
    pub fn submit<F>(&mut self, f: F) -> bool
    where
        F: FnOnce(&mut T) + Send + 'static,
    {
        if self.poisoned {
            return false;
        }
        let Some(jobs) = self.jobs.as_ref() else { return false };
        let job: Job<T> = Box::new(move |value: &mut T| {
            // A panic here is reported through the value's own state by the caller's
            // closure design; catching it keeps the worker alive for the next job.
            let _ = catch_unwind(AssertUnwindSafe(|| f(value)));
        });
        match jobs.try_send(job) {
            Ok(()) => true,
            Err(mpsc::TrySendError::Full(_)) => false,
            Err(mpsc::TrySendError::Disconnected(_)) => {
                self.poisoned = true;
                false
            }
        }
    }

    /// Whether an earlier call panicked or hung.
    pub fn is_broken(&self) -> bool {
        self.poisoned
    }

    /// Stops waiting for the worker: it finishes whatever it is stuck in, then exits and
    /// drops the value. Never blocks.
    fn abandon(&mut self) {
        self.poisoned = true;
        self.jobs = None;
        self.worker = None; // detach
    }

    /// Stops the worker, waiting at most `deadline` for it to finish its queue.
    pub fn shutdown(mut self, deadline: Duration) -> bool {
        self.jobs = None;
        match self.worker.take() {
            None => false,
            Some(handle) => {
                let until = Instant::now() + deadline;
                while !handle.is_finished() {
                    if Instant::now() >= until {
                        return false;
                    }
                    thread::sleep(Duration::from_millis(1));
                }
                let _ = handle.join();
                true
            }
        }
    }
}

impl<T: Send + 'static> Drop for Isolated<T> {
    fn drop(&mut self) {
        // Closing the job channel lets the worker exit after its current job; joining
        // could block on a hung call, so a dropped handle detaches instead.
        self.jobs = None;
    }
}

fn run_worker<T>(mut value: T, jobs: Receiver<Job<T>>) {
    while let Ok(job) = jobs.recv() {
        job(&mut value);
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
}
