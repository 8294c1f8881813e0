//! `switchyard serve`: the long-running job. It loads and watches the toggles config,
//! opens the sessions listed in the sessions file (plus `--sessions N` synthetic ones),
//! records the listed ones to BrainFlow-format CSV, walks the boards' migration plans,
//! serves `/`, `/status`, `/metrics` and the operator controls, and on SIGINT/SIGTERM stops streams, flushes files and releases
//! sessions before it exits.
//!
//! Not here: routing, breakers and failover (the dispatch layer), the status document,
//! controls, telemetry and the server's start (`operations`, shared with the C API),
//! metric names and the HTTP server (the `monitoring` crate).

pub mod args;
pub mod csv;
pub mod emulated;
pub mod fleet;
pub mod logging;
pub mod sessions;

use crate::operations::{self, FleetTotals, Operations, Telemetry};
use crate::Runtime;
use fleet::Served;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub config: PathBuf,
    /// `None`: `sessions.yaml` next to the config, when it exists.
    pub sessions_file: Option<PathBuf>,
    /// Extra synthetic sessions with distinct identities, not recorded.
    pub extra_sessions: usize,
    /// Overrides `monitoring.listen` from the config.
    pub listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub token_file: Option<PathBuf>,
    pub poll_interval: Duration,
    pub workers: usize,
    /// Stop by itself after this long (rehearsals and benchmarks).
    pub run_for: Option<Duration>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            config: PathBuf::from("config/switchyard.yaml"),
            sessions_file: None,
            extra_sessions: 0,
            listen: None,
            data_dir: PathBuf::from("data"),
            token_file: None,
            poll_interval: Duration::from_millis(100),
            workers: 2,
            run_for: None,
        }
    }
}

/// Why `serve` could not start (each one exits non-zero with this message).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Runtime(#[from] crate::RuntimeError),
    #[error(transparent)]
    Sessions(#[from] sessions::SessionsError),
    #[error("{0}")]
    DataDir(String),
    #[error(transparent)]
    Token(#[from] monitoring::TokenError),
    #[error(transparent)]
    Server(#[from] monitoring::ServerError),
    #[error(transparent)]
    Metrics(#[from] monitoring::RecorderError),
    #[error(transparent)]
    Session(#[from] fleet::StartError),
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
    #[error(transparent)]
    Emulator(emulated::EmulatorError),
}

/// What a finished run delivered (printed at exit; the scaling benchmark reads it).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    pub sessions: usize,
    pub seconds: f64,
    /// From the moment every session streams to the stop request.
    pub streaming_seconds: f64,
    /// CPU used over `streaming_seconds` (start-up and shutdown excluded).
    pub streaming_cpu_seconds: f64,
    pub samples_delivered: u64,
    pub samples_dropped: u64,
    pub read_errors: u64,
    pub cpu_seconds: f64,
    pub peak_rss_bytes: u64,
    /// The most OS threads the process had while streaming (they do not grow with the
    /// number of sessions: see `docs/architecture.md`, "Threading model").
    pub peak_threads: usize,
}

/// The process's OS threads now (Linux; 0 where `/proc` does not say).
fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Threads:").map(|n| n.trim().parse().unwrap_or(0))))
        .unwrap_or(0)
}

/// Runs until SIGINT/SIGTERM (or `run_for`), then shuts down cleanly.
pub fn run(options: &ServeOptions) -> Result<RunSummary, ServeError> {
    let stop = Arc::new(AtomicBool::new(false));
    watch_signals(stop.clone()).map_err(ServeError::Thread)?;
    run_until(options, stop)
}

/// [`run`] with the stop flag supplied by the caller (tests, drills).
pub fn run_until(options: &ServeOptions, stop: Arc<AtomicBool>) -> Result<RunSummary, ServeError> {
    let started = Instant::now();
    let cpu_before = operations::telemetry::process_usage().map(|(c, _)| c).unwrap_or_default();

    let runtime = Arc::new(Runtime::from_path(options.config.clone())?);
    let mut specs = match &options.sessions_file {
        Some(path) => sessions::load(path)?,
        None => {
            let path = sessions::default_sessions_file(&options.config);
            if path.exists() {
                sessions::load(&path)?
            } else {
                Vec::new()
            }
        }
    };
    specs.extend(sessions::fleet(options.extra_sessions));
    if specs.iter().any(|s| s.record) {
        csv::check_writable(&options.data_dir).map_err(ServeError::DataDir)?;
    }
    let token = operations::load_token(options.token_file.as_deref())?;
    let log_level = runtime.store().load().config.log_level;
    if logging::apply_level(log_level) == logging::LevelApplied::RustLogWins {
        tracing::info!(log_level = log_level.as_str(), "RUST_LOG is set and decides what is logged; the config's log_level is not applied");
    }
    let listen = options.listen.unwrap_or(runtime.store().load().config.monitoring.listen);

    let metrics = monitoring::install_recorder()?;
    let state = Arc::new(Operations::new(runtime.clone(), Some(metrics)));
    let server = operations::start_server(state.clone(), listen, token.clone())?;
    let totals = Arc::new(FleetTotals::default());
    let telemetry = Telemetry::new(state.clone(), totals.clone()).on_applied_config(|config| {
        if logging::apply_level(config.log_level) == logging::LevelApplied::Applied {
            tracing::debug!(log_level = config.log_level.as_str(), "log level applied");
        }
    });
    tracing::info!(
        listen = %server.local_addr(),
        config = %options.config.display(),
        sessions = specs.len(),
        controls = token.is_some(),
        "switchyard serving"
    );
    // The test harness and scripts read this line to find an ephemeral port.
    println!("listening on http://{}", server.local_addr());

    // Emulated boards outlive their sessions: dropped after the workers finished them.
    let mut emulators = Vec::new();
    let mut served: Vec<Served> = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        if stop.load(Ordering::Acquire) {
            break;
        }
        let mut spec = spec.clone();
        if let Some(emulator) = emulated::start_if_asked(&mut spec, i as u64).map_err(ServeError::Emulator)? {
            emulators.push(emulator);
        }
        served.push(fleet::start(&runtime, &spec, &options.data_dir)?);
    }
    let session_count = served.len();
    let streaming_since = Instant::now();
    let streaming_cpu_before = operations::telemetry::process_usage().map(|(c, _)| c).unwrap_or_default();
    let workers = options.workers.max(1).min(session_count.max(1));
    let mut shares: Vec<Vec<Served>> = (0..workers).map(|_| Vec::new()).collect();
    for (i, s) in served.into_iter().enumerate() {
        shares[i % workers].push(s);
    }
    let mut handles = Vec::new();
    for (i, share) in shares.into_iter().enumerate() {
        let (stop, totals, interval) = (stop.clone(), totals.clone(), options.poll_interval);
        handles.push(
            std::thread::Builder::new()
                .name(format!("switchyard-poll-{i}"))
                .spawn(move || fleet::worker_loop(share, interval, Duration::from_secs(1), stop, totals))
                .map_err(ServeError::Thread)?,
        );
    }
    let telemetry_stop = Arc::new(AtomicBool::new(false));
    let telemetry_thread = {
        let s = telemetry_stop.clone();
        std::thread::Builder::new().name("switchyard-telemetry".into()).spawn(move || telemetry.run(s)).map_err(ServeError::Thread)?
    };

    let plans_thread = {
        let (controller, s) = (operations::plans::PlanController::new(state.clone()), telemetry_stop.clone());
        std::thread::Builder::new().name("switchyard-migration".into()).spawn(move || controller.run(s)).map_err(ServeError::Thread)?
    };

    let mut peak_rss = 0u64;
    let mut peak_threads = 0usize;
    while !stop.load(Ordering::Acquire) {
        peak_threads = peak_threads.max(thread_count());
        if let Some(limit) = options.run_for {
            if started.elapsed() >= limit {
                stop.store(true, Ordering::Release);
                break;
            }
        }
        if let Some((_, rss)) = operations::telemetry::process_usage() {
            peak_rss = peak_rss.max(rss);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let streaming_seconds = streaming_since.elapsed().as_secs_f64();
    let streaming_cpu = operations::telemetry::process_usage().map(|(c, _)| c).unwrap_or_default().saturating_sub(streaming_cpu_before);
    tracing::info!("stopping: streams, recordings, sessions");
    // Clients get the grace period while the sessions stop, not after.
    server.begin_shutdown();
    for h in handles {
        let _ = h.join();
    }
    drop(emulators);
    telemetry_stop.store(true, Ordering::Release);
    let _ = telemetry_thread.join();
    let _ = plans_thread.join();
    server.shutdown();
    drop(state);
    if let Ok(runtime) = Arc::try_unwrap(runtime) {
        runtime.shutdown();
    }
    let cpu_after = operations::telemetry::process_usage().map(|(c, _)| c).unwrap_or_default();
    let summary = RunSummary {
        sessions: session_count,
        seconds: started.elapsed().as_secs_f64(),
        streaming_seconds,
        streaming_cpu_seconds: streaming_cpu.as_secs_f64(),
        samples_delivered: totals.delivered.load(Ordering::Relaxed),
        samples_dropped: totals.dropped.load(Ordering::Relaxed),
        read_errors: totals.errors.load(Ordering::Relaxed),
        cpu_seconds: (cpu_after.saturating_sub(cpu_before)).as_secs_f64(),
        peak_rss_bytes: peak_rss,
        peak_threads,
    };
    tracing::info!(?summary, "stopped");
    Ok(summary)
}

/// Sets `stop` on SIGINT or SIGTERM (a second signal exits at once). The handlers are
/// installed before this returns, so a signal that arrives during start-up is not lost.
fn watch_signals(stop: Arc<AtomicBool>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let (mut term, mut int) = rt.block_on(async { Ok::<_, std::io::Error>((signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?)) })?;
    std::thread::Builder::new().name("switchyard-signals".into()).spawn(move || {
        rt.block_on(async move {
            loop {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
                if stop.swap(true, Ordering::AcqRel) {
                    eprintln!("switchyard: second signal, exiting now");
                    std::process::exit(130);
                }
                tracing::info!("signal received; stopping (send again to exit at once)");
            }
        });
    })?;
    Ok(())
}
