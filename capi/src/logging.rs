//! BrainFlow's logging controls wired to `tracing`: levels 0 TRACE, 1 DEBUG, 2 INFO,
//! 3 WARN, 4 ERROR, 5 CRITICAL (shown as ERROR), 6 OFF. Logs go to stderr, or to the file
//! `set_log_file_board_controller` names.
//!
//! The subscriber is installed the first time a logging control is called, and only if
//! the host has not installed one of its own (then the host's subscriber decides).

use board_api::{BoardError, Result};
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::reload;

/// BrainFlow's default board-controller level: ERROR.
const DEFAULT_LEVEL: i32 = 4;
static LEVEL: AtomicI32 = AtomicI32::new(DEFAULT_LEVEL);
static LOG_FILE: Mutex<Option<File>> = Mutex::new(None);
static RELOAD: OnceLock<Option<reload::Handle<LevelFilter, tracing_subscriber::Registry>>> = OnceLock::new();

fn filter_of(level: i32) -> LevelFilter {
    match level {
        0 => LevelFilter::TRACE,
        1 => LevelFilter::DEBUG,
        2 => LevelFilter::INFO,
        3 => LevelFilter::WARN,
        4 | 5 => LevelFilter::ERROR,
        _ => LevelFilter::OFF,
    }
}

struct Writer;

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut file = LOG_FILE.lock().unwrap_or_else(|p| p.into_inner());
        match file.as_mut() {
            Some(f) => f.write(buf),
            None => std::io::stderr().write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let mut file = LOG_FILE.lock().unwrap_or_else(|p| p.into_inner());
        match file.as_mut() {
            Some(f) => f.flush(),
            None => std::io::stderr().flush(),
        }
    }
}

fn install() -> Option<&'static reload::Handle<LevelFilter, tracing_subscriber::Registry>> {
    RELOAD
        .get_or_init(|| {
            use tracing_subscriber::layer::SubscriberExt;
            let (filter, handle) = reload::Layer::new(filter_of(LEVEL.load(Ordering::Relaxed)));
            let subscriber = tracing_subscriber::registry()
                .with(filter)
                .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(|| Writer));
            tracing::subscriber::set_global_default(subscriber).ok().map(|_| handle)
        })
        .as_ref()
}

/// Installs the library's subscriber unless the host has one (stderr, level ERROR by
/// default), so that errors the operator must see are not dropped.
pub(crate) fn ensure_installed() {
    install();
}

pub(crate) fn set_level(level: i32) -> Result<()> {
    if !(0..=6).contains(&level) {
        return Err(BoardError::invalid_arguments(format!(
            "log level {level} does not exist (0 trace .. 5 critical, 6 off)"
        )));
    }
    LEVEL.store(level, Ordering::Relaxed);
    if let Some(handle) = install() {
        handle
            .modify(|f| *f = filter_of(level))
            .map_err(|e| BoardError::general(format!("could not change the log level: {e}")))?;
    }
    Ok(())
}

pub(crate) fn set_file(path: &str) -> Result<()> {
    let file = File::create(path)
        .map_err(|e| BoardError::invalid_arguments(format!("cannot open log file {path:?}: {e}")))?;
    *LOG_FILE.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
    install();
    Ok(())
}

pub(crate) fn message(level: i32, text: &str) -> Result<()> {
    if !(0..=6).contains(&level) {
        return Err(BoardError::invalid_arguments(format!("log level {level} does not exist (0..6)")));
    }
    install();
    if level < LEVEL.load(Ordering::Relaxed) {
        return Ok(());
    }
    match level {
        0 => tracing::trace!(target: "board_controller", "{text}"),
        1 => tracing::debug!(target: "board_controller", "{text}"),
        2 => tracing::info!(target: "board_controller", "{text}"),
        3 => tracing::warn!(target: "board_controller", "{text}"),
        4 | 5 => tracing::error!(target: "board_controller", "{text}"),
        _ => {}
    }
    Ok(())
}
