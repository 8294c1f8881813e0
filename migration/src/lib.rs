//! Migration: where a board's plan (`boards.<board>.migration`, parsed by `toggles`)
//! stands, judged on evidence. At each boundary the evidence over the stage so far is
//! judged into a [`Verdict`]: advance, hold with the reason, or roll back. A [`Walk`]
//! replays boundaries from the plan's start, asking an [`EvidenceSource`] about each one at
//! that boundary's time, so hosts that ask the same Prometheus reach the same stage at the
//! same boundary, and a restarted host reaches it again from the same history.
//!
//! Pure: time is passed in, nothing sleeps, nothing here does I/O. It owns the judging
//! rules ([`judge`]), the replay ([`Walk`]), the built-in PromQL of each measure
//! ([`promql`]) and the reading of Prometheus's query answers ([`parse_query_answer`]).
//! It does not own the HTTP client, the thread that drives a walk, or applying a stage
//! (the binary does both, applying through the toggle store). [`exposition`] reads our own
//! `/metrics` text back, for a host that judges its own evidence (`evidence: local`).
#![forbid(unsafe_code)]

pub mod exposition;
mod judge;
mod prom;
mod walk;

pub use judge::{judge, CheckLine, CheckState, Judgement, Reading, Readings, Verdict};
pub use prom::{parse_query_answer, promql, window_text, AnswerError};
pub use walk::{Asked, EvidenceSource, Move, Position, Unanswered, Walk};
pub use judge::measures_of;
