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
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!("{e}");
            eprintln!("{}: invalid; nothing would be applied", args.file.display());
            Ok(EXIT_INVALID_CONFIG)
        }
    }
}
