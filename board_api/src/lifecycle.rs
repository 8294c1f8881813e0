//! BrainFlow's lifecycle rules, written once: which call, in which state, answers which
//! exit code (`docs/board-behaviour.md`, "Common lifecycle").
//!
//! A board (or anything that presents itself as one, such as the dispatcher's session
//! engines) keeps one [`Lifecycle`] and asks it before each call, then tells it when a
//! transition happened. The split into a check and a `mark_` step is deliberate: a call
//! can fail after its check passed (a port that will not open, a start command the device
//! refuses), and then the state must stay where it was.
//!
//! ```
//! use board_api::{ExitCode, Lifecycle};
//!
//! let mut life = Lifecycle::new();
//! assert_eq!(life.require_prepared("config_board").unwrap_err().code, ExitCode::BoardNotCreatedError);
//! if !life.is_prepared() {
//!     // ... open the device; only on success:
//!     life.mark_prepared();
//! }
//! // Prepared but never started: there is no buffer to read yet.
//! assert_eq!(life.require_buffer("get_board_data").unwrap_err().code, ExitCode::InvalidArgumentsError);
//! life.check_start(45_000).unwrap();
//! life.mark_started();
//! assert_eq!(life.check_start(45_000).unwrap_err().code, ExitCode::StreamAlreadyRunError);
//! life.check_stop().unwrap();
//! life.mark_stopped();
//! life.require_buffer("get_board_data").unwrap(); // reads stay possible after stop
//! life.check_release().unwrap();
//! life.mark_released();
//! ```

use crate::error::{BoardError, ExitCode, Result};

/// Rows of the widest preset of any board: the row count a `buffer_size` is checked
/// against, so a size no memory could hold is refused at `start_stream` whatever the board.
pub const WIDEST_PRESET_ROWS: usize = 32;

/// Whether `samples` samples of `rows` values could be addressed at all: non-zero, and
/// `samples × rows × 8` bytes within `isize::MAX` (the C++ core's "too large" rule).
pub fn buffer_size_is_valid(rows: usize, samples: usize) -> bool {
    samples > 0
        && rows > 0
        && samples
            .checked_mul(rows)
            .and_then(|n| n.checked_mul(std::mem::size_of::<f64>()))
            .is_some_and(|bytes| bytes <= isize::MAX as usize)
}

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionPhase {
    /// Not prepared (never, or released since).
    #[default]
    Released,
    /// Prepared and not streaming (never started, or stopped).
    Prepared,
    Streaming,
}

/// One session's place in BrainFlow's lifecycle and the answers that follow from it.
///
/// | call | answer when |
/// |---|---|
/// | `prepare_session` | OK and no effect when already prepared ([`Lifecycle::is_prepared`]) |
/// | anything else | BOARD_NOT_CREATED_ERROR when not prepared ([`Lifecycle::require_prepared`]) |
/// | `start_stream` | STREAM_ALREADY_RUN_ERROR when streaming; INVALID_BUFFER_SIZE_ERROR for 0 or an unaddressable size ([`Lifecycle::check_start`]) |
/// | `stop_stream` | STREAM_THREAD_IS_NOT_RUNNING when not streaming ([`Lifecycle::check_stop`]) |
/// | count, `get_board_data`, `get_current_board_data`, `insert_marker` | INVALID_ARGUMENTS_ERROR between prepare and the first start: no buffer yet ([`Lifecycle::require_buffer`]) |
/// | `release_session` | BOARD_NOT_CREATED_ERROR when not prepared; otherwise releases, streaming or not ([`Lifecycle::check_release`]) |
///
/// Every error names the call and says what to do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lifecycle {
    phase: SessionPhase,
    /// A stream was started since the last prepare, so there is a buffer to read.
    started_since_prepare: bool,
}

impl Lifecycle {
    /// A session that is not prepared yet.
    pub fn new() -> Self {
        Lifecycle::default()
    }

    pub fn phase(&self) -> SessionPhase {
        self.phase
    }
    pub fn is_prepared(&self) -> bool {
        self.phase != SessionPhase::Released
    }
    pub fn is_streaming(&self) -> bool {
        self.phase == SessionPhase::Streaming
    }
    /// Whether a stream was started since prepare, so reads have a buffer to read
    /// (it stays readable after stop, until release).
    pub fn has_buffer(&self) -> bool {
        self.is_prepared() && self.started_since_prepare
    }

    /// BOARD_NOT_CREATED_ERROR unless prepared: the check before every call but prepare.
    pub fn require_prepared(&self, call: &str) -> Result<()> {
        if !self.is_prepared() {
            return Err(BoardError::not_created(format!(
                "{call}: the session is not prepared; call prepare_session first"
            )));
        }
        Ok(())
    }

    /// [`Lifecycle::require_prepared`], then INVALID_ARGUMENTS_ERROR when no stream was
    /// started since prepare: the check before counts, reads and markers.
    pub fn require_buffer(&self, call: &str) -> Result<()> {
        self.require_prepared(call)?;
        if !self.started_since_prepare {
            return Err(Self::no_buffer(call));
        }
        Ok(())
    }

    /// The error for a read or marker before the first `start_stream`, for code that
    /// finds the buffer missing on its own (BrainFlow's INVALID_ARGUMENTS_ERROR).
    pub fn no_buffer(call: &str) -> BoardError {
        BoardError::invalid_arguments(format!(
            "{call}: no stream has been started since prepare_session, so there is no buffer yet; call start_stream first"
        ))
    }

    /// Whether `start_stream(buffer_size)` may go ahead.
    pub fn check_start(&self, buffer_size: usize) -> Result<()> {
        self.require_prepared("start_stream")?;
        if self.is_streaming() {
            return Err(BoardError::new(
                ExitCode::StreamAlreadyRunError,
                "start_stream: the stream is already running; call stop_stream first",
            ));
        }
        if buffer_size == 0 {
            return Err(BoardError::new(
                ExitCode::InvalidBufferSizeError,
                "start_stream: buffer_size must be at least 1 sample",
            ));
        }
        if !buffer_size_is_valid(WIDEST_PRESET_ROWS, buffer_size) {
            return Err(BoardError::new(
                ExitCode::InvalidBufferSizeError,
                format!("start_stream: buffer_size {buffer_size} is too large"),
            ));
        }
        Ok(())
    }

    /// Whether `stop_stream` may go ahead.
    pub fn check_stop(&self) -> Result<()> {
        self.require_prepared("stop_stream")?;
        if !self.is_streaming() {
            return Err(BoardError::new(
                ExitCode::StreamThreadIsNotRunning,
                "stop_stream: the stream is not running; call start_stream first",
            ));
        }
        Ok(())
    }

    /// Whether `release_session` may go ahead (streaming or not: release stops first).
    pub fn check_release(&self) -> Result<()> {
        self.require_prepared("release_session")
    }

    /// `prepare_session` succeeded. A prepare of a prepared session is OK with no effect,
    /// so callers check [`Lifecycle::is_prepared`] first and do nothing when it is.
    pub fn mark_prepared(&mut self) {
        if !self.is_prepared() {
            *self = Lifecycle { phase: SessionPhase::Prepared, started_since_prepare: false };
        }
    }

    /// `start_stream` succeeded.
    pub fn mark_started(&mut self) {
        debug_assert!(self.is_prepared(), "started a session that is not prepared");
        self.phase = SessionPhase::Streaming;
        self.started_since_prepare = true;
    }

    /// `stop_stream` succeeded, or the stream stopped on its own.
    pub fn mark_stopped(&mut self) {
        if self.is_streaming() {
            self.phase = SessionPhase::Prepared;
        }
    }

    /// `release_session` happened: back to not prepared, buffer gone.
    pub fn mark_released(&mut self) {
        *self = Lifecycle::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<()>) -> Option<ExitCode> {
        result.err().map(|e| e.code)
    }

    #[test]
    fn every_call_in_every_phase_answers_brainflows_code() {
        let mut life = Lifecycle::new();
        assert!(!life.is_prepared());
        for call in ["config_board", "get_board_data", "insert_marker"] {
            assert_eq!(code(life.require_prepared(call)), Some(ExitCode::BoardNotCreatedError));
            assert_eq!(code(life.require_buffer(call)), Some(ExitCode::BoardNotCreatedError));
        }
        assert_eq!(code(life.check_start(10)), Some(ExitCode::BoardNotCreatedError));
        assert_eq!(code(life.check_stop()), Some(ExitCode::BoardNotCreatedError));
        assert_eq!(code(life.check_release()), Some(ExitCode::BoardNotCreatedError));

        life.mark_prepared();
        assert_eq!(life.phase(), SessionPhase::Prepared);
        assert!(!life.has_buffer());
        assert_eq!(code(life.require_buffer("get_board_data_count")), Some(ExitCode::InvalidArgumentsError));
        assert_eq!(code(life.check_stop()), Some(ExitCode::StreamThreadIsNotRunning));
        assert_eq!(code(life.check_start(0)), Some(ExitCode::InvalidBufferSizeError));
        assert_eq!(code(life.check_start(usize::MAX)), Some(ExitCode::InvalidBufferSizeError));
        assert_eq!(code(life.check_start(10)), None);

        life.mark_started();
        assert!(life.is_streaming() && life.has_buffer());
        assert_eq!(code(life.check_start(10)), Some(ExitCode::StreamAlreadyRunError));
        assert_eq!(code(life.require_buffer("get_board_data")), None);
        assert_eq!(code(life.check_release()), None, "release stops a running stream");

        life.mark_stopped();
        assert_eq!(life.phase(), SessionPhase::Prepared);
        assert_eq!(code(life.require_buffer("get_board_data")), None, "reads after stop keep what streamed");
        assert_eq!(code(life.check_stop()), Some(ExitCode::StreamThreadIsNotRunning));

        life.mark_released();
        assert_eq!(life, Lifecycle::new());
        // A new prepare starts without a buffer again.
        life.mark_prepared();
        assert_eq!(code(life.require_buffer("insert_marker")), Some(ExitCode::InvalidArgumentsError));
    }

    #[test]
    fn a_second_prepare_changes_nothing() {
        let mut life = Lifecycle::new();
        life.mark_prepared();
        life.mark_started();
        life.mark_prepared();
        assert!(life.is_streaming() && life.has_buffer());
    }

    #[test]
    fn errors_name_the_call_and_the_fix() {
        let life = Lifecycle::new();
        let e = life.require_prepared("config_board").unwrap_err();
        assert!(e.message.contains("config_board") && e.message.contains("prepare_session"), "{e}");
        let mut life = life;
        life.mark_prepared();
        let e = life.require_buffer("get_current_board_data").unwrap_err();
        assert!(e.message.contains("get_current_board_data") && e.message.contains("start_stream"), "{e}");
    }

    #[test]
    fn buffer_sizes_that_cannot_exist_are_refused() {
        assert!(buffer_size_is_valid(32, 450_000));
        assert!(!buffer_size_is_valid(32, 0));
        assert!(!buffer_size_is_valid(0, 1));
        assert!(!buffer_size_is_valid(32, usize::MAX / 64));
        assert!(buffer_size_is_valid(32, isize::MAX as usize / 8 / 32));
        assert!(!buffer_size_is_valid(32, isize::MAX as usize / 8 / 32 + 1));
    }
}
