// OpenBCI Cyton (id 0) and Cyton Daisy (id 2) over a POSIX serial port.
//
// Threading: while streaming, one reader thread per board sleeps in poll() on the port
// and on a wake-up pipe; it wakes only when bytes arrive or stop is requested (no timer
// ticking at the sample rate), decodes them and pushes samples into the ring buffer.
// Stopping sends `s` first and lets the reader drain what is still on its way (until the
// line has been quiet 50 ms, at most 1 s) before it is joined.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "board.h"
#include "cyton_decoder.h"
#include "serial_port.h"

namespace switchyard {
namespace legacy {

class CytonBoard : public Board {
public:
    // `daisy`: the 16-channel Cyton Daisy (id 2). `timeout`: how long the board may take
    // to answer a command.
    CytonBoard(bool daisy, std::string serial_port, std::chrono::milliseconds timeout);
    ~CytonBoard() override;

    CytonCounters decode_counters() const;

protected:
    void prepare_device() override;
    void start_device() override;
    void stop_device() override;
    void release_device() override;
    std::string configure(const std::string &config) override;

public:
    std::string stream_failure() const override;

private:
    void send(const std::string &command);
    std::string expect_reply(const std::string &command, const char *what);
    void reader_loop();
    bool read_and_push(std::vector<std::uint8_t> &bytes, std::vector<double> &samples);
    void drain(std::vector<std::uint8_t> &bytes, std::vector<double> &samples);
    void stop_reader();

    const bool daisy;
    const std::string port_path;
    const std::chrono::milliseconds timeout;
    std::unique_ptr<SerialPort> port;
    mutable std::mutex decoder_lock;
    std::unique_ptr<CytonDecoder> decoder;
    std::thread reader;
    // The call that started the stream, captured so the reader's span nests under it.
    std::uint64_t reader_parent = 0;
    int wake_pipe[2] = {-1, -1};
    // Set by the reader when it stops on its own, so a dead stream is visible.
    mutable std::mutex failure_lock;
    std::string reader_failure;
    void note_reader_failure(const std::string &why);
};

}  // namespace legacy
}  // namespace switchyard
