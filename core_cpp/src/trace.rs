//! The C++ core's log lines and spans, as `tracing` events and spans.
//!
//! Every C++ log statement (`SY_LOG`, `SY_SPAN` in `cpp/log.h`) has its own static call
//! site; on first use it is registered here as a `tracing` callsite with the statement's
//! target (`core_cpp::cyton`, ...), file, line and key names, so subscribers filter and
//! format C++ lines exactly like Rust ones. Events and spans open under the calling
//! thread's current span (the dispatcher's session and call spans); a thread the core
//! starts (the Cyton reader) opens its span under a handle captured by the call that
//! started it.
//!
//! What C++ sends is not trusted: messages and string values are cut at
//! [`MAX_TEXT_BYTES`] and invalid UTF-8 is escaped (`\xNN`); each site lets at most
//! [`BURST`] lines through per [`WINDOW`], and the first line after a suppressed stretch
//! carries `suppressed_lines`, the count it stands for. No panic crosses back into C++.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use tracing::level_filters::LevelFilter;
use tracing::Span;
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{Field, FieldSet, Value};
use tracing_core::metadata::Kind;
use tracing_core::{Interest, Level, Metadata};

use crate::bridge::ffi;

/// Longest message or string value kept from one C++ log call.
pub const MAX_TEXT_BYTES: usize = 4096;
/// Lines one C++ call site may log per [`WINDOW`] before the rest are counted instead.
pub const BURST: u32 = 50;
/// The rate limiter's window.
pub const WINDOW: Duration = Duration::from_secs(1);
/// Key names one C++ statement may have (the rest are dropped).
const MAX_KEYS: usize = 24;
/// Every event site's fields: the two we add, then the statement's keys.
const EVENT_FIELDS: [&str; 2] = ["message", "suppressed_lines"];
const SLOTS: usize = MAX_KEYS + EVENT_FIELDS.len();

/// Tells the C++ core the most verbose level any subscriber wants, so a disabled C++
/// statement costs a branch. Called whenever a C++ object is made.
pub fn sync_cpp_log_level() {
    let level = match LevelFilter::current().into_level() {
        None => 0,
        Some(Level::ERROR) => 1,
        Some(Level::WARN) => 2,
        Some(Level::INFO) => 3,
        Some(Level::DEBUG) => 4,
        Some(Level::TRACE) => 5,
    };
    ffi::set_cpp_log_level(level);
}

/// One C++ statement's callsite.
struct CppSite {
    metadata: OnceLock<Metadata<'static>>,
    limiter: Mutex<RateLimiter>,
}

impl Callsite for CppSite {
    fn set_interest(&self, _interest: Interest) {}

    fn metadata(&self) -> &Metadata<'_> {
        self.metadata.get().expect("a C++ callsite's metadata is set before it is registered")
    }
}

static SITES: RwLock<Vec<&'static CppSite>> = RwLock::new(Vec::new());

fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}

fn level_of(code: u8) -> Level {
    match code {
        1 => Level::ERROR,
        2 => Level::WARN,
        3 => Level::INFO,
        4 => Level::DEBUG,
        _ => Level::TRACE,
    }
}

/// Registers one C++ statement; returns its number (index + 1). Sites are few and
/// static, so they are leaked.
pub(crate) fn register_cpp_site(
    level: u8,
    is_span: bool,
    target: &str,
    name: &str,
    file: &str,
    line: u32,
    keys: &str,
) -> u32 {
    guarded(0, || {
        let mut names: Vec<&'static str> = if is_span { Vec::new() } else { EVENT_FIELDS.to_vec() };
        names.extend(keys.split(',').map(str::trim).filter(|k| !k.is_empty()).take(MAX_KEYS).map(leak));
        let names: &'static [&'static str] = Box::leak(names.into_boxed_slice());
        let site: &'static CppSite =
            Box::leak(Box::new(CppSite { metadata: OnceLock::new(), limiter: Mutex::new(RateLimiter::default()) }));
        let kind = if is_span { Kind::SPAN } else { Kind::EVENT };
        let file = leak(file.rsplit_once("core_cpp/").map_or(file, |(_, tail)| tail));
        let _ = site.metadata.set(Metadata::new(
            leak(name),
            leak(target),
            level_of(level),
            Some(file),
            Some(line),
            Some("core_cpp"),
            FieldSet::new(names, Identifier(site)),
            kind,
        ));
        tracing_core::callsite::register(site);
        let mut sites = SITES.write().unwrap_or_else(PoisonError::into_inner);
        sites.push(site);
        u32::try_from(sites.len()).unwrap_or(0)
    })
}

fn site(id: u32) -> Option<&'static CppSite> {
    let index = usize::try_from(id).ok()?.checked_sub(1)?;
    SITES.read().unwrap_or_else(PoisonError::into_inner).get(index).copied()
}

fn metadata_of(site: &'static CppSite) -> &'static Metadata<'static> {
    site.metadata.get().expect("registered sites have metadata")
}

fn enabled(meta: &'static Metadata<'static>) -> bool {
    tracing::dispatcher::get_default(|d| d.enabled(meta))
}

/// One decoded C++ value.
#[derive(Debug, Clone, PartialEq)]
enum CppValue {
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Text(String),
}

impl CppValue {
    fn as_value(&self) -> &dyn Value {
        match self {
            CppValue::Bool(v) => v,
            CppValue::I64(v) => v,
            CppValue::U64(v) => v,
            CppValue::F64(v) => v,
            CppValue::Text(v) => v,
        }
    }
}

/// Decodes `cpp/log.cc`'s encoding; stops at the first malformed value.
fn decode_values(mut bytes: &[u8]) -> Vec<CppValue> {
    let mut values = Vec::new();
    let word = |b: &[u8]| -> Option<u64> { Some(u64::from_le_bytes(b.get(..8)?.try_into().ok()?)) };
    while let Some((&tag, rest)) = bytes.split_first() {
        let (value, used) = match tag {
            b'b' => match rest.first() {
                Some(v) => (CppValue::Bool(*v != 0), 1),
                None => break,
            },
            b'i' => match word(rest) {
                Some(v) => (CppValue::I64(v as i64), 8),
                None => break,
            },
            b'u' => match word(rest) {
                Some(v) => (CppValue::U64(v), 8),
                None => break,
            },
            b'f' => match word(rest) {
                Some(v) => (CppValue::F64(f64::from_bits(v)), 8),
                None => break,
            },
            b's' => {
                let Some(len) = rest.get(..4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize) else {
                    break;
                };
                let Some(text) = rest.get(4..4 + len) else { break };
                (CppValue::Text(sanitize(text)), 4 + len)
            }
            _ => break,
        };
        values.push(value);
        bytes = &rest[used..];
    }
    values
}

/// `bytes` as text: at most [`MAX_TEXT_BYTES`] of them, invalid UTF-8 escaped as `\xNN`,
/// and a note of how much was cut.
pub(crate) fn sanitize(bytes: &[u8]) -> String {
    let kept = &bytes[..bytes.len().min(MAX_TEXT_BYTES)];
    let mut text = String::with_capacity(kept.len());
    for chunk in kept.utf8_chunks() {
        text.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(text, "\\x{b:02x}");
        }
    }
    if bytes.len() > kept.len() {
        let _ = write!(text, "… [{} more bytes cut]", bytes.len() - kept.len());
    }
    text
}

/// Lets [`BURST`] lines through per [`WINDOW`]; counts the rest.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    window_start: Option<Instant>,
    in_window: u32,
    suppressed: u64,
}

impl RateLimiter {
    /// `Some(n)` if a line logged at `now` goes out, `n` being the lines suppressed since
    /// the last one that did; `None` if it is suppressed.
    pub(crate) fn admit(&mut self, now: Instant) -> Option<u64> {
        let new_window = self.window_start.is_none_or(|start| now.saturating_duration_since(start) >= WINDOW);
        if new_window {
            self.window_start = Some(now);
            self.in_window = 0;
        }
        if self.in_window >= BURST {
            self.suppressed += 1;
            return None;
        }
        self.in_window += 1;
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// Runs `f`, turning a panic into `fallback`: nothing may unwind into C++.
fn guarded<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Fills `slots` with the site's fields and the values given (missing values are None).
fn with_value_set<R>(
    meta: &'static Metadata<'static>,
    given: &[Option<&dyn Value>],
    f: impl FnOnce(&tracing_core::field::ValueSet<'_>) -> R,
) -> R {
    let fields = meta.fields();
    let all: Vec<Field> = fields.iter().collect();
    let first = fields.iter().next();
    let Some(first) = first else {
        return f(&fields.value_set(&[] as &[(&Field, Option<&dyn Value>); 0]));
    };
    let slots: [(&Field, Option<&dyn Value>); SLOTS] = std::array::from_fn(|i| match all.get(i) {
        Some(field) => (field, given.get(i).copied().flatten()),
        None => (&first, None),
    });
    f(&fields.value_set(&slots))
}

pub(crate) fn cpp_event(site_id: u32, message: &[u8], values: &[u8]) {
    guarded((), || {
        let Some(site) = site(site_id) else { return };
        let meta = metadata_of(site);
        if !enabled(meta) {
            return;
        }
        let Some(suppressed) = site.limiter.lock().unwrap_or_else(PoisonError::into_inner).admit(Instant::now()) else {
            return;
        };
        let message = sanitize(message);
        let values = decode_values(values);
        let message_value = tracing::field::display(&message);
        let mut given: Vec<Option<&dyn Value>> = vec![Some(&message_value), None];
        if suppressed > 0 {
            given[1] = Some(&suppressed);
        }
        given.extend(values.iter().map(|v| Some(v.as_value())));
        with_value_set(meta, &given, |set| tracing_core::Event::dispatch(meta, set));
    })
}

/// Spans C++ opened (entered on the thread that opened them) and spans captured for a
/// thread C++ is about to start, by handle.
static HANDLES: Mutex<Option<HashMap<u64, Held>>> = Mutex::new(None);
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

struct Held {
    span: Span,
    entered: bool,
}

fn hold(span: Span, entered: bool) -> u64 {
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    HANDLES.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert_with(HashMap::new).insert(handle, Held { span, entered });
    handle
}

fn take(handle: u64) -> Option<Held> {
    HANDLES.lock().unwrap_or_else(PoisonError::into_inner).as_mut()?.remove(&handle)
}

fn parent_of(handle: u64) -> Option<Option<tracing::Id>> {
    let handles = HANDLES.lock().unwrap_or_else(PoisonError::into_inner);
    handles.as_ref()?.get(&handle).map(|held| held.span.id())
}

pub(crate) fn cpp_span_open(site_id: u32, parent: u64, values: &[u8]) -> u64 {
    guarded(0, || {
        let Some(site) = site(site_id) else { return 0 };
        let meta = metadata_of(site);
        if !enabled(meta) {
            return 0;
        }
        let values = decode_values(values);
        let given: Vec<Option<&dyn Value>> = values.iter().map(|v| Some(v.as_value())).collect();
        // A thread the core started has no current span: its parent is the captured one.
        let captured = if parent == 0 { None } else { parent_of(parent) };
        let span = with_value_set(meta, &given, |set| match captured {
            Some(parent) => Span::child_of(parent, meta, set),
            None => Span::new(meta, set),
        });
        span.with_subscriber(|(id, dispatch)| dispatch.enter(id));
        hold(span, true)
    })
}

pub(crate) fn cpp_span_close(handle: u64) {
    guarded((), || {
        if let Some(held) = take(handle) {
            if held.entered {
                held.span.with_subscriber(|(id, dispatch)| dispatch.exit(id));
            }
        }
    })
}

pub(crate) fn capture_current_span() -> u64 {
    guarded(0, || hold(Span::current(), false))
}

pub(crate) fn release_captured_span(handle: u64) {
    guarded((), || drop(take(handle)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_and_invalid_utf8_escaped() {
        assert_eq!(sanitize(b"ok \xff\xfe end"), "ok \\xff\\xfe end");
        let huge = vec![b'a'; MAX_TEXT_BYTES + 10];
        let text = sanitize(&huge);
        assert!(text.starts_with(&"a".repeat(MAX_TEXT_BYTES)));
        assert!(text.ends_with("… [10 more bytes cut]"), "{}", &text[MAX_TEXT_BYTES..]);
        // A multi-byte character cut in half is escaped, not lost silently.
        let mut cut = vec![b'a'; MAX_TEXT_BYTES - 1];
        cut.extend_from_slice("é".as_bytes());
        assert!(sanitize(&cut).ends_with("\\xc3… [1 more bytes cut]"));
    }

    #[test]
    fn values_decode_and_a_malformed_tail_is_dropped() {
        let mut bytes = vec![b'b', 1, b'i'];
        bytes.extend_from_slice(&(-5i64).to_le_bytes());
        bytes.push(b'f');
        bytes.extend_from_slice(&2.5f64.to_bits().to_le_bytes());
        bytes.push(b's');
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(b"a\xffb");
        bytes.extend_from_slice(&[b's', 200, 0, 0, 0, b'x']);
        assert_eq!(
            decode_values(&bytes),
            [CppValue::Bool(true), CppValue::I64(-5), CppValue::F64(2.5), CppValue::Text("a\\xffb".into())]
        );
    }

    #[test]
    fn a_storm_is_cut_to_the_burst_and_the_next_window_reports_the_count() {
        let mut limiter = RateLimiter::default();
        let t0 = Instant::now();
        let passed = (0..10_000).filter(|_| limiter.admit(t0).is_some()).count();
        assert_eq!(passed, BURST as usize);
        assert_eq!(limiter.admit(t0 + WINDOW / 2), None);
        assert_eq!(limiter.admit(t0 + WINDOW), Some(10_000 - u64::from(BURST) + 1));
        assert_eq!(limiter.admit(t0 + WINDOW), Some(0));
    }
}
