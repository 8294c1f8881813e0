//! The emulated packet stream, independent of any I/O.

use crate::EmulatorOptions;

/// Bytes in one Cyton packet.
pub const PACKET_LEN: usize = 33;

const HEADER: u8 = 0xA0;
const FOOTER_ACCEL: u8 = 0xC0;
const FOOTER_ANALOG: u8 = 0xC1;
const FOOTER_RAW_AUX: u8 = 0xC4;
/// Outside `0xC0..=0xC6`, so every decoder must reject the packet.
const BAD_FOOTER: u8 = 0xB5;

/// Generates the packets the emulated board streams, faults included, one at a time.
/// The emulator thread and [`packet_stream`] both use it, so they agree byte for byte.
#[derive(Debug, Clone)]
pub struct PacketSource {
    daisy: bool,
    firmware: crate::Firmware,
    faults: crate::Faults,
    phases: [f64; 16],
    rng: u64,
    generated: u64,
}

impl PacketSource {
    pub fn new(options: &EmulatorOptions) -> Self {
        let mut rng = options.seed ^ 0x5EED_C0FF_EE00_0000;
        let mut phases = [0.0; 16];
        for phase in &mut phases {
            *phase = unit(next(&mut rng)) * std::f64::consts::TAU;
        }
        PacketSource { daisy: options.daisy, firmware: options.firmware, faults: options.faults.clone(), phases, rng, generated: 0 }
    }

    /// Packets generated so far (the stall counts against this).
    pub fn packets_generated(&self) -> u64 {
        self.generated
    }

    /// Whether the stall fault has been reached: no more packets will come.
    pub fn stalled(&self) -> bool {
        self.faults.stall_after.is_some_and(|n| self.generated >= n)
    }

    /// Appends the next packet (and any fault bytes) to `out`; does nothing once stalled.
    pub fn next_packet(&mut self, out: &mut Vec<u8>) {
        if self.stalled() {
            return;
        }
        let k = self.generated;
        self.generated += 1;
        let ordinal = k + 1;
        let hits = |every: Option<u32>| every.is_some_and(|n| n > 0 && ordinal % u64::from(n) == 0);

        let mut packet = self.clean_packet(k);
        if hits(self.faults.bad_footer_every) {
            packet[PACKET_LEN - 1] = BAD_FOOTER;
        }
        if hits(self.faults.drop_byte_every) {
            // Never the header: a lost header would only look like garbage.
            packet.remove(2 + (k % 30) as usize);
        }
        out.extend_from_slice(&packet);
        if hits(self.faults.garbage_every) {
            let count = 3 + (k % 5) as usize;
            for _ in 0..count {
                let byte = next(&mut self.rng) as u8;
                out.push(if byte == HEADER { HEADER + 1 } else { byte });
            }
        }
    }

    fn clean_packet(&mut self, k: u64) -> Vec<u8> {
        if self.firmware == crate::Firmware::BrainFlowCi {
            return self.random_packet(k);
        }
        let mut p = Vec::with_capacity(PACKET_LEN);
        p.push(HEADER);
        // Daisy: packet k carries sample number k, so the even daisy half (channels 9-16)
        // comes first and the odd main-board half completes the sample, as on the
        // OpenBCI firmware and BrainFlow's CI emulator (counters from 0).
        let (sample_number, half, t, rate) = if self.daisy {
            (k % 256, ((k + 1) % 2) as usize, k / 2, 125.0)
        } else {
            (k % 256, 0, k, 250.0)
        };
        p.push(sample_number as u8);
        for c in 0..8 {
            let g = half * 8 + c;
            let amplitude = 20_000.0 * (g + 1) as f64;
            let freq = (g + 1) as f64;
            let angle = std::f64::consts::TAU * freq * (t as f64) / rate + self.phases[g];
            let noise = (next(&mut self.rng) % 101) as i64 - 50;
            let raw = (amplitude * angle.sin()).round() as i64 + noise;
            let raw = raw.clamp(-8_388_608, 8_388_607) as i32;
            let bytes = raw.to_be_bytes();
            p.extend_from_slice(&bytes[1..4]);
        }
        let footer = if k % 10 == 0 {
            let x = ((k / 10) % 2000) as i16 - 1000;
            for v in [x, 500 - x / 2, 8192] {
                p.extend_from_slice(&v.to_be_bytes());
            }
            FOOTER_ACCEL
        } else if k % 7 == 3 {
            for v in [(k % 1024) as i16, 512, 1023 - (k % 1024) as i16] {
                p.extend_from_slice(&v.to_be_bytes());
            }
            FOOTER_ANALOG
        } else if k % 11 == 5 {
            p.extend_from_slice(&(k as u32).to_be_bytes());
            p.extend_from_slice(&[0xA0, 0xC6]);
            FOOTER_RAW_AUX
        } else {
            p.extend_from_slice(&[0; 6]);
            FOOTER_ACCEL
        };
        p.push(footer);
        debug_assert_eq!(p.len(), PACKET_LEN);
        p
    }
}

impl PacketSource {
    /// BrainFlow's CI emulator's packet: header, a counter from 0, 30 random bytes for
    /// the channels and aux, footer `0xC0` (a random byte may be `0xA0`: decoders must
    /// take the packet as a whole, as they do).
    fn random_packet(&mut self, k: u64) -> Vec<u8> {
        let mut p = Vec::with_capacity(PACKET_LEN);
        p.push(HEADER);
        p.push((k % 256) as u8);
        while p.len() < PACKET_LEN - 1 {
            p.extend_from_slice(&next(&mut self.rng).to_le_bytes()[..(PACKET_LEN - 1 - p.len()).min(8)]);
        }
        p.push(FOOTER_ACCEL);
        p
    }
}

/// The exact bytes the emulator streams for its first `packets` packets after `b`, faults
/// applied (fewer packets if it stalls first).
pub fn packet_stream(options: &EmulatorOptions, packets: usize) -> Vec<u8> {
    let mut source = PacketSource::new(options);
    let mut out = Vec::with_capacity(packets * (PACKET_LEN + 8));
    for _ in 0..packets {
        source.next_packet(&mut out);
    }
    out
}

/// SplitMix64 step; private to the emulator (the synthetic boards have their own).
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(x: u64) -> f64 {
    (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Faults;

    #[test]
    fn clean_stream_is_whole_packets_with_valid_framing() {
        let bytes = packet_stream(&EmulatorOptions::cyton(3), 300);
        assert_eq!(bytes.len(), 300 * PACKET_LEN);
        for (k, p) in bytes.chunks(PACKET_LEN).enumerate() {
            assert_eq!(p[0], HEADER);
            assert_eq!(p[1], (k % 256) as u8);
            assert!((0xC0..=0xC6).contains(&p[32]));
        }
        assert!(bytes.chunks(PACKET_LEN).any(|p| p[32] == FOOTER_ANALOG));
        assert!(bytes.chunks(PACKET_LEN).any(|p| p[32] == FOOTER_ACCEL && p[26..32] != [0; 6]));
    }

    #[test]
    fn daisy_counts_from_zero_even_half_first() {
        let bytes = packet_stream(&EmulatorOptions::daisy(3), 4);
        let numbers: Vec<u8> = bytes.chunks(PACKET_LEN).map(|p| p[1]).collect();
        assert_eq!(numbers, vec![0, 1, 2, 3]);
    }

    #[test]
    fn brainflow_ci_packets_are_random_with_footer_c0() {
        let bytes = packet_stream(&EmulatorOptions::cyton(3).brainflow_ci(), 300);
        let packets: Vec<&[u8]> = bytes.chunks(PACKET_LEN).collect();
        assert_eq!(packets.len(), 300);
        assert!(packets.iter().enumerate().all(|(k, p)| p[0] == HEADER && p[1] == k as u8 && p[32] == FOOTER_ACCEL));
        // Random bytes: every value turns up somewhere in the channel and aux fields.
        let mut seen = [false; 256];
        packets.iter().for_each(|p| p[2..32].iter().for_each(|b| seen[usize::from(*b)] = true));
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = packet_stream(&EmulatorOptions::cyton(5), 50);
        assert_eq!(a, packet_stream(&EmulatorOptions::cyton(5), 50));
        assert_ne!(a, packet_stream(&EmulatorOptions::cyton(6), 50));
    }

    #[test]
    fn faults_change_the_stream_as_described() {
        let faults = Faults { bad_footer_every: Some(2), drop_byte_every: Some(3), garbage_every: Some(5), stall_after: Some(10) };
        let options = EmulatorOptions { faults, ..EmulatorOptions::cyton(1) };
        let bytes = packet_stream(&options, 100);
        // 10 packets, 3 of them one byte short, garbage after packets 5 and 10 (3+4 and 3+9%5 bytes).
        assert_eq!(bytes.len(), 10 * PACKET_LEN - 3 + (3 + 4) + (3 + 4));
        let clean = packet_stream(&EmulatorOptions::cyton(1), 2);
        assert_eq!(bytes[..PACKET_LEN], clean[..PACKET_LEN]);
        assert_eq!(bytes[PACKET_LEN + 32], BAD_FOOTER);
    }
}
