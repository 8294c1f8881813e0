//! Monitoring for switchyard: Prometheus metric names and their recorder, the status
//! document with the HTML page rendered from it, and the small HTTP server that serves
//! `/`, `/status`, `/metrics` and the operator controls.
//!
//! This crate owns no routing or breaker logic: the runtime side implements [`Backend`]
//! (what the status is, what a control action does) and this crate only presents it. The
//! Grafana dashboard and Prometheus alert rules that read these metrics live beside it in
//! this folder (`grafana-dashboard.json`, `alert-rules.yml`).
#![forbid(unsafe_code)]

pub mod http;
pub mod names;
pub mod page;
pub mod status;

pub use http::{Backend, ControlAction, ControlError, Server, ServerError, Token, TokenError};
pub use names::{install_recorder, RecorderError};
pub use status::{BoardStatus, EventRecord, LinkSummary, StatusDocument};
