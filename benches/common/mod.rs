//! Shared by the benchmarks.

use board_api::{Board, Preset};
use std::time::Duration;

/// Streams until 300 samples are buffered, then stops, so reads of 250 measure transfer
/// only.
pub fn filled(board: &mut dyn Board) {
    board.prepare_session().unwrap();
    board.start_stream(10_000).unwrap();
    while board.board_data_count(Preset::Default).unwrap() < 300 {
        std::thread::sleep(Duration::from_millis(50));
    }
    board.stop_stream().unwrap();
}
