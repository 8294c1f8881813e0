//! Replays every committed fuzz input through its target's checks: the seed corpus
//! (`fuzz/corpus/<target>/`) and the inputs of crashes the fuzzers found, kept after the
//! fix (`fuzz/regressions/<target>/`). A regression that comes back fails here, in
//! `cargo test`, without a fuzzer.

use std::path::{Path, PathBuf};

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.map(|e| e.expect("a readable directory entry").path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

#[test]
fn every_seed_and_regression_input_passes_its_checks() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    for (target, check) in fuzz_checks::TARGETS {
        let seeds = inputs(&fuzz.join("corpus").join(target));
        assert!(!seeds.is_empty(), "fuzz/corpus/{target} has no seed inputs");
        for file in seeds.iter().chain(&inputs(&fuzz.join("regressions").join(target))) {
            let data = std::fs::read(file).expect("a readable input");
            if std::panic::catch_unwind(|| check(&data)).is_err() {
                panic!("{target}: {} fails its checks", file.display());
            }
        }
    }
}
