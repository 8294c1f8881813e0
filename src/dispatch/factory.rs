//! Which implementation object serves a board: the one place that names the C++ core,
//! the Rust twins and the BLE crate.

use board_api::{Board, BoardError, BoardId, ExitCode, InputParams, Result};

/// The legacy C++ board.
pub fn cpp_board(board: BoardId, params: &InputParams) -> Result<Box<dyn Board>> {
    if !board.has_cpp_implementation() {
        return Err(BoardError::new(
            ExitCode::UnsupportedBoardError,
            format!("board {board} has no C++ implementation (it is Rust-only)"),
        ));
    }
    Ok(Box::new(core_cpp::CppBoard::new(board, params)?))
}

/// The Rust board: the serial/file/synthetic twins, or a BLE board.
pub fn rust_board(board: BoardId, params: &InputParams) -> Result<Box<dyn Board>> {
    if ble_boards::BLE_BOARDS.contains(&board) {
        ble_boards::create_board(board, params)
    } else {
        rust_boards::create_board(board, params)
    }
}

/// A seed for sessions that did not ask for one, from the clock like BrainFlow's.
pub fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x5EED)
}
