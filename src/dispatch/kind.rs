//! What the sessions of one board kind share: its breaker, its live knobs from the config,
//! and its counters. (Which sessions are live is the registry's: see [`super::registry`].)
//!
//! This is also the one place that speaks to the breaker crate, so the rest of the
//! dispatcher deals in "admit" and "record", not in breaker internals.

use super::compare::ShadowCounters;
use super::faults::FaultPlan;
use arc_swap::ArcSwap;
use board_api::{BoardError, BoardId};
use breaker::{Breaker, Outcome, Permission, State};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The knobs a live session reads on every Rust call; replaced whole on config reload.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveKnobs {
    pub faults: FaultPlan,
    /// Deadline for a Rust data call (the breaker's slow-call duration): past it the call
    /// counts as a timeout and the session serves from C++.
    pub call_deadline: Duration,
    /// Relative tolerance for floating rows in shadow comparison.
    pub float_tolerance: f64,
    /// Share of sessions (0..=1) whose Rust side runs in shadow mode.
    pub shadow_sample: f64,
    /// Live Rust sessions move to C++ as soon as the breaker opens (else at their next
    /// failure).
    pub move_on_open: bool,
    /// Lowering the percentage moves live sessions that fall outside it.
    pub follow_percent_decrease: bool,
    /// Sessions moved off Rust return to their decided path once Rust is admitted again.
    pub failback_automatic: bool,
    /// Which legacy C++ serves the C++ path.
    pub legacy: super::legacy::LegacyBackend,
}

impl Default for LiveKnobs {
    fn default() -> Self {
        LiveKnobs {
            faults: FaultPlan::default(),
            call_deadline: Duration::from_millis(250),
            float_tolerance: 1e-9,
            shadow_sample: 1.0,
            move_on_open: true,
            follow_percent_decrease: false,
            failback_automatic: true,
            legacy: super::legacy::LegacyBackend::CoreCpp,
        }
    }
}

/// Totals per board kind, read by monitoring and tests.
#[derive(Debug, Default)]
pub struct KindCounters {
    pub rust_calls: AtomicU64,
    pub rust_failures: AtomicU64,
    pub failovers: AtomicU64,
    /// Planned, lossless moves between paths (kill switch, percentage, breaker, failback).
    pub moves: AtomicU64,
    /// Samples missing across failovers in `rust` mode (standby loses none).
    pub failover_gap_samples: AtomicU64,
    pub sessions_opened: AtomicU64,
    pub shadow: Arc<ShadowCounters>,
    /// Rust-only boards: link failures (disconnects and stalls) reported by their boards.
    pub link_failures: AtomicU64,
    /// Sessions whose device stopped streaming on its own (unplugged, hung up).
    pub streams_stopped: AtomicU64,
    /// Rust-only boards: lost links restored by a reconnect.
    pub link_reconnects: AtomicU64,
    /// Rust-only boards: sessions whose Rust board was rebuilt after a panic or a hang
    /// (their answer to a failure, where other boards fail over to C++).
    pub restarts: AtomicU64,
}

impl KindCounters {
    pub fn failovers(&self) -> u64 {
        self.failovers.load(Ordering::Relaxed)
    }
    pub fn gap_samples(&self) -> u64 {
        self.failover_gap_samples.load(Ordering::Relaxed)
    }
}

/// How the breaker answered a Rust call's request to run.
pub enum Admission {
    /// Run it and record its outcome with this permission.
    Recorded(Permission),
    /// Run it without judging it (a live session while the breaker only judges probes).
    Unrecorded,
    /// Do not run it: the session serves from C++.
    Refused,
}

pub struct BoardKind {
    pub board: BoardId,
    pub breaker: Arc<Breaker>,
    pub counters: KindCounters,
    /// Ends injected hangs of this kind's Rust calls (set at runtime shutdown).
    pub hang_release: Arc<AtomicBool>,
    knobs: ArcSwap<LiveKnobs>,
}

impl BoardKind {
    pub fn new(board: BoardId, breaker: Arc<Breaker>, knobs: LiveKnobs) -> Self {
        BoardKind {
            board,
            breaker,
            counters: KindCounters::default(),
            hang_release: Arc::new(AtomicBool::new(false)),
            knobs: ArcSwap::from_pointee(knobs),
        }
    }

    pub fn knobs(&self) -> arc_swap::Guard<Arc<LiveKnobs>> {
        self.knobs.load()
    }

    pub fn set_knobs(&self, knobs: LiveKnobs) {
        if **self.knobs.load() != knobs {
            if knobs.faults.is_active() {
                tracing::warn!(board = self.board.kind(), faults = ?knobs.faults, "fault injection is ON for the Rust path");
            }
            self.knobs.store(Arc::new(knobs));
        }
    }

    pub fn fault_plan(&self) -> FaultPlan {
        self.knobs.load().faults.clone()
    }

    // --- breaker -------------------------------------------------------------------

    /// Asks the breaker whether a Rust call may run now. A session already running on
    /// Rust (`live`) keeps going unrecorded while the breaker is HALF_OPEN (only probes
    /// are judged then) and, when the config says `on_breaker_open: on_next_failure`,
    /// while it is OPEN; otherwise a refusal moves the session to C++.
    ///
    /// A Rust-only board has nowhere else to go: its calls always run, unrecorded while
    /// the breaker refuses, and the breaker acts on its link instead ([`BreakerLinkGuard`]).
    pub fn admit(&self, live: bool) -> Admission {
        let permission = self.breaker.try_acquire();
        if permission.is_permitted() {
            return Admission::Recorded(permission);
        }
        if !self.board.has_cpp_implementation() {
            return Admission::Unrecorded;
        }
        match self.breaker.state() {
            State::HalfOpen if live => Admission::Unrecorded,
            State::Open if live && !self.knobs.load().move_on_open => Admission::Unrecorded,
            _ => Admission::Refused,
        }
    }

    /// Whether new sessions must not start on Rust: the breaker is OPEN or forced open.
    /// (HALF_OPEN is decided per session, by the probe permits at its first Rust call.)
    pub fn breaker_refuses_new_sessions(&self) -> bool {
        matches!(self.breaker.state(), State::Open | State::ForcedOpen)
    }

    pub fn breaker_state_name(&self) -> String {
        self.breaker.state().as_str().to_owned()
    }

    /// Records how a Rust call ended (nothing when it was not admitted by the breaker).
    pub fn record(&self, permission: Option<Permission>, outcome: Outcome, _elapsed: Duration) {
        self.counters.rust_calls.fetch_add(1, Ordering::Relaxed);
        if outcome != Outcome::Success {
            self.counters.rust_failures.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(p) = permission {
            self.breaker.record(p, outcome);
        }
    }

    /// A caller's own error is the Rust path doing its job; the breaker ignores it by its
    /// configured exit codes.
    pub fn record_caller_error(&self, permission: Option<Permission>, error: &BoardError, _elapsed: Duration) {
        self.counters.rust_calls.fetch_add(1, Ordering::Relaxed);
        if let Some(p) = permission {
            self.breaker.record(p, Outcome::Failure { exit_code: error.code.code() });
        }
    }

    /// A Rust-only board's session was rebuilt after its Rust board failed.
    pub fn note_restart(&self) {
        self.counters.restarts.fetch_add(1, Ordering::Relaxed);
    }
}

/// The breaker's say over a Rust-only (BLE) board's link. Such a board cannot fall back to
/// C++, so its breaker guards the link: each lost link is a failure of the Rust path, and
/// each reconnect attempt is a call the breaker must admit. While the breaker is OPEN, lost
/// links stay down until it lets a probe through; in HALF_OPEN a reconnect is a probe and
/// its outcome decides whether the breaker closes. Healthy links are never touched.
pub struct BreakerLinkGuard {
    kind: Arc<BoardKind>,
    session: u64,
}

impl BreakerLinkGuard {
    pub fn new(kind: Arc<BoardKind>, session: u64) -> Self {
        BreakerLinkGuard { kind, session }
    }
}

/// How a lost link or a failed reconnect is recorded: the device is not answering.
const LINK_FAILURE: Outcome = Outcome::Failure { exit_code: board_api::ExitCode::BoardNotReadyError.code() };

impl ble_boards::LinkGuard for BreakerLinkGuard {
    fn link_failed(&self, reason: &str) {
        self.kind.counters.link_failures.fetch_add(1, Ordering::Relaxed);
        let permission = self.kind.breaker.try_acquire();
        let recorded = permission.is_permitted();
        if recorded {
            self.kind.breaker.record(permission, LINK_FAILURE);
        }
        tracing::warn!(
            board = self.kind.board.kind(),
            session = self.session,
            reason,
            recorded,
            breaker = self.kind.breaker.state().as_str(),
            "link failure"
        );
    }

    fn before_reconnect(&self) -> ble_boards::ReconnectAdmission {
        let permission = self.kind.breaker.try_acquire();
        if permission.is_permitted() {
            let kind = Arc::clone(&self.kind);
            let session = self.session;
            return ble_boards::ReconnectAdmission::Attempt(Box::new(move |restored| {
                kind.breaker.record(permission, if restored { Outcome::Success } else { LINK_FAILURE });
                if restored {
                    kind.counters.link_reconnects.fetch_add(1, Ordering::Relaxed);
                }
                tracing::info!(
                    board = kind.board.kind(),
                    session,
                    restored,
                    breaker = kind.breaker.state().as_str(),
                    "reconnect attempt recorded"
                );
            }));
        }
        // Ask again when probing may start (OPEN), or soon (probe slots taken, forced open).
        let snapshot = self.kind.breaker.snapshot();
        let wait = match (snapshot.state, snapshot.open_remaining) {
            (State::Open, Some(left)) => left.clamp(Duration::from_millis(10), Duration::from_secs(1)),
            (State::ForcedOpen, _) => Duration::from_secs(1),
            _ => Duration::from_millis(100),
        };
        ble_boards::ReconnectAdmission::Hold(wait)
    }
}
