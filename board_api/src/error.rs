use std::fmt;

/// BrainFlow's exit codes (`BrainFlowExitCodes`), with the same numbers, so that an error
/// can cross the C API unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ExitCode {
    StatusOk = 0,
    PortAlreadyOpenError = 1,
    UnableToOpenPortError = 2,
    SetPortError = 3,
    BoardWriteError = 4,
    IncommingMsgError = 5,
    InitialMsgError = 6,
    BoardNotReadyError = 7,
    StreamAlreadyRunError = 8,
    InvalidBufferSizeError = 9,
    StreamThreadError = 10,
    StreamThreadIsNotRunning = 11,
    EmptyBufferError = 12,
    InvalidArgumentsError = 13,
    UnsupportedBoardError = 14,
    BoardNotCreatedError = 15,
    AnotherBoardIsCreatedError = 16,
    GeneralError = 17,
    SyncTimeoutError = 18,
    JsonNotFoundError = 19,
    NoSuchDataInJsonError = 20,
}

impl ExitCode {
    /// Every code, in numeric order (`ALL[n].code() == n`). This table is the only one:
    /// the C++ core's `ExitCode` enum is generated from it when `core_cpp` is built.
    pub const ALL: [ExitCode; 21] = [
        ExitCode::StatusOk,
        ExitCode::PortAlreadyOpenError,
        ExitCode::UnableToOpenPortError,
        ExitCode::SetPortError,
        ExitCode::BoardWriteError,
        ExitCode::IncommingMsgError,
        ExitCode::InitialMsgError,
        ExitCode::BoardNotReadyError,
        ExitCode::StreamAlreadyRunError,
        ExitCode::InvalidBufferSizeError,
        ExitCode::StreamThreadError,
        ExitCode::StreamThreadIsNotRunning,
        ExitCode::EmptyBufferError,
        ExitCode::InvalidArgumentsError,
        ExitCode::UnsupportedBoardError,
        ExitCode::BoardNotCreatedError,
        ExitCode::AnotherBoardIsCreatedError,
        ExitCode::GeneralError,
        ExitCode::SyncTimeoutError,
        ExitCode::JsonNotFoundError,
        ExitCode::NoSuchDataInJsonError,
    ];

    /// The numeric code as BrainFlow returns it.
    pub const fn code(self) -> i32 {
        self as i32
    }

    /// The code for a number; unknown numbers (a C++ side that grew a code we do not know)
    /// become `GeneralError` rather than being lost.
    pub fn from_code(code: i32) -> ExitCode {
        usize::try_from(code)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
            .unwrap_or(ExitCode::GeneralError)
    }

    /// BrainFlow's name for the code, e.g. `BOARD_NOT_READY_ERROR`.
    pub fn name(self) -> &'static str {
        match self {
            ExitCode::StatusOk => "STATUS_OK",
            ExitCode::PortAlreadyOpenError => "PORT_ALREADY_OPEN_ERROR",
            ExitCode::UnableToOpenPortError => "UNABLE_TO_OPEN_PORT_ERROR",
            ExitCode::SetPortError => "SET_PORT_ERROR",
            ExitCode::BoardWriteError => "BOARD_WRITE_ERROR",
            ExitCode::IncommingMsgError => "INCOMMING_MSG_ERROR",
            ExitCode::InitialMsgError => "INITIAL_MSG_ERROR",
            ExitCode::BoardNotReadyError => "BOARD_NOT_READY_ERROR",
            ExitCode::StreamAlreadyRunError => "STREAM_ALREADY_RUN_ERROR",
            ExitCode::InvalidBufferSizeError => "INVALID_BUFFER_SIZE_ERROR",
            ExitCode::StreamThreadError => "STREAM_THREAD_ERROR",
            ExitCode::StreamThreadIsNotRunning => "STREAM_THREAD_IS_NOT_RUNNING",
            ExitCode::EmptyBufferError => "EMPTY_BUFFER_ERROR",
            ExitCode::InvalidArgumentsError => "INVALID_ARGUMENTS_ERROR",
            ExitCode::UnsupportedBoardError => "UNSUPPORTED_BOARD_ERROR",
            ExitCode::BoardNotCreatedError => "BOARD_NOT_CREATED_ERROR",
            ExitCode::AnotherBoardIsCreatedError => "ANOTHER_BOARD_IS_CREATED_ERROR",
            ExitCode::GeneralError => "GENERAL_ERROR",
            ExitCode::SyncTimeoutError => "SYNC_TIMEOUT_ERROR",
            ExitCode::JsonNotFoundError => "JSON_NOT_FOUND_ERROR",
            ExitCode::NoSuchDataInJsonError => "NO_SUCH_DATA_IN_JSON_ERROR",
        }
    }

    /// Whether the caller caused this error (bad arguments, wrong call order) rather than
    /// the implementation or the device. This is the one definition of "the caller's
    /// fault": routing returns such an error as it is and never fails over on it, and the
    /// circuit breaker never counts it (its default `ignored_exit_codes` are these codes).
    pub const fn is_caller_error(self) -> bool {
        matches!(
            self,
            ExitCode::InvalidArgumentsError
                | ExitCode::InvalidBufferSizeError
                | ExitCode::StreamAlreadyRunError
                | ExitCode::StreamThreadIsNotRunning
                | ExitCode::BoardNotCreatedError
                | ExitCode::AnotherBoardIsCreatedError
                | ExitCode::PortAlreadyOpenError
                | ExitCode::UnsupportedBoardError
                | ExitCode::JsonNotFoundError
                | ExitCode::NoSuchDataInJsonError
        )
    }
}

/// The numbers of every code for which [`ExitCode::is_caller_error`] holds, ascending.
pub fn caller_error_codes() -> impl Iterator<Item = i32> {
    ExitCode::ALL.into_iter().filter(|c| c.is_caller_error()).map(ExitCode::code)
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

/// An error from a board, carrying the BrainFlow exit code that the C API returns for it
/// and a message that says what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} [{code}]")]
pub struct BoardError {
    pub code: ExitCode,
    pub message: String,
}

impl BoardError {
    pub fn new(code: ExitCode, message: impl Into<String>) -> Self {
        BoardError { code, message: message.into() }
    }
    pub fn invalid_arguments(message: impl Into<String>) -> Self {
        Self::new(ExitCode::InvalidArgumentsError, message)
    }
    pub fn not_created(message: impl Into<String>) -> Self {
        Self::new(ExitCode::BoardNotCreatedError, message)
    }
    pub fn general(message: impl Into<String>) -> Self {
        Self::new(ExitCode::GeneralError, message)
    }
}

pub type Result<T, E = BoardError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_general() {
        for (i, code) in ExitCode::ALL.iter().enumerate() {
            assert_eq!(code.code(), i as i32);
            assert_eq!(ExitCode::from_code(i as i32), *code);
        }
        assert_eq!(ExitCode::from_code(-5), ExitCode::GeneralError);
        assert_eq!(ExitCode::from_code(99), ExitCode::GeneralError);
    }

    #[test]
    fn caller_errors_are_the_wrong_order_and_bad_argument_codes() {
        let codes: Vec<i32> = caller_error_codes().collect();
        assert_eq!(codes, [1, 8, 9, 11, 13, 14, 15, 16, 19, 20]);
    }

    #[test]
    fn error_message_names_the_code() {
        let e = BoardError::new(ExitCode::BoardNotReadyError, "no reply to 'v' within 1 s");
        assert_eq!(e.to_string(), "no reply to 'v' within 1 s [BOARD_NOT_READY_ERROR (7)]");
    }
}
