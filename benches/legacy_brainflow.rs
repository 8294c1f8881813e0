//! What a session adds in front of BrainFlow's own library: `get_current_board_data` of
//! 250 samples × 24 rows of a Cyton (on the emulator) through a `Session` whose C++ path is
//! BrainFlow (`legacy: brainflow`), against the same call on BrainFlow's library directly,
//! in the same run. BrainFlow's library comes from `SWITCHYARD_BRAINFLOW_LIBRARY`, or is
//! installed from PyPI by `scripts/brainflow-venv.sh` into the target directory.

use board_api::{Board, BoardId, InputParams, Preset, SampleMatrix};
use brainflow_legacy::BrainFlowLibrary;
use criterion::{criterion_group, criterion_main, Criterion};
use emulator::{Emulator, EmulatorOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;
use switchyard::Runtime;

fn brainflow_library() -> PathBuf {
    if let Some(path) = brainflow_legacy::library_from_env() {
        return path;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp/brainflow-venv");
    let out = std::process::Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/brainflow-venv.sh"))
        .arg(&venv)
        .output()
        .expect("run brainflow-venv.sh");
    assert!(out.status.success(), "installing BrainFlow failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()).join("lib/libBoardController.so")
}

mod common;
use common::filled;

fn port(emulator: &Emulator) -> InputParams {
    InputParams { serial_port: emulator.port_path().display().to_string(), ..InputParams::default() }
}

fn bench(c: &mut Criterion) {
    let path = brainflow_library();
    let library = BrainFlowLibrary::load(&path).unwrap();
    let mut group = c.benchmark_group("get_current_board_data_250x24_brainflow");
    let mut out = SampleMatrix::with_capacity(24, 250);

    let direct_device = Emulator::start(EmulatorOptions::cyton(1)).unwrap();
    let mut direct = library.board(BoardId::Cyton, &port(&direct_device)).unwrap();
    filled(&mut direct);
    group.bench_function("brainflow_direct", |b| {
        b.iter(|| direct.get_current_board_data(250, Preset::Default, &mut out).unwrap())
    });

    let session_device = Emulator::start(EmulatorOptions::cyton(2)).unwrap();
    let yaml = format!("brainflow:\n  library: {}\nboards:\n  cyton: {{mode: cpp, legacy: brainflow}}\n", path.display());
    let runtime = Runtime::from_yaml(&yaml, "bench.yaml").unwrap();
    let mut session = runtime.open(BoardId::Cyton, port(&session_device));
    filled(&mut session);
    group.bench_function("session_on_brainflow", |b| {
        b.iter(|| session.get_current_board_data(250, Preset::Default, &mut out).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
