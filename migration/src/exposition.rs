//! Prometheus's text exposition (what our `/metrics` serves), read back so that a host
//! judging its own evidence computes each measure from the same series, with the same
//! meaning, as the PromQL of [`crate::promql`] does over a fleet.

use crate::judge::Reading;
use std::collections::BTreeMap;
use toggles::Measure;

/// One scrape: every series (`name` and sorted labels) with its value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    pub series: Vec<(String, BTreeMap<String, String>, f64)>,
}

/// Reads the text format; lines it cannot read are skipped (comments, types, help).
pub fn parse(text: &str) -> Scrape {
    let mut series = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (head, value) = match line.rfind(' ') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => continue,
        };
        let Ok(value) = value.parse::<f64>() else { continue };
        let (name, labels) = match head.find('{') {
            None => (head.to_owned(), BTreeMap::new()),
            Some(i) => {
                let Some(body) = head[i + 1..].strip_suffix('}') else { continue };
                (head[..i].to_owned(), labels_of(body))
            }
        };
        series.push((name, labels, value));
    }
    Scrape { series }
}

fn labels_of(body: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = body;
    while let Some(eq) = rest.find("=\"") {
        let key = rest[..eq].trim_start_matches(',').trim().to_owned();
        let mut value = String::new();
        let mut chars = rest[eq + 2..].char_indices();
        let mut end = rest.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(if n == 'n' { '\n' } else { n });
                    }
                }
                '"' => {
                    end = eq + 2 + i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        out.insert(key, value);
        rest = &rest[end.min(rest.len())..];
    }
    out
}

impl Scrape {
    fn sum(&self, name: &str, keep: &dyn Fn(&BTreeMap<String, String>) -> bool) -> Option<f64> {
        let mut found = false;
        let mut total = 0.0;
        for (n, labels, v) in &self.series {
            if n == name && keep(labels) {
                found = true;
                total += v;
            }
        }
        found.then_some(total)
    }
}

fn board_is<'a>(board: &'a str) -> impl Fn(&BTreeMap<String, String>) -> bool + 'a {
    move |l| l.get("board").map(String::as_str) == Some(board)
}

fn path_in<'a>(board: &'a str, paths: &'a [&'a str]) -> impl Fn(&BTreeMap<String, String>) -> bool + 'a {
    move |l| board_is(board)(l) && l.get("path").is_some_and(|p| paths.contains(&p.as_str()))
}

/// A counter's increase from `before` to `after` (a reset counts from zero).
fn increase(before: &Scrape, after: &Scrape, name: &str, keep: &dyn Fn(&BTreeMap<String, String>) -> bool) -> Reading {
    match (before.sum(name, keep), after.sum(name, keep)) {
        (_, None) => Reading::Missing(format!("{name} has no series yet")),
        (None, Some(a)) => Reading::of(a),
        (Some(b), Some(a)) if a >= b => Reading::of(a - b),
        (Some(_), Some(a)) => Reading::of(a),
    }
}

/// The 0.99 quantile of a histogram's increase, interpolated within buckets as
/// Prometheus's `histogram_quantile` does.
fn p99(before: &Scrape, after: &Scrape, name: &str, board: &str, paths: &[&str]) -> f64 {
    let bucket = format!("{name}_bucket");
    let mut bounds: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for (scrape, sign) in [(after, 1.0), (before, -1.0)] {
        for (n, labels, v) in &scrape.series {
            if *n != bucket || !path_in(board, paths)(labels) {
                continue;
            }
            let le = match labels.get("le").map(String::as_str) {
                Some("+Inf") => f64::INFINITY,
                Some(t) => match t.parse::<f64>() {
                    Ok(x) => x,
                    Err(_) => continue,
                },
                None => continue,
            };
            bounds.entry(le.to_bits()).or_insert((le, 0.0)).1 += sign * v;
        }
    }
    let mut buckets: Vec<(f64, f64)> = bounds.into_values().collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(&(_, total)) = buckets.last() else { return f64::NAN };
    if total <= 0.0 {
        return f64::NAN;
    }
    let rank = 0.99 * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for (le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return lower;
            }
            let inside = count - below;
            return if inside <= 0.0 { le } else { lower + (le - lower) * (rank - below) / inside };
        }
        lower = le;
        below = count;
    }
    f64::NAN
}

/// `measure` of `board` between two scrapes; `during` are the scrapes taken between them
/// (for the highest value of a gauge over the window).
pub fn measure(measure: Measure, board: &str, before: &Scrape, during: &[&Scrape], after: &Scrape) -> Reading {
    use monitoring::names;
    let b = board_is(board);
    let rate = |a: Reading, c: Reading| match (a, c) {
        (Reading::Value(x), Reading::Value(y)) => Reading::of(100.0 * x / y),
        (Reading::Missing(m), _) | (_, Reading::Missing(m)) => Reading::Missing(m),
    };
    let highest = |name: &str| {
        let values: Vec<f64> = during.iter().chain([&after]).filter_map(|s| s.sum(name, &b)).collect();
        if values.is_empty() {
            Reading::Missing(format!("{name} has no series yet"))
        } else {
            Reading::of(100.0 * values.iter().copied().fold(f64::MIN, f64::max))
        }
    };
    match measure {
        Measure::ShadowComparisons => increase(before, after, names::SHADOW_COMPARISONS_TOTAL, &b),
        Measure::ShadowMismatches => increase(before, after, names::SHADOW_MISMATCHES_TOTAL, &b),
        Measure::ShadowMismatchRate => rate(increase(before, after, names::SHADOW_MISMATCHES_TOTAL, &b), increase(before, after, names::SHADOW_COMPARISONS_TOTAL, &b)),
        Measure::RustCalls => increase(before, after, names::CALLS_TOTAL, &path_in(board, &["rust", "standby"])),
        Measure::RustFailureRate => highest(names::BREAKER_FAILURE_RATIO),
        Measure::RustSlowRate => highest(names::BREAKER_SLOW_RATIO),
        Measure::RustP99VsCpp => Reading::of(
            p99(before, after, names::CALL_DURATION_SECONDS, board, &["rust", "standby"]) / p99(before, after, names::CALL_DURATION_SECONDS, board, &["cpp", "shadow"]),
        ),
        Measure::BreakerOpenings => increase(before, after, names::BREAKER_TRANSITIONS_TOTAL, &|l| b(l) && l.get("to").map(String::as_str) == Some("OPEN")),
        Measure::Sessions => {
            let values: Vec<f64> = during.iter().chain([&after]).filter_map(|s| s.sum(names::ACTIVE_SESSIONS, &|l| b(l) && l.get("path").map(String::as_str) != Some("cpp"))).collect();
            match values.iter().copied().reduce(f64::max) {
                Some(v) => Reading::of(v),
                None => Reading::Missing(format!("{} has no series yet", names::ACTIVE_SESSIONS)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "# TYPE switchyard_shadow_comparisons_total counter
switchyard_shadow_comparisons_total{board=\"cyton\"} 100
switchyard_shadow_mismatches_total{board=\"cyton\"} 0
switchyard_call_duration_seconds_bucket{board=\"cyton\",path=\"rust\",operation=\"get_board_data\",le=\"0.001\"} 0
switchyard_call_duration_seconds_bucket{board=\"cyton\",path=\"rust\",operation=\"get_board_data\",le=\"0.01\"} 0
switchyard_call_duration_seconds_bucket{board=\"cyton\",path=\"rust\",operation=\"get_board_data\",le=\"+Inf\"} 0
";
    const AFTER: &str = "switchyard_shadow_comparisons_total{board=\"cyton\"} 600
switchyard_shadow_mismatches_total{board=\"cyton\"} 3
switchyard_shadow_comparisons_total{board=\"synthetic\"} 9999
switchyard_breaker_failure_ratio{board=\"cyton\"} 0.02
switchyard_call_duration_seconds_bucket{board=\"cyton\",path=\"rust\",operation=\"get_board_data\",le=\"0.001\"} 50
switchyard_call_duration_seconds_bucket{board=\"cyton\",path=\"rust\",operation=\"get_board_data\",le=\"0.01\"} 100
switchyard_call_duration_seconds_bucket{board=\"cyton\",path=\"rust\",operation=\"get_board_data\",le=\"+Inf\"} 100
";

    #[test]
    fn measures_from_two_scrapes_of_our_own_metrics() {
        let (before, after) = (parse(BEFORE), parse(AFTER));
        assert_eq!(measure(Measure::ShadowComparisons, "cyton", &before, &[], &after), Reading::Value(500.0));
        assert_eq!(measure(Measure::ShadowMismatchRate, "cyton", &before, &[], &after), Reading::Value(0.6));
        assert_eq!(measure(Measure::RustFailureRate, "cyton", &before, &[], &after), Reading::Value(2.0));
        // No C++ latency: the ratio is missing, never a pass.
        assert!(matches!(measure(Measure::RustP99VsCpp, "cyton", &before, &[], &after), Reading::Missing(_)));
        assert!(matches!(measure(Measure::BreakerOpenings, "cyton", &before, &[], &after), Reading::Missing(_)));
        let p = p99(&before, &after, monitoring::names::CALL_DURATION_SECONDS, "cyton", &["rust"]);
        assert!((p - 0.00982).abs() < 1e-9, "{p}");
        // A counter that went down was reset: it counts from zero.
        assert_eq!(measure(Measure::ShadowComparisons, "cyton", &after, &[], &before), Reading::Value(100.0));
    }
}
