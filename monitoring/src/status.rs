//! The status document: what `/status` returns as JSON and `/` renders as HTML.

use crate::history::Point;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, Default)]
pub struct StatusDocument {
    /// Unix seconds at which this document was put together (the page's "now").
    pub generated_at: f64,
    pub generation: u64,
    pub source: String,
    /// The config file's content hash, hex.
    pub content_hash: String,
    /// `applied gen N`, `rejected: <reason>` or `none` since start.
    pub last_reload: String,
    pub kill_switch: bool,
    /// Runtime overrides in force that the file does not say (operator actions).
    pub overrides: Vec<String>,
    pub boards: Vec<BoardStatus>,
    /// Newest first.
    pub events: Vec<EventRecord>,
    /// Refused requests, coalesced per source and reason, most recent first.
    pub refusals: Vec<RefusalRecord>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct BoardStatus {
    pub board: String,
    pub mode: String,
    pub percent: Option<f64>,
    /// `step i of n` for a ramp.
    pub ramp_step: Option<String>,
    pub breaker_state: String,
    pub breaker_mode: String,
    pub breaker_cause: String,
    pub calls_in_window: u32,
    pub failure_percent: f64,
    pub slow_percent: f64,
    pub sessions_cpp: usize,
    pub sessions_rust: usize,
    pub sessions_shadow: usize,
    pub sessions_standby: usize,
    pub failovers: u64,
    pub shadow_compared: u64,
    pub shadow_mismatched: u64,
    /// Set when an operator override is in force for this board.
    pub override_note: Option<String>,
    /// Live sessions whose device stopped streaming on its own (unplugged, hung up), and
    /// why the latest one did.
    pub streams_stopped: usize,
    pub stream_failure: Option<String>,
    /// BLE boards only: where their sessions' links stand.
    pub link: Option<LinkSummary>,
    /// Ramps only: the steps and where the ramp stands.
    pub ramp: Option<RampView>,
    /// Boards with a migration plan: its stages, where it stands and the evidence so far.
    pub migration: Option<MigrationView>,
    /// The last 15 minutes, oldest first.
    pub history: Vec<Point>,
}

/// A ramp's steps (percent to Rust) and the one in force.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct RampView {
    pub steps: Vec<f64>,
    /// `None` before the first step.
    pub current: Option<usize>,
    /// Unix seconds of the next step, if there is one.
    pub next_at: Option<f64>,
}

/// Where a board's migration plan stands.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct MigrationView {
    /// Each stage in one phrase (`cpp`, `shadow (sample 100%)`, `rust 25%`).
    pub stages: Vec<String>,
    /// Index into `stages`.
    pub stage: usize,
    /// Unix seconds the board entered the stage.
    pub entered_at: f64,
    /// `prometheus <url>` or `local`.
    pub evidence: String,
    /// `advancing`, `holding`, `halted` (after a rollback), `complete`, `not started`.
    pub state: String,
    /// Why it holds or halted.
    pub reason: Option<String>,
    /// Unix seconds of the last boundary judged, and of the next one.
    pub last_boundary: Option<f64>,
    pub next_boundary: Option<f64>,
    /// What the evidence so far would do at the next boundary (`advance`, `hold: ...`).
    pub next_outcome: String,
    /// Each requirement of the stage against the evidence so far.
    pub checks: Vec<MigrationCheck>,
}

/// One requirement of a stage against its evidence.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct MigrationCheck {
    pub measure: String,
    /// `>= 500` (a minimum sample) or `<= 0` (a condition).
    pub requirement: String,
    pub value: Option<f64>,
    /// `pass`, `fail` or `waiting`.
    pub state: String,
    /// `wait`, `hold` or `rollback`.
    pub on_fail: String,
    pub note: Option<String>,
}

/// The links of a BLE board's live sessions, and its totals since start.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct LinkSummary {
    pub connected: usize,
    pub reconnecting: usize,
    /// Lost links whose reconnect the breaker holds back (it is open).
    pub reconnect_held: usize,
    pub not_connected: usize,
    /// Disconnects and stalls since start.
    pub failures_total: u64,
    pub reconnects_total: u64,
    /// Sessions that rebuilt their board after a panic or a hang.
    pub restarts_total: u64,
    /// The most recent failure reason among live sessions.
    pub last_failure: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// Unix seconds.
    pub at: f64,
    /// `config`, `rejected`, `breaker`, `failover`, `device`, `operator`, `start`.
    pub kind: String,
    pub detail: String,
}

/// Requests refused from one source for one reason (no token, wrong token, controls
/// disabled, a `Host` or `Origin` not allowed, ...) within a minute.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RefusalRecord {
    /// Unix seconds of the first and the latest refusal counted here.
    pub first_at: f64,
    pub last_at: f64,
    /// The client's address (without its port, which changes per connection).
    pub source: String,
    pub reason: String,
    pub count: u64,
    /// The latest refused request line, truncated.
    pub last_request: String,
}
