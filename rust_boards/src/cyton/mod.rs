//! Cyton and Cyton Daisy: the decoder (bytes to samples) and the board around it.

mod board;
mod decoder;

pub use board::CytonBoard;
pub use decoder::{CytonDecoder, CYTON_ROWS, DAISY_ROWS, PACKET_LEN};
