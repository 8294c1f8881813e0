//! What a fresh session costs at `start_stream(45_000)` and its first read: the moment a
//! fleet failing over from the Rust boards to the C++ boards pays for, once per session.
//!
//! Each iteration takes a prepared synthetic board (32 rows default, 20 auxiliary), starts
//! it with 45,000 samples of buffer per preset and reads once (`board_data_count` then
//! `get_board_data`), for the C++ board through the bridge and the Rust twin in the same
//! run. `zeroed_storage_for_45000` is the reference for a ring that allocates and zeroes
//! its whole capacity up front (52 rows × 45,000 f64 ≈ 18.7 MB, every page written).
//! Stopping and releasing happen outside the measurement. A second group shows what the
//! growth costs later, while samples arrive.
//!
//! Run: `cargo bench -p core_cpp --bench start_stream`

use std::hint::black_box;
use std::time::Duration;

use board_api::{Board, BoardId, InputParams, Preset, SampleMatrix};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

const BUFFER_SIZE: usize = 45_000;
/// Rows of the synthetic board's two presets together.
const ALL_ROWS: usize = 32 + 20;

fn prepared(mut board: Box<dyn Board>) -> Box<dyn Board> {
    board.prepare_session().expect("prepare");
    board
}

fn start_and_read(mut board: Box<dyn Board>, out: &mut SampleMatrix) -> Box<dyn Board> {
    board.start_stream(BUFFER_SIZE).expect("start");
    let available = board.board_data_count(Preset::Default).expect("count");
    board.get_board_data(available, Preset::Default, out).expect("read");
    black_box(out.as_slice());
    board
}

fn start_stream(c: &mut Criterion) {
    let params = InputParams { other_info: "seed=7".into(), ..InputParams::default() };
    let mut group = c.benchmark_group("start_stream_45000_then_first_read");
    let mut out = SampleMatrix::with_capacity(32, 16);

    group.bench_function("cpp_through_bridge", |b| {
        b.iter_batched(
            || prepared(Box::new(core_cpp::CppBoard::new(BoardId::Synthetic, &params).expect("C++ board"))),
            |board| start_and_read(board, &mut out),
            BatchSize::PerIteration,
        )
    });

    group.bench_function("rust", |b| {
        b.iter_batched(
            || prepared(rust_boards::create_board(BoardId::Synthetic, &params).expect("Rust board")),
            |board| start_and_read(board, &mut out),
            BatchSize::PerIteration,
        )
    });

    group.bench_function("zeroed_storage_for_45000", |b| {
        b.iter_batched(
            || (),
            |()| {
                let mut storage: Vec<f64> = Vec::new();
                storage.resize(ALL_ROWS * BUFFER_SIZE, 0.0);
                black_box(storage.as_mut_slice());
                storage
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// What growing costs while streaming: 45,000 samples of 32 rows pushed in batches of 250
/// into a fresh C++ ring (growing from nothing) and into one whose storage already reached
/// its capacity, and into a fresh Rust ring one sample at a time (its only way).
fn fill(c: &mut Criterion) {
    const ROWS: usize = 32;
    const BATCH: usize = 250;
    let batch: Vec<f64> = (0..BATCH * ROWS).map(|i| i as f64).collect();
    let mut group = c.benchmark_group("fill_45000x32_in_batches_of_250");
    let push_all = |mut ring: core_cpp::CppRingBuffer| {
        for _ in 0..BUFFER_SIZE / BATCH {
            ring.push(black_box(&batch));
        }
        ring
    };
    group.bench_function("cpp_ring_growing", |b| {
        b.iter_batched(|| core_cpp::CppRingBuffer::new(ROWS, BUFFER_SIZE).expect("ring"), push_all, BatchSize::PerIteration)
    });
    group.bench_function("cpp_ring_already_grown", |b| {
        b.iter_batched(
            || {
                let mut ring = push_all(core_cpp::CppRingBuffer::new(ROWS, BUFFER_SIZE).expect("ring"));
                ring.take_oldest(usize::MAX, &mut SampleMatrix::new(0));
                ring
            },
            push_all,
            BatchSize::PerIteration,
        )
    });
    group.bench_function("rust_ring_growing", |b| {
        b.iter_batched(
            || sample_ring::SampleRing::new(ROWS, BUFFER_SIZE),
            |mut ring| {
                for sample in black_box(&batch).chunks(ROWS).cycle().take(BUFFER_SIZE) {
                    ring.push(sample);
                }
                ring
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(4));
    targets = start_stream, fill
}
criterion_main!(benches);
