#include "cyton_board.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <vector>

#include "brainflow_exception.h"

namespace switchyard {
namespace legacy {

CytonBoard::CytonBoard(bool is_daisy, std::string serial_port, std::chrono::milliseconds reply_timeout)
    : Board(is_daisy ? 2 : 0,
            {is_daisy ? PresetLayout{CYTON_DAISY_ROWS, 30, 31} : PresetLayout{CYTON_ROWS, 22, 23}}),
      daisy(is_daisy),
      port_path(std::move(serial_port)),
      timeout(reply_timeout) {}

CytonBoard::~CytonBoard() {
    stop_reader();
    if (is_streaming() && port) {
        // A session dropped while streaming still leaves the device quiet.
        try {
            port->write_all("s", timeout);
        } catch (...) {
        }
    }
}

CytonCounters CytonBoard::decode_counters() const {
    std::lock_guard<std::mutex> guard(decoder_lock);
    return decoder ? decoder->counters() : CytonCounters{};
}

void CytonBoard::send(const std::string &command) {
    {
        std::lock_guard<std::mutex> guard(decoder_lock);
        if (decoder) {
            decoder->observe_command(reinterpret_cast<const std::uint8_t *>(command.data()), command.size());
        }
    }
    port->write_all(command, timeout);
}

std::string CytonBoard::expect_reply(const std::string &command, const char *what) {
    send(command);
    bool complete = false;
    std::string reply = port->read_until("$$$", timeout, complete);
    if (!complete) {
        throw BrainFlowException(ExitCode::BOARD_NOT_READY_ERROR,
                                 std::string("no ") + what + " from " + port_path + ": no reply to '" + command +
                                     "' ending in $$$ within " + std::to_string(timeout.count()) +
                                     " ms; is the board on and the dongle switched to PC?");
    }
    return reply;
}

void CytonBoard::prepare_device() {
    auto opened = std::make_unique<SerialPort>(port_path);
    port = std::move(opened);
    {
        std::lock_guard<std::mutex> guard(decoder_lock);
        decoder = std::make_unique<CytonDecoder>(daisy);
    }
    try {
        port->discard_input();
        expect_reply("v", "greeting");
        const std::string defaults = expect_reply("d", "answer to defaults");
        if (defaults.rfind("Failure", 0) == 0) {
            throw BrainFlowException(ExitCode::BOARD_NOT_READY_ERROR,
                                     "the board on " + port_path + " refused defaults: " + defaults);
        }
    } catch (...) {
        port.reset();
        throw;
    }
}

void CytonBoard::start_device() {
    if (::pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw BrainFlowException(ExitCode::STREAM_THREAD_ERROR,
                                 std::string("cannot create the reader's wake-up pipe: ") + std::strerror(errno));
    }
    try {
        send("b");
        reader = std::thread(&CytonBoard::reader_loop, this);
    } catch (...) {
        ::close(wake_pipe[0]);
        ::close(wake_pipe[1]);
        wake_pipe[0] = wake_pipe[1] = -1;
        throw;
    }
}

void CytonBoard::reader_loop() {
    // Nothing may escape a thread (std::terminate would abort the process).
    try {
        std::vector<std::uint8_t> bytes(4096);
        std::vector<double> samples;
        pollfd waits[2] = {{port->fd(), POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
        while (true) {
            waits[0].revents = waits[1].revents = 0;
            const int ready = ::poll(waits, 2, -1);
            if (ready < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return;
            }
            if (waits[1].revents != 0) {
                return;  // stop requested
            }
            if (waits[0].revents & (POLLERR | POLLNVAL)) {
                return;
            }
            const long n = port->read_some(bytes.data(), bytes.size());
            if (n > 0) {
                const double now = unix_time_now();
                samples.clear();
                std::size_t count;
                {
                    std::lock_guard<std::mutex> guard(decoder_lock);
                    count = decoder->decode(bytes.data(), static_cast<std::size_t>(n), now, samples);
                }
                push_samples(0, samples.data(), count);
            } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                return;  // the device went away; samples stop, stop_stream still works
            }
        }
    } catch (...) {
    }
}

void CytonBoard::stop_reader() {
    if (reader.joinable()) {
        const char wake = 1;
        if (::write(wake_pipe[1], &wake, 1) < 0) {
            // The pipe is empty and ours, so this cannot fail for want of room.
        }
        reader.join();
    }
    for (int &fd : wake_pipe) {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
}

void CytonBoard::stop_device() {
    stop_reader();
    send("s");
    // Packets already on their way would otherwise open the next command's reply.
    port->discard_input();
}

void CytonBoard::release_device() {
    stop_reader();
    port.reset();
}

std::string CytonBoard::configure(const std::string &config) {
    if (is_streaming()) {
        send(config);
        return std::string();
    }
    send(config);
    bool complete = false;
    return port->read_until("$$$", timeout, complete);
}

}  // namespace legacy
}  // namespace switchyard
