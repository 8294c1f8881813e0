//! Shared by the tests that run against BrainFlow's own library.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// BrainFlow's libBoardController.so, installed once per test run.
pub fn brainflow_library() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
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
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()).join("lib/libBoardController.so")
    })
    .clone()
}

