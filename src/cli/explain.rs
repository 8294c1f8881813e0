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
    /// Board kind as written in the config (cyton, synthetic, muse_2, ...). With
    /// --identities, the board of every row when the file has no `board` column.
    #[arg(long)]
    pub board: Option<String>,
    /// A CSV inventory of devices (header: identity fields, optionally `board`): report
    /// where each goes instead of explaining one session.
    #[arg(long, value_name = "CSV")]
    pub identities: Option<PathBuf>,
    /// With --identities: a proposed config to compare with --config (which devices
    /// would change path).
    #[arg(long, value_name = "FILE", requires = "identities")]
    pub proposed: Option<PathBuf>,
    /// With --identities: print the report as JSON.
    #[arg(long, requires = "identities")]
    pub json: bool,
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
    if let Some(inventory) = &args.identities {
        return fleet(args, inventory, now);
    }
    let Some(board) = args.board.as_deref() else {
        eprintln!("--board: name the board to explain (or give --identities FILE for a fleet)");
        return Ok(EXIT_INVALID_CONFIG);
    };
    let params = InputParams {
        serial_number: args.serial_number.clone(),
        mac_address: args.mac_address.clone(),
        serial_port: args.serial_port.clone(),
        file: args.file.clone(),
        other_info: args.other_info.clone(),
        ..InputParams::default()
    };
    let Some(board_id) = board_api::BoardId::from_kind(board) else {
        eprintln!("{}", toggles::ExplainError::UnknownBoard(board.to_owned()));
        return Ok(EXIT_INVALID_CONFIG);
    };
    let mut config = match toggles::load_file(&args.config) {
        Ok((config, _)) => config,
        Err(e) => {
            eprintln!("{e}");
            return Ok(EXIT_INVALID_CONFIG);
        }
    };
    // A board with a migration plan decides in the stage the plan stands at: replayed
    // from Prometheus, as every serving host replays it.
    let plan = config.board(board_id).migration.clone().map(|plan| {
        let view = switchyard::operations::plans::replay(&plan, board_id, now);
        if let Some(v) = &view {
            config = config.clone().with_plan_stage(board_id, v.stage);
        }
        view
    });
    let id = toggles::SessionIdentity { params: &params, session_key: args.session_key.as_deref(), drawn_bucket: None };
    let explanation = toggles::explain_config(&config, board_id, &id, now);
    let mut out = std::io::stdout().lock();
    write!(out, "{explanation}")?;
    match plan {
        Some(Some(view)) => write!(out, "{}", switchyard::operations::plans::render(&view))?,
        Some(None) => writeln!(out, "plan:     judged on each serving host's own counters (evidence: local): the stage is that host's, in its /status; shown here in the first stage")?,
        None => {}
    }
    Ok(EXIT_OK)
}

fn fleet(args: &ExplainArgs, inventory: &std::path::Path, now: toggles::Timestamp) -> anyhow::Result<u8> {
    let board = match args.board.as_deref() {
        None => None,
        Some(kind) => match board_api::BoardId::from_kind(kind) {
            Some(b) => Some(b),
            None => {
                eprintln!("{}", toggles::ExplainError::UnknownBoard(kind.to_owned()));
                return Ok(EXIT_INVALID_CONFIG);
            }
        },
    };
    let load = |path: &std::path::Path| toggles::load_file(path).map(|(config, _)| config);
    let (current, proposed) = match (load(&args.config), args.proposed.as_deref().map(load).transpose()) {
        (Ok(current), Ok(proposed)) => (current, proposed),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return Ok(EXIT_INVALID_CONFIG);
        }
    };
    let devices = match toggles::read_inventory(inventory, board) {
        Ok(devices) => devices,
        Err(e) => {
            eprintln!("{e}");
            return Ok(EXIT_INVALID_CONFIG);
        }
    };
    let report = toggles::explain_fleet(&current, proposed.as_ref(), &devices, now);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{report}")?;
    }
    Ok(EXIT_OK)
}
