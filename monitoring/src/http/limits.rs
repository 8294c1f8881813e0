//! The bounds that keep one client from holding the server: how long a request head and
//! body may take, how big they may be, how many connections may be open at once, and how
//! long shutdown waits for clients.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Limits {
    /// The whole request head must arrive within this, counted from when the connection
    /// starts waiting for it; an idle keep-alive connection is closed after it too.
    pub head_timeout: Duration,
    /// A control request's body must arrive within this (else 408).
    pub body_timeout: Duration,
    /// A write that makes no progress for this long (a client that stopped reading)
    /// closes the connection.
    pub write_timeout: Duration,
    /// Connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// Longest request line (method, target, version): else 414.
    pub max_request_line: usize,
    /// Longest request head (request line and headers): else 431.
    pub max_head: usize,
    /// Largest control request body: else 413.
    pub max_body: usize,
    /// At shutdown, how long requests in progress may take before they are cut off.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            head_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            max_connections: 512,
            max_request_line: 8 * 1024,
            max_head: 16 * 1024,
            max_body: 4 * 1024,
            shutdown_grace: Duration::from_secs(1),
        }
    }
}
