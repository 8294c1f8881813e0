// The playback file board (id -3): replays a BrainFlow CSV recording with the layout of
// `master_board`, at the master board's rate, from elapsed time (no thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "board.h"

namespace switchyard {
namespace legacy {

// The master board's default preset, as the file's lines are laid out.
struct PlaybackLayout {
    int master_board;
    std::size_t rows;
    double sampling_rate;
    std::size_t timestamp_row;
    std::size_t marker_row;
};

// Parses one line of tab-separated numbers into `out` (appending `rows` values). Returns
// an empty string on success, otherwise what is wrong with it ("column 3: ...").
std::string parse_playback_line(const char *begin, const char *end, std::size_t rows,
                                std::vector<double> &out);

// Reads and checks a whole recording: sample-major values, `rows` per line. Throws
// UNABLE_TO_OPEN_PORT_ERROR when missing, INVALID_ARGUMENTS_ERROR naming the line and
// column when malformed or empty.
std::vector<double> read_playback_file(const std::string &path, std::size_t rows);

// The decoder form: bytes of a recording in, one sample per complete line out.
class PlaybackDecoder {
public:
    explicit PlaybackDecoder(const PlaybackLayout &layout);
    std::size_t num_rows() const noexcept { return layout.rows; }
    // Appends decoded samples to `out`; returns how many.
    std::size_t decode(const std::uint8_t *bytes, std::size_t len, double timestamp, std::vector<double> &out);
    std::uint64_t samples() const noexcept { return decoded; }
    std::uint64_t invalid_lines() const noexcept { return invalid; }

private:
    PlaybackLayout layout;
    std::string partial_line;
    std::uint64_t decoded = 0;
    std::uint64_t invalid = 0;
};

class PlaybackFileBoard : public Board {
public:
    PlaybackFileBoard(std::string path, const PlaybackLayout &layout);

protected:
    void prepare_device() override;
    void start_device() override;
    void stop_device() override;
    void release_device() override;
    std::string configure(const std::string &config) override;
    void produce_due_samples() override;

private:
    std::string path;
    PlaybackLayout layout;
    std::vector<double> recording;  // sample-major, layout.rows per sample
    std::size_t lines = 0;
    bool loopback = false;
    std::chrono::steady_clock::time_point started;
    double start_unix_time = 0.0;
    std::uint64_t produced = 0;
    std::size_t next_line = 0;
    std::vector<double> scratch;
};

}  // namespace legacy
}  // namespace switchyard
