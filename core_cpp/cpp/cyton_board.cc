#include "cyton_board.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <vector>

#include "brainflow_exception.h"
#include "log.h"

namespace switchyard {
namespace legacy {

CytonBoard::CytonBoard(bool is_daisy, std::string serial_port, std::chrono::milliseconds reply_timeout)
    : Board(is_daisy ? 2 : 0,
            {is_daisy ? PresetLayout{CYTON_DAISY_ROWS, 30, 31} : PresetLayout{CYTON_ROWS, 22, 23}}),
      daisy(is_daisy),
      port_path(std::move(serial_port)),
      timeout(reply_timeout) {}

CytonBoard::~CytonBoard() {
    if (is_streaming() && port) {
        // A session dropped while streaming still leaves the device quiet; sent before the
        // reader stops so that its drain ends as soon as the line goes quiet.
        try {
            port->write_all("s", timeout);
        } catch (...) {
        }
    }
    stop_reader();
}

CytonCounters CytonBoard::decode_counters() const {
    std::lock_guard<std::mutex> guard(decoder_lock);
    return decoder ? decoder->counters() : CytonCounters{};
}

// How long prepare waits for an answer to `d` before taking silence as consent.
static constexpr std::chrono::milliseconds DEFAULTS_REPLY_WAIT{1000};

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
    SY_SPAN(span, Info, "core_cpp::cyton", "prepare_device", "port,daisy", port_path, daisy);
    auto opened = std::make_unique<SerialPort>(port_path);
    port = std::move(opened);
    {
        std::lock_guard<std::mutex> guard(decoder_lock);
        decoder = std::make_unique<CytonDecoder>(daisy);
    }
    try {
        port->discard_input();
        expect_reply("v", "greeting");
        // BrainFlow's rule: the answer to `d` may be silence; only "Failure..." refuses.
        send("d");
        bool complete = false;
        const std::string defaults =
            port->read_until("$$$", std::min(timeout, DEFAULTS_REPLY_WAIT), complete);
        if (defaults.rfind("Failure", 0) == 0) {
            throw BrainFlowException(ExitCode::BOARD_NOT_READY_ERROR,
                                     "the board on " + port_path + " refused defaults: " + defaults);
        }
        SY_LOG(Info, "core_cpp::cyton", "port", "board answered the greeting and took its defaults", port_path);
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
    {
        std::lock_guard<std::mutex> guard(failure_lock);
        reader_failure.clear();
    }
    try {
        send("b");
        reader_parent = log::capture_current();
        reader = std::thread(&CytonBoard::reader_loop, this);
    } catch (...) {
        log::release_captured(reader_parent);
        reader_parent = 0;
        ::close(wake_pipe[0]);
        ::close(wake_pipe[1]);
        wake_pipe[0] = wake_pipe[1] = -1;
        throw;
    }
}

namespace {

// After `s` the board may still send what it queued before it saw the command: keep
// reading until the line has been quiet this long, and never longer than DRAIN_LIMIT.
constexpr std::chrono::milliseconds DRAIN_QUIET(50);
constexpr std::chrono::milliseconds DRAIN_LIMIT(1000);

}  // namespace

// Reads what the port has now and pushes the samples in it. False when the device is gone.
bool CytonBoard::read_and_push(std::vector<std::uint8_t> &bytes, std::vector<double> &samples) {
    const long n = port->read_some(bytes.data(), bytes.size());
    if (n > 0) {
        SY_SPAN(batch, Debug, "core_cpp::cyton", "decode_batch", "bytes", n);
        const double now = unix_time_now();
        samples.clear();
        std::size_t count;
        {
            std::lock_guard<std::mutex> guard(decoder_lock);
            count = decoder->decode(bytes.data(), static_cast<std::size_t>(n), now, samples);
        }
        push_samples(0, samples.data(), count);
        return true;
    }
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
}

void CytonBoard::reader_loop() {
    // The reader's whole life is one span, under the call that started the stream.
    SY_SPAN_UNDER(span, reader_parent, Info, "core_cpp::cyton", "reader", "port", port_path);
    log::release_captured(reader_parent);
    reader_parent = 0;
    SY_LOG(Info, "core_cpp::cyton", "", "serial reader started");
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
                note_reader_failure(std::string("poll on the serial port failed: ") + std::strerror(errno));
                return;
            }
            if (waits[0].revents & POLLIN) {
                errno = 0;
                if (!read_and_push(bytes, samples)) {
                    // The device went away; samples stop, stop_stream still works.
                    note_reader_failure(errno == 0 ? std::string("the serial device closed (end of file)")
                                                   : std::string("reading the serial port failed: ") + std::strerror(errno));
                    return;
                }
            } else if (waits[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
                note_reader_failure("the serial device hung up");
                return;
            }
            if (waits[1].revents != 0) {
                drain(bytes, samples);  // stop requested, after `s` was sent
                return;
            }
        }
    } catch (const std::exception &e) {
        note_reader_failure(std::string("the serial reader failed: ") + e.what());
    } catch (...) {
        note_reader_failure("the serial reader failed with an unknown error");
    }
}

void CytonBoard::note_reader_failure(const std::string &why) {
    SY_LOG(Error, "core_cpp::cyton", "port,reason", "serial reader stopped; no more samples will arrive", port_path, why);
    try {
        std::lock_guard<std::mutex> guard(failure_lock);
        reader_failure = why;
    } catch (...) {
        // Out of memory for the message: the stream is still dead, say so without detail.
    }
}

std::string CytonBoard::stream_failure() const {
    std::lock_guard<std::mutex> guard(failure_lock);
    return reader_failure;
}

void CytonBoard::drain(std::vector<std::uint8_t> &bytes, std::vector<double> &samples) {
    using clock = std::chrono::steady_clock;
    const clock::time_point deadline = clock::now() + DRAIN_LIMIT;
    pollfd wait = {port->fd(), POLLIN, 0};
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) {
            return;
        }
        wait.revents = 0;
        const int ready = ::poll(&wait, 1, static_cast<int>(std::min(left, DRAIN_QUIET).count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0 || !(wait.revents & POLLIN) || !read_and_push(bytes, samples)) {
            return;  // quiet for DRAIN_QUIET, or the device is gone
        }
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
    // `s` goes out while the reader still runs, and the reader drains what the board sent
    // before it saw it: those samples were measured while the user was streaming.
    std::exception_ptr send_failure;
    try {
        send("s");
    } catch (...) {
        send_failure = std::current_exception();
    }
    stop_reader();
    // Whatever still comes after the drain would otherwise open the next command's reply.
    port->discard_input();
    if (send_failure) {
        std::rethrow_exception(send_failure);
    }
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
