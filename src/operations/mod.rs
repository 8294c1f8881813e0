//! Operations: what `switchyard serve` and the C API's monitoring endpoint share to run
//! the runtime in the open. The backend the monitoring server presents ([`Operations`]:
//! status document, operator controls, audit trail), the [`Telemetry`] that turns the
//! runtime's counters, transitions and reloads into metrics and events, the
//! [`FleetTotals`] of the sessions served, the operator token, the server's start, and the
//! migration controller ([`plans`]) with its evidence sources ([`prometheus`],
//! [`local_evidence`]); Alertmanager's webhook is applied here as the controls are.
//!
//! Not here: breaker modes and operator overrides (the runtime is their one writer:
//! [`crate::Runtime::set_breaker_override`]), the HTTP server and metric names (the
//! `monitoring` crate), sessions, recordings and signals (`serve`).

pub mod local_evidence;
pub mod plans;
pub mod prometheus;
pub mod state;
pub mod telemetry;
pub mod totals;

pub use state::Operations;
pub use telemetry::Telemetry;
pub use totals::FleetTotals;

use board_api::BoardId;
use monitoring::{Server, ServerError, ServerOptions, Token, TokenError};
use std::net::SocketAddr;
use std::sync::Arc;

/// The boards the status page and the metrics show: every board switchyard implements, and
/// of the boards only BrainFlow implements those the config names or that have had a
/// session (the other fifty-odd would be rows of zeros).
pub fn shown_boards(runtime: &crate::Runtime) -> impl Iterator<Item = BoardId> + '_ {
    let snapshot = runtime.store().load_full();
    BoardId::EVERY.into_iter().filter(move |board| {
        !board.is_legacy_only()
            || snapshot.config.board(*board).listed
            || runtime.kind(*board).counters.sessions_opened.load(std::sync::atomic::Ordering::Relaxed) > 0
    })
}

/// The environment variable that may hold the operator token.
pub const TOKEN_ENV: &str = "SWITCHYARD_CONTROL_TOKEN";

/// The operator token: from `token_file` when one is named, else from [`TOKEN_ENV`], else
/// none (controls disabled).
pub fn load_token(token_file: Option<&std::path::Path>) -> Result<Option<Token>, TokenError> {
    if let Some(path) = token_file {
        return Token::from_file(path).map(Some);
    }
    match std::env::var(TOKEN_ENV) {
        Ok(text) => Token::new(&text, TOKEN_ENV).map(Some),
        Err(_) => Ok(None),
    }
}

/// Starts the monitoring server on `listen` for `operations`, with the config's
/// `monitoring.allowed_hosts`.
pub fn start_server(operations: Arc<Operations>, listen: SocketAddr, token: Option<Token>) -> Result<Server, ServerError> {
    let allowed_hosts = operations.runtime.store().load().config.monitoring.allowed_hosts.clone();
    Server::start(ServerOptions { allowed_hosts, token, ..ServerOptions::new(listen) }, operations)
}
