//! Monitoring for switchyard: Prometheus metric names and their recorder, the status
//! document with the HTML page rendered from it, the audit trail and the 15-minute
//! history behind the page, and the
//! HTTP server (hyper on tokio) that serves `/`, `/status`, `/metrics` and the operator
//! controls for both `switchyard serve` and the C API's endpoint.
//!
//! This crate owns no routing or breaker logic: the runtime side implements [`Backend`]
//! (what the status is, what a control action does) and this crate only presents it. The
//! Grafana dashboard and Prometheus alert rules that read these metrics live beside it in
//! this folder (`grafana-dashboard.json`, `alert-rules.yml`).
#![forbid(unsafe_code)]

pub mod audit;
pub mod backend;
pub mod control;
pub mod history;
pub mod http;
pub mod names;
pub mod page;
pub mod status;

pub use audit::AuditTrail;
pub use backend::Backend;
pub use control::{AlertAction, AlertInstruction, ControlAction, ControlError, Token, TokenError, ALERTMANAGER_PATH};
pub use http::limits::Limits;
pub use http::{Server, ServerError, ServerOptions};
pub use names::{install_recorder, RecorderError};
pub use history::History;
pub use status::{BoardStatus, EventRecord, LinkSummary, MigrationCheck, MigrationView, RampView, RefusalRecord, StatusDocument};
