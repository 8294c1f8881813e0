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
//! Every other BrainFlow board id is a [`BoardId::Legacy`] (the table in `legacy_ids.rs`):
//! its descriptors are not ours but what BrainFlow's library answers, installed here once
//! that library is loaded ([`install_legacy_facts`]), so that [`descriptor`] stays the one
//! place every crate asks.
//!
//! It also holds [`Lifecycle`], BrainFlow's lifecycle rules (which call in which state answers which
//! exit code) written once, for every Rust board and the dispatcher's engines to keep.
//!
//! It does not own any implementation, any I/O, nor any routing decision.
#![forbid(unsafe_code)]

mod board;
mod descriptor;
mod error;
mod ids;
mod legacy_ids;
mod lifecycle;
mod matrix;
mod params;

pub use board::{Board, DecodeCounters, GeneratorState, SampleGenerator, StreamDecoder};
pub use descriptor::{descriptor, descriptors_json, install_legacy_facts, legacy_facts, BoardDescriptor, ChannelKind, LegacyFacts, LegacyPresetFacts};
pub use error::{caller_error_codes, BoardError, ExitCode, Result};
pub use ids::{BoardId, LegacyBoardId, Preset};
pub use legacy_ids::{LegacyBoard, LEGACY_BOARDS};
pub use lifecycle::{buffer_size_is_valid, Lifecycle, SessionPhase, WIDEST_PRESET_ROWS};
pub use matrix::SampleMatrix;
pub use params::InputParams;
