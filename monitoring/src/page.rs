//! The status page: one self-contained HTML document (no scripts, no external assets:
//! it works offline), readable on a phone, that refreshes itself every five seconds.
//!
//! A tile per board, as on the Hystrix dashboard: the breaker state as the tile's colour,
//! the figures of the moment, and charts of the last 15 minutes that the server keeps in
//! memory, drawn here as inline SVG: sessions per path, Rust error and slow rates, p99
//! read latency per path, shadow comparisons and mismatches, samples delivered and
//! dropped, the breaker state over time as a band, and a ramp's steps with where "now" is.
//! Times are UTC ISO-8601 with how long ago.

use crate::history::{Point, WINDOW_SECONDS};
use crate::status::{BoardStatus, MigrationView, RampView, StatusDocument};
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Unix seconds as `2026-12-01T21:54:03Z`.
pub fn iso_utc(unix: f64) -> String {
    let secs = unix.floor() as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// How long before `now` the moment `at` was: `12 s ago`, `3 min ago`, `in 5 min`.
pub fn relative(now: f64, at: f64) -> String {
    let delta = now - at;
    let (amount, ahead) = (delta.abs(), delta < 0.0);
    let text = if amount < 60.0 {
        format!("{} s", amount.round() as u64)
    } else if amount < 3600.0 {
        format!("{} min", (amount / 60.0).round() as u64)
    } else if amount < 86_400.0 {
        format!("{} h", (amount / 3600.0).round() as u64)
    } else {
        format!("{} d", (amount / 86_400.0).round() as u64)
    };
    if ahead {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

fn time(now: f64, at: f64) -> String {
    let iso = iso_utc(at);
    format!("<time datetime=\"{iso}\">{iso}</time> <span class=\"ago\">({})</span>", relative(now, at))
}

const PATH_NAMES: [&str; 4] = ["cpp", "rust", "shadow", "standby"];
const PATH_COLOURS: [&str; 4] = ["#1f77b4", "#d62728", "#9467bd", "#2ca02c"];

struct Series<'a> {
    name: &'a str,
    colour: &'a str,
    values: Vec<(f64, f64)>,
}

const CHART_W: f64 = 300.0;
const CHART_H: f64 = 60.0;

/// Where a board's charts start: 15 minutes back, or the first point when the history is
/// younger than that (so a fresh start fills the width instead of a sliver at its edge).
fn window_start(now: f64, points: &[Point]) -> f64 {
    let first = points.first().map(|p| p.at).unwrap_or(now);
    first.max(now - WINDOW_SECONDS).min(now - 60.0)
}

/// A line chart from `start` to `now`, with a legend giving each series' latest value and
/// the top of the scale.
fn chart(title: &str, unit: &str, start: f64, now: f64, series: &[Series<'_>]) -> String {
    let span = (now - start).max(1.0);
    let top = series.iter().flat_map(|s| s.values.iter().map(|(_, v)| *v)).fold(0.0f64, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let x = |t: f64| ((t - start) / span * CHART_W).clamp(0.0, CHART_W);
    let y = |v: f64| CHART_H - 2.0 - (v / top) * (CHART_H - 4.0);
    let mut out = format!("<figure class=\"chart\"><figcaption><b>{}</b>", escape(title));
    for s in series {
        let latest = s.values.last().map(|(_, v)| format_value(*v)).unwrap_or_else(|| "-".into());
        let _ = write!(out, " <span class=\"key\" style=\"color:{}\">{} {latest}</span>", s.colour, escape(s.name));
    }
    let _ = write!(
        out,
        "<span class=\"scale\">top {} {}</span></figcaption><svg viewBox=\"0 0 {CHART_W} {CHART_H}\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{}, last 15 minutes\">",
        format_value(top),
        escape(unit),
        escape(title)
    );
    for s in series {
        if s.values.is_empty() {
            continue;
        }
        let points: Vec<String> = s.values.iter().map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v))).collect();
        let _ = write!(
            out,
            "<polyline class=\"series\" data-series=\"{}\" data-points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" vector-effect=\"non-scaling-stroke\" points=\"{}\"/>",
            escape(s.name),
            s.values.len(),
            s.colour,
            points.join(" ")
        );
    }
    out.push_str("</svg></figure>");
    out
}

fn format_value(v: f64) -> String {
    if v.fract() == 0.0 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn state_colour(state: &str) -> &'static str {
    match state.to_ascii_lowercase().as_str() {
        "closed" => "#4caf50",
        "half_open" => "#ff9800",
        "open" | "forced_open" => "#e53935",
        "metrics_only" => "#90a4ae",
        _ => "#bdbdbd",
    }
}

/// The breaker state over the window, one coloured stretch per state.
fn breaker_band(start: f64, now: f64, points: &[Point]) -> String {
    let span = (now - start).max(1.0);
    let x = |t: f64| ((t - start) / span * CHART_W).clamp(0.0, CHART_W);
    let mut out = String::from("<figure class=\"chart\"><figcaption><b>breaker</b>");
    let mut seen: Vec<&str> = Vec::new();
    for p in points {
        if !seen.contains(&p.breaker_state.as_str()) {
            seen.push(&p.breaker_state);
        }
    }
    for state in &seen {
        let _ = write!(out, " <span class=\"key\" style=\"color:{}\">{}</span>", state_colour(state), escape(state));
    }
    let _ = write!(out, "</figcaption><svg class=\"band\" viewBox=\"0 0 {CHART_W} 12\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"breaker state, last 15 minutes\">");
    let mut i = 0;
    while i < points.len() {
        let state = &points[i].breaker_state;
        let mut j = i;
        while j + 1 < points.len() && points[j + 1].breaker_state == *state {
            j += 1;
        }
        let from = x(points[i].at);
        let to = if j + 1 < points.len() { x(points[j + 1].at) } else { x(now) };
        let _ = write!(
            out,
            "<rect class=\"state\" data-state=\"{}\" x=\"{from:.1}\" y=\"0\" width=\"{:.1}\" height=\"12\" fill=\"{}\"/>",
            escape(state),
            (to - from).max(0.5),
            state_colour(state)
        );
        i = j + 1;
    }
    out.push_str("</svg></figure>");
    out
}

fn ramp_steps(now: f64, ramp: &RampView) -> String {
    let mut out = String::from("<div class=\"ramp\" aria-label=\"ramp steps\">");
    for (i, step) in ramp.steps.iter().enumerate() {
        let class = match ramp.current {
            Some(c) if c == i => "step now",
            Some(c) if i < c => "step done",
            _ => "step",
        };
        let _ = write!(out, "<span class=\"{class}\">{}%{}</span>", format_value(*step), if class == "step now" { " ◀ now" } else { "" });
    }
    out.push_str("</div>");
    if let Some(next) = ramp.next_at {
        let _ = write!(out, "<p class=\"small\">next step {}</p>", time(now, next));
    } else if ramp.current.is_none() {
        out.push_str("<p class=\"small\">not started</p>");
    }
    out
}

fn migration(now: f64, m: &MigrationView) -> String {
    let mut out = String::from("<div class=\"ramp\" aria-label=\"migration stages\">");
    for (i, stage) in m.stages.iter().enumerate() {
        let class = if i == m.stage { "step now" } else if i < m.stage { "step done" } else { "step" };
        let _ = write!(out, "<span class=\"{class}\">{}{}</span>", escape(stage), if i == m.stage { " ◀ now" } else { "" });
    }
    out.push_str("</div>");
    let _ = write!(out, "<p class=\"small\">plan <b>{}</b> since {} ({})", escape(&m.state), time(now, m.entered_at), escape(&m.evidence));
    if let Some(reason) = &m.reason {
        let _ = write!(out, ": {}", escape(reason));
    }
    if let Some(next) = m.next_boundary {
        let _ = write!(out, "<br>next boundary {}: {}", time(now, next), escape(&m.next_outcome));
    }
    out.push_str("</p><p class=\"small\">");
    for c in &m.checks {
        let value = c.value.map(format_value).unwrap_or_else(|| "no data".to_owned());
        let _ = write!(out, "{} {}: {value} <b>{}</b> ({})<br>", escape(&c.measure), escape(&c.requirement), escape(&c.state), escape(&c.on_fail));
    }
    out.push_str("</p>");
    out
}

fn tile(now: f64, b: &BoardStatus) -> String {
    let state = b.breaker_state.to_ascii_lowercase();
    let mut h = format!("<article class=\"tile {}\" data-board=\"{}\">", escape(&state), escape(&b.board));
    let _ = write!(
        h,
        "<h2>{} <span class=\"badge\" style=\"background:{}\">{}</span></h2>",
        escape(&b.board),
        state_colour(&state),
        escape(&b.breaker_state)
    );
    let percent = b.percent.map(|p| format!(" · {}% of sessions", format_value(p))).unwrap_or_default();
    let ramp = b.ramp_step.as_deref().map(|s| format!(" ({})", escape(s))).unwrap_or_default();
    let _ = write!(h, "<p>mode <b>{}</b>{percent}{ramp} · breaker {}", escape(&b.mode), escape(&b.breaker_mode));
    if !b.breaker_cause.is_empty() {
        let _ = write!(h, ": {}", escape(&b.breaker_cause));
    }
    h.push_str("</p>");
    if let Some(note) = &b.override_note {
        let _ = write!(h, "<p class=\"warn\">{}</p>", escape(note));
    }
    let _ = write!(
        h,
        "<p class=\"figures\">cpp <b>{}</b> · rust <b>{}</b> · shadow <b>{}</b> · standby <b>{}</b> · failovers <b>{}</b><br>window {} calls, {:.1}% err, {:.1}% slow · shadow {} compared, {} mismatched</p>",
        b.sessions_cpp,
        b.sessions_rust,
        b.sessions_shadow,
        b.sessions_standby,
        b.failovers,
        b.calls_in_window,
        b.failure_percent,
        b.slow_percent,
        b.shadow_compared,
        b.shadow_mismatched
    );
    if b.streams_stopped > 0 {
        let _ = write!(
            h,
            "<p class=\"warn\">{} stopped streaming: {}</p>",
            b.streams_stopped,
            escape(b.stream_failure.as_deref().unwrap_or(""))
        );
    }
    if let Some(link) = &b.link {
        let _ = write!(h, "<p>link (BLE): {} up", link.connected);
        if link.reconnecting > 0 {
            let _ = write!(h, ", {} reconnecting", link.reconnecting);
        }
        if link.reconnect_held > 0 {
            let _ = write!(h, ", <span class=\"warn\">{} held by breaker</span>", link.reconnect_held);
        }
        if link.not_connected > 0 {
            let _ = write!(h, ", {} not connected", link.not_connected);
        }
        let _ = write!(h, "<br><small>{} failures, {} reconnects, {} rebuilt", link.failures_total, link.reconnects_total, link.restarts_total);
        if let Some(last) = &link.last_failure {
            let _ = write!(h, "; last: {}", escape(last));
        }
        h.push_str("</small></p>");
    }
    if let Some(r) = &b.ramp {
        h.push_str(&ramp_steps(now, r));
    }
    if let Some(m) = &b.migration {
        h.push_str(&migration(now, m));
    }
    let points = &b.history;
    let per_path = |f: &dyn Fn(&Point, usize) -> Option<f64>| -> Vec<Series<'static>> {
        (0..4)
            .map(|i| Series { name: PATH_NAMES[i], colour: PATH_COLOURS[i], values: points.iter().filter_map(|p| f(p, i).map(|v| (p.at, v))).collect() })
            .filter(|s| s.values.iter().any(|(_, v)| *v > 0.0))
            .collect()
    };
    let series = |name: &'static str, colour: &'static str, f: &dyn Fn(&Point) -> f64| Series { name, colour, values: points.iter().map(|p| (p.at, f(p))).collect() };
    let start = window_start(now, points);
    let _ = write!(h, "<p class=\"small\">charts from {} to now</p>", time(now, start));
    h.push_str(&breaker_band(start, now, points));
    h.push_str(&chart("sessions per path", "sessions", start, now, &per_path(&|p, i| Some(p.sessions[i] as f64))));
    h.push_str(&chart(
        "Rust errors and slow calls",
        "%",
        start,
        now,
        &[series("error %", "#e53935", &|p| p.error_percent), series("slow %", "#ff9800", &|p| p.slow_percent)],
    ));
    h.push_str(&chart("p99 read latency per path", "ms", start, now, &per_path(&|p, i| p.p99_ms[i])));
    if points.iter().any(|p| p.shadow_compared > 0) || b.sessions_shadow > 0 || b.sessions_standby > 0 {
        h.push_str(&chart(
            "shadow comparisons",
            "per interval",
            start,
            now,
            &[series("compared", "#9467bd", &|p| p.shadow_compared as f64), series("mismatched", "#e53935", &|p| p.shadow_mismatched as f64)],
        ));
    }
    h.push_str(&chart(
        "samples",
        "per interval",
        start,
        now,
        &[series("delivered", "#1f77b4", &|p| p.delivered as f64), series("dropped", "#e53935", &|p| p.dropped as f64)],
    ));
    h.push_str("</article>");
    h
}

const STYLE: &str = "*{box-sizing:border-box}body{font:15px/1.35 system-ui,sans-serif;margin:0;padding:8px;overflow-wrap:anywhere;color:#222}\
h1{font-size:1.3em;margin:0 0 4px}h2{font-size:1.05em;margin:0 0 4px}p{margin:2px 0}\
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,330px),1fr));gap:8px;margin:8px 0}\
.tile{border:1px solid #ccc;border-top:6px solid #4caf50;border-radius:6px;padding:6px 8px;min-width:0}\
.tile.open,.tile.forced_open{border-top-color:#e53935;background:#fff5f5}.tile.half_open{border-top-color:#ff9800}\
.badge{color:#fff;border-radius:3px;padding:0 4px;font-size:.8em;vertical-align:middle}\
.chart{margin:4px 0}.chart figcaption{font-size:.8em}.key{margin-left:6px;white-space:nowrap}.scale{float:right;color:#777}\
svg{display:block;width:100%;height:48px;background:#f7f7f7}svg.band{height:12px}\
.ramp{display:flex;flex-wrap:wrap;gap:3px;margin:4px 0}.step{border:1px solid #bbb;border-radius:3px;padding:0 4px;font-size:.85em}\
.step.done{background:#e8f5e9}.step.now{background:#1f77b4;color:#fff;border-color:#1f77b4}\
.warn{color:#b00;font-weight:bold}.small,small,.ago{font-size:.85em;color:#555}\
ul.events{list-style:none;padding:0;margin:0}ul.events li{padding:3px 0;border-bottom:1px solid #eee}\
.kind{display:inline-block;min-width:5em;font-weight:bold}code{overflow-wrap:anywhere}";

pub fn render(doc: &StatusDocument) -> String {
    let now = doc.generated_at;
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"5\"><title>switchyard status</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        h,
        "<h1>switchyard</h1><p>config <b>{}</b> generation <b>{}</b> hash <code>{}</code><br>last reload: {}<br>as of {}</p>",
        escape(&doc.source),
        doc.generation,
        escape(&doc.content_hash),
        escape(&doc.last_reload),
        time(now, now)
    );
    if doc.kill_switch {
        h.push_str("<p class=\"warn\">KILL SWITCH ON: every board with a C++ implementation serves C++</p>");
    }
    for o in &doc.overrides {
        let _ = write!(h, "<p class=\"warn\">runtime override: {}</p>", escape(o));
    }
    h.push_str("<section class=\"tiles\">");
    for b in &doc.boards {
        h.push_str(&tile(now, b));
    }
    h.push_str("</section><h2>recent events</h2><ul class=\"events\">");
    for e in &doc.events {
        let _ = write!(h, "<li>{} <span class=\"kind\">{}</span> {}</li>", time(now, e.at), escape(&e.kind), escape(&e.detail));
    }
    h.push_str("</ul>");
    if !doc.refusals.is_empty() {
        h.push_str("<h2>refused requests</h2><ul class=\"events\">");
        for r in &doc.refusals {
            let _ = write!(
                h,
                "<li>{} <b>{} refused request{} from {}</b> since {}: {}<br><small>latest: <code>{}</code></small></li>",
                time(now, r.last_at),
                r.count,
                if r.count == 1 { "" } else { "s" },
                escape(&r.source),
                time(now, r.first_at),
                escape(&r.reason),
                escape(&r.last_request)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("<p><a href=\"/status\">JSON</a> · <a href=\"/metrics\">metrics</a></p></body></html>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::EventRecord;

    #[test]
    fn page_escapes_untrusted_text_and_has_no_external_assets() {
        let doc = StatusDocument {
            source: "<script>x</script>".into(),
            boards: vec![BoardStatus { board: "synthetic".into(), breaker_state: "open".into(), ..Default::default() }],
            events: vec![EventRecord { at: 1.0, kind: "rejected".into(), detail: "bad \"value\" & <more>".into() }],
            ..Default::default()
        };
        let html = render(&doc);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("bad &quot;value&quot; &amp; &lt;more&gt;"));
        assert!(!html.contains("src="));
        assert!(!html.contains("http://") && !html.contains("https://"));
    }

    #[test]
    fn a_plan_shows_its_stages_where_it_stands_and_each_condition() {
        let now = 10_000.0;
        let plan = crate::status::MigrationView {
            stages: vec!["cpp".into(), "shadow (sample 100%)".into(), "rust 50%".into()],
            stage: 1,
            entered_at: now - 60.0,
            evidence: "prometheus http://127.0.0.1:9090".into(),
            state: "holding".into(),
            reason: Some("shadow_mismatches is 3 (at most 0 allowed)".into()),
            last_boundary: Some(now - 2.0),
            next_boundary: Some(now + 8.0),
            next_outcome: "hold: shadow_mismatches is 3 (at most 0 allowed)".into(),
            checks: vec![crate::status::MigrationCheck {
                measure: "shadow_mismatches".into(),
                requirement: "<= 0".into(),
                value: Some(3.0),
                state: "fail".into(),
                on_fail: "hold".into(),
                note: None,
            }],
        };
        let doc = StatusDocument {
            generated_at: now,
            boards: vec![BoardStatus { board: "cyton".into(), breaker_state: "CLOSED".into(), migration: Some(plan), ..Default::default() }],
            ..Default::default()
        };
        let html = render(&doc);
        assert!(html.contains("<span class=\"step now\">shadow (sample 100%) ◀ now</span>"), "{html}");
        assert!(html.contains("<span class=\"step done\">cpp</span>"), "{html}");
        assert!(html.contains("plan <b>holding</b>") && html.contains(": shadow_mismatches is 3 (at most 0 allowed)"), "{html}");
        assert!(html.contains("next boundary") && html.contains("shadow_mismatches &lt;= 0: 3 <b>fail</b> (hold)"), "{html}");
    }

    #[test]
    fn times_are_utc_iso_8601_with_how_long_ago() {
        assert_eq!(iso_utc(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_796_156_971.021), "2026-12-01T20:29:31Z");
        assert_eq!(iso_utc(951_782_400.0), "2000-02-29T00:00:00Z");
        assert_eq!(relative(100.0, 88.0), "12 s ago");
        assert_eq!(relative(1000.0, 820.0), "3 min ago");
        assert_eq!(relative(0.0, 300.0), "in 5 min");
        let doc = StatusDocument {
            generated_at: 1_796_156_983.0,
            events: vec![EventRecord { at: 1_796_156_971.021, kind: "operator".into(), detail: "kill switch on".into() }],
            ..Default::default()
        };
        let html = render(&doc);
        assert!(html.contains("<time datetime=\"2026-12-01T20:29:31Z\">2026-12-01T20:29:31Z</time> <span class=\"ago\">(12 s ago)</span>"), "{html}");
        assert!(!html.contains("1796156971"), "no raw Unix seconds");
    }

    #[test]
    fn tiles_chart_the_window_and_band_the_breaker_state() {
        let now = 10_000.0;
        let history: Vec<Point> = (0..30)
            .map(|i| Point {
                at: now - 300.0 + f64::from(i) * 10.0,
                sessions: [2, 1, 0, 0],
                error_percent: f64::from(i),
                breaker_state: if i < 20 { "CLOSED".into() } else { "FORCED_OPEN".into() },
                ..Point::default()
            })
            .collect();
        let doc = StatusDocument {
            generated_at: now,
            boards: vec![BoardStatus {
                board: "cyton".into(),
                breaker_state: "FORCED_OPEN".into(),
                ramp: Some(RampView { steps: vec![1.0, 5.0, 25.0, 100.0], current: Some(1), next_at: Some(now + 600.0) }),
                history,
                ..Default::default()
            }],
            ..Default::default()
        };
        let html = render(&doc);
        assert!(html.contains("class=\"tile forced_open\""));
        assert!(html.contains("data-series=\"cpp\" data-points=\"30\""), "{html}");
        assert!(html.contains("data-series=\"error %\" data-points=\"30\""));
        assert_eq!(html.matches("<rect class=\"state\"").count(), 2, "one stretch per state");
        assert!(html.contains("data-state=\"FORCED_OPEN\""));
        assert!(html.contains("<span class=\"step now\">5% ◀ now</span>"), "{html}");
        assert!(html.contains("next step <time datetime=\"1970-01-01T02:56:40Z\">"));
    }
}
