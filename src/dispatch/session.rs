//! A board session as callers see it: one `board_api::Board`, whichever implementation
//! serves it.
//!
//! The path is decided at `prepare_session` from the toggles and the breaker, and stays
//! for the session's life unless a Rust failure, the breaker or the kill switch moves it
//! to C++. Each session has its own lock; there is no lock shared by sessions on the data
//! path.

use super::kind::BoardKind;
use super::producers::Side;
use super::rust_side::{RustAnswer, RustFailure, RustSide};
use super::stream::{Stream, Switch};
use super::{factory, faults, now_unix, trace};
use board_api::{Board, BoardError, BoardId, ExitCode, InputParams, Preset, Result, SampleMatrix};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use toggles::{Decision, Path, SessionIdentity, ToggleStore};

pub use super::stream::{FAILOVER_MARKER, MOVE_MARKER};

/// Why a session runs where it runs: the toggle decision, then what happened since.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// What the toggles decided at prepare time.
    pub decision: Decision,
    /// The path the session was started on (differs from the decision when the breaker
    /// refused Rust at prepare time).
    pub started_on: Path,
    /// Extra reason beyond the toggles' (e.g. `BREAKER_OPEN`, `FAILOVER`).
    pub override_reason: Option<&'static str>,
}

enum Engine {
    Unprepared,
    Cpp(Box<dyn Board>),
    Rust(RustSide<Box<dyn Board>>),
    /// Synthetic, playback and serial boards in every mode (see [`super::stream`]).
    Stream(Box<Stream>),
    /// A Rust-only board lost to a panic or hang, waiting to be rebuilt (see
    /// `SessionState::try_restart`): calls retry the rebuild when it is due.
    Restarting,
    /// A failover found C++ unable to start (e.g. the device is gone): every call
    /// answers this error until the session is released.
    Lost(BoardError),
    Released,
}

pub(crate) struct SessionState {
    engine: Engine,
    routing: Option<Routing>,
    path: Path,
    buffer_size: Option<usize>,
    last_served_timestamp: Option<f64>,
    /// The default preset's timestamp row, looked up once rather than on every read.
    timestamp_row: Option<usize>,
    spare: SampleMatrix,
    failovers: u32,
    /// Planned moves between paths (lossless), as opposed to failovers.
    moves: u32,
    /// A Rust-only board whose Rust board failed and could not be rebuilt yet.
    restart: Option<PendingRestart>,
    restarts: u32,
}

/// When a Rust-only board's session may next try to rebuild its failed Rust board.
struct PendingRestart {
    cause: String,
    not_before: std::time::Instant,
    backoff: Duration,
}

/// First wait between attempts to rebuild a failed Rust-only board, doubled per failure.
const RESTART_BACKOFF: Duration = Duration::from_millis(250);
const MAX_RESTART_BACKOFF: Duration = Duration::from_secs(8);

pub struct SessionCell {
    pub id: u64,
    pub board: BoardId,
    pub params: InputParams,
    pub(crate) kind: Arc<BoardKind>,
    store: Arc<ToggleStore>,
    state: Mutex<SessionState>,
    /// The link of a BLE board, readable without waiting for a call in progress.
    link: Mutex<Option<ble_boards::LinkHandle>>,
    /// Why the device's stream died on its own, as last seen by a read.
    stream_failure: Mutex<Option<String>>,
    /// Drawn once: a session with no stickiness value keeps this bucket for its life,
    /// so re-deciding it after a reload cannot move it at random.
    drawn_bucket: u32,
    /// The span of the session's whole life; each call opens a child of it.
    span: tracing::Span,
}

impl SessionCell {
    /// Enters a new call span (with its own call id) under the session's span.
    fn enter_call(&self, op: &'static str) -> tracing::span::EnteredSpan {
        trace::call_span(&self.span, op).entered()
    }

    fn lock(&self) -> MutexGuard<'_, SessionState> {
        // Session code never panics while holding the lock (Rust-side panics happen on
        // the isolated worker); if it ever did, the state is still the best we have.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The path currently serving (cpp before prepare).
    pub fn path(&self) -> Path {
        self.lock().path
    }

    pub fn routing(&self) -> Option<Routing> {
        self.lock().routing.clone()
    }

    /// Who this session is for the toggles, its drawn bucket included.
    pub fn identity(&self) -> SessionIdentity<'_> {
        SessionIdentity::new(&self.params).with_drawn_bucket(self.drawn_bucket)
    }

    /// A BLE session's link: its state and counters (`None` for other boards).
    pub fn link_status(&self) -> Option<ble_boards::LinkStatus> {
        self.link.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|l| l.status())
    }

    /// Why this session's device stopped streaming on its own (unplugged, hung up), as
    /// last seen by a read; `None` while it streams.
    pub fn stream_failure(&self) -> Option<String> {
        self.stream_failure.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Records what a read saw; a new failure is logged once and counted.
    fn note_stream_failure(&self, failure: Option<String>) {
        let mut current = self.stream_failure.lock().unwrap_or_else(|p| p.into_inner());
        if *current == failure {
            return;
        }
        if let Some(reason) = &failure {
            self.kind.counters.streams_stopped.fetch_add(1, Ordering::Relaxed);
            tracing::error!(board = self.board.kind(), session = self.id, %reason, "device stopped streaming; no more samples will arrive");
        }
        *current = failure;
    }

    fn set_link(&self, link: Option<ble_boards::LinkHandle>) {
        *self.link.lock().unwrap_or_else(|p| p.into_inner()) = link;
    }

    /// Releases the session whatever state it is in (release_all_sessions, shutdown).
    pub fn release_now(&self) {
        let _call = self.enter_call("release_now");
        let mut state = self.lock();
        if !matches!(state.engine, Engine::Unprepared | Engine::Released) {
            let _ = state.release(self);
        }
    }

    /// Moves the session to C++ now (kill switch, breaker open, percentage lowered,
    /// operator force-open). Streams move at a stream index, losing nothing; a whole Rust
    /// board (BrainFlow's library as the legacy) restarts on C++ with the gap marked.
    pub fn move_to_cpp(&self, reason: &'static str) -> Result<Moved> {
        let _call = self.enter_call("move_to_cpp");
        let mut state = self.lock();
        state.move_to_cpp(self, reason)
    }

    /// Moves the session back to the path its toggles decide, if that is not C++ and the
    /// breaker admits Rust (failback). Lossless.
    pub fn move_to_decided(&self, reason: &'static str) -> Result<Moved> {
        let _call = self.enter_call("failback");
        let mut state = self.lock();
        state.move_to_decided(self, reason)
    }

    /// Whether the session runs somewhere other than where its toggles would put it now
    /// because it was moved (failover, kill switch, breaker) rather than decided so.
    pub fn was_moved_off_its_path(&self) -> bool {
        let state = self.lock();
        state.routing.as_ref().is_some_and(|r| r.override_reason.is_some()) && state.path == Path::Cpp
    }

    /// The pump's turn (see [`super::pump`]): skipped when a caller holds the session, who
    /// will be served from what the last turn produced.
    pub fn tick(&self, now: f64) {
        let mut state = match self.state.try_lock() {
            Ok(state) => state,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        let _session = self.span.enter();
        let _turn = trace::turn_span(&self.span).entered();
        state.tick(self, now);
    }
}

/// What a move request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    /// Nothing to do: the session is where it should be (or has nowhere to go).
    No,
    /// Moved at a stream index; nothing lost or repeated.
    Losslessly,
    /// Restarted on the other path with the gap marked.
    WithGap,
}

/// A session handle. Implements [`Board`]; dropping it releases the session.
pub struct Session {
    cell: Arc<SessionCell>,
}

impl Session {
    pub(crate) fn new(id: u64, board: BoardId, params: InputParams, kind: Arc<BoardKind>, store: Arc<ToggleStore>) -> Self {
        let cell = Arc::new(SessionCell {
            id,
            board,
            params,
            kind: kind.clone(),
            store,
            state: Mutex::new(SessionState {
                engine: Engine::Unprepared,
                routing: None,
                path: Path::Cpp,
                buffer_size: None,
                last_served_timestamp: None,
                timestamp_row: board_api::descriptor(board, Preset::Default).ok().map(|d| d.timestamp_channel),
                spare: SampleMatrix::default(),
                failovers: 0,
                moves: 0,
                restart: None,
                restarts: 0,
            }),
            link: Mutex::new(None),
            stream_failure: Mutex::new(None),
            drawn_bucket: toggles::random_hash(),
            span: trace::session_span(id, board),
        });
        Session { cell }
    }

    pub fn id(&self) -> u64 {
        self.cell.id
    }
    pub(crate) fn cell(&self) -> &Arc<SessionCell> {
        &self.cell
    }
    pub fn params(&self) -> &InputParams {
        &self.cell.params
    }
    /// The path serving this session now.
    pub fn path(&self) -> Path {
        self.cell.path()
    }
    /// The toggle decision and what overrode it; `None` before prepare.
    pub fn routing(&self) -> Option<Routing> {
        self.cell.routing()
    }
    pub fn decision(&self) -> Option<Decision> {
        self.cell.routing().map(|r| r.decision)
    }
    /// How many times this session moved from Rust to C++ because Rust failed.
    pub fn failovers(&self) -> u32 {
        self.cell.lock().failovers
    }
    /// How many planned moves between paths this session made (lossless).
    pub fn moves(&self) -> u32 {
        self.cell.lock().moves
    }
    /// How many times this Rust-only session rebuilt its Rust board after a panic or hang.
    pub fn restarts(&self) -> u32 {
        self.cell.lock().restarts
    }
    /// A BLE session's link (`None` for other boards).
    pub fn link_status(&self) -> Option<ble_boards::LinkStatus> {
        self.cell.link_status()
    }
    /// Why the device stopped streaming on its own, as last seen by a read.
    pub fn stream_failure(&self) -> Option<String> {
        self.cell.stream_failure()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _call = self.cell.enter_call("drop");
        let mut state = self.cell.lock();
        if !matches!(state.engine, Engine::Unprepared | Engine::Released) {
            let _ = state.release(&self.cell);
        }
    }
}

fn lifecycle_deadline(params: &InputParams) -> Duration {
    // Opening a device waits for its greeting (params.timeout, 3 s by default); the
    // deadline leaves room for that and for a retry inside the implementation.
    params.timeout_or(Duration::from_secs(3)) * 2 + Duration::from_secs(2)
}

impl SessionState {
    fn prepare(&mut self, cell: &SessionCell) -> Result<()> {
        match self.engine {
            Engine::Unprepared => {}
            Engine::Released => {
                return Err(BoardError::not_created("this session was released; open a new one"));
            }
            _ => return Ok(()),
        }
        let board = cell.board;
        let decision = cell.store.decide(board, &cell.identity(), std::time::SystemTime::now());
        let mut path = decision.path;
        let mut override_reason = None;
        if path != Path::Cpp && cell.kind.breaker_refuses_new_sessions() {
            if board.has_cpp_implementation() {
                path = Path::Cpp;
                override_reason = Some("BREAKER_OPEN");
            } else {
                // Nothing to fall back to: the session runs, and the breaker paces its
                // link's reconnects instead.
                override_reason = Some("BREAKER_OPEN_NO_FALLBACK");
            }
        }
        if path == Path::Shadow && !shadow_sampled(cell.id, cell.kind.knobs().shadow_sample) {
            // Outside `shadow.sample_percent`: C++ serves alone, exactly as in shadow mode
            // but without the Rust side's cost.
            path = Path::Cpp;
            override_reason = Some("SHADOW_NOT_SAMPLED");
        }
        tracing::info!(
            board = board.kind(),
            session = cell.id,
            path = path.as_str(),
            reason = override_reason.unwrap_or(decision.reason.as_str()),
            rule = %decision.rule,
            bucket = decision.bucket,
            bucketed_by = match decision.bucketed_by {
                Some(toggles::BucketedBy::Key(key)) => key.as_str(),
                Some(toggles::BucketedBy::Random) => "random (the session has no stickiness value)",
                None => "none",
            },
            generation = decision.generation,
            "routing decision"
        );
        trace::flag_evaluation(board, path, &decision, override_reason);
        let mut routing = Routing { decision, started_on: path, override_reason };
        let built = match factory::stream(&cell.kind, cell.id, &cell.params, path) {
            Ok(built) => built,
            // The Rust side could not be made (its decoder refused the params): C++ judges
            // them too.
            Err(e) if path == Path::Rust && cell.board.has_cpp_implementation() && !e.code.is_caller_error() => {
                routing.override_reason = Some("FAILOVER");
                self.note_failover(cell, &e.to_string());
                path = Path::Cpp;
                factory::stream(&cell.kind, cell.id, &cell.params, Path::Cpp)?
            }
            Err(e) => return Err(e),
        };
        let built = match built {
            factory::Built::CppAlone(reason) => {
                // Both sides cannot run here; the session still does, on BrainFlow's board.
                tracing::warn!(board = board.kind(), session = cell.id, wanted = path.as_str(), %reason, "the session runs on the C++ path alone");
                routing.override_reason = Some("SINGLE_PATH");
                path = Path::Cpp;
                factory::Built::Whole
            }
            other => other,
        };
        let engine = match (built, path) {
            (factory::Built::Stream(stream), _) => Engine::Stream(stream),
            (_, Path::Cpp) => Engine::Cpp(prepare_cpp(cell)?),
            (_, Path::Rust) => match self.prepare_rust(cell) {
                Ok(engine) => engine,
                Err(failure) => {
                    routing.override_reason = Some(if matches!(failure, RustFailure::Refused(_)) {
                        "BREAKER_OPEN"
                    } else {
                        "FAILOVER"
                    });
                    path = Path::Cpp;
                    self.note_failover(cell, &failure.to_string());
                    Engine::Cpp(prepare_cpp(cell).map_err(|e| rust_only_error(cell, e, &failure))?)
                }
            },
            (_, Path::Shadow | Path::Standby) => {
                return Err(BoardError::new(
                    ExitCode::UnsupportedBoardError,
                    format!("board {board} cannot run in {} mode", path.as_str()),
                ))
            }
        };
        self.engine = engine;
        self.routing = Some(routing);
        self.path = path;
        self.after_stream_call(cell);
        Ok(())
    }

    fn prepare_rust(&mut self, cell: &SessionCell) -> Result<Engine, RustFailure> {
        let made = factory::rust_board(&cell.kind, cell.id, &cell.params).map_err(RustFailure::Failed)?;
        cell.set_link(made.link);
        let mut side = RustSide::spawn(cell.kind.clone(), made.board, cell.id).map_err(RustFailure::Failed)?;
        match side.call("prepare_session", lifecycle_deadline(&cell.params), false, |b, _| b.prepare_session()) {
            RustAnswer::Answered(Ok(())) => Ok(Engine::Rust(side)),
            // The Rust board refused the caller's params: C++ will judge them too.
            RustAnswer::Answered(Err(e)) => Err(RustFailure::Failed(e)),
            RustAnswer::Failed(f) => Err(f),
        }
    }

    /// A Rust-only board's answer to a failure of its Rust board: the board's own error
    /// goes to the caller as it is; after a panic or a hang (the board object is lost) the
    /// session rebuilds the board, restarts the stream and marks the gap, with backoff
    /// between attempts that fail.
    fn restart_rust_only(&mut self, cell: &SessionCell, failure: &RustFailure) -> Result<()> {
        match failure {
            RustFailure::Failed(e) => return Err(e.clone()),
            RustFailure::Refused(_) | RustFailure::Isolation(_) => {}
        }
        let backoff = self.restart.as_ref().map_or(RESTART_BACKOFF, |r| r.backoff);
        self.restart = Some(PendingRestart {
            cause: failure.to_string(),
            not_before: std::time::Instant::now(),
            backoff,
        });
        self.try_restart(cell)
    }

    /// Rebuilds a Rust-only board if a restart is pending and due. `Ok` means the session
    /// is serving again (or nothing was pending).
    fn try_restart(&mut self, cell: &SessionCell) -> Result<()> {
        let Some(pending) = self.restart.as_ref() else { return Ok(()) };
        let now = std::time::Instant::now();
        if now < pending.not_before {
            return Err(restarting_error(cell, pending, now));
        }
        let cause = pending.cause.clone();
        let backoff = pending.backoff;
        if let Engine::Rust(side) = std::mem::replace(&mut self.engine, Engine::Restarting) {
            side.retire(Duration::from_millis(500), |b| {
                let _ = b.release_session();
            });
        }
        let rebuilt = self.prepare_rust(cell).map_err(|f| f.to_string()).and_then(|engine| {
            // From here a failure leaves the new board in place, to be rebuilt again.
            self.engine = engine;
            match (self.buffer_size, &mut self.engine) {
                (Some(buffer_size), Engine::Rust(side)) => {
                    let presets = cell.board.presets();
                    let started = side.call("start_stream", lifecycle_deadline(&cell.params), true, move |b, _| {
                        b.start_stream(buffer_size)?;
                        // The first sample of the rebuilt stream, in every preset, says data
                        // is missing before it.
                        presets.iter().try_for_each(|preset| b.insert_marker(ble_boards::GAP_MARKER, *preset))
                    });
                    match started {
                        RustAnswer::Answered(Ok(())) => Ok(()),
                        RustAnswer::Answered(Err(e)) => Err(e.to_string()),
                        RustAnswer::Failed(f) => Err(f.to_string()),
                    }
                }
                _ => Ok(()),
            }
        });
        match rebuilt {
            Ok(()) => {
                self.restart = None;
                self.restarts += 1;
                cell.kind.note_restart();
                tracing::warn!(board = cell.board.kind(), session = cell.id, %cause, "rust-only session rebuilt its board");
                Ok(())
            }
            Err(error) => {
                let pending = PendingRestart {
                    cause,
                    not_before: std::time::Instant::now() + backoff,
                    backoff: (backoff * 2).min(MAX_RESTART_BACKOFF),
                };
                tracing::warn!(
                    board = cell.board.kind(),
                    session = cell.id,
                    %error,
                    retry_in_ms = backoff.as_millis() as u64,
                    "rebuilding the rust-only board failed"
                );
                let e = restarting_error(cell, &pending, std::time::Instant::now());
                self.restart = Some(pending);
                Err(e)
            }
        }
    }

    fn note_failover(&mut self, cell: &SessionCell, cause: &str) {
        self.failovers += 1;
        cell.kind.counters.failovers.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(board = cell.board.kind(), session = cell.id, cause, "session failed over to C++");
    }

    /// Replaces a failed Rust engine by C++, started like the Rust one was.
    fn fail_over(&mut self, cell: &SessionCell, failure: &RustFailure) -> Result<()> {
        let Engine::Rust(side) = std::mem::replace(&mut self.engine, Engine::Unprepared) else {
            return Ok(());
        };
        if !cell.board.has_cpp_implementation() {
            self.engine = Engine::Rust(side);
            return self.restart_rust_only(cell, failure);
        }
        // Free the device before C++ opens it; a hung worker keeps nothing we can wait for.
        side.retire(Duration::from_millis(500), |b| {
            let _ = b.release_session();
        });
        self.note_failover(cell, &failure.to_string());
        let mut cpp = match prepare_cpp(cell) {
            Ok(cpp) => cpp,
            Err(e) => {
                tracing::error!(board = cell.board.kind(), session = cell.id, error = %e, "failover could not start C++; the session is lost");
                self.engine = Engine::Lost(e.clone());
                return Err(e);
            }
        };
        if let Some(buffer_size) = self.buffer_size {
            cpp.start_stream(buffer_size)?;
            // BrainFlow puts a marker in the next sample: the first one C++ delivers.
            cpp.insert_marker(FAILOVER_MARKER, Preset::Default)?;
        }
        let gap_from = self.last_served_timestamp;
        self.engine = Engine::Cpp(cpp);
        self.path = Path::Cpp;
        if let Some(routing) = &mut self.routing {
            routing.override_reason = Some("FAILOVER");
        }
        if let (Some(from), Some(_)) = (gap_from, self.buffer_size) {
            let rate = board_api::descriptor(cell.board, Preset::Default).map(|d| d.sampling_rate).unwrap_or(250);
            let gap = ((now_unix() - from) * rate as f64).max(0.0) as u64;
            cell.kind.counters.failover_gap_samples.fetch_add(gap, Ordering::Relaxed);
            tracing::warn!(board = cell.board.kind(), session = cell.id, gap_samples = gap, "failover gap");
        }
        Ok(())
    }

    fn move_to_cpp(&mut self, cell: &SessionCell, reason: &'static str) -> Result<Moved> {
        if !cell.board.has_cpp_implementation() {
            return Ok(Moved::No); // nowhere to go; its breaker paces its link instead
        }
        match &mut self.engine {
            Engine::Rust(_) => {
                // A whole Rust board (BrainFlow's library as the legacy): C++ starts afresh,
                // with the gap marked.
                self.fail_over(cell, &RustFailure::Refused(reason.to_owned()))?;
                Ok(Moved::WithGap)
            }
            Engine::Stream(stream) if stream.path() != Path::Cpp => {
                let moved = stream.move_to(Side::Cpp, true, reason, false);
                self.after_stream_call(cell);
                if let (Ok(()), Some(routing)) = (&moved, &mut self.routing) {
                    // Moved, not decided: failback brings it back when Rust may run again.
                    routing.override_reason = Some(reason);
                }
                moved.map(|()| Moved::Losslessly)
            }
            _ => Ok(Moved::No),
        }
    }

    /// Brings the session to the path its toggles and breaker decide now (failback after
    /// the breaker closed or the kill switch was lifted, or a percentage raised with
    /// `follow_percent_decrease`... only moves towards Rust are made here). Lossless.
    fn move_to_decided(&mut self, cell: &SessionCell, reason: &'static str) -> Result<Moved> {
        let Engine::Stream(stream) = &mut self.engine else { return Ok(Moved::No) };
        if cell.kind.breaker_refuses_new_sessions() {
            return Ok(Moved::No);
        }
        let decided = cell.store.decide(cell.board, &cell.identity(), std::time::SystemTime::now()).path;
        let current = stream.path();
        if decided == current || decided == Path::Cpp {
            return Ok(Moved::No);
        }
        if decided == Path::Shadow && !shadow_sampled(cell.id, cell.kind.knobs().shadow_sample) {
            return Ok(Moved::No);
        }
        let result = match decided {
            Path::Rust => stream.move_to(Side::Rust, true, reason, false),
            Path::Standby => stream.move_to(Side::Rust, true, reason, true).and_then(|()| stream.add_companion()),
            Path::Shadow => stream.move_to(Side::Cpp, true, reason, true).and_then(|()| stream.add_companion()),
            Path::Cpp => Ok(()),
        };
        self.after_stream_call(cell);
        if let (Ok(()), Some(routing)) = (&result, &mut self.routing) {
            routing.override_reason = Some(reason);
        }
        result.map(|()| Moved::Losslessly)
    }

    /// Runs a Rust-engine call; on a Rust failure moves to C++ and runs `cpp` there.
    fn on_rust<R: Send + 'static>(
        &mut self,
        cell: &SessionCell,
        operation: &'static str,
        deadline: Duration,
        rust: impl FnOnce(&mut Box<dyn Board>, faults::Fault) -> Result<R> + Send + 'static,
        cpp: impl FnOnce(&mut Box<dyn Board>) -> Result<R>,
    ) -> Result<R> {
        self.try_restart(cell)?;
        if let Engine::Rust(side) = &mut self.engine {
            match side.call(operation, deadline, true, rust) {
                RustAnswer::Answered(answer) => return answer,
                // The device is gone (a read saw it): its I/O errors are not the Rust
                // implementation failing, and C++ could not open it either.
                RustAnswer::Failed(RustFailure::Failed(e)) if cell.stream_failure().is_some() => return Err(e),
                RustAnswer::Failed(failure) => {
                    self.fail_over(cell, &failure)?;
                    if !cell.board.has_cpp_implementation() {
                        // Rebuilt: this call's answer was lost with the old board.
                        return Err(BoardError::new(
                            ExitCode::BoardNotReadyError,
                            format!("{operation}: the Rust board failed ({failure}) and was rebuilt; call again"),
                        ));
                    }
                }
            }
        }
        match &mut self.engine {
            Engine::Cpp(board) => cpp(board),
            _ => Err(BoardError::not_created("the session is not prepared")),
        }
    }

    fn data_deadline(cell: &SessionCell) -> Duration {
        cell.kind.knobs().call_deadline
    }

    /// Takes note of the sides a stream switched since the last call: failures are
    /// failovers (counted and logged per session), planned moves are moves (counted here,
    /// logged once per batch by whoever asked for them).
    fn after_stream_call(&mut self, cell: &SessionCell) {
        let Engine::Stream(stream) = &mut self.engine else { return };
        let (switches, gap): (Vec<Switch>, u64) = stream.take_switches();
        self.path = stream.path();
        if gap > 0 {
            cell.kind.counters.failover_gap_samples.fetch_add(gap, Ordering::Relaxed);
        }
        for switch in switches {
            if switch.planned {
                self.moves += 1;
                cell.kind.counters.moves.fetch_add(1, Ordering::Relaxed);
                if let (Side::Cpp, Some(routing)) = (switch.to, &mut self.routing) {
                    // The stream moved itself (the breaker refused its next Rust job): a
                    // move failback undoes. A move the runtime made names its own reason.
                    routing.override_reason = Some("BREAKER_OPEN");
                }
                tracing::debug!(board = cell.board.kind(), session = cell.id, to = switch.to.as_str(), reason = %switch.reason, "session moved");
            } else {
                self.note_failover(cell, &switch.reason);
                if let Some(routing) = &mut self.routing {
                    routing.override_reason = Some("FAILOVER");
                }
            }
        }
    }

    /// The pump's turn: produces what is due and hands the Rust side its work.
    fn tick(&mut self, cell: &SessionCell, now: f64) {
        if let Engine::Stream(stream) = &mut self.engine {
            stream.pump(now);
            self.after_stream_call(cell);
        }
    }

    fn start(&mut self, cell: &SessionCell, buffer_size: usize) -> Result<()> {
        let result = match &mut self.engine {
            Engine::Cpp(b) => b.start_stream(buffer_size),
            Engine::Stream(d) => d.start(buffer_size, now_unix()),
            Engine::Rust(_) | Engine::Restarting => self.on_rust(
                cell,
                "start_stream",
                lifecycle_deadline(&cell.params),
                move |b, _| b.start_stream(buffer_size),
                |b| b.start_stream(buffer_size),
            ),
            Engine::Lost(e) => Err(e.clone()),
            Engine::Unprepared | Engine::Released => Err(not_prepared()),
        };
        if result.is_ok() {
            self.buffer_size = Some(buffer_size);
        }
        result
    }

    fn stop(&mut self, cell: &SessionCell) -> Result<()> {
        let result = match &mut self.engine {
            Engine::Cpp(b) => b.stop_stream(),
            Engine::Stream(d) => {
                let r = d.stop(now_unix());
                self.after_stream_call(cell);
                r
            }
            Engine::Rust(_) | Engine::Restarting => self.on_rust(
                cell,
                "stop_stream",
                lifecycle_deadline(&cell.params),
                |b, _| b.stop_stream(),
                |b| b.stop_stream(),
            ),
            Engine::Lost(e) => Err(e.clone()),
            Engine::Unprepared | Engine::Released => Err(not_prepared()),
        };
        if result.is_ok() {
            self.buffer_size = None;
        }
        result
    }

    fn release(&mut self, cell: &SessionCell) -> Result<()> {
        let engine = std::mem::replace(&mut self.engine, Engine::Released);
        self.buffer_size = None;
        self.restart = None;
        match engine {
            Engine::Cpp(mut b) => b.release_session(),
            Engine::Rust(side) => {
                side.retire(lifecycle_deadline(&cell.params), |b| {
                    let _ = b.release_session();
                });
                Ok(())
            }
            Engine::Stream(stream) => stream.release(),
            Engine::Restarting | Engine::Lost(_) => Ok(()),
            Engine::Unprepared | Engine::Released => {
                self.engine = Engine::Unprepared;
                Err(not_prepared())
            }
        }
    }

    fn read(&mut self, cell: &SessionCell, take: bool, max: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        let result = match &mut self.engine {
            Engine::Cpp(b) => {
                let r = if take { b.get_board_data(max, preset, out) } else { b.get_current_board_data(max, preset, out) };
                if streams_from_a_device(cell.board) {
                    cell.note_stream_failure(b.stream_failure());
                }
                r
            }
            Engine::Stream(d) => {
                let r = if take { d.take(max, preset, out) } else { d.peek(max, preset, out) };
                if streams_from_a_device(cell.board) {
                    cell.note_stream_failure(d.stream_failure());
                }
                self.after_stream_call(cell);
                r
            }
            Engine::Rust(_) | Engine::Restarting => {
                let mut buffer = std::mem::take(&mut self.spare);
                let rows = board_api::descriptor(cell.board, preset).map(|d| d.num_rows).unwrap_or(1);
                let board = cell.board.kind();
                let cell_board = cell.board;
                let got = self.on_rust(
                    cell,
                    if take { "get_board_data" } else { "get_current_board_data" },
                    Self::data_deadline(cell),
                    move |b, fault| {
                        if take {
                            b.get_board_data(max, preset, &mut buffer)?;
                        } else {
                            b.get_current_board_data(max, preset, &mut buffer)?;
                        }
                        if fault == faults::Fault::Corrupt && buffer.rows() == rows && rows > 1 {
                            let samples = buffer.samples();
                            let mut data = buffer.as_slice().to_vec();
                            faults::corrupt_samples(&mut data, samples, 1, board);
                            buffer = SampleMatrix::from_row_major(rows, data);
                        }
                        let failure = if streams_from_a_device(cell_board) { b.stream_failure() } else { None };
                        Ok((buffer, failure))
                    },
                    |b| {
                        let mut m = SampleMatrix::default();
                        if take {
                            b.get_board_data(max, preset, &mut m)?;
                        } else {
                            b.get_current_board_data(max, preset, &mut m)?;
                        }
                        Ok((m, b.stream_failure()))
                    },
                );
                got.map(|(mut m, failure)| {
                    if streams_from_a_device(cell.board) {
                        cell.note_stream_failure(failure);
                    }
                    std::mem::swap(out, &mut m);
                    self.spare = m;
                })
            }
            Engine::Lost(e) => Err(e.clone()),
            Engine::Unprepared | Engine::Released => Err(not_prepared()),
        };
        if let (true, Preset::Default, Some(row)) = (result.is_ok() && !out.is_empty(), preset, self.timestamp_row) {
            if row < out.rows() {
                self.last_served_timestamp = out.row(row).last().copied();
            }
        }
        result
    }

    fn count(&mut self, cell: &SessionCell, preset: Preset) -> Result<usize> {
        match &mut self.engine {
            Engine::Cpp(b) => b.board_data_count(preset),
            Engine::Stream(d) => {
                let r = d.count(preset);
                self.after_stream_call(cell);
                r
            }
            Engine::Rust(_) | Engine::Restarting => self.on_rust(
                cell,
                "board_data_count",
                Self::data_deadline(cell),
                move |b, _| b.board_data_count(preset),
                |b| b.board_data_count(preset),
            ),
            Engine::Lost(e) => Err(e.clone()),
            Engine::Unprepared | Engine::Released => Err(not_prepared()),
        }
    }

    fn config(&mut self, cell: &SessionCell, config: &str) -> Result<String> {
        match &mut self.engine {
            Engine::Cpp(b) => b.config_board(config),
            Engine::Stream(d) => {
                let r = d.configure(config);
                self.after_stream_call(cell);
                r
            }
            Engine::Rust(_) | Engine::Restarting => {
                let text = config.to_owned();
                let again = config.to_owned();
                self.on_rust(
                    cell,
                    "config_board",
                    lifecycle_deadline(&cell.params),
                    move |b, _| b.config_board(&text),
                    move |b| b.config_board(&again),
                )
            }
            Engine::Lost(e) => Err(e.clone()),
            Engine::Unprepared | Engine::Released => Err(not_prepared()),
        }
    }

    fn marker(&mut self, cell: &SessionCell, value: f64, preset: Preset) -> Result<()> {
        match &mut self.engine {
            Engine::Cpp(b) => b.insert_marker(value, preset),
            Engine::Stream(d) => d.insert_marker(value, preset),
            Engine::Rust(_) | Engine::Restarting => self.on_rust(
                cell,
                "insert_marker",
                Self::data_deadline(cell),
                move |b, _| b.insert_marker(value, preset),
                move |b| b.insert_marker(value, preset),
            ),
            Engine::Lost(e) => Err(e.clone()),
            Engine::Unprepared | Engine::Released => Err(not_prepared()),
        }
    }
}

/// Whether session `id` runs its Rust side in shadow mode, for a sampled share `share`
/// (0..=1). Spread over session ids with SplitMix64 so consecutive sessions do not all
/// fall on the same side.
fn shadow_sampled(id: u64, share: f64) -> bool {
    if share >= 1.0 {
        return true;
    }
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 / (1u64 << 53) as f64) < share
}

/// Boards whose samples come from a device that can go away mid-stream (a serial port),
/// so reads must watch `stream_failure`. Generated and file-backed boards never stop on
/// their own (and BLE boards report their links separately), so their reads skip it.
fn streams_from_a_device(board: BoardId) -> bool {
    matches!(board, BoardId::Cyton | BoardId::CytonDaisy)
}

fn restarting_error(cell: &SessionCell, pending: &PendingRestart, now: std::time::Instant) -> BoardError {
    BoardError::new(
        ExitCode::BoardNotReadyError,
        format!(
            "board {} (Rust only) is being rebuilt after {}; next attempt in {} ms",
            cell.board,
            pending.cause,
            pending.not_before.saturating_duration_since(now).as_millis()
        ),
    )
}

fn not_prepared() -> BoardError {
    BoardError::not_created("prepare_session has not been called for this session")
}

fn prepare_cpp(cell: &SessionCell) -> Result<Box<dyn Board>> {
    let legacy = cell.kind.knobs().legacy.clone();
    let mut board = factory::cpp_board(cell.board, &cell.params, &legacy)?;
    board.prepare_session()?;
    Ok(board)
}

/// A Rust-only board whose Rust side failed: the C++ attempt's "unsupported" is not what
/// the caller needs to hear.
fn rust_only_error(cell: &SessionCell, cpp_error: BoardError, failure: &RustFailure) -> BoardError {
    if cell.board.has_cpp_implementation() {
        cpp_error
    } else if let RustFailure::Failed(e) = failure {
        e.clone()
    } else {
        BoardError::general(format!("board {}: {failure}", cell.board))
    }
}

impl Board for Session {
    fn board_id(&self) -> BoardId {
        self.cell.board
    }
    /// A playback session has its master board's layout (BrainFlow's bindings size their
    /// buffers by it), whichever path serves it.
    fn descriptor(&self, preset: Preset) -> Result<&'static board_api::BoardDescriptor> {
        if !self.cell.board.takes_master_layout() {
            return board_api::descriptor(self.cell.board, preset);
        }
        if preset != Preset::Default {
            return Err(BoardError::invalid_arguments(format!("board {} has no preset {preset:?}", self.cell.board)));
        }
        let master = BoardId::from_id(self.cell.params.master_board).map_err(|_| {
            BoardError::invalid_arguments(format!(
                "master_board {} is not a board whose layout a playback file can have",
                self.cell.params.master_board
            ))
        })?;
        board_api::descriptor(master, Preset::Default)
    }
    fn prepare_session(&mut self) -> Result<()> {
        let _call = self.cell.enter_call("prepare_session");
        self.cell.lock().prepare(&self.cell)
    }
    fn is_prepared(&self) -> bool {
        !matches!(self.cell.lock().engine, Engine::Unprepared | Engine::Released)
    }
    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        let _call = self.cell.enter_call("start_stream");
        self.cell.lock().start(&self.cell, buffer_size)
    }
    fn stop_stream(&mut self) -> Result<()> {
        let _call = self.cell.enter_call("stop_stream");
        self.cell.lock().stop(&self.cell)
    }
    fn release_session(&mut self) -> Result<()> {
        let _call = self.cell.enter_call("release_session");
        self.cell.lock().release(&self.cell)
    }
    fn board_data_count(&mut self, preset: Preset) -> Result<usize> {
        let _call = self.cell.enter_call("board_data_count");
        self.cell.lock().count(&self.cell, preset)
    }
    fn get_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        let _call = self.cell.enter_call("get_board_data");
        self.cell.lock().read(&self.cell, true, max_samples, preset, out)
    }
    fn get_current_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        let _call = self.cell.enter_call("get_current_board_data");
        self.cell.lock().read(&self.cell, false, max_samples, preset, out)
    }
    fn config_board(&mut self, config: &str) -> Result<String> {
        let _call = self.cell.enter_call("config_board");
        self.cell.lock().config(&self.cell, config)
    }
    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        let _call = self.cell.enter_call("insert_marker");
        self.cell.lock().marker(&self.cell, value, preset)
    }
    fn dropped_samples(&self) -> u64 {
        match &self.cell.lock().engine {
            Engine::Cpp(b) => b.dropped_samples(),
            Engine::Stream(d) => d.dropped_samples(),
            _ => 0,
        }
    }
}
