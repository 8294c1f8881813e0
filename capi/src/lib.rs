//! BrainFlow's board-controller C API (`libBoardController`) on top of the switchyard
//! runtime, so that programs and bindings written for BrainFlow run unchanged while each
//! session is routed to the C++ board or its Rust twin underneath.
//!
//! This crate owns the exported C functions, the table of sessions keyed by
//! (board id, input params) with BrainFlow's duplicate and not-created errors, the
//! translation of pointers and lengths into checked Rust values, file streamers, the
//! logging controls, and the opt-in monitoring endpoint of the host process. It does not own routing, boards or descriptors: those come from the
//! `switchyard` runtime and `board_api`.
//!
//! Every export checks its pointers and lengths (null or negative is
//! INVALID_ARGUMENTS_ERROR), validates UTF-8 and JSON, and catches panics before they
//! reach C (a panic is GENERAL_ERROR). Output buffers are the caller's contract, as in
//! BrainFlow: a data buffer must hold `num_rows * count` doubles; we trust that length
//! because C gives us no way to check it.
// The library is named as BrainFlow names it (libBoardController), not in snake case.
#![allow(non_snake_case)]
// Every unsafe operation, even inside an unsafe fn, is in a block with its SAFETY reason.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod exports;
mod logging;
mod monitor;
mod streamer;
mod table;

pub use exports::*;
pub use monitor::{LISTEN_ENV, LISTEN_FILE_ENV, TOKEN_FILE_ENV};
pub use table::{CONFIG_ENV, DEFAULT_CONFIG_YAML};
