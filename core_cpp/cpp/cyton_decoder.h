// The OpenBCI Cyton / Cyton Daisy wire protocol without I/O: bytes in, samples out.
// Usable on its own (for shadow decoding) and inside CytonBoard's reader thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace switchyard {
namespace legacy {

constexpr std::size_t CYTON_ROWS = 24;
constexpr std::size_t CYTON_DAISY_ROWS = 32;
constexpr std::size_t CYTON_PACKET_SIZE = 33;

struct CytonCounters {
    std::uint64_t packets = 0;
    std::uint64_t invalid_packets = 0;
    std::uint64_t skipped_bytes = 0;
    std::uint64_t dropped_samples = 0;
};

class CytonDecoder {
public:
    explicit CytonDecoder(bool daisy);

    std::size_t num_rows() const noexcept { return daisy ? CYTON_DAISY_ROWS : CYTON_ROWS; }
    std::size_t timestamp_row() const noexcept { return daisy ? 30 : 22; }
    std::size_t marker_row() const noexcept { return daisy ? 31 : 23; }

    // Tracks channel gains from channel-setting commands (`x C P G I B S1 S2 X`) and `d`.
    void observe_command(const std::uint8_t *bytes, std::size_t len);
    // Appends whole samples to `out` (num_rows() values each); returns how many. A partial
    // packet at the end is kept for the next call.
    std::size_t decode(const std::uint8_t *bytes, std::size_t len, double timestamp, std::vector<double> &out);
    const CytonCounters &counters() const noexcept { return stats; }

private:
    struct Half {
        std::uint8_t sample_number;
        std::uint8_t footer;
        std::uint8_t aux[6];
        double channels[8];
        double analog[3];
    };

    // Decodes the valid packet at `packet`; returns whether a sample was appended.
    bool on_packet(const std::uint8_t *packet, double timestamp, std::vector<double> &out);
    void emit_cyton(const Half &half, double timestamp, std::vector<double> &out) const;
    void emit_daisy(const Half &even, const Half &odd, double timestamp, std::vector<double> &out) const;

    const bool daisy;
    double scale[16];  // µV per count, from each channel's gain
    double accel[3] = {0.0, 0.0, 0.0};
    // The last analog readings (footer 0xC1), held until the next.
    double analog[3] = {0.0, 0.0, 0.0};
    std::vector<std::uint8_t> pending;  // bytes not yet decoded
    // Daisy: the daisy's half (even sample number) waiting for the main board's.
    bool have_even = false;
    Half even_half{};
    CytonCounters stats;
};

}  // namespace legacy
}  // namespace switchyard
