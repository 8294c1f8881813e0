// The legacy Board base class: BrainFlow's session lifecycle and error codes, one ring
// buffer per preset, pending markers. Subclasses supply the device (or generator) through
// the protected hooks; the base class owns every state check so that all boards answer
// calls in the wrong order the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ring_buffer.h"

namespace switchyard {
namespace legacy {

// Where the rows of one preset are.
struct PresetLayout {
    std::size_t rows;
    std::size_t timestamp_row;
    std::size_t marker_row;
};

// Seconds since the Unix epoch, as BrainFlow stamps samples.
double unix_time_now();

class Board {
public:
    Board(int board_id, std::vector<PresetLayout> presets);
    virtual ~Board();
    Board(const Board &) = delete;
    Board &operator=(const Board &) = delete;

    int board_id() const noexcept { return id; }
    bool is_prepared() const noexcept { return prepared; }
    bool is_streaming() const noexcept { return streaming; }

    void prepare_session();
    void start_stream(std::size_t buffer_size);
    void stop_stream();
    void release_session();

    std::size_t num_rows(int preset) const;
    std::size_t board_data_count(int preset);
    // Writes up to `max_samples` samples row-major into `out` (room for
    // num_rows(preset) * max_samples values) and returns how many. `remove`: the oldest,
    // taken out; otherwise the newest, oldest first, left in place.
    std::size_t read_samples(bool remove, std::size_t max_samples, int preset, double *out);
    std::string config_board(const std::string &config);
    void insert_marker(double value, int preset);
    // Samples of the default preset dropped because its ring buffer was full, since prepare.
    std::uint64_t dropped_samples() const;
    // Why the stream stopped on its own while streaming (the device hung up, a read
    // failed); empty while healthy and for boards without a device.
    virtual std::string stream_failure() const { return {}; }

protected:
    virtual void prepare_device() = 0;
    // Called with the ring buffers already in place.
    virtual void start_device() = 0;
    virtual void stop_device() = 0;
    virtual void release_device() = 0;
    virtual std::string configure(const std::string &config) = 0;
    // Boards without a thread produce the samples that are due when they are read.
    virtual void produce_due_samples() {}

    // Appends `count` samples (one after another) to a preset's buffer, putting a pending
    // marker into the first of them. Safe to call from a reader thread while streaming.
    void push_samples(int preset, const double *samples, std::size_t count);
    const PresetLayout &layout(int preset) const;

private:
    void require_prepared(const char *call) const;
    std::size_t preset_index(int preset) const;

    const int id;
    const std::vector<PresetLayout> presets;
    bool prepared = false;
    bool streaming = false;
    std::vector<std::unique_ptr<RingBuffer>> buffers;  // one per preset, made by start_stream
    std::uint64_t dropped_before = 0;                  // from buffers replaced by a restart

    // Throws INVALID_ARGUMENTS_ERROR when no stream has made the buffers yet (BrainFlow's
    // answer between prepare and the first start_stream).
    void require_buffers(const char *call) const;

    std::mutex marker_lock;
    // Per preset, markers not yet in a sample: each goes into the next sample, in order.
    std::vector<std::deque<double>> pending_markers;
    std::vector<double> marked_sample;  // scratch for a sample that carries a marker
};

}  // namespace legacy
}  // namespace switchyard
