// Errors of the legacy core: BrainFlow's exit codes and the one exception type every
// board throws. The bridge turns any exception into a Rust `Err` carrying the code.
#pragma once

#include <stdexcept>
#include <string>

// Generated at build time from board_api::ExitCode, the one table of exit codes.
#include "exit_codes.h"

namespace switchyard {
namespace legacy {

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
