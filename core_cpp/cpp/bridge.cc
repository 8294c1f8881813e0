#include "bridge.h"

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "board.h"
#include "brainflow_exception.h"
#include "bridge_checks.h"
#include "core_cpp/src/bridge.rs.h"
#include "cyton_board.h"
#include "cyton_decoder.h"
#include "log.h"
#include "playback.h"
#include "ring_buffer.h"
#include "synthetic.h"

namespace switchyard {
namespace legacy {

namespace {

PlaybackLayout playback_layout(const SessionParams &params) {
    return PlaybackLayout{params.master_board, params.master_rows,
                          static_cast<double>(params.master_sampling_rate), params.master_timestamp_row,
                          params.master_marker_row};
}

}  // namespace

BoardSession::BoardSession(std::unique_ptr<Board> owned) : board(std::move(owned)) {
    cyton = dynamic_cast<CytonBoard *>(board.get());
}

BoardSession::~BoardSession() = default;

// Each lifecycle call is a span, nested under the Rust call that crossed into it.
void BoardSession::prepare_session() {
    SY_SPAN(span, Info, "core_cpp::board", "prepare_session", "board_id", board->board_id());
    board->prepare_session();
}
void BoardSession::start_stream(std::size_t buffer_size) {
    SY_SPAN(span, Info, "core_cpp::board", "start_stream", "board_id,buffer_size", board->board_id(), buffer_size);
    board->start_stream(buffer_size);
}
void BoardSession::stop_stream() {
    SY_SPAN(span, Info, "core_cpp::board", "stop_stream", "board_id", board->board_id());
    board->stop_stream();
}
void BoardSession::release_session() {
    SY_SPAN(span, Info, "core_cpp::board", "release_session", "board_id", board->board_id());
    board->release_session();
}
bool BoardSession::is_prepared() const noexcept { return board->is_prepared(); }
std::size_t BoardSession::num_rows(std::int32_t preset) const { return board->num_rows(preset); }
std::size_t BoardSession::board_data_count(std::int32_t preset) {
    if (misreport && !board->is_prepared()) {
        return 1;  // tests only: a released board that still claims a sample
    }
    return board->board_data_count(preset);
}

void BoardSession::misreport_for_test() noexcept { misreport = true; }

std::size_t BoardSession::read_samples(bool remove, std::size_t max_samples, std::int32_t preset,
                                       rust::Slice<double> out) {
    const std::size_t rows = board->num_rows(preset);
    if (rows == 0 || out.size() / rows < max_samples) {
        throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR,
                                 "read_samples: the output holds fewer than max_samples samples");
    }
    const std::size_t got = board->read_samples(remove, max_samples, preset, out.data());
    SY_BRIDGE_CHECK(got <= max_samples, "read_samples wrote more samples than asked for");
    return got;
}

rust::String BoardSession::config_board(rust::Str config) {
    const std::string reply = board->config_board(std::string(config));
    // A device may answer with bytes that are not UTF-8; keep them readable, not fatal.
    return rust::String::lossy(reply);
}

void BoardSession::insert_marker(double value, std::int32_t preset) { board->insert_marker(value, preset); }

std::uint64_t BoardSession::dropped_samples() const noexcept { return board->dropped_samples(); }

rust::String BoardSession::stream_failure() const { return rust::String::lossy(board->stream_failure()); }

DecodeStats BoardSession::decode_stats() const {
    DecodeStats stats{};
    if (cyton) {
        const CytonCounters c = cyton->decode_counters();
        stats.packets = c.packets;
        stats.invalid_packets = c.invalid_packets;
        stats.skipped_bytes = c.skipped_bytes;
        stats.dropped_samples = c.dropped_samples;
    }
    return stats;
}

std::unique_ptr<BoardSession> new_board_session(const SessionParams &params) {
    const std::chrono::milliseconds timeout(params.timeout_ms);
    switch (params.board_id) {
    case -1:
        return std::make_unique<BoardSession>(std::make_unique<SyntheticBoard>(params.has_seed, params.seed));
    case -3:
        return std::make_unique<BoardSession>(
            std::make_unique<PlaybackFileBoard>(std::string(params.file), playback_layout(params)));
    case 0:
        return std::make_unique<BoardSession>(
            std::make_unique<CytonBoard>(false, std::string(params.serial_port), timeout));
    case 2:
        return std::make_unique<BoardSession>(
            std::make_unique<CytonBoard>(true, std::string(params.serial_port), timeout));
    default:
        throw BrainFlowException(ExitCode::UNSUPPORTED_BOARD_ERROR,
                                 "the legacy C++ core has no board " + std::to_string(params.board_id));
    }
}

StreamDecoderSession::StreamDecoderSession(std::unique_ptr<CytonDecoder> cyton_decoder,
                                           std::unique_ptr<PlaybackDecoder> playback_decoder)
    : cyton(std::move(cyton_decoder)), playback(std::move(playback_decoder)) {}

StreamDecoderSession::~StreamDecoderSession() = default;

std::size_t StreamDecoderSession::num_rows() const noexcept {
    return cyton ? cyton->num_rows() : playback->num_rows();
}

void StreamDecoderSession::throw_on_every_call(std::uint8_t kind) noexcept { throw_kind = kind; }

void StreamDecoderSession::observe_command(rust::Slice<const std::uint8_t> command) {
    if (throw_kind >= 0) {
        throw_for_test(static_cast<std::uint8_t>(throw_kind));
    }
    if (cyton) {
        cyton->observe_command(command.data(), command.size());
    }
}

std::size_t StreamDecoderSession::decode(rust::Slice<const std::uint8_t> bytes, double timestamp) {
    SY_SPAN(span, Debug, "core_cpp::decoder", "decode_batch", "bytes", bytes.size());
    decoded.clear();
    if (throw_kind >= 0) {
        throw_for_test(static_cast<std::uint8_t>(throw_kind));
    }
    const std::size_t count = cyton ? cyton->decode(bytes.data(), bytes.size(), timestamp, decoded)
                                    : playback->decode(bytes.data(), bytes.size(), timestamp, decoded);
    SY_BRIDGE_CHECK(decoded.size() == count * num_rows(), "the decoder's output is not count x rows values");
    return misreport ? count + 1 : count;  // tests only: a count the output does not back
}

void StreamDecoderSession::misreport_for_test() noexcept { misreport = true; }

rust::Slice<const double> StreamDecoderSession::output() const noexcept {
    return rust::Slice<const double>(decoded.data(), decoded.size());
}

DecodeStats StreamDecoderSession::stats() const {
    DecodeStats stats{};
    if (cyton) {
        const CytonCounters &c = cyton->counters();
        stats.packets = c.packets;
        stats.invalid_packets = c.invalid_packets;
        stats.skipped_bytes = c.skipped_bytes;
        stats.dropped_samples = c.dropped_samples;
    } else {
        stats.packets = playback->samples();
        stats.invalid_packets = playback->invalid_lines();
    }
    return stats;
}

std::unique_ptr<StreamDecoderSession> new_stream_decoder(const SessionParams &params) {
    switch (params.board_id) {
    case 0:
    case 2:
        return std::make_unique<StreamDecoderSession>(std::make_unique<CytonDecoder>(params.board_id == 2), nullptr);
    case -3:
        return std::make_unique<StreamDecoderSession>(nullptr,
                                                      std::make_unique<PlaybackDecoder>(playback_layout(params)));
    default:
        throw BrainFlowException(ExitCode::UNSUPPORTED_BOARD_ERROR,
                                 "the legacy C++ core has no stream decoder for board " +
                                     std::to_string(params.board_id));
    }
}

SyntheticGeneratorSession::SyntheticGeneratorSession(std::uint64_t seed)
    : generator(std::make_unique<SyntheticGenerator>(seed)) {}

SyntheticGeneratorSession::SyntheticGeneratorSession(std::unique_ptr<SyntheticGenerator> resumed)
    : generator(std::move(resumed)) {}

SyntheticGeneratorSession::~SyntheticGeneratorSession() = default;

void SyntheticGeneratorSession::generate(std::size_t count, double first_timestamp, double period) {
    default_samples.clear();
    auxiliary_samples.clear();
    if (throw_kind >= 0) {
        throw_for_test(static_cast<std::uint8_t>(throw_kind));
    }
    generator->generate(count, first_timestamp, period, default_samples, auxiliary_samples);
    SY_BRIDGE_CHECK(default_samples.size() % count == 0 || count == 0, "the generator's output is not whole samples");
}

rust::Slice<const double> SyntheticGeneratorSession::default_output() const noexcept {
    return rust::Slice<const double>(default_samples.data(), default_samples.size());
}

rust::Slice<const double> SyntheticGeneratorSession::auxiliary_output() const noexcept {
    return rust::Slice<const double>(auxiliary_samples.data(), auxiliary_samples.size());
}

std::uint64_t SyntheticGeneratorSession::next_index() const noexcept { return generator->next_index(); }

std::uint64_t SyntheticGeneratorSession::prng_state() const noexcept { return generator->prng_state(); }

rust::Slice<const double> SyntheticGeneratorSession::phases() const noexcept {
    return rust::Slice<const double>(generator->phases(), 16);
}

void SyntheticGeneratorSession::throw_on_every_call(std::uint8_t kind) noexcept { throw_kind = kind; }

std::unique_ptr<SyntheticGeneratorSession> new_synthetic_generator(std::uint64_t seed) {
    return std::make_unique<SyntheticGeneratorSession>(seed);
}

std::unique_ptr<SyntheticGeneratorSession> resume_synthetic_generator(std::uint64_t prng_state, std::uint64_t next_index,
                                                                      rust::Slice<const double> phases) {
    SY_BRIDGE_CHECK(phases.size() == 16, "a synthetic generator's state has 16 phases");
    double copied[16];
    for (std::size_t i = 0; i < 16; ++i) {
        copied[i] = phases[i];
    }
    return std::make_unique<SyntheticGeneratorSession>(
        std::make_unique<SyntheticGenerator>(prng_state, next_index, copied));
}

RingBufferSession::RingBufferSession(std::size_t rows, std::size_t capacity)
    : ring(std::make_unique<RingBuffer>(rows, capacity)) {}

RingBufferSession::~RingBufferSession() = default;

void RingBufferSession::push(rust::Slice<const double> samples) {
    SY_BRIDGE_CHECK(samples.size() % ring->rows() == 0, "push was given part of a sample");
    ring->push_many(samples.data(), samples.size() / ring->rows());
}

std::size_t RingBufferSession::read(bool remove, std::size_t max_samples, rust::Slice<double> out) {
    if (out.size() / ring->rows() < max_samples) {
        throw BrainFlowException(ExitCode::INVALID_ARGUMENTS_ERROR,
                                 "read: the output holds fewer than max_samples samples");
    }
    return ring->read_row_major(remove, max_samples, out.data());
}

std::size_t RingBufferSession::count() const { return ring->count(); }
std::uint64_t RingBufferSession::dropped() const { return ring->dropped(); }
std::size_t RingBufferSession::allocated_samples() const { return ring->allocated_samples(); }

std::unique_ptr<RingBufferSession> new_ring_buffer(std::size_t rows, std::size_t capacity) {
    return std::make_unique<RingBufferSession>(rows, capacity);
}

rust::Vec<ExitCodeEntry> exit_code_table() {
    rust::Vec<ExitCodeEntry> table;
#define SWITCHYARD_EXIT_CODE_ENTRY(NAME, NUMBER)                                      \
    static_assert(static_cast<int>(ExitCode::NAME) == (NUMBER), #NAME " has two numbers"); \
    table.push_back(ExitCodeEntry{static_cast<std::int32_t>(ExitCode::NAME), rust::String(#NAME)});
    SWITCHYARD_EXIT_CODES(SWITCHYARD_EXIT_CODE_ENTRY)
#undef SWITCHYARD_EXIT_CODE_ENTRY
    return table;
}

void set_cpp_log_level(std::uint8_t level) noexcept { log::max_level.store(level, std::memory_order_relaxed); }

void log_for_test(rust::Slice<const std::uint8_t> message, std::uint32_t times) {
    const std::string text(reinterpret_cast<const char *>(message.data()), message.size());
    if (times == 1) {
        SY_LOG(Warn, "core_cpp::test", "line,text", "logged on purpose by log_for_test", 0, text);
        return;
    }
    // A storm has a statement of its own, so its rate limit is its own.
    for (std::uint32_t i = 0; i < times; ++i) {
        SY_LOG(Warn, "core_cpp::test", "line,text", "a storm logged on purpose by log_for_test", i, text);
    }
}

void span_for_test(bool under_captured) {
    auto body = [](std::uint64_t parent) {
        SY_SPAN_UNDER(span, parent, Info, "core_cpp::test", "test_span", "purpose", "span_for_test");
        SY_LOG(Info, "core_cpp::test", "", "inside the test span");
    };
    if (!under_captured) {
        body(0);
        return;
    }
    const std::uint64_t parent = log::capture_current();
    std::thread worker([&] { body(parent); });
    worker.join();
    log::release_captured(parent);
}

void bridge_noop() noexcept {}

void throw_for_test(std::uint8_t kind) {
    switch (kind) {
    case 0:
        throw BrainFlowException(ExitCode::BOARD_NOT_READY_ERROR, "thrown on purpose by throw_for_test");
    case 1:
        throw std::out_of_range("thrown on purpose by throw_for_test");
    case 3:
        SY_BRIDGE_CHECK(false, "thrown on purpose by throw_for_test");
        return;
    default:
        throw 42;
    }
}

}  // namespace legacy
}  // namespace switchyard
