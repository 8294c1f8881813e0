//! The cost of the cxx bridge: one empty call, and reading 250 samples × 32 rows from the
//! C++ synthetic board through the bridge, against the same read from the Rust synthetic
//! board and against a plain copy of the same 8,000 f64.
//!
//! To measure transfer and not generation, each board streams until it holds at least
//! 250 samples and is then stopped; the benchmark reads with `get_current_board_data`,
//! which removes nothing, so every iteration copies the same buffered samples.
//!
//! Run: `cargo bench -p core_cpp --bench bridge -- --measurement-time 3`

use std::hint::black_box;
use std::time::{Duration, Instant};

use board_api::{Board, BoardId, InputParams, Preset, SampleMatrix};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const SAMPLES: usize = 250;
const ROWS: usize = 32;

fn streamed_and_stopped(mut board: Box<dyn Board>) -> Box<dyn Board> {
    board.prepare_session().expect("prepare");
    board.start_stream(10 * SAMPLES).expect("start");
    let deadline = Instant::now() + Duration::from_secs(30);
    while board.board_data_count(Preset::Default).expect("count") < SAMPLES {
        assert!(Instant::now() < deadline, "the board produced no {SAMPLES} samples in 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    board.stop_stream().expect("stop");
    board
}

fn bridge(c: &mut Criterion) {
    let params = InputParams { other_info: "seed=42".into(), ..InputParams::default() };

    c.bench_function("bridge_noop", |b| b.iter(core_cpp::bridge_noop));

    let mut group = c.benchmark_group("get_current_board_data_250x32");
    group.throughput(Throughput::Bytes((SAMPLES * ROWS * std::mem::size_of::<f64>()) as u64));

    let mut cpp_board = streamed_and_stopped(Box::new(
        core_cpp::CppBoard::new(BoardId::Synthetic, &params).expect("C++ synthetic board"),
    ));
    let mut out = SampleMatrix::with_capacity(ROWS, SAMPLES);
    group.bench_function("cpp_through_bridge", |b| {
        b.iter(|| {
            cpp_board.get_current_board_data(SAMPLES, Preset::Default, &mut out).expect("read");
            black_box(out.as_slice());
        })
    });
    assert_eq!((out.rows(), out.samples()), (ROWS, SAMPLES));

    let mut rust_board =
        streamed_and_stopped(rust_boards::create_board(BoardId::Synthetic, &params).expect("Rust synthetic board"));
    group.bench_function("rust", |b| {
        b.iter(|| {
            rust_board.get_current_board_data(SAMPLES, Preset::Default, &mut out).expect("read");
            black_box(out.as_slice());
        })
    });
    assert_eq!((out.rows(), out.samples()), (ROWS, SAMPLES));

    let source: Vec<f64> = (0..SAMPLES * ROWS).map(|i| i as f64).collect();
    let mut destination = vec![0.0f64; SAMPLES * ROWS];
    group.bench_function("memcpy", |b| {
        b.iter(|| {
            destination.copy_from_slice(black_box(&source));
            black_box(&destination);
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = bridge
}
criterion_main!(benches);
