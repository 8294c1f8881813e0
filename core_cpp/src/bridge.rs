//! The one cxx bridge between Rust and the legacy C++ core.
//!
//! Every C++ call that can fail is declared `-> Result<..>`; `cpp/trycatch.h` installs
//! cxx's `rust::behavior::trycatch` so that any C++ exception, of any type, arrives here
//! as an `Err` whose text is `"<exit code>|<message>"` ([`to_board_error`] parses it).
//! Data crosses as slices, one call per batch. C++ log lines and spans come the other
//! way, through the `extern "Rust"` functions of [`crate::trace`].

use crate::trace::{capture_current_span, cpp_event, cpp_span_close, cpp_span_open, register_cpp_site, release_captured_span};
use board_api::{BoardError, ExitCode};

#[cxx::bridge(namespace = "switchyard::legacy")]
pub(crate) mod ffi {
    /// What a C++ board or decoder needs to know, resolved on the Rust side from
    /// `InputParams` and the board descriptors.
    struct SessionParams {
        board_id: i32,
        serial_port: String,
        file: String,
        timeout_ms: u32,
        has_seed: bool,
        seed: u64,
        master_board: i32,
        master_rows: usize,
        master_sampling_rate: u32,
        master_timestamp_row: usize,
        master_marker_row: usize,
    }

    #[derive(Debug, Clone, Copy, Default)]
    struct DecodeStats {
        packets: u64,
        invalid_packets: u64,
        skipped_bytes: u64,
        dropped_samples: u64,
    }

    /// One row of the C++ core's exit-code table, as the C++ compiler saw it.
    struct ExitCodeEntry {
        code: i32,
        name: String,
    }

    // SAFETY: these declarations match cpp/bridge.h exactly (cxx checks the signatures
    // when it compiles the generated C++); every function that can throw returns Result.
    unsafe extern "C++" {
        include!("core_cpp/cpp/bridge.h");

        type BoardSession;
        fn new_board_session(params: &SessionParams) -> Result<UniquePtr<BoardSession>>;
        fn prepare_session(self: Pin<&mut BoardSession>) -> Result<()>;
        fn start_stream(self: Pin<&mut BoardSession>, buffer_size: usize) -> Result<()>;
        fn stop_stream(self: Pin<&mut BoardSession>) -> Result<()>;
        fn release_session(self: Pin<&mut BoardSession>) -> Result<()>;
        fn is_prepared(self: &BoardSession) -> bool;
        fn num_rows(self: &BoardSession, preset: i32) -> Result<usize>;
        fn board_data_count(self: Pin<&mut BoardSession>, preset: i32) -> Result<usize>;
        fn read_samples(
            self: Pin<&mut BoardSession>,
            remove: bool,
            max_samples: usize,
            preset: i32,
            out: &mut [f64],
        ) -> Result<usize>;
        fn config_board(self: Pin<&mut BoardSession>, config: &str) -> Result<String>;
        fn insert_marker(self: Pin<&mut BoardSession>, value: f64, preset: i32) -> Result<()>;
        fn dropped_samples(self: &BoardSession) -> u64;
        fn stream_failure(self: &BoardSession) -> Result<String>;
        fn decode_stats(self: &BoardSession) -> Result<DecodeStats>;
        fn misreport_for_test(self: Pin<&mut BoardSession>);

        type StreamDecoderSession;
        fn new_stream_decoder(params: &SessionParams) -> Result<UniquePtr<StreamDecoderSession>>;
        fn num_rows(self: &StreamDecoderSession) -> usize;
        fn observe_command(self: Pin<&mut StreamDecoderSession>, command: &[u8]) -> Result<()>;
        fn decode(self: Pin<&mut StreamDecoderSession>, bytes: &[u8], timestamp: f64) -> Result<usize>;
        fn output(self: &StreamDecoderSession) -> &[f64];
        fn stats(self: &StreamDecoderSession) -> Result<DecodeStats>;
        fn throw_on_every_call(self: Pin<&mut StreamDecoderSession>, kind: u8);
        fn misreport_for_test(self: Pin<&mut StreamDecoderSession>);

        type SyntheticGeneratorSession;
        fn new_synthetic_generator(seed: u64) -> Result<UniquePtr<SyntheticGeneratorSession>>;
        fn generate(
            self: Pin<&mut SyntheticGeneratorSession>,
            count: usize,
            first_timestamp: f64,
            period: f64,
        ) -> Result<()>;
        fn default_output(self: &SyntheticGeneratorSession) -> &[f64];
        fn auxiliary_output(self: &SyntheticGeneratorSession) -> &[f64];
        fn next_index(self: &SyntheticGeneratorSession) -> u64;
        fn prng_state(self: &SyntheticGeneratorSession) -> u64;
        fn phases(self: &SyntheticGeneratorSession) -> &[f64];
        fn resume_synthetic_generator(prng_state: u64, next_index: u64, phases: &[f64]) -> Result<UniquePtr<SyntheticGeneratorSession>>;
        fn throw_on_every_call(self: Pin<&mut SyntheticGeneratorSession>, kind: u8);

        type RingBufferSession;
        fn new_ring_buffer(rows: usize, capacity: usize) -> Result<UniquePtr<RingBufferSession>>;
        fn push(self: Pin<&mut RingBufferSession>, samples: &[f64]) -> Result<()>;
        fn read(self: Pin<&mut RingBufferSession>, remove: bool, max_samples: usize, out: &mut [f64]) -> Result<usize>;
        fn count(self: &RingBufferSession) -> Result<usize>;
        fn dropped(self: &RingBufferSession) -> Result<u64>;
        fn allocated_samples(self: &RingBufferSession) -> Result<usize>;

        fn exit_code_table() -> Vec<ExitCodeEntry>;
        fn set_cpp_log_level(level: u8);
        fn log_for_test(message: &[u8], times: u32);
        fn span_for_test(under_captured: bool);
        fn bridge_noop();
        fn throw_for_test(kind: u8) -> Result<()>;
    }
    // What C++ calls in Rust: its log lines and spans (see crate::trace). None panics.
    extern "Rust" {
        fn register_cpp_site(
            level: u8,
            is_span: bool,
            target: &str,
            name: &str,
            file: &str,
            line: u32,
            keys: &str,
        ) -> u32;
        fn cpp_event(site: u32, message: &[u8], values: &[u8]);
        fn cpp_span_open(site: u32, parent: u64, values: &[u8]) -> u64;
        fn cpp_span_close(handle: u64);
        fn capture_current_span() -> u64;
        fn release_captured_span(handle: u64);
    }
}

// SAFETY: each session object is owned by exactly one Rust value and only used through
// it (`&mut` for anything that changes it); the C++ classes keep no thread affinity, and
// the Cyton reader thread they may own synchronises with them through its own mutexes.
unsafe impl Send for ffi::BoardSession {}
// SAFETY: as above; a decoder is plain data with no threads.
unsafe impl Send for ffi::StreamDecoderSession {}
// SAFETY: as above; the generator is plain data with no threads.
unsafe impl Send for ffi::SyntheticGeneratorSession {}

// SAFETY: as above; the ring buffer guards itself with its own mutex.
unsafe impl Send for ffi::RingBufferSession {}

/// Turns a C++ exception's `"<code>|<message>"` text into a [`BoardError`]. Text without
/// a code (which our trycatch never produces) is a GENERAL_ERROR kept whole.
pub(crate) fn to_board_error(exception: &cxx::Exception) -> BoardError {
    let error = parse_encoded_error(exception.what());
    // The C++ side's own invariant checks (debug builds): as loud as the Rust side's.
    crate::checks::bridge_check(!error.message.starts_with(BROKEN_INVARIANT), || {
        error.message[BROKEN_INVARIANT.len()..].trim_start().to_owned()
    });
    error
}

/// How the C++ side's invariant checks start their message (`cpp/bridge_checks.h`).
const BROKEN_INVARIANT: &str = "bridge invariant broken:";

pub(crate) fn parse_encoded_error(text: &str) -> BoardError {
    match text.split_once('|') {
        Some((code, message)) => match code.parse::<i32>() {
            Ok(code) => BoardError::new(ExitCode::from_code(code), message),
            Err(_) => BoardError::general(text),
        },
        None => BoardError::general(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_errors_parse_back() {
        let e = parse_encoded_error("7|no reply to v within 3000 ms");
        assert_eq!(e.code, ExitCode::BoardNotReadyError);
        assert_eq!(e.message, "no reply to v within 3000 ms");
        let e = parse_encoded_error("13|a|b");
        assert_eq!(e.code, ExitCode::InvalidArgumentsError);
        assert_eq!(e.message, "a|b");
        let e = parse_encoded_error("boom");
        assert_eq!(e.code, ExitCode::GeneralError);
        assert_eq!(e.message, "boom");
    }
}
