//! The breaker's plain configuration. Parsing (YAML, hot reload) belongs to `toggles`,
//! which builds these values; the breaker only validates and applies them.

use std::time::Duration;

/// The exit codes that are the caller's fault (`board_api::ExitCode::is_caller_error`:
/// bad arguments, calls in the wrong order). They are never counted, whatever
/// `ignored_exit_codes` says, and they are its default.
pub fn caller_error_codes() -> Vec<i32> {
    board_api::caller_error_codes().collect()
}

/// Everything that decides when one board kind's Rust path stops being trusted.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerConfig {
    /// Who decides: the breaker itself, or an operator override.
    pub mode: OperatorMode,
    /// Which recent calls are judged.
    pub window: WindowConfig,
    /// Percent (0..=100) of failed calls in the window at or above which the breaker opens.
    pub failure_rate_threshold: f64,
    /// Percent (0..=100) of slow calls in the window at or above which the breaker opens.
    pub slow_call_rate_threshold: f64,
    /// A call that takes at least this long (or is still running after it) is slow.
    pub slow_call_duration: Duration,
    /// No rate is judged until the window holds at least this many calls.
    pub minimum_calls: u32,
    /// Probe calls let through in HALF_OPEN before it decides (at least 1).
    pub permitted_probes: u32,
    /// How long OPEN lasts before probing; grows with each reopen when exponential.
    pub open_wait: Backoff,
    /// HALF_OPEN that has not finished its probes after this long reopens.
    pub max_half_open: Option<Duration>,
    /// BrainFlow exit codes that are not counted at all. The caller's own errors
    /// ([`caller_error_codes`]) are never counted whether listed or not; list more codes
    /// here to ignore them too. Defaults to exactly the caller's errors.
    pub ignored_exit_codes: Vec<i32>,
}

/// Operator override of the automatic state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorMode {
    /// The breaker opens, probes and closes by itself.
    Automatic,
    /// The Rust path is off until an operator releases it.
    ForcedOpen,
    /// Never trips; still measures and reports rates.
    Disabled,
    /// Computes and reports the state it would be in, never refuses a call.
    MetricsOnly,
}

/// Which recent calls the rates are computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowConfig {
    /// The last `calls` recorded calls.
    Count { calls: u32 },
    /// The last `seconds` seconds, kept in `buckets` equal buckets.
    Time { seconds: u32, buckets: u32 },
}

/// The wait in OPEN before HALF_OPEN.
#[derive(Debug, Clone, PartialEq)]
pub enum Backoff {
    /// Always the same wait.
    Constant(Duration),
    /// `initial × multiplier^(reopens)`, capped at `max`, then spread by ±`jitter`
    /// (a fraction 0..=1 of the wait) so a fleet does not probe in lockstep.
    Exponential {
        initial: Duration,
        multiplier: f64,
        max: Duration,
        jitter: f64,
    },
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            mode: OperatorMode::Automatic,
            window: WindowConfig::Count { calls: 100 },
            failure_rate_threshold: 50.0,
            slow_call_rate_threshold: 50.0,
            slow_call_duration: Duration::from_millis(250),
            minimum_calls: 20,
            permitted_probes: 5,
            open_wait: Backoff::Exponential {
                initial: Duration::from_secs(5),
                multiplier: 2.0,
                max: Duration::from_secs(300),
                jitter: 0.2,
            },
            max_half_open: Some(Duration::from_secs(60)),
            ignored_exit_codes: caller_error_codes(),
        }
    }
}

/// A configuration value outside its bounds; the message names the field and the bound.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ConfigError {
    /// The offending field, as spelled in the YAML.
    pub field: &'static str,
    /// What is wrong and what would be accepted.
    pub problem: String,
}

impl ConfigError {
    fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self {
            field,
            problem: problem.into(),
        }
    }
}

/// Largest count window; bounds the ring's memory (one byte per call).
pub const MAX_COUNT_WINDOW: u32 = 1 << 20;
/// Largest exit code that can be ignored (they are kept as a 64-bit mask on the call path).
pub const MAX_IGNORABLE_EXIT_CODE: i32 = 63;
/// Largest number of time buckets.
pub const MAX_TIME_BUCKETS: u32 = 3600;

/// Most probes one HALF_OPEN round may permit (probe counts are 16-bit on the call path).
pub const MAX_PROBES: u32 = 10_000;

fn check_percent(field: &'static str, value: f64) -> Result<(), ConfigError> {
    if value.is_nan() {
        return Err(ConfigError::new(
            field,
            "is not a number; give a percent from 0 to 100",
        ));
    }
    if value < 0.0 {
        return Err(ConfigError::new(field, format!("{value} is below 0")));
    }
    if value == 0.0 {
        // Rates trip at or above the threshold, so 0 would open on any judged window.
        return Err(ConfigError::new(
            field,
            "0 would open the breaker on every window; to keep the Rust path off use mode ForcedOpen",
        ));
    }
    if value > 100.0 {
        return Err(ConfigError::new(field, format!("{value} is above 100")));
    }
    Ok(())
}

impl BreakerConfig {
    /// Checks every bound; the first violation is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_percent("failure_rate_threshold", self.failure_rate_threshold)?;
        check_percent("slow_call_rate_threshold", self.slow_call_rate_threshold)?;
        match self.window {
            WindowConfig::Count { calls } => {
                if calls == 0 {
                    return Err(ConfigError::new("window.calls", "0 is below 1"));
                }
                if calls > MAX_COUNT_WINDOW {
                    return Err(ConfigError::new(
                        "window.calls",
                        format!("{calls} is above {MAX_COUNT_WINDOW}"),
                    ));
                }
            }
            WindowConfig::Time { seconds, buckets } => {
                if seconds == 0 {
                    return Err(ConfigError::new("window.seconds", "0 is below 1"));
                }
                if buckets == 0 {
                    return Err(ConfigError::new("window.buckets", "0 is below 1"));
                }
                if buckets > MAX_TIME_BUCKETS {
                    return Err(ConfigError::new(
                        "window.buckets",
                        format!("{buckets} is above {MAX_TIME_BUCKETS}"),
                    ));
                }
                if buckets > seconds.saturating_mul(1000) {
                    return Err(ConfigError::new(
                        "window.buckets",
                        format!(
                            "{buckets} buckets over {seconds} s would be shorter than 1 ms each"
                        ),
                    ));
                }
            }
        }
        if self.slow_call_duration.is_zero() {
            return Err(ConfigError::new("slow_call_duration", "0 is below 1 ms"));
        }
        if self.permitted_probes == 0 {
            return Err(ConfigError::new("permitted_probes", "0 is below 1"));
        }
        if self.permitted_probes > MAX_PROBES {
            return Err(ConfigError::new(
                "permitted_probes",
                format!("{} is above {MAX_PROBES}", self.permitted_probes),
            ));
        }
        match &self.open_wait {
            Backoff::Constant(wait) => {
                if wait.is_zero() {
                    return Err(ConfigError::new("open_wait", "0 is below 1 ms"));
                }
            }
            Backoff::Exponential {
                initial,
                multiplier,
                max,
                jitter,
            } => {
                if initial.is_zero() {
                    return Err(ConfigError::new("open_wait.initial", "0 is below 1 ms"));
                }
                if multiplier.is_nan() || *multiplier < 1.0 {
                    return Err(ConfigError::new(
                        "open_wait.multiplier",
                        format!("{multiplier} is below 1.0"),
                    ));
                }
                if max < initial {
                    return Err(ConfigError::new(
                        "open_wait.max",
                        format!("{max:?} is below open_wait.initial {initial:?}"),
                    ));
                }
                if jitter.is_nan() || *jitter < 0.0 || *jitter > 1.0 {
                    return Err(ConfigError::new(
                        "open_wait.jitter",
                        format!("{jitter} is outside 0.0..=1.0"),
                    ));
                }
            }
        }
        for &code in &self.ignored_exit_codes {
            if !(0..=MAX_IGNORABLE_EXIT_CODE).contains(&code) {
                return Err(ConfigError::new(
                    "ignored_exit_codes",
                    format!("{code} is outside 0..={MAX_IGNORABLE_EXIT_CODE}"),
                ));
            }
        }
        if let Some(limit) = self.max_half_open {
            if limit.is_zero() {
                return Err(ConfigError::new(
                    "max_half_open",
                    "0 is below 1 ms; omit it for no limit",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(BreakerConfig::default().validate(), Ok(()));
    }

    #[test]
    fn errors_name_field_and_bound() {
        let config = BreakerConfig {
            failure_rate_threshold: 140.0,
            ..Default::default()
        };
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "failure_rate_threshold: 140 is above 100"
        );
        let config = BreakerConfig {
            permitted_probes: 0,
            ..Default::default()
        };
        assert_eq!(config.validate().unwrap_err().field, "permitted_probes");
        let config = BreakerConfig {
            window: WindowConfig::Time {
                seconds: 10,
                buckets: 0,
            },
            ..Default::default()
        };
        assert_eq!(config.validate().unwrap_err().field, "window.buckets");
    }
}
