//! Toggles: for this session of this board, which implementation runs, and why.
//!
//! This crate owns the YAML config (model, validation with file/line/column/field
//! errors), sticky percentage bucketing, time-stepped ramps, the schema of migration
//! plans (and the stage overlay the store keeps for them), targeting rules, the
//! decision with its OpenFeature-style reason, the lock-free [`ToggleStore`] with its
//! audit trail, and hot reload. It also answers `check` and `explain` for the CLI,
//! `explain` also for a whole inventory of devices against a proposed config.
//!
//! It does not own judging a plan's evidence (the `migration` crate), nor the breaker's
//! state machine (the `breaker` crate: this crate only parses its settings into
//! `breaker::BreakerConfig`), nor the per-session dispatch that
//! layers the breaker over a decision, nor fault injection itself (it parses `faults:`
//! for the dispatcher).
//!
//! Bucketing, pinned by golden-vector tests: `h = murmur3_x86_32(stickiness value,
//! seed = murmur3_x86_32(salt, 0x53575944))`, where the salt is the board kind unless the
//! config sets one; the session's point is `h / 2^32` in [0, 1) and it is inside the
//! percentage `p` iff `point < p / 100` (computed exactly in integers).
#![forbid(unsafe_code)]

mod config;
mod decide;
mod fleet;
mod hash;
mod plan;
mod store;
mod strict;
mod targeting;
mod units;
mod watch;

pub use config::{
    default_path, BoardConfig, Config, ConfigError, Failback, FaultConfig, Legacy, LogLevel, Mode, MonitoringConfig, OnBreakerOpen, Path,
    Ramp, RampPosition, Rollout, ShadowConfig, StickinessKey, TargetingRule, MAX_CONFIG_BYTES,
};
pub use plan::{Check, Evidence, Measure, MigrationPlan, MinSample, OnFail, PrometheusSource, RollbackTo, Stage, MAX_BOUNDARIES};
pub use fleet::{explain_fleet, read_inventory, BoardFleet, Change, Counts, Device, FleetReport, InventoryError, Placement, IDENTITY_COLUMNS};
pub use decide::{BucketedBy, Decision, Reason, Rule, RuleKind, SessionIdentity};
pub use hash::{bucket_hash, content_hash, hash_to_point, mac_bucket_hash, murmur3_32, random_hash, salt_seed, BUCKET_SEED};
pub use store::{load_file, read_config_file, summarize_changes, EventKind, ReloadEvent, ReloadOutcome, Snapshot, ToggleStore, EVENT_HISTORY};
pub use units::{DurationText, Percent, Timestamp};
pub use watch::{watch, WatchError, WatchHandle, WatchOptions};

use board_api::{BoardId, InputParams};
use std::fmt;
use std::path::{Path as FsPath, PathBuf};

/// What `switchyard check` prints for a valid file.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub file: PathBuf,
    pub content_hash: u64,
    pub config: Config,
    pub now: Timestamp,
}

/// Validates a config file and summarises what each board will do at `now`.
pub fn check_file(path: &FsPath, now: Timestamp) -> Result<CheckReport, ConfigError> {
    let (config, content_hash) = load_file(path)?;
    Ok(CheckReport { file: path.to_owned(), content_hash, config, now })
}

impl CheckReport {
    /// Valid settings an operator should still look at twice; `check` prints them and
    /// exits 0.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let listen = self.config.monitoring.listen;
        if !listen.ip().is_loopback() {
            out.push(format!(
                "monitoring.listen: {listen} exposes the status page, metrics and controls beyond this host (the control token would cross the network in clear); use 127.0.0.1:{} unless that is intended",
                listen.port()
            ));
        }
        out
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: valid (content hash {:016x})", self.file.display(), self.content_hash)?;
        for warning in self.warnings() {
            writeln!(f, "warning: {warning}")?;
        }
        let c = &self.config;
        if c.kill_switch {
            writeln!(f, "kill_switch: ON (every board with C++ runs C++; Rust-only boards stay on Rust)")?;
        } else {
            writeln!(f, "kill_switch: off")?;
        }
        writeln!(f, "monitoring.listen: {}", c.monitoring.listen)?;
        writeln!(f, "log_level: {}", c.log_level.as_str())?;
        if let Some(library) = &c.brainflow_library {
            writeln!(f, "brainflow.library: {}", library.display())?;
        }
        writeln!(f, "boards (at {}):", self.now)?;
        for b in c.boards() {
            writeln!(f, "  {:<16} {}", b.board.kind(), b.summary(self.now))?;
        }
        Ok(())
    }
}

/// Why `explain` could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("unknown board `{0}`; known boards: playback, synthetic, cyton, ganglion, cyton_daisy, muse_2, muse_s, ganglion_native")]
    UnknownBoard(String),
}

/// The decision for one session with everything an operator needs to understand it.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub board: BoardId,
    pub decision: Decision,
    /// The path of a session inside the percentage (the board's mode).
    pub inside_path: Path,
    /// The stickiness fields tried, in order, for the "no identity" answer.
    pub stickiness: Vec<StickinessKey>,
    /// The targeting rule's name, when one matched.
    pub rule_name: Option<String>,
    pub ramp: Option<RampPosition>,
    pub now: Timestamp,
}

/// Decides one session against a config file, as the runtime would at `now`.
pub fn explain(
    config_path: &FsPath,
    board_kind: &str,
    params: &InputParams,
    session_key: Option<&str>,
    now: Timestamp,
) -> Result<Explanation, ExplainError> {
    let board = BoardId::from_kind(board_kind).ok_or_else(|| ExplainError::UnknownBoard(board_kind.to_owned()))?;
    let (config, _) = load_file(config_path)?;
    Ok(explain_config(&config, board, &SessionIdentity { params, session_key, drawn_bucket: None }, now))
}

/// [`explain`] against an already loaded config.
pub fn explain_config(config: &Config, board: BoardId, id: &SessionIdentity<'_>, now: Timestamp) -> Explanation {
    let decision = config.decide(board, id, now, 0);
    let bc = config.board(board);
    let rule_name = match decision.rule.kind {
        RuleKind::Targeting(i) => bc.targeting.get(usize::from(i)).map(|r| r.name.clone()),
        _ => None,
    };
    let ramp = match &bc.rollout {
        Rollout::Ramp(r) if bc.listed => Some(r.position(now)),
        _ => None,
    };
    Explanation { board, decision, inside_path: bc.mode, stickiness: bc.stickiness.clone(), rule_name, ramp, now }
}

impl Explanation {
    /// Whether the answer is a random draw: the session has none of the stickiness fields,
    /// so each new session is drawn at random (and keeps its draw while it runs).
    pub fn is_random(&self) -> bool {
        self.decision.bucketed_by == Some(BucketedBy::Random) && self.decision.percent.is_some_and(|p| p != Percent::ZERO)
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.decision;
        writeln!(f, "board:    {}", self.board)?;
        writeln!(f, "at:       {}", self.now)?;
        if self.is_random() {
            let percent = d.percent.unwrap_or(Percent::ZERO);
            writeln!(
                f,
                "path:     drawn at random: {} with probability {percent}, cpp otherwise",
                self.inside_path
            )?;
        } else {
            writeln!(f, "path:     {}", d.path)?;
        }
        writeln!(f, "reason:   {}", d.reason)?;
        match &self.rule_name {
            Some(name) => writeln!(f, "rule:     {} ({name})", d.rule)?,
            None => writeln!(f, "rule:     {}", d.rule)?,
        }
        match (d.bucket, d.percent) {
            (Some(bucket), Some(percent)) => {
                match d.bucketed_by {
                    Some(BucketedBy::Random) => {
                        let keys: Vec<&str> = self.stickiness.iter().map(|k| k.as_str()).collect();
                        writeln!(
                            f,
                            "bucket:   random: the session has none of the stickiness fields ({}); each new session draws its own and keeps it while it runs",
                            keys.join(", ")
                        )?;
                    }
                    by => {
                        let by = match by {
                            Some(BucketedBy::Key(k)) => format!("hash of {k}"),
                            _ => String::new(),
                        };
                        let side = if hash::inside_point(bucket, percent) { "inside" } else { "outside" };
                        writeln!(f, "bucket:   {bucket:.6} ({by}); {side} {percent}")?;
                    }
                }
            }
            (None, Some(percent)) => writeln!(f, "bucket:   none (percent {percent} needs no bucket)")?,
            _ => writeln!(f, "bucket:   none")?,
        }
        match self.ramp {
            Some(RampPosition::NotStarted { first_step_at }) => {
                writeln!(f, "ramp:     not started; step 1 begins at {first_step_at}")?
            }
            Some(RampPosition::Step { index, percent, since, next_at }) => {
                write!(f, "ramp:     step {} ({percent}) since {since}", index + 1)?;
                match next_at {
                    Some(next) => writeln!(f, "; next step at {next}")?,
                    None => writeln!(f, "; final step")?,
                }
            }
            None => {}
        }
        Ok(())
    }
}
