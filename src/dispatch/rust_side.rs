//! One Rust-path call: admitted by the breaker, run in isolation with faults injected,
//! timed, and its outcome recorded.
//!
//! Every call the dispatcher makes into a Rust implementation goes through
//! [`RustSide::call`], so the rules live in one place: a caller's own error is returned
//! as it is and never blamed on Rust; anything else (an error, a panic, a call past the
//! deadline) is a Rust failure that the session answers by moving to C++.

use super::faults::{self, Fault, FaultInjector};
use super::isolate::{IsolationFailure, Isolated};
use super::kind::{Admission, BoardKind};
use breaker::Outcome;
use board_api::BoardError;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a Rust-path call gave no usable answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RustFailure {
    #[error("the breaker refuses the Rust path ({0})")]
    Refused(String),
    #[error("the Rust implementation failed: {0}")]
    Failed(BoardError),
    #[error("{0}")]
    Isolation(IsolationFailure),
}

impl RustFailure {
    /// The label used in logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            RustFailure::Refused(_) => "refused",
            RustFailure::Failed(_) => "error",
            RustFailure::Isolation(IsolationFailure::Panicked(_)) => "panic",
            RustFailure::Isolation(IsolationFailure::TimedOut(_)) => "timeout",
            RustFailure::Isolation(IsolationFailure::WorkerGone) => "worker_gone",
        }
    }
}

/// What a Rust-path call produced.
pub enum RustAnswer<R> {
    /// The Rust side answered; `Err` here is the caller's own error (bad arguments, wrong
    /// call order), to be returned unchanged.
    Answered(Result<R, BoardError>),
    /// The Rust side failed; the session must serve from C++.
    Failed(RustFailure),
}

/// A Rust implementation object (board, generator or decoder) on its worker thread,
/// with the fault injector of its session.
pub struct RustSide<T: Send + 'static> {
    worker: Isolated<T>,
    faults: FaultInjector,
    kind: Arc<BoardKind>,
}

impl<T: Send + 'static> RustSide<T> {
    pub fn spawn(kind: Arc<BoardKind>, value: T, session_id: u64) -> Result<Self, BoardError> {
        let mut worker = Isolated::spawn(&format!("rust-{}-{session_id}", kind.board.kind()), value).map_err(|e| {
            BoardError::general(format!("cannot start the Rust implementation's worker thread: {e}"))
        })?;
        // Work nobody waits for (shadow decoding) gets the data-call deadline before the
        // watchdog gives its worker up.
        worker.set_submit_deadline(kind.knobs().call_deadline.max(Duration::from_millis(50)));
        let faults = FaultInjector::new(kind.fault_plan(), session_id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Ok(RustSide { worker, faults, kind })
    }

    /// Runs `f` on the Rust side within `deadline`, with the breaker's admission and
    /// outcome recording. `f` is told which fault was drawn for the call so it can apply
    /// an injected corruption to its own output (the other faults happen before it runs).
    /// `live` says whether the session is already running on Rust (see
    /// [`BoardKind::admit`]).
    pub fn call<R, F>(&mut self, operation: &'static str, deadline: Duration, live: bool, f: F) -> RustAnswer<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut T, Fault) -> Result<R, BoardError> + Send + 'static,
    {
        let ticket = match self.kind.admit(live) {
            Admission::Refused => {
                return RustAnswer::Failed(RustFailure::Refused(self.kind.breaker_state_name()));
            }
            Admission::Recorded(p) => Some(p),
            Admission::Unrecorded => None,
        };
        self.faults.set_plan(self.kind.fault_plan());
        let fault = self.faults.draw();
        let latency = self.faults.plan().added_latency;
        let board = self.kind.board.kind();
        let started = Instant::now();
        let release = self.kind.hang_release.clone();
        // The worker runs in the caller's span, so its events carry the same call id.
        let span = tracing::Span::current();
        let result = self.worker.call(deadline, move |value| {
            let _span = span.enter();
            faults::before_call(fault, latency, board, &release)?;
            f(value, fault)
        });
        let elapsed = started.elapsed();
        let kind = &self.kind;
        let answer = match result {
            Ok(Ok(value)) => {
                kind.record(ticket, Outcome::Success, elapsed);
                RustAnswer::Answered(Ok(value))
            }
            Ok(Err(e)) if e.code.is_caller_error() => {
                kind.record_caller_error(ticket, &e, elapsed);
                RustAnswer::Answered(Err(e))
            }
            Ok(Err(e)) => {
                kind.record(ticket, Outcome::Failure { exit_code: e.code.code() }, elapsed);
                RustAnswer::Failed(RustFailure::Failed(e))
            }
            Err(IsolationFailure::Panicked(message)) => {
                kind.record(ticket, Outcome::Panic, elapsed);
                RustAnswer::Failed(RustFailure::Isolation(IsolationFailure::Panicked(message)))
            }
            Err(failure) => {
                kind.record(ticket, Outcome::Timeout, elapsed);
                RustAnswer::Failed(RustFailure::Isolation(failure))
            }
        };
        if let RustAnswer::Failed(failure) = &answer {
            tracing::warn!(
                board,
                operation,
                failure = failure.kind(),
                elapsed_ms = elapsed.as_secs_f64() * 1e3,
                detail = %failure,
                "rust path call failed"
            );
        }
        answer
    }

    /// Stops the Rust side, giving a healthy worker `deadline` to release its device.
    /// Nothing is recorded: this is the session leaving Rust, not a Rust call.
    pub fn retire(mut self, deadline: Duration, release: impl FnOnce(&mut T) + Send + 'static) {
        if !self.worker.is_broken() {
            let _ = self.worker.call(deadline, move |value| release(value));
        }
        self.worker.shutdown(Duration::ZERO);
    }
}

/// Where the one job a stream keeps queued on its Rust side stands. The stream reads it on
/// every tick and every read (never waiting): a job that failed, or that has run past its
/// deadline, is a Rust failure the stream answers by serving from C++.
#[derive(Default)]
struct WatchState {
    /// When the job was queued and when it started on a worker (`None`: idle).
    queued: Option<Instant>,
    started: Option<Instant>,
    failure: Option<RustFailure>,
    /// The stream gave up on the job; when it returns it records nothing.
    abandoned: bool,
    ticket: Option<breaker::Permission>,
}

/// The watch on a stream's Rust job (see [`RustSide::submit_watched`]).
#[derive(Clone, Default)]
pub struct JobWatch(Arc<std::sync::Mutex<WatchState>>);

/// Queued work may wait this many deadlines for a worker before it counts as stuck (the
/// pool adds workers long before that).
const QUEUE_WAIT_DEADLINES: u32 = 20;

impl JobWatch {
    fn state(&self) -> std::sync::MutexGuard<'_, WatchState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// No job queued or running.
    pub fn is_idle(&self) -> bool {
        self.state().queued.is_none()
    }

    /// The job's failure, or a timeout when it has run past `deadline` (then the job is
    /// abandoned and recorded as a timeout now). `None` while it is healthy or idle.
    pub fn failure(&self, deadline: Duration, kind: &BoardKind) -> Option<RustFailure> {
        let mut s = self.state();
        if let Some(failure) = s.failure.take() {
            return Some(failure);
        }
        let overran = match (s.started, s.queued) {
            (Some(started), _) => started.elapsed() > deadline,
            (None, Some(queued)) => queued.elapsed() > deadline * QUEUE_WAIT_DEADLINES,
            (None, None) => false,
        };
        if !overran || s.abandoned {
            return None;
        }
        s.abandoned = true;
        let ticket = s.ticket.take();
        let elapsed = s.started.or(s.queued).map(|t| t.elapsed()).unwrap_or_default();
        drop(s);
        kind.record(ticket, Outcome::Timeout, elapsed);
        tracing::warn!(board = kind.board.kind(), failure = "timeout", elapsed_ms = elapsed.as_secs_f64() * 1e3, "rust path job overran its deadline");
        Some(RustFailure::Isolation(IsolationFailure::TimedOut(deadline)))
    }

    /// Waits up to `limit` for the job to end (stop and moves want every sample in).
    pub fn wait_idle(&self, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while !self.is_idle() {
            if Instant::now() >= until || self.state().abandoned {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        true
    }
}

impl<T: Send + 'static> RustSide<T> {
    /// Queues `f` as the stream's one Rust job, tracked by `watch`: its outcome is recorded
    /// in the breaker and a failure is left in `watch` for the stream to act on. Returns
    /// false (nothing queued) when the breaker refuses the call; the refusal is then in
    /// `watch` too.
    pub fn submit_watched<F>(&mut self, operation: &'static str, watch: &JobWatch, f: F) -> bool
    where
        F: FnOnce(&mut T, Fault) -> Result<(), BoardError> + Send + 'static,
    {
        let ticket = match self.kind.admit(true) {
            Admission::Refused => {
                watch.state().failure = Some(RustFailure::Refused(self.kind.breaker_state_name()));
                return false;
            }
            Admission::Recorded(p) => Some(p),
            Admission::Unrecorded => None,
        };
        self.faults.set_plan(self.kind.fault_plan());
        let fault = self.faults.draw();
        let latency = self.faults.plan().added_latency;
        let kind = self.kind.clone();
        {
            let mut s = watch.state();
            *s = WatchState { queued: Some(Instant::now()), ticket, ..WatchState::default() };
        }
        let job_watch = watch.clone();
        let span = tracing::Span::current();
        let queued = self.worker.submit(move |value| {
            let _span = span.enter();
            let board = kind.board.kind();
            let started = Instant::now();
            job_watch.state().started = Some(started);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                faults::before_call(fault, latency, board, &kind.hang_release)?;
                f(value, fault)
            }));
            let elapsed = started.elapsed();
            let mut s = job_watch.state();
            if s.abandoned {
                return; // the stream moved on and recorded a timeout already
            }
            let ticket = s.ticket.take();
            s.queued = None;
            s.started = None;
            match outcome {
                Ok(Ok(())) => {
                    drop(s);
                    kind.record(ticket, Outcome::Success, elapsed)
                }
                Ok(Err(e)) if e.code.is_caller_error() => {
                    drop(s);
                    kind.record_caller_error(ticket, &e, elapsed)
                }
                Ok(Err(e)) => {
                    tracing::warn!(board, operation, failure = "error", detail = %e, "rust path job failed");
                    s.failure = Some(RustFailure::Failed(e.clone()));
                    drop(s);
                    kind.record(ticket, Outcome::Failure { exit_code: e.code.code() }, elapsed)
                }
                Err(payload) => {
                    let message = super::isolate::panic_message(payload);
                    tracing::warn!(board, operation, failure = "panic", detail = %message, "rust path job panicked");
                    s.failure = Some(RustFailure::Isolation(IsolationFailure::Panicked(message)));
                    drop(s);
                    kind.record(ticket, Outcome::Panic, elapsed)
                }
            }
        });
        if !queued {
            let mut s = watch.state();
            let ticket = s.ticket.take();
            *s = WatchState { failure: Some(RustFailure::Isolation(IsolationFailure::WorkerGone)), ..WatchState::default() };
            drop(s);
            self.kind.record(ticket, Outcome::Timeout, Duration::ZERO);
        }
        queued
    }
}
