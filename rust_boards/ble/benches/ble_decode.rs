//! Decoding cost per notification, against the real-time budget: a Ganglion sends 100
//! notifications a second (200 Hz, two samples each); a Muse about 175 (256 Hz EEG in 12s
//! over 5 electrodes, 52 Hz IMU in 3s over 2, 64 Hz PPG in 6s over 3). The whole session
//! path (fake transport → link task → ring buffer → read) is measured per 1,000 packets.
//! The simulated devices' cost is measured the same way: computing the signal and encoding
//! one notification (or one EEG round), to compare with decoding it.

use ble_boards::ganglion::{GanglionDecoder, GanglionFirmware};
use ble_boards::muse::{MuseDecoder, MuseSource, PresetSamples};
use ble_boards::simulate::{ganglion_counts, ganglion_v3_packet, muse_eeg_packet, muse_eeg_raw};
use ble_boards::{board_over, FakePeripheral, GANGLION_NOTIFY};
use board_api::{Board, BoardId, InputParams, Preset, SampleMatrix};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn delta_packet(id: u8) -> Vec<u8> {
    let mut p = vec![0u8; 20];
    p[0] = id;
    for (i, b) in p.iter_mut().enumerate().skip(1) {
        *b = (i as u8).wrapping_mul(37);
    }
    p
}

fn decoders(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    let packets: Vec<Vec<u8>> = (1..=100).map(delta_packet).collect();
    let mut raw = vec![0u8; 20];
    raw[1] = 1;
    group.bench_function("ganglion_fw2_delta_packet", |b| {
        let mut d = GanglionDecoder::new(GanglionFirmware::V2);
        let mut out = Vec::with_capacity(64);
        d.decode_packet(&raw, 0.0, &mut out);
        let mut i = 0;
        b.iter(|| {
            out.clear();
            i = (i + 1) % packets.len();
            black_box(d.decode_packet(&packets[i], 1.0, &mut out))
        })
    });
    group.bench_function("ganglion_fw3_packet", |b| {
        let mut d = GanglionDecoder::new(GanglionFirmware::V3);
        let mut out = Vec::with_capacity(64);
        b.iter(|| {
            out.clear();
            black_box(d.decode_packet(&packets[10], 1.0, &mut out))
        })
    });
    let eeg: Vec<u8> = (0..20u8).map(|i| i.wrapping_mul(29)).collect();
    group.throughput(Throughput::Elements(4));
    group.bench_function("muse_eeg_round_of_4_notifications", |b| {
        let mut d = MuseDecoder::new();
        let mut out = PresetSamples::default();
        let mut package = 0u16;
        b.iter(|| {
            out.clear();
            package = package.wrapping_add(1);
            let mut p = eeg.clone();
            p[..2].copy_from_slice(&package.to_be_bytes());
            for e in 0..4 {
                d.decode(MuseSource::Eeg(e), &p, 1.0, &mut out);
            }
            black_box(out.default.len())
        })
    });
    group.finish();
}

fn session(c: &mut Criterion) {
    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(20);
    group.bench_function("ganglion_1000_notifications_fake_to_ring", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let fake = Arc::new(FakePeripheral::new("AA:BB:CC:DD:EE:01", "Ganglion-1"));
                fake.replay_on_write(b"b");
                for n in 0..1000u32 {
                    fake.push_notification(GANGLION_NOTIFY, delta_packet((n % 100) as u8));
                }
                let params = InputParams { other_info: "firmware=3".into(), ..InputParams::default() };
                let mut board = board_over(BoardId::GanglionNative, &params, fake).unwrap();
                board.prepare_session().unwrap();
                let mut out = SampleMatrix::default();
                let start = Instant::now();
                board.start_stream(4000).unwrap();
                while board.board_data_count(Preset::Default).unwrap() < 2000 {
                    std::hint::spin_loop();
                }
                board.get_board_data(2000, Preset::Default, &mut out).unwrap();
                total += start.elapsed();
                board.release_session().unwrap();
            }
            total
        })
    });
    group.finish();
}

fn simulate(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ganglion_fw3_packet_with_signal", |b| {
        let mut k = 0u64;
        b.iter(|| {
            k += 1;
            let id = (k % 200) as u8;
            black_box(ganglion_v3_packet(id, [ganglion_counts(2 * k), ganglion_counts(2 * k + 1)], 0))
        })
    });
    group.throughput(Throughput::Elements(4));
    group.bench_function("muse_eeg_round_of_4_with_signal", |b| {
        let mut k = 0u64;
        b.iter(|| {
            k += 1;
            for e in 0..4 {
                let raw = std::array::from_fn(|i| muse_eeg_raw(e, k * 12 + i as u64));
                black_box(muse_eeg_packet(k as u16, &raw));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, decoders, session, simulate);
criterion_main!(benches);
