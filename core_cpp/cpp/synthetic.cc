#include "synthetic.h"

#include <algorithm>
#include <cmath>

namespace switchyard {
namespace legacy {

namespace {
// Correctly rounded constants, spelled out so that no header's definition can differ.
constexpr double PI = 3.141592653589793;
constexpr double SQRT_2 = 1.4142135623730951;
constexpr double TWO_PI = 2.0 * PI;
}  // namespace

SyntheticGenerator::SyntheticGenerator(std::uint64_t seed) : state(seed) {}

SyntheticGenerator::SyntheticGenerator(std::uint64_t prng_state, std::uint64_t next_index,
                                       const double (&phases)[16])
    : state(prng_state), index(next_index) {
    for (std::size_t i = 0; i < 16; ++i) {
        phase[i] = phases[i];
    }
}

std::uint64_t SyntheticGenerator::next_u64() {
    state += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double SyntheticGenerator::uniform() {
    return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

void SyntheticGenerator::generate(std::size_t count, double first_timestamp, double period,
                                  std::vector<double> &default_out, std::vector<double> &aux_out) {
    default_out.reserve(default_out.size() + count * SYNTHETIC_ROWS);
    aux_out.reserve(aux_out.size() + count * SYNTHETIC_AUX_ROWS);
    double row[SYNTHETIC_ROWS];
    for (std::size_t k = 0; k < count; ++k) {
        row[0] = static_cast<double>(index % 256);
        for (int i = 0; i < 16; ++i) {
            const double amp = 10.0 * (i + 1);
            const double freq = 5.0 * (i + 1);
            const double u = uniform();
            const double noise = (((2.0 * u - 1.0) * amp) * (0.1 * (i + 1))) / 2.0;
            row[1 + i] = amp + ((amp + noise) * SQRT_2) * std::sin(phase[i] + 0.05 * i);
            phase[i] += TWO_PI * freq / 250.0;
            if (phase[i] >= TWO_PI) {
                phase[i] -= TWO_PI;
            }
        }
        for (int r = 17; r <= 22; ++r) {  // accel then gyro
            row[r] = (0.9 + 0.2 * uniform()) - 0.1;
        }
        row[23] = 0.9 + 0.2 * uniform();
        row[24] = 500.0 * (0.9 + 0.2 * uniform());
        row[25] = 253500.0 * (0.9 + 0.2 * uniform());
        row[26] = 36.5 + (0.9 + 0.2 * uniform()) / 10.0;
        row[27] = 1000.0 * (0.9 + 0.2 * uniform());
        row[28] = 1000.0 * (0.9 + 0.2 * uniform());
        row[29] = ((0.9 + 0.2 * uniform()) - 0.1) * 100.0;
        row[30] = first_timestamp + static_cast<double>(k) * period;
        row[31] = 0.0;
        default_out.insert(default_out.end(), row, row + SYNTHETIC_ROWS);

        const double aux[SYNTHETIC_AUX_ROWS] = {
            row[0],  row[29], row[17], row[18], row[19], row[20], row[21],
            row[22], row[23], row[24], row[25], row[26], row[27], row[28],
            0.0,     0.0,     0.0,     0.0,     row[30], 0.0,
        };
        aux_out.insert(aux_out.end(), aux, aux + SYNTHETIC_AUX_ROWS);
        ++index;
    }
}

SyntheticBoard::SyntheticBoard(bool has_seed, std::uint64_t fixed_seed)
    : Board(-1, {{SYNTHETIC_ROWS, 30, 31}, {SYNTHETIC_AUX_ROWS, 18, 19}}),
      seed(has_seed ? fixed_seed
                    : static_cast<std::uint64_t>(
                          std::chrono::system_clock::now().time_since_epoch().count())) {}

void SyntheticBoard::prepare_device() { generator = std::make_unique<SyntheticGenerator>(seed); }

void SyntheticBoard::start_device() {
    started = std::chrono::steady_clock::now();
    start_unix_time = unix_time_now();
    produced = 0;
}

void SyntheticBoard::produce_due_samples() {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto due = static_cast<std::uint64_t>(std::floor(elapsed * SYNTHETIC_RATE));
    if (due <= produced) {
        return;
    }
    // In chunks, so that a read after a long pause does not need memory for all of it.
    constexpr std::uint64_t CHUNK = 1024;
    while (produced < due) {
        const auto count = static_cast<std::size_t>(std::min(CHUNK, due - produced));
        default_scratch.clear();
        aux_scratch.clear();
        const double first = start_unix_time + static_cast<double>(produced) / SYNTHETIC_RATE;
        generator->generate(count, first, 1.0 / SYNTHETIC_RATE, default_scratch, aux_scratch);
        produced += count;
        push_samples(0, default_scratch.data(), count);
        push_samples(1, aux_scratch.data(), count);
    }
}

void SyntheticBoard::stop_device() {}

void SyntheticBoard::release_device() { generator.reset(); }

std::string SyntheticBoard::configure(const std::string &config) { return "Config:" + config; }

}  // namespace legacy
}  // namespace switchyard
