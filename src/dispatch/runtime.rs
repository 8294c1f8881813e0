//! The runtime: the config store and its watcher, one [`BoardKind`] (breaker, knobs,
//! counters) per board, the sessions, and a control thread that turns config changes and
//! breaker transitions into session moves.
//!
//! The runtime is the one writer of each breaker's operator mode: from the file's
//! `breaker.mode`, unless an operator override (forced open, metrics only, the kill
//! switch set over HTTP) says otherwise. Overrides and reloads are applied under one lock,
//! so a reload never lifts an override, not even for a moment. Overrides are not
//! persisted: a restart serves what the file says.

use super::kind::{BoardKind, LiveKnobs};
use super::legacy::BrainFlowLoader;
use super::session::Session;
use super::faults::FaultPlan;
use board_api::{BoardId, InputParams};
use breaker::{Breaker, OperatorMode, State, SystemClock};
use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use toggles::{BoardConfig, Config, EventKind, OnBreakerOpen, Path, Snapshot, ToggleStore};

/// Why a runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Config(#[from] toggles::ConfigError),
    #[error("cannot watch the config: {0}")]
    Watch(#[from] toggles::WatchError),
    #[error("cannot start the runtime's control thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// What operators set at run time over the file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Overrides {
    pub breaker_modes: BTreeMap<BoardId, OperatorMode>,
    /// Every board with a C++ implementation to C++ (their breakers forced open).
    pub kill_switch: bool,
}

impl Overrides {
    /// The mode `board`'s breaker runs in, given the file's.
    pub fn mode_for(&self, board: BoardId, file: OperatorMode) -> OperatorMode {
        if self.kill_switch && board.has_cpp_implementation() {
            OperatorMode::ForcedOpen
        } else {
            self.breaker_modes.get(&board).copied().unwrap_or(file)
        }
    }
}

struct Shared {
    store: Arc<ToggleStore>,
    /// Wakes the pump after a config change, so the change is acted on at once.
    pump_waker: super::pump::PumpWaker,
    registry: Arc<super::registry::Registry>,
    brainflow: BrainFlowLoader,
    kinds: BTreeMap<BoardId, Arc<BoardKind>>,
    /// Held while breaker modes are written, by an override or a reload alike.
    overrides: Mutex<Overrides>,
    next_session: AtomicU64,
    stopping: AtomicBool,
}

pub struct Runtime {
    shared: Arc<Shared>,
    control: Option<JoinHandle<()>>,
    pump: Option<super::pump::Pump>,
    _watch: Option<toggles::WatchHandle>,
}

impl Runtime {
    /// Loads the config at `path` (an invalid one is an error) and watches it.
    pub fn from_path(path: impl Into<PathBuf>) -> Result<Runtime, RuntimeError> {
        let store = Arc::new(ToggleStore::open(path)?);
        let watch = toggles::watch(store.clone(), toggles::WatchOptions::default())?;
        let mut runtime = Runtime::with_store(store)?;
        runtime._watch = Some(watch);
        Ok(runtime)
    }

    /// A runtime on a config file that is not watched: changes apply when
    /// [`Runtime::reload`] is called (tests, drills).
    pub fn from_path_unwatched(path: impl Into<PathBuf>) -> Result<Runtime, RuntimeError> {
        Runtime::with_store(Arc::new(ToggleStore::open(path)?))
    }

    /// A runtime on YAML text (tests); `name` names it in errors and on the status page.
    pub fn from_yaml(text: &str, name: &str) -> Result<Runtime, RuntimeError> {
        let config = Config::parse(text, FsPath::new(name))?;
        Runtime::with_store(Arc::new(ToggleStore::with_config(PathBuf::from(name), config, toggles::content_hash(text.as_bytes()))))
    }

    fn with_store(store: Arc<ToggleStore>) -> Result<Runtime, RuntimeError> {
        let snapshot = store.load_full();
        let brainflow = BrainFlowLoader::default();
        let mut kinds = BTreeMap::new();
        for board in BoardId::EVERY {
            let config = snapshot.config.board(board);
            let breaker = Arc::new(Breaker::new(config.breaker.clone(), Arc::new(SystemClock)));
            let knobs = knobs_of(config, brainflow.backend_for(&snapshot.config, config));
            kinds.insert(board, Arc::new(BoardKind::new(board, breaker, knobs)));
        }
        let shared = Arc::new(Shared {
            store: store.clone(),
            pump_waker: super::pump::PumpWaker::default(),
            registry: Arc::new(super::registry::Registry::new(kinds.keys().copied())),
            brainflow,
            kinds,
            overrides: Mutex::new(Overrides::default()),
            next_session: AtomicU64::new(1),
            stopping: AtomicBool::new(false),
        });
        let reloads = store.subscribe();
        let transitions: Vec<(BoardId, Receiver<breaker::Transition>)> =
            shared.kinds.iter().map(|(b, k)| (*b, k.breaker.subscribe())).collect();
        let control_shared = shared.clone();
        let control = std::thread::Builder::new()
            .name("switchyard-control".into())
            .spawn(move || control_loop(control_shared, reloads, transitions))?;
        let pump = super::pump::Pump::start(shared.registry.clone(), shared.pump_waker.clone())?;
        Ok(Runtime { shared, control: Some(control), pump: Some(pump), _watch: None })
    }

    /// A new session for `board` (not yet prepared: its path is decided at
    /// `prepare_session`).
    pub fn open(&self, board: BoardId, params: InputParams) -> Session {
        let id = self.shared.next_session.fetch_add(1, Ordering::Relaxed);
        let kind = self.shared.kinds[&board].clone();
        let session = Session::new(id, board, params, kind.clone(), self.shared.store.clone());
        self.shared.registry.register(&kind, session.cell());
        session
    }

    /// The live sessions of `board` (a snapshot).
    pub fn live_sessions(&self, board: BoardId) -> Vec<Arc<super::session::SessionCell>> {
        self.shared.registry.live_sessions(board)
    }

    /// Where the links of `board`'s live sessions stand (`None` unless it is a BLE board).
    pub fn link_summary(&self, board: BoardId) -> Option<monitoring::LinkSummary> {
        self.shared.registry.link_summary(self.kind(board))
    }

    /// What the sessions of `board` share: breaker, counters, knobs.
    pub fn kind(&self, board: BoardId) -> &Arc<BoardKind> {
        &self.shared.kinds[&board]
    }

    pub fn store(&self) -> &Arc<ToggleStore> {
        &self.shared.store
    }

    /// Re-reads the config file now and applies it, as the watcher would.
    pub fn reload(&self) -> toggles::ReloadOutcome {
        let outcome = self.shared.store.reload();
        apply_snapshot(&self.shared, &self.shared.store.load_full());
        outcome
    }

    /// The operator overrides in force.
    pub fn overrides(&self) -> Overrides {
        lock_overrides(&self.shared).clone()
    }

    /// Sets (`Some`) or lifts (`None`) an operator override of `board`'s breaker mode, and
    /// applies it at once.
    pub fn set_breaker_override(&self, board: BoardId, mode: Option<OperatorMode>) {
        self.change_overrides(|o| match mode {
            Some(mode) => {
                o.breaker_modes.insert(board, mode);
            }
            None => {
                o.breaker_modes.remove(&board);
            }
        });
    }

    /// Turns the operator's kill switch on or off (the file's own `kill_switch` applies
    /// regardless), and applies it at once.
    pub fn set_kill_switch_override(&self, on: bool) {
        self.change_overrides(|o| o.kill_switch = on);
    }

    fn change_overrides(&self, change: impl FnOnce(&mut Overrides)) {
        let mut overrides = lock_overrides(&self.shared);
        change(&mut overrides);
        apply_breaker_modes(&self.shared, &overrides, &self.shared.store.load().config);
    }

    /// Moves every live session of `board` whose toggles now decide C++ to C++, at once
    /// (a migration plan's rollback), whatever `follow_percent_decrease` says.
    pub fn move_sessions_the_toggles_put_on_cpp(&self, board: BoardId, reason: &'static str) {
        let snapshot = self.shared.store.load_full();
        move_sessions(&self.shared.kinds[&board], &self.shared.registry, reason, |session| {
            snapshot.decide(board, &session.identity(), std::time::SystemTime::now()).path == Path::Cpp
        });
    }

    /// Every live session on the Rust path, per board (for status and tests).
    pub fn sessions_on(&self, board: BoardId, path: Path) -> usize {
        self.live_sessions(board).iter().filter(|s| s.path() == path).count()
    }

    /// Releases every live session (BrainFlow's `release_all_sessions`).
    pub fn release_all(&self) {
        for session in self.shared.registry.all_live() {
            session.release_now();
        }
    }

    /// Stops the control thread and releases every session.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        if let Some(mut pump) = self.pump.take() {
            pump.stop();
        }
        self.release_all();
        for kind in self.shared.kinds.values() {
            kind.hang_release.store(true, Ordering::Release);
        }
        if let Some(control) = self.control.take() {
            let _ = control.join();
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The knobs a board's sessions read live, from its config.
fn knobs_of(config: &BoardConfig, legacy: super::legacy::LegacyBackend) -> LiveKnobs {
    let f = &config.faults;
    LiveKnobs {
        faults: FaultPlan {
            error_rate: f.error_rate.as_fraction(),
            panic_rate: f.panic_rate.as_fraction(),
            hang_rate: f.hang.as_fraction(),
            corrupt_rate: f.corrupt_rate.as_fraction(),
            added_latency: f.added_latency.0,
        },
        call_deadline: config.breaker.slow_call_duration,
        float_tolerance: config.shadow.float_tolerance,
        shadow_sample: config.shadow.sample_percent.as_fraction(),
        move_on_open: config.on_breaker_open == OnBreakerOpen::MoveNow,
        follow_percent_decrease: config.follow_percent_decrease,
        failback_automatic: config.failback == toggles::Failback::Automatic,
        legacy,
    }
}

const CONTROL_TICK: Duration = Duration::from_millis(10);

fn control_loop(shared: Arc<Shared>, reloads: Receiver<toggles::ReloadEvent>, transitions: Vec<(BoardId, Receiver<breaker::Transition>)>) {
    let mut failbacks: BTreeMap<BoardId, Failback> = BTreeMap::new();
    let mut kill_switch = shared.store.load().config.kill_switch;
    while !shared.stopping.load(Ordering::Acquire) {
        match reloads.recv_timeout(CONTROL_TICK) {
            Ok(event) if event.kind == EventKind::Applied => {
                let snapshot = shared.store.load_full();
                apply_snapshot(&shared, &snapshot);
                if kill_switch && !snapshot.config.kill_switch {
                    for board in shared.kinds.keys() {
                        failbacks.insert(*board, Failback::new("KILL_SWITCH_OFF"));
                    }
                }
                kill_switch = snapshot.config.kill_switch;
            }
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(CONTROL_TICK),
        }
        let now = std::time::Instant::now();
        failbacks.retain(|board, run| {
            if now < run.next_step {
                return true;
            }
            run.next_step = now + FAILBACK_STEP;
            failback_step(&shared.kinds[board], &shared.registry, run)
        });
        for (board, rx) in &transitions {
            while let Ok(t) = rx.try_recv() {
                tracing::warn!(
                    board = board.kind(),
                    from = t.from.as_str(),
                    to = t.to.as_str(),
                    cause = %t.cause,
                    enforced = t.enforced,
                    "breaker transition"
                );
                let kind = &shared.kinds[board];
                if matches!(t.to, State::Open | State::ForcedOpen) && t.enforced && !board.has_cpp_implementation() {
                    tracing::warn!(
                        board = board.kind(),
                        sessions = shared.registry.live_sessions(*board).len(),
                        "breaker open on a Rust-only board: its sessions stay on Rust; lost links reconnect only when the breaker admits a probe"
                    );
                } else if matches!(t.to, State::Open | State::ForcedOpen) && t.enforced && kind.knobs().move_on_open {
                    failbacks.remove(board);
                    move_sessions(kind, &shared.registry, if t.to == State::ForcedOpen { "FORCED_OPEN" } else { "BREAKER_OPEN" }, |_| true);
                } else if t.to == State::Closed && board.has_cpp_implementation() && kind.knobs().failback_automatic {
                    let reason = if t.from == State::ForcedOpen { "RELEASED" } else { "BREAKER_CLOSED" };
                    failbacks.insert(*board, Failback::new(reason));
                }
            }
        }
    }
}

fn lock_overrides(shared: &Shared) -> std::sync::MutexGuard<'_, Overrides> {
    shared.overrides.lock().unwrap_or_else(|p| p.into_inner())
}

/// Puts every breaker in the settings of `config` and the mode the overrides and the file
/// say together. The caller holds the overrides lock: this is the only place that writes
/// breaker modes.
fn apply_breaker_modes(shared: &Shared, overrides: &Overrides, config: &Config) {
    for (board, kind) in &shared.kinds {
        let mut wanted = config.board(*board).breaker.clone();
        wanted.mode = overrides.mode_for(*board, wanted.mode);
        let mut current = kind.breaker.config();
        current.mode = wanted.mode;
        if current != wanted {
            // New settings, in the wanted mode from the first moment.
            if let Err(e) = kind.breaker.reconfigure(wanted) {
                tracing::error!(board = board.kind(), error = %e, "breaker settings not applied");
            }
        } else if kind.breaker.mode() != wanted.mode {
            kind.breaker.set_mode(wanted.mode);
        }
    }
}

/// Brings knobs, breakers and live sessions in line with a newly applied config.
fn apply_snapshot(shared: &Shared, snapshot: &Snapshot) {
    let config = &snapshot.config;
    for (board, kind) in &shared.kinds {
        let board_config = config.board(*board);
        kind.set_knobs(knobs_of(board_config, shared.brainflow.backend_for(config, board_config)));
    }
    shared.pump_waker.wake();
    {
        let overrides = lock_overrides(shared);
        apply_breaker_modes(shared, &overrides, config);
    }
    // Idempotent: the watcher's thread and a direct reload may both apply one snapshot.
    if config.kill_switch {
        for kind in shared.kinds.values() {
            move_sessions(kind, &shared.registry, "KILL_SWITCH", |_| true);
        }
    }
    for (board, kind) in &shared.kinds {
        if !config.board(*board).follow_percent_decrease {
            continue;
        }
        move_sessions(kind, &shared.registry, "PERCENT_LOWERED", |session| {
            snapshot.decide(*board, &session.identity(), std::time::SystemTime::now()).path == Path::Cpp
        });
    }
}

/// Moves the live sessions of `kind` that `should_move` picks to C++, and logs the batch
/// once (each session's move is a debug event in its own span).
fn move_sessions(kind: &BoardKind, registry: &super::registry::Registry, reason: &'static str, should_move: impl Fn(&super::session::SessionCell) -> bool) {
    if !kind.board.has_cpp_implementation() {
        return;
    }
    let started = std::time::Instant::now();
    let mut batch = MoveBatch::default();
    for session in registry.live_sessions(kind.board) {
        if session.path() != Path::Cpp && should_move(&session) {
            batch.note(session.move_to_cpp(reason), session.id);
        }
    }
    batch.log(kind, reason, "cpp", started);
}

/// What one batch of moves did, for its one log line.
#[derive(Default)]
struct MoveBatch {
    lossless: usize,
    with_gap: usize,
    failed: usize,
    first_error: Option<String>,
}

impl MoveBatch {
    fn note(&mut self, outcome: board_api::Result<super::session::Moved>, session: u64) {
        match outcome {
            Ok(super::session::Moved::Losslessly) => self.lossless += 1,
            Ok(super::session::Moved::WithGap) => self.with_gap += 1,
            Ok(super::session::Moved::No) => {}
            Err(e) => {
                self.failed += 1;
                self.first_error.get_or_insert_with(|| format!("session {session}: {e}"));
            }
        }
    }

    fn log(&self, kind: &BoardKind, reason: &'static str, to: &'static str, started: std::time::Instant) {
        if self.lossless + self.with_gap + self.failed == 0 {
            return;
        }
        tracing::warn!(
            board = kind.board.kind(),
            reason,
            to,
            moved = self.lossless,
            restarted_with_gap = self.with_gap,
            failed = self.failed,
            first_error = self.first_error.as_deref().unwrap_or(""),
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "sessions moved"
        );
    }
}

/// Share of a board's moved-off sessions (counted when the failback begins) that return
/// per failback step...
pub const FAILBACK_SHARE: f64 = 0.25;
/// ...and the time between steps: a breaker that opens again on the first returning
/// sessions stops the rest.
pub const FAILBACK_STEP: Duration = Duration::from_millis(500);

/// A board whose moved-off sessions are returning to their decided paths.
struct Failback {
    reason: &'static str,
    next_step: std::time::Instant,
    /// Sessions returned per step: a quarter of those waiting when the failback began, so
    /// that it ends after four steps whatever the fleet's size.
    step: Option<usize>,
}

impl Failback {
    fn new(reason: &'static str) -> Failback {
        Failback { reason, next_step: std::time::Instant::now(), step: None }
    }
}

/// Returns the next share of `kind`'s moved-off sessions to their decided paths. False
/// when none is left (the failback is over) or the breaker refuses Rust again.
fn failback_step(kind: &BoardKind, registry: &super::registry::Registry, run: &mut Failback) -> bool {
    let reason = run.reason;
    if kind.breaker_refuses_new_sessions() || !kind.knobs().failback_automatic {
        return false;
    }
    let waiting: Vec<_> = registry.live_sessions(kind.board).into_iter().filter(|s| s.was_moved_off_its_path()).collect();
    if waiting.is_empty() {
        return false;
    }
    let step = *run.step.get_or_insert(((waiting.len() as f64 * FAILBACK_SHARE).ceil() as usize).max(1));
    let started = std::time::Instant::now();
    let mut batch = MoveBatch::default();
    let mut tried = 0;
    for session in &waiting {
        if tried >= step {
            break;
        }
        let outcome = session.move_to_decided(reason);
        if !matches!(outcome, Ok(super::session::Moved::No)) {
            tried += 1;
        }
        batch.note(outcome, session.id);
    }
    batch.log(kind, reason, "decided", started);
    // Sessions whose toggles now say C++ stay moved-off without moving: done when a step
    // found nothing to move.
    tried > 0
}
