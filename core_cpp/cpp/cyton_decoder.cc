#include "cyton_decoder.h"

#include "log.h"

#include <cstddef>
#include <cstring>

namespace switchyard {
namespace legacy {

namespace {

constexpr std::uint8_t HEADER = 0xA0;
constexpr int DEFAULT_GAIN = 24;

double scale_for_gain(int gain) { return 4.5 / 8388607.0 / static_cast<double>(gain) * 1000000.0; }

bool is_footer(std::uint8_t b) { return b >= 0xC0 && b <= 0xC6; }

std::int32_t int24_be(const std::uint8_t *b) {
    std::int32_t v = (static_cast<std::int32_t>(b[0]) << 16) | (static_cast<std::int32_t>(b[1]) << 8) | b[2];
    if (v & 0x800000) {
        v -= 0x1000000;
    }
    return v;
}

std::int16_t int16_be(const std::uint8_t *b) {
    return static_cast<std::int16_t>(static_cast<std::uint16_t>((b[0] << 8) | b[1]));
}

// Channel index (0-based) for the channel byte of a setting command, or -1.
int channel_index(std::uint8_t c, bool daisy) {
    if (c >= '1' && c <= '8') {
        return c - '1';
    }
    if (!daisy) {
        return -1;
    }
    static const char daisy_channels[] = "QWERTYUI";
    for (int i = 0; i < 8; ++i) {
        if (c == static_cast<std::uint8_t>(daisy_channels[i])) {
            return 8 + i;
        }
    }
    return -1;
}

int gain_for_code(std::uint8_t c) {
    static const int gains[] = {1, 2, 4, 6, 8, 12, 24};
    if (c >= '0' && c <= '6') {
        return gains[c - '0'];
    }
    return -1;
}

}  // namespace

CytonDecoder::CytonDecoder(bool is_daisy) : daisy(is_daisy) {
    for (double &s : scale) {
        s = scale_for_gain(DEFAULT_GAIN);
    }
}

void CytonDecoder::observe_command(const std::uint8_t *bytes, std::size_t len) {
    std::size_t i = 0;
    while (i < len) {
        if (bytes[i] == 'x' && i + 8 < len && bytes[i + 8] == 'X') {
            const int channel = channel_index(bytes[i + 1], daisy);
            const int gain = gain_for_code(bytes[i + 3]);
            if (channel >= 0 && gain > 0) {
                scale[channel] = scale_for_gain(gain);
            }
            i += 9;
            continue;
        }
        if (bytes[i] == 'd') {
            for (double &s : scale) {
                s = scale_for_gain(DEFAULT_GAIN);
            }
        }
        ++i;
    }
}

std::size_t CytonDecoder::decode(const std::uint8_t *bytes, std::size_t len, double timestamp,
                                 std::vector<double> &out) {
    pending.insert(pending.end(), bytes, bytes + len);
    std::size_t emitted = 0;
    std::size_t pos = 0;
    const std::size_t size = pending.size();
    while (pos < size) {
        if (pending[pos] != HEADER) {
            // Garbage can be every byte of a stream: this line is rate-limited on the way out.
            SY_LOG(Trace, "core_cpp::cyton", "byte", "skipped a byte looking for a packet header",
                   static_cast<unsigned>(pending[pos]));
            ++stats.skipped_bytes;
            ++pos;
            continue;
        }
        if (size - pos < CYTON_PACKET_SIZE) {
            break;  // wait for the rest of this packet
        }
        const std::uint8_t *packet = &pending[pos];
        if (!is_footer(packet[32])) {
            SY_LOG(Debug, "core_cpp::cyton", "footer", "packet rejected: its footer is not a Cyton footer",
                   static_cast<unsigned>(packet[32]));
            ++stats.invalid_packets;
            ++pos;  // the header was not one: search again from the next byte
            continue;
        }
        ++stats.packets;
        if (on_packet(packet, timestamp, out)) {
            ++emitted;
        }
        pos += CYTON_PACKET_SIZE;
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pos));
    return emitted;
}

bool CytonDecoder::on_packet(const std::uint8_t *packet, double timestamp, std::vector<double> &out) {
    Half half;
    half.sample_number = packet[1];
    half.footer = packet[32];
    std::memcpy(half.aux, packet + 26, 6);
    const int channel_offset = (daisy && half.sample_number % 2 == 0) ? 8 : 0;
    for (int ch = 0; ch < 8; ++ch) {
        half.channels[ch] = static_cast<double>(int24_be(packet + 2 + static_cast<std::ptrdiff_t>(3) * ch)) * scale[channel_offset + ch];
    }
    const double aux_values[3] = {
        static_cast<double>(int16_be(half.aux)),
        static_cast<double>(int16_be(half.aux + 2)),
        static_cast<double>(int16_be(half.aux + 4)),
    };
    // Daisy: the main board's half (odd) is averaged into what the daisy's half (even)
    // set, as BrainFlow does; a lone Cyton packet sets the value. Analog readings are
    // held until the next 0xC1 packet.
    const bool averages = daisy && half.sample_number % 2 == 1;
    auto update = [averages](double *held, const double *value, double scale) {
        for (int k = 0; k < 3; ++k) {
            held[k] = averages ? (held[k] + value[k] * scale) / 2.0 : value[k] * scale;
        }
    };
    if (half.footer == 0xC0 && (aux_values[0] != 0.0 || aux_values[1] != 0.0 || aux_values[2] != 0.0)) {
        update(accel, aux_values, 0.002 / 16.0);
    }
    if (half.footer == 0xC1) {
        update(analog, aux_values, 1.0);
    }
    for (int k = 0; k < 3; ++k) {
        half.analog[k] = analog[k];
    }

    if (!daisy) {
        emit_cyton(half, timestamp, out);
        return true;
    }
    // The daisy's half (even, channels 9-16) comes first; the main board's (odd, channels
    // 1-8) completes the sample, numbered by the even half, as in BrainFlow.
    if (half.sample_number % 2 == 0) {
        if (have_even) {
            ++stats.dropped_samples;  // the previous daisy half never got its partner
        }
        even_half = half;
        have_even = true;
        return false;
    }
    if (have_even && static_cast<std::uint8_t>(even_half.sample_number + 1) == half.sample_number) {
        have_even = false;
        emit_daisy(even_half, half, timestamp, out);
        return true;
    }
    if (have_even) {
        ++stats.dropped_samples;
        have_even = false;
    }
    ++stats.dropped_samples;  // a main-board half without its daisy half
    return false;
}

void CytonDecoder::emit_cyton(const Half &half, double timestamp, std::vector<double> &out) const {
    double row[CYTON_ROWS];
    row[0] = half.sample_number;
    for (int ch = 0; ch < 8; ++ch) {
        row[1 + ch] = half.channels[ch];
    }
    for (int k = 0; k < 3; ++k) {
        row[9 + k] = accel[k];
    }
    row[12] = half.footer;
    for (int k = 0; k < 6; ++k) {
        row[13 + k] = half.aux[k];
    }
    for (int k = 0; k < 3; ++k) {
        row[19 + k] = half.analog[k];
    }
    row[22] = timestamp;
    row[23] = 0.0;
    out.insert(out.end(), row, row + CYTON_ROWS);
}

void CytonDecoder::emit_daisy(const Half &even, const Half &odd, double timestamp, std::vector<double> &out) const {
    double row[CYTON_DAISY_ROWS];
    row[0] = even.sample_number;
    for (int ch = 0; ch < 8; ++ch) {
        row[1 + ch] = odd.channels[ch];
        row[9 + ch] = even.channels[ch];
    }
    for (int k = 0; k < 3; ++k) {
        row[17 + k] = accel[k];
    }
    row[20] = odd.footer;
    for (int k = 0; k < 6; ++k) {
        row[21 + k] = (static_cast<double>(even.aux[k]) + static_cast<double>(odd.aux[k])) / 2.0;
    }
    for (int k = 0; k < 3; ++k) {
        row[27 + k] = odd.analog[k];
    }
    row[30] = timestamp;
    row[31] = 0.0;
    out.insert(out.end(), row, row + CYTON_DAISY_ROWS);
}

}  // namespace legacy
}  // namespace switchyard
