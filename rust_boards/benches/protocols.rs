//! What one second of signal costs the Rust protocols: decoding 250 Cyton packets,
//! 250 Daisy packets, and generating 250 synthetic samples, against a plain copy of the
//! same bytes as the floor.

use board_api::{SampleGenerator, StreamDecoder};
use criterion::{criterion_group, criterion_main, Criterion};
use emulator::{packet_stream, EmulatorOptions};
use rust_boards::{CytonDecoder, SyntheticGenerator};
use std::hint::black_box;

fn protocols(c: &mut Criterion) {
    let cyton = packet_stream(&EmulatorOptions::cyton(1), 250);
    let daisy = packet_stream(&EmulatorOptions::daisy(1), 250);
    let mut out = Vec::with_capacity(250 * 32);

    let mut copy = vec![0u8; cyton.len()];
    c.bench_function("memcpy 250 Cyton packets (8250 bytes)", |b| {
        b.iter(|| copy.copy_from_slice(black_box(&cyton)))
    });
    let mut decoder = CytonDecoder::cyton();
    c.bench_function("Rust Cyton decode 250 packets", |b| {
        b.iter(|| {
            out.clear();
            black_box(decoder.decode(black_box(&cyton), 0.0, &mut out).unwrap())
        })
    });
    let mut decoder = CytonDecoder::daisy();
    c.bench_function("Rust Daisy decode 250 packets", |b| {
        b.iter(|| {
            out.clear();
            black_box(decoder.decode(black_box(&daisy), 0.0, &mut out).unwrap())
        })
    });
    let mut generator = SyntheticGenerator::new(42);
    let (mut d, mut a) = (Vec::with_capacity(250 * 32), Vec::with_capacity(250 * 20));
    c.bench_function("Rust synthetic generate 250 samples", |b| {
        b.iter(|| {
            d.clear();
            a.clear();
            generator.generate(250, 0.0, 0.004, &mut d, &mut a).unwrap();
            black_box(d.len())
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = protocols
}
criterion_main!(benches);
