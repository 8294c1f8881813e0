//! The `switchyard` command line. Each subcommand is one variant of [`Command`] whose
//! logic lives in a function under `cli/`; this file only parses and maps to exit codes.
#![forbid(unsafe_code)]

mod cli;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "switchyard", version, about = "Routes each board session to its C++ or Rust implementation.")]
struct Cli {
    /// With no subcommand, `serve` runs on config/switchyard.yaml.
    #[command(subcommand)]
    command: Option<Command>,
    /// Log lines on stderr as text, or as one JSON object per line (docs/architecture.md).
    #[arg(long, global = true, value_enum, default_value_t = switchyard::logging::LogFormat::Text)]
    log_format: switchyard::logging::LogFormat,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a config file and print what each board will do (exit 0 valid, 2 invalid).
    Check(cli::check::CheckArgs),
    /// Print the decision for one session: path, reason, rule, bucket and ramp step.
    Explain(cli::explain::ExplainArgs),
    /// Run the sessions, record them, and serve the status page, metrics and controls.
    Serve(switchyard::serve::args::ServeArgs),
    /// Rehearse an incident: inject faults into a board's Rust path and time the fallback.
    Drill(switchyard::drill::DrillArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    switchyard::logging::set_format(cli.log_format);
    let code = match &cli.command {
        Some(Command::Check(args)) => cli::check::run(args),
        Some(Command::Explain(args)) => cli::explain::run(args),
        Some(Command::Serve(args)) => Ok(switchyard::serve::args::run(args)),
        Some(Command::Drill(args)) => Ok(switchyard::drill::run_cli(args)),
        None => Ok(switchyard::serve::args::run(&switchyard::serve::args::defaults())),
    };
    match code {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("switchyard: {e:#}");
            ExitCode::from(cli::EXIT_FAILURE)
        }
    }
}
