//! The opt-in monitoring endpoint of a process that loads the library: the same status
//! page, `/status`, `/metrics` and operator controls as `switchyard serve`, for the
//! sessions this process opened through the C API.
//!
//! It is off unless `SWITCHYARD_LISTEN` is set, because the host process owns its ports:
//! the config's `monitoring.listen` is what `serve` binds, and a host that used it by
//! default would collide with a `serve` on the same machine or surprise a host that never
//! asked for a socket. Nothing here may fail a C API call or the host: every problem is a
//! logged error and no endpoint.
//!
//! Not here: the HTTP server and metric names (the `monitoring` crate), the status
//! document, controls, telemetry and the server's start (`switchyard::operations`, the
//! same as `serve`'s).

use board_api::BoardId;
use monitoring::{names, Server};
use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use switchyard::operations::{self, FleetTotals, Operations, Telemetry};
use switchyard::Runtime;
use toggles::Path;

/// `<ip>:<port>` to listen on, or `config` for the config's `monitoring.listen`.
pub const LISTEN_ENV: &str = "SWITCHYARD_LISTEN";
/// A file to which the bound address is written (`<ip>:<port>` and a newline), so that a
/// caller that asked for port 0 learns which port it got.
pub const LISTEN_FILE_ENV: &str = "SWITCHYARD_LISTEN_FILE";
/// A file holding the operator token; `SWITCHYARD_CONTROL_TOKEN` is read when unset.
pub const TOKEN_FILE_ENV: &str = "SWITCHYARD_CONTROL_TOKEN_FILE";

/// Why the endpoint did not start (logged; the C API works on without it).
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("{LISTEN_ENV}={value:?} is not an address: {reason}; write <ip>:<port> (e.g. 127.0.0.1:9465) or `config` for monitoring.listen")]
    BadAddress { value: String, reason: std::net::AddrParseError },
    #[error("{0}; no monitoring endpoint started (fix or unset the token to serve the status page)")]
    Token(#[from] monitoring::TokenError),
    #[error("{0}; no monitoring endpoint started")]
    Server(#[from] monitoring::ServerError),
    #[error("cannot start the telemetry thread: {0}")]
    Thread(std::io::Error),
}

/// What keeps the endpoint alive. Kept in a static that is never dropped, so the server
/// and telemetry threads run until the process exits, and exit never waits for them.
struct Endpoint {
    server: Server,
}

static ENDPOINT: OnceLock<Endpoint> = OnceLock::new();

/// Where the endpoint should listen, from the environment; `Ok(None)` when not asked.
fn requested_address(runtime: &Runtime) -> Result<Option<SocketAddr>, MonitorError> {
    let Some(value) = std::env::var_os(LISTEN_ENV) else { return Ok(None) };
    let value = value.to_string_lossy().trim().to_owned();
    if value.is_empty() {
        return Ok(None);
    }
    if value == "config" {
        return Ok(Some(runtime.store().load().config.monitoring.listen));
    }
    value.parse().map(Some).map_err(|reason| MonitorError::BadAddress { value, reason })
}

/// Starts the endpoint when `SWITCHYARD_LISTEN` asks for one. Called once, when the
/// runtime is created; a failure is logged and leaves the library working without it.
pub(crate) fn start_if_asked(runtime: &Arc<Runtime>) {
    if std::env::var_os(LISTEN_ENV).is_none() {
        return;
    }
    // The operator asked for an endpoint: make sure its errors reach stderr (or the log
    // file) even when the host never touched the logging controls.
    crate::logging::ensure_installed();
    let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| start(runtime)));
    match started {
        Ok(Ok(Some(addr))) => tracing::info!(listen = %addr, pid = std::process::id(), "switchyard monitoring endpoint listening"),
        Ok(Ok(None)) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "switchyard monitoring endpoint not started"),
        Err(_) => tracing::error!("switchyard monitoring endpoint not started: it panicked while starting"),
    }
}

fn start(runtime: &Arc<Runtime>) -> Result<Option<SocketAddr>, MonitorError> {
    let Some(listen) = requested_address(runtime)? else { return Ok(None) };
    if ENDPOINT.get().is_some() {
        return Ok(ENDPOINT.get().map(|e| e.server.local_addr()));
    }
    let token_file = std::env::var_os(TOKEN_FILE_ENV).filter(|v| !v.is_empty()).map(PathBuf::from);
    let token = operations::load_token(token_file.as_deref())?;
    let metrics = match monitoring::install_recorder() {
        Ok(handle) => Some(handle),
        Err(e) => {
            // The host installed its own recorder: the status page still works.
            tracing::error!(error = %e, "/metrics will be empty: the host process already has a metrics recorder");
            None
        }
    };
    let state = Arc::new(Operations::new(runtime.clone(), metrics));
    let server = operations::start_server(state.clone(), listen, token.clone())?;
    let bound = server.local_addr();
    state.record_event(
        "start",
        format!("monitoring endpoint of C API host process {} on {bound} (controls {})", std::process::id(), if token.is_some() { "on" } else { "off" }),
    );
    // Telemetry and the migration controller run for the life of the process: their stop
    // flag is never set.
    let plans = operations::plans::PlanController::new(state.clone());
    let telemetry = Telemetry::new(state, Arc::new(FleetTotals::default())).without_live_view();
    std::thread::Builder::new()
        .name("switchyard-telemetry".into())
        .spawn(move || telemetry.run(Arc::new(AtomicBool::new(false))))
        .map_err(MonitorError::Thread)?;
    std::thread::Builder::new()
        .name("switchyard-migration".into())
        .spawn(move || plans.run(Arc::new(AtomicBool::new(false))))
        .map_err(MonitorError::Thread)?;
    if let Some(file) = std::env::var_os(LISTEN_FILE_ENV).filter(|v| !v.is_empty()) {
        if let Err(e) = write_listen_file(FsPath::new(&file), bound) {
            tracing::error!(file = %FsPath::new(&file).display(), error = %e, "cannot write the monitoring address to {LISTEN_FILE_ENV}");
        }
    }
    let _ = ENDPOINT.set(Endpoint { server });
    Ok(Some(bound))
}

/// Writes the address beside the target and renames it over, so a reader never sees half.
fn write_listen_file(path: &FsPath, addr: SocketAddr) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, format!("{addr}\n"))?;
    std::fs::rename(&partial, path)
}

/// Records a data call made through the C API, as `serve` records its reads: calls by
/// outcome, their latency, samples handed over and samples the buffer dropped. Without
/// an endpoint no recorder is installed and these cost a no-op call each.
pub(crate) fn record_read(board: BoardId, path: Path, operation: &'static str, elapsed: Duration, outcome: Result<u64, ()>) {
    let (b, p) = (board.kind(), path.as_str());
    let outcome_label = if outcome.is_ok() { "ok" } else { "error" };
    metrics::counter!(names::CALLS_TOTAL, "board" => b, "path" => p, "operation" => operation, "outcome" => outcome_label).increment(1);
    metrics::histogram!(names::CALL_DURATION_SECONDS, "board" => b, "path" => p, "operation" => operation).record(elapsed.as_secs_f64());
    if let Ok(delivered) = outcome {
        if delivered > 0 {
            metrics::counter!(names::SAMPLES_DELIVERED_TOTAL, "board" => b).increment(delivered);
        }
    }
}

/// Counts samples the ring buffer dropped since the last report.
pub(crate) fn record_dropped(board: BoardId, newly_dropped: u64) {
    if newly_dropped > 0 {
        metrics::counter!(names::SAMPLES_DROPPED_TOTAL, "board" => board.kind()).increment(newly_dropped);
    }
}

/// Counts a routing decision at prepare, as `serve` does when it opens a session.
pub(crate) fn record_decision(board: BoardId, path: Path, reason: &'static str) {
    metrics::counter!(names::ROUTING_DECISIONS_TOTAL, "board" => board.kind(), "path" => path.as_str(), "reason" => reason).increment(1);
}
