//! The operations backend: the runtime, the audit trail of events (bounded per kind,
//! refusals coalesced apart: `monitoring::AuditTrail`), the status document built from
//! both, and the operator controls, which it hands to the runtime (the one writer of
//! breaker modes). It is the [`monitoring::Backend`] the HTTP server presents.

use crate::Runtime;
use board_api::BoardId;
use breaker::OperatorMode;
use metrics_exporter_prometheus::PrometheusHandle;
use monitoring::{AuditTrail, BoardStatus, ControlAction, ControlError, EventRecord, History, RampView, StatusDocument};
use std::net::SocketAddr;
use std::sync::Arc;
use toggles::{EventKind, Path, Rollout, RampPosition, Timestamp};

pub struct Operations {
    pub runtime: Arc<Runtime>,
    /// Overrides Alertmanager set (`force_open:<board>`, `kill_switch`): a resolution
    /// releases only what an alert set, never an operator's own override.
    alert_holds: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Where each board's migration plan stands, as its controller last saw it.
    pub plans: std::sync::Mutex<std::collections::BTreeMap<BoardId, monitoring::MigrationView>>,
    metrics: Option<PrometheusHandle>,
    /// Config events come from the store's own history; everything else is recorded here.
    audit: AuditTrail,
    /// The last 15 minutes per board, which telemetry records into.
    pub history: History,
}

fn mode_name(mode: OperatorMode) -> &'static str {
    match mode {
        OperatorMode::Automatic => "automatic",
        OperatorMode::ForcedOpen => "forced_open",
        OperatorMode::Disabled => "disabled",
        OperatorMode::MetricsOnly => "metrics_only",
    }
}

impl Operations {
    pub fn new(runtime: Arc<Runtime>, metrics: Option<PrometheusHandle>) -> Operations {
        Operations {
            runtime,
            alert_holds: Default::default(),
            plans: Default::default(),
            metrics,
            audit: AuditTrail::default(),
            history: History::default(),
        }
    }

    pub fn record_event(&self, kind: &'static str, detail: String) {
        self.audit.record(kind, &detail);
    }

    fn board_for(&self, name: &str) -> Result<BoardId, ControlError> {
        let board = BoardId::from_kind(name).ok_or_else(|| {
            ControlError::BadRequest(format!("unknown board `{name}`; known: {}", BoardId::known_kinds()))
        })?;
        Ok(board)
    }

    /// Alertmanager's alerts, applied as the operator controls are. Every alert is checked
    /// before any is applied, so a notification with a bad alert changes nothing.
    fn apply_alerts(&self, alerts: &[monitoring::AlertInstruction]) -> Result<String, ControlError> {
        use monitoring::AlertAction;
        let mut boards = Vec::with_capacity(alerts.len());
        for alert in alerts {
            let board = match (&alert.board, alert.action) {
                (Some(name), AlertAction::ForceOpen) => {
                    let id = self.board_for(name).map_err(|e| ControlError::BadRequest(format!("alert {}: {e}", alert.alertname)))?;
                    if !id.has_cpp_implementation() {
                        return Err(ControlError::BadRequest(format!("alert {}: {name} has no C++ implementation to fall back to", alert.alertname)));
                    }
                    Some(id)
                }
                _ => None,
            };
            boards.push(board);
        }
        let mut holds = self.alert_holds.lock().unwrap_or_else(|p| p.into_inner());
        let mut done = Vec::new();
        for (alert, board) in alerts.iter().zip(boards) {
            let key = match board {
                Some(b) => format!("force_open:{}", b.kind()),
                None => "kill_switch".to_owned(),
            };
            let what = match (board, alert.firing) {
                (Some(b), true) => {
                    if holds.insert(key) {
                        self.runtime.set_breaker_override(b, Some(OperatorMode::ForcedOpen));
                    }
                    format!("{} breaker forced open", b.kind())
                }
                (Some(b), false) => {
                    if holds.remove(&key) {
                        self.runtime.set_breaker_override(b, None);
                        format!("{} breaker released to the file's mode", b.kind())
                    } else {
                        format!("{} not held by an alert, nothing to release", b.kind())
                    }
                }
                (None, true) => {
                    if holds.insert(key) {
                        self.runtime.set_kill_switch_override(true);
                    }
                    "kill switch on".to_owned()
                }
                (None, false) => {
                    if holds.remove(&key) {
                        self.runtime.set_kill_switch_override(false);
                        "kill switch off".to_owned()
                    } else {
                        "kill switch not held by an alert, nothing to release".to_owned()
                    }
                }
            };
            done.push(format!("{} {}: {what}", alert.alertname, if alert.firing { "firing" } else { "resolved" }));
        }
        Ok(format!("alertmanager: {}", done.join("; ")))
    }

    pub fn status_document(&self) -> StatusDocument {
        let snapshot = self.runtime.store().load_full();
        let store_events = self.runtime.store().recent_events();
        let last_reload = match store_events.last() {
            None => "none since start".to_owned(),
            Some(e) => e.summary(),
        };
        let overrides = self.runtime.overrides();
        let now = Timestamp::from_system_time(std::time::SystemTime::now());
        let mut boards = Vec::new();
        for board in BoardId::EVERY {
            let config = snapshot.config.board(board);
            let kind = self.runtime.kind(board);
            let breaker = kind.breaker.snapshot();
            let mut counts = [0usize; 4];
            let (mut streams_stopped, mut stream_failure) = (0usize, None);
            for s in self.runtime.live_sessions(board) {
                if let Some(reason) = s.stream_failure() {
                    streams_stopped += 1;
                    stream_failure = Some(reason);
                }
                counts[match s.path() {
                    Path::Cpp => 0,
                    Path::Rust => 1,
                    Path::Shadow => 2,
                    Path::Standby => 3,
                }] += 1;
            }
            if !config.listed && counts.iter().all(|c| *c == 0) && streams_stopped == 0 {
                continue;
            }
            let ramp_step = match &config.rollout {
                Rollout::Fixed(_) => None,
                Rollout::Ramp(r) => Some(match r.position(now) {
                    RampPosition::NotStarted { .. } => format!("not started (0 of {})", r.steps.len()),
                    RampPosition::Step { index, .. } => format!("step {} of {}", index + 1, r.steps.len()),
                }),
            };
            let unix = |t: Timestamp| t.0 as f64 / 1000.0;
            let ramp = match &config.rollout {
                Rollout::Fixed(_) => None,
                Rollout::Ramp(r) => Some(match r.position(now) {
                    RampPosition::NotStarted { first_step_at } => {
                        RampView { steps: r.steps.iter().map(|p| p.as_f64()).collect(), current: None, next_at: Some(unix(first_step_at)) }
                    }
                    RampPosition::Step { index, next_at, .. } => {
                        RampView { steps: r.steps.iter().map(|p| p.as_f64()).collect(), current: Some(index), next_at: next_at.map(unix) }
                    }
                }),
            };
            let override_note = if overrides.kill_switch && board.has_cpp_implementation() {
                Some("runtime override: kill switch (breaker forced open)".to_owned())
            } else {
                overrides.breaker_modes.get(&board).map(|m| format!("runtime override: breaker {}", mode_name(*m)))
            };
            boards.push(BoardStatus {
                board: board.kind().to_owned(),
                mode: config.mode.as_str().to_owned(),
                percent: Some(config.percent_at(now).as_f64()),
                ramp_step,
                breaker_state: breaker.state.as_str().to_owned(),
                breaker_mode: mode_name(breaker.mode).to_owned(),
                breaker_cause: breaker.last_cause.clone(),
                calls_in_window: breaker.calls_in_window,
                failure_percent: breaker.failure_rate,
                slow_percent: breaker.slow_rate,
                sessions_cpp: counts[0],
                sessions_rust: counts[1],
                sessions_shadow: counts[2],
                sessions_standby: counts[3],
                failovers: kind.counters.failovers(),
                shadow_compared: kind.counters.shadow.compared(),
                shadow_mismatched: kind.counters.shadow.mismatched(),
                override_note,
                streams_stopped,
                stream_failure,
                link: self.runtime.link_summary(board),
                ramp,
                migration: self.plans.lock().unwrap_or_else(|p| p.into_inner()).get(&board).cloned(),
                history: self.history.of(board.kind()),
            });
        }
        let mut events: Vec<EventRecord> = self.audit.events();
        for e in store_events {
            let at = e.at.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
            let (kind, detail) = match e.kind {
                EventKind::Applied => ("config", format!("generation {} applied from {}: {}", e.generation, e.source.display(), e.changes.join("; "))),
                EventKind::Rejected => (
                    "rejected",
                    format!("{} rejected, generation {} stays: {}", e.source.display(), e.generation, e.error.map(|x| x.to_string()).unwrap_or_default()),
                ),
                EventKind::Restored => ("config", format!("{} holds generation {}'s settings again; the last rejection no longer applies", e.source.display(), e.generation)),
            };
            events.push(EventRecord { at, kind: kind.to_owned(), detail });
        }
        events.sort_by(|a, b| b.at.total_cmp(&a.at));
        let mut override_lines = Vec::new();
        if overrides.kill_switch {
            override_lines.push("kill switch ON (set over HTTP; the file says kill_switch: ".to_owned() + if snapshot.config.kill_switch { "true)" } else { "false)" });
        }
        for (board, mode) in &overrides.breaker_modes {
            override_lines.push(format!("{} breaker {} (set over HTTP; release to return to the file)", board.kind(), mode_name(*mode)));
        }
        StatusDocument {
            generated_at: self.audit.now(),
            generation: snapshot.generation,
            source: snapshot.source.display().to_string(),
            content_hash: format!("{:016x}", snapshot.content_hash),
            last_reload,
            kill_switch: snapshot.config.kill_switch || overrides.kill_switch,
            overrides: override_lines,
            boards,
            events,
            refusals: self.audit.refusals(),
        }
    }
}

impl monitoring::Backend for Operations {
    fn status(&self) -> StatusDocument {
        self.status_document()
    }

    fn metrics(&self) -> String {
        self.metrics.as_ref().map(|h| h.render()).unwrap_or_default()
    }

    fn control(&self, action: &ControlAction, _source: SocketAddr) -> Result<String, ControlError> {
        let message = match action {
            ControlAction::ForceOpen { board } | ControlAction::MetricsOnly { board } => {
                let id = self.board_for(board)?;
                let force = matches!(action, ControlAction::ForceOpen { .. });
                if force && !id.has_cpp_implementation() {
                    return Err(ControlError::BadRequest(format!("{board} has no C++ implementation to fall back to; forcing its breaker open would stop its sessions")));
                }
                let mode = if force { OperatorMode::ForcedOpen } else { OperatorMode::MetricsOnly };
                self.runtime.set_breaker_override(id, Some(mode));
                format!("{board} breaker set to {}", mode_name(mode))
            }
            ControlAction::Release { board } => {
                let id = self.board_for(board)?;
                self.runtime.set_breaker_override(id, None);
                format!("{board} breaker released to the file's mode")
            }
            ControlAction::KillSwitch { on } => {
                self.runtime.set_kill_switch_override(*on);
                format!("kill switch {}", if *on { "on" } else { "off" })
            }
            ControlAction::Alerts(alerts) => self.apply_alerts(alerts)?,
        };
        Ok(message)
    }

    fn audit(&self) -> &AuditTrail {
        &self.audit
    }
}
