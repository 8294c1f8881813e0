//! BrainFlow's own Python binding on top of switchyard: installs the PyPI `brainflow`
//! package into a temporary virtual environment, copies its package folder, replaces
//! `lib/libBoardController.so` with ours (its other native libraries stay), and runs an
//! ordinary BrainFlow program (scripts/capi/brainflow_program.py) against the synthetic
//! board and the Cyton emulator in every switchyard mode.
//!
//! Needs `python3` with `venv` and access to PyPI; `BRAINFLOW_VENV=<dir>` reuses an
//! environment that already has `brainflow` installed.

use emulator::{Emulator, EmulatorOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const BRAINFLOW_VERSION: &str = "5.23.0";

fn run(cmd: &mut Command, what: &str) -> String {
    let output = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn venv_python(scratch: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("BRAINFLOW_VENV") {
        return PathBuf::from(dir).join("bin/python");
    }
    let venv = scratch.join("venv");
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv), "python3 -m venv");
    let python = venv.join("bin/python");
    run(
        Command::new(&python).args(["-m", "pip", "install", "-q", &format!("brainflow=={BRAINFLOW_VERSION}")]),
        "pip install brainflow",
    );
    python
}

#[test]
fn brainflow_python_binding_runs_on_switchyard_in_every_mode() {
    let scratch = tempfile::tempdir().unwrap();
    let python = venv_python(scratch.path());
    let installed = run(
        Command::new(&python).args(["-c", "import brainflow, os; print(os.path.dirname(brainflow.__file__))"]),
        "locate brainflow",
    );
    let package = PathBuf::from(installed.trim());
    let copy_root = scratch.path().join("pkg");
    std::fs::create_dir_all(&copy_root).unwrap();
    run(Command::new("cp").arg("-r").arg(&package).arg(&copy_root), "copy the brainflow package");
    let exe = std::env::current_exe().unwrap();
    // The library built for this test run is beside the test binary (`<target>/debug/deps`).
    let ours = exe.parent().unwrap().join("libBoardController.so");
    std::fs::copy(&ours, copy_root.join("brainflow/lib/libBoardController.so")).expect("replace libBoardController.so");

    // Every descriptor answer is BrainFlow's own: the same program on BrainFlow's library
    // (the installed package) and on ours (the copy) prints the same.
    let dump = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/capi/descriptor_dump.py");
    let theirs = run(Command::new(&python).arg(&dump), "descriptor dump on BrainFlow's library");
    let ours_dump = run(Command::new(&python).arg(&dump).env("PYTHONPATH", &copy_root), "descriptor dump on ours");
    assert!(theirs.len() > 1000, "the dump on BrainFlow's library is empty: {theirs}");
    if theirs != ours_dump {
        let first = theirs.lines().zip(ours_dump.lines()).position(|(a, b)| a != b);
        panic!("descriptor answers differ from BrainFlow's (first differing line {first:?})\nBrainFlow:\n{theirs}\nours:\n{ours_dump}");
    }

    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/capi/brainflow_program.py");
    for mode in ["cpp", "rust", "shadow", "standby"] {
        let config = scratch.path().join(format!("{mode}.yaml"));
        std::fs::write(&config, format!("boards:\n  synthetic: {mode}\n  cyton: {mode}\n")).unwrap();
        let cyton = Emulator::start(EmulatorOptions::cyton(11)).expect("the Cyton emulator starts");
        let out = run(
            Command::new(&python)
                .arg(&program)
                .arg(cyton.port_path())
                .arg(scratch.path())
                .env("PYTHONPATH", &copy_root)
                .env("SWITCHYARD_CONFIG", &config),
            &format!("the BrainFlow program in mode {mode}"),
        );
        assert!(out.contains("all checks passed"), "mode {mode}: {out}");
    }

    // BrainFlow's binding -> our library -> BrainFlow's own library, in one process: the
    // synthetic board's C++ path is the real BrainFlow (our library loads it with
    // RTLD_DEEPBIND, so the two libraries' same-named exports never bind to each other).
    let brainflow_library = package.join("lib/libBoardController.so");
    for mode in ["cpp", "rust"] {
        let config = scratch.path().join(format!("brainflow-{mode}.yaml"));
        std::fs::write(
            &config,
            format!(
                "brainflow:\n  library: {}\nboards:\n  synthetic:\n    mode: {mode}\n    legacy: brainflow\n  cyton: {mode}\n",
                brainflow_library.display()
            ),
        )
        .unwrap();
        let cyton = Emulator::start(EmulatorOptions::cyton(12)).expect("the Cyton emulator starts");
        let out = run(
            Command::new(&python)
                .arg(&program)
                .arg(cyton.port_path())
                .arg(scratch.path())
                .env("PYTHONPATH", &copy_root)
                .env("SWITCHYARD_CONFIG", &config),
            &format!("the BrainFlow program in mode {mode} with BrainFlow's library as the legacy"),
        );
        assert!(out.contains("all checks passed"), "mode {mode} on BrainFlow's library: {out}");
    }
    // The control: the same program with the library missing fails at the synthetic
    // board's prepare, so the runs above really went through BrainFlow's library.
    let config = scratch.path().join("brainflow-missing.yaml");
    let missing = scratch.path().join("no/libBoardController.so");
    std::fs::write(&config, format!("brainflow:\n  library: {}\nboards:\n  synthetic:\n    mode: cpp\n    legacy: brainflow\n", missing.display())).unwrap();
    let cyton = Emulator::start(EmulatorOptions::cyton(13)).expect("the Cyton emulator starts");
    let out = Command::new(&python)
        .arg(&program)
        .arg(cyton.port_path())
        .arg(scratch.path())
        .env("PYTHONPATH", &copy_root)
        .env("SWITCHYARD_CONFIG", &config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the program must fail without BrainFlow's library");
    assert!(stderr.contains("GENERAL_ERROR") || stderr.contains("17"), "{stderr}");
}
