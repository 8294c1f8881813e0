//! The config in force: an immutable [`Snapshot`] behind `arc-swap`, replaced whole only
//! by a changed, valid file; the audit trail of every applied and rejected change.

use crate::config::{Config, ConfigError, MAX_CONFIG_BYTES};
use crate::decide::{Decision, SessionIdentity};
use crate::hash;
use crate::units::Timestamp;
use arc_swap::ArcSwap;
use board_api::BoardId;
use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::SystemTime;

/// How many reload events the store keeps for the status page.
pub const EVENT_HISTORY: usize = 64;

/// One applied config. Readers hold it as long as they like; a reload never changes it.
#[derive(Debug)]
pub struct Snapshot {
    /// Starts at 1 and grows by one with each changed, valid config applied.
    pub generation: u64,
    pub source: PathBuf,
    /// [`hash::content_hash`] of the file's bytes.
    pub content_hash: u64,
    pub config: Config,
    pub applied_at: SystemTime,
}

impl Snapshot {
    #[inline]
    pub fn decide(&self, board: BoardId, id: &SessionIdentity<'_>, now: SystemTime) -> Decision {
        self.config.decide_with_clock(board, id, || Timestamp::from_system_time(now), self.generation)
    }
}

/// What a reload did to what is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Applied,
    Rejected,
    /// After a rejection, the file holds the settings in force again (a bad edit undone,
    /// a deleted file recreated, permissions restored): nothing changes, but the last
    /// rejection no longer describes the file.
    Restored,
}

impl EventKind {
    /// The word metrics and the status document use.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Applied => "applied",
            EventKind::Rejected => "rejected",
            EventKind::Restored => "restored",
        }
    }
}

/// An audit record: one applied or rejected change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadEvent {
    pub kind: EventKind,
    /// The generation in force after this event (the new one when applied).
    pub generation: u64,
    pub source: PathBuf,
    /// The hash of the content read; `None` when the file could not be read.
    pub content_hash: Option<u64>,
    /// Per-board summary of what changed (applied only).
    pub changes: Vec<String>,
    /// What was wrong (rejected only).
    pub error: Option<ConfigError>,
    pub at: SystemTime,
}

impl ReloadEvent {
    /// One line for the status page's "last reload".
    pub fn summary(&self) -> String {
        match self.kind {
            EventKind::Applied => format!("applied generation {}", self.generation),
            EventKind::Rejected => {
                format!("rejected: {}", self.error.as_ref().map(|x| x.to_string()).unwrap_or_default())
            }
            EventKind::Restored => format!(
                "restored: the file holds generation {}'s settings again; the last rejection no longer applies",
                self.generation
            ),
        }
    }
}

/// What one reload attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    Applied { generation: u64 },
    /// The content equals the config in force: nothing to do. When it follows a
    /// rejection, a [`EventKind::Restored`] event is recorded.
    Unchanged,
    Rejected(ConfigError),
}

#[derive(Default)]
struct ReloadState {
    /// The last rejection logged, so that the periodic check does not log it every tick.
    last_rejection: Option<(Option<u64>, String)>,
    /// The stage each board's migration plan stands at, as its controller last set it:
    /// an overlay on the file's settings that every reload keeps.
    plan_stages: std::collections::BTreeMap<BoardId, usize>,
}

/// Puts each board with a plan in the stage its controller set (boards whose plan no
/// longer has that stage keep the file's first stage).
fn overlay_plan_stages(config: &mut Config, stages: &std::collections::BTreeMap<BoardId, usize>) {
    for (board, index) in stages {
        config.board_mut(*board).overlay_stage(*index);
    }
}

/// The config in force and its history. Cheap to read from any thread.
pub struct ToggleStore {
    current: ArcSwap<Snapshot>,
    path: PathBuf,
    reload: Mutex<ReloadState>,
    events: Mutex<VecDeque<ReloadEvent>>,
    subscribers: Mutex<Vec<mpsc::Sender<ReloadEvent>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these leaves plain data behind; keep serving it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads a config file: bounded in size, UTF-8, following symlinks (ConfigMap mounts).
pub fn read_config_file(path: &Path) -> Result<(String, u64), ConfigError> {
    let io = |what: &str, e: std::io::Error| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => " (the file or its directory does not exist)",
            std::io::ErrorKind::PermissionDenied => " (check the file's permissions)",
            _ if e.raw_os_error() == Some(40) => " (a symlink loop)",
            _ => "",
        };
        ConfigError::whole_file(path, format!("cannot {what}: {e}{hint}"))
    };
    let file = std::fs::File::open(path).map_err(|e| io("open", e))?;
    let meta = file.metadata().map_err(|e| io("stat", e))?;
    if !meta.is_file() {
        return Err(ConfigError::whole_file(path, "is not a regular file"));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(ConfigError::whole_file(
            path,
            format!("is {} bytes; a config may be at most {MAX_CONFIG_BYTES} bytes", meta.len()),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes).map_err(|e| io("read", e))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::whole_file(
            path,
            format!("grew past {MAX_CONFIG_BYTES} bytes while being read"),
        ));
    }
    let content_hash = hash::content_hash(&bytes);
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        // Columns count characters, like the parser's; the part before is valid UTF-8.
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() as u64 + 1;
        ConfigError {
            line: Some(line),
            column: Some(column),
            ..ConfigError::whole_file(
                path,
                format!(
                    "byte 0x{:02x} at offset {offset} is not UTF-8 text; save the file as UTF-8 (a value that needs other bytes can be written with escapes in double quotes, like \"\\u00e9\")",
                    e.as_bytes()[offset]
                ),
            )
        }
    })?;
    Ok((text, content_hash))
}

/// Reads and validates a config file without applying it anywhere.
pub fn load_file(path: &Path) -> Result<(Config, u64), ConfigError> {
    let (text, content_hash) = read_config_file(path)?;
    Ok((Config::parse(&text, path)?, content_hash))
}

impl ToggleStore {
    /// Loads the config at startup; an invalid config is an error (the binary exits 2).
    pub fn open(path: impl Into<PathBuf>) -> Result<ToggleStore, ConfigError> {
        let path = path.into();
        let (config, content_hash) = load_file(&path)?;
        Ok(Self::with_config(path, config, content_hash))
    }

    /// A store around an already parsed config (generation 1).
    pub fn with_config(path: PathBuf, config: Config, content_hash: u64) -> ToggleStore {
        let changes = summarize_initial(&config);
        let snapshot = Snapshot { generation: 1, source: path.clone(), content_hash, config, applied_at: SystemTime::now() };
        let store = ToggleStore {
            current: ArcSwap::from_pointee(snapshot),
            path,
            reload: Mutex::new(ReloadState::default()),
            events: Mutex::new(VecDeque::with_capacity(EVENT_HISTORY)),
            subscribers: Mutex::new(Vec::new()),
        };
        store.record(ReloadEvent {
            kind: EventKind::Applied,
            generation: 1,
            source: store.path.clone(),
            content_hash: Some(content_hash),
            changes,
            error: None,
            at: SystemTime::now(),
        });
        store
    }

    /// The snapshot in force, without a lock.
    #[inline]
    pub fn load(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// The snapshot in force as an owned `Arc` (for holding across a long operation).
    pub fn load_full(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Decides one session against the snapshot in force.
    #[inline]
    pub fn decide(&self, board: BoardId, id: &SessionIdentity<'_>, now: SystemTime) -> Decision {
        self.current.load().decide(board, id, now)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the file and applies it if it changed and is valid.
    pub fn reload(&self) -> ReloadOutcome {
        let mut state = lock(&self.reload);
        let current = self.current.load_full();
        let read = read_config_file(&self.path);
        let (text, content_hash) = match read {
            Ok(ok) => ok,
            Err(e) => return self.reject(&mut state, &current, None, e),
        };
        if content_hash == current.content_hash {
            if state.last_rejection.take().is_some() {
                self.restored(&current, content_hash);
            }
            return ReloadOutcome::Unchanged;
        }
        let mut config = match Config::parse(&text, &self.path) {
            Ok(c) => c,
            Err(e) => return self.reject(&mut state, &current, Some(content_hash), e),
        };
        // An edited plan starts from its first stage until its controller has walked it.
        state.plan_stages.retain(|board, _| config.board(*board).migration == current.config.board(*board).migration);
        overlay_plan_stages(&mut config, &state.plan_stages);
        let was_rejected = state.last_rejection.take().is_some();
        if config == current.config {
            if was_rejected {
                self.restored(&current, content_hash);
            }
            // Comments or formatting only: what is in force has not changed, so the
            // generation stays; the new hash is kept so the next check is cheap.
            self.current.store(Arc::new(Snapshot {
                generation: current.generation,
                source: self.path.clone(),
                content_hash,
                config,
                applied_at: current.applied_at,
            }));
            tracing::debug!(target: "switchyard::audit", content_hash = %format!("{content_hash:016x}"), "config text changed without changing any setting");
            return ReloadOutcome::Unchanged;
        }
        let generation = current.generation + 1;
        let changes = summarize_changes(&current.config, &config);
        self.current.store(Arc::new(Snapshot {
            generation,
            source: self.path.clone(),
            content_hash,
            config,
            applied_at: SystemTime::now(),
        }));
        self.record(ReloadEvent {
            kind: EventKind::Applied,
            generation,
            source: self.path.clone(),
            content_hash: Some(content_hash),
            changes,
            error: None,
            at: SystemTime::now(),
        });
        ReloadOutcome::Applied { generation }
    }

    /// Puts `board` in stage `index` of its migration plan, as a new generation (audited
    /// with `why`), and keeps it there across reloads until set again. `None` when the
    /// board has no such stage or is in it already.
    pub fn set_plan_stage(&self, board: BoardId, index: usize, why: &str) -> Option<u64> {
        let mut state = lock(&self.reload);
        let current = self.current.load_full();
        let has_stage = current.config.board(board).migration.as_ref().is_some_and(|p| index < p.stages.len());
        if !has_stage {
            return None;
        }
        state.plan_stages.insert(board, index);
        if current.config.board(board).plan_stage() == Some(index) {
            return None;
        }
        let mut config = current.config.clone();
        config.board_mut(board).overlay_stage(index);
        let stages = config.board(board).migration.as_ref().map_or(0, |p| p.stages.len());
        let stage = config.board(board).migration.as_ref().map(|p| p.stages[index].describe()).unwrap_or_default();
        let generation = current.generation + 1;
        let change = format!("{}: migration stage {} of {stages} ({stage}): {why}", board.kind(), index + 1);
        self.current.store(Arc::new(Snapshot {
            generation,
            source: self.path.clone(),
            content_hash: current.content_hash,
            config,
            applied_at: SystemTime::now(),
        }));
        self.record(ReloadEvent {
            kind: EventKind::Applied,
            generation,
            source: self.path.clone(),
            content_hash: Some(current.content_hash),
            changes: vec![change],
            error: None,
            at: SystemTime::now(),
        });
        Some(generation)
    }

    fn restored(&self, current: &Snapshot, content_hash: u64) {
        self.record(ReloadEvent {
            kind: EventKind::Restored,
            generation: current.generation,
            source: self.path.clone(),
            content_hash: Some(content_hash),
            changes: Vec::new(),
            error: None,
            at: SystemTime::now(),
        });
    }

    fn reject(&self, state: &mut ReloadState, current: &Snapshot, content_hash: Option<u64>, error: ConfigError) -> ReloadOutcome {
        let key = (content_hash, error.to_string());
        if state.last_rejection.as_ref() != Some(&key) {
            state.last_rejection = Some(key);
            self.record(ReloadEvent {
                kind: EventKind::Rejected,
                generation: current.generation,
                source: self.path.clone(),
                content_hash,
                changes: Vec::new(),
                error: Some(error.clone()),
                at: SystemTime::now(),
            });
        }
        ReloadOutcome::Rejected(error)
    }

    fn record(&self, event: ReloadEvent) {
        let hash_text = event.content_hash.map(|h| format!("{h:016x}")).unwrap_or_else(|| "-".into());
        match event.kind {
            EventKind::Applied => tracing::info!(
                target: "switchyard::audit",
                event = "config_applied",
                generation = event.generation,
                content_hash = %hash_text,
                source = %event.source.display(),
                changes = %event.changes.join("; "),
                "config applied"
            ),
            EventKind::Rejected => tracing::warn!(
                target: "switchyard::audit",
                event = "config_rejected",
                generation_in_force = event.generation,
                content_hash = %hash_text,
                source = %event.source.display(),
                error = %event.error.as_ref().map(|e| e.to_string()).unwrap_or_default(),
                "config rejected; the config in force is unchanged"
            ),
            EventKind::Restored => tracing::info!(
                target: "switchyard::audit",
                event = "config_restored",
                generation = event.generation,
                content_hash = %hash_text,
                source = %event.source.display(),
                "config file holds the settings in force again; the last rejection no longer applies"
            ),
        }
        {
            let mut events = lock(&self.events);
            if events.len() == EVENT_HISTORY {
                events.pop_front();
            }
            events.push_back(event.clone());
        }
        lock(&self.subscribers).retain(|tx| tx.send(event.clone()).is_ok());
    }

    /// The most recent reload events, oldest first.
    pub fn recent_events(&self) -> Vec<ReloadEvent> {
        lock(&self.events).iter().cloned().collect()
    }

    /// A stream of every later reload event (applied and rejected).
    pub fn subscribe(&self) -> mpsc::Receiver<ReloadEvent> {
        let (tx, rx) = mpsc::channel();
        lock(&self.subscribers).push(tx);
        rx
    }
}

fn summarize_initial(config: &Config) -> Vec<String> {
    let now = Timestamp::from_system_time(SystemTime::now());
    let mut out = vec![format!("kill_switch {}", config.kill_switch)];
    out.extend(config.boards().filter(|b| b.listed).map(|b| format!("{}: {}", b.board.kind(), b.summary(now))));
    out
}

/// What changed between two configs, one entry per global field or board.
pub fn summarize_changes(old: &Config, new: &Config) -> Vec<String> {
    let now = Timestamp::from_system_time(SystemTime::now());
    let mut out = Vec::new();
    if old.kill_switch != new.kill_switch {
        out.push(format!("kill_switch {} -> {}", old.kill_switch, new.kill_switch));
    }
    if old.log_level != new.log_level {
        out.push(format!("log_level {} -> {}", old.log_level.as_str(), new.log_level.as_str()));
    }
    if old.brainflow_library != new.brainflow_library {
        let show = |p: &Option<std::path::PathBuf>| p.as_ref().map_or("none".to_owned(), |p| p.display().to_string());
        out.push(format!("brainflow.library {} -> {}", show(&old.brainflow_library), show(&new.brainflow_library)));
    }
    // Read once, when the server starts: say so rather than let it look applied.
    if old.monitoring.listen != new.monitoring.listen {
        out.push(format!("monitoring.listen {} -> {} (needs a restart: the server keeps listening where it started)", old.monitoring.listen, new.monitoring.listen));
    }
    if old.monitoring.allowed_hosts != new.monitoring.allowed_hosts {
        out.push(format!(
            "monitoring.allowed_hosts [{}] -> [{}] (needs a restart)",
            old.monitoring.allowed_hosts.join(", "),
            new.monitoring.allowed_hosts.join(", ")
        ));
    }
    for board in BoardId::EVERY {
        let (a, b) = (old.board(board), new.board(board));
        if a == b {
            continue;
        }
        let (sa, sb) = (a.summary(now), b.summary(now));
        let mut parts = Vec::new();
        if sa != sb {
            parts.push(format!("{sa} -> {sb}"));
        }
        let mut sections = Vec::new();
        if a.breaker != b.breaker { sections.push("breaker"); }
        if a.shadow != b.shadow { sections.push("shadow"); }
        if a.faults != b.faults { sections.push("faults"); }
        if a.on_breaker_open != b.on_breaker_open { sections.push("on_breaker_open"); }
        if a.follow_percent_decrease != b.follow_percent_decrease { sections.push("follow_percent_decrease"); }
        if a.failback != b.failback { sections.push("failback"); }
        if a.salt != b.salt { sections.push("salt"); }
        if a.legacy != b.legacy { sections.push("legacy"); }
        if a.targeting != b.targeting && sa == sb { sections.push("targeting"); }
        if a.stickiness != b.stickiness && sa == sb { sections.push("stickiness"); }
        if !sections.is_empty() {
            parts.push(format!("{} changed", sections.join(", ")));
        }
        if parts.is_empty() {
            parts.push("settings changed".into());
        }
        out.push(format!("{}: {}", board.kind(), parts.join("; ")));
    }
    if out.is_empty() {
        out.push("formatting or comments only".into());
    }
    out
}
