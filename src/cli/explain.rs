//! `switchyard explain`: which path one session would get, and why.

use super::{now_or, EXIT_INVALID_CONFIG, EXIT_OK};
use board_api::InputParams;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The config file to decide against.
    #[arg(long)]
    pub config: PathBuf,
    /// Board kind as written in the config (cyton, synthetic, muse_2, ...).
    #[arg(long)]
    pub board: String,
    #[arg(long, default_value = "")]
    pub serial_number: String,
    #[arg(long, default_value = "")]
    pub mac_address: String,
    #[arg(long, default_value = "")]
    pub serial_port: String,
    #[arg(long, default_value = "")]
    pub file: String,
    #[arg(long, default_value = "")]
    pub other_info: String,
    /// An explicit session key (the last stickiness field tried by default).
    #[arg(long)]
    pub session_key: Option<String>,
    /// Decide as of this RFC 3339 time instead of now (for ramps).
    #[arg(long)]
    pub at: Option<String>,
}

pub fn run(args: &ExplainArgs) -> anyhow::Result<u8> {
    let now = match now_or(args.at.as_deref()) {
        Ok(now) => now,
        Err(e) => {
            eprintln!("--at: {e}");
            return Ok(EXIT_INVALID_CONFIG);
        }
    };
    let params = InputParams {
        serial_number: args.serial_number.clone(),
        mac_address: args.mac_address.clone(),
        serial_port: args.serial_port.clone(),
        file: args.file.clone(),
        other_info: args.other_info.clone(),
        ..InputParams::default()
    };
    match toggles::explain(&args.config, &args.board, &params, args.session_key.as_deref(), now) {
        Ok(explanation) => {
            write!(std::io::stdout(), "{explanation}")?;
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(EXIT_INVALID_CONFIG)
        }
    }
}
