#include "playback.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "brainflow_exception.h"

namespace switchyard {
namespace legacy {

namespace {

// strtod accepts more than a decimal number (hex floats, leading blanks, "inf"): only
// plain decimal text is a sample value, so that every reader of the file agrees.
bool is_decimal_number_text(const char *begin, const char *end) {
    if (begin == end) {
        return false;
    }
    bool digit = false;
    for (const char *p = begin; p != end; ++p) {
        const char c = *p;
        if (c >= '0' && c <= '9') {
            digit = true;
        } else if (c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E') {
            return false;
        }
    }
    return digit;
}

}  // namespace

std::string parse_playback_line(const char *begin, const char *end, std::size_t rows,
                                std::vector<double> &out) {
    if (end != begin && end[-1] == '\r') {
        --end;
    }
    const std::size_t start_size = out.size();
    std::size_t column = 0;
    const char *cell = begin;
    std::string text;
    while (true) {
        const char *tab = static_cast<const char *>(std::memchr(cell, '\t', static_cast<std::size_t>(end - cell)));
        const char *cell_end = tab ? tab : end;
        ++column;
        if (column <= rows) {
            text.assign(cell, cell_end);
            char *parsed_end = nullptr;
            errno = 0;
            const double value = std::strtod(text.c_str(), &parsed_end);
            if (!is_decimal_number_text(cell, cell_end) || parsed_end != text.c_str() + text.size()) {
                out.resize(start_size);
                return "column " + std::to_string(column) + ": \"" + text + "\" is not a number";
            }
            out.push_back(value);
        }
        if (!tab) {
            break;
        }
        cell = tab + 1;
    }
    if (column != rows) {
        out.resize(start_size);
        return "has " + std::to_string(column) + " columns, expected " + std::to_string(rows) +
               " (one per row of the master board)";
    }
    return std::string();
}

std::vector<double> read_playback_file(const std::string &path, std::size_t rows) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw BrainFlowException(ExitCode::UNABLE_TO_OPEN_PORT_ERROR,
                                 "playback file " + path + " cannot be opened: " + std::strerror(errno));
    }
    std::stringstream content_stream;
    content_stream << file.rdbuf();
    const std::string content = content_stream.str();
    if (content.find_first_not_of(" \t\r\n") == std::string::npos) {
        throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR,
                                 "playback file " + path + " is empty: it needs one sample per line");
    }
    std::vector<double> samples;
    std::size_t line_number = 0;
    std::size_t pos = 0;
    while (pos < content.size()) {
        std::size_t newline = content.find('\n', pos);
        if (newline == std::string::npos) {
            newline = content.size();
        }
        ++line_number;
        const std::string problem =
            parse_playback_line(content.data() + pos, content.data() + newline, rows, samples);
        if (!problem.empty()) {
            std::string message = "playback file ";
            message.append(path).append(" line ").append(std::to_string(line_number)).append(" ").append(problem);
            throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR, message);
        }
        pos = newline + 1;
    }
    return samples;
}

PlaybackDecoder::PlaybackDecoder(const PlaybackLayout &file_layout) : layout(file_layout) {
    if (layout.rows == 0) {
        throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR, "playback needs a master board with rows");
    }
}

std::size_t PlaybackDecoder::decode(const std::uint8_t *bytes, std::size_t len, double timestamp,
                                    std::vector<double> &out) {
    std::size_t emitted = 0;
    const char *text = reinterpret_cast<const char *>(bytes);
    const char *end = text + len;
    while (text != end) {
        const char *newline = static_cast<const char *>(std::memchr(text, '\n', static_cast<std::size_t>(end - text)));
        if (!newline) {
            partial_line.append(text, end);
            break;
        }
        partial_line.append(text, newline);
        text = newline + 1;
        if (!partial_line.empty() && partial_line != "\r") {
            const std::size_t before = out.size();
            const std::string problem =
                parse_playback_line(partial_line.data(), partial_line.data() + partial_line.size(), layout.rows, out);
            if (problem.empty()) {
                out[before + layout.timestamp_row] = timestamp;
                out[before + layout.marker_row] = 0.0;
                ++emitted;
                ++decoded;
            } else {
                ++invalid;
            }
        }
        partial_line.clear();
    }
    return emitted;
}

PlaybackFileBoard::PlaybackFileBoard(std::string file_path, const PlaybackLayout &file_layout)
    : Board(-3, {{file_layout.rows, file_layout.timestamp_row, file_layout.marker_row}}),
      path(std::move(file_path)),
      layout(file_layout) {
    if (layout.rows == 0 || !(layout.sampling_rate > 0.0)) {
        throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR,
                                 "playback: master_board " + std::to_string(layout.master_board) +
                                     " has no usable layout");
    }
}

void PlaybackFileBoard::prepare_device() {
    if (path.empty()) {
        throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR,
                                 "playback: set params.file to the recording to replay");
    }
    recording = read_playback_file(path, layout.rows);
    lines = recording.size() / layout.rows;
    loopback = false;
}

void PlaybackFileBoard::start_device() {
    started = std::chrono::steady_clock::now();
    start_unix_time = unix_time_now();
    produced = 0;
    next_line = 0;
}

void PlaybackFileBoard::produce_due_samples() {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto due = static_cast<std::uint64_t>(std::floor(elapsed * layout.sampling_rate));
    constexpr std::size_t CHUNK = 1024;
    scratch.clear();
    std::size_t pending = 0;
    for (; produced < due; ++produced) {
        if (next_line == lines) {
            if (!loopback) {
                produced = due;  // the recording ended: nothing more until looping is turned on
                break;
            }
            next_line = 0;
        }
        const double *line = &recording[next_line * layout.rows];
        scratch.insert(scratch.end(), line, line + layout.rows);
        scratch[pending * layout.rows + layout.timestamp_row] =
            start_unix_time + static_cast<double>(produced) / layout.sampling_rate;
        ++next_line;
        if (++pending == CHUNK) {
            push_samples(0, scratch.data(), pending);
            scratch.clear();
            pending = 0;
        }
    }
    push_samples(0, scratch.data(), pending);
}

void PlaybackFileBoard::stop_device() {}

void PlaybackFileBoard::release_device() {
    recording.clear();
    recording.shrink_to_fit();
    lines = 0;
}

std::string PlaybackFileBoard::configure(const std::string &config) {
    if (config == "loopback_true") {
        loopback = true;
        return std::string();
    }
    if (config == "loopback_false") {
        loopback = false;
        return std::string();
    }
    throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR,
                             "playback: unknown config \"" + config + "\" (use loopback_true or loopback_false)");
}

}  // namespace legacy
}  // namespace switchyard
