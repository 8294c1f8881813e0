//! `serve`'s log output: the level filter that the config's `log_level` sets at start and
//! on every applied reload, and colour only for a terminal.
//!
//! `RUST_LOG`, when set, wins for the whole run: an operator who set it to chase a problem
//! keeps it across reloads, and `log_level` is then not applied (said once at start).
//! `NO_COLOR` (any non-empty value) turns colour off even on a terminal.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use toggles::LogLevel;
use tracing_subscriber::{reload, EnvFilter, Registry};

type FilterHandle = reload::Handle<EnvFilter, Registry>;

static CONFIG_FILTER: OnceLock<FilterHandle> = OnceLock::new();
static RUST_LOG_WINS: AtomicBool = AtomicBool::new(false);

/// The level filter layer for the subscriber: `RUST_LOG` when set, else `default`, which
/// [`apply_level`] replaces once the config is read.
pub fn filter_layer(default: &str) -> reload::Layer<EnvFilter, Registry> {
    let from_env = std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty());
    let filter = match &from_env {
        Some(directives) => EnvFilter::try_new(directives).unwrap_or_else(|e| {
            eprintln!("switchyard: RUST_LOG={directives:?} is not a valid filter ({e}); logging at {default}");
            EnvFilter::new(default)
        }),
        None => EnvFilter::new(default),
    };
    let (layer, handle) = reload::Layer::new(filter);
    if from_env.is_some() {
        RUST_LOG_WINS.store(true, Ordering::Relaxed);
    } else {
        let _ = CONFIG_FILTER.set(handle);
    }
    layer
}

/// The `log_level` of the config at `path`, read before the runtime loads it so that its
/// first lines already follow it (`info` when the file cannot be read or parsed: the
/// runtime then reports why).
pub fn configured_level(path: &std::path::Path) -> LogLevel {
    std::fs::read_to_string(path).ok().and_then(|text| toggles::Config::parse(&text, path).ok()).map(|c| c.log_level).unwrap_or(LogLevel::Info)
}

/// Whether log lines on stderr may carry colour codes.
pub fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// What [`apply_level`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelApplied {
    Applied,
    /// `RUST_LOG` is set and decides.
    RustLogWins,
    /// No subscriber of `serve`'s in this process (a host of the C API has its own).
    NotOurs,
}

/// Sets the filter to `level`, unless `RUST_LOG` decides.
pub fn apply_level(level: LogLevel) -> LevelApplied {
    if RUST_LOG_WINS.load(Ordering::Relaxed) {
        return LevelApplied::RustLogWins;
    }
    match CONFIG_FILTER.get() {
        Some(handle) if handle.modify(|f| *f = EnvFilter::new(level.as_str())).is_ok() => LevelApplied::Applied,
        _ => LevelApplied::NotOurs,
    }
}
