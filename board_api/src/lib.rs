//! The board contract: what a BrainFlow-style board is, independent of the language that
//! implements it.
//!
//! This crate owns the vocabulary every other crate speaks: board ids and presets, the
//! input-params JSON that identifies a session, BrainFlow's exit codes and an error that
//! carries one, the exact board descriptors BrainFlow reports, the row-major
//! [`SampleMatrix`], and the traits an implementation provides:
//! - [`Board`]: the full session lifecycle (prepare, stream, read, configure, release);
//! - [`StreamDecoder`]: a device protocol without its I/O, so that one transport can feed
//!   two decoders (shadow and standby modes read a device once and decode it twice);
//! - [`SampleGenerator`]: the synthetic board's signal without its clock, for the same reason.
//!
//! and [`Lifecycle`], BrainFlow's lifecycle rules (which call in which state answers which
//! exit code) written once, for every Rust board and the dispatcher's engines to keep.
//!
//! It does not own any implementation, any I/O, nor any routing decision.
#![forbid(unsafe_code)]

mod board;
mod descriptor;
mod error;
mod ids;
mod lifecycle;
mod matrix;
mod params;

pub use board::{Board, DecodeCounters, SampleGenerator, StreamDecoder};
pub use descriptor::{descriptor, descriptors_json, BoardDescriptor, ChannelKind};
pub use error::{caller_error_codes, BoardError, ExitCode, Result};
pub use ids::{BoardId, Preset};
pub use lifecycle::{buffer_size_is_valid, Lifecycle, SessionPhase, WIDEST_PRESET_ROWS};
pub use matrix::SampleMatrix;
pub use params::InputParams;
