//! The runtime: the config store and its watcher, one [`BoardKind`] (breaker, knobs,
//! counters) per board, the sessions, and a control thread that turns config changes and
//! breaker transitions into session moves.

use super::kind::{BoardKind, LiveKnobs};
use super::legacy::BrainFlowLoader;
use super::session::Session;
use super::faults::FaultPlan;
use board_api::{BoardId, InputParams};
use breaker::{Breaker, State, SystemClock};
use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
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

struct Shared {
    store: Arc<ToggleStore>,
    brainflow: BrainFlowLoader,
    kinds: BTreeMap<BoardId, Arc<BoardKind>>,
    next_session: AtomicU64,
    stopping: AtomicBool,
}

pub struct Runtime {
    shared: Arc<Shared>,
    control: Option<JoinHandle<()>>,
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
        for board in BoardId::ALL {
            let config = snapshot.config.board(board);
            let breaker = Arc::new(Breaker::new(config.breaker.clone(), Arc::new(SystemClock)));
            let knobs = knobs_of(config, brainflow.backend_for(&snapshot.config, config));
            kinds.insert(board, Arc::new(BoardKind::new(board, breaker, knobs)));
        }
        let shared = Arc::new(Shared {
            store: store.clone(),
            brainflow,
            kinds,
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
        Ok(Runtime { shared, control: Some(control), _watch: None })
    }

    /// A new session for `board` (not yet prepared: its path is decided at
    /// `prepare_session`).
    pub fn open(&self, board: BoardId, params: InputParams) -> Session {
        let id = self.shared.next_session.fetch_add(1, Ordering::Relaxed);
        let kind = self.shared.kinds[&board].clone();
        Session::new(id, board, params, kind, self.shared.store.clone())
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

    /// Every live session on the Rust path, per board (for status and tests).
    pub fn sessions_on(&self, board: BoardId, path: Path) -> usize {
        self.kind(board).live_sessions().iter().filter(|s| s.path() == path).count()
    }

    /// Releases every live session (BrainFlow's `release_all_sessions`).
    pub fn release_all(&self) {
        for kind in self.shared.kinds.values() {
            for session in kind.live_sessions() {
                session.release_now();
            }
        }
    }

    /// Stops the control thread and releases every session.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
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
        legacy,
    }
}

const CONTROL_TICK: Duration = Duration::from_millis(10);

fn control_loop(shared: Arc<Shared>, reloads: Receiver<toggles::ReloadEvent>, transitions: Vec<(BoardId, Receiver<breaker::Transition>)>) {
    while !shared.stopping.load(Ordering::Acquire) {
        match reloads.recv_timeout(CONTROL_TICK) {
            Ok(event) if event.kind == EventKind::Applied => apply_snapshot(&shared, &shared.store.load_full()),
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => std::thread::sleep(CONTROL_TICK),
        }
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
                        sessions = kind.live_sessions().len(),
                        "breaker open on a Rust-only board: its sessions stay on Rust; lost links reconnect only when the breaker admits a probe"
                    );
                } else if matches!(t.to, State::Open | State::ForcedOpen) && t.enforced && kind.knobs().move_on_open {
                    move_sessions(kind, "BREAKER_OPEN", |_| true);
                }
            }
        }
    }
}

/// Brings knobs, breakers and live sessions in line with a newly applied config.
fn apply_snapshot(shared: &Shared, snapshot: &Snapshot) {
    let config = &snapshot.config;
    for (board, kind) in &shared.kinds {
        let board_config = config.board(*board);
        kind.set_knobs(knobs_of(board_config, shared.brainflow.backend_for(config, board_config)));
        if kind.breaker.config() != board_config.breaker {
            if let Err(e) = kind.breaker.reconfigure(board_config.breaker.clone()) {
                tracing::error!(board = board.kind(), error = %e, "breaker settings not applied");
            }
        }
    }
    // Idempotent: the watcher's thread and a direct reload may both apply one snapshot.
    if config.kill_switch {
        for kind in shared.kinds.values() {
            move_sessions(kind, "KILL_SWITCH", |_| true);
        }
    }
    for (board, kind) in &shared.kinds {
        if !config.board(*board).follow_percent_decrease {
            continue;
        }
        move_sessions(kind, "PERCENT_LOWERED", |session| {
            snapshot.decide(*board, &session.identity(), std::time::SystemTime::now()).path == Path::Cpp
        });
    }
}

fn move_sessions(kind: &BoardKind, reason: &'static str, should_move: impl Fn(&super::session::SessionCell) -> bool) {
    if !kind.board.has_cpp_implementation() {
        return;
    }
    let mut moved = 0usize;
    for session in kind.live_sessions() {
        if session.path() != Path::Cpp && should_move(&session) {
            match session.move_to_cpp(reason) {
                Ok(()) => moved += 1,
                Err(e) => tracing::error!(board = kind.board.kind(), session = session.id, error = %e, "could not move session to C++"),
            }
        }
    }
    if moved > 0 {
        tracing::warn!(board = kind.board.kind(), reason, moved, "sessions moved to C++");
    }
}
