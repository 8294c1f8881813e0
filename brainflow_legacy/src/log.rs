//! BrainFlow's log, into `tracing`: BrainFlow writes its log lines to a FIFO that a
//! thread of ours reads and re-emits on target `brainflow`, with BrainFlow's level. A FIFO
//! and not a file, so that nothing grows on disk and no line is read twice; nothing of
//! BrainFlow's reaches stderr.

use std::ffi::{c_char, c_int, CString};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Once;

type LogLevelFn = unsafe extern "C" fn(c_int) -> c_int;
type LogFileFn = unsafe extern "C" fn(*const c_char) -> c_int;

/// BrainFlow's levels: 0 trace, 1 debug, 2 info, 3 warn, 4 error, 5 critical, 6 off.
const BRAINFLOW_INFO: c_int = 2;
const BRAINFLOW_OFF: c_int = 6;

static ROUTED: Once = Once::new();

/// Points BrainFlow's log at a FIFO read into `tracing` (once per process: BrainFlow's
/// logger is process-wide). If the FIFO cannot be made, BrainFlow's log is turned off
/// rather than left on stderr.
pub(crate) fn route_into_tracing(set_file: LogFileFn, set_level: LogLevelFn) {
    ROUTED.call_once(|| match make_fifo() {
        Ok(path) => {
            let reader_path = path.clone();
            // The reader opens first and blocks until BrainFlow opens the other end.
            let spawned = std::thread::Builder::new().name("brainflow-log".into()).spawn(move || read_lines(reader_path));
            let c_path = CString::new(path.as_os_str().as_encoded_bytes()).ok();
            match (spawned, c_path) {
                (Ok(_), Some(c_path)) => {
                    // SAFETY: both are BrainFlow's own exports with these signatures; the
                    // path is NUL-terminated and outlives the call (BrainFlow copies it).
                    let code = unsafe {
                        set_level(BRAINFLOW_INFO);
                        set_file(c_path.as_ptr())
                    };
                    if code != 0 {
                        tracing::warn!(code, "BrainFlow did not take its log file; its log is off");
                        // SAFETY: as above.
                        unsafe { set_level(BRAINFLOW_OFF) };
                    }
                }
                _ => {
                    tracing::warn!("cannot start reading BrainFlow's log; its log is off");
                    // SAFETY: as above.
                    unsafe { set_level(BRAINFLOW_OFF) };
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot make a FIFO for BrainFlow's log; its log is off");
            // SAFETY: as above.
            unsafe { set_level(BRAINFLOW_OFF) };
        }
    });
}

fn make_fifo() -> nix::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("switchyard-brainflow-{}", std::process::id()));
    let _ = std::fs::create_dir(&dir);
    let path = dir.join("log.fifo");
    let _ = std::fs::remove_file(&path);
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR)?;
    Ok(path)
}

fn read_lines(path: PathBuf) {
    let Ok(file) = std::fs::File::open(&path) else { return };
    // Once both ends are open the name is no longer needed.
    let _ = std::fs::remove_file(&path);
    let _ = path.parent().map(std::fs::remove_dir);
    let reader = std::io::BufReader::new(file);
    for line in reader.split(b'\n') {
        let Ok(line) = line else { return };
        emit(&String::from_utf8_lossy(&line));
    }
}

/// One line of BrainFlow's log (`[time] [board_logger] [level] message`) as an event.
pub(crate) fn emit(line: &str) {
    let (level, message) = parse(line);
    match level {
        "trace" => tracing::trace!(target: "brainflow", "{message}"),
        "debug" => tracing::debug!(target: "brainflow", "{message}"),
        "info" => tracing::info!(target: "brainflow", "{message}"),
        "warning" | "warn" => tracing::warn!(target: "brainflow", "{message}"),
        _ => tracing::error!(target: "brainflow", "{message}"),
    }
}

/// Splits spdlog's default pattern; a line in another shape is kept whole, at error level
/// if it cannot be read (so it is not lost below the default filter).
fn parse(line: &str) -> (&str, &str) {
    let mut rest = line.trim_end();
    let mut fields = Vec::with_capacity(3);
    while fields.len() < 3 {
        let Some(open) = rest.strip_prefix('[') else { break };
        let Some(close) = open.find(']') else { break };
        fields.push(&open[..close]);
        rest = open[close + 1..].trim_start();
    }
    match fields.as_slice() {
        [_, _, level] => (level, rest),
        _ => ("error", line.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn spdlog_lines_split_into_level_and_message() {
        assert_eq!(
            super::parse("[2026-12-01 21:00:00.123] [board_logger] [info] incoming json: {}\n"),
            ("info", "incoming json: {}")
        );
        assert_eq!(super::parse("[x] [board_logger] [warning] w"), ("warning", "w"));
        assert_eq!(super::parse("no brackets at all"), ("error", "no brackets at all"));
    }
}
