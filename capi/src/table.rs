//! The runtime behind the C API and the sessions it has open, keyed as BrainFlow keys them.

use crate::streamer::Streamer;
use board_api::{Board, BoardError, BoardId, ExitCode, InputParams, LegacyBoardId, LegacyFacts, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use switchyard::{Runtime, Session};

/// The config used when `SWITCHYARD_CONFIG` is not set: every board on its default path
/// (C++ where a C++ implementation exists, Rust for the Rust-only BLE boards).
pub const DEFAULT_CONFIG_YAML: &str = "kill_switch: false\n";

/// The environment variable naming the YAML config file the runtime loads (and watches).
pub const CONFIG_ENV: &str = "SWITCHYARD_CONFIG";

static RUNTIME: OnceLock<std::result::Result<Arc<Runtime>, String>> = OnceLock::new();
static SESSIONS: OnceLock<Mutex<HashMap<SessionKey, Arc<Mutex<Entry>>>>> = OnceLock::new();

pub(crate) type SessionKey = (i32, InputParams);

/// One prepared session and the streamers attached to it.
pub(crate) struct Entry {
    pub session: Session,
    pub streamers: Vec<Streamer>,
    /// Set once `stop_stream` has written the remaining buffer to the streamers, so that
    /// later reads do not write those samples twice.
    pub flushed_at_stop: bool,
    /// Dropped samples already counted in the metrics.
    pub dropped_reported: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock was already reported as GENERAL_ERROR; the table itself
    // stays consistent (every mutation is a single insert or remove).
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The runtime, created on first use from `SWITCHYARD_CONFIG` or the built-in default,
/// with the monitoring endpoint when `SWITCHYARD_LISTEN` asks for one (shared, because
/// the endpoint's status and controls hold it too).
pub(crate) fn runtime() -> Result<&'static Runtime> {
    let created = RUNTIME.get_or_init(|| {
        let result = match std::env::var_os(CONFIG_ENV) {
            Some(path) if !path.is_empty() => Runtime::from_path(std::path::PathBuf::from(path)),
            _ => Runtime::from_yaml(DEFAULT_CONFIG_YAML, "built-in default"),
        };
        let runtime = result.map(Arc::new).map_err(|e| format!("the switchyard runtime could not start: {e} (check {CONFIG_ENV})"))?;
        crate::monitor::start_if_asked(&runtime);
        Ok(runtime)
    });
    created.as_deref().map_err(|msg| BoardError::general(msg.clone()))
}

/// The facts of a board only BrainFlow implements, as BrainFlow's library answers them.
/// The runtime loads that library when it starts (so a descriptor query may start it);
/// without one, the board is UNSUPPORTED_BOARD_ERROR saying what to configure.
pub(crate) fn legacy_facts(board: LegacyBoardId) -> Result<&'static LegacyFacts> {
    if let Some(facts) = board_api::legacy_facts(board) {
        return Ok(facts);
    }
    let runtime = runtime()?;
    if let Some(facts) = board_api::legacy_facts(board) {
        return Ok(facts);
    }
    let id = BoardId::Legacy(board);
    let why = match &runtime.kind(id).knobs().legacy {
        switchyard::dispatch::legacy::LegacyBackend::Unavailable(why) => why.to_string(),
        _ => "it is not loaded".to_owned(),
    };
    Err(BoardError::new(
        ExitCode::UnsupportedBoardError,
        format!("board {id} is described and served only by BrainFlow's library, which is unavailable: {why}"),
    ))
}

fn sessions() -> &'static Mutex<HashMap<SessionKey, Arc<Mutex<Entry>>>> {
    SESSIONS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Prepares a new session for the key; a key that is already prepared is
/// ANOTHER_BOARD_IS_CREATED_ERROR, as in BrainFlow.
pub(crate) fn prepare(board_id: i32, params: InputParams) -> Result<()> {
    let board = BoardId::from_id(board_id)?;
    let key = (board_id, params.clone());
    if lock(sessions()).contains_key(&key) {
        return Err(BoardError::new(
            ExitCode::AnotherBoardIsCreatedError,
            format!("board {board} with these params is already prepared; release it first"),
        ));
    }
    let mut session = runtime()?.open(board, params);
    session.prepare_session()?;
    if let Some(decision) = session.decision() {
        crate::monitor::record_decision(board, decision.path, decision.reason.as_str());
    }
    let entry = Arc::new(Mutex::new(Entry { session, streamers: Vec::new(), flushed_at_stop: false, dropped_reported: 0 }));
    let mut table = lock(sessions());
    if table.contains_key(&key) {
        // Another thread prepared the same key meanwhile: ours is dropped (released).
        return Err(BoardError::new(
            ExitCode::AnotherBoardIsCreatedError,
            format!("board {board} with these params is already prepared; release it first"),
        ));
    }
    table.insert(key, entry);
    Ok(())
}

pub(crate) fn is_prepared(board_id: i32, params: InputParams) -> bool {
    lock(sessions()).contains_key(&(board_id, params))
}

fn not_created(board_id: i32) -> BoardError {
    BoardError::not_created(format!(
        "no prepared session for board id {board_id} with these params; call prepare_session first"
    ))
}

/// Runs `f` on the prepared session of the key, or BOARD_NOT_CREATED_ERROR.
pub(crate) fn with_session<T>(board_id: i32, params: InputParams, f: impl FnOnce(&mut Entry) -> Result<T>) -> Result<T> {
    let entry = lock(sessions()).get(&(board_id, params)).cloned().ok_or_else(|| not_created(board_id))?;
    let mut guard = lock(&entry);
    f(&mut guard)
}

/// Releases and forgets the session of the key. It leaves the table even if the board
/// reports an error while releasing, as BrainFlow's does.
pub(crate) fn release(board_id: i32, params: InputParams) -> Result<()> {
    let entry = lock(sessions()).remove(&(board_id, params)).ok_or_else(|| not_created(board_id))?;
    let mut guard = lock(&entry);
    guard.streamers.clear();
    guard.session.release_session()
}

/// Releases every session; errors while releasing are logged, not returned.
pub(crate) fn release_all() {
    let entries: Vec<(SessionKey, Arc<Mutex<Entry>>)> = lock(sessions()).drain().collect();
    for ((board_id, _), entry) in entries {
        let mut guard = lock(&entry);
        guard.streamers.clear();
        if let Err(e) = guard.session.release_session() {
            tracing::warn!(board_id, error = %e, "release_all_sessions: a session reported an error while releasing");
        }
    }
}
