//! A board's migration plan (`boards.<board>.migration`): the ordered stages a board walks
//! from C++ to Rust, the minimum time and evidence each stage needs before the board
//! leaves it, and where the evidence comes from. This module owns the plan's shape and
//! its validation; judging evidence is the `migration` crate's, applying a stage the
//! runtime's (as an overlay on the file's mode and percentage, see
//! [`crate::ToggleStore::set_plan_stage`]).

use crate::config::{ConfigError, Path};
use crate::units::{DurationText, Percent, Timestamp};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;
use std::path::Path as FsPath;
use std::time::Duration;

/// The most boundaries a plan may have between its start and its last stage's earliest
/// end: a restarted host replays each of them, so the count bounds the work of a restart.
pub const MAX_BOUNDARIES: u64 = 10_000;

/// A validated migration plan.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationPlan {
    /// When stage 1 begins. Every host reads the same time from the same file.
    pub start: Timestamp,
    /// Boundaries fall at `start + k × check_every`; the plan moves only at a boundary.
    pub check_every: Duration,
    pub evidence: Evidence,
    pub rollback_to: RollbackTo,
    pub stages: Vec<Stage>,
}

/// Where a plan's evidence comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// Every host asks the same Prometheus the same question at each boundary.
    Prometheus(PrometheusSource),
    /// The host judges its own counters (one host; a restart begins the plan again).
    Local,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrometheusSource {
    /// Base URL, `http://host:port` (plain HTTP; `/api/v1/query` is appended).
    pub url: String,
    /// How long one query may take before the boundary counts as unanswered.
    pub timeout: Duration,
    /// How long after a boundary it is first asked about, so every scrape up to the
    /// boundary has landed and every host gets the same answer.
    pub settle: Duration,
}

/// Where a rollback goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackTo {
    /// The stage before the one that regressed.
    #[default]
    Previous,
    /// The first stage (C++).
    Cpp,
}

impl RollbackTo {
    pub fn as_str(self) -> &'static str {
        match self {
            RollbackTo::Previous => "previous",
            RollbackTo::Cpp => "cpp",
        }
    }
}

/// One stage: what the board runs while in it, and what it takes to leave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub mode: Path,
    /// Share of sessions on `mode` (the rest on C++); 100 for cpp and shadow.
    pub percent: Percent,
    /// Share of shadow sessions whose Rust side runs and is compared (shadow only).
    pub sample_percent: Percent,
    pub min_duration: Duration,
    pub min_sample: MinSample,
    pub checks: Vec<Check>,
}

impl Stage {
    /// What the stage runs, in one phrase: `shadow (sample 50%)`, `rust 25%`.
    pub fn describe(&self) -> String {
        match self.mode {
            Path::Cpp => "cpp".to_owned(),
            Path::Shadow => format!("shadow (sample {})", self.sample_percent),
            m => format!("{m} {}", self.percent),
        }
    }

    /// Orders stages from C++ to Rust; a plan's stages must strictly increase by it.
    fn rank(&self) -> (u8, u32) {
        match self.mode {
            Path::Cpp => (0, 0),
            Path::Shadow => (1, self.sample_percent.basis_points()),
            Path::Standby => (2, self.percent.basis_points()),
            Path::Rust => (3, self.percent.basis_points()),
        }
    }
}

/// The least evidence a stage needs before it is judged at all: below it, the stage
/// waits (never a pass, never a fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinSample {
    /// Shadow comparisons over the stage.
    pub shadow_comparisons: Option<u64>,
    /// Calls served by the Rust path (rust and standby sessions) over the stage.
    pub rust_calls: Option<u64>,
    /// Sessions on the stage's non-C++ paths (the most seen at once over the stage).
    pub sessions: Option<u64>,
}

impl MinSample {
    pub fn any(&self) -> bool {
        self.shadow_comparisons.is_some() || self.rust_calls.is_some() || self.sessions.is_some()
    }
}

/// A measure a condition or a minimum sample reads. Each is built from metrics switchyard
/// exports; `docs/migrations.md` gives the query of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    ShadowComparisons,
    ShadowMismatches,
    /// Mismatches per comparison, in percent.
    ShadowMismatchRate,
    RustCalls,
    /// The highest failed share of Rust calls the breaker's window showed, in percent.
    RustFailureRate,
    /// The highest slow share of Rust calls the breaker's window showed, in percent.
    RustSlowRate,
    /// Rust's p99 read latency over C++'s, same window.
    RustP99VsCpp,
    /// Times the breaker opened on its own.
    BreakerOpenings,
    Sessions,
}

impl Measure {
    pub const ALL: [Measure; 9] = [
        Measure::ShadowComparisons,
        Measure::ShadowMismatches,
        Measure::ShadowMismatchRate,
        Measure::RustCalls,
        Measure::RustFailureRate,
        Measure::RustSlowRate,
        Measure::RustP99VsCpp,
        Measure::BreakerOpenings,
        Measure::Sessions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::ShadowComparisons => "shadow_comparisons",
            Measure::ShadowMismatches => "shadow_mismatches",
            Measure::ShadowMismatchRate => "shadow_mismatch_rate",
            Measure::RustCalls => "rust_calls",
            Measure::RustFailureRate => "rust_failure_rate",
            Measure::RustSlowRate => "rust_slow_rate",
            Measure::RustP99VsCpp => "rust_p99_vs_cpp",
            Measure::BreakerOpenings => "breaker_openings",
            Measure::Sessions => "sessions",
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failed condition does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFail {
    /// Stay in the stage; it is judged again at the next boundary.
    #[default]
    Hold,
    /// Leave the stage for [`MigrationPlan::rollback_to`], and halt the plan there.
    Rollback,
}

impl OnFail {
    pub fn as_str(self) -> &'static str {
        match self {
            OnFail::Hold => "hold",
            OnFail::Rollback => "rollback",
        }
    }
}

/// `measure <= max` must hold over the stage for it to advance.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub measure: Measure,
    pub max: f64,
    pub on_fail: OnFail,
    /// A PromQL expression that replaces the built-in query (`evidence: prometheus`
    /// only); `$window` is replaced by the stage's window, `$board` by the board kind.
    pub query: Option<String>,
}

// ---- the raw shapes serde reads ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPlan {
    start: Timestamp,
    check_every: Spanned<DurationText>,
    evidence: Spanned<RawEvidenceKind>,
    prometheus: Option<Spanned<RawPrometheus>>,
    #[serde(default)]
    rollback_to: RollbackTo,
    stages: Spanned<Vec<Spanned<RawStage>>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum RawEvidenceKind {
    Prometheus,
    Local,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrometheus {
    url: Spanned<String>,
    timeout: Option<DurationText>,
    settle: Option<DurationText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    mode: Spanned<Path>,
    percent: Option<Spanned<Percent>>,
    sample_percent: Option<Spanned<Percent>>,
    #[serde(default)]
    min_duration: DurationText,
    #[serde(default)]
    min_sample: MinSample,
    #[serde(default)]
    checks: Vec<Spanned<RawCheck>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    measure: Spanned<String>,
    max: f64,
    #[serde(default)]
    on_fail: OnFail,
    query: Option<Spanned<String>>,
}

fn err<T>(file: &FsPath, span: &Spanned<T>, field: String, problem: impl Into<String>) -> ConfigError {
    ConfigError::at(file, span, field, problem)
}

pub(crate) fn validate(raw: Spanned<RawPlan>, prefix: &str, file: &FsPath) -> Result<MigrationPlan, ConfigError> {
    let field = format!("{prefix}.migration");
    let plan = raw.value;
    let check_every = plan.check_every.value.0;
    if check_every < Duration::from_secs(1) {
        return Err(err(file, &plan.check_every, format!("{field}.check_every"),
            format!("{} is shorter than 1s; boundaries need time for evidence to arrive: write 1s or more, like 30s or 10m", DurationText(check_every))));
    }
    let evidence = match (plan.evidence.value, plan.prometheus) {
        (RawEvidenceKind::Prometheus, None) => {
            return Err(err(file, &plan.evidence, format!("{field}.evidence"),
                "evidence: prometheus needs `prometheus: { url: http://host:9090 }` beside it"))
        }
        (RawEvidenceKind::Prometheus, Some(p)) => {
            let url = p.value.url.value.trim_end_matches('/').to_owned();
            let rest = url.strip_prefix("http://").unwrap_or("");
            if rest.is_empty() || rest.contains(['?', '#', ' ']) {
                return Err(err(file, &p.value.url, format!("{field}.prometheus.url"),
                    format!("`{url}` is not a Prometheus base URL; write http://host:port (plain HTTP, no query), like http://127.0.0.1:9090")));
            }
            let timeout = p.value.timeout.map(|d| d.0).unwrap_or(Duration::from_secs(2));
            if timeout.is_zero() || timeout >= check_every {
                return Err(err(file, &p, format!("{field}.prometheus.timeout"),
                    format!("the query timeout must be above 0 and shorter than check_every ({})", DurationText(check_every))));
            }
            let settle = p.value.settle.map(|d| d.0).unwrap_or(Duration::from_secs(2));
            PrometheusSource { url, timeout, settle }.into()
        }
        (RawEvidenceKind::Local, Some(p)) => {
            return Err(err(file, &p, format!("{field}.prometheus"),
                "evidence: local reads this host's own counters, so a prometheus section would be ignored; remove it or set evidence: prometheus"))
        }
        (RawEvidenceKind::Local, None) => Evidence::Local,
    };
    let raw_stages = plan.stages;
    if raw_stages.value.len() < 2 {
        return Err(err(file, &raw_stages, format!("{field}.stages"),
            "a plan needs at least two stages, like cpp then shadow then rust 100"));
    }
    if raw_stages.value[0].value.mode.value != Path::Cpp {
        let first = &raw_stages.value[0].value.mode;
        return Err(err(file, first, format!("{field}.stages[0].mode"),
            "a plan starts from C++ (it is where a rollback to cpp goes and where a plan stands before its start); make the first stage `mode: cpp`"));
    }
    let mut stages: Vec<Stage> = Vec::with_capacity(raw_stages.value.len());
    let last = raw_stages.value.len() - 1;
    for (i, raw_stage) in raw_stages.value.into_iter().enumerate() {
        let sf = format!("{field}.stages[{i}]");
        let s = raw_stage.value;
        let mode = s.mode.value;
        let percent = match (&s.percent, mode) {
            (Some(p), Path::Cpp | Path::Shadow) => {
                return Err(err(file, p, format!("{sf}.percent"), format!(
                    "a {mode} stage serves every session the same way, so percent does nothing; remove it{}",
                    if mode == Path::Shadow { " (sample_percent sets how many shadow sessions are compared)" } else { "" })))
            }
            (Some(p), _) => p.value,
            (None, _) => Percent::HUNDRED,
        };
        let sample_percent = match (&s.sample_percent, mode) {
            (Some(p), Path::Shadow) => p.value,
            (Some(p), _) => return Err(err(file, p, format!("{sf}.sample_percent"), "sample_percent is for shadow stages; remove it")),
            (None, _) => Percent::HUNDRED,
        };
        if percent == Percent::ZERO || (mode == Path::Shadow && sample_percent == Percent::ZERO) {
            return Err(err(file, &s.mode, sf.clone(), "a stage at 0% is the C++ stage; write mode: cpp"));
        }
        let mut checks = Vec::with_capacity(s.checks.len());
        for (j, raw_check) in s.checks.into_iter().enumerate() {
            let cf = format!("{sf}.checks[{j}]");
            let c = raw_check.value;
            let measure = Measure::ALL.iter().copied().find(|m| m.as_str() == c.measure.value).ok_or_else(|| {
                let known: Vec<&str> = Measure::ALL.iter().map(|m| m.as_str()).collect();
                err(file, &c.measure, format!("{cf}.measure"), format!(
                    "`{}` is not a measure switchyard exports; use one of {}", c.measure.value, known.join(", ")))
            })?;
            if !c.max.is_finite() || c.max < 0.0 {
                return Err(err(file, &c.measure, format!("{cf}.max"), "max must be a finite number of 0 or more"));
            }
            let query = match c.query {
                None => None,
                Some(q) if !matches!(evidence, Evidence::Prometheus(_)) => {
                    return Err(err(file, &q, format!("{cf}.query"), "a query is asked of Prometheus; with evidence: local the built-in measure is used; remove it"))
                }
                Some(q) if q.value.trim().is_empty() => return Err(err(file, &q, format!("{cf}.query"), "the query is empty; write a PromQL expression or remove query")),
                Some(q) => Some(q.value),
            };
            checks.push(Check { measure, max: c.max, on_fail: c.on_fail, query });
        }
        let stage = Stage { mode, percent, sample_percent, min_duration: s.min_duration.0, min_sample: s.min_sample, checks };
        if let Some(prev) = stages.last() {
            if stage.rank() <= prev.rank() {
                return Err(err(file, &s.mode, sf.clone(), format!(
                    "stages must move from cpp through shadow and standby to rust, percentages rising: stage {} ({}) does not come after stage {} ({})",
                    i + 1, stage.describe(), i, prev.describe())));
            }
        }
        if i < last && i > 0 && stage.checks.is_empty() && !stage.min_sample.any() {
            return Err(err(file, &s.mode, sf.clone(),
                "this stage needs no evidence to leave it, so it would advance on the clock alone; give it checks or a min_sample (a plain ramp does clock-only steps)"));
        }
        stages.push(stage);
    }
    let total: Duration = stages.iter().map(|s| s.min_duration.max(check_every)).sum();
    if total.as_millis() / check_every.as_millis().max(1) > u128::from(MAX_BOUNDARIES) {
        return Err(err(file, &plan.check_every, format!("{field}.check_every"), format!(
            "the stages' minimum durations add up to more than {MAX_BOUNDARIES} boundaries of {}; lengthen check_every", DurationText(check_every))));
    }
    Ok(MigrationPlan { start: plan.start, check_every, evidence, rollback_to: plan.rollback_to, stages })
}

impl From<PrometheusSource> for Evidence {
    fn from(p: PrometheusSource) -> Evidence {
        Evidence::Prometheus(p)
    }
}

impl MigrationPlan {
    /// The `k`-th boundary (`k` from 1): `start + k × check_every`.
    pub fn boundary(&self, k: u64) -> Timestamp {
        Timestamp(self.start.0.saturating_add((k as i64).saturating_mul(self.check_every.as_millis() as i64)))
    }

    /// How many boundaries have passed by `now` (0 before the first).
    pub fn boundaries_before(&self, now: Timestamp) -> u64 {
        if now.0 <= self.start.0 {
            return 0;
        }
        ((now.0 - self.start.0) / (self.check_every.as_millis() as i64).max(1)) as u64
    }

    /// A stage to roll back to from `from`.
    pub fn rollback_target(&self, from: usize) -> usize {
        match self.rollback_to {
            RollbackTo::Cpp => 0,
            RollbackTo::Previous => from.saturating_sub(1),
        }
    }
}

impl crate::config::BoardConfig {
    /// Puts the board in stage `index` of its plan: the stage's mode and percentage, and
    /// its shadow sample. `false` (nothing changed) when the board has no such stage.
    pub(crate) fn overlay_stage(&mut self, index: usize) -> bool {
        let Some(stage) = self.migration.as_ref().and_then(|p| p.stages.get(index)) else {
            return false;
        };
        self.mode = stage.mode;
        self.rollout = crate::config::Rollout::Fixed(stage.percent);
        if stage.mode == Path::Shadow {
            self.shadow.sample_percent = stage.sample_percent;
        }
        true
    }

    /// The stage of its plan the board is in (matched by mode and percentage), if any.
    pub fn plan_stage(&self) -> Option<usize> {
        let plan = self.migration.as_ref()?;
        let percent = match self.rollout {
            crate::config::Rollout::Fixed(p) => p,
            crate::config::Rollout::Ramp(_) => return None,
        };
        plan.stages.iter().position(|s| {
            s.mode == self.mode && s.percent == percent && (s.mode != Path::Shadow || s.sample_percent == self.shadow.sample_percent)
        })
    }
}
