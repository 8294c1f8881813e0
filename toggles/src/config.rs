//! The YAML config model: what operators write, how it is checked, and the validated
//! [`Config`] that decisions read. `docs/config.md` documents every field.

use crate::hash;
use crate::targeting::TargetIndex;
use crate::units::{DurationText, Percent, Timestamp};
use board_api::BoardId;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::time::Duration;

/// Largest config file read. The shipped config is a few KiB; anything near this limit
/// is a mistake (a log written over the config, a wrong path), not a config.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The path a session runs in, and the mode a board is configured in (the same four words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Path {
    /// The legacy C++ implementation serves alone.
    Cpp,
    /// The Rust implementation serves alone.
    Rust,
    /// C++ serves; Rust runs alongside on the same input and is compared.
    Shadow,
    /// Rust serves; C++ runs alongside, ready to take over.
    Standby,
}

/// A board's configured mode uses the same vocabulary as the decided path.
pub type Mode = Path;

impl Path {
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Cpp => "cpp",
            Path::Rust => "rust",
            Path::Shadow => "shadow",
            Path::Standby => "standby",
        }
    }

    /// Whether this path needs the board's C++ implementation.
    pub fn needs_cpp(self) -> bool {
        !matches!(self, Path::Rust)
    }

    /// Whether the Rust implementation serves the session's data.
    pub fn rust_serves(self) -> bool {
        matches!(self, Path::Rust | Path::Standby)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The log level the runtime starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// Where the monitoring endpoint listens and which host names it answers to. Both are
/// read at start: a change takes effect at the next restart.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Names the server answers to in `Host`/`Origin` besides loopback names and the
    /// listen address (`"*"`: any, which gives up the DNS-rebinding protection).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9464))
}

impl Default for MonitoringConfig {
    fn default() -> Self {
        MonitoringConfig { listen: default_listen(), allowed_hosts: Vec::new() }
    }
}

/// A field of the session's identity that can serve as the stickiness value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StickinessKey {
    SerialNumber,
    MacAddress,
    SerialPort,
    File,
    OtherInfo,
    SessionKey,
}

impl StickinessKey {
    /// The order tried when a board does not choose: the device's own identity first, so
    /// a device keeps its bucket across processes and hosts; the explicit key last.
    pub const AUTO: [StickinessKey; 6] = [
        StickinessKey::SerialNumber,
        StickinessKey::MacAddress,
        StickinessKey::SerialPort,
        StickinessKey::File,
        StickinessKey::OtherInfo,
        StickinessKey::SessionKey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StickinessKey::SerialNumber => "serial_number",
            StickinessKey::MacAddress => "mac_address",
            StickinessKey::SerialPort => "serial_port",
            StickinessKey::File => "file",
            StickinessKey::OtherInfo => "other_info",
            StickinessKey::SessionKey => "session_key",
        }
    }
}

impl fmt::Display for StickinessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which legacy C++ serves a board's C++ path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Legacy {
    /// switchyard's own C++ core (`core_cpp/`): needs nothing installed.
    #[default]
    CoreCpp,
    /// BrainFlow's own `libBoardController.so`, from `brainflow.library` or the
    /// `SWITCHYARD_BRAINFLOW_LIBRARY` environment variable.
    #[serde(rename = "brainflow")]
    BrainFlow,
}

impl Legacy {
    /// A board only BrainFlow implements has only BrainFlow's library for its C++ path;
    /// every other board has switchyard's own core unless the file says otherwise.
    pub fn default_for(board: BoardId) -> Legacy {
        if board.is_legacy_only() {
            Legacy::BrainFlow
        } else {
            Legacy::CoreCpp
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Legacy::CoreCpp => "core_cpp",
            Legacy::BrainFlow => "brainflow",
        }
    }
}

/// What live Rust sessions do when the board's breaker opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnBreakerOpen {
    /// Move every live Rust session of the board to C++ at once.
    #[default]
    MoveNow,
    /// Move a live session only when its own next Rust call fails.
    OnNextFailure,
}

/// What sessions moved off Rust (a failure, the breaker, the kill switch) do once Rust is
/// admitted again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failback {
    /// They return to the path their toggles decide, a share at a time, losslessly.
    #[default]
    Automatic,
    /// They stay on C++ until they end; new sessions follow the toggles.
    Manual,
}

/// Shadow comparison settings.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowConfig {
    /// Share of shadow sessions whose Rust side actually runs and is compared.
    #[serde(default = "hundred")]
    pub sample_percent: Percent,
    /// Largest relative difference between two samples still counted as equal.
    #[serde(default = "default_tolerance", deserialize_with = "tolerance")]
    pub float_tolerance: f64,
}

fn hundred() -> Percent {
    Percent::HUNDRED
}

fn default_tolerance() -> f64 {
    1e-9
}

fn tolerance<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(de::Error::custom(format!(
            "{v} is not a relative tolerance; give a number from 0 to 1 (like 1e-9)"
        )));
    }
    Ok(v)
}

impl Default for ShadowConfig {
    fn default() -> Self {
        ShadowConfig { sample_percent: Percent::HUNDRED, float_tolerance: default_tolerance() }
    }
}

/// Faults the dispatcher injects into the Rust path only, for drills. All off by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// Percent of Rust calls that fail with an error.
    #[serde(default)]
    pub error_rate: Percent,
    /// Percent of Rust calls that panic.
    #[serde(default)]
    pub panic_rate: Percent,
    /// Percent of Rust calls whose data is corrupted.
    #[serde(default)]
    pub corrupt_rate: Percent,
    /// Delay added to every Rust call.
    #[serde(default)]
    pub added_latency: DurationText,
    /// Percent of Rust calls that never return (`true` = 100, `false` = 0).
    #[serde(default, deserialize_with = "hang_rate")]
    pub hang: Percent,
}

impl FaultConfig {
    pub fn any(&self) -> bool {
        *self != FaultConfig::default()
    }
}

fn hang_rate<'de, D: Deserializer<'de>>(d: D) -> Result<Percent, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Percent;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("true, false, or a percentage from 0 to 100")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Percent, E> {
            Ok(if v { Percent::HUNDRED } else { Percent::ZERO })
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent, E> {
            Percent::from_f64(v).map_err(E::custom)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
            Percent::from_f64(v as f64).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent, E> {
            Percent::from_f64(v as f64).map_err(E::custom)
        }
    }
    d.deserialize_any(V)
}

/// How the share of sessions on the board's Rust-side mode is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    Fixed(Percent),
    Ramp(Ramp),
}

/// A time-stepped cutover: `steps[i]` is in force from `start + i × step_duration`; the
/// last step stays in force; before `start` no session is inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ramp {
    pub start: Timestamp,
    pub step_duration: Duration,
    pub steps: Vec<Percent>,
}

/// Where a ramp stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RampPosition {
    NotStarted { first_step_at: Timestamp },
    Step { index: usize, percent: Percent, since: Timestamp, next_at: Option<Timestamp> },
}

impl Ramp {
    /// The step in force at `now`: a pure function of the config and the clock, so every
    /// host agrees without talking to the others.
    pub fn position(&self, now: Timestamp) -> RampPosition {
        let step_ms = (self.step_duration.as_millis() as i64).max(1);
        if now.0 < self.start.0 {
            return RampPosition::NotStarted { first_step_at: self.start };
        }
        let elapsed_steps = (now.0 - self.start.0) / step_ms;
        let last = self.steps.len() - 1;
        let index = usize::try_from(elapsed_steps).unwrap_or(usize::MAX).min(last);
        let since = Timestamp(self.start.0 + index as i64 * step_ms);
        let next_at = (index < last).then(|| Timestamp(since.0 + step_ms));
        RampPosition::Step { index, percent: self.steps[index], since, next_at }
    }

    /// The percentage in force at `now` (0 before the start).
    pub fn percent_at(&self, now: Timestamp) -> Percent {
        match self.position(now) {
            RampPosition::NotStarted { .. } => Percent::ZERO,
            RampPosition::Step { percent, .. } => percent,
        }
    }
}

/// Sessions matched by identity always get `serve`, whatever the percentage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetingRule {
    pub name: String,
    pub serve: Path,
    /// Each list is sorted so that matching is a binary search without allocation.
    pub serial_number: Vec<String>,
    /// Upper-cased; matched without regard to case.
    pub mac_address: Vec<String>,
    pub serial_port: Vec<String>,
    pub file: Vec<String>,
    pub other_info: Vec<String>,
    pub session_key: Vec<String>,
}

/// One board kind's settings, complete with defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardConfig {
    pub board: BoardId,
    /// Whether the file mentions this board; unlisted boards take the default path.
    pub listed: bool,
    pub mode: Mode,
    pub rollout: Rollout,
    pub stickiness: Vec<StickinessKey>,
    pub salt: String,
    pub(crate) seed: u32,
    pub targeting: Vec<TargetingRule>,
    /// `targeting` compiled for the hot path.
    pub(crate) target_index: TargetIndex,
    pub shadow: ShadowConfig,
    pub breaker: breaker::BreakerConfig,
    pub faults: FaultConfig,
    pub on_breaker_open: OnBreakerOpen,
    pub follow_percent_decrease: bool,
    pub failback: Failback,
    /// Which legacy C++ serves the C++ path.
    pub legacy: Legacy,
    /// The board's migration plan, when it has one: `mode` and `rollout` are then its
    /// first stage's until the plan's controller overlays another stage.
    pub migration: Option<crate::plan::MigrationPlan>,
}

impl BoardConfig {
    /// The settings of a board the file does not mention: C++ where it exists, else Rust.
    pub fn unlisted(board: BoardId) -> BoardConfig {
        let salt = board.kind().to_owned();
        BoardConfig {
            board,
            listed: false,
            mode: default_path(board),
            rollout: Rollout::Fixed(Percent::HUNDRED),
            stickiness: StickinessKey::AUTO.to_vec(),
            seed: hash::salt_seed(&salt),
            salt,
            targeting: Vec::new(),
            target_index: TargetIndex::default(),
            shadow: ShadowConfig::default(),
            breaker: breaker::BreakerConfig::default(),
            faults: FaultConfig::default(),
            on_breaker_open: OnBreakerOpen::default(),
            follow_percent_decrease: false,
            failback: Failback::default(),
            legacy: Legacy::default_for(board),
            migration: None,
        }
    }

    /// The percentage in force at `now`.
    pub fn percent_at(&self, now: Timestamp) -> Percent {
        match &self.rollout {
            Rollout::Fixed(p) => *p,
            Rollout::Ramp(r) => r.percent_at(now),
        }
    }

    /// One line an operator reads: what this board does.
    pub fn summary(&self, now: Timestamp) -> String {
        let mut s = if !self.listed {
            format!("{} (not in config: default)", self.mode)
        } else if self.mode == Path::Cpp {
            "cpp".to_owned()
        } else {
            match &self.rollout {
                Rollout::Fixed(p) if *p == Percent::HUNDRED => format!("{}", self.mode),
                Rollout::Fixed(p) => format!("{} for {p} of sessions, cpp for the rest", self.mode),
                Rollout::Ramp(r) => {
                    let steps: Vec<String> = r.steps.iter().map(|p| p.to_string()).collect();
                    let mut line = format!(
                        "{} ramp {} every {} from {}",
                        self.mode,
                        steps.join(" -> "),
                        DurationText(r.step_duration),
                        r.start
                    );
                    match r.position(now) {
                        RampPosition::NotStarted { .. } => line.push_str(" (not started: 0% now)"),
                        RampPosition::Step { index, percent, .. } => {
                            line.push_str(&format!(" (step {} of {}: {percent} now)", index + 1, r.steps.len()))
                        }
                    }
                    line
                }
            }
        };
        if self.listed && self.mode != Path::Cpp && !self.percent_is_static() {
            let keys: Vec<&str> = self.stickiness.iter().map(|k| k.as_str()).collect();
            s.push_str(&format!("; sticky by {}", keys.join(", ")));
        }
        if !self.targeting.is_empty() {
            let rules: Vec<String> =
                self.targeting.iter().map(|r| format!("{} -> {}", r.name, r.serve)).collect();
            s.push_str(&format!("; targeting {}", rules.join(", ")));
        }
        if self.mode == Path::Shadow && self.shadow.sample_percent != Percent::HUNDRED {
            s.push_str(&format!("; shadow sample {}", self.shadow.sample_percent));
        }
        if self.legacy == Legacy::BrainFlow {
            s.push_str("; C++ path: BrainFlow's library");
        }
        if let Some(plan) = &self.migration {
            let stages: Vec<String> = plan.stages.iter().map(|st| st.describe()).collect();
            s = format!(
                "migration plan from {} (boundaries every {}, evidence {}): {}; before any evidence: {s}",
                plan.start,
                DurationText(plan.check_every),
                match &plan.evidence {
                    crate::plan::Evidence::Prometheus(p) => format!("prometheus {}", p.url),
                    crate::plan::Evidence::Local => "local".to_owned(),
                },
                stages.join(" -> ")
            );
        }
        if self.faults.any() {
            s.push_str("; FAULT INJECTION ON");
        }
        s
    }

    pub(crate) fn percent_is_static(&self) -> bool {
        matches!(self.rollout, Rollout::Fixed(p) if p == Percent::ZERO || p == Percent::HUNDRED)
    }
}

/// The path of a board the config does not mention.
pub fn default_path(board: BoardId) -> Path {
    if board.has_cpp_implementation() {
        Path::Cpp
    } else {
        Path::Rust
    }
}

/// Dense index of a board kind, for lock-free array lookups on the hot path.
pub(crate) fn board_index(board: BoardId) -> usize {
    board.index()
}

/// How many board kinds a config holds settings for: every BrainFlow board id.
const BOARD_COUNT: usize = BoardId::EVERY.len();

/// A whole validated config.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub kill_switch: bool,
    pub log_level: LogLevel,
    pub monitoring: MonitoringConfig,
    /// `brainflow.library`: BrainFlow's `libBoardController.so`, for boards with
    /// `legacy: brainflow` (the environment variable wins when set).
    pub brainflow_library: Option<PathBuf>,
    /// Indexed by [`board_index`]: an array, so that indexing needs no bounds check.
    boards: Box<[BoardConfig; BOARD_COUNT]>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            kill_switch: false,
            log_level: LogLevel::Info,
            monitoring: MonitoringConfig::default(),
            brainflow_library: None,
            boards: Box::new(BoardId::EVERY.map(BoardConfig::unlisted)),
        }
    }
}

impl Config {
    /// The settings of one board kind (defaults when the file does not mention it).
    pub fn board(&self, board: BoardId) -> &BoardConfig {
        &self.boards[board_index(board)]
    }

    /// This config with `board` in stage `index` of its migration plan (unchanged when
    /// the board has no such stage): what a host whose plan stands there decides on.
    pub fn with_plan_stage(mut self, board: BoardId, index: usize) -> Config {
        self.board_mut(board).overlay_stage(index);
        self
    }

    pub(crate) fn board_mut(&mut self, board: BoardId) -> &mut BoardConfig {
        &mut self.boards[board_index(board)]
    }

    pub(crate) fn boards_slice(&self) -> &[BoardConfig; BOARD_COUNT] {
        &self.boards
    }

    /// Whether any board the file names runs its C++ path on BrainFlow's library.
    pub fn uses_brainflow(&self) -> bool {
        self.boards().any(|b| b.legacy == Legacy::BrainFlow)
    }

    /// The boards switchyard implements ([`BoardId::ALL`] order), then the BrainFlow-only
    /// boards the file names. The others of those exist too (see [`Config::board`]), all
    /// on the default path, and would only be noise in a summary.
    pub fn boards(&self) -> impl Iterator<Item = &BoardConfig> {
        BoardId::EVERY.iter().map(move |b| self.board(*b)).filter(|b| !b.board.is_legacy_only() || b.listed)
    }

    /// Parses and validates YAML text. `file` names the source in errors.
    pub fn parse(text: &str, file: &FsPath) -> Result<Config, ConfigError> {
        let no_content = text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
        });
        if no_content {
            return Err(ConfigError::whole_file(
                file,
                "the file is empty (no settings, only blanks or comments); a config needs at least `boards:` (see docs/config.md)",
            ));
        }
        crate::strict::check(text).map_err(|e| ConfigError {
            file: file.to_owned(),
            line: Some(e.line),
            column: Some(e.column),
            field: e.field,
            problem: e.problem,
        })?;
        let raw: RawConfig = serde_saphyr::with_deserializer_from_str_with_options(
            text,
            parse_options(),
            |d| {
                serde_path_to_error::deserialize::<_, RawConfig>(d).map_err(|e| {
                    let path = clean_path(&e.path().to_string());
                    PATH.with(|p| *p.borrow_mut() = path);
                    e.into_inner()
                })
            },
        )
        .map_err(|e| ConfigError::from_yaml(file, &e))?;
        raw.validate(file)
    }
}

thread_local! {
    // serde-saphyr's error type has no room for the field path, so the closure that sees
    // the path hands it over here; it is read right after on the same thread.
    static PATH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn clean_path(path: &str) -> String {
    let cleaned = path.replace(".value", "");
    if cleaned == "." { String::new() } else { cleaned }
}

fn parse_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    // A real config has a few hundred events; these budgets stop alias bombs and
    // pathological nesting long before they cost time or memory.
    budget.max_events = 200_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_reader_input_bytes = Some(MAX_CONFIG_BYTES as usize);
    let mut aliases = serde_saphyr::options::AliasLimits::default();
    aliases.max_total_replayed_events = 100_000;
    aliases.max_replay_stack_depth = 16;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits = aliases;
    options.strict_booleans = true;
    options.duplicate_keys = serde_saphyr::options::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    options
}

/// Why a config was not applied: the file, where in it, which field, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based line and column of the offending value, when the problem has a place.
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// Dotted field path such as `boards.cyton.percent`; empty for the whole file.
    pub field: String,
    pub problem: String,
}

impl ConfigError {
    pub fn whole_file(file: &FsPath, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.to_owned(),
            line: None,
            column: None,
            field: String::new(),
            problem: problem.into(),
        }
    }

    pub(crate) fn at<T>(file: &FsPath, span: &Spanned<T>, field: impl Into<String>, problem: impl Into<String>) -> ConfigError {
        let known = span.referenced.line() > 0;
        ConfigError {
            file: file.to_owned(),
            line: known.then(|| span.referenced.line()),
            column: known.then(|| span.referenced.column()),
            field: field.into(),
            problem: problem.into(),
        }
    }

    fn from_yaml(file: &FsPath, e: &serde_saphyr::Error) -> ConfigError {
        let field = PATH.with(|p| std::mem::take(&mut *p.borrow_mut()));
        let location = e.location().filter(|l| l.line() > 0);
        let mut problem = e.without_snippet().to_string();
        // The location is reported separately; drop the parser's own copy of it.
        if let Some(i) = problem.rfind(" at line ") {
            problem.truncate(i);
        }
        ConfigError {
            file: file.to_owned(),
            line: location.map(|l| l.line()),
            column: location.map(|l| l.column()),
            field,
            problem: in_our_words(problem),
        }
    }

    fn render(&self) -> String {
        let mut s = self.file.display().to_string();
        if let (Some(line), Some(column)) = (self.line, self.column) {
            s.push_str(&format!(":{line}:{column}"));
        }
        s.push_str(": ");
        if !self.field.is_empty() {
            s.push_str(&self.field);
            s.push_str(": ");
        }
        s.push_str(&self.problem);
        s
    }
}

/// The parser's messages that name its own API or types, said as what to fix in the file.
/// Most bad forms are caught earlier by the strict pass; these are what is left.
fn in_our_words(problem: String) -> String {
    let p = problem.as_str();
    let said = if p.starts_with("expected string scalar") {
        "expected text here, not a list or a map"
    } else if p.starts_with("expected mapping start") {
        "expected a map of settings here (`key: value` lines, or `{}` for none)"
    } else if p.starts_with("expected sequence start") {
        "expected a list here, like [a, b]"
    } else if p.starts_with("invalid floating point") {
        "is not a number; write a plain decimal number"
    } else if p.starts_with("invalid boolean") {
        "is not a boolean; write true or false (lower case, no quotes)"
    } else if p.strip_prefix("invalid ").is_some_and(|t| t.len() <= 4 && (t.starts_with('i') || t.starts_with('u'))) {
        "is not a whole number in range; write one in decimal digits, like 10"
    } else if p.starts_with("cannot deserialize null into string") {
        "has no value; write the text here"
    } else if p.starts_with("unexpected end of input") {
        "the file ends in the middle of a value; check its last lines"
    } else if p.starts_with("alias references unknown anchor") {
        "this alias (`*name`) has no anchor (`&name`) before it"
    } else if p.starts_with("budget breached") || p.contains("alias replay") || p.contains("alias expansion") {
        "the file expands to far more data than a config holds (anchors and aliases nested too deep); write the settings out"
    } else if p.starts_with("multiple YAML documents") {
        "the file holds more than one YAML document; a config is one document: remove the extra `---`"
    } else if p.starts_with("duplicate mapping key") {
        "a key is given twice in one map; keep one"
    } else {
        return problem;
    };
    said.to_owned()
}

// ---- the raw shapes serde reads ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    kill_switch: bool,
    #[serde(default)]
    log_level: LogLevel,
    #[serde(default)]
    monitoring: MonitoringConfig,
    brainflow: Option<RawBrainFlow>,
    #[serde(default)]
    boards: BTreeMap<BoardKey, Spanned<RawBoardEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBrainFlow {
    library: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct BoardKey(BoardId);

impl<'de> Deserialize<'de> for BoardKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        BoardId::from_kind(&name)
            .map(BoardKey)
            .ok_or_else(|| de::Error::custom(format!("unknown board `{name}`; known boards: {}", BoardId::known_kinds())))
    }
}

/// A board is either just its mode (`cyton: rust`) or a map of settings.
enum RawBoardEntry {
    Mode(Path),
    Full(Box<RawBoard>),
}

impl<'de> Deserialize<'de> for RawBoardEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawBoardEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mode (cpp, rust, shadow, standby) or a map of board settings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawBoardEntry, E> {
                let path = Path::deserialize(de::value::StrDeserializer::<E>::new(s))?;
                Ok(RawBoardEntry::Mode(path))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<RawBoardEntry, A::Error> {
                RawBoard::deserialize(de::value::MapAccessDeserializer::new(m))
                    .map(|b| RawBoardEntry::Full(Box::new(b)))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoard {
    mode: Option<Spanned<Path>>,
    migration: Option<Spanned<crate::plan::RawPlan>>,
    percent: Option<Spanned<Percent>>,
    ramp: Option<Spanned<RawRamp>>,
    stickiness: Option<Spanned<Stickiness>>,
    salt: Option<String>,
    #[serde(default)]
    targeting: Vec<Spanned<RawRule>>,
    #[serde(default)]
    shadow: ShadowConfig,
    breaker: Option<Spanned<RawBreaker>>,
    #[serde(default)]
    faults: FaultConfig,
    #[serde(default)]
    on_breaker_open: OnBreakerOpen,
    #[serde(default)]
    follow_percent_decrease: bool,
    #[serde(default)]
    failback: Failback,
    legacy: Option<Spanned<Legacy>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRamp {
    start: Timestamp,
    step_duration: Spanned<StepDuration>,
    steps: Spanned<Vec<Spanned<Percent>>>,
}

/// A ramp step's duration: like any duration, but its hints name only values a ramp accepts.
struct StepDuration(Duration);

impl<'de> Deserialize<'de> for StepDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StepDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration of 1s or more, like 30s, 10m or 1h")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StepDuration, E> {
                DurationText::parse(v).map(StepDuration).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StepDuration, E> {
                Err(E::custom(bare_step_number(v as f64)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StepDuration, E> {
                Err(E::custom(bare_step_number(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<StepDuration, E> {
                Err(E::custom(bare_step_number(v)))
            }
        }
        d.deserialize_any(V)
    }
}

fn bare_step_number(v: f64) -> String {
    if v >= 1.0 {
        format!("{v} has no unit; write it like {v}s or {v}m")
    } else {
        format!("{v} has no unit, and a ramp step lasts at least 1s; write it like 30s, 10m or 1h")
    }
}

/// One key or a list of keys, tried in order.
struct Stickiness(Vec<StickinessKey>);

impl<'de> Deserialize<'de> for Stickiness {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Stickiness;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a stickiness key (serial_number, mac_address, serial_port, file, other_info, session_key, auto) or a list of them")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Stickiness, E> {
                if s == "auto" {
                    return Ok(Stickiness(StickinessKey::AUTO.to_vec()));
                }
                StickinessKey::deserialize(de::value::StrDeserializer::<E>::new(s)).map(|k| Stickiness(vec![k]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Stickiness, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = seq.next_element::<StickinessKey>()? {
                    if keys.contains(&k) {
                        return Err(de::Error::custom(format!("{k} is listed twice")));
                    }
                    keys.push(k);
                }
                if keys.is_empty() {
                    return Err(de::Error::custom("the list is empty; omit stickiness for auto"));
                }
                Ok(Stickiness(keys))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    serve: Spanned<Path>,
    #[serde(default)]
    serial_number: Vec<String>,
    #[serde(default)]
    mac_address: Vec<String>,
    #[serde(default)]
    serial_port: Vec<String>,
    #[serde(default)]
    file: Vec<String>,
    #[serde(default)]
    other_info: Vec<String>,
    #[serde(default)]
    session_key: Vec<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum RawBreakerMode {
    Automatic,
    ForcedOpen,
    Disabled,
    MetricsOnly,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBreaker {
    mode: Option<RawBreakerMode>,
    window: Option<Spanned<RawWindow>>,
    failure_rate_threshold: Option<Percent>,
    slow_call_rate_threshold: Option<Percent>,
    slow_call_duration: Option<DurationText>,
    minimum_calls: Option<u32>,
    permitted_probes: Option<u32>,
    open_wait: Option<RawBackoff>,
    max_half_open: Option<HalfOpenLimit>,
    ignored_exit_codes: Option<Vec<i32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    calls: Option<u32>,
    seconds: Option<u32>,
    buckets: Option<u32>,
}

enum RawBackoff {
    Constant(Duration),
    Exponential(RawExponential),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExponential {
    initial: DurationText,
    #[serde(default = "two")]
    multiplier: f64,
    max: DurationText,
    #[serde(default)]
    jitter: f64,
}

fn two() -> f64 {
    2.0
}

impl<'de> Deserialize<'de> for RawBackoff {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawBackoff;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like 30s, or {initial, multiplier, max, jitter}")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawBackoff, E> {
                DurationText::parse(s).map(RawBackoff::Constant).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<RawBackoff, A::Error> {
                RawExponential::deserialize(de::value::MapAccessDeserializer::new(m)).map(RawBackoff::Exponential)
            }
        }
        d.deserialize_any(V)
    }
}

/// `max_half_open: 60s`, or `off` for no limit.
struct HalfOpenLimit(Option<Duration>);

impl<'de> Deserialize<'de> for HalfOpenLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = HalfOpenLimit;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like 60s, or off")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<HalfOpenLimit, E> {
                if s == "off" {
                    return Ok(HalfOpenLimit(None));
                }
                DurationText::parse(s).map(|d| HalfOpenLimit(Some(d))).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

// ---- validation: the checks that span more than one value ----

impl RawConfig {
    fn validate(self, file: &FsPath) -> Result<Config, ConfigError> {
        let mut config = Config {
            kill_switch: self.kill_switch,
            log_level: self.log_level,
            monitoring: self.monitoring,
            brainflow_library: self.brainflow.and_then(|b| b.library),
            ..Config::default()
        };
        for (BoardKey(board), entry) in self.boards {
            let prefix = format!("boards.{}", board.kind());
            let span = Spanned::new((), entry.referenced, entry.defined);
            let parsed = match entry.value {
                RawBoardEntry::Mode(mode) => {
                    // The short form's span is the entry's own.
                    let mode = Spanned::new(mode, entry.referenced, entry.defined);
                    let raw = RawBoard {
                        mode: Some(mode),
                        migration: None,
                        percent: None,
                        ramp: None,
                        stickiness: None,
                        salt: None,
                        targeting: Vec::new(),
                        shadow: ShadowConfig::default(),
                        breaker: None,
                        faults: FaultConfig::default(),
                        on_breaker_open: OnBreakerOpen::default(),
                        follow_percent_decrease: false,
                        failback: Failback::default(),
                        legacy: None,
                    };
                    raw.validate(board, &prefix, file, &span)?
                }
                RawBoardEntry::Full(raw) => raw.validate(board, &prefix, file, &span)?,
            };
            config.boards[board_index(board)] = parsed;
        }
        Ok(config)
    }
}

fn check_mode_available(board: BoardId, mode: &Spanned<Path>, field: String, file: &FsPath) -> Result<(), ConfigError> {
    if board.is_legacy_only() && mode.value != Path::Cpp {
        return Err(ConfigError::at(
            file,
            mode,
            field,
            format!(
                "{} has no Rust twin (only BrainFlow's library implements it), so `{}` is not available; use cpp. Boards with Rust twins: {}",
                board.kind(),
                mode.value,
                BoardId::twinned_kinds()
            ),
        ));
    }
    if mode.value.needs_cpp() && !board.has_cpp_implementation() {
        return Err(ConfigError::at(
            file,
            mode,
            field,
            format!(
                "{} has no C++ implementation, so `{}` is not available; use rust",
                board.kind(),
                mode.value
            ),
        ));
    }
    Ok(())
}

impl RawBoard {
    fn validate(mut self, board: BoardId, prefix: &str, file: &FsPath, entry: &Spanned<()>) -> Result<BoardConfig, ConfigError> {
        let migration = match self.migration.take() {
            None => None,
            Some(raw) => Some(self.validate_migration_fields(board, raw, prefix, file)?),
        };
        let Some(mode_span) = &self.mode else {
            if let Some(plan) = migration {
                return self.finish(board, plan.stages[0].mode, Rollout::Fixed(Percent::HUNDRED), Some(plan), prefix, file);
            }
            return Err(ConfigError::at(file, entry, format!("{prefix}.mode"),
                "missing field `mode`: give the board a mode (cpp, rust, shadow or standby), or a migration plan"));
        };
        check_mode_available(board, mode_span, format!("{prefix}.mode"), file)?;
        let mode = mode_span.value;
        let rust_only = !board.has_cpp_implementation();
        let rollout = match (self.percent.take(), self.ramp.take()) {
            (Some(_), Some(ramp)) => {
                return Err(ConfigError::at(
                    file,
                    &ramp,
                    format!("{prefix}.ramp"),
                    "percent and ramp are both set and would disagree; keep one (the ramp sets the percentage over time)",
                ))
            }
            (Some(p), None) => {
                if mode == Path::Cpp && p.value != Percent::ZERO {
                    return Err(ConfigError::at(
                        file,
                        &p,
                        format!("{prefix}.percent"),
                        format!("mode cpp sends every session to C++, so percent {} would do nothing; set mode rust, shadow or standby to split", p.value),
                    ));
                }
                if rust_only && p.value != Percent::HUNDRED {
                    return Err(ConfigError::at(
                        file,
                        &p,
                        format!("{prefix}.percent"),
                        format!("{} has no C++ implementation for the other {} of sessions; remove percent", board.kind(), remainder(p.value)),
                    ));
                }
                Rollout::Fixed(p.value)
            }
            (None, Some(ramp)) => {
                if mode == Path::Cpp {
                    return Err(ConfigError::at(file, &ramp, format!("{prefix}.ramp"),
                        "mode cpp sends every session to C++, so a ramp would do nothing; set mode rust, shadow or standby"));
                }
                if rust_only {
                    return Err(ConfigError::at(file, &ramp, format!("{prefix}.ramp"),
                        format!("{} has no C++ implementation to ramp away from; remove the ramp", board.kind())));
                }
                Rollout::Ramp(validate_ramp(ramp, prefix, file)?)
            }
            (None, None) => Rollout::Fixed(Percent::HUNDRED),
        };
        self.finish(board, mode, rollout, None, prefix, file)
    }

    /// A plan sets the mode and the percentage itself, stage by stage, so the board may
    /// not set them too; and it walks away from C++, so the board needs a C++ side.
    fn validate_migration_fields(&self, board: BoardId, raw: Spanned<crate::plan::RawPlan>, prefix: &str, file: &FsPath) -> Result<crate::plan::MigrationPlan, ConfigError> {
        if !board.has_cpp_implementation() {
            return Err(ConfigError::at(file, &raw, format!("{prefix}.migration"),
                format!("{} has no C++ implementation to migrate from; remove the migration plan", board.kind())));
        }
        if let Some(mode) = &self.mode {
            return Err(ConfigError::at(file, mode, format!("{prefix}.mode"),
                "the migration plan sets the mode stage by stage; remove mode"));
        }
        if let Some(p) = &self.percent {
            return Err(ConfigError::at(file, p, format!("{prefix}.percent"),
                "the migration plan sets the percentage stage by stage; remove percent"));
        }
        if let Some(r) = &self.ramp {
            return Err(ConfigError::at(file, r, format!("{prefix}.ramp"),
                "a ramp and a migration plan would both set the percentage; keep one (the plan steps on evidence, the ramp on the clock)"));
        }
        crate::plan::validate(raw, prefix, file)
    }

    fn finish(self, board: BoardId, mode: Path, rollout: Rollout, migration: Option<crate::plan::MigrationPlan>, prefix: &str, file: &FsPath) -> Result<BoardConfig, ConfigError> {
        let mut targeting = Vec::with_capacity(self.targeting.len());
        for (i, rule) in self.targeting.into_iter().enumerate() {
            targeting.push(validate_rule(board, rule, &format!("{prefix}.targeting[{i}]"), i, file)?);
        }
        let breaker = match self.breaker {
            None => breaker::BreakerConfig::default(),
            Some(raw) => raw_breaker(raw, &format!("{prefix}.breaker"), file)?,
        };
        let legacy = match &self.legacy {
            None => Legacy::default_for(board),
            Some(l) => {
                validate_legacy(board, l, mode, &targeting, prefix, file)?;
                l.value
            }
        };
        let salt = self.salt.unwrap_or_else(|| board.kind().to_owned());
        Ok(BoardConfig {
            board,
            listed: true,
            mode,
            rollout,
            stickiness: self.stickiness.map(|s| s.value.0).unwrap_or_else(|| StickinessKey::AUTO.to_vec()),
            seed: hash::salt_seed(&salt),
            salt,
            target_index: TargetIndex::new(&targeting),
            targeting,
            shadow: self.shadow,
            breaker,
            faults: self.faults,
            on_breaker_open: self.on_breaker_open,
            follow_percent_decrease: self.follow_percent_decrease,
            failback: self.failback,
            legacy,
            migration,
        })
    }
}

/// BrainFlow's library serves the C++ path alone for now: shadow and standby need both
/// sides fed from one device read once, which the dispatcher does for its own C++ core
/// only; and a Rust-only board has no C++ path to give it.
fn validate_legacy(board: BoardId, legacy: &Spanned<Legacy>, mode: Path, targeting: &[TargetingRule], prefix: &str, file: &FsPath) -> Result<(), ConfigError> {
    if legacy.value != Legacy::BrainFlow {
        if board.is_legacy_only() {
            return Err(ConfigError::at(file, legacy, format!("{prefix}.legacy"), format!(
                "switchyard's C++ core has no {} board: only BrainFlow's library serves it; remove legacy (it is brainflow for this board)", board.kind())));
        }
        return Ok(());
    }
    if !board.has_cpp_implementation() {
        return Err(ConfigError::at(file, legacy, format!("{prefix}.legacy"), format!(
            "{} has no C++ path in switchyard (it is Rust-only), so no legacy library serves it; remove legacy", board.kind())));
    }
    let dual = |p: Path| matches!(p, Path::Shadow | Path::Standby);
    if !(dual(mode) || targeting.iter().any(|r| dual(r.serve))) {
        return Ok(());
    }
    let why = match board {
        BoardId::Cyton | BoardId::CytonDaisy | BoardId::PlaybackFile => return Ok(()),
        BoardId::Synthetic => "BrainFlow's synthetic generator is unseeded, so its values can never equal the Rust twin's and a comparison would report only noise",
        _ => "only playback, Cyton and Cyton Daisy share their input between BrainFlow's board and the Rust twin",
    };
    Err(ConfigError::at(file, legacy, format!("{prefix}.legacy"), format!(
        "{} cannot run shadow or standby against BrainFlow's library: {why}; use mode cpp or rust with legacy: brainflow, or legacy: core_cpp for shadow and standby", board.kind())))
}

fn remainder(p: Percent) -> Percent {
    Percent::from_basis_points(10_000 - p.basis_points()).unwrap_or(Percent::ZERO)
}

fn validate_ramp(ramp: Spanned<RawRamp>, prefix: &str, file: &FsPath) -> Result<Ramp, ConfigError> {
    let raw = &ramp.value;
    if raw.steps.value.is_empty() {
        return Err(ConfigError::at(file, &raw.steps, format!("{prefix}.ramp.steps"),
            "a ramp needs at least one step, like [1, 5, 25, 100]"));
    }
    let step_duration = raw.step_duration.value.0;
    if step_duration < Duration::from_secs(1) {
        return Err(ConfigError::at(file, &raw.step_duration, format!("{prefix}.ramp.step_duration"),
            format!("{} is shorter than 1s, the shortest ramp step (it must last long enough to observe); write 1s or more, like 30s, 10m or 1h", DurationText(step_duration))));
    }
    let steps = &raw.steps.value;
    for i in 1..steps.len() {
        if steps[i].value <= steps[i - 1].value {
            return Err(ConfigError::at(
                file,
                &steps[i],
                format!("{prefix}.ramp.steps[{i}]"),
                format!(
                    "ramp steps must increase: step {} is {} after {}",
                    i + 1,
                    steps[i].value,
                    steps[i - 1].value
                ),
            ));
        }
    }
    Ok(Ramp {
        start: raw.start,
        step_duration,
        steps: steps.iter().map(|s| s.value).collect(),
    })
}

fn validate_rule(board: BoardId, rule: Spanned<RawRule>, field: &str, index: usize, file: &FsPath) -> Result<TargetingRule, ConfigError> {
    check_mode_available(board, &rule.value.serve, format!("{field}.serve"), file)?;
    let r = &rule.value;
    let total = r.serial_number.len() + r.mac_address.len() + r.serial_port.len() + r.file.len()
        + r.other_info.len() + r.session_key.len();
    if total == 0 {
        return Err(ConfigError::at(file, &rule, field.to_owned(),
            "the rule matches no session; list at least one serial_number, mac_address, serial_port, file, other_info or session_key"));
    }
    for (name, list) in [("serial_number", &r.serial_number), ("mac_address", &r.mac_address),
        ("serial_port", &r.serial_port), ("file", &r.file), ("other_info", &r.other_info), ("session_key", &r.session_key)] {
        if list.iter().any(|v| v.is_empty()) {
            return Err(ConfigError::at(file, &rule, format!("{field}.{name}"),
                "an empty string would match every session that lacks this field; remove it"));
        }
    }
    let sorted = |v: &Vec<String>| {
        let mut v = v.clone();
        v.sort();
        v.dedup();
        v
    };
    let mut macs: Vec<String> = r.mac_address.iter().map(|m| m.to_ascii_uppercase()).collect();
    macs.sort();
    macs.dedup();
    Ok(TargetingRule {
        name: r.name.clone().unwrap_or_else(|| format!("targeting[{index}]")),
        serve: r.serve.value,
        serial_number: sorted(&r.serial_number),
        mac_address: macs,
        serial_port: sorted(&r.serial_port),
        file: sorted(&r.file),
        other_info: sorted(&r.other_info),
        session_key: sorted(&r.session_key),
    })
}

fn raw_breaker(raw: Spanned<RawBreaker>, field: &str, file: &FsPath) -> Result<breaker::BreakerConfig, ConfigError> {
    let mut c = breaker::BreakerConfig::default();
    let r = &raw.value;
    if let Some(mode) = r.mode {
        c.mode = match mode {
            RawBreakerMode::Automatic => breaker::OperatorMode::Automatic,
            RawBreakerMode::ForcedOpen => breaker::OperatorMode::ForcedOpen,
            RawBreakerMode::Disabled => breaker::OperatorMode::Disabled,
            RawBreakerMode::MetricsOnly => breaker::OperatorMode::MetricsOnly,
        };
    }
    if let Some(w) = &r.window {
        c.window = match (w.value.calls, w.value.seconds, w.value.buckets) {
            (Some(calls), None, None) => breaker::WindowConfig::Count { calls },
            (None, Some(seconds), buckets) => breaker::WindowConfig::Time { seconds, buckets: buckets.unwrap_or(10) },
            _ => {
                return Err(ConfigError::at(file, w, format!("{field}.window"),
                    "give either `calls: N` (the last N calls) or `seconds: S` with optional `buckets: B` (the last S seconds)"))
            }
        };
    }
    if let Some(p) = r.failure_rate_threshold {
        c.failure_rate_threshold = p.as_f64();
    }
    if let Some(p) = r.slow_call_rate_threshold {
        c.slow_call_rate_threshold = p.as_f64();
    }
    if let Some(d) = r.slow_call_duration {
        c.slow_call_duration = d.0;
    }
    if let Some(n) = r.minimum_calls {
        c.minimum_calls = n;
    }
    if let Some(n) = r.permitted_probes {
        c.permitted_probes = n;
    }
    if let Some(b) = &r.open_wait {
        c.open_wait = match b {
            RawBackoff::Constant(d) => breaker::Backoff::Constant(*d),
            RawBackoff::Exponential(e) => breaker::Backoff::Exponential {
                initial: e.initial.0,
                multiplier: e.multiplier,
                max: e.max.0,
                jitter: e.jitter,
            },
        };
    }
    if let Some(limit) = &r.max_half_open {
        c.max_half_open = limit.0;
    }
    if let Some(codes) = &r.ignored_exit_codes {
        c.ignored_exit_codes = codes.clone();
    }
    c.validate().map_err(|e| ConfigError::at(file, &raw, format!("{field}.{}", e.field), e.problem))?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn laughs(levels: usize) -> String {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..levels {
            let refs = vec![format!("*a{}", level - 1); 10].join(", ");
            bomb.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        }
        bomb
    }

    #[test]
    fn alias_bombs_hit_the_budget_even_where_any_value_is_accepted() {
        // IgnoredAny walks every node an alias expands to, so only the budget stops it.
        let small: Result<de::IgnoredAny, _> = serde_saphyr::from_str_with_options(&laughs(3), parse_options());
        assert!(small.is_ok());
        let bomb: Result<de::IgnoredAny, _> = serde_saphyr::from_str_with_options(&laughs(10), parse_options());
        let e = bomb.expect_err("10^10 nodes must be refused");
        let text = e.to_string();
        assert!(text.contains("alias") || text.contains("budget") || text.contains("limit"), "{text}");
    }

    #[test]
    fn ramp_positions_are_a_function_of_the_clock() {
        let ramp = Ramp {
            start: Timestamp(1_000_000),
            step_duration: Duration::from_secs(60),
            steps: [1, 5, 25, 100].iter().map(|p| Percent::from_f64(*p as f64).unwrap()).collect(),
        };
        assert_eq!(ramp.percent_at(Timestamp(999_999)), Percent::ZERO);
        assert_eq!(ramp.position(Timestamp(0)), RampPosition::NotStarted { first_step_at: Timestamp(1_000_000) });
        assert_eq!(
            ramp.position(Timestamp(1_000_000)),
            RampPosition::Step { index: 0, percent: Percent::from_f64(1.0).unwrap(), since: Timestamp(1_000_000), next_at: Some(Timestamp(1_060_000)) }
        );
        assert_eq!(ramp.percent_at(Timestamp(1_059_999)).basis_points(), 100);
        assert_eq!(ramp.percent_at(Timestamp(1_060_000)).basis_points(), 500);
        assert_eq!(ramp.percent_at(Timestamp(1_150_000)).basis_points(), 2500);
        let end = ramp.position(Timestamp(i64::MAX));
        assert!(matches!(end, RampPosition::Step { index: 3, next_at: None, .. }), "{end:?}");
    }
}
