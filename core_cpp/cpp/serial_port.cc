#include "serial_port.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include "brainflow_exception.h"

namespace switchyard {
namespace legacy {

namespace {
int remaining_ms(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}
}  // namespace

SerialPort::SerialPort(const std::string &path) : port_path(path) {
    if (path.empty()) {
        throw BrainFlowException(ExitCode::UNABLE_TO_OPEN_PORT_ERROR,
                                 "no serial port given: set params.serial_port (e.g. /dev/ttyUSB0)");
    }
    handle = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (handle < 0) {
        throw BrainFlowException(ExitCode::UNABLE_TO_OPEN_PORT_ERROR,
                                 "unable to open serial port " + path + ": " + std::strerror(errno));
    }
    termios settings{};
    if (::tcgetattr(handle, &settings) != 0) {
        const int error = errno;
        ::close(handle);
        throw BrainFlowException(ExitCode::SET_PORT_ERROR,
                                 "serial port " + path + " is not a terminal: " + std::strerror(error));
    }
    ::cfmakeraw(&settings);
    ::cfsetispeed(&settings, B115200);
    ::cfsetospeed(&settings, B115200);
    settings.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | CSTOPB | CRTSCTS);
    settings.c_cflag |= CS8 | CLOCAL | CREAD;
    settings.c_cc[VMIN] = 0;
    settings.c_cc[VTIME] = 0;
    if (::tcsetattr(handle, TCSANOW, &settings) != 0) {
        const int error = errno;
        ::close(handle);
        throw BrainFlowException(ExitCode::SET_PORT_ERROR,
                                 "cannot set serial port " + path + " to 115200 8N1: " + std::strerror(error));
    }
}

SerialPort::~SerialPort() {
    if (handle >= 0) {
        ::close(handle);
    }
}

void SerialPort::write_all(const std::string &bytes, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(handle, bytes.data() + written, bytes.size() - written);
        if (n > 0) {
            written += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            throw BrainFlowException(ExitCode::BOARD_WRITE_ERROR,
                                     "cannot write to serial port " + port_path + ": " + std::strerror(errno));
        }
        pollfd p{handle, POLLOUT, 0};
        const int ready = ::poll(&p, 1, remaining_ms(deadline));
        if (ready == 0) {
            throw BrainFlowException(ExitCode::BOARD_WRITE_ERROR,
                                     "serial port " + port_path + " accepted no data within the timeout");
        }
        if (ready < 0 && errno != EINTR) {
            throw BrainFlowException(ExitCode::BOARD_WRITE_ERROR,
                                     "cannot wait on serial port " + port_path + ": " + std::strerror(errno));
        }
    }
}

std::string SerialPort::read_until(const std::string &terminator, std::chrono::milliseconds timeout,
                                   bool &complete) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string received;
    complete = false;
    char buffer[256];
    while (true) {
        const ssize_t n = ::read(handle, buffer, sizeof buffer);
        if (n > 0) {
            received.append(buffer, static_cast<std::size_t>(n));
            if (received.find(terminator) != std::string::npos) {
                complete = true;
                return received;
            }
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return received;  // the device went away: the caller reports the missing reply
        }
        const int wait = remaining_ms(deadline);
        if (wait == 0) {
            return received;
        }
        pollfd p{handle, POLLIN, 0};
        const int ready = ::poll(&p, 1, wait);
        if (ready < 0 && errno != EINTR) {
            return received;
        }
        if (ready > 0 && (p.revents & (POLLERR | POLLNVAL))) {
            return received;
        }
        if (ready > 0 && (p.revents & POLLHUP) && !(p.revents & POLLIN)) {
            return received;  // nobody on the other end: no reply will come
        }
    }
}

long SerialPort::read_some(std::uint8_t *buffer, std::size_t capacity) {
    return static_cast<long>(::read(handle, buffer, capacity));
}

void SerialPort::discard_input() { ::tcflush(handle, TCIFLUSH); }

}  // namespace legacy
}  // namespace switchyard
