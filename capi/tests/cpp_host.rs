//! Builds examples/cpp_host with g++ against the built libBoardController and runs it in
//! every switchyard mode: the synthetic board and a Cyton on the pty emulator, streamed
//! by a C++ program through the C API alone.

use emulator::{Emulator, EmulatorOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory holding the libBoardController.so built for this test run: cargo builds
/// it beside the test binary in `<target>/debug/deps` (the copy in `<target>/debug` is only
/// refreshed by `cargo build`).
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().to_path_buf();
    assert!(dir.join("libBoardController.so").exists(), "libBoardController.so not found in {}", dir.display());
    dir
}

fn build_host(out_dir: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let lib_dir = library_dir();
    let binary = out_dir.join("cpp_host");
    let status = Command::new("g++")
        .arg("-std=c++17")
        .arg("-Wall")
        .arg("-Werror")
        .arg(repo.join("examples/cpp_host/main.cpp"))
        .arg("-I")
        .arg(repo.join("capi/include"))
        .arg("-L")
        .arg(&lib_dir)
        .arg("-lBoardController")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-o")
        .arg(&binary)
        .status()
        .expect("g++ runs");
    assert!(status.success(), "g++ failed to build examples/cpp_host");
    binary
}

#[test]
fn cpp_host_streams_synthetic_and_cyton_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    let host = build_host(dir.path());
    for mode in ["cpp", "rust", "shadow", "standby"] {
        let config = dir.path().join(format!("{mode}.yaml"));
        std::fs::write(&config, format!("boards:\n  synthetic: {mode}\n  cyton: {mode}\n")).unwrap();
        let cyton = Emulator::start(EmulatorOptions::cyton(7)).expect("the Cyton emulator starts");
        let output = Command::new(&host)
            .arg(cyton.port_path())
            .env("SWITCHYARD_CONFIG", &config)
            .output()
            .expect("cpp_host runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "mode {mode}: cpp_host failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(stdout.contains("board -1: "), "mode {mode}: {stdout}");
        assert!(stdout.contains("board 0: "), "mode {mode}: {stdout}");
    }
}
