//! The periodic side of operations: turns the runtime's counters, breaker transitions and
//! config reloads into metrics and status-page events, and prints `serve`'s live view (a
//! table on a terminal, log lines otherwise). It writes no breaker mode: the runtime
//! applies reloads and operator overrides itself.

use super::state::Operations;
use super::totals::{self, FleetTotals};
use board_api::{BoardId, Preset};
use breaker::{State, Transition};
use monitoring::names;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};
use toggles::{EventKind, Path, ReloadEvent};

const TICK: Duration = Duration::from_millis(250);
/// One point of the status page's 15-minute history per board this often.
const HISTORY_EVERY: Duration = Duration::from_secs(5);
const PATHS: [Path; 4] = [Path::Cpp, Path::Rust, Path::Shadow, Path::Standby];
const STATES: [State; 6] = [State::Closed, State::Open, State::HalfOpen, State::ForcedOpen, State::Disabled, State::MetricsOnly];

/// A bounded label for a transition's free-text cause.
pub fn cause_label(t: &Transition) -> &'static str {
    let cause = t.cause.to_ascii_lowercase();
    if t.to == State::ForcedOpen || t.from == State::ForcedOpen || cause.contains("operator") {
        "operator"
    } else if cause.contains("metrics only") {
        "metrics_only"
    } else if cause.contains("half-open lasted") {
        "half_open_timeout"
    } else if cause.contains("open wait") {
        "open_wait_elapsed"
    } else if cause.contains("probe") {
        "probes"
    } else if cause.contains("slow") {
        "slow_rate"
    } else if cause.contains("fail") {
        "failure_rate"
    } else if cause.contains("config") || cause.contains("reconfigur") {
        "reconfigured"
    } else {
        "other"
    }
}

#[derive(Default, Clone, Copy)]
struct Seen {
    failovers: u64,
    gap_samples: u64,
    compared: u64,
    mismatched: u64,
    streams_stopped: u64,
}

pub struct Telemetry {
    state: Arc<Operations>,
    totals: Arc<FleetTotals>,
    transitions: Vec<(BoardId, Receiver<Transition>)>,
    reloads: Receiver<ReloadEvent>,
    seen: BTreeMap<BoardId, Seen>,
    latency_at_last_view: [[u64; totals::LATENCY_SLOTS]; 4],
    terminal: bool,
    view_every: Duration,
    /// Off inside a host process (the C API): its stdout and logs are the host's.
    live_view: bool,
    /// Called with each applied config (serve applies its `log_level`).
    on_applied: Option<ConfigHook>,
    /// Cumulative counts at the last history point, per board.
    history_seen: BTreeMap<BoardId, HistorySeen>,
}

type ConfigHook = Box<dyn Fn(&toggles::Config) + Send>;

#[derive(Default, Clone, Copy)]
struct HistorySeen {
    latency: [[u64; totals::LATENCY_SLOTS]; 4],
    compared: u64,
    mismatched: u64,
    delivered: u64,
    dropped: u64,
}

impl Telemetry {
    /// Subscribes now, so no transition between start and the first tick is missed.
    pub fn new(state: Arc<Operations>, totals: Arc<FleetTotals>) -> Telemetry {
        let transitions = BoardId::EVERY.iter().map(|b| (*b, state.runtime.kind(*b).breaker.subscribe())).collect();
        let reloads = state.runtime.store().subscribe();
        let terminal = std::io::stdout().is_terminal();
        register_series();
        Telemetry {
            state,
            totals,
            transitions,
            reloads,
            seen: BTreeMap::new(),
            latency_at_last_view: [[0; totals::LATENCY_SLOTS]; 4],
            terminal,
            view_every: if terminal { Duration::from_secs(2) } else { Duration::from_secs(10) },
            live_view: true,
            on_applied: None,
            history_seen: BTreeMap::new(),
        }
    }

    /// Calls `hook` with the config after each applied reload.
    pub fn on_applied_config(mut self, hook: impl Fn(&toggles::Config) + Send + 'static) -> Telemetry {
        self.on_applied = Some(Box::new(hook));
        self
    }

    /// Ticks metrics and events only, never printing the live view.
    pub fn without_live_view(mut self) -> Telemetry {
        self.live_view = false;
        self
    }

    pub fn run(mut self, stop: Arc<AtomicBool>) {
        let mut last_view = Instant::now();
        let mut last_point: Option<Instant> = None;
        while !stop.load(Ordering::Acquire) {
            self.tick();
            if last_point.is_none_or(|t| t.elapsed() >= HISTORY_EVERY) {
                self.record_history();
                last_point = Some(Instant::now());
            }
            if self.live_view && last_view.elapsed() >= self.view_every {
                self.view();
                last_view = Instant::now();
            }
            std::thread::sleep(TICK);
        }
        self.tick();
    }

    pub fn tick(&mut self) {
        let runtime = &self.state.runtime;
        while let Ok(event) = self.reloads.try_recv() {
            metrics::counter!(names::CONFIG_RELOADS_TOTAL, "result" => event.kind.as_str()).increment(1);
            if event.kind == EventKind::Applied {
                if let Some(hook) = &self.on_applied {
                    hook(&runtime.store().load().config);
                }
                for change in event.changes.iter().filter(|c| c.contains("needs a restart")) {
                    tracing::warn!(change = %change, "config change not applied until serve restarts");
                }
            }
        }
        metrics::gauge!(names::CONFIG_GENERATION).set(runtime.store().load().generation as f64);
        for (board, rx) in &self.transitions {
            while let Ok(t) = rx.try_recv() {
                let cause = cause_label(&t);
                metrics::counter!(names::BREAKER_TRANSITIONS_TOTAL, "board" => board.kind(), "to" => t.to.as_str(), "cause" => cause).increment(1);
                self.state.record_event("breaker", format!("{} breaker {} -> {}: {}", board.kind(), t.from, t.to, t.cause));
            }
        }
        for board in super::shown_boards(runtime) {
            let kind = runtime.kind(board);
            let b = board.kind();
            let mut counts = [0usize; 4];
            let mut streams_stopped = 0usize;
            for s in runtime.live_sessions(board) {
                counts[PATHS.iter().position(|p| *p == s.path()).unwrap_or(0)] += 1;
                streams_stopped += usize::from(s.stream_failure().is_some());
            }
            metrics::gauge!(names::SESSIONS_STREAM_STOPPED, "board" => b).set(streams_stopped as f64);
            let stopped_total = kind.counters.streams_stopped.load(std::sync::atomic::Ordering::Relaxed);
            metrics::counter!(names::STREAMS_STOPPED_TOTAL, "board" => b).absolute(stopped_total);
            for (path, count) in PATHS.iter().zip(counts) {
                metrics::gauge!(names::ACTIVE_SESSIONS, "board" => b, "path" => path.as_str()).set(count as f64);
            }
            let snap = kind.breaker.snapshot();
            for state in STATES {
                metrics::gauge!(names::BREAKER_STATE, "board" => b, "state" => state.as_str()).set(if snap.state == state { 1.0 } else { 0.0 });
            }
            if let Some(link) = runtime.link_summary(board) {
                for (state, count) in [
                    ("connected", link.connected),
                    ("reconnecting", link.reconnecting),
                    ("reconnect_held", link.reconnect_held),
                    ("not_connected", link.not_connected),
                ] {
                    metrics::gauge!(names::LINK_SESSIONS, "board" => b, "state" => state).set(count as f64);
                }
                metrics::counter!(names::LINK_FAILURES_TOTAL, "board" => b).absolute(link.failures_total);
                metrics::counter!(names::LINK_RECONNECTS_TOTAL, "board" => b).absolute(link.reconnects_total);
                metrics::counter!(names::RUST_RESTARTS_TOTAL, "board" => b).absolute(link.restarts_total);
            }
            metrics::gauge!(names::BREAKER_FAILURE_RATIO, "board" => b).set(snap.failure_rate / 100.0);
            metrics::gauge!(names::BREAKER_SLOW_RATIO, "board" => b).set(snap.slow_rate / 100.0);

            let now = Seen {
                failovers: kind.counters.failovers(),
                gap_samples: kind.counters.gap_samples(),
                compared: kind.counters.shadow.compared(),
                mismatched: kind.counters.shadow.mismatched(),
                streams_stopped: stopped_total,
            };
            let before = self.seen.insert(board, now).unwrap_or_default();
            metrics::counter!(names::FAILOVERS_TOTAL, "board" => b).absolute(now.failovers);
            metrics::counter!(names::SHADOW_COMPARISONS_TOTAL, "board" => b).absolute(now.compared);
            metrics::counter!(names::SHADOW_MISMATCHES_TOTAL, "board" => b).absolute(now.mismatched);
            let newly_stopped = now.streams_stopped.saturating_sub(before.streams_stopped);
            if newly_stopped > 0 {
                let reason = runtime.live_sessions(board).iter().find_map(|s| s.stream_failure()).unwrap_or_default();
                self.state.record_event("device", format!("{newly_stopped} {b} device(s) stopped streaming: {reason}"));
            }
            let new_failovers = now.failovers.saturating_sub(before.failovers);
            if new_failovers > 0 {
                // The runtime counts gap samples per kind; spread them over this tick's failovers.
                let rate = board_api::descriptor(board, Preset::Default).map(|d| d.sampling_rate).unwrap_or(250).max(1) as f64;
                let gap = now.gap_samples.saturating_sub(before.gap_samples) as f64 / new_failovers as f64 / rate;
                let histogram = metrics::histogram!(names::FAILOVER_GAP_SECONDS, "board" => b);
                for _ in 0..new_failovers {
                    histogram.record(gap);
                }
                self.state.record_event("failover", format!("{new_failovers} {b} session(s) moved to C++ (gap {gap:.3} s each)"));
            }
        }
        if let Some((cpu, rss)) = process_usage() {
            metrics::counter!(names::PROCESS_CPU_SECONDS_TOTAL).absolute(cpu.as_millis() as u64 / 1000);
            metrics::gauge!(names::PROCESS_RESIDENT_MEMORY_BYTES).set(rss as f64);
        }
    }

    /// Adds a point per board to the status page's history.
    pub fn record_history(&mut self) {
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        for board in super::shown_boards(&self.state.runtime) {
            let kind = self.state.runtime.kind(board);
            let mut sessions = [0usize; 4];
            for s in self.state.runtime.live_sessions(board) {
                sessions[totals::path_index(s.path())] += 1;
            }
            let breaker = kind.breaker.snapshot();
            let board_totals = self.totals.board(board);
            let now = HistorySeen {
                latency: board_totals.latency_counts(),
                compared: kind.counters.shadow.compared(),
                mismatched: kind.counters.shadow.mismatched(),
                delivered: board_totals.delivered.load(Ordering::Relaxed),
                dropped: board_totals.dropped.load(Ordering::Relaxed),
            };
            let before = self.history_seen.insert(board, now).unwrap_or_default();
            let mut p99_ms = [None; 4];
            for (path, slot) in p99_ms.iter_mut().enumerate() {
                let mut delta = [0u64; totals::LATENCY_SLOTS];
                for (b, d) in delta.iter_mut().enumerate() {
                    *d = now.latency[path][b].saturating_sub(before.latency[path][b]);
                }
                // Above the last bucket bound is shown at twice it.
                *slot = totals::p99(&delta).map(|p| if p.is_finite() { p * 1000.0 } else { names::CALL_BUCKETS[names::CALL_BUCKETS.len() - 1] * 2000.0 });
            }
            self.state.history.record(
                board.kind(),
                monitoring::history::Point {
                    at,
                    sessions,
                    error_percent: breaker.failure_rate,
                    slow_percent: breaker.slow_rate,
                    p99_ms,
                    shadow_compared: now.compared.saturating_sub(before.compared),
                    shadow_mismatched: now.mismatched.saturating_sub(before.mismatched),
                    delivered: now.delivered.saturating_sub(before.delivered),
                    dropped: now.dropped.saturating_sub(before.dropped),
                    breaker_state: breaker.state.as_str().to_owned(),
                },
            );
        }
    }

    /// p99 read latency per path since the last view, as text.
    fn p99_line(&mut self) -> String {
        let now = self.totals.latency_counts();
        let mut parts = Vec::new();
        for (i, path) in PATHS.iter().enumerate() {
            let mut delta = [0u64; totals::LATENCY_SLOTS];
            for (b, d) in delta.iter_mut().enumerate() {
                *d = now[i][b].saturating_sub(self.latency_at_last_view[i][b]);
            }
            if let Some(p) = totals::p99(&delta) {
                parts.push(if p.is_finite() { format!("{} <= {:.3} ms", path.as_str(), p * 1000.0) } else { format!("{} > 5 s", path.as_str()) });
            }
        }
        self.latency_at_last_view = now;
        if parts.is_empty() {
            "no reads".to_owned()
        } else {
            parts.join(", ")
        }
    }

    fn view(&mut self) {
        let doc = self.state.status_document();
        let p99 = self.p99_line();
        let totals = &self.totals;
        let header = format!(
            "config generation {} ({}) | {} | delivered {} dropped {} read errors {}",
            doc.generation,
            doc.source,
            doc.last_reload,
            totals.delivered.load(Ordering::Relaxed),
            totals.dropped.load(Ordering::Relaxed),
            totals.errors.load(Ordering::Relaxed)
        );
        if self.terminal {
            let mut out = String::from("\x1b[2J\x1b[H");
            out.push_str(&header);
            out.push_str("\n\nboard            cpp  rust shadow standby breaker       err%  slow%  shadow cmp/mismatch  failovers\n");
            for b in &doc.boards {
                out.push_str(&format!(
                    "{:<16} {:>4} {:>5} {:>6} {:>7} {:<12} {:>5.1} {:>6.1}  {:>10}/{:<8} {:>9}\n",
                    b.board,
                    b.sessions_cpp,
                    b.sessions_rust,
                    b.sessions_shadow,
                    b.sessions_standby,
                    b.breaker_state,
                    b.failure_percent,
                    b.slow_percent,
                    b.shadow_compared,
                    b.shadow_mismatched,
                    b.failovers
                ));
                if let Some(link) = &b.link {
                    out.push_str(&format!(
                        "{:<16} link: {} up, {} reconnecting, {} held by breaker, {} not connected | {} failures, {} reconnects, {} rebuilt\n",
                        "",
                        link.connected,
                        link.reconnecting,
                        link.reconnect_held,
                        link.not_connected,
                        link.failures_total,
                        link.reconnects_total,
                        link.restarts_total
                    ));
                }
            }
            out.push_str(&format!("\np99 read latency per path: {p99}\nCtrl-C stops\n"));
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
        } else {
            tracing::info!("{header} | p99 read latency: {p99}");
            for b in &doc.boards {
                tracing::info!(
                    board = %b.board,
                    cpp = b.sessions_cpp,
                    rust = b.sessions_rust,
                    shadow = b.sessions_shadow,
                    standby = b.sessions_standby,
                    breaker = %b.breaker_state,
                    error_pct = b.failure_percent,
                    slow_pct = b.slow_percent,
                    shadow_compared = b.shadow_compared,
                    shadow_mismatched = b.shadow_mismatched,
                    failovers = b.failovers,
                    "board"
                );
                if let Some(link) = &b.link {
                    tracing::info!(
                        board = %b.board,
                        connected = link.connected,
                        reconnecting = link.reconnecting,
                        reconnect_held = link.reconnect_held,
                        not_connected = link.not_connected,
                        failures = link.failures_total,
                        reconnects = link.reconnects_total,
                        rebuilt = link.restarts_total,
                        "link"
                    );
                }
            }
        }
    }
}

/// Registers the series that only move on rare events, at zero, so that dashboards and
/// alert rules see them (and `increase()` works) before the first incident.
fn register_series() {
    for result in ["applied", "rejected"] {
        metrics::counter!(names::CONFIG_RELOADS_TOTAL, "result" => result).increment(0);
    }
    for action in ["force_open", "release", "metrics_only", "kill_switch_on", "kill_switch_off", "alertmanager"] {
        metrics::counter!(names::CONTROL_REQUESTS_TOTAL, "action" => action, "result" => "applied").increment(0);
    }
    for board in BoardId::ALL {
        let b = board.kind();
        // Every way a breaker opens on its own, so that a plan's `breaker_openings` and the
        // fleet fallback's `increase()` see the first opening, not only the second.
        for cause in ["failure_rate", "slow_rate", "probes", "half_open_timeout"] {
            metrics::counter!(names::BREAKER_TRANSITIONS_TOTAL, "board" => b, "to" => State::Open.as_str(), "cause" => cause).increment(0);
        }
        metrics::counter!(names::MIGRATION_UNANSWERED_TOTAL, "board" => b).increment(0);
        metrics::counter!(names::MIGRATION_MOVES_TOTAL, "board" => b, "verdict" => "rollback").increment(0);
        metrics::counter!(names::MIGRATION_MOVES_TOTAL, "board" => b, "verdict" => "advance").increment(0);
        metrics::counter!(names::SAMPLES_DROPPED_TOTAL, "board" => b).increment(0);
        let _ = metrics::histogram!(names::FAILOVER_GAP_SECONDS, "board" => b);
    }
}

/// CPU time and resident bytes of this process, from /proc (Linux).
pub fn process_usage() -> Option<(Duration, u64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let rss_pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // USER_HZ is 100 and pages are 4 KiB on the Linux targets switchyard runs on.
    Some((Duration::from_millis(ticks * 10), rss_pages * 4096))
}
