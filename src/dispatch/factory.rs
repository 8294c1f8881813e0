//! Which implementation object serves a board: the one place that names the C++ core,
//! BrainFlow's library, the Rust twins and the BLE crate.

use super::kind::{BoardKind, BreakerLinkGuard};
use super::legacy::LegacyBackend;
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
