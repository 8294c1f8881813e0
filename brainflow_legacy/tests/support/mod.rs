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
