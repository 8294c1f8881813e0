//! The boards only BrainFlow implements, through our libBoardController.so with BrainFlow's
//! library behind it: BrainFlow's Python binding (the PyPI package, installed by
//! `scripts/brainflow-venv.sh`) runs the same programs on BrainFlow's own library and on ours, and every answer
//! must be the same. Without BrainFlow's library those boards are refused, saying so.
//!
//! Needs `python3` with `venv` and access to PyPI (`scripts/brainflow-venv.sh`);
//! `BRAINFLOW_VENV=<dir>` names the environment.

use board_api::{BoardId, LEGACY_BOARDS};
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../brainflow_legacy/tests/support/mod.rs"]
mod brainflow;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/capi").join(name)
}

/// Runs `program` with the environment's Python; `ours` puts our library in place of
/// BrainFlow's (a copy of the package under `scratch`), with `library` as the legacy.
fn python(program: &Path, args: &[&str], ours: Option<(&Path, Option<&Path>)>) -> std::process::Output {
    let mut cmd = Command::new(&brainflow::installed().python);
    cmd.arg(program).args(args).env_remove("SWITCHYARD_CONFIG").env_remove(brainflow_legacy::LIBRARY_ENV);
    if let Some((copy_root, library)) = ours {
        cmd.env("PYTHONPATH", copy_root);
        if let Some(library) = library {
            cmd.env(brainflow_legacy::LIBRARY_ENV, library);
        }
    }
    cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

fn stdout_of(out: std::process::Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{what} failed\nstdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// A copy of BrainFlow's package with our libBoardController.so in place of BrainFlow's.
fn package_on_switchyard(scratch: &Path) -> PathBuf {
    let copy_root = scratch.join("pkg");
    std::fs::create_dir_all(&copy_root).unwrap();
    let status = Command::new("cp").arg("-r").arg(&brainflow::installed().package).arg(&copy_root).status().unwrap();
    assert!(status.success(), "copy the brainflow package");
    let ours = std::env::current_exe().unwrap().parent().unwrap().join("libBoardController.so");
    std::fs::copy(&ours, copy_root.join("brainflow/lib/libBoardController.so")).expect("replace libBoardController.so");
    copy_root
}

fn assert_same(what: &str, theirs: &str, ours: &str) {
    if theirs != ours {
        let first = theirs.lines().zip(ours.lines()).position(|(a, b)| a != b);
        panic!("{what}: ours differs from BrainFlow's (first differing line {first:?})\nBrainFlow:\n{theirs}\nours:\n{ours}");
    }
}

/// Our table of board ids is BrainFlow's `BoardIds` enum, every member, same numbers.
#[test]
fn the_board_table_is_brainflows_board_ids() {
    let out = python(
        Path::new("-c"),
        &["from brainflow.board_shim import BoardIds\nfor b in BoardIds:\n    print(b.value, b.name)"],
        None,
    );
    let theirs: Vec<(i32, String)> = stdout_of(out, "list BoardIds")
        .lines()
        .map(|l| {
            let (id, name) = l.split_once(' ').unwrap();
            (id.parse().unwrap(), name.to_owned())
        })
        .filter(|(id, _)| *id != -100)
        .collect();
    let mut ours: Vec<i32> = BoardId::EVERY.iter().map(|b| b.id()).collect();
    ours.sort_unstable();
    let mut ids: Vec<i32> = theirs.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    assert_eq!(ours, ids, "every BrainFlow board id, and only those");
    for legacy in LEGACY_BOARDS {
        let (_, name) = theirs.iter().find(|(id, _)| *id == legacy.id).unwrap();
        assert_eq!(legacy.brainflow_name, name, "board {}", legacy.id);
        assert_eq!(legacy.kind, name.to_lowercase().replace("_board", ""), "the config name of {name}");
    }
}

/// Every getter of every board id and preset answers what BrainFlow's library answers,
/// the boards only BrainFlow implements included (their answers come from it).
#[test]
fn every_board_id_is_described_as_brainflow_describes_it() {
    let scratch = tempfile::tempdir().unwrap();
    let copy_root = package_on_switchyard(scratch.path());
    let library = brainflow::brainflow_library();
    let dump = script("descriptor_dump.py");
    let theirs = stdout_of(python(&dump, &["all"], None), "descriptor dump of every board on BrainFlow's library");
    assert!(theirs.contains("\"BrainBit\""), "the dump covers BrainFlow-only boards: {theirs:.400}");
    let ours = stdout_of(python(&dump, &["all"], Some((&copy_root, Some(&library)))), "descriptor dump of every board on ours");
    assert_same("descriptors of every board id", &theirs, &ours);
}

/// Sessions of boards only BrainFlow implements run on BrainFlow's library: the same calls
/// give the same codes and shapes (a missing port, a whole session on a pty), and with no
/// library named they are UNSUPPORTED_BOARD_ERROR.
#[test]
fn sessions_of_brainflow_only_boards_are_brainflows() {
    let scratch = tempfile::tempdir().unwrap();
    let copy_root = package_on_switchyard(scratch.path());
    let library = brainflow::brainflow_library();
    let program = script("brainflow_only_boards.py");
    let theirs = stdout_of(python(&program, &[], None), "the program on BrainFlow's library");
    assert!(theirs.contains("\"prepare_session\": 0"), "FreeEEG32 prepares on a pty with BrainFlow: {theirs}");
    let ours = stdout_of(python(&program, &[], Some((&copy_root, Some(&library)))), "the program on ours");
    assert_same("sessions of BrainFlow-only boards", &theirs, &ours);

    // No BrainFlow library named: refused, and the log says what to configure.
    let probe = "from brainflow.board_shim import BoardShim, BrainFlowInputParams, BrainFlowError\n\
                 BoardShim.enable_dev_board_logger()\n\
                 p = BrainFlowInputParams(); p.serial_port = '/nonexistent/ttyUSB9'\n\
                 try:\n    BoardShim(17, p).prepare_session(); print('prepared')\n\
                 except BrainFlowError as e:\n    print('code', e.exit_code)\n";
    let out = python(Path::new("-c"), &[probe], Some((&copy_root, None)));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = stdout_of(out, "prepare without a library");
    assert_eq!(stdout.trim(), "code 14", "UNSUPPORTED_BOARD_ERROR\n{stderr}");
    assert!(
        stderr.contains("freeeeg32 (17) is implemented only by BrainFlow's library") && stderr.contains("set brainflow.library"),
        "the reason names what to configure:\n{stderr}"
    );
}
