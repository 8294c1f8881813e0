//! Decoder vectors worked out by hand from the protocol facts: packets are built bit by
//! bit here, and the expected samples computed from the formulas, not from the decoder.

use ble_boards::ganglion::{
    read_signed_bits, GanglionDecoder, GanglionFirmware, GANGLION_ACCEL_SCALE, GANGLION_EEG_SCALE, GANGLION_ROWS,
};
use ble_boards::muse::{encode_command, parse_eeg, parse_imu, parse_ppg, MuseDecoder, MuseSource, PresetSamples};
use board_api::{descriptor, BoardId, Preset};

/// Packs `values` as `width`-bit two's complement, MSB first, after the id byte; pads to 20.
fn packet(id: u8, values: &[i32], width: usize, last_byte: Option<u8>) -> Vec<u8> {
    let mut bits = Vec::new();
    for v in values {
        for b in (0..width).rev() {
            bits.push(((*v >> b) & 1) as u8);
        }
    }
    let mut p = vec![0u8; 20];
    p[0] = id;
    for (i, bit) in bits.iter().enumerate() {
        p[1 + i / 8] |= bit << (7 - i % 8);
    }
    if let Some(b) = last_byte {
        p[19] = b;
    }
    p
}

fn sample(out: &[f64], i: usize) -> &[f64] {
    &out[i * GANGLION_ROWS..(i + 1) * GANGLION_ROWS]
}

fn raw_packet() -> Vec<u8> {
    // 1000, -1000, 2^23 - 1, -2^23 as 24-bit big-endian two's complement.
    let mut p = vec![0u8; 20];
    p[1..13].copy_from_slice(&[0x00, 0x03, 0xE8, 0xFF, 0xFC, 0x18, 0x7F, 0xFF, 0xFF, 0x80, 0x00, 0x00]);
    p
}

#[test]
fn ganglion_layout_matches_brainflow_descriptor() {
    let d = descriptor(BoardId::GanglionNative, Preset::Default).unwrap();
    assert_eq!(d.num_rows, GANGLION_ROWS);
    assert_eq!(d.timestamp_channel, 13);
    assert_eq!(d.marker_channel, 14);
    assert_eq!(d.sampling_rate, 200);
    let scale = 1.2e6 / (8388607.0 * 1.5 * 51.0);
    assert_eq!(GANGLION_EEG_SCALE, scale);
}

#[test]
fn hand_packed_bits_read_back() {
    // One 18-bit value of 1 sets bit 17 of the payload: byte 2, second-highest bit.
    let mut bytes = [0u8; 3];
    bytes[2] = 0x40;
    assert_eq!(read_signed_bits(&bytes, 0, 18), 1);
    // -1 in 18 bits: sixteen ones then two more at the top of the third byte.
    assert_eq!(read_signed_bits(&[0xFF, 0xFF, 0xC0], 0, 18), -1);
    // The smallest 19-bit value, -2^18.
    assert_eq!(read_signed_bits(&[0x80, 0x00, 0x00], 0, 19), -262_144);
}

#[test]
fn firmware_2_raw_then_18_bit_deltas() {
    let mut d = GanglionDecoder::new(GanglionFirmware::V2);
    let mut out = Vec::new();
    assert_eq!(d.decode_packet(&raw_packet(), 10.0, &mut out), 1);
    let s = sample(&out, 0);
    assert_eq!(s[0], 0.0);
    assert_eq!(&s[1..5], &[1000.0 * GANGLION_EEG_SCALE, -1000.0 * GANGLION_EEG_SCALE, 8388607.0 * GANGLION_EEG_SCALE, -8388608.0 * GANGLION_EEG_SCALE]);
    assert_eq!(s[13], 10.0);
    assert_eq!(s[14], 0.0);

    // Id 1, written out by hand: delta +1 on channel 1 of the first sample (payload bit 17:
    // packet byte 3 = 0x40) and -1 on channel 1 of the second (payload bits 72..=89:
    // packet bytes 10, 11 = 0xFF and the top two bits of byte 12). Byte 19 = 16: accel y.
    let mut p = vec![0u8; 20];
    p[0] = 1;
    p[3] = 0x40;
    p[10] = 0xFF;
    p[11] = 0xFF;
    p[12] = 0xC0;
    p[19] = 16;
    out.clear();
    assert_eq!(d.decode_packet(&p, 11.0, &mut out), 2);
    let (first, second) = (sample(&out, 0), sample(&out, 1));
    assert_eq!(first[0], 1.0);
    assert_eq!(first[1], 999.0 * GANGLION_EEG_SCALE); // 1000 - 1
    assert_eq!(second[1], 1000.0 * GANGLION_EEG_SCALE); // 999 - (-1)
    assert_eq!(first[2], -1000.0 * GANGLION_EEG_SCALE);
    assert_eq!(first[6], 16.0 * GANGLION_ACCEL_SCALE); // y
    assert_eq!(second[6], 0.256);
    assert_eq!(d.counters().packets, 2);
}

#[test]
fn firmware_2_deltas_continue_across_id_wrap_around() {
    let mut d = GanglionDecoder::new(GanglionFirmware::V2);
    let mut out = Vec::new();
    d.decode_packet(&raw_packet(), 0.0, &mut out);
    let mut expected = [1000, -1000, 8388607, -8388608];
    // 18-bit ids run 1..=100 and wrap to 1: walk 98, 99, 100, 1, 2 (after filling 1..=97).
    let ids: Vec<u8> = (1..=100).chain(1..=2).collect();
    for (n, id) in ids.iter().enumerate() {
        let delta = (n as i32 % 7) - 3; // -3..=3, both signs
        let deltas = [delta, -delta, 2 * delta, 100_000 * delta.signum(), -delta, delta, 0, -131_072];
        out.clear();
        assert_eq!(d.decode_packet(&packet(*id, &deltas, 18, None), 0.0, &mut out), 2, "id {id}");
        for ch in 0..4 {
            expected[ch] -= deltas[ch];
        }
        let first: Vec<f64> = expected.iter().map(|v| f64::from(*v) * GANGLION_EEG_SCALE).collect();
        for ch in 0..4 {
            expected[ch] -= deltas[4 + ch];
        }
        let second: Vec<f64> = expected.iter().map(|v| f64::from(*v) * GANGLION_EEG_SCALE).collect();
        assert_eq!(&sample(&out, 0)[1..5], first.as_slice(), "id {id}");
        assert_eq!(&sample(&out, 1)[1..5], second.as_slice(), "id {id}");
        assert_eq!(sample(&out, 0)[0], f64::from(*id));
    }
    assert_eq!(d.counters().dropped_samples, 0, "100 -> 1 is the wrap, not a loss");
    // Id 4 after 2: packet 3 was lost, two samples gone.
    out.clear();
    d.decode_packet(&packet(4, &[0; 8], 18, None), 0.0, &mut out);
    assert_eq!(d.counters().dropped_samples, 2);
}

#[test]
fn firmware_2_19_bit_deltas_wrap_from_200_to_101() {
    let mut d = GanglionDecoder::new(GanglionFirmware::V2);
    let mut out = Vec::new();
    d.decode_packet(&raw_packet(), 0.0, &mut out);
    let big = [262_143, -262_144, 5, -5, 1, 1, 1, 1]; // the 19-bit extremes
    let mut expected = [1000i64, -1000, 8388607, -8388608];
    for id in [199u8, 200, 101] {
        out.clear();
        assert_eq!(d.decode_packet(&packet(id, &big, 19, None), 0.0, &mut out), 2);
        for ch in 0..4 {
            expected[ch] -= i64::from(big[ch]) + i64::from(big[4 + ch]);
        }
        let got: Vec<f64> = sample(&out, 1)[1..5].to_vec();
        let want: Vec<f64> = expected.iter().map(|v| *v as f64 * GANGLION_EEG_SCALE).collect();
        assert_eq!(got, want, "id {id}");
        assert_eq!(sample(&out, 0)[5..8], [0.0, 0.0, 0.0], "19-bit packets carry no accel");
    }
    assert_eq!(d.counters().dropped_samples, 0);
}

#[test]
fn firmware_2_deltas_before_any_raw_packet_are_dropped_not_invented() {
    let mut d = GanglionDecoder::new(GanglionFirmware::V2);
    let mut out = Vec::new();
    assert_eq!(d.decode_packet(&packet(5, &[1; 8], 18, None), 0.0, &mut out), 0);
    assert!(out.is_empty());
    assert_eq!(d.counters().dropped_samples, 2);
}

#[test]
fn firmware_3_absolute_values_and_accel_axes() {
    let mut d = GanglionDecoder::new(GanglionFirmware::V3);
    let mut out = Vec::new();
    // 18-bit, id 10: id % 10 = 0 → z, negated; byte 19 = 0xFE = -2.
    let values = [-5, 131_071, -131_072, 0, 1, 2, 3, 4];
    assert_eq!(d.decode_packet(&packet(10, &values, 18, Some(0xFE)), 0.0, &mut out), 2);
    let first = sample(&out, 0);
    assert_eq!(first[1], f64::from(-5 << 6) * GANGLION_EEG_SCALE);
    assert_eq!(first[2], f64::from(131_071 << 6) * GANGLION_EEG_SCALE);
    assert_eq!(first[3], -8_388_608.0 * GANGLION_EEG_SCALE);
    assert_eq!(sample(&out, 1)[4], f64::from(4 << 6) * GANGLION_EEG_SCALE);
    assert_eq!(first[7], 2.0 * GANGLION_ACCEL_SCALE); // z = -(-2 × 0.016)
    // id 12: x
    out.clear();
    d.decode_packet(&packet(12, &[0; 8], 18, Some(0x7F)), 0.0, &mut out);
    assert_eq!(sample(&out, 0)[5..8], [127.0 * 0.016, 0.0, 2.0 * 0.016]);
    // 19-bit, id 150: values << 5.
    out.clear();
    let values = [1234, -262_144, 262_143, -1, 0, 0, 0, 7];
    assert_eq!(d.decode_packet(&packet(150, &values, 19, None), 0.0, &mut out), 2);
    assert_eq!(sample(&out, 0)[1], f64::from(1234 << 5) * GANGLION_EEG_SCALE);
    assert_eq!(sample(&out, 0)[2], f64::from(-262_144 << 5) * GANGLION_EEG_SCALE);
    assert_eq!(sample(&out, 0)[4], -32.0 * GANGLION_EEG_SCALE);
    assert_eq!(sample(&out, 1)[4], f64::from(7 << 5) * GANGLION_EEG_SCALE);
    // 199 wraps to 0 without a loss; 0 → 5 loses 4 packets.
    d.decode_packet(&packet(199, &[0; 8], 19, None), 0.0, &mut out);
    let before = d.counters().dropped_samples;
    d.decode_packet(&packet(0, &[0; 8], 18, None), 0.0, &mut out);
    assert_eq!(d.counters().dropped_samples, before);
    d.decode_packet(&packet(5, &[0; 8], 18, None), 0.0, &mut out);
    assert_eq!(d.counters().dropped_samples, before + 8);
}

#[test]
fn impedance_packets_fill_the_resistance_rows() {
    for firmware in [GanglionFirmware::V2, GanglionFirmware::V3] {
        let mut d = GanglionDecoder::new(firmware);
        let mut out = Vec::new();
        let mut p = vec![203u8];
        p.extend_from_slice(b"1234Z");
        assert_eq!(d.decode_packet(&p, 3.0, &mut out), 1);
        let mut p = vec![205u8];
        p.extend_from_slice(b"77Z");
        p.resize(20, 0);
        assert_eq!(d.decode_packet(&p, 4.0, &mut out), 1);
        let last = sample(&out, 1);
        assert_eq!(last[0], 205.0);
        assert_eq!(&last[8..13], &[0.0, 0.0, 1234.0, 0.0, 77.0]);
        assert_eq!(&last[1..5], &[0.0; 4]);
        assert_eq!(last[13], 4.0);
        // Without the closing Z, or with a non-digit, the packet is invalid.
        out.clear();
        assert_eq!(d.decode_packet(&[201, b'1', b'2'], 0.0, &mut out), 0);
        assert_eq!(d.decode_packet(&[202, b'1', b'x', b'Z'], 0.0, &mut out), 0);
        assert_eq!(d.counters().invalid_packets, 2);
        // A data packet that is too short, and an id no firmware uses.
        assert_eq!(d.decode_packet(&[1, 2, 3], 0.0, &mut out), 0);
        assert_eq!(d.decode_packet(&packet(250, &[0; 8], 18, None), 0.0, &mut out), 0);
        assert_eq!(d.counters().invalid_packets, 4);
    }
}

/// A Muse EEG packet: package number then 12-bit values packed two per 3 bytes.
fn muse_eeg(package: u16, values: [u16; 12]) -> Vec<u8> {
    let mut p = package.to_be_bytes().to_vec();
    for pair in values.chunks(2) {
        p.push((pair[0] >> 4) as u8);
        p.push((((pair[0] & 0xF) << 4) | (pair[1] >> 8)) as u8);
        p.push((pair[1] & 0xFF) as u8);
    }
    p
}

#[test]
fn muse_eeg_12_bit_values_by_hand() {
    // 0x800, 0xFFF packed: 0x80 0x0F 0xFF; 0x000, 0x801: 0x00 0x08 0x01.
    let mut p = vec![0x01, 0x02, 0x80, 0x0F, 0xFF, 0x00, 0x08, 0x01];
    p.resize(20, 0);
    let (package, v) = parse_eeg(&p).unwrap();
    assert_eq!(package, 0x0102);
    assert_eq!(v[0], 0.0);
    assert_eq!(v[1], 2047.0 * 125.0 / 256.0);
    assert_eq!(v[2], -1000.0);
    assert_eq!(v[3], 0.48828125);
    assert_eq!(v[4], -1000.0, "zero bytes are the most negative value");
    assert!(parse_eeg(&p[..19]).is_none());
    assert_eq!(muse_eeg(0x0102, [0x800, 0xFFF, 0, 0x801, 0, 0, 0, 0, 0, 0, 0, 0]), p);
}

#[test]
fn muse_imu_and_ppg_scaling() {
    let mut p = vec![0x00, 0x07];
    for v in [16384i16, -8192, 0, 1, -1, 32767, 0, 0, 0] {
        p.extend_from_slice(&v.to_be_bytes());
    }
    let (package, accel) = parse_imu(&p, 1.0 / 16384.0).unwrap();
    assert_eq!(package, 7);
    assert_eq!(accel[0], [1.0, -0.5, 0.0]);
    assert_eq!(accel[1], [1.0 / 16384.0, -1.0 / 16384.0, 32767.0 / 16384.0]);
    let (_, gyro) = parse_imu(&p, 0.007476).unwrap();
    assert_eq!(gyro[0][0], 16384.0 * 0.007476);
    let mut ppg = vec![0x00, 0x09, 0x01, 0x02, 0x03, 0xFF, 0xFF, 0xFF];
    ppg.resize(20, 0);
    let (package, values) = parse_ppg(&ppg).unwrap();
    assert_eq!(package, 9);
    assert_eq!(values[0], 66051.0);
    assert_eq!(values[1], 16_777_215.0);
    assert_eq!(encode_command("d"), vec![2, b'd', b'\n']);
    assert_eq!(encode_command("p21"), vec![4, b'p', b'2', b'1', b'\n']);
}

#[test]
fn muse_presets_assemble_in_brainflow_rows() {
    let mut d = MuseDecoder::new();
    let mut out = PresetSamples::default();
    let values = |base: u16| -> [u16; 12] { std::array::from_fn(|i| base + i as u16) };
    // Package 5's electrodes arrive out of order and interleaved with package 6's.
    d.decode(MuseSource::Eeg(2), &muse_eeg(5, values(0x900)), 1.0, &mut out);
    d.decode(MuseSource::Eeg(0), &muse_eeg(6, values(0x100)), 1.0, &mut out);
    d.decode(MuseSource::Eeg(0), &muse_eeg(5, values(0x800)), 1.0, &mut out);
    d.decode(MuseSource::Eeg(3), &muse_eeg(5, values(0xA00)), 1.0, &mut out);
    assert!(out.default.is_empty(), "AF7 of package 5 is still missing");
    d.decode(MuseSource::Eeg(1), &muse_eeg(5, values(0x880)), 2.0, &mut out);
    let rows = descriptor(BoardId::Muse2, Preset::Default).unwrap().num_rows;
    assert_eq!(out.default.len(), 12 * rows);
    let s = |i: usize| &out.default[i * rows..(i + 1) * rows];
    let uv = |v: u16| (f64::from(v) - 2048.0) * 125.0 / 256.0;
    assert_eq!(s(0), &[5.0, uv(0x800), uv(0x880), uv(0x900), uv(0xA00), 0.0, 2.0 - 11.0 / 256.0, 0.0]);
    assert_eq!(s(11)[1..5], [uv(0x80B), uv(0x88B), uv(0x90B), uv(0xA0B)]);
    assert_eq!(s(11)[6], 2.0);

    // Auxiliary: one accel and one gyro packet make three samples.
    let imu = |package: u16, v: i16| {
        let mut p = package.to_be_bytes().to_vec();
        for _ in 0..9 {
            p.extend_from_slice(&v.to_be_bytes());
        }
        p
    };
    d.decode(MuseSource::Accel, &imu(3, 8192), 5.0, &mut out);
    assert!(out.auxiliary.is_empty());
    d.decode(MuseSource::Gyro, &imu(3, 100), 5.0, &mut out);
    let aux_rows = descriptor(BoardId::Muse2, Preset::Auxiliary).unwrap().num_rows;
    assert_eq!(out.auxiliary.len(), 3 * aux_rows);
    let g = 100.0 * 0.007476;
    assert_eq!(&out.auxiliary[2 * aux_rows..], &[3.0, 0.5, 0.5, 0.5, g, g, g, 5.0, 0.0]);

    // Ancillary: all three PPG channels of one package make six samples.
    let ppg = |package: u16, v: u32| {
        let mut p = package.to_be_bytes().to_vec();
        for _ in 0..6 {
            p.extend_from_slice(&v.to_be_bytes()[1..]);
        }
        p
    };
    d.decode(MuseSource::Ppg(0), &ppg(8, 10), 6.0, &mut out);
    d.decode(MuseSource::Ppg(2), &ppg(8, 30), 6.0, &mut out);
    d.decode(MuseSource::Ppg(1), &ppg(8, 20), 6.0, &mut out);
    let anc_rows = descriptor(BoardId::Muse2, Preset::Ancillary).unwrap().num_rows;
    assert_eq!(out.ancillary.len(), 6 * anc_rows);
    assert_eq!(&out.ancillary[..anc_rows], &[8.0, 10.0, 20.0, 30.0, 6.0 - 5.0 / 64.0, 0.0]);
}

#[test]
fn muse_aux_electrode_joins_with_p50_and_stale_packages_are_given_up() {
    let mut d = MuseDecoder::new();
    d.set_aux_electrode(true);
    let mut out = PresetSamples::default();
    for e in 0..4 {
        d.decode(MuseSource::Eeg(e), &muse_eeg(1, [0x800; 12]), 0.0, &mut out);
    }
    assert!(out.default.is_empty(), "with p50 the right aux electrode is needed too");
    d.decode(MuseSource::Eeg(4), &muse_eeg(1, [0x900; 12]), 0.0, &mut out);
    assert_eq!(out.default[5], 125.0, "(0x900 - 0x800) × 125 / 256");
    // Packages that never complete are dropped once more than four are waiting.
    for package in 10..16 {
        d.decode(MuseSource::Eeg(0), &muse_eeg(package, [0x800; 12]), 0.0, &mut out);
    }
    assert_eq!(d.counters().dropped_samples, 24);
    d.decode(MuseSource::Accel, &[0; 5], 0.0, &mut out);
    assert_eq!(d.counters().invalid_packets, 1);
}
