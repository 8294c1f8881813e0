//! The status page: one self-contained HTML document (no scripts or external assets),
//! readable on a phone, that refreshes itself every five seconds.

use crate::status::StatusDocument;
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

/// Sessions whose device stopped streaming, flagged with the latest reason.
fn devices_cell(board: &crate::status::BoardStatus) -> String {
    if board.streams_stopped == 0 {
        return "ok".into();
    }
    format!(
        "<span class=\"warn\">{} stopped streaming</span><br><small>{}</small>",
        board.streams_stopped,
        escape(board.stream_failure.as_deref().unwrap_or(""))
    )
}

/// A BLE board's links in one cell: counts by state, held reconnects flagged, totals.
fn link_cell(link: &crate::status::LinkSummary) -> String {
    let mut cell = format!("{} up", link.connected);
    if link.reconnecting > 0 {
        let _ = write!(cell, ", {} reconnecting", link.reconnecting);
    }
    if link.reconnect_held > 0 {
        let _ = write!(cell, ", <span class=\"warn\">{} held by breaker</span>", link.reconnect_held);
    }
    if link.not_connected > 0 {
        let _ = write!(cell, ", {} not connected", link.not_connected);
    }
    let _ = write!(
        cell,
        "<br><small>{} failures, {} reconnects, {} rebuilt",
        link.failures_total, link.reconnects_total, link.restarts_total
    );
    if let Some(last) = &link.last_failure {
        let _ = write!(cell, "; last: {}", escape(last));
    }
    cell.push_str("</small>");
    cell
}

pub fn render(doc: &StatusDocument) -> String {
    let mut h = String::with_capacity(8192);
    h.push_str(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"5\"><title>switchyard status</title><style>\
body{font-family:system-ui,sans-serif;margin:0.5em;font-size:15px}\
table{border-collapse:collapse;width:100%;margin-bottom:1em}td,th{border:1px solid #ccc;padding:3px 5px;text-align:left}\
.open{background:#f8c9c4}.half_open{background:#fbe7b3}.closed{background:#d4f0d0}.forced_open{background:#f8c9c4}\
.warn{color:#a00;font-weight:bold}.wrap{overflow-x:auto}</style></head><body>",
    );
    let _ = write!(
        h,
        "<h1>switchyard</h1><p>config <b>{}</b> generation <b>{}</b> hash <code>{}</code><br>last reload: {}</p>",
        escape(&doc.source),
        doc.generation,
        escape(&doc.content_hash),
        escape(&doc.last_reload)
    );
    if doc.kill_switch {
        h.push_str("<p class=\"warn\">KILL SWITCH ON: every board with a C++ implementation serves C++</p>");
    }
    for o in &doc.overrides {
        let _ = write!(h, "<p class=\"warn\">runtime override: {}</p>", escape(o));
    }
    h.push_str("<div class=\"wrap\"><table><tr><th>board</th><th>mode</th><th>%</th><th>breaker</th><th>window</th><th>cpp</th><th>rust</th><th>shadow</th><th>standby</th><th>failovers</th><th>shadow cmp/mismatch</th><th>devices</th><th>link (BLE)</th></tr>");
    for b in &doc.boards {
        let percent = b.percent.map(|p| format!("{p}")).unwrap_or_else(|| "-".into());
        let ramp = b.ramp_step.as_deref().map(|s| format!(" ({})", escape(s))).unwrap_or_default();
        let note = b.override_note.as_deref().map(|n| format!("<br><span class=\"warn\">{}</span>", escape(n))).unwrap_or_default();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td class=\"{}\">{} ({})<br><small>{}</small>{}</td><td>{} calls, {:.1}% err, {:.1}% slow</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td></tr>",
            escape(&b.board),
            escape(&b.mode),
            percent,
            ramp,
            escape(&b.breaker_state.to_ascii_lowercase()),
            escape(&b.breaker_state),
            escape(&b.breaker_mode),
            escape(&b.breaker_cause),
            note,
            b.calls_in_window,
            b.failure_percent,
            b.slow_percent,
            b.sessions_cpp,
            b.sessions_rust,
            b.sessions_shadow,
            b.sessions_standby,
            b.failovers,
            b.shadow_compared,
            b.shadow_mismatched,
            devices_cell(b),
            b.link.as_ref().map(link_cell).unwrap_or_else(|| "-".into())
        );
    }
    h.push_str("</table></div><h2>recent events</h2><div class=\"wrap\"><table><tr><th>time (unix s)</th><th>kind</th><th>detail</th></tr>");
    for e in &doc.events {
        let _ = write!(h, "<tr><td>{:.3}</td><td>{}</td><td>{}</td></tr>", e.at, escape(&e.kind), escape(&e.detail));
    }
    h.push_str("</table></div>");
    if !doc.refusals.is_empty() {
        h.push_str("<h2>refused requests</h2><div class=\"wrap\"><table><tr><th>last (unix s)</th><th>from</th><th>count</th><th>reason</th><th>latest request</th></tr>");
        for r in &doc.refusals {
            let _ = write!(
                h,
                "<tr><td>{:.3}</td><td>{}</td><td>{} since {:.3}</td><td>{}</td><td><code>{}</code></td></tr>",
                r.last_at,
                escape(&r.source),
                r.count,
                r.first_at,
                escape(&r.reason),
                escape(&r.last_request)
            );
        }
        h.push_str("</table></div>");
    }
    h.push_str("<p><a href=\"/status\">JSON</a> · <a href=\"/metrics\">metrics</a></p></body></html>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{BoardStatus, EventRecord};

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
}
