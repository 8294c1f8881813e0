//! What the C API adds to a read, now that data reads record metrics:
//! `get_current_board_data` of 250 samples × 32 rows through the export against the same
//! read on a `Session` of the runtime directly, both on the Rust path.
//!
//! Run it twice: as is (no endpoint, so no recorder: recording is a no-op call) and with
//! `SWITCHYARD_LISTEN=127.0.0.1:0` (endpoint on, every read recorded in Prometheus).

use board_api::{Board, BoardId, InputParams, Preset, SampleMatrix};
use criterion::{criterion_group, criterion_main, Criterion};
use std::ffi::{c_int, CString};
use std::time::Duration;
use switchyard::Runtime;
use BoardController::*;

const SYNTHETIC: c_int = -1;
const CONFIG: &str = "boards:\n  synthetic: rust\n";

fn bench(c: &mut Criterion) {
    let monitored = std::env::var_os("SWITCHYARD_LISTEN").is_some();
    let mut group = c.benchmark_group(if monitored { "read_250x32_endpoint_on" } else { "read_250x32_endpoint_off" });

    let runtime = Runtime::from_yaml(CONFIG, "bench.yaml").unwrap();
    let mut session = runtime.open(BoardId::Synthetic, InputParams { other_info: "direct".into(), ..InputParams::default() });
    session.prepare_session().unwrap();
    session.start_stream(10_000).unwrap();
    while session.board_data_count(Preset::Default).unwrap() < 300 {
        std::thread::sleep(Duration::from_millis(50));
    }
    session.stop_stream().unwrap();
    let mut out = SampleMatrix::with_capacity(32, 250);
    group.bench_function("session_direct", |b| b.iter(|| session.get_current_board_data(250, Preset::Default, &mut out).unwrap()));

    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), CONFIG).unwrap();
    std::env::set_var("SWITCHYARD_CONFIG", config.path());
    let p = CString::new("{\"other_info\": \"c_api\"}").unwrap();
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(SYNTHETIC, p.as_ptr()) }, 0);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { start_stream(10_000, std::ptr::null(), SYNTHETIC, p.as_ptr()) }, 0);
    let mut count = 0;
    while count < 300 {
        std::thread::sleep(Duration::from_millis(50));
        // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
        assert_eq!(unsafe { get_board_data_count(0, &mut count, SYNTHETIC, p.as_ptr()) }, 0);
    }
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { stop_stream(SYNTHETIC, p.as_ptr()) }, 0);
    let mut buf = vec![0.0f64; 32 * 250];
    let mut returned = 0;
    group.bench_function("c_api_export", |b| {
        // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
        b.iter(|| assert_eq!(unsafe { get_current_board_data(250, 0, buf.as_mut_ptr(), &mut returned, SYNTHETIC, p.as_ptr()) }, 0))
    });
    group.finish();
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { release_session(SYNTHETIC, p.as_ptr()) }, 0);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
