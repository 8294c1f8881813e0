//! Log output formats: tracing-subscriber's text, or one JSON object per line.
//!
//! JSON lines are made for following one session with one `jq` filter: the fields of the
//! enclosing spans that identify a session and a call (`session_id`, `board`, `call_id`,
//! `op`) are copied onto every event, innermost first, so
//! `jq 'select(.session_id == 7)'` shows session 7's whole story, Rust and C++ lines
//! alike. Each line also has `timestamp` (Unix seconds), `level`, `target`, `file`,
//! `line`, `spans` (names, outermost first), `name` when the event has one (e.g.
//! `feature_flag.evaluation`) and every field of the event under its own name.
//!
//! Chosen once per process with `--log-format text|json` (see [`set_format`]).

use std::io::Write;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (tracing-subscriber's format).
    #[default]
    Text,
    /// One JSON object per line (see the module documentation).
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Picks the format for this process; the first call wins. Call it before any logging
/// is installed.
pub fn set_format(format: LogFormat) {
    let _ = FORMAT.set(format);
}

/// The format chosen with [`set_format`] (text if none was).
pub fn format() -> LogFormat {
    FORMAT.get().copied().unwrap_or_default()
}

/// Installs the process's subscriber on stderr with `filter` (reloadable, so that a
/// config's `log_level` can change it), in the chosen format; text lines carry colour
/// only when `ansi` says so (JSON never does). Does nothing if one is installed already.
pub fn install(filter: reload::Layer<EnvFilter, Registry>, ansi: bool) {
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format() {
        LogFormat::Text => registry.with(tracing_subscriber::fmt::layer().with_ansi(ansi).with_writer(std::io::stderr)).try_init(),
        LogFormat::Json => registry.with(JsonLines::new(std::io::stderr)).try_init(),
    };
}

/// Span fields copied onto every event inside the span.
const INHERITED: [&str; 4] = ["session_id", "call_id", "board", "op"];

/// A layer writing one JSON object per event (see the module documentation).
pub struct JsonLines<W> {
    make_writer: W,
}

impl<W> JsonLines<W> {
    pub fn new(make_writer: W) -> Self {
        JsonLines { make_writer }
    }
}

/// A span's fields, kept in its extensions.
struct SpanFields(Map<String, Value>);

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = serde_json::Number::from_f64(value).map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.0.insert(field.name().to_owned(), value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        attrs.record(&mut JsonVisitor(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<SpanFields>() {
                values.record(&mut JsonVisitor(&mut fields.0));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut line = Map::new();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        line.insert("timestamp".into(), Value::from(now.as_secs_f64()));
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        if !meta.name().starts_with("event ") {
            line.insert("name".into(), meta.name().into());
        }
        if let Some(file) = meta.file() {
            line.insert("file".into(), file.into());
        }
        if let Some(number) = meta.line() {
            line.insert("line".into(), number.into());
        }
        event.record(&mut JsonVisitor(&mut line));
        let mut names = Vec::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                names.push(Value::from(span.name()));
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    for key in INHERITED {
                        if let (false, Some(value)) = (line.contains_key(key), fields.0.get(key)) {
                            line.insert(key.to_owned(), value.clone());
                        }
                    }
                }
            }
        }
        names.reverse();
        line.insert("spans".into(), Value::Array(names));
        let Ok(mut text) = serde_json::to_vec(&Value::Object(line)) else { return };
        text.push(b'\n');
        let _ = self.make_writer.make_writer_for(meta).write_all(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn events_carry_the_session_and_call_of_their_spans() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(JsonLines::new(move || writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let session = tracing::info_span!("session", session_id = 7u64, board = "cyton");
            let call = tracing::info_span!(parent: &session, "call", call_id = 12u64, op = "get_board_data");
            call.in_scope(|| tracing::warn!(samples = 3u64, "read"));
            tracing::info!(name: "feature_flag.evaluation", { "feature_flag.key" = "cyton" }, "outside");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        let read = &lines[0];
        assert_eq!(read["session_id"], 7);
        assert_eq!(read["call_id"], 12);
        assert_eq!(read["board"], "cyton");
        assert_eq!(read["op"], "get_board_data");
        assert_eq!(read["samples"], 3);
        assert_eq!(read["message"], "read");
        assert_eq!(read["level"], "WARN");
        assert_eq!(read["spans"], serde_json::json!(["session", "call"]));
        let flag = &lines[1];
        assert_eq!(flag["name"], "feature_flag.evaluation");
        assert_eq!(flag["feature_flag.key"], "cyton");
        assert!(flag.get("session_id").is_none());
    }
}
