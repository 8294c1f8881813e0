//! The `switchyard` command line.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "switchyard", version, about = "Routes each board session to its C++ or Rust implementation.")]
struct Cli {
    /// With no subcommand, `serve` runs on config/switchyard.yaml.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the sessions, record them, and serve the status page, metrics and controls.
    Serve(switchyard::serve::args::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match &cli.command {
        Some(Command::Serve(args)) => switchyard::serve::args::run(args),
        None => switchyard::serve::args::run(&switchyard::serve::args::defaults()),
    };
    ExitCode::from(code)
}
