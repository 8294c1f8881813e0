//! One boundary's judgement of one stage.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use toggles::{Measure, OnFail, Stage};

/// One measure's value over the stage's window, or why there is none. NaN and infinities
/// are never values: a ratio of nothing to nothing is missing evidence, not a pass.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    Value(f64),
    Missing(String),
}

impl Reading {
    /// A number as read; NaN and infinities become [`Reading::Missing`].
    pub fn of(value: f64) -> Reading {
        if value.is_finite() {
            Reading::Value(value)
        } else {
            Reading::Missing(format!("the value is {value} (no data to divide by)"))
        }
    }
}

/// What was read for one boundary, by measure.
pub type Readings = BTreeMap<Measure, Reading>;

/// What a boundary does to the plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Advance,
    Hold(String),
    Rollback(String),
    /// The last stage: nothing left to do.
    Complete,
}

impl Verdict {
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Advance => "advance",
            Verdict::Hold(_) => "hold",
            Verdict::Rollback(_) => "rollback",
            Verdict::Complete => "complete",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Hold(r) | Verdict::Rollback(r) => Some(r),
            _ => None,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            Some(r) => write!(f, "{}: {r}", self.word()),
            None => f.write_str(self.word()),
        }
    }
}

/// How one requirement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    Pass,
    Fail,
    /// Below the minimum sample, or no data: neither pass nor fail.
    Waiting,
}

impl CheckState {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckState::Pass => "pass",
            CheckState::Fail => "fail",
            CheckState::Waiting => "waiting",
        }
    }
}

/// One requirement against its evidence, for the status page and `explain`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckLine {
    pub measure: Measure,
    /// `>= 500` for a minimum sample, `<= 0` for a condition.
    pub requirement: String,
    pub value: Option<f64>,
    pub state: CheckState,
    /// What a failure does (`hold` or `rollback`); `wait` for a minimum sample.
    pub on_fail: &'static str,
    pub note: Option<String>,
}

/// A verdict with the evidence it was reached on.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub lines: Vec<CheckLine>,
}

/// The measures a stage's requirements read.
pub fn measures_of(stage: &Stage) -> Vec<Measure> {
    let mut out: Vec<Measure> = stage.checks.iter().map(|c| c.measure).collect();
    let m = &stage.min_sample;
    for (wanted, measure) in [(m.shadow_comparisons, Measure::ShadowComparisons), (m.rust_calls, Measure::RustCalls), (m.sessions, Measure::Sessions)] {
        if wanted.is_some() {
            out.push(measure);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn shown(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// Judges `stage` after `in_stage` in it, on `readings` over that time.
///
/// In order: a failed rollback condition rolls back at once (even before the minimum time
/// or sample: a breaker that opened did open, and waiting would leave the regression in
/// place); below a minimum sample the stage waits, and its conditions count neither as
/// pass nor as fail (missing data is never a sample); a failed condition holds; then the
/// minimum time holds; then missing or NaN data for a condition holds (it never passes).
/// Only then it advances.
pub fn judge(stage: &Stage, is_last: bool, in_stage: Duration, readings: &Readings) -> Judgement {
    let missing = |m: Measure| Reading::Missing(format!("{m} was not asked"));
    let mut lines = Vec::new();
    let mut waits: Vec<String> = Vec::new();
    let mut holds: Vec<String> = Vec::new();
    let mut no_data: Vec<String> = Vec::new();
    let mut rollbacks: Vec<String> = Vec::new();
    let m = &stage.min_sample;
    for (wanted, measure) in [(m.shadow_comparisons, Measure::ShadowComparisons), (m.rust_calls, Measure::RustCalls), (m.sessions, Measure::Sessions)] {
        let Some(wanted) = wanted else { continue };
        let reading = readings.get(&measure).cloned().unwrap_or_else(|| missing(measure));
        let (value, state, note) = match reading {
            Reading::Value(v) if v >= wanted as f64 => (Some(v), CheckState::Pass, None),
            Reading::Value(v) => {
                waits.push(format!("{measure} {} of the {wanted} needed", shown(v)));
                (Some(v), CheckState::Waiting, None)
            }
            Reading::Missing(why) => {
                waits.push(format!("no data for {measure} ({why})"));
                (None, CheckState::Waiting, Some(why))
            }
        };
        lines.push(CheckLine { measure, requirement: format!(">= {wanted}"), value, state, on_fail: "wait", note });
    }
    for check in &stage.checks {
        let reading = readings.get(&check.measure).cloned().unwrap_or_else(|| missing(check.measure));
        let (value, state, note) = match reading {
            Reading::Value(v) if v <= check.max => (Some(v), CheckState::Pass, None),
            Reading::Value(v) => {
                let text = format!("{} is {} (at most {} allowed)", check.measure, shown(v), shown(check.max));
                match check.on_fail {
                    OnFail::Rollback => rollbacks.push(text),
                    OnFail::Hold => holds.push(text),
                }
                (Some(v), CheckState::Fail, None)
            }
            Reading::Missing(why) => {
                no_data.push(format!("no data for {} ({why})", check.measure));
                (None, CheckState::Waiting, Some(why))
            }
        };
        lines.push(CheckLine { measure: check.measure, requirement: format!("<= {}", shown(check.max)), value, state, on_fail: check.on_fail.as_str(), note });
    }
    let verdict = if !rollbacks.is_empty() {
        Verdict::Rollback(rollbacks.join("; "))
    } else if is_last {
        Verdict::Complete
    } else if !waits.is_empty() {
        Verdict::Hold(format!("waiting for the minimum sample: {}", waits.join("; ")))
    } else if !holds.is_empty() {
        Verdict::Hold(holds.join("; "))
    } else if in_stage < stage.min_duration {
        Verdict::Hold(format!(
            "minimum time: {}s of {}s in this stage",
            in_stage.as_secs(),
            stage.min_duration.as_secs()
        ))
    } else if !no_data.is_empty() {
        Verdict::Hold(no_data.join("; "))
    } else {
        Verdict::Advance
    };
    Judgement { verdict, lines }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toggles::{Check, MinSample, Path, Percent};

    fn stage() -> Stage {
        Stage {
            mode: Path::Shadow,
            percent: Percent::HUNDRED,
            sample_percent: Percent::HUNDRED,
            min_duration: Duration::from_secs(10),
            min_sample: MinSample { shadow_comparisons: Some(100), ..MinSample::default() },
            checks: vec![
                Check { measure: Measure::ShadowMismatches, max: 0.0, on_fail: OnFail::Hold, query: None },
                Check { measure: Measure::BreakerOpenings, max: 0.0, on_fail: OnFail::Rollback, query: None },
            ],
        }
    }

    fn readings(pairs: &[(Measure, Reading)]) -> Readings {
        pairs.iter().cloned().collect()
    }

    const LONG: Duration = Duration::from_secs(60);

    #[test]
    fn clean_evidence_over_the_minimum_advances() {
        let r = readings(&[(Measure::ShadowComparisons, Reading::of(500.0)), (Measure::ShadowMismatches, Reading::of(0.0)), (Measure::BreakerOpenings, Reading::of(0.0))]);
        let j = judge(&stage(), false, LONG, &r);
        assert_eq!(j.verdict, Verdict::Advance);
        assert!(j.lines.iter().all(|l| l.state == CheckState::Pass));
        assert_eq!(judge(&stage(), true, LONG, &r).verdict, Verdict::Complete);
    }

    #[test]
    fn below_the_minimum_sample_the_stage_waits_even_when_a_condition_fails() {
        let r = readings(&[(Measure::ShadowComparisons, Reading::of(99.0)), (Measure::ShadowMismatches, Reading::of(3.0)), (Measure::BreakerOpenings, Reading::of(0.0))]);
        let j = judge(&stage(), false, LONG, &r);
        assert!(matches!(&j.verdict, Verdict::Hold(r) if r.contains("shadow_comparisons 99 of the 100 needed")), "{:?}", j.verdict);
    }

    #[test]
    fn missing_nan_and_unasked_evidence_never_pass() {
        for bad in [Reading::of(f64::NAN), Reading::of(f64::INFINITY), Reading::Missing("empty result".into())] {
            let r = readings(&[(Measure::ShadowComparisons, Reading::of(500.0)), (Measure::ShadowMismatches, bad.clone()), (Measure::BreakerOpenings, Reading::of(0.0))]);
            let j = judge(&stage(), false, LONG, &r);
            assert!(matches!(&j.verdict, Verdict::Hold(r) if r.contains("no data for shadow_mismatches")), "{bad:?}: {:?}", j.verdict);
        }
        let j = judge(&stage(), false, LONG, &Readings::new());
        assert!(matches!(j.verdict, Verdict::Hold(_)));
        // Missing evidence on a rollback condition holds: it is no regression, and no pass.
        let r = readings(&[(Measure::ShadowComparisons, Reading::of(500.0)), (Measure::ShadowMismatches, Reading::of(0.0))]);
        assert!(matches!(judge(&stage(), false, LONG, &r).verdict, Verdict::Hold(_)));
    }

    #[test]
    fn mismatches_hold_and_a_breaker_opening_rolls_back_even_before_the_minimum_time() {
        let r = readings(&[(Measure::ShadowComparisons, Reading::of(500.0)), (Measure::ShadowMismatches, Reading::of(2.0)), (Measure::BreakerOpenings, Reading::of(0.0))]);
        assert!(matches!(judge(&stage(), false, LONG, &r).verdict, Verdict::Hold(r) if r.contains("shadow_mismatches is 2")));
        let r = readings(&[(Measure::ShadowComparisons, Reading::of(5.0)), (Measure::ShadowMismatches, Reading::of(0.0)), (Measure::BreakerOpenings, Reading::of(1.0))]);
        let j = judge(&stage(), false, Duration::from_secs(1), &r);
        assert!(matches!(&j.verdict, Verdict::Rollback(r) if r.contains("breaker_openings is 1")), "{:?}", j.verdict);
    }

    #[test]
    fn the_minimum_time_holds_clean_evidence() {
        let r = readings(&[(Measure::ShadowComparisons, Reading::of(500.0)), (Measure::ShadowMismatches, Reading::of(0.0)), (Measure::BreakerOpenings, Reading::of(0.0))]);
        let j = judge(&stage(), false, Duration::from_secs(9), &r);
        assert!(matches!(&j.verdict, Verdict::Hold(r) if r.contains("minimum time")), "{:?}", j.verdict);
    }
}
