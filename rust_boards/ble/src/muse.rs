//! The Muse 2 / Muse S BLE protocol without its I/O: notifications from each
//! characteristic in, samples in the rows of BrainFlow's three Muse presets out.
//!
//! - Default preset (256 Hz, 8 rows): 0 package number, 1–4 EEG TP9, AF7, AF8, TP10 (µV),
//!   5 right aux (µV, only with preset `p50`, else 0), 6 timestamp, 7 marker. One EEG
//!   notification per electrode holds a 2-byte big-endian package number then 12 samples
//!   of 12 bits (two per 3 bytes), `µV = (v − 0x800) × 125 / 256`. The 12 samples are
//!   emitted when every enabled electrode has delivered the same package number.
//! - Auxiliary preset (52 Hz, 9 rows): 0 package number, 1–3 accel (g), 4–6 gyro (°/s),
//!   7 timestamp, 8 marker. Accel and gyro notifications each hold a package number then
//!   3 samples of 3 × int16 big-endian at offset `2 + 6i`; accel `/ 16384`, gyro
//!   `× 0.007476`. One accel and one gyro notification make 3 samples.
//! - Ancillary preset (64 Hz, 6 rows): 0 package number, 1–3 PPG, 4 timestamp, 5 marker.
//!   Three PPG characteristics each hold a package number then 6 × 24-bit big-endian
//!   unsigned values; one of each with the same package number make 6 samples.
//!
//! A notification carries several samples; the last one is stamped with the arrival time
//! and earlier ones one sampling period apart before it.

use board_api::{DecodeCounters, Preset};
use std::collections::BTreeMap;

pub const MUSE_EEG_ROWS: usize = 8;
pub const MUSE_AUX_ROWS: usize = 9;
pub const MUSE_ANC_ROWS: usize = 6;
pub const MUSE_EEG_RATE: f64 = 256.0;
pub const MUSE_AUX_RATE: f64 = 52.0;
pub const MUSE_ANC_RATE: f64 = 64.0;
/// g per accelerometer count.
pub const MUSE_ACCEL_SCALE: f64 = 1.0 / 16384.0;
/// °/s per gyroscope count.
pub const MUSE_GYRO_SCALE: f64 = 0.007476;

/// Package numbers kept waiting for their other channels; an older incomplete one is
/// given up (and its samples counted as dropped) when a newer one would exceed this.
const PENDING_LIMIT: usize = 4;

/// Which Muse characteristic a notification came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MuseSource {
    /// EEG electrode 0–3 (TP9, AF7, AF8, TP10) or 4 (right aux).
    Eeg(usize),
    Accel,
    Gyro,
    /// PPG channel 0–2.
    Ppg(usize),
}

/// EEG µV of a 12-bit Muse value.
pub fn eeg_microvolts(raw: u16) -> f64 {
    (f64::from(raw) - 2048.0) * 125.0 / 256.0
}

/// Splits an EEG notification into its package number and 12 µV values.
pub fn parse_eeg(packet: &[u8]) -> Option<(u16, [f64; 12])> {
    if packet.len() < 20 {
        return None;
    }
    let package = u16::from_be_bytes([packet[0], packet[1]]);
    let mut values = [0.0; 12];
    for pair in 0..6 {
        let b = &packet[2 + 3 * pair..5 + 3 * pair];
        let first = (u16::from(b[0]) << 4) | u16::from(b[1] >> 4);
        let second = (u16::from(b[1] & 0x0F) << 8) | u16::from(b[2]);
        values[2 * pair] = eeg_microvolts(first);
        values[2 * pair + 1] = eeg_microvolts(second);
    }
    Some((package, values))
}

/// Splits an accel or gyro notification into its package number and 3 samples × 3 axes,
/// each `int16 × scale`.
pub fn parse_imu(packet: &[u8], scale: f64) -> Option<(u16, [[f64; 3]; 3])> {
    if packet.len() < 20 {
        return None;
    }
    let package = u16::from_be_bytes([packet[0], packet[1]]);
    let mut samples = [[0.0; 3]; 3];
    for (i, sample) in samples.iter_mut().enumerate() {
        for (axis, value) in sample.iter_mut().enumerate() {
            let at = 2 + 6 * i + 2 * axis;
            *value = f64::from(i16::from_be_bytes([packet[at], packet[at + 1]])) * scale;
        }
    }
    Some((package, samples))
}

/// Splits a PPG notification into its package number and 6 raw values.
pub fn parse_ppg(packet: &[u8]) -> Option<(u16, [f64; 6])> {
    if packet.len() < 20 {
        return None;
    }
    let package = u16::from_be_bytes([packet[0], packet[1]]);
    let mut values = [0.0; 6];
    for (i, value) in values.iter_mut().enumerate() {
        let b = &packet[2 + 3 * i..5 + 3 * i];
        *value = f64::from((u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]));
    }
    Some((package, values))
}

/// Samples decoded from one notification, per preset (sample-major, marker rows 0).
#[derive(Debug, Default, Clone)]
pub struct PresetSamples {
    pub default: Vec<f64>,
    pub auxiliary: Vec<f64>,
    pub ancillary: Vec<f64>,
}

impl PresetSamples {
    pub fn get_mut(&mut self, preset: Preset) -> &mut Vec<f64> {
        match preset {
            Preset::Default => &mut self.default,
            Preset::Auxiliary => &mut self.auxiliary,
            Preset::Ancillary => &mut self.ancillary,
        }
    }
    pub fn clear(&mut self) {
        self.default.clear();
        self.auxiliary.clear();
        self.ancillary.clear();
    }
}

/// Assembles Muse notifications from all characteristics into samples of three presets.
#[derive(Debug, Clone, Default)]
pub struct MuseDecoder {
    aux_electrode: bool,
    eeg: BTreeMap<u16, [Option<[f64; 12]>; 5]>,
    ppg: BTreeMap<u16, [Option<[f64; 6]>; 3]>,
    accel: Option<(u16, [[f64; 3]; 3])>,
    gyro: Option<(u16, [[f64; 3]; 3])>,
    last_accel: [[f64; 3]; 3],
    last_gyro: [[f64; 3]; 3],
    counters: DecodeCounters,
}

impl MuseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the right aux electrode streams (preset `p50`): EEG samples then wait for
    /// its notification too.
    pub fn set_aux_electrode(&mut self, enabled: bool) {
        self.aux_electrode = enabled;
    }

    pub fn aux_electrode(&self) -> bool {
        self.aux_electrode
    }

    pub fn counters(&self) -> DecodeCounters {
        self.counters
    }

    /// Drops half-assembled samples after a gap.
    pub fn resync(&mut self) {
        self.eeg.clear();
        self.ppg.clear();
        self.accel = None;
        self.gyro = None;
    }

    /// Decodes one notification; samples that became complete are appended to `out`.
    pub fn decode(&mut self, source: MuseSource, packet: &[u8], timestamp: f64, out: &mut PresetSamples) {
        let ok = match source {
            MuseSource::Eeg(electrode) if electrode < 5 => self.eeg_packet(electrode, packet, timestamp, out),
            MuseSource::Ppg(channel) if channel < 3 => self.ppg_packet(channel, packet, timestamp, out),
            MuseSource::Accel => self.imu_packet(true, packet, timestamp, out),
            MuseSource::Gyro => self.imu_packet(false, packet, timestamp, out),
            _ => false,
        };
        if ok {
            self.counters.packets += 1;
        } else {
            self.counters.invalid_packets += 1;
        }
    }

    fn eeg_packet(&mut self, electrode: usize, packet: &[u8], timestamp: f64, out: &mut PresetSamples) -> bool {
        let Some((package, values)) = parse_eeg(packet) else {
            return false;
        };
        if electrode == 4 && !self.aux_electrode {
            return true; // streamed but not asked for: nothing waits for it
        }
        self.eeg.entry(package).or_default()[electrode] = Some(values);
        let needed = if self.aux_electrode { 5 } else { 4 };
        let complete = self.eeg[&package][..needed].iter().all(Option::is_some);
        if complete {
            let parts = self.eeg.remove(&package).unwrap_or_default();
            for i in 0..12 {
                let sample = &mut out.default;
                sample.push(f64::from(package));
                for part in &parts[..4] {
                    sample.push(part.map_or(0.0, |v| v[i]));
                }
                sample.push(if self.aux_electrode { parts[4].map_or(0.0, |v| v[i]) } else { 0.0 });
                sample.push(stamp(timestamp, i, 12, MUSE_EEG_RATE));
                sample.push(0.0);
            }
        }
        while self.eeg.len() > PENDING_LIMIT {
            self.eeg.pop_first();
            self.counters.dropped_samples += 12;
        }
        true
    }

    fn ppg_packet(&mut self, channel: usize, packet: &[u8], timestamp: f64, out: &mut PresetSamples) -> bool {
        let Some((package, values)) = parse_ppg(packet) else {
            return false;
        };
        self.ppg.entry(package).or_default()[channel] = Some(values);
        if self.ppg[&package].iter().all(Option::is_some) {
            let parts = self.ppg.remove(&package).unwrap_or_default();
            for i in 0..6 {
                out.ancillary.push(f64::from(package));
                for part in &parts {
                    out.ancillary.push(part.map_or(0.0, |v| v[i]));
                }
                out.ancillary.push(stamp(timestamp, i, 6, MUSE_ANC_RATE));
                out.ancillary.push(0.0);
            }
        }
        while self.ppg.len() > PENDING_LIMIT {
            self.ppg.pop_first();
            self.counters.dropped_samples += 6;
        }
        true
    }

    fn imu_packet(&mut self, is_accel: bool, packet: &[u8], timestamp: f64, out: &mut PresetSamples) -> bool {
        let scale = if is_accel { MUSE_ACCEL_SCALE } else { MUSE_GYRO_SCALE };
        let Some(parsed) = parse_imu(packet, scale) else {
            return false;
        };
        let slot_taken = if is_accel { self.accel.is_some() } else { self.gyro.is_some() };
        if slot_taken {
            // Two of one kind in a row: the first goes out with the other kind's last values.
            self.flush_imu(timestamp, out);
        }
        if is_accel {
            self.accel = Some(parsed);
        } else {
            self.gyro = Some(parsed);
        }
        if self.accel.is_some() && self.gyro.is_some() {
            self.flush_imu(timestamp, out);
        }
        true
    }

    fn flush_imu(&mut self, timestamp: f64, out: &mut PresetSamples) {
        let accel = self.accel.take();
        let gyro = self.gyro.take();
        let package = accel.or(gyro).map_or(0, |(p, _)| p);
        if let Some((_, a)) = accel {
            self.last_accel = a;
        }
        if let Some((_, g)) = gyro {
            self.last_gyro = g;
        }
        for i in 0..3 {
            out.auxiliary.push(f64::from(package));
            out.auxiliary.extend_from_slice(&self.last_accel[i]);
            out.auxiliary.extend_from_slice(&self.last_gyro[i]);
            out.auxiliary.push(stamp(timestamp, i, 3, MUSE_AUX_RATE));
            out.auxiliary.push(0.0);
        }
    }
}

/// Timestamp of sample `i` of `n` from one notification that arrived at `arrival`.
fn stamp(arrival: f64, i: usize, n: usize, rate: f64) -> f64 {
    arrival - (n - 1 - i) as f64 / rate
}

/// A command as the Muse control characteristic takes it: `[len + 1, ascii..., '\n']`.
pub fn encode_command(command: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(command.len() + 2);
    bytes.push((command.len() + 1) as u8);
    bytes.extend_from_slice(command.as_bytes());
    bytes.push(b'\n');
    bytes
}
