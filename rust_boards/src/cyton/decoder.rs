//! The Cyton and Cyton Daisy packet decoders: bytes in, samples out, no I/O.

use board_api::{DecodeCounters, Result, StreamDecoder};

pub const PACKET_LEN: usize = 33;
const HEADER: u8 = 0xA0;
const FOOTER_ACCEL: u8 = 0xC0;
const FOOTER_ANALOG: u8 = 0xC1;
pub const CYTON_ROWS: usize = 24;
pub const DAISY_ROWS: usize = 32;
const DEFAULT_GAIN: f64 = 24.0;
/// Gain code `0`..`6` of a channel setting command.
const GAINS: [f64; 7] = [1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 24.0];
/// Daisy channels 9..16 in channel setting commands.
const DAISY_CHANNEL_KEYS: &[u8; 8] = b"QWERTYUI";
const SETTING_LEN: usize = 9;

fn scale_for(gain: f64) -> f64 {
    4.5 / 8_388_607.0 / gain * 1_000_000.0
}

/// One valid packet, decoded with the gains in force when it arrived.
#[derive(Debug, Clone, Copy)]
struct Half {
    sample_number: u8,
    channels: [f64; 8],
    footer: u8,
    aux: [u8; 6],
    analog: [f64; 3],
}

/// Cyton (8 channels, 250 Hz) or Cyton Daisy (16 channels from odd/even packet pairs,
/// 125 Hz), as `docs/board-behaviour.md` specifies.
#[derive(Debug, Clone)]
pub struct CytonDecoder {
    daisy: bool,
    /// µV per count for each of the 16 channels.
    scales: [f64; 16],
    accel: [f64; 3],
    /// The last analog readings (footer `0xC1`), held like BrainFlow holds them.
    analog: [f64; 3],
    pending: Vec<u8>,
    /// Daisy: the daisy's half (even sample number) waiting for the main board's.
    even_half: Option<Half>,
    counters: DecodeCounters,
}

impl CytonDecoder {
    pub fn cyton() -> Self {
        Self::new(false)
    }
    pub fn daisy() -> Self {
        Self::new(true)
    }

    fn new(daisy: bool) -> Self {
        CytonDecoder {
            daisy,
            scales: [scale_for(DEFAULT_GAIN); 16],
            accel: [0.0; 3],
            analog: [0.0; 3],
            pending: Vec::with_capacity(4 * PACKET_LEN),
            even_half: None,
            counters: DecodeCounters::default(),
        }
    }

    /// The channel (0-based) a setting command's channel byte names, if any.
    fn setting_channel(&self, key: u8) -> Option<usize> {
        match key {
            b'1'..=b'8' => Some(usize::from(key - b'1')),
            _ if self.daisy => DAISY_CHANNEL_KEYS.iter().position(|k| *k == key).map(|i| i + 8),
            _ => None,
        }
    }

    fn decode_half(&mut self, p: &[u8]) -> Half {
        let mut channels = [0.0; 8];
        let base = if self.daisy && p[1] % 2 == 0 { 8 } else { 0 };
        for (c, value) in channels.iter_mut().enumerate() {
            let b = &p[2 + 3 * c..5 + 3 * c];
            // Sign-extend the 24-bit big-endian value through the top byte of an i32.
            let raw = i32::from_be_bytes([b[0], b[1], b[2], 0]) >> 8;
            *value = f64::from(raw) * self.scales[base + c];
        }
        let mut aux = [0u8; 6];
        aux.copy_from_slice(&p[26..32]);
        let triple = [
            i16::from_be_bytes([aux[0], aux[1]]),
            i16::from_be_bytes([aux[2], aux[3]]),
            i16::from_be_bytes([aux[4], aux[5]]),
        ];
        let footer = p[32];
        // Daisy: the main board's half (odd) is averaged into what the daisy's half (even)
        // set, as BrainFlow does; a lone Cyton packet sets the value.
        let averages = self.daisy && p[1] % 2 == 1;
        let update = |held: &mut [f64; 3], new: [f64; 3]| {
            for (h, v) in held.iter_mut().zip(new) {
                *h = if averages { (*h + v) / 2.0 } else { v };
            }
        };
        if footer == FOOTER_ACCEL && triple.iter().any(|v| *v != 0) {
            update(&mut self.accel, triple.map(|v| f64::from(v) * (0.002 / 16.0)));
        }
        if footer == FOOTER_ANALOG {
            update(&mut self.analog, triple.map(f64::from));
        }
        let analog = self.analog;
        Half { sample_number: p[1], channels, footer, aux, analog }
    }

    fn emit_cyton(&self, h: &Half, timestamp: f64, out: &mut Vec<f64>) {
        out.push(f64::from(h.sample_number));
        out.extend_from_slice(&h.channels);
        out.extend_from_slice(&self.accel);
        out.push(f64::from(h.footer));
        out.extend(h.aux.iter().map(|b| f64::from(*b)));
        out.extend_from_slice(&h.analog);
        out.push(timestamp);
        out.push(0.0);
    }

    fn emit_daisy(&self, even: &Half, odd: &Half, timestamp: f64, out: &mut Vec<f64>) {
        out.push(f64::from(even.sample_number));
        out.extend_from_slice(&odd.channels);
        out.extend_from_slice(&even.channels);
        out.extend_from_slice(&self.accel);
        out.push(f64::from(odd.footer));
        out.extend(even.aux.iter().zip(&odd.aux).map(|(e, o)| (f64::from(*e) + f64::from(*o)) / 2.0));
        out.extend_from_slice(&odd.analog);
        out.push(timestamp);
        out.push(0.0);
    }

    /// Handles one valid packet; returns whether it completed a sample.
    fn on_packet(&mut self, p: &[u8], timestamp: f64, out: &mut Vec<f64>) -> bool {
        let half = self.decode_half(p);
        if !self.daisy {
            self.emit_cyton(&half, timestamp, out);
            return true;
        }
        // The daisy's half (even, channels 9-16) comes first; the main board's (odd,
        // channels 1-8) completes the sample, numbered by the even half, as in BrainFlow.
        if half.sample_number % 2 == 0 {
            if self.even_half.replace(half).is_some() {
                self.counters.dropped_samples += 1;
            }
            return false;
        }
        match self.even_half.take() {
            Some(even) if even.sample_number.wrapping_add(1) == half.sample_number => {
                self.emit_daisy(&even, &half, timestamp, out);
                true
            }
            Some(_) => {
                self.counters.dropped_samples += 2;
                false
            }
            None => {
                self.counters.dropped_samples += 1;
                false
            }
        }
    }
}

impl StreamDecoder for CytonDecoder {
    fn num_rows(&self) -> usize {
        if self.daisy {
            DAISY_ROWS
        } else {
            CYTON_ROWS
        }
    }

    fn observe_command(&mut self, command: &[u8]) -> Result<()> {
        let mut i = 0;
        while i < command.len() {
            match command[i] {
                b'd' => {
                    self.scales = [scale_for(DEFAULT_GAIN); 16];
                    i += 1;
                }
                b'x' if i + SETTING_LEN <= command.len() => {
                    let s = &command[i..i + SETTING_LEN];
                    let gain = s[3].checked_sub(b'0').and_then(|g| GAINS.get(usize::from(g)));
                    match (self.setting_channel(s[1]), gain, s[8] == b'X') {
                        (Some(channel), Some(gain), true) => {
                            self.scales[channel] = scale_for(*gain);
                            i += SETTING_LEN;
                        }
                        _ => i += 1,
                    }
                }
                _ => i += 1,
            }
        }
        Ok(())
    }

    fn decode(&mut self, bytes: &[u8], timestamp: f64, out: &mut Vec<f64>) -> Result<usize> {
        self.pending.extend_from_slice(bytes);
        let mut emitted = 0;
        let mut pos = 0;
        loop {
            match self.pending[pos..].iter().position(|b| *b == HEADER) {
                Some(offset) => {
                    self.counters.skipped_bytes += offset as u64;
                    pos += offset;
                }
                None => {
                    self.counters.skipped_bytes += (self.pending.len() - pos) as u64;
                    pos = self.pending.len();
                    break;
                }
            }
            if self.pending.len() - pos < PACKET_LEN {
                break;
            }
            let footer = self.pending[pos + PACKET_LEN - 1];
            if (0xC0..=0xC6).contains(&footer) {
                let packet: [u8; PACKET_LEN] = self.pending[pos..pos + PACKET_LEN].try_into().unwrap_or([0; PACKET_LEN]);
                self.counters.packets += 1;
                if self.on_packet(&packet, timestamp, out) {
                    emitted += 1;
                }
                pos += PACKET_LEN;
            } else {
                self.counters.invalid_packets += 1;
                // The header itself is not counted as skipped: it was a packet start.
                pos += 1;
            }
        }
        self.pending.drain(..pos);
        Ok(emitted)
    }

    fn counters(&self) -> DecodeCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(sample_number: u8, raw: [i32; 8], aux: [u8; 6], footer: u8) -> Vec<u8> {
        let mut p = vec![HEADER, sample_number];
        for r in raw {
            p.extend_from_slice(&r.to_be_bytes()[1..4]);
        }
        p.extend_from_slice(&aux);
        p.push(footer);
        p
    }

    #[test]
    fn cyton_rows_follow_the_spec() {
        let mut d = CytonDecoder::cyton();
        let mut out = Vec::new();
        let bytes = packet(7, [1, -1, 8_388_607, -8_388_608, 0, 2, 3, 4], [0, 16, 0xFF, 0xF0, 0, 0], FOOTER_ACCEL);
        assert_eq!(d.decode(&bytes, 12.5, &mut out).unwrap(), 1);
        assert_eq!(out.len(), CYTON_ROWS);
        assert_eq!(out[0], 7.0);
        assert_eq!(out[1], 1.0 * (4.5 / 8_388_607.0 / 24.0 * 1_000_000.0));
        assert_eq!(out[2], -out[1]);
        assert_eq!(out[4], -8_388_608.0 * scale_for(24.0));
        assert_eq!(out[9..12], [16.0 * (0.002 / 16.0), -16.0 * (0.002 / 16.0), 0.0]);
        assert_eq!(out[12], 192.0);
        assert_eq!(out[13..19], [0.0, 16.0, 255.0, 240.0, 0.0, 0.0]);
        assert_eq!(out[19..22], [0.0, 0.0, 0.0]);
        assert_eq!(out[22], 12.5);
        assert_eq!(out[23], 0.0);
        // All-zero accel keeps the previous; 0xC1 fills analog.
        out.clear();
        d.decode(&packet(8, [0; 8], [0; 6], FOOTER_ACCEL), 0.0, &mut out).unwrap();
        d.decode(&packet(9, [0; 8], [0, 1, 0, 2, 0xFF, 0xFF], FOOTER_ANALOG), 0.0, &mut out).unwrap();
        assert_eq!(out[9], 16.0 * (0.002 / 16.0));
        assert_eq!(out[CYTON_ROWS + 19..CYTON_ROWS + 22], [1.0, 2.0, -1.0]);
        assert_eq!(out[CYTON_ROWS + 9], 16.0 * (0.002 / 16.0));
    }

    #[test]
    fn resyncs_after_garbage_and_bad_footers() {
        let mut d = CytonDecoder::cyton();
        let mut stream = vec![1, 2, 3];
        stream.extend(packet(1, [5; 8], [0; 6], 0x55)); // bad footer
        stream.extend(packet(2, [6; 8], [0; 6], 0xC3));
        let mut out = Vec::new();
        let (a, b) = stream.split_at(20);
        assert_eq!(d.decode(a, 0.0, &mut out).unwrap(), 0);
        assert_eq!(d.decode(b, 0.0, &mut out).unwrap(), 1);
        assert_eq!(out[0], 2.0);
        let c = d.counters();
        assert_eq!(c.packets, 1);
        assert_eq!(c.invalid_packets, 1);
        assert_eq!(c.skipped_bytes, 3 + 32);
    }

    #[test]
    fn gains_follow_channel_settings_and_defaults() {
        let mut d = CytonDecoder::daisy();
        d.observe_command(b"x1020000Xx8060000XxQ000000X").unwrap();
        d.observe_command(b"x2090000X").unwrap(); // gain code 9 does not exist: ignored
        let mut out = Vec::new();
        d.decode(&packet(2, [1000; 8], [0; 6], 0xC0), 0.0, &mut out).unwrap();
        d.decode(&packet(3, [1000; 8], [0; 6], 0xC0), 0.0, &mut out).unwrap();
        assert_eq!(out[1], 1000.0 * scale_for(4.0));
        assert_eq!(out[2], 1000.0 * scale_for(24.0));
        assert_eq!(out[8], 1000.0 * scale_for(24.0));
        assert_eq!(out[9], 1000.0 * scale_for(1.0));
        d.observe_command(b"d").unwrap();
        out.clear();
        d.decode(&packet(4, [1000; 8], [0; 6], 0xC0), 0.0, &mut out).unwrap();
        d.decode(&packet(5, [1000; 8], [0; 6], 0xC0), 0.0, &mut out).unwrap();
        assert_eq!(out[1], 1000.0 * scale_for(24.0));
    }

    #[test]
    fn daisy_pairs_even_then_odd_like_brainflow_and_counts_lone_halves() {
        let mut d = CytonDecoder::daisy();
        let mut out = Vec::new();
        let mut stream = Vec::new();
        stream.extend(packet(3, [0; 8], [0; 6], 0xC0)); // lone odd: its even half was lost
        stream.extend(packet(4, [2; 8], [0, 0, 0, 0, 0, 9], 0xC1)); // daisy half, analog 9
        stream.extend(packet(5, [1; 8], [0, 0, 0, 0, 0, 4], 0xC1)); // main half, analog 4
        stream.extend(packet(6, [0; 8], [0; 6], 0xC0)); // replaced by 8
        stream.extend(packet(8, [0; 8], [0; 6], 0xC0)); // mismatched with 11
        stream.extend(packet(11, [0; 8], [0; 6], 0xC0));
        stream.extend(packet(254, [4; 8], [0, 16, 0, 0, 0, 0], 0xC0)); // accel set by the even half
        stream.extend(packet(255, [3; 8], [0, 48, 0, 0, 0, 0], 0xC0)); // and averaged by the odd
        assert_eq!(d.decode(&stream, 1.0, &mut out).unwrap(), 2);
        assert_eq!(out.len(), 2 * DAISY_ROWS);
        // Numbered by the even half; channels 1-8 from the odd half, 9-16 from the even.
        assert_eq!(out[0], 4.0);
        assert_eq!(out[1], scale_for(24.0));
        assert_eq!(out[9], 2.0 * scale_for(24.0));
        assert_eq!(out[20], 193.0, "the odd half's footer");
        assert_eq!(out[21..27], [0.0, 0.0, 0.0, 0.0, 0.0, 6.5], "the halves' aux bytes averaged");
        assert_eq!(out[27..30], [0.0, 0.0, 6.5], "analog set by the even half, averaged with the odd");
        let second = &out[DAISY_ROWS..];
        assert_eq!(second[0], 254.0);
        assert_eq!(second[17], (16.0 * (0.002 / 16.0) + 48.0 * (0.002 / 16.0)) / 2.0);
        assert_eq!(second[27..30], [0.0, 0.0, 6.5], "analog held");
        assert_eq!(d.counters().dropped_samples, 1 + 1 + 2);
        assert_eq!(d.counters().packets, 8);
    }

}
