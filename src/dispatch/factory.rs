//! Which implementation object serves a board: the one place that names the C++ core,
//! BrainFlow's library, the Rust twins and the BLE crate; and how a session's stream is
//! put together for its path.

use super::device::SharedPort;
use super::kind::{BoardKind, BreakerLinkGuard};
use super::legacy::LegacyBackend;
use super::producers::{Recipe, Side};
use super::pty_proxy::{ProxyError, PtyProxy};
use super::stream::{LegacyDevice, Stream};
use toggles::Path;
use board_api::{Board, BoardError, BoardId, ExitCode, InputParams, Result};
use std::sync::Arc;

/// The legacy C++ board: switchyard's own core, or BrainFlow's library.
pub fn cpp_board(board: BoardId, params: &InputParams, legacy: &LegacyBackend) -> Result<Box<dyn Board>> {
    if !board.has_cpp_implementation() {
        return Err(BoardError::new(
            ExitCode::UnsupportedBoardError,
            format!("board {board} has no C++ implementation (it is Rust-only)"),
        ));
    }
    match legacy {
        LegacyBackend::BrainFlow(library) => Ok(Box::new(library.board(board, params)?)),
        // A board only BrainFlow implements is not supported without BrainFlow's library.
        LegacyBackend::Unavailable(why) if board.is_legacy_only() => Err(BoardError::new(
            ExitCode::UnsupportedBoardError,
            format!("board {board} is implemented only by BrainFlow's library, which is unavailable: {why}"),
        )),
        LegacyBackend::Unavailable(why) => Err(BoardError::general(format!("the C++ path of board {board} is refused: {why}"))),
        LegacyBackend::CoreCpp if board.is_legacy_only() => Err(BoardError::new(
            ExitCode::UnsupportedBoardError,
            format!("board {board} is implemented only by BrainFlow's library, not by switchyard's C++ core"),
        )),
        LegacyBackend::CoreCpp => Ok(Box::new(core_cpp::CppBoard::new(board, params)?)),
    }
}

/// A Rust board, and for a BLE board the view of its link.
pub struct RustBoard {
    pub board: Box<dyn Board>,
    pub link: Option<ble_boards::LinkHandle>,
}

/// The Rust board: the serial/file/synthetic twins, or a BLE board whose link failures
/// and reconnects go through the kind's breaker.
pub fn rust_board(kind: &Arc<BoardKind>, session: u64, params: &InputParams) -> Result<RustBoard> {
    let board = kind.board;
    if ble_boards::BLE_BOARDS.contains(&board) {
        let mut ble = ble_boards::create_ble_board(board, params)?;
        ble.set_link_guard(Arc::new(BreakerLinkGuard::new(Arc::clone(kind), session)));
        let link = Some(ble.link_handle());
        Ok(RustBoard { board: Box::new(ble), link })
    } else {
        Ok(RustBoard { board: rust_boards::create_board(board, params)?, link: None })
    }
}

/// A seed for sessions that did not ask for one, from the clock like BrainFlow's.
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x5EED)
}

/// How a session's path is served.
pub enum Built {
    /// By a stream (see [`super::stream`]).
    Stream(Box<Stream>),
    /// By whole boards: BLE boards (Rust only), and the `cpp` and `rust` paths against
    /// BrainFlow's library (its board owns its device).
    Whole,
    /// By BrainFlow's board alone on the C++ path, because what running both sides needs
    /// could not be had (the reason): the caller's session still runs.
    CppAlone(String),
}

/// How `path` is served for a session of `kind`'s board.
pub fn stream(kind: &Arc<BoardKind>, session: u64, params: &InputParams, path: Path) -> Result<Built> {
    let board = kind.board;
    let (serving, both) = match path {
        Path::Cpp => (Side::Cpp, false),
        Path::Rust => (Side::Rust, false),
        Path::Shadow => (Side::Cpp, true),
        Path::Standby => (Side::Rust, true),
    };
    if !matches!(board, BoardId::Synthetic | BoardId::PlaybackFile | BoardId::Cyton | BoardId::CytonDaisy) {
        if both {
            return Err(BoardError::new(
                ExitCode::UnsupportedBoardError,
                format!("board {board} does not have both a C++ implementation and a Rust twin, so it cannot run in shadow or standby"),
            ));
        }
        return Ok(Built::Whole); // BLE, or BrainFlow's
    }
    let brainflow = match &kind.knobs().legacy {
        LegacyBackend::CoreCpp => None,
        LegacyBackend::BrainFlow(library) => Some(library.clone()),
        // The Rust board alone, as a whole board (it has no C++ side to join).
        LegacyBackend::Unavailable(_) if path == Path::Rust => return Ok(Built::Whole),
        LegacyBackend::Unavailable(why) => {
            return Err(BoardError::general(format!("the C++ path of board {board} is refused: {why}")))
        }
    };
    if brainflow.is_some() && !both {
        return Ok(Built::Whole);
    }
    match board {
        BoardId::Synthetic => {
            let seed = params.seed()?.unwrap_or_else(clock_seed);
            Ok(Built::Stream(Box::new(Stream::new(kind.clone(), session, Recipe::Synthetic { seed }, board, serving, both)?)))
        }
        BoardId::PlaybackFile => {
            let master = BoardId::from_id(params.master_board).map_err(|_| {
                BoardError::invalid_arguments(format!(
                    "master_board {} is not a board whose layout a playback file can have",
                    params.master_board
                ))
            })?;
            let bytes = std::fs::read(&params.file).map_err(|e| {
                BoardError::new(ExitCode::UnableToOpenPortError, format!("cannot read playback file {:?}: {e}", params.file))
            })?;
            let recipe = Recipe::Playback { params: params.clone(), master };
            if let Some(library) = brainflow {
                // BrainFlow's playback board reads the file itself; the Rust side plays the
                // bytes read here. Row k of the file is index k on both.
                let mut brainflow = library.board(board, params)?;
                brainflow.prepare_session()?;
                let stream = Stream::against_brainflow_playback(kind.clone(), session, recipe, master, serving, Box::new(brainflow), Arc::new(bytes))?;
                return Ok(Built::Stream(Box::new(stream)));
            }
            let mut stream = Stream::new(kind.clone(), session, recipe, master, serving, both)?;
            stream.load(Arc::new(bytes))?;
            Ok(Built::Stream(Box::new(stream)))
        }
        BoardId::Cyton | BoardId::CytonDaisy => {
            let recipe = Recipe::Device { board, params: params.clone() };
            if let Some(library) = brainflow {
                // BrainFlow's board reads the device through a pty the dispatcher serves;
                // the Rust decoder gets the same bytes and commands.
                let proxy = match PtyProxy::start(&params.serial_port) {
                    Ok(proxy) => proxy,
                    Err(ProxyError::Device(e)) => return Err(e),
                    Err(ProxyError::Pty(e)) => return Ok(Built::CppAlone(e.message)),
                };
                let on_pty = InputParams { serial_port: proxy.slave_path().to_owned(), ..params.clone() };
                let mut brainflow = library.board(board, &on_pty)?;
                brainflow.prepare_session()?;
                let rust = recipe.make(Side::Rust)?;
                let legacy = LegacyDevice::new(Box::new(brainflow), proxy);
                return Ok(Built::Stream(Box::new(Stream::against_brainflow(kind.clone(), session, board, serving, rust, legacy)?)));
            }
            // One transport owns the port; every decoder gets every byte it reads.
            let timeout = params.timeout_or(std::time::Duration::from_secs(3));
            let port = SharedPort::open(&params.serial_port, timeout)?;
            let mut stream = Stream::new(kind.clone(), session, recipe, board, serving, both)?;
            stream.attach_port(port, timeout);
            Ok(Built::Stream(Box::new(stream)))
        }
        _ => Ok(Built::Whole),
    }
}
