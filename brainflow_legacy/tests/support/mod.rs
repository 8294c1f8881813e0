//! Shared by every test that runs against BrainFlow's own PyPI package (this crate's,
//! the dispatcher's and the C API's include this file): one installer, one environment.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// BrainFlow's package, installed once per test run into a virtual environment by
/// `scripts/brainflow-venv.sh` (`BRAINFLOW_VENV=<dir>` names the environment).
pub struct Installed {
    /// The environment's Python, which can `import brainflow`.
    pub python: PathBuf,
    /// The installed `brainflow` package folder (its `lib/` holds the native libraries).
    pub package: PathBuf,
}

pub fn installed() -> &'static Installed {
    static INSTALLED: OnceLock<Installed> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let venv = std::env::var_os("BRAINFLOW_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("brainflow-venv"));
        // This file is shared by crates at different depths: find the workspace's script.
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("scripts/brainflow-venv.sh"))
            .find(|script| script.exists())
            .expect("scripts/brainflow-venv.sh in the workspace");
        let out = std::process::Command::new("bash").arg(script).arg(&venv).output().expect("run brainflow-venv.sh");
        assert!(out.status.success(), "installing BrainFlow failed: {}", String::from_utf8_lossy(&out.stderr));
        Installed { python: venv.join("bin/python"), package: PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()) }
    })
}

/// BrainFlow's own libBoardController.so.
pub fn brainflow_library() -> PathBuf {
    installed().package.join("lib/libBoardController.so")
}

/// Writes a recording of `samples` lines in BrainFlow's CSV format with the synthetic
/// board's layout (32 tab-separated columns: package number, 29 values, timestamp,
/// marker), for playback tests that run it on BrainFlow's board and on ours.
#[allow(dead_code)]
pub fn write_synthetic_recording(path: &std::path::Path, samples: u32) {
    let lines: Vec<String> = (0..samples)
        .map(|i: u32| {
            let mut row: Vec<f64> = vec![f64::from(i % 256)];
            row.extend((1..30).map(|c| f64::from((i * 7 + c) % 100) / 10.0));
            row.extend([1.7e9 + f64::from(i) / 250.0, 0.0]);
            row.iter().map(|v| format!("{v:.6}")).collect::<Vec<_>>().join("\t")
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}
