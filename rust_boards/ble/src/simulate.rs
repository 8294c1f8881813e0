//! Simulated Ganglion and Muse devices: the real wire protocols, driven by a clock, so the
//! BLE boards run end to end (demos, dispatcher tests) without hardware or a Bluetooth
//! stack.
//!
//! This module owns:
//! - packet **encoders** for the protocol facts the decoders in [`crate::ganglion`] and
//!   [`crate::muse`] read (Ganglion firmware 2 and 3, Muse EEG, accel/gyro and PPG);
//! - the **signal** a simulated device sends, as public functions of the sample index, so
//!   tests can check decoded values exactly;
//! - [`SimSettings`], read from `other_info` (`transport=simulated`, fault knobs);
//! - [`simulated_device`]: a [`FakePeripheral`] plus one tokio task that streams, between
//!   the board's start and stop commands, every packet due at the device's real rates.
//!
//! It does not own the board's lifecycle, reconnection or gap marking ([`crate::BleBoard`]
//! does that, over this device exactly as over a real one), and it does not simulate
//! radio loss, reordering, impedance readings (Ganglion `z`) or battery levels.
//!
//! **The stream.** Each start command begins a fresh stream: sample index `n` counts from
//! 0, Ganglion packet ids from 0 (firmware 3) or the raw packet 0 then 1–100 (firmware 2,
//! 18-bit deltas with accel), Muse package numbers from 0 (each stream separately). A
//! packet is sent once its last sample is due, i.e. sample `n` of a stream at rate `r`
//! is never sent before `(n + 1) / r` s after the device saw the start command.
//! Muse package numbers are 16-bit and wrap after 65536 packets; `n` does not.

use crate::board::{
    runtime, BleSettings, GANGLION_NOTIFY, GANGLION_WRITE, MUSE_ACCEL, MUSE_CONTROL, MUSE_EEG, MUSE_GYRO, MUSE_PPG,
};
use crate::fake::FakePeripheral;
use crate::ganglion::{GanglionFirmware, GANGLION_ACCEL_SCALE, GANGLION_EEG_SCALE};
use crate::muse::{eeg_microvolts, encode_command, MUSE_ACCEL_SCALE, MUSE_GYRO_SCALE};
use board_api::{descriptor, BoardError, BoardId, ExitCode, InputParams, Preset, Result};
use std::f64::consts::TAU;
use std::sync::{Arc, Weak};
use std::time::Duration;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Encoders
// ---------------------------------------------------------------------------------------

/// Writes the low `width` bits of `value` MSB-first into `bytes` from bit `first_bit`
/// (bit 0 is the MSB of byte 0): the inverse of [`crate::ganglion::read_signed_bits`].
fn write_bits(bytes: &mut [u8], first_bit: usize, width: usize, value: i32) {
    let bits = value as u32;
    for i in 0..width {
        let at = first_bit + i;
        if (bits >> (width - 1 - i)) & 1 == 1 {
            bytes[at / 8] |= 1 << (7 - at % 8);
        } else {
            bytes[at / 8] &= !(1 << (7 - at % 8));
        }
    }
}

/// The range of a `width`-bit two's-complement value.
fn fits(value: i32, width: usize) -> bool {
    let limit = 1i32 << (width - 1);
    (-limit..limit).contains(&value)
}

const ADC_MIN: i32 = -(1 << 23);
const ADC_MAX: i32 = (1 << 23) - 1;

/// A Ganglion firmware 3 packet: two samples of four channels as 24-bit ADC counts.
/// Ids 0–99 carry 18-bit values (`counts >> 6`) and `accel` in byte 19; ids 100–199
/// carry 19-bit values (`counts >> 5`) and no accel. The decoder shifts back, so a count
/// comes back exactly when it is a multiple of 64 (18-bit) or 32 (19-bit); otherwise its
/// low bits are lost (rounded toward −∞). Counts outside the 24-bit range are clamped.
pub fn ganglion_v3_packet(id: u8, samples: [[i32; 4]; 2], accel: i8) -> [u8; 20] {
    let (width, shift) = if id < 100 { (18, 6) } else { (19, 5) };
    let mut packet = [0u8; 20];
    packet[0] = id;
    for (k, value) in samples.iter().flatten().copied().enumerate() {
        write_bits(&mut packet, 8 + k * width, width, value.clamp(ADC_MIN, ADC_MAX) >> shift);
    }
    if width == 18 {
        packet[19] = accel as u8;
    }
    packet
}

/// A Ganglion firmware 2 raw packet (id 0): one sample of four 24-bit counts, clamped to
/// the 24-bit range; exact otherwise.
pub fn ganglion_v2_raw_packet(sample: [i32; 4]) -> [u8; 20] {
    let mut packet = [0u8; 20];
    for (ch, value) in sample.into_iter().enumerate() {
        write_bits(&mut packet, 8 + 24 * ch, 24, value.clamp(ADC_MIN, ADC_MAX));
    }
    packet
}

/// A Ganglion firmware 2 delta packet: two samples following `previous`, sent as
/// `previous − value` deltas, 18-bit for ids 1–100 (with `accel` in byte 19) and 19-bit for
/// ids 101–200. Exact; `None` when a delta does not fit the width (a real device would
/// not send such a jump as deltas).
pub fn ganglion_v2_delta_packet(id: u8, previous: [i32; 4], samples: [[i32; 4]; 2], accel: i8) -> Option<[u8; 20]> {
    let width = if id <= 100 { 18 } else { 19 };
    let mut packet = [0u8; 20];
    packet[0] = id;
    let mut base = previous;
    for (s, sample) in samples.iter().enumerate() {
        for ch in 0..4 {
            let delta = base[ch].checked_sub(sample[ch])?;
            if !fits(delta, width) {
                return None;
            }
            write_bits(&mut packet, 8 + (4 * s + ch) * width, width, delta);
        }
        base = *sample;
    }
    if width == 18 {
        packet[19] = accel as u8;
    }
    Some(packet)
}

/// A Muse EEG notification: the package number then twelve 12-bit samples (values above
/// 4095 keep their low 12 bits). Exact.
pub fn muse_eeg_packet(package: u16, raw: &[u16; 12]) -> [u8; 20] {
    let mut packet = [0u8; 20];
    packet[..2].copy_from_slice(&package.to_be_bytes());
    for (k, value) in raw.iter().enumerate() {
        write_bits(&mut packet, 16 + 12 * k, 12, i32::from(*value & 0x0FFF));
    }
    packet
}

/// A Muse accelerometer or gyroscope notification: the package number then three samples
/// of x, y, z as big-endian int16 counts. Exact.
pub fn muse_imu_packet(package: u16, samples: &[[i16; 3]; 3]) -> [u8; 20] {
    let mut packet = [0u8; 20];
    packet[..2].copy_from_slice(&package.to_be_bytes());
    for (k, value) in samples.iter().flatten().enumerate() {
        packet[2 + 2 * k..4 + 2 * k].copy_from_slice(&value.to_be_bytes());
    }
    packet
}

/// A Muse PPG notification: the package number then six 24-bit big-endian unsigned
/// values (values above 2^24 − 1 keep their low 24 bits). Exact.
pub fn muse_ppg_packet(package: u16, values: &[u32; 6]) -> [u8; 20] {
    let mut packet = [0u8; 20];
    packet[..2].copy_from_slice(&package.to_be_bytes());
    for (k, value) in values.iter().enumerate() {
        packet[2 + 3 * k..5 + 3 * k].copy_from_slice(&value.to_be_bytes()[1..]);
    }
    packet
}

// ---------------------------------------------------------------------------------------
// The signal
// ---------------------------------------------------------------------------------------

/// `sin(2π · frequency · n / rate)`, computed from `n · frequency mod rate` so that it is
/// exactly periodic and as precise at hour 10 as at second 1.
fn sine(n: u64, frequency: u32, rate: u32) -> f64 {
    let phase = (n * u64::from(frequency)) % u64::from(rate);
    (TAU * phase as f64 / f64::from(rate)).sin()
}

/// Ganglion EEG channels 1–4: (frequency in Hz, amplitude in µV) of each sine.
pub const GANGLION_SIGNAL: [(u32, f64); 4] = [(10, 50.0), (6, 30.0), (15, 20.0), (22, 10.0)];
/// The simulated Ganglion's counts are multiples of this, so both firmware 3 packet
/// widths (18-bit `<< 6`, 19-bit `<< 5`) carry them exactly.
pub const GANGLION_SIGNAL_GRID: i32 = 64;
const GANGLION_RATE: u32 = 200;
/// The accelerometer bytes of the simulated Ganglion: x, y, and the z byte as sent (the
/// decoder negates z). A board lying still, tilted a little: see [`ganglion_accel_g`].
pub const GANGLION_ACCEL_BYTES: [i8; 3] = [5, -3, -62];

/// ADC counts of Ganglion sample `n` (200 Hz) on the four channels.
pub fn ganglion_counts(n: u64) -> [i32; 4] {
    std::array::from_fn(|ch| {
        let (frequency, microvolts) = GANGLION_SIGNAL[ch];
        let steps = microvolts / GANGLION_EEG_SCALE / f64::from(GANGLION_SIGNAL_GRID);
        (steps * sine(n, frequency, GANGLION_RATE)).round() as i32 * GANGLION_SIGNAL_GRID
    })
}

/// What the decoder yields for Ganglion sample `n` in rows 1–4 (µV), bit for bit.
pub fn ganglion_microvolts(n: u64) -> [f64; 4] {
    ganglion_counts(n).map(|c| f64::from(c) * GANGLION_EEG_SCALE)
}

/// What the decoder yields in rows 5–7 (g) once the device has sent each axis.
pub fn ganglion_accel_g() -> [f64; 3] {
    let [x, y, z] = GANGLION_ACCEL_BYTES.map(|b| f64::from(b) * GANGLION_ACCEL_SCALE);
    [x, y, -z]
}

/// The accel byte a Ganglion packet with this id carries (`id % 10`: 0 z, 1 y, 2 x).
fn ganglion_accel_byte(id: u8) -> i8 {
    match id % 10 {
        0 => GANGLION_ACCEL_BYTES[2],
        1 => GANGLION_ACCEL_BYTES[1],
        2 => GANGLION_ACCEL_BYTES[0],
        _ => 0,
    }
}

/// Muse EEG electrodes TP9, AF7, AF8, TP10, right aux: (frequency in Hz, amplitude in
/// counts of 125/256 µV) of each sine around the mid-scale 0x800.
pub const MUSE_EEG_SIGNAL: [(u32, f64); 5] = [(10, 100.0), (6, 60.0), (15, 40.0), (22, 20.0), (3, 80.0)];
const MUSE_EEG_RATE: u32 = 256;
const MUSE_IMU_RATE: u32 = 52;
const MUSE_PPG_RATE: u32 = 64;

/// The 12-bit value of Muse EEG sample `n` (256 Hz) on `electrode` (0–4).
pub fn muse_eeg_raw(electrode: usize, n: u64) -> u16 {
    let (frequency, counts) = MUSE_EEG_SIGNAL[electrode];
    (2048.0 + (counts * sine(n, frequency, MUSE_EEG_RATE)).round()) as u16
}

/// What the decoder yields for Muse EEG sample `n` on `electrode` (µV), bit for bit.
pub fn muse_eeg_microvolts(electrode: usize, n: u64) -> f64 {
    eeg_microvolts(muse_eeg_raw(electrode, n))
}

/// Accelerometer counts of Muse IMU sample `n` (52 Hz): a slow sway around 1 g on z
/// (x 0.1 g at 1 Hz, y 0.05 g at 2 Hz).
pub fn muse_accel_counts(n: u64) -> [i16; 3] {
    [
        (1638.0 * sine(n, 1, MUSE_IMU_RATE)).round() as i16,
        (819.0 * sine(n, 2, MUSE_IMU_RATE)).round() as i16,
        16384,
    ]
}

/// Gyroscope counts of Muse IMU sample `n` (52 Hz): about 10 °/s sines at 1, 2, 3 Hz.
pub fn muse_gyro_counts(n: u64) -> [i16; 3] {
    std::array::from_fn(|axis| (1338.0 * sine(n, axis as u32 + 1, MUSE_IMU_RATE)).round() as i16)
}

/// What the decoder yields for Muse IMU sample `n`: accel x, y, z (g) then gyro x, y, z
/// (°/s), rows 1–6 of the auxiliary preset, bit for bit.
pub fn muse_imu_values(n: u64) -> [f64; 6] {
    let accel = muse_accel_counts(n).map(|c| f64::from(c) * MUSE_ACCEL_SCALE);
    let gyro = muse_gyro_counts(n).map(|c| f64::from(c) * MUSE_GYRO_SCALE);
    [accel[0], accel[1], accel[2], gyro[0], gyro[1], gyro[2]]
}

/// The raw value of Muse PPG sample `n` (64 Hz) on `channel` (0–2): a 1 Hz pulse of
/// ±20000 on a baseline of 200000 + 50000 × channel. Decoded exactly as this number.
pub fn muse_ppg_value(channel: usize, n: u64) -> u32 {
    let baseline = 200_000.0 + 50_000.0 * channel as f64;
    (baseline + (20_000.0 * sine(n, 1, MUSE_PPG_RATE)).round()) as u32
}

// ---------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------

/// How a simulated device behaves, from `params.other_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimSettings {
    /// `sim_disconnect_every_ms`: the device drops the link after this much streaming
    /// (counted from each start command) and accepts the reconnect at once.
    pub disconnect_every: Option<Duration>,
    /// `sim_stall_every_ms`: the device goes silent after this much streaming, staying
    /// connected, until the board writes the start command again.
    pub stall_every: Option<Duration>,
}

const TRANSPORT_KEY: &str = "transport";
const SIM_KEYS: [&str; 2] = ["sim_disconnect_every_ms", "sim_stall_every_ms"];

impl SimSettings {
    /// `Ok(Some(..))` for `transport=simulated`; `Ok(None)` when `transport` is absent or
    /// `bluetooth` (the system's Bluetooth). Anything else, a bad number, or a `sim_*`
    /// key without `transport=simulated` is INVALID_ARGUMENTS_ERROR naming the key.
    pub fn from_params(params: &InputParams) -> Result<Option<SimSettings>> {
        let simulated = match params.other_info_setting(TRANSPORT_KEY) {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("bluetooth") => false,
            Some(v) if v.eq_ignore_ascii_case("simulated") => true,
            Some(v) => {
                return Err(BoardError::invalid_arguments(format!(
                    "other_info: {TRANSPORT_KEY}={v:?} is not a BLE transport; write {TRANSPORT_KEY}=bluetooth \
                     (the system's Bluetooth, the default) or {TRANSPORT_KEY}=simulated (a simulated device, no hardware)"
                )))
            }
        };
        let every = |key: &str| -> Result<Option<Duration>> {
            match params.other_info_setting(key) {
                None => Ok(None),
                Some(v) => match v.parse::<u64>() {
                    Ok(ms) if ms > 0 => Ok(Some(Duration::from_millis(ms))),
                    _ => Err(BoardError::invalid_arguments(format!(
                        "other_info: {key}={v:?} must be a whole number of milliseconds above 0, e.g. {key}=500"
                    ))),
                },
            }
        };
        let settings = SimSettings { disconnect_every: every(SIM_KEYS[0])?, stall_every: every(SIM_KEYS[1])? };
        if simulated {
            return Ok(Some(settings));
        }
        if let Some(key) = SIM_KEYS.iter().find(|k| params.other_info_setting(k).is_some()) {
            return Err(BoardError::invalid_arguments(format!(
                "other_info: {key} only applies to a simulated device; add {TRANSPORT_KEY}=simulated or remove {key}"
            )));
        }
        Ok(None)
    }

    /// The first fault due in a stream, and when.
    fn fault(&self) -> Option<(Duration, Fault)> {
        match (self.disconnect_every, self.stall_every) {
            (Some(d), Some(s)) if s < d => Some((s, Fault::Stall)),
            (Some(d), _) => Some((d, Fault::Disconnect)),
            (None, Some(s)) => Some((s, Fault::Stall)),
            (None, None) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Disconnect,
    Stall,
}

// ---------------------------------------------------------------------------------------
// The device
// ---------------------------------------------------------------------------------------

/// How often the device task wakes: coarse, because every packet due since the last
/// wake-up goes out at once (a real device batches notifications per connection event).
pub const SIM_TICK: Duration = Duration::from_millis(20);

/// One packet stream of a device: `samples_per_packet` samples at `rate` Hz.
#[derive(Debug, Clone, Copy)]
struct Cadence {
    rate: u32,
    samples_per_packet: u64,
}

impl Cadence {
    fn new(board: BoardId, preset: Preset, samples_per_packet: u64) -> Result<Cadence> {
        Ok(Cadence { rate: descriptor(board, preset)?.sampling_rate, samples_per_packet })
    }

    /// Packets whose last sample is due `elapsed` after the start.
    fn packets_due(&self, elapsed: Duration) -> u64 {
        samples_due(elapsed, self.rate) / self.samples_per_packet
    }

    /// When packet `k` is due, in ns since the start (for ordering packets of streams).
    fn due_at(&self, k: u64) -> u128 {
        nanos_of_sample_end((k + 1) * self.samples_per_packet, self.rate)
    }
}

/// Samples acquired `elapsed` after the start: sample `n` counts once `(n + 1) / rate` s
/// have passed.
fn samples_due(elapsed: Duration, rate: u32) -> u64 {
    (elapsed.as_nanos() * u128::from(rate) / 1_000_000_000) as u64
}

/// When the `end`-th sample (exclusive) is acquired, in ns since the start (rounded up).
fn nanos_of_sample_end(end: u64, rate: u32) -> u128 {
    (u128::from(end) * 1_000_000_000).div_ceil(u128::from(rate))
}

/// The packet streams of one device and what has been sent of each since the last start.
/// Pure: elapsed time in, packets out, so schedules are tested without a clock.
#[derive(Debug, Clone)]
struct DeviceStreams {
    wire: Wire,
    sent: [u64; 3],
}

#[derive(Debug, Clone)]
enum Wire {
    Ganglion { firmware: GanglionFirmware, rate: u32 },
    Muse { eeg: Cadence, imu: Cadence, ppg: Cadence, aux_electrode: bool },
}

/// A packet and when it is due (ns since the start).
type DuePacket = (u128, Uuid, Vec<u8>);

impl DeviceStreams {
    fn new(board: BoardId, firmware: GanglionFirmware) -> Result<DeviceStreams> {
        let wire = match board {
            BoardId::GanglionNative => {
                Wire::Ganglion { firmware, rate: descriptor(board, Preset::Default)?.sampling_rate }
            }
            BoardId::Muse2 | BoardId::MuseS => Wire::Muse {
                eeg: Cadence::new(board, Preset::Default, 12)?,
                imu: Cadence::new(board, Preset::Auxiliary, 3)?,
                ppg: Cadence::new(board, Preset::Ancillary, 6)?,
                aux_electrode: false,
            },
            other => {
                return Err(BoardError::new(
                    ExitCode::UnsupportedBoardError,
                    format!("board {other} has no simulated BLE device (simulated: ganglion_native (46), muse_2 (38), muse_s (39))"),
                ))
            }
        };
        Ok(DeviceStreams { wire, sent: [0; 3] })
    }

    /// A new stream: counters from 0; a Muse streams the right aux electrode if its last
    /// preset command was `p50`.
    fn restart(&mut self, aux_electrode: bool) {
        self.sent = [0; 3];
        if let Wire::Muse { aux_electrode: aux, .. } = &mut self.wire {
            *aux = aux_electrode;
        }
    }

    /// Every packet due by `elapsed` and not yet sent, in the order they fall due.
    fn packets_until(&mut self, elapsed: Duration, out: &mut Vec<DuePacket>) {
        let first = out.len();
        match self.wire.clone() {
            Wire::Ganglion { firmware, rate } => self.ganglion_until(firmware, rate, elapsed, out),
            Wire::Muse { eeg, imu, ppg, aux_electrode } => {
                let electrodes = if aux_electrode { 5 } else { 4 };
                for k in self.sent[0]..eeg.packets_due(elapsed) {
                    for (electrode, characteristic) in MUSE_EEG.iter().enumerate().take(electrodes) {
                        let raw = std::array::from_fn(|i| muse_eeg_raw(electrode, k * 12 + i as u64));
                        out.push((eeg.due_at(k), *characteristic, muse_eeg_packet(k as u16, &raw).to_vec()));
                    }
                    self.sent[0] = k + 1;
                }
                for k in self.sent[1]..imu.packets_due(elapsed) {
                    let accel = std::array::from_fn(|i| muse_accel_counts(k * 3 + i as u64));
                    let gyro = std::array::from_fn(|i| muse_gyro_counts(k * 3 + i as u64));
                    out.push((imu.due_at(k), MUSE_ACCEL, muse_imu_packet(k as u16, &accel).to_vec()));
                    out.push((imu.due_at(k), MUSE_GYRO, muse_imu_packet(k as u16, &gyro).to_vec()));
                    self.sent[1] = k + 1;
                }
                for k in self.sent[2]..ppg.packets_due(elapsed) {
                    for (channel, characteristic) in MUSE_PPG.iter().enumerate() {
                        let values = std::array::from_fn(|i| muse_ppg_value(channel, k * 6 + i as u64));
                        out.push((ppg.due_at(k), *characteristic, muse_ppg_packet(k as u16, &values).to_vec()));
                    }
                    self.sent[2] = k + 1;
                }
            }
        }
        // Stable: packets due at the same moment keep their order (e.g. accel before gyro).
        out[first..].sort_by_key(|(due, _, _)| *due);
    }

    /// Firmware 3: packet `k` holds samples `2k, 2k + 1`, id `k % 200`. Firmware 2: packet
    /// 0 is the raw sample 0, packet `k ≥ 1` holds samples `2k − 1, 2k` as 18-bit deltas
    /// with ids cycling 1–100.
    fn ganglion_until(&mut self, firmware: GanglionFirmware, rate: u32, elapsed: Duration, out: &mut Vec<DuePacket>) {
        let samples = samples_due(elapsed, rate);
        let last_sample_of = |k: u64| match firmware {
            GanglionFirmware::V3 => 2 * k + 1,
            GanglionFirmware::V2 => 2 * k,
        };
        while last_sample_of(self.sent[0]) < samples {
            let k = self.sent[0];
            let end = last_sample_of(k) + 1;
            let packet = match firmware {
                GanglionFirmware::V3 => {
                    let id = (k % 200) as u8;
                    ganglion_v3_packet(id, [ganglion_counts(2 * k), ganglion_counts(2 * k + 1)], ganglion_accel_byte(id))
                }
                GanglionFirmware::V2 if k == 0 => ganglion_v2_raw_packet(ganglion_counts(0)),
                GanglionFirmware::V2 => {
                    let id = ((k - 1) % 100 + 1) as u8;
                    let pair = [ganglion_counts(2 * k - 1), ganglion_counts(2 * k)];
                    ganglion_v2_delta_packet(id, ganglion_counts(2 * k - 2), pair, ganglion_accel_byte(id))
                        .expect("the simulated signal changes by far less than an 18-bit delta per sample")
                }
            };
            out.push((nanos_of_sample_end(end, rate), GANGLION_NOTIFY, packet.to_vec()));
            self.sent[0] = k + 1;
        }
    }
}

/// Name prefix, characteristics and stream commands of a simulated board.
struct DeviceKind {
    name: &'static str,
    characteristics: Vec<Uuid>,
    start: Vec<u8>,
    stop: Vec<u8>,
}

fn device_kind(board: BoardId) -> DeviceKind {
    match board {
        BoardId::GanglionNative => DeviceKind {
            name: "Ganglion-5131",
            characteristics: vec![GANGLION_NOTIFY, GANGLION_WRITE],
            start: b"b".to_vec(),
            stop: b"s".to_vec(),
        },
        _ => {
            let mut characteristics = vec![MUSE_CONTROL, MUSE_ACCEL, MUSE_GYRO];
            characteristics.extend(MUSE_EEG);
            characteristics.extend(MUSE_PPG);
            DeviceKind {
                name: if board == BoardId::MuseS { "MuseS-5131" } else { "Muse-5131" },
                characteristics,
                start: encode_command("d"),
                stop: encode_command("h"),
            }
        }
    }
}

/// A simulated device for `board`: a [`FakePeripheral`] that advertises a plausible name
/// (`Ganglion-5131`, `Muse-5131`, `MuseS-5131`, or `params.serial_number` when given) at
/// `params.mac_address` (or `02:53:49:4D:00:<board id>`), has the board's real
/// characteristics, and streams the documented signal between the board's start and stop
/// commands while connected, with the faults `sim` asks for.
///
/// The stream comes from one task on [`runtime()`] waking every [`SIM_TICK`]; it holds the
/// device weakly and ends once the last `Arc` (the board's transport) is dropped.
/// UNSUPPORTED_BOARD_ERROR for a board that is not a BLE board; INVALID_ARGUMENTS_ERROR
/// for a bad `firmware` setting.
pub fn simulated_device(board: BoardId, params: &InputParams, sim: &SimSettings) -> Result<Arc<FakePeripheral>> {
    let firmware = BleSettings::from_params(params)?.ganglion_firmware;
    let streams = DeviceStreams::new(board, firmware)?;
    let kind = device_kind(board);
    let address = match params.mac_address.trim() {
        "" => format!("02:53:49:4D:00:{:02X}", board.id()),
        mac => mac.to_owned(),
    };
    let name = match params.serial_number.trim() {
        "" => kind.name.to_owned(),
        serial => serial.to_owned(),
    };
    let device = Arc::new(FakePeripheral::new(&address, &name));
    device.with_characteristics(&kind.characteristics);
    device.stream_on_write(&kind.start, &kind.stop);
    tracing::info!(board = %board, %address, %name, disconnect_every_ms = ?sim.disconnect_every.map(|d| d.as_millis()),
        stall_every_ms = ?sim.stall_every.map(|d| d.as_millis()), "simulated BLE device created");
    let task = DeviceTask { device: Arc::downgrade(&device), board, streams, sim: sim.clone() };
    runtime().spawn(task.run());
    Ok(device)
}

struct DeviceTask {
    device: Weak<FakePeripheral>,
    board: BoardId,
    streams: DeviceStreams,
    sim: SimSettings,
}

/// Whether the last preset command the board wrote to a Muse was `p50` (aux electrode on).
fn muse_aux_requested(device: &FakePeripheral) -> bool {
    let is_preset = |w: &[u8]| w.len() > 3 && w[1] == b'p' && w[2..w.len() - 1].iter().all(u8::is_ascii_digit);
    let last_preset = device.writes().into_iter().rev().find(|(c, w)| *c == MUSE_CONTROL && is_preset(w));
    last_preset.is_some_and(|(_, w)| w == encode_command("p50"))
}

impl DeviceTask {
    async fn run(mut self) {
        let mut tick = tokio::time::interval(SIM_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen_starts = 0;
        let mut started_at = None;
        let mut silent = false;
        let mut due = Vec::new();
        loop {
            tick.tick().await;
            let Some(device) = self.device.upgrade() else {
                tracing::debug!(board = %self.board, "simulated BLE device dropped; its task ends");
                return;
            };
            let starts = device.stream_starts();
            if starts != seen_starts {
                seen_starts = starts;
                started_at = Some(tokio::time::Instant::now());
                silent = false;
                self.streams.restart(muse_aux_requested(&device));
            }
            let Some(started_at) = started_at else { continue };
            if silent || !device.is_streaming() {
                continue;
            }
            let elapsed = started_at.elapsed();
            let fault = self.sim.fault().filter(|(at, _)| elapsed >= *at);
            let horizon = fault.map_or(elapsed, |(at, _)| at);
            self.streams.packets_until(horizon, &mut due);
            let delivered = device.notify_if_streaming(starts, due.drain(..).map(|(_, c, v)| (c, v)));
            match fault {
                Some((at, Fault::Disconnect)) if delivered => {
                    tracing::info!(board = %self.board, after_ms = at.as_millis() as u64, "simulated device drops the link");
                    device.disconnect_now();
                }
                Some((at, Fault::Stall)) if delivered => {
                    tracing::info!(board = %self.board, after_ms = at.as_millis() as u64, "simulated device goes silent");
                    silent = true;
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ganglion::GanglionDecoder;
    use crate::muse::{parse_eeg, parse_imu, parse_ppg, MuseDecoder, MuseSource, PresetSamples};

    fn params(other_info: &str) -> InputParams {
        InputParams { other_info: other_info.into(), ..InputParams::default() }
    }

    /// EEG rows 1–4 of decoded Ganglion samples.
    fn decoded_eeg(samples: &[f64]) -> Vec<[f64; 4]> {
        samples.chunks_exact(15).map(|s| [s[1], s[2], s[3], s[4]]).collect()
    }

    #[test]
    fn ganglion_v3_round_trip_is_exact_on_the_grid_and_truncates_off_it() {
        let on_grid = [[64 * 1000, -64 * 2000, 64 * 131_071, -64 * 131_072], [0, 64, -64, 64 * 7]];
        // Off the grid: the low 6 (18-bit) or 5 (19-bit) bits are lost, toward −∞.
        let off_grid = [[1000, -1000, 8_388_607, -8_388_608], [63, -1, 12_345, -54_321]];
        for (id, shift) in [(7u8, 6), (150u8, 5)] {
            let mut decoder = GanglionDecoder::new(GanglionFirmware::V3);
            let mut out = Vec::new();
            decoder.decode_packet(&ganglion_v3_packet(id, on_grid, 0), 0.0, &mut out);
            let expected: Vec<[f64; 4]> = on_grid.iter().map(|s| s.map(|c| f64::from(c) * GANGLION_EEG_SCALE)).collect();
            assert_eq!(decoded_eeg(&out), expected, "id {id}");

            out.clear();
            decoder.decode_packet(&ganglion_v3_packet(id + 1, off_grid, 0), 0.0, &mut out);
            let expected: Vec<[f64; 4]> =
                off_grid.iter().map(|s| s.map(|c| f64::from((c >> shift) << shift) * GANGLION_EEG_SCALE)).collect();
            assert_eq!(decoded_eeg(&out), expected, "id {}", id + 1);
            assert_eq!(decoder.counters().invalid_packets, 0);
        }
    }

    #[test]
    fn ganglion_v3_accel_bytes_decode_to_the_documented_g() {
        let mut decoder = GanglionDecoder::new(GanglionFirmware::V3);
        let mut out = Vec::new();
        for id in [10u8, 11, 12] {
            out.clear();
            decoder.decode_packet(&ganglion_v3_packet(id, [[0; 4]; 2], ganglion_accel_byte(id)), 0.0, &mut out);
        }
        assert_eq!(&out[5..8], &ganglion_accel_g());
        assert_eq!(ganglion_accel_g(), [0.08, -0.048, 0.992]);
    }

    #[test]
    fn ganglion_v2_round_trip_is_exact() {
        let samples: Vec<[i32; 4]> = (0..9).map(|n| ganglion_counts(n).map(|c| c + n as i32 * 3 - 7)).collect();
        let mut decoder = GanglionDecoder::new(GanglionFirmware::V2);
        let mut out = Vec::new();
        decoder.decode_packet(&ganglion_v2_raw_packet(samples[0]), 0.0, &mut out);
        for (k, id) in [(1usize, 1u8), (3, 100), (5, 101), (7, 200)] {
            let packet = ganglion_v2_delta_packet(id, samples[k - 1], [samples[k], samples[k + 1]], 0).unwrap();
            decoder.decode_packet(&packet, 0.0, &mut out);
        }
        let expected: Vec<[f64; 4]> = samples.iter().map(|s| s.map(|c| f64::from(c) * GANGLION_EEG_SCALE)).collect();
        assert_eq!(decoded_eeg(&out), expected);
        assert_eq!(ganglion_v2_delta_packet(1, [0; 4], [[1 << 17, 0, 0, 0], [0; 4]], 0), None, "too big for 18 bits");
        assert!(ganglion_v2_delta_packet(101, [0; 4], [[1 << 17, 0, 0, 0], [1 << 17; 4]], 0).is_some(), "fits 19 bits");
    }

    #[test]
    fn muse_packets_round_trip_exactly() {
        let raw: [u16; 12] = std::array::from_fn(|i| [0u16, 1, 0x7FF, 0x800, 0x801, 0xFFE][i % 6] + (i / 6) as u16);
        let (package, values) = parse_eeg(&muse_eeg_packet(0xBEEF, &raw)).unwrap();
        assert_eq!(package, 0xBEEF);
        assert_eq!(values, raw.map(eeg_microvolts));

        let imu = [[i16::MIN, -1, 0], [1, 16384, i16::MAX], [-16384, 300, -300]];
        let (package, values) = parse_imu(&muse_imu_packet(7, &imu), MUSE_ACCEL_SCALE).unwrap();
        assert_eq!(package, 7);
        assert_eq!(values, imu.map(|s| s.map(|c| f64::from(c) * MUSE_ACCEL_SCALE)));

        let ppg = [0, 1, 0xFF_FFFF, 200_000, 0x12_3456, 65_536];
        let (package, values) = parse_ppg(&muse_ppg_packet(65_535, &ppg)).unwrap();
        assert_eq!(package, 65_535);
        assert_eq!(values, ppg.map(f64::from));
    }

    #[test]
    fn the_documented_signal_stays_in_range_and_is_periodic() {
        for n in 0..800 {
            assert_eq!(ganglion_counts(n), ganglion_counts(n + 400), "2 s period at 200 Hz");
            assert!(ganglion_counts(n).iter().all(|c| c % GANGLION_SIGNAL_GRID == 0));
            for e in 0..5 {
                assert!(muse_eeg_raw(e, n) < 4096);
                assert_eq!(muse_eeg_raw(e, n), muse_eeg_raw(e, n + 256));
            }
            assert!((0..3).all(|c| muse_ppg_value(c, n) < 1 << 24));
        }
        // Channel 1 is a 50 µV, 10 Hz sine: a peak 5 samples in, at the 64-count grid's step.
        assert!((ganglion_microvolts(5)[0] - 50.0).abs() <= 64.0 * GANGLION_EEG_SCALE);
        assert_eq!(ganglion_microvolts(0), [0.0; 4]);
    }

    fn decode_all(board: BoardId, firmware: GanglionFirmware, aux: bool, packets: &[DuePacket]) -> PresetSamples {
        let mut out = PresetSamples::default();
        if board == BoardId::GanglionNative {
            let mut decoder = GanglionDecoder::new(firmware);
            for (_, _, p) in packets {
                decoder.decode_packet(p, 1.0, &mut out.default);
            }
            assert_eq!(decoder.counters().dropped_samples, 0);
        } else {
            let mut decoder = MuseDecoder::new();
            decoder.set_aux_electrode(aux);
            for (_, c, p) in packets {
                let source = match MUSE_EEG.iter().position(|e| e == c) {
                    Some(i) => MuseSource::Eeg(i),
                    None if *c == MUSE_ACCEL => MuseSource::Accel,
                    None if *c == MUSE_GYRO => MuseSource::Gyro,
                    None => MuseSource::Ppg(MUSE_PPG.iter().position(|e| e == c).unwrap()),
                };
                decoder.decode(source, p, 1.0, &mut out);
            }
            assert_eq!(decoder.counters().dropped_samples, 0);
        }
        out
    }

    #[test]
    fn ganglion_streams_are_due_at_200_hz_and_decode_to_the_signal() {
        for firmware in [GanglionFirmware::V3, GanglionFirmware::V2] {
            let mut streams = DeviceStreams::new(BoardId::GanglionNative, firmware).unwrap();
            let mut packets = Vec::new();
            streams.packets_until(Duration::from_millis(4), &mut packets);
            assert_eq!(packets.len(), 0, "{firmware:?}: sample 0 is due at 5 ms");
            streams.packets_until(Duration::from_millis(6), &mut packets);
            let raw_first = usize::from(firmware == GanglionFirmware::V2);
            assert_eq!(packets.len(), raw_first, "{firmware:?}: only firmware 2 sends sample 0 alone");
            // In three uneven steps to 3 s: nothing is sent twice or skipped.
            for ms in [1000, 1001, 3000] {
                streams.packets_until(Duration::from_millis(ms), &mut packets);
            }
            let samples = decode_all(BoardId::GanglionNative, firmware, false, &packets).default;
            // 3 s at 200 Hz is 600 samples; firmware 2 still waits for sample 600 to pair with 599.
            let (count, last_due) = match firmware {
                GanglionFirmware::V3 => (600, 3_000_000_000),
                GanglionFirmware::V2 => (599, 2_995_000_000),
            };
            assert_eq!(samples.len() / 15, count, "{firmware:?}");
            let expected: Vec<[f64; 4]> = (0..count as u64).map(ganglion_microvolts).collect();
            assert_eq!(decoded_eeg(&samples), expected, "{firmware:?}");
            assert!(packets.windows(2).all(|w| w[0].0 < w[1].0), "in due order");
            assert_eq!(packets.last().unwrap().0, last_due);
            let ids: Vec<f64> = samples.chunks_exact(15).map(|s| s[0]).collect();
            match firmware {
                GanglionFirmware::V3 => assert_eq!((ids[0], ids[399], ids[400], ids[599]), (0.0, 199.0, 0.0, 99.0)),
                GanglionFirmware::V2 => assert_eq!((ids[0], ids[1], ids[200], ids[201]), (0.0, 1.0, 100.0, 1.0)),
            }
            // Accel arrives with ids ending in 0, 1, 2 (18-bit packets only).
            assert_eq!(&samples[15 * 598 + 5..15 * 598 + 8], &ganglion_accel_g());
        }
    }

    #[test]
    fn muse_streams_are_due_at_the_descriptor_rates_and_decode_to_the_signal() {
        for aux in [false, true] {
            let mut streams = DeviceStreams::new(BoardId::MuseS, GanglionFirmware::V3).unwrap();
            streams.restart(aux);
            let mut packets = Vec::new();
            streams.packets_until(Duration::from_millis(500), &mut packets);
            streams.packets_until(Duration::from_secs(3), &mut packets);
            let out = decode_all(BoardId::MuseS, GanglionFirmware::V3, aux, &packets);
            // 3 s: 768 EEG samples (64 packets), 156 IMU samples (52), 192 PPG samples (32).
            assert_eq!(out.default.len() / 8, 768);
            assert_eq!(out.auxiliary.len() / 9, 156);
            assert_eq!(out.ancillary.len() / 6, 192);
            assert_eq!(packets.len(), 64 * if aux { 5 } else { 4 } + 52 * 2 + 32 * 3);
            for (n, s) in out.default.chunks_exact(8).enumerate() {
                let n = n as u64;
                assert_eq!(s[0], (n / 12) as f64);
                let eeg: Vec<f64> = (0..4).map(|e| muse_eeg_microvolts(e, n)).collect();
                assert_eq!(&s[1..5], eeg.as_slice());
                assert_eq!(s[5], if aux { muse_eeg_microvolts(4, n) } else { 0.0 });
            }
            for (n, s) in out.auxiliary.chunks_exact(9).enumerate() {
                assert_eq!(s[0], (n / 3) as f64);
                assert_eq!(&s[1..7], &muse_imu_values(n as u64));
            }
            for (n, s) in out.ancillary.chunks_exact(6).enumerate() {
                assert_eq!(s[0], (n / 6) as f64);
                let ppg: Vec<f64> = (0..3).map(|c| f64::from(muse_ppg_value(c, n as u64))).collect();
                assert_eq!(&s[1..4], ppg.as_slice());
            }
        }
    }

    #[test]
    fn restart_begins_a_fresh_stream() {
        let mut streams = DeviceStreams::new(BoardId::Muse2, GanglionFirmware::V3).unwrap();
        let mut packets = Vec::new();
        streams.packets_until(Duration::from_secs(1), &mut packets);
        streams.restart(false);
        let mut again = Vec::new();
        streams.packets_until(Duration::from_secs(1), &mut again);
        assert_eq!(packets, again);
    }

    #[test]
    fn settings_select_the_transport_and_name_bad_values() {
        assert_eq!(SimSettings::from_params(&params("")).unwrap(), None);
        assert_eq!(SimSettings::from_params(&params("transport=bluetooth")).unwrap(), None);
        assert_eq!(SimSettings::from_params(&params("transport=simulated")).unwrap(), Some(SimSettings::default()));
        let s = SimSettings::from_params(&params("transport=simulated; sim_disconnect_every_ms=300, sim_stall_every_ms=50"))
            .unwrap()
            .unwrap();
        assert_eq!(s.disconnect_every, Some(Duration::from_millis(300)));
        assert_eq!(s.stall_every, Some(Duration::from_millis(50)));
        assert_eq!(s.fault(), Some((Duration::from_millis(50), Fault::Stall)), "the earlier fault comes first");

        let e = SimSettings::from_params(&params("transport=usb")).unwrap_err();
        assert_eq!(e.code, ExitCode::InvalidArgumentsError);
        assert!(e.message.contains("transport=\"usb\"") && e.message.contains("transport=simulated"), "{e}");
        for bad in ["0", "-5", "soon", ""] {
            let e = SimSettings::from_params(&params(&format!("transport=simulated;sim_stall_every_ms={bad}"))).unwrap_err();
            assert_eq!(e.code, ExitCode::InvalidArgumentsError);
            assert!(e.message.contains("sim_stall_every_ms=500"), "{e}");
        }
        let e = SimSettings::from_params(&params("sim_disconnect_every_ms=300")).unwrap_err();
        assert!(e.message.contains("add transport=simulated"), "{e}");
    }

    #[test]
    fn a_simulated_device_exists_only_for_ble_boards() {
        let e = simulated_device(BoardId::Cyton, &params(""), &SimSettings::default()).err().unwrap();
        assert_eq!(e.code, ExitCode::UnsupportedBoardError);
    }
}
