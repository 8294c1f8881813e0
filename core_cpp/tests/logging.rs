//! C++ log lines and spans arrive in `tracing` with their target, file, line and fields,
//! nested under the Rust span that called in; bad input is cut, escaped and rate-limited.
//! One global JSON subscriber for the whole file, since C++ threads log too.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let out = Captured::default();
        let writer = out.clone();
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_file(true)
            .with_line_number(true)
            .with_span_list(true)
            .with_writer(move || writer.clone())
            .init();
        out
    })
}

/// Every captured line that mentions `marker`.
fn lines_with(marker: &str) -> Vec<Value> {
    let bytes = captured().0.lock().unwrap().clone();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .filter(|l| l.contains(marker))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_cpp_line_keeps_its_target_file_line_fields_and_the_rust_span() {
    captured();
    let span = tracing::info_span!("call", session_id = 41u64, call_id = 7u64);
    span.in_scope(|| core_cpp::log_in_cpp_for_test(b"marker-one", 1));
    let lines = lines_with("marker-one");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["target"], "core_cpp::test");
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["filename"], "cpp/bridge.cc");
    assert!(line["line_number"].as_u64().unwrap() > 0);
    assert_eq!(line["fields"]["message"], "logged on purpose by log_for_test");
    assert_eq!(line["fields"]["line"], 0);
    assert_eq!(line["fields"]["text"], "marker-one");
    assert_eq!(line["spans"][0]["session_id"], 41);
    assert_eq!(line["spans"][0]["call_id"], 7);
}

#[test]
fn huge_and_invalid_utf8_messages_are_cut_and_escaped() {
    captured();
    let mut message = b"marker-two \xff\xfe ".to_vec();
    message.extend(std::iter::repeat_n(b'x', 1 << 20));
    core_cpp::log_in_cpp_for_test(&message, 1);
    let lines = lines_with("marker-two");
    assert_eq!(lines.len(), 1);
    let text = lines[0]["fields"]["text"].as_str().unwrap();
    assert!(text.starts_with("marker-two \\xff\\xfe x"), "{}", &text[..40]);
    assert!(text.len() < core_cpp::trace::MAX_TEXT_BYTES + 100, "{} bytes", text.len());
    assert!(text.ends_with("more bytes cut]"));
}

#[test]
fn a_log_storm_is_rate_limited() {
    captured();
    core_cpp::log_in_cpp_for_test(b"marker-three", 20_000);
    let lines = lines_with("marker-three");
    assert_eq!(lines.len(), core_cpp::trace::BURST as usize, "one window's burst gets through");
}

#[test]
fn cpp_spans_nest_under_the_calling_span_also_on_a_cpp_thread() {
    captured();
    for on_cpp_thread in [false, true] {
        let session = 100 + u64::from(on_cpp_thread);
        let span = tracing::info_span!("session", session_id = session);
        span.in_scope(|| core_cpp::span_in_cpp_for_test(on_cpp_thread));
        let lines: Vec<Value> = lines_with("inside the test span")
            .into_iter()
            .filter(|l| l["spans"][0]["session_id"] == session)
            .collect();
        assert_eq!(lines.len(), 1, "on a C++ thread: {on_cpp_thread}");
        assert_eq!(lines[0]["spans"][1]["name"], "test_span");
        assert_eq!(lines[0]["spans"][1]["purpose"], "span_for_test");
        assert_eq!(lines[0]["target"], "core_cpp::test");
    }
}
