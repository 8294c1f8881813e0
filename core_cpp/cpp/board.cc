#include "board.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "brainflow_exception.h"

namespace switchyard {
namespace legacy {

namespace {

constexpr std::size_t WIDEST_PRESET_ROWS = 32;

}  // namespace

double unix_time_now() {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration<double>(since_epoch).count();
}

Board::Board(int board_id, std::vector<PresetLayout> preset_layouts)
    : id(board_id),
      presets(std::move(preset_layouts)),
      pending_markers(presets.size()) {}

Board::~Board() = default;

void Board::require_prepared(const char *call) const {
    if (!prepared) {
        throw BrainFlowException(ExitCode::BOARD_NOT_CREATED_ERROR,
                                 std::string(call) + ": the session is not prepared; call prepare_session first");
    }
}

std::size_t Board::preset_index(int preset) const {
    if (preset < 0 || static_cast<std::size_t>(preset) >= presets.size()) {
        throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR,
                                 "board " + std::to_string(id) + " has no preset " + std::to_string(preset));
    }
    return static_cast<std::size_t>(preset);
}

const PresetLayout &Board::layout(int preset) const { return presets[preset_index(preset)]; }

std::size_t Board::num_rows(int preset) const { return layout(preset).rows; }

void Board::prepare_session() {
    if (prepared) {
        return;  // BrainFlow's board objects accept a second prepare without effect
    }
    prepare_device();
    prepared = true;
    dropped_before = 0;
    buffers.clear();
}

void Board::start_stream(std::size_t buffer_size) {
    require_prepared("start_stream");
    if (streaming) {
        throw BrainFlowException(ExitCode::STREAM_ALREADY_RUN_ERROR,
                                 "start_stream: the stream is already running; call stop_stream first");
    }
    if (buffer_size == 0) {
        throw BrainFlowException(ExitCode::INVALID_BUFFER_SIZE_ERROR,
                                 "start_stream: buffer_size must be at least 1 sample");
    }
    // Judged against the widest preset of any board (32 rows), as the Rust twin does, so
    // both refuse exactly the same sizes whatever the board.
    if (!RingBuffer::size_is_valid(WIDEST_PRESET_ROWS, buffer_size)) {
        throw BrainFlowException(ExitCode::INVALID_BUFFER_SIZE_ERROR,
                                 "start_stream: buffer_size " + std::to_string(buffer_size) + " is too large");
    }
    std::vector<std::unique_ptr<RingBuffer>> fresh;
    for (const PresetLayout &preset : presets) {
        fresh.push_back(std::make_unique<RingBuffer>(preset.rows, buffer_size));
    }
    if (!buffers.empty()) {
        dropped_before += buffers[0]->dropped();
    }
    buffers = std::move(fresh);
    start_device();
    streaming = true;
}

void Board::stop_stream() {
    require_prepared("stop_stream");
    if (!streaming) {
        throw BrainFlowException(ExitCode::STREAM_THREAD_IS_NOT_RUNNING,
                                 "stop_stream: the stream is not running");
    }
    produce_due_samples();
    streaming = false;
    stop_device();
}

void Board::release_session() {
    require_prepared("release_session");
    if (streaming) {
        streaming = false;
        try {
            stop_device();
        } catch (...) {
            // Releasing must free the device even when the stop command cannot be sent.
        }
    }
    release_device();
    prepared = false;
    buffers.clear();
    std::lock_guard<std::mutex> guard(marker_lock);
    for (auto &queue : pending_markers) {
        queue.clear();
    }
}

void Board::require_buffers(const char *call) const {
    if (buffers.empty()) {
        throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR,
                                 std::string(call) +
                                     ": no stream has been started since prepare_session, so there is no buffer yet; "
                                     "call start_stream first");
    }
}

std::size_t Board::board_data_count(int preset) {
    require_prepared("board_data_count");
    const std::size_t index = preset_index(preset);
    require_buffers("get_board_data_count");
    if (streaming) {
        produce_due_samples();
    }
    return buffers[index]->count();
}

std::size_t Board::read_samples(bool remove, std::size_t max_samples, int preset, double *out) {
    require_prepared(remove ? "get_board_data" : "get_current_board_data");
    const std::size_t index = preset_index(preset);
    require_buffers(remove ? "get_board_data" : "get_current_board_data");
    if (streaming) {
        produce_due_samples();
    }
    return buffers[index]->read_row_major(remove, max_samples, out);
}

std::string Board::config_board(const std::string &config) {
    require_prepared("config_board");
    return configure(config);
}

void Board::insert_marker(double value, int preset) {
    require_prepared("insert_marker");
    const std::size_t index = preset_index(preset);
    if (value == 0.0) {
        throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR,
                                 "insert_marker: 0 means \"no marker\"; use a nonzero value");
    }
    require_buffers("insert_marker");
    if (streaming) {
        produce_due_samples();
    }
    std::lock_guard<std::mutex> guard(marker_lock);
    pending_markers[index].push_back(value);
}

std::uint64_t Board::dropped_samples() const {
    if (buffers.empty()) {
        return dropped_before;
    }
    return dropped_before + buffers[0]->dropped();
}

void Board::push_samples(int preset, const double *samples, std::size_t count) {
    if (count == 0) {
        return;
    }
    const std::size_t index = preset_index(preset);
    RingBuffer &buffer = *buffers.at(index);
    {
        // Queued markers go one per sample, in the order they were inserted.
        std::lock_guard<std::mutex> guard(marker_lock);
        std::deque<double> &queue = pending_markers[index];
        const PresetLayout &rows = presets[index];
        while (!queue.empty() && count > 0) {
            marked_sample.assign(samples, samples + rows.rows);
            marked_sample[rows.marker_row] = queue.front();
            queue.pop_front();
            buffer.push_many(marked_sample.data(), 1);
            samples += rows.rows;
            --count;
        }
    }
    buffer.push_many(samples, count);
}

}  // namespace legacy
}  // namespace switchyard
