//! What routing through a `Session` adds to a read: `get_current_board_data` of 250
//! samples × 32 rows through a session against the same call on the board directly,
//! for the C++ path (inline) and the Rust path (isolated worker), without and with a
//! JSON log subscriber recording each call's span.

use board_api::{Board, BoardId, InputParams, Preset, SampleMatrix};
use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;
use switchyard::Runtime;
use tracing_subscriber::layer::SubscriberExt;

fn params() -> InputParams {
    InputParams { other_info: "seed=1".into(), serial_number: "bench".into(), ..InputParams::default() }
}

mod common;
use common::filled;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("get_current_board_data_250x32");
    let mut out = SampleMatrix::with_capacity(32, 250);

    let mut cpp = core_cpp::CppBoard::new(BoardId::Synthetic, &params()).unwrap();
    filled(&mut cpp);
    group.bench_function("cpp_board_direct", |b| {
        b.iter(|| cpp.get_current_board_data(250, Preset::Default, &mut out).unwrap())
    });
    let mut rust = rust_boards::create_board(BoardId::Synthetic, &params()).unwrap();
    filled(&mut rust);
    group.bench_function("rust_board_direct", |b| {
        b.iter(|| rust.get_current_board_data(250, Preset::Default, &mut out).unwrap())
    });
    for mode in ["cpp", "rust"] {
        let runtime = Runtime::from_yaml(&format!("boards:\n  synthetic: {mode}\n"), "bench.yaml").unwrap();
        let mut session = runtime.open(BoardId::Synthetic, params());
        filled(&mut session);
        group.bench_function(format!("session_{mode}_path"), |b| {
            b.iter(|| session.get_current_board_data(250, Preset::Default, &mut out).unwrap())
        });
        // The same read with JSON logs on at info: what each call's span costs when a
        // subscriber records it (the subscriber is this thread's, so it sees the C++
        // path's spans; the Rust path's worker logs nothing at info on a read).
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("info"))
            .with(switchyard::logging::JsonLines::new(std::io::sink));
        let _logging = tracing::subscriber::set_default(subscriber);
        group.bench_function(format!("session_{mode}_path_json_logs"), |b| {
            b.iter(|| session.get_current_board_data(250, Preset::Default, &mut out).unwrap())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
