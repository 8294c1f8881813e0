//! `switchyard check FILE`: validate a config without applying it.

use super::{now_or, EXIT_INVALID_CONFIG, EXIT_OK};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The config file to validate.
    pub file: PathBuf,
    /// Summarise ramps as of this RFC 3339 time instead of now.
    #[arg(long)]
    pub at: Option<String>,
}

pub fn run(args: &CheckArgs) -> anyhow::Result<u8> {
    let now = match now_or(args.at.as_deref()) {
        Ok(now) => now,
        Err(e) => {
            eprintln!("--at: {e}");
            return Ok(EXIT_INVALID_CONFIG);
        }
    };
    match toggles::check_file(&args.file, now) {
        Ok(report) => {
            write!(std::io::stdout(), "{report}")?;
            check_brainflow(&report.config)
        }
        Err(e) => {
            eprintln!("{e}");
            eprintln!("{}: invalid; nothing would be applied", args.file.display());
            Ok(EXIT_INVALID_CONFIG)
        }
    }
}

/// Whether BrainFlow's library loads, when the config names one or a board needs it:
/// a board whose C++ path cannot be served is as wrong as a bad value.
fn check_brainflow(config: &toggles::Config) -> anyhow::Result<u8> {
    let needed_by: Vec<&str> =
        config.boards().filter(|b| b.legacy == toggles::Legacy::BrainFlow).map(|b| b.board.kind()).collect();
    let Some(path) = switchyard::dispatch::legacy::brainflow_library_path(config) else {
        if needed_by.is_empty() {
            return Ok(EXIT_OK);
        }
        eprintln!(
            "brainflow: the C++ path of {} needs BrainFlow's library (legacy: brainflow), but none is named; set brainflow.library or {}",
            needed_by.join(", "),
            brainflow_legacy::LIBRARY_ENV
        );
        return Ok(EXIT_INVALID_CONFIG);
    };
    match brainflow_legacy::BrainFlowLibrary::load(&path) {
        Ok(library) => {
            let users = if needed_by.is_empty() {
                "no board in the file uses it; it serves the boards only BrainFlow implements".to_owned()
            } else {
                format!("serves the C++ path of {}, and of the boards only BrainFlow implements", needed_by.join(", "))
            };
            writeln!(std::io::stdout(), "brainflow: {} loads, BrainFlow {}; {users}", path.display(), library.version())?;
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!("{e}");
            if !needed_by.is_empty() {
                eprintln!("brainflow: the C++ path of {} would be refused; every other board runs", needed_by.join(", "));
            }
            Ok(EXIT_INVALID_CONFIG)
        }
    }
}
