//! The Ganglion's native BLE protocol without its I/O: 20-byte notifications in, samples in
//! the rows of BrainFlow's `GANGLION_NATIVE_BOARD` descriptor out.
//!
//! Rows (15): 0 packet id, 1–4 EEG (µV), 5–7 accel x, y, z (g), 8–11 channel impedance,
//! 12 reference impedance, 13 timestamp, 14 marker.
//!
//! Packet ids, firmware 2: 0 carries four 24-bit raw values (one sample and the reference
//! for the deltas that follow); 1–100 carry 8 × 18-bit deltas and 101–200 8 × 19-bit
//! deltas (two samples, `value = previous − delta`). Firmware 3: 0–99 carry 8 × 18-bit
//! absolute values (`<< 6`), 100–199 8 × 19-bit absolute values (`<< 5`). Both: in 18-bit
//! packets byte 19 is an accelerometer axis chosen by `id % 10` (0 → z negated, 1 → y,
//! 2 → x), `int8 × 0.016` g; 201–205 are impedance readings in ASCII ending in `Z`
//! (`id % 10` 1–4 a channel, 5 the reference).
//!
//! Packed values are read MSB-first starting at byte 1 and sign-extended as two's
//! complement of their width.

use board_api::DecodeCounters;

/// Rows of one Ganglion sample.
pub const GANGLION_ROWS: usize = 15;
/// µV per count: `1.2e6 / (8388607 × 1.5 × 51)` (reference 1.2 V, 24-bit ADC, gain 51 × 1.5).
pub const GANGLION_EEG_SCALE: f64 = 1.2e6 / (8388607.0 * 1.5 * 51.0);
/// g per count of the accelerometer byte.
pub const GANGLION_ACCEL_SCALE: f64 = 0.016;

const ROW_EEG: usize = 1;
const ROW_ACCEL: usize = 5;
const ROW_RESISTANCE: usize = 8;
const ROW_TIMESTAMP: usize = 13;

/// The two packet formats Ganglion firmware has shipped with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GanglionFirmware {
    /// Delta compression after one raw packet (id 0).
    V2,
    /// Absolute, truncated values in every packet.
    V3,
}

impl GanglionFirmware {
    /// Parses the `firmware=<2|3>` setting.
    pub fn from_setting(value: &str) -> Option<GanglionFirmware> {
        match value.trim() {
            "2" => Some(GanglionFirmware::V2),
            "3" => Some(GanglionFirmware::V3),
            _ => None,
        }
    }
}

/// Reads `width`-bit two's-complement values MSB-first from `bytes`, starting at bit
/// `first_bit` (bit 0 is the MSB of byte 0).
pub fn read_signed_bits(bytes: &[u8], first_bit: usize, width: usize) -> i32 {
    let mut value: u32 = 0;
    for bit in first_bit..first_bit + width {
        let byte = bytes[bit / 8];
        let set = (byte >> (7 - bit % 8)) & 1;
        value = (value << 1) | u32::from(set);
    }
    // Sign-extend from `width` bits.
    let shift = 32 - width as u32;
    ((value << shift) as i32) >> shift
}

/// Reads a 24-bit big-endian two's-complement value.
pub fn read_i24(bytes: &[u8]) -> i32 {
    read_signed_bits(bytes, 0, 24)
}

/// Decodes Ganglion notifications into samples. Pure: packets in, samples out.
#[derive(Debug, Clone)]
pub struct GanglionDecoder {
    firmware: GanglionFirmware,
    /// Firmware 2: the last decoded raw values, the base of the next deltas.
    last_raw: Option<[i32; 4]>,
    last_id: Option<u8>,
    accel: [f64; 3],
    resistance: [f64; 5],
    counters: DecodeCounters,
}

impl GanglionDecoder {
    pub fn new(firmware: GanglionFirmware) -> Self {
        GanglionDecoder {
            firmware,
            last_raw: None,
            last_id: None,
            accel: [0.0; 3],
            resistance: [0.0; 5],
            counters: DecodeCounters::default(),
        }
    }

    pub fn firmware(&self) -> GanglionFirmware {
        self.firmware
    }

    pub fn counters(&self) -> DecodeCounters {
        self.counters
    }

    /// Forgets the delta base after a gap: firmware 2 deltas are then meaningless until
    /// the device sends a raw packet (id 0) again, which it does when streaming restarts.
    pub fn resync(&mut self) {
        self.last_raw = None;
        self.last_id = None;
    }

    /// Decodes one notification, appending whole samples (sample-major, [`GANGLION_ROWS`]
    /// values each, marker 0) to `out`; returns how many were appended.
    pub fn decode_packet(&mut self, packet: &[u8], timestamp: f64, out: &mut Vec<f64>) -> usize {
        let Some(&id) = packet.first() else {
            self.counters.invalid_packets += 1;
            return 0;
        };
        // Data packets are always 20 bytes; impedance text may come shorter.
        if packet.len() < 20 && !(201..=205).contains(&id) {
            self.counters.invalid_packets += 1;
            return 0;
        }
        let appended = match (self.firmware, id) {
            (_, 201..=205) => self.impedance(packet, timestamp, out),
            (GanglionFirmware::V2, 0) => {
                let raw = [
                    read_i24(&packet[1..4]),
                    read_i24(&packet[4..7]),
                    read_i24(&packet[7..10]),
                    read_i24(&packet[10..13]),
                ];
                self.last_raw = Some(raw);
                self.push_sample(id, raw, timestamp, out);
                1
            }
            (GanglionFirmware::V2, 1..=100) => self.deltas(packet, 18, timestamp, out),
            (GanglionFirmware::V2, 101..=200) => self.deltas(packet, 19, timestamp, out),
            (GanglionFirmware::V3, 0..=99) => self.absolute(packet, 18, 6, timestamp, out),
            (GanglionFirmware::V3, 100..=199) => self.absolute(packet, 19, 5, timestamp, out),
            _ => {
                self.counters.invalid_packets += 1;
                return 0;
            }
        };
        if appended > 0 {
            self.counters.packets += 1;
            self.count_lost_packets(id);
        }
        appended
    }

    /// Counts packets missing between two consecutive data packets (ids wrap inside their
    /// range: firmware 2 from 100 to 1 and from 200 to 101, firmware 3 from 199 to 0).
    fn count_lost_packets(&mut self, id: u8) {
        if (201..=205).contains(&id) {
            return;
        }
        if let Some(previous) = self.last_id {
            let expected = match self.firmware {
                GanglionFirmware::V2 => match previous {
                    0 => None, // after the raw packet either delta range may start
                    100 => Some(1),
                    200 => Some(101),
                    p => Some(p + 1),
                },
                GanglionFirmware::V3 => Some(if previous >= 199 { 0 } else { previous + 1 }),
            };
            if let Some(expected) = expected {
                if expected != id && id != 0 {
                    let range = match self.firmware {
                        GanglionFirmware::V2 => 100,
                        GanglionFirmware::V3 => 200,
                    };
                    let missing = (i32::from(id) - i32::from(expected)).rem_euclid(range);
                    if missing > range / 2 {
                        // An id from the recent past: a late (reordered) packet, not a loss.
                        return;
                    }
                    self.counters.dropped_samples += 2 * missing as u64;
                }
            }
        }
        self.last_id = Some(id);
    }

    fn accel_byte(&mut self, id: u8, packet: &[u8]) {
        let value = f64::from(packet[19] as i8) * GANGLION_ACCEL_SCALE;
        match id % 10 {
            0 => self.accel[2] = -value,
            1 => self.accel[1] = value,
            2 => self.accel[0] = value,
            _ => {}
        }
    }

    fn deltas(&mut self, packet: &[u8], width: usize, timestamp: f64, out: &mut Vec<f64>) -> usize {
        let id = packet[0];
        let Some(base) = self.last_raw else {
            // No raw packet yet (stream joined late or resynced): nothing to add deltas to.
            self.counters.dropped_samples += 2;
            return 0;
        };
        if width == 18 {
            self.accel_byte(id, packet);
        }
        let delta = |k: usize| read_signed_bits(packet, 8 + k * width, width);
        let mut first = base;
        for (ch, value) in first.iter_mut().enumerate() {
            *value = value.wrapping_sub(delta(ch));
        }
        let mut second = first;
        for (ch, value) in second.iter_mut().enumerate() {
            *value = value.wrapping_sub(delta(4 + ch));
        }
        self.last_raw = Some(second);
        self.push_sample(id, first, timestamp, out);
        self.push_sample(id, second, timestamp, out);
        2
    }

    fn absolute(&mut self, packet: &[u8], width: usize, shift: u32, timestamp: f64, out: &mut Vec<f64>) -> usize {
        let id = packet[0];
        if width == 18 {
            self.accel_byte(id, packet);
        }
        let value = |k: usize| read_signed_bits(packet, 8 + k * width, width) << shift;
        let first = [value(0), value(1), value(2), value(3)];
        let second = [value(4), value(5), value(6), value(7)];
        self.push_sample(id, first, timestamp, out);
        self.push_sample(id, second, timestamp, out);
        2
    }

    fn impedance(&mut self, packet: &[u8], timestamp: f64, out: &mut Vec<f64>) -> usize {
        let id = packet[0];
        let text = &packet[1..];
        let Some(end) = text.iter().position(|b| *b == b'Z') else {
            self.counters.invalid_packets += 1;
            return 0;
        };
        let digits = &text[..end];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            self.counters.invalid_packets += 1;
            return 0;
        }
        // All ASCII digits: the parse cannot fail short of overflow, which f64 absorbs.
        let value: f64 = std::str::from_utf8(digits).ok().and_then(|s| s.parse().ok()).unwrap_or(0.0);
        self.resistance[usize::from(id % 10) - 1] = value;
        let start = out.len();
        out.resize(start + GANGLION_ROWS, 0.0);
        let sample = &mut out[start..];
        sample[0] = f64::from(id);
        sample[ROW_ACCEL..ROW_ACCEL + 3].copy_from_slice(&self.accel);
        sample[ROW_RESISTANCE..ROW_RESISTANCE + 5].copy_from_slice(&self.resistance);
        sample[ROW_TIMESTAMP] = timestamp;
        1
    }

    fn push_sample(&self, id: u8, raw: [i32; 4], timestamp: f64, out: &mut Vec<f64>) {
        let start = out.len();
        out.resize(start + GANGLION_ROWS, 0.0);
        let sample = &mut out[start..];
        sample[0] = f64::from(id);
        for (ch, value) in raw.iter().enumerate() {
            sample[ROW_EEG + ch] = f64::from(*value) * GANGLION_EEG_SCALE;
        }
        sample[ROW_ACCEL..ROW_ACCEL + 3].copy_from_slice(&self.accel);
        sample[ROW_TIMESTAMP] = timestamp;
    }
}
