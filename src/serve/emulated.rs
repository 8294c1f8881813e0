//! Boards `serve` plays itself: a session whose `serial_port` is `emulator` (Cyton or
//! Cyton Daisy) gets the project's emulator on a pseudo-terminal, started here, so that
//! the default run and rehearsals show a serial board end to end without hardware. The
//! emulator lives until serve has finished the session.

use super::sessions::SessionSpec;
use board_api::BoardId;
use emulator::{Emulator, EmulatorOptions};

/// The `serial_port` value that asks for an emulated board.
pub const EMULATOR_PORT: &str = "emulator";

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{label}: serial_port `{EMULATOR_PORT}` is for cyton and cyton_daisy only, not {board}")]
    NotSerial { label: String, board: &'static str },
    #[error("{label}: cannot start the Cyton emulator on a pseudo-terminal: {source}")]
    Start { label: String, source: std::io::Error },
}

/// Starts an emulator when `spec` asks for one, pointing the spec's port at it.
pub fn start_if_asked(spec: &mut SessionSpec, seed: u64) -> Result<Option<Emulator>, EmulatorError> {
    if spec.params.serial_port != EMULATOR_PORT {
        return Ok(None);
    }
    let options = match spec.board {
        BoardId::Cyton => EmulatorOptions::cyton(seed),
        BoardId::CytonDaisy => EmulatorOptions::daisy(seed),
        other => return Err(EmulatorError::NotSerial { label: spec.label.clone(), board: other.kind() }),
    };
    let emulator = Emulator::start(options).map_err(|source| EmulatorError::Start { label: spec.label.clone(), source })?;
    spec.params.serial_port = emulator.port_path().display().to_string();
    tracing::info!(session = %spec.label, port = %spec.params.serial_port, "started the Cyton emulator for this session");
    Ok(Some(emulator))
}
