//! Subcommand implementations. Each returns the process exit code.

pub mod check;
pub mod explain;

/// Everything went as asked.
pub const EXIT_OK: u8 = 0;
/// Something other than the config failed (e.g. writing the output).
pub const EXIT_FAILURE: u8 = 1;
/// The config is invalid (like `nginx -t`), or the arguments name something unknown.
pub const EXIT_INVALID_CONFIG: u8 = 2;

/// `--at` or the clock, as the toggles crate counts time.
pub fn now_or(at: Option<&str>) -> Result<toggles::Timestamp, String> {
    match at {
        Some(text) => toggles::Timestamp::parse(text),
        None => Ok(toggles::Timestamp::from_system_time(std::time::SystemTime::now())),
    }
}
