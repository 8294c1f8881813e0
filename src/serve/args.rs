//! The `serve` subcommand's arguments and its exit codes.

use super::{ServeError, ServeOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// The toggles config to load and watch.
    #[arg(long, default_value = "config/switchyard.yaml")]
    pub config: PathBuf,
    /// The sessions to open [default: sessions.yaml next to the config, if present].
    #[arg(long)]
    pub sessions_file: Option<PathBuf>,
    /// Adds N synthetic sessions with distinct identities (not recorded).
    #[arg(long, default_value_t = 0)]
    pub sessions: usize,
    /// Monitoring address [default: monitoring.listen from the config, 127.0.0.1:9464].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Folder for the CSV recordings.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// File holding the operator token (else the SWITCHYARD_CONTROL_TOKEN variable;
    /// without either, HTTP controls are disabled).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Milliseconds between two reads of each session.
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
    /// Threads polling the sessions.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Stop by itself after this many seconds (rehearsals, benchmarks).
    #[arg(long)]
    pub run_for_secs: Option<f64>,
    /// Print the run summary as one JSON line on stdout at exit.
    #[arg(long)]
    pub summary_json: bool,
}

impl ServeArgs {
    pub fn options(&self) -> ServeOptions {
        ServeOptions {
            config: self.config.clone(),
            sessions_file: self.sessions_file.clone(),
            extra_sessions: self.sessions,
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            token_file: self.token_file.clone(),
            poll_interval: Duration::from_millis(self.poll_ms.max(1)),
            workers: self.workers,
            run_for: self.run_for_secs.map(Duration::from_secs_f64),
        }
    }
}

/// Installs the log subscriber (stderr; `RUST_LOG`, else the config's `log_level`: see
/// [`super::logging`]), in the format `--log-format` chose.
pub fn init_logging(config: &std::path::Path) {
    crate::logging::install(super::logging::filter_layer(super::logging::configured_level(config).as_str()), super::logging::colour());
}

/// Runs `serve`; the exit code is 0 after a clean stop, 1 when it could not start.
pub fn run(args: &ServeArgs) -> u8 {
    init_logging(&args.config);
    match super::run(&args.options()) {
        Ok(summary) => {
            if args.summary_json {
                println!("{}", serde_json::to_string(&summary).unwrap_or_default());
            }
            0
        }
        Err(e) => {
            let e: ServeError = e;
            eprintln!("switchyard serve: {e}");
            1
        }
    }
}

#[derive(clap::Parser)]
struct DefaultsOnly {
    #[command(flatten)]
    args: ServeArgs,
}

/// The arguments `serve` has when none are given (`switchyard` with no subcommand).
pub fn defaults() -> ServeArgs {
    <DefaultsOnly as clap::Parser>::parse_from(["switchyard"]).args
}

/// Logging for short commands whose own output is the point (`drill`): warnings only,
/// unless `RUST_LOG` says otherwise.
pub fn init_logging_quiet() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    crate::logging::install(tracing_subscriber::reload::Layer::new(filter).0, super::logging::colour());
}
