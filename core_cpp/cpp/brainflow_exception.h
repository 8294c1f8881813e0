// Errors of the legacy core: BrainFlow's exit codes and the one exception type every
// board throws. The bridge turns any exception into a Rust `Err` carrying the code.
#pragma once

#include <stdexcept>
#include <string>

namespace switchyard {
namespace legacy {

// BrainFlow's BrainFlowExitCodes, same numbers.
enum class ExitCode : int {
    STATUS_OK = 0,
    PORT_ALREADY_OPEN_ERROR = 1,
    UNABLE_TO_OPEN_PORT_ERROR = 2,
    SET_PORT_ERROR = 3,
    BOARD_WRITE_ERROR = 4,
    INCOMMING_MSG_ERROR = 5,
    INITIAL_MSG_ERROR = 6,
    BOARD_NOT_READY_ERROR = 7,
    STREAM_ALREADY_RUN_ERROR = 8,
    INVALID_BUFFER_SIZE_ERROR = 9,
    STREAM_THREAD_ERROR = 10,
    STREAM_THREAD_IS_NOT_RUNNING = 11,
    EMPTY_BUFFER_ERROR = 12,
    INVALID_ARGUMENTS_ERROR = 13,
    UNSUPPORTED_BOARD_ERROR = 14,
    BOARD_NOT_CREATED_ERROR = 15,
    ANOTHER_BOARD_IS_CREATED_ERROR = 16,
    GENERAL_ERROR = 17,
    SYNC_TIMEOUT_ERROR = 18,
};

class BrainFlowException : public std::runtime_error {
public:
    BrainFlowException(ExitCode code, const std::string &message)
        : std::runtime_error(message), exit_code(code) {}

    ExitCode code() const noexcept { return exit_code; }

private:
    ExitCode exit_code;
};

}  // namespace legacy
}  // namespace switchyard
