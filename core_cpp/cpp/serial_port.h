// A POSIX serial port in raw 115200 8N1, non-blocking, with poll-based timeouts.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace switchyard {
namespace legacy {

class SerialPort {
public:
    // Opens and configures `path`; UNABLE_TO_OPEN_PORT_ERROR / SET_PORT_ERROR naming it.
    explicit SerialPort(const std::string &path);
    ~SerialPort();
    SerialPort(const SerialPort &) = delete;
    SerialPort &operator=(const SerialPort &) = delete;

    int fd() const noexcept { return handle; }
    const std::string &path() const noexcept { return port_path; }

    // Writes all of `bytes`, waiting at most `timeout` for the port to accept them.
    void write_all(const std::string &bytes, std::chrono::milliseconds timeout);
    // Reads until the text read ends with `terminator` or `timeout` passes. Returns what
    // was read and sets `complete` when the terminator arrived.
    std::string read_until(const std::string &terminator, std::chrono::milliseconds timeout, bool &complete);
    // Reads what is available now (fd is non-blocking); 0 at end of input, -1 with errno.
    long read_some(std::uint8_t *buffer, std::size_t capacity);
    // Discards input received but not read.
    void discard_input();

private:
    std::string port_path;
    int handle = -1;
};

}  // namespace legacy
}  // namespace switchyard
