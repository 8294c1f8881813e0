//! What the HTTP server asks of the runtime it presents.

use crate::audit::AuditTrail;
use crate::control::{ControlAction, ControlError};
use crate::status::StatusDocument;
use std::net::SocketAddr;

/// The runtime side of the monitoring server: `serve` and the C API's endpoint implement
/// it over the same operations backend.
pub trait Backend: Send + Sync + 'static {
    fn status(&self) -> StatusDocument;
    fn metrics(&self) -> String;
    /// Carries out an authenticated action. The server audits and counts it, whatever the
    /// answer.
    fn control(&self, action: &ControlAction, source: SocketAddr) -> Result<String, ControlError>;
    /// Where the server records operator actions and refused requests.
    fn audit(&self) -> &AuditTrail;
}
