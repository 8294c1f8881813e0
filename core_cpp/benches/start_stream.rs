//! What a fresh session costs at `start_stream(45_000)` and its first read: the moment a
//! fleet failing over from the Rust boards to the C++ boards pays for, once per session.
//!
//! Each iteration takes a prepared synthetic board (32 rows default, 20 auxiliary), starts
//! it with 45,000 samples of buffer per preset and reads once (`board_data_count` then
//! `get_board_data`), for the C++ board through the bridge and the Rust twin in the same
//! run. `zeroed_storage_for_45000` is the reference for a ring that allocates and zeroes
//! its whole capacity up front (52 rows × 45,000 f64 ≈ 18.7 MB, every page written).
//! Stopping and releasing happen outside the measurement.
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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(4));
    targets = start_stream
}
criterion_main!(benches);
