//! `switchyard drill`: an incident rehearsal against an in-process runtime.
//!
//! It runs sessions of one board kind on a copy of a config, injects faults into that
//! board's Rust path for a while (by editing the copy and reloading, as an operator's
//! edit would), keeps new sessions arriving so the breaker can probe, and prints the
//! timeline: fault start, breaker open, every session on C++, probes, closed again. It
//! fails when fallback took longer than the bound, or when any caller saw an error.
//!
//! Not here: the fault injection itself and the fallback (the dispatch layer).

use crate::{Runtime, Session};
use board_api::{Board, BoardId, InputParams, Preset, SampleMatrix};
use breaker::State;
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct DrillArgs {
    /// The config to rehearse on (it is copied; the file itself is never changed).
    #[arg(long, default_value = "config/switchyard.yaml")]
    pub config: PathBuf,
    /// The board kind whose Rust path fails.
    #[arg(long, default_value = "synthetic")]
    pub board: String,
    /// A fault: errors=30%, panics=5%, corrupt=5%, hang=10%, latency=300ms. Repeatable.
    #[arg(long = "fault", default_value = "errors=30%")]
    pub faults: Vec<String>,
    /// How long the fault lasts (e.g. 20s).
    #[arg(long = "for", default_value = "20s")]
    pub duration: String,
    /// Sessions streaming through the drill.
    #[arg(long, default_value_t = 8)]
    pub sessions: usize,
    /// Calm time before the fault starts.
    #[arg(long, default_value = "2s")]
    pub warmup: String,
    /// The drill fails if moving every session to C++ takes longer than this.
    #[arg(long, default_value = "5s")]
    pub max_fallback: String,
    /// How long to wait, after the fault ends, for the breaker to close again.
    #[arg(long, default_value = "60s")]
    pub recovery_timeout: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Runtime(#[from] crate::RuntimeError),
    #[error("cannot write the drill's config copy: {0}")]
    Write(std::io::Error),
}

/// What happened, in order.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    pub at: Duration,
    pub what: String,
}

#[derive(Debug, Clone)]
pub struct DrillReport {
    pub timeline: Vec<TimelineEntry>,
    /// Whether the board's breaker opened during the fault.
    pub breaker_opened: bool,
    /// Fault start to the moment none of the sessions that were on Rust at the start is
    /// still served by Rust.
    pub fallback: Option<Duration>,
    pub caller_errors: u64,
    pub closed_again: bool,
    pub samples_delivered: u64,
    pub max_fallback: Duration,
}

impl DrillReport {
    /// The drill passes when fallback happened within the bound and no caller saw an error.
    pub fn passed(&self) -> bool {
        self.caller_errors == 0 && self.fallback.is_some_and(|f| f <= self.max_fallback)
    }
}

fn duration(text: &str, what: &str) -> Result<Duration, DrillError> {
    toggles::DurationText::parse(text).map_err(|e| DrillError::Usage(format!("--{what} {text}: {e}")))
}

/// `errors=30%` → (`error_rate`, 30); `latency=300ms` → (`added_latency`, "300ms").
pub fn parse_fault(text: &str) -> Result<(&'static str, Value), String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("fault `{text}` is not name=value (e.g. errors=30%)"))?;
    let key = match name.trim() {
        "errors" | "error_rate" => "error_rate",
        "panics" | "panic_rate" => "panic_rate",
        "corrupt" | "corrupt_rate" => "corrupt_rate",
        "hang" | "hangs" => "hang",
        "latency" | "added_latency" => {
            toggles::DurationText::parse(value.trim()).map_err(|e| format!("fault `{text}`: {e}"))?;
            return Ok(("added_latency", Value::String(value.trim().to_owned())));
        }
        other => return Err(format!("unknown fault `{other}`: use errors, panics, corrupt, hang or latency")),
    };
    let number = value.trim().trim_end_matches('%');
    let percent: f64 = number.parse().map_err(|_| format!("fault `{text}`: `{value}` is not a percentage like 30%"))?;
    if !(0.0..=100.0).contains(&percent) {
        return Err(format!("fault `{text}`: a percentage is between 0 and 100"));
    }
    Ok((key, serde_json::json!(percent)))
}

/// The config with `faults` set on `board` (an empty list clears them).
fn with_faults(base: &Value, board: BoardId, faults: &[(&'static str, Value)]) -> Result<String, DrillError> {
    let mut doc = base.clone();
    let boards = doc
        .as_object_mut()
        .ok_or_else(|| DrillError::Config("the config is not a mapping".into()))?
        .entry("boards")
        .or_insert_with(|| Value::Object(Default::default()));
    let entry = boards
        .as_object_mut()
        .ok_or_else(|| DrillError::Config("`boards` is not a mapping".into()))?
        .entry(board.kind())
        .or_insert_with(|| Value::String("rust".into()));
    if let Value::String(mode) = entry {
        *entry = serde_json::json!({ "mode": mode.clone() });
    }
    let map = entry.as_object_mut().ok_or_else(|| DrillError::Config(format!("boards.{} is neither a mode nor a mapping", board.kind())))?;
    if faults.is_empty() {
        map.remove("faults");
    } else {
        let faults: serde_json::Map<String, Value> = faults.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        map.insert("faults".into(), Value::Object(faults));
    }
    serde_saphyr::to_string(&doc).map_err(|e| DrillError::Config(format!("cannot write the drill config: {e}")))
}

struct Clock {
    start: Instant,
    timeline: Vec<TimelineEntry>,
    echo: bool,
}

impl Clock {
    fn note(&mut self, what: String) {
        let at = self.start.elapsed();
        if self.echo {
            println!("{:>8.3}s  {what}", at.as_secs_f64());
        }
        self.timeline.push(TimelineEntry { at, what });
    }
}

struct Fleet {
    sessions: Vec<Session>,
    matrix: SampleMatrix,
    errors: u64,
    delivered: u64,
}

impl Fleet {
    fn open(&mut self, runtime: &Runtime, board: BoardId, serial: String, clock: &mut Clock) {
        let mut session = runtime.open(board, InputParams { serial_number: serial.clone(), ..InputParams::default() });
        let started = session.prepare_session().and_then(|()| session.start_stream(7_500));
        match started {
            Ok(()) => self.sessions.push(session),
            Err(e) => {
                self.errors += 1;
                clock.note(format!("CALLER ERROR: session {serial} could not start: {} {}", e.code.name(), e.message));
            }
        }
    }

    fn poll(&mut self, clock: &mut Clock) {
        for s in &mut self.sessions {
            match s.get_board_data(7_500, Preset::Default, &mut self.matrix) {
                Ok(()) => self.delivered += self.matrix.samples() as u64,
                Err(e) => {
                    self.errors += 1;
                    clock.note(format!("CALLER ERROR: session {} read: {} {}", s.params().serial_number, e.code.name(), e.message));
                }
            }
        }
    }

    fn on_rust(&self) -> usize {
        self.sessions.iter().filter(|s| s.path().rust_serves()).count()
    }

    /// Sessions among the first `n` (those streaming since the start) served by Rust.
    fn original_on_rust(&self, n: usize) -> usize {
        self.sessions.iter().take(n).filter(|s| s.path().rust_serves()).count()
    }
}

const POLL: Duration = Duration::from_millis(50);
/// A new session arrives this often (and the oldest arrival leaves), as clients reconnect
/// in a real fleet; these give a half-open breaker its probe calls.
const ARRIVAL: Duration = Duration::from_millis(250);

pub fn run_drill(args: &DrillArgs, echo: bool) -> Result<DrillReport, DrillError> {
    let board = BoardId::from_kind(&args.board).ok_or_else(|| {
        DrillError::Usage(format!("unknown board `{}`; known: {}", args.board, BoardId::known_kinds()))
    })?;
    let faults = args.faults.iter().map(|f| parse_fault(f)).collect::<Result<Vec<_>, _>>().map_err(DrillError::Usage)?;
    let fault_for = duration(&args.duration, "for")?;
    let warmup = duration(&args.warmup, "warmup")?;
    let max_fallback = duration(&args.max_fallback, "max-fallback")?;
    let recovery_timeout = duration(&args.recovery_timeout, "recovery-timeout")?;
    if !board.has_cpp_implementation() {
        return Err(DrillError::Usage(format!("{} has no C++ implementation: there is nothing to fall back to", board.kind())));
    }
    if board.is_legacy_only() {
        return Err(DrillError::Usage(format!(
            "{} has no Rust twin (only BrainFlow's library implements it): there is no Rust path to drill; boards with twins: {}",
            board.kind(),
            BoardId::twinned_kinds()
        )));
    }
    let text = std::fs::read_to_string(&args.config).map_err(|source| DrillError::Read { path: args.config.clone(), source })?;
    toggles::Config::parse(&text, &args.config).map_err(|e| DrillError::Config(e.to_string()))?;
    let base: Value = serde_saphyr::from_str(&text).map_err(|e| DrillError::Config(format!("{}: {e}", args.config.display())))?;

    let dir = tempfile_dir()?;
    let copy = dir.join("drill.yaml");
    let calm = with_faults(&base, board, &[])?;
    std::fs::write(&copy, &calm).map_err(DrillError::Write)?;
    let runtime = Runtime::from_path_unwatched(&copy)?;
    let transitions = runtime.kind(board).breaker.subscribe();

    let mut clock = Clock { start: Instant::now(), timeline: Vec::new(), echo };
    let mut fleet = Fleet { sessions: Vec::new(), matrix: SampleMatrix::default(), errors: 0, delivered: 0 };
    for i in 0..args.sessions {
        fleet.open(&runtime, board, format!("DRILL-{i:04}"), &mut clock);
    }
    clock.note(format!("start: {} {} sessions, {} served by Rust", fleet.sessions.len(), board.kind(), fleet.on_rust()));
    if fleet.on_rust() == 0 {
        clock.note(format!("note: no {} session is served by Rust in this config; the fault has nothing to hit", board.kind()));
    }

    let mut fault_started: Option<Instant> = None;
    let mut fault_ended: Option<Instant> = None;
    let mut fallback: Option<Duration> = None;
    let mut closed_again = false;
    let mut opened = false;
    let mut first_move_seen = false;
    let at_risk = fleet.original_on_rust(args.sessions);
    let mut next_arrival = Instant::now() + ARRIVAL;
    let mut arrivals = 0usize;
    loop {
        fleet.poll(&mut clock);
        let now = Instant::now();
        if fault_started.is_none() && clock.start.elapsed() >= warmup {
            std::fs::write(&copy, with_faults(&base, board, &faults)?).map_err(DrillError::Write)?;
            let outcome = runtime.reload();
            fault_started = Some(now);
            clock.note(format!("fault start: {} on {}'s Rust path ({outcome:?})", args.faults.join(", "), board.kind()));
        }
        if let (Some(started), None) = (fault_started, fault_ended) {
            if now.duration_since(started) >= fault_for {
                std::fs::write(&copy, &calm).map_err(DrillError::Write)?;
                runtime.reload();
                fault_ended = Some(now);
                clock.note("fault end: Rust path healthy again".into());
            }
        }
        while let Ok(t) = transitions.try_recv() {
            let what = match t.to {
                State::Open if t.from == State::HalfOpen => format!("probes failed: breaker OPEN again ({})", t.cause),
                State::Open => {
                    opened = true;
                    format!("breaker OPEN: {} (failure {:.0}%, slow {:.0}%, {} calls)", t.cause, t.failure_rate, t.slow_rate, t.calls)
                }
                State::HalfOpen => format!("recovery probes: breaker HALF_OPEN ({})", t.cause),
                State::Closed if fault_ended.is_none() => format!("breaker CLOSED while the fault lasts ({})", t.cause),
                State::Closed => format!("breaker CLOSED again ({})", t.cause),
                other => format!("breaker {other} ({})", t.cause),
            };
            if t.to == State::Closed && fault_ended.is_some() {
                closed_again = true;
            }
            clock.note(what);
        }
        if let (Some(started), None) = (fault_started, fallback) {
            let on_rust = fleet.original_on_rust(args.sessions);
            if on_rust < at_risk && !first_move_seen {
                first_move_seen = true;
                clock.note(format!("first failover: {} of {at_risk} session(s) moved to C++", at_risk - on_rust));
            }
            if at_risk > 0 && on_rust == 0 {
                let took = now.duration_since(started);
                fallback = Some(took);
                clock.note(format!("every {} session on C++ ({:.3}s after fault start)", board.kind(), took.as_secs_f64()));
            }
        }
        if now >= next_arrival {
            next_arrival = now + ARRIVAL;
            // Leave the original sessions in place; rotate one arrival slot.
            if fleet.sessions.len() > args.sessions {
                let leaving = fleet.sessions.remove(args.sessions);
                drop(leaving);
            }
            fleet.open(&runtime, board, format!("ARRIVAL-{arrivals:05}"), &mut clock);
            arrivals += 1;
        }
        if let Some(ended) = fault_ended {
            // A breaker that never opened has nothing to recover from: a short settle suffices.
            let settle = if opened { recovery_timeout } else { Duration::from_secs(1) };
            if closed_again || now.duration_since(ended) >= settle {
                break;
            }
        }
        std::thread::sleep(POLL);
    }
    if !opened {
        clock.note("breaker stayed CLOSED: the failure rate stayed under its threshold; sessions failed over one by one".into());
        closed_again = true;
    } else if !closed_again {
        clock.note(format!("breaker did not close within {recovery_timeout:?} of the fault ending"));
    }
    clock.note(format!(
        "end: {} sessions on Rust, {} on C++; {} samples delivered; {} caller errors",
        fleet.on_rust(),
        fleet.sessions.len() - fleet.on_rust(),
        fleet.delivered,
        fleet.errors
    ));
    let (caller_errors, samples_delivered) = (fleet.errors, fleet.delivered);
    drop(fleet);
    runtime.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(DrillReport { timeline: clock.timeline, breaker_opened: opened, fallback, caller_errors, closed_again, samples_delivered, max_fallback })
}

fn tempfile_dir() -> Result<PathBuf, DrillError> {
    let dir = std::env::temp_dir().join(format!("switchyard-drill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(DrillError::Write)?;
    Ok(dir)
}

/// Runs the drill from the command line: prints the timeline and a verdict; exit 0 when
/// it passed, 1 when it failed, 2 for bad arguments or config.
pub fn run_cli(args: &DrillArgs) -> u8 {
    crate::serve::args::init_logging_quiet();
    match run_drill(args, true) {
        Ok(report) => {
            match report.fallback {
                Some(f) => println!("fallback took {:.3}s (bound {:.3}s)", f.as_secs_f64(), report.max_fallback.as_secs_f64()),
                None => println!("fallback never completed: the breaker did not open or sessions stayed on Rust"),
            }
            println!("callers saw {} error(s); breaker closed again: {}", report.caller_errors, if report.closed_again { "yes" } else { "no" });
            if report.passed() {
                println!("DRILL PASSED");
                0
            } else {
                println!("DRILL FAILED");
                1
            }
        }
        Err(e) => {
            eprintln!("switchyard drill: {e}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_to_config_fields_or_say_what_is_wrong() {
        assert_eq!(parse_fault("errors=30%").unwrap(), ("error_rate", serde_json::json!(30.0)));
        assert_eq!(parse_fault("latency=300ms").unwrap(), ("added_latency", serde_json::json!("300ms")));
        assert!(parse_fault("errors=130%").unwrap_err().contains("between 0 and 100"));
        assert!(parse_fault("gremlins=1%").unwrap_err().contains("gremlins"));
        assert!(parse_fault("errors").unwrap_err().contains("name=value"));
    }

    #[test]
    fn faults_are_added_to_a_short_form_board_and_the_result_parses() {
        let base: Value = serde_saphyr::from_str("boards:\n  synthetic: rust\n").unwrap();
        let text = with_faults(&base, BoardId::Synthetic, &[parse_fault("errors=30%").unwrap()]).unwrap();
        let config = toggles::Config::parse(&text, std::path::Path::new("drill.yaml")).unwrap();
        let board = config.board(BoardId::Synthetic);
        assert_eq!(board.mode, toggles::Path::Rust);
        assert!(board.faults.any());
        let calm = with_faults(&base, BoardId::Synthetic, &[]).unwrap();
        assert!(!toggles::Config::parse(&calm, std::path::Path::new("drill.yaml")).unwrap().board(BoardId::Synthetic).faults.any());
    }
}
