//! The PromQL each built-in measure asks, and reading Prometheus's answer to an instant
//! query (`GET /api/v1/query?query=…&time=…`).

use crate::judge::Reading;
use monitoring::names;
use std::time::Duration;
use toggles::{Check, Measure};

/// A window as PromQL writes it, in whole milliseconds (`6000ms`).
pub fn window_text(window: Duration) -> String {
    format!("{}ms", window.as_millis().max(1))
}

/// The query for `measure` of `board` over `window`: the check's own query when it has
/// one (`$board` and `$window` filled in), else the built-in one. Every built-in query
/// sums over the fleet's hosts, so it answers one series.
pub fn promql(measure: Measure, check: Option<&Check>, board: &str, window: Duration) -> String {
    let w = window_text(window);
    if let Some(q) = check.and_then(|c| c.query.as_ref()) {
        return q.replace("$board", board).replace("$window", &w);
    }
    let b = format!("board=\"{board}\"");
    let increase = |name: &str, extra: &str| format!("sum(increase({name}{{{b}{extra}}}[{w}]))");
    let p99 = |paths: &str| {
        format!(
            "histogram_quantile(0.99, sum by (le) (increase({}_bucket{{{b},path=~\"{paths}\"}}[{w}])))",
            names::CALL_DURATION_SECONDS
        )
    };
    match measure {
        Measure::ShadowComparisons => increase(names::SHADOW_COMPARISONS_TOTAL, ""),
        Measure::ShadowMismatches => increase(names::SHADOW_MISMATCHES_TOTAL, ""),
        Measure::ShadowMismatchRate => format!(
            "100 * {} / {}",
            increase(names::SHADOW_MISMATCHES_TOTAL, ""),
            increase(names::SHADOW_COMPARISONS_TOTAL, "")
        ),
        Measure::RustCalls => increase(names::CALLS_TOTAL, ",path=~\"rust|standby\""),
        Measure::RustFailureRate => format!("100 * max(max_over_time({}{{{b}}}[{w}]))", names::BREAKER_FAILURE_RATIO),
        Measure::RustSlowRate => format!("100 * max(max_over_time({}{{{b}}}[{w}]))", names::BREAKER_SLOW_RATIO),
        Measure::RustP99VsCpp => format!("{} / {}", p99("rust|standby"), p99("cpp|shadow")),
        Measure::BreakerOpenings => increase(names::BREAKER_TRANSITIONS_TOTAL, ",to=\"OPEN\""),
        Measure::Sessions => format!("sum(max_over_time({}{{{b},path!=\"cpp\"}}[{w}]))", names::ACTIVE_SESSIONS),
    }
}

/// An answer that says nothing about the boundary: asked again later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("the answer is not Prometheus's query JSON ({0})")]
    Garbage(String),
    #[error("Prometheus answered an error: {0}")]
    Failed(String),
}

#[derive(serde::Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(serde::Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

fn number(pair: &serde_json::Value) -> Result<f64, AnswerError> {
    let text = pair.get(1).and_then(|v| v.as_str()).ok_or_else(|| AnswerError::Garbage("a sample is not [time, \"value\"]".into()))?;
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        t => t.parse().map_err(|_| AnswerError::Garbage(format!("sample value `{}` is not a number", t.chars().take(32).collect::<String>()))),
    }
}

/// Reads the body of an instant query's answer. A single number is a value; no series
/// or several series are a [`Reading::Missing`] with the reason (the question is
/// answered, the evidence is not there); anything unreadable is an [`AnswerError`].
pub fn parse_query_answer(body: &[u8]) -> Result<Reading, AnswerError> {
    let answer: Answer = serde_json::from_slice(body).map_err(|e| AnswerError::Garbage(e.to_string()))?;
    if answer.status != "success" {
        let what = format!("{}: {}", answer.error_type.unwrap_or_default(), answer.error.unwrap_or_default());
        return Err(AnswerError::Failed(what.chars().take(300).collect()));
    }
    let data = answer.data.ok_or_else(|| AnswerError::Garbage("success without data".into()))?;
    match data.result_type.as_str() {
        "scalar" => Ok(Reading::of(number(&data.result)?)),
        "vector" => {
            let series = data.result.as_array().ok_or_else(|| AnswerError::Garbage("a vector result is not a list".into()))?;
            match series.as_slice() {
                [] => Ok(Reading::Missing("the query returned no series (no data in the window)".into())),
                [one] => Ok(Reading::of(number(one.get("value").ok_or_else(|| AnswerError::Garbage("a series without value".into()))?)?)),
                many => Ok(Reading::Missing(format!(
                    "the query returned {} series where one number is needed; aggregate it (sum, max) to one",
                    many.len()
                ))),
            }
        }
        other => Ok(Reading::Missing(format!("the query returned a {other}, not one number; write an instant query that gives one series"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_values_missing_evidence_or_errors() {
        let one = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.5,"42"]}]}}"#;
        assert_eq!(parse_query_answer(one), Ok(Reading::Value(42.0)));
        let nan = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}"#;
        assert!(matches!(parse_query_answer(nan), Ok(Reading::Missing(_))));
        let empty = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(matches!(parse_query_answer(empty), Ok(Reading::Missing(r)) if r.contains("no series")));
        let two = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}}"#;
        assert!(matches!(parse_query_answer(two), Ok(Reading::Missing(r)) if r.contains("2 series")));
        let scalar = br#"{"status":"success","data":{"resultType":"scalar","result":[1,"3.5"]}}"#;
        assert_eq!(parse_query_answer(scalar), Ok(Reading::Value(3.5)));
        assert!(matches!(parse_query_answer(b"<html>502</html>"), Err(AnswerError::Garbage(_))));
        let failed = br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert!(matches!(parse_query_answer(failed), Err(AnswerError::Failed(e)) if e.contains("parse error")));
        let bad_value = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"lots"]}]}}"#;
        assert!(matches!(parse_query_answer(bad_value), Err(AnswerError::Garbage(_))));
    }

    #[test]
    fn built_in_queries_sum_over_the_fleet_and_name_only_exported_metrics() {
        for m in Measure::ALL {
            let q = promql(m, None, "cyton", Duration::from_secs(6));
            assert!(q.contains("board=\"cyton\"") && q.contains("[6000ms]"), "{q}");
            for word in q.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with("switchyard_")) {
                let name = word.trim_end_matches("_bucket");
                assert!(names::ALL.contains(&name), "{m}: {name} is not exported");
            }
        }
        let custom = Check { measure: Measure::ShadowMismatches, max: 0.0, on_fail: toggles::OnFail::Hold, query: Some("sum(x{board=\"$board\"}[$window])".into()) };
        assert_eq!(promql(Measure::ShadowMismatches, Some(&custom), "cyton", Duration::from_secs(3)), "sum(x{board=\"cyton\"}[3000ms])");
    }
}
