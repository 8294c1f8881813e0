//! The Rust twins of the legacy boards, written to the same contract (`board_api`) and to
//! `docs/board-behaviour.md`, sharing no code with the C++ core.
//!
//! This crate owns:
//! - [`SyntheticBoard`] and its [`SyntheticGenerator`] (seeded SplitMix64, bit-identical
//!   to the C++ generator for the same seed);
//! - [`PlaybackBoard`] and [`PlaybackDecoder`] (BrainFlow CSV files);
//! - [`CytonBoard`] for Cyton and Cyton Daisy, around [`CytonDecoder`];
//! - an injectable [`Clock`];
//! - [`serial::open_serial`], the one serial port open (the dispatcher's device transport
//!   opens its ports here too).
//!
//! Each preset's buffer is a [`SampleRing`] (crate `sample_ring`, shared with the BLE
//! boards and the dispatcher), re-exported here.
//!
//! It does not own routing, shadow comparison or the C++ boards; the BLE boards live in
//! their own crate (`ble_boards`).
//!
//! Threading: the synthetic and playback boards have no thread at all; they produce the
//! samples due from elapsed time whenever they are read. A Cyton board has one reader
//! thread while it streams, blocked in `poll` on the serial port and a wake pipe, so it
//! only runs when bytes arrive. Serial I/O goes through POSIX termios via `nix` (no
//! device-enumeration library, hence no libudev).
#![forbid(unsafe_code)]

mod clock;
mod cyton;
mod playback;
pub mod serial;
mod session;
mod synthetic;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cyton::{CytonBoard, CytonDecoder, CYTON_ROWS, DAISY_ROWS, PACKET_LEN};
pub use playback::{read_playback_file, PlaybackBoard, PlaybackDecoder};
pub use sample_ring::SampleRing;
pub use synthetic::{SyntheticBoard, SyntheticGenerator, SYNTHETIC_AUX_ROWS, SYNTHETIC_RATE, SYNTHETIC_ROWS};

use board_api::{Board, BoardError, BoardId, ExitCode, InputParams, Result, StreamDecoder};

/// The Rust implementation of `board`, not yet prepared.
pub fn create_board(board: BoardId, params: &InputParams) -> Result<Box<dyn Board>> {
    match board {
        BoardId::Synthetic => Ok(Box::new(SyntheticBoard::new(params)?)),
        BoardId::PlaybackFile => Ok(Box::new(PlaybackBoard::new(params)?)),
        BoardId::Cyton | BoardId::CytonDaisy => Ok(Box::new(CytonBoard::new(board, params)?)),
        other => Err(BoardError::new(
            ExitCode::UnsupportedBoardError,
            format!("{other} has no implementation in rust_boards (BLE boards are in ble_boards)"),
        )),
    }
}

/// The protocol of `board` without its I/O, for reading a device once and decoding it twice.
pub fn create_decoder(board: BoardId, params: &InputParams) -> Result<Box<dyn StreamDecoder>> {
    match board {
        BoardId::Cyton => Ok(Box::new(CytonDecoder::cyton())),
        BoardId::CytonDaisy => Ok(Box::new(CytonDecoder::daisy())),
        BoardId::PlaybackFile => Ok(Box::new(PlaybackDecoder::new(params)?)),
        other => Err(BoardError::new(ExitCode::UnsupportedBoardError, format!("{other} has no stream decoder"))),
    }
}
