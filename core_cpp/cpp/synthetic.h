// The synthetic board (id -1): BrainFlow's signal shape from a seeded SplitMix64, with no
// thread. Samples are generated from elapsed time whenever the board is read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "board.h"

namespace switchyard {
namespace legacy {

constexpr std::size_t SYNTHETIC_ROWS = 32;
constexpr std::size_t SYNTHETIC_AUX_ROWS = 20;
constexpr double SYNTHETIC_RATE = 250.0;

// The signal without its clock: sample n depends only on the seed and n.
class SyntheticGenerator {
public:
    explicit SyntheticGenerator(std::uint64_t seed);
    // Continues the signal from a state taken from either implementation.
    SyntheticGenerator(std::uint64_t prng_state, std::uint64_t next_index, const double (&phases)[16]);

    // Appends `count` samples (default preset to `default_out`, auxiliary to `aux_out`),
    // sample k stamped first_timestamp + k * period.
    void generate(std::size_t count, double first_timestamp, double period,
                  std::vector<double> &default_out, std::vector<double> &aux_out);
    std::uint64_t next_index() const noexcept { return index; }
    std::uint64_t prng_state() const noexcept { return state; }
    const double *phases() const noexcept { return phase; }

private:
    std::uint64_t next_u64();
    double uniform();  // [0, 1)

    std::uint64_t state;
    std::uint64_t index = 0;
    double phase[16] = {};
};

class SyntheticBoard : public Board {
public:
    // `has_seed` false: seeded from the clock, as BrainFlow does.
    SyntheticBoard(bool has_seed, std::uint64_t seed);

protected:
    void prepare_device() override;
    void start_device() override;
    void stop_device() override;
    void release_device() override;
    std::string configure(const std::string &config) override;
    void produce_due_samples() override;

private:
    std::uint64_t seed;
    std::unique_ptr<SyntheticGenerator> generator;
    std::chrono::steady_clock::time_point started;
    double start_unix_time = 0.0;
    std::uint64_t produced = 0;  // samples generated since start_stream
    std::vector<double> default_scratch;
    std::vector<double> aux_scratch;
};

}  // namespace legacy
}  // namespace switchyard
