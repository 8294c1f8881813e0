//! BrainFlow's own Python binding on top of switchyard: installs the PyPI `brainflow`
//! package into a temporary virtual environment, copies its package folder, replaces
//! `lib/libBoardController.so` with ours (its other native libraries stay), and runs an
//! ordinary BrainFlow program (scripts/capi/brainflow_program.py) against the synthetic
//! board and the Cyton emulator in every switchyard mode.
//!
//! Needs `python3` with `venv` and access to PyPI (the shared installer,
//! `scripts/brainflow-venv.sh`); `BRAINFLOW_VENV=<dir>` names the environment.

use emulator::{Emulator, EmulatorOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

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

#[path = "../../brainflow_legacy/tests/support/mod.rs"]
mod brainflow;

/// A copy of BrainFlow's package under `scratch` with our libBoardController.so in place
/// of BrainFlow's; returns the folder to put on PYTHONPATH.
fn package_on_switchyard(scratch: &Path) -> PathBuf {
    let copy_root = scratch.join("pkg");
    std::fs::create_dir_all(&copy_root).unwrap();
    run(Command::new("cp").arg("-r").arg(&brainflow::installed().package).arg(&copy_root), "copy the brainflow package");
    let exe = std::env::current_exe().unwrap();
    // The library built for this test run is beside the test binary (`<target>/debug/deps`).
    let ours = exe.parent().unwrap().join("libBoardController.so");
    std::fs::copy(&ours, copy_root.join("brainflow/lib/libBoardController.so")).expect("replace libBoardController.so");
    copy_root
}

#[test]
fn brainflow_python_binding_runs_on_switchyard_in_every_mode() {
    let scratch = tempfile::tempdir().unwrap();
    let python = brainflow::installed().python.clone();
    let package = brainflow::installed().package.clone();
    let copy_root = package_on_switchyard(scratch.path());

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
    // The program on our library with `yaml` as the config, beside a fresh Cyton emulator.
    let program_on = |name: &str, yaml: String, seed: u64| -> std::process::Output {
        let config = scratch.path().join(format!("{name}.yaml"));
        std::fs::write(&config, yaml).unwrap();
        let cyton = Emulator::start(EmulatorOptions::cyton(seed)).expect("the Cyton emulator starts");
        Command::new(&python)
            .arg(&program)
            .arg(cyton.port_path())
            .arg(scratch.path())
            .env("PYTHONPATH", &copy_root)
            .env("SWITCHYARD_CONFIG", &config)
            .output()
            .unwrap()
    };
    let passes = |what: &str, out: std::process::Output| {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("all checks passed"),
            "{what}\nstdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for mode in ["cpp", "rust", "shadow", "standby"] {
        passes(&format!("mode {mode}"), program_on(mode, format!("boards:\n  synthetic: {mode}\n  cyton: {mode}\n"), 11));
    }

    // BrainFlow's binding -> our library -> BrainFlow's own library, in one process: the
    // synthetic board's C++ path is the real BrainFlow (our library loads it with
    // RTLD_DEEPBIND, so the two libraries' same-named exports never bind to each other).
    let with_library = |library: &Path, mode: &str| {
        format!("brainflow:\n  library: {}\nboards:\n  synthetic:\n    mode: {mode}\n    legacy: brainflow\n  cyton: {mode}\n", library.display())
    };
    let brainflow_library = package.join("lib/libBoardController.so");
    for mode in ["cpp", "rust"] {
        passes(&format!("mode {mode} on BrainFlow's library"), program_on(&format!("brainflow-{mode}"), with_library(&brainflow_library, mode), 12));
    }
    // The control: the same program with the library missing fails at the synthetic
    // board's prepare, so the runs above really went through BrainFlow's library.
    let out = program_on("brainflow-missing", with_library(&scratch.path().join("no/libBoardController.so"), "cpp"), 13);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the program must fail without BrainFlow's library");
    assert!(stderr.contains("GENERAL_ERROR") || stderr.contains("17"), "{stderr}");
}

/// The facts program's answers for one board (a JSON object), on BrainFlow's library
/// (`pythonpath: None`) or on ours (the copy) with `config`.
fn facts(pythonpath: Option<&Path>, config: Option<&Path>, args: &[&str]) -> serde_json::Map<String, serde_json::Value> {
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/capi/brainflow_facts.py");
    let mut cmd = Command::new(&brainflow::installed().python);
    cmd.arg(&program).args(args);
    if let Some(path) = pythonpath {
        cmd.env("PYTHONPATH", path);
    }
    if let Some(config) = config {
        cmd.env("SWITCHYARD_CONFIG", config);
    }
    let out = run(&mut cmd, &format!("the facts program for {args:?} with config {config:?}"));
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("facts are not JSON ({e}): {out}"))
}

/// Every fact where `ours` differs from BrainFlow's, as table rows.
fn differences(label: &str, theirs: &serde_json::Map<String, serde_json::Value>, ours: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
    theirs
        .iter()
        .filter(|(k, v)| ours.get(*k) != Some(v))
        .map(|(k, v)| format!("{label}: {k}: BrainFlow {v}, ours {}", ours.get(k).map_or("missing".into(), |o| o.to_string())))
        .collect()
}

/// The same BoardShim program on BrainFlow's library and on switchyard in every mode and
/// with both legacy backends (shadow and standby on BrainFlow for playback, Cyton and Daisy),
/// for the synthetic board, playback of a recording, and Cyton and Daisy on the emulator
/// in both firmwares: every fact must be BrainFlow's.
#[test]
fn every_fact_a_brainflow_program_sees_is_brainflows() {
    let scratch = tempfile::tempdir().unwrap();
    let ours = package_on_switchyard(scratch.path());
    let library = brainflow::brainflow_library();
    let mut table = Vec::new();
    let mut differ = Vec::new();
    let mut compared = 0usize;
    let configs: Vec<(String, String)> = ["cpp", "rust", "shadow", "standby"]
        .iter()
        .map(|m| (format!("{m}, core_cpp"), format!("boards:\n  synthetic: {m}\n  playback: {m}\n  cyton: {m}\n  cyton_daisy: {m}\n")))
        .chain(["cpp", "rust", "shadow", "standby"].iter().map(|m| {
            // BrainFlow's synthetic board cannot run in shadow or standby (unseeded): it
            // stays single-path in these configs.
            let synthetic = if matches!(*m, "cpp" | "rust") { *m } else { "cpp" };
            (
                format!("{m}, brainflow"),
                format!(
                    "brainflow:\n  library: {}\nboards:\n  synthetic: {{mode: {synthetic}, legacy: brainflow}}\n  playback: {{mode: {m}, legacy: brainflow}}\n  cyton: {{mode: {m}, legacy: brainflow}}\n  cyton_daisy: {{mode: {m}, legacy: brainflow}}\n",
                    library.display()
                ),
            )
        }))
        .collect();
    // A recording in BrainFlow's CSV format with the synthetic layout, for playback.
    let recording = scratch.path().join("recording.csv");
    brainflow::write_synthetic_recording(&recording, 2000);
    let recording_arg = recording.display().to_string();
    let devices: Vec<(&str, Option<EmulatorOptions>)> = vec![
        ("synthetic", None),
        ("playback", None),
        ("cyton", Some(EmulatorOptions::cyton(31))),
        ("cyton", Some(EmulatorOptions::cyton(32).brainflow_ci())),
        ("cyton_daisy", Some(EmulatorOptions::daisy(33))),
        ("cyton_daisy", Some(EmulatorOptions::daisy(34).brainflow_ci())),
    ];
    for (board, device) in &devices {
        let run_facts = |pythonpath: Option<&Path>, config: Option<&Path>| {
            let emulator = device.as_ref().map(|o| Emulator::start(o.clone()).expect("the emulator starts"));
            let port = emulator.as_ref().map(|e| e.port_path().display().to_string());
            let mut args = vec![*board];
            if let Some(port) = &port {
                args.push(port);
            }
            if *board == "playback" {
                args.push(&recording_arg);
            }
            facts(pythonpath, config, &args)
        };
        let firmware = device.as_ref().map_or(String::new(), |o| format!(" ({:?})", o.firmware));
        let theirs = run_facts(None, None);
        for (label, yaml) in &configs {
            if *board == "synthetic" && (label.starts_with("shadow, brainflow") || label.starts_with("standby, brainflow")) {
                continue;
            }
            let config = scratch.path().join("facts.yaml");
            std::fs::write(&config, yaml).unwrap();
            let mine = run_facts(Some(&ours), Some(&config));
            let label = format!("{board}{firmware}, {label}");
            let found = differences(&label, &theirs, &mine);
            compared += theirs.len();
            table.push(format!("{label}: {} of {} facts differ", found.len(), theirs.len()));
            differ.extend(found);
        }
    }
    println!("{}", table.join("\n"));
    assert!(differ.is_empty(), "{} of {compared} compared facts differ from BrainFlow's:\n{}", differ.len(), differ.join("\n"));
}

/// A library with every export but not BrainFlow 5.23 — switchyard's own, which answers
/// its own version — is refused as untested, naming the path and the versions tested.
#[test]
fn a_board_controller_of_an_untested_version_is_refused() {
    let ours = std::env::current_exe().unwrap().parent().unwrap().join("libBoardController.so");
    let e = brainflow_legacy::BrainFlowLibrary::load(&ours).unwrap_err();
    assert!(matches!(e, brainflow_legacy::LoadError::UntestedVersion { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains(&ours.display().to_string()) && text.contains("has not been tested with switchyard (tested: 5.23.0)"), "{text}");
}
