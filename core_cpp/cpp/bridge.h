// What the Rust side sees of the legacy core: one opaque session class per role (a board,
// a stream decoder, the synthetic generator), each owning its C++ object (pImpl), and the
// factories that build them. Declared in core_cpp/src/bridge.rs.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rust/cxx.h"
#include "trycatch.h"

namespace switchyard {
namespace legacy {

struct SessionParams;
struct DecodeStats;
struct ExitCodeEntry;
class Board;
class CytonBoard;
class CytonDecoder;
class PlaybackDecoder;
class RingBuffer;
class SyntheticGenerator;

class BoardSession {
public:
    explicit BoardSession(std::unique_ptr<Board> board);
    ~BoardSession();

    void prepare_session();
    void start_stream(std::size_t buffer_size);
    void stop_stream();
    void release_session();
    bool is_prepared() const noexcept;
    std::size_t num_rows(std::int32_t preset) const;
    std::size_t board_data_count(std::int32_t preset);
    std::size_t read_samples(bool remove, std::size_t max_samples, std::int32_t preset, rust::Slice<double> out);
    rust::String config_board(rust::Str config);
    void insert_marker(double value, std::int32_t preset);
    std::uint64_t dropped_samples() const noexcept;
    rust::String stream_failure() const;
    DecodeStats decode_stats() const;
    // Tests only: once released, the board claims a sample it does not have.
    void misreport_for_test() noexcept;

private:
    std::unique_ptr<Board> board;
    bool misreport = false;
    CytonBoard *cyton = nullptr;  // the same object as `board` when it is a Cyton
};

std::unique_ptr<BoardSession> new_board_session(const SessionParams &params);

class StreamDecoderSession {
public:
    StreamDecoderSession(std::unique_ptr<CytonDecoder> cyton, std::unique_ptr<PlaybackDecoder> playback);
    ~StreamDecoderSession();

    std::size_t num_rows() const noexcept;
    void observe_command(rust::Slice<const std::uint8_t> command);
    // Decodes into an internal buffer that output() shows until the next call.
    std::size_t decode(rust::Slice<const std::uint8_t> bytes, double timestamp);
    rust::Slice<const double> output() const noexcept;
    DecodeStats stats() const;
    // Tests only: every later decode and observe_command throws (kinds as throw_for_test).
    void throw_on_every_call(std::uint8_t kind) noexcept;
    // Tests only: decode reports one sample more than it wrote.
    void misreport_for_test() noexcept;

private:
    std::unique_ptr<CytonDecoder> cyton;
    bool misreport = false;
    std::unique_ptr<PlaybackDecoder> playback;
    std::vector<double> decoded;
    int throw_kind = -1;
};

std::unique_ptr<StreamDecoderSession> new_stream_decoder(const SessionParams &params);

class SyntheticGeneratorSession {
public:
    explicit SyntheticGeneratorSession(std::uint64_t seed);
    explicit SyntheticGeneratorSession(std::unique_ptr<SyntheticGenerator> resumed);
    ~SyntheticGeneratorSession();

    void generate(std::size_t count, double first_timestamp, double period);
    rust::Slice<const double> default_output() const noexcept;
    rust::Slice<const double> auxiliary_output() const noexcept;
    std::uint64_t next_index() const noexcept;
    std::uint64_t prng_state() const noexcept;
    rust::Slice<const double> phases() const noexcept;
    // Tests only: every later generate throws (kinds as throw_for_test).
    void throw_on_every_call(std::uint8_t kind) noexcept;

private:
    std::unique_ptr<SyntheticGenerator> generator;
    int throw_kind = -1;
    std::vector<double> default_samples;
    std::vector<double> auxiliary_samples;
};

std::unique_ptr<SyntheticGeneratorSession> new_synthetic_generator(std::uint64_t seed);
// A generator continuing from another's state; `phases` must hold 16 values.
std::unique_ptr<SyntheticGeneratorSession> resume_synthetic_generator(std::uint64_t prng_state, std::uint64_t next_index,
                                                                      rust::Slice<const double> phases);

// One RingBuffer on its own, so its growth and order can be tested and measured.
class RingBufferSession {
public:
    RingBufferSession(std::size_t rows, std::size_t capacity);
    ~RingBufferSession();

    // Pushes every whole sample in `samples` (rows() values each).
    void push(rust::Slice<const double> samples);
    std::size_t read(bool remove, std::size_t max_samples, rust::Slice<double> out);
    std::size_t count() const;
    std::uint64_t dropped() const;
    std::size_t allocated_samples() const;

private:
    std::unique_ptr<RingBuffer> ring;
};

std::unique_ptr<RingBufferSession> new_ring_buffer(std::size_t rows, std::size_t capacity);

// Every exit code the C++ core was compiled with (name and number), for the test that
// proves it matches board_api::ExitCode.
rust::Vec<ExitCodeEntry> exit_code_table();

// The most verbose level Rust's subscribers want (0 off, 1 error .. 5 trace).
void set_cpp_log_level(std::uint8_t level) noexcept;
// Tests only: logs `message` once, or `times` times from another statement (warn,
// core_cpp::test).
void log_for_test(rust::Slice<const std::uint8_t> message, std::uint32_t times);
// Tests only: opens a span and logs one line in it, on this thread or (under_captured)
// on a new thread whose span is parented to this thread's current span.
void span_for_test(bool under_captured);

// An empty call, to measure the cost of crossing the bridge.
void bridge_noop() noexcept;
// Throws on purpose (kind 0: BrainFlowException with BOARD_NOT_READY_ERROR, 1: a
// std::exception, 3: a broken bridge invariant in debug builds, else an int), so tests
// can check that no exception aborts the process.
void throw_for_test(std::uint8_t kind);

}  // namespace legacy
}  // namespace switchyard
