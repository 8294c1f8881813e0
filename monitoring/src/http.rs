//! The monitoring HTTP server: `GET /` (HTML), `GET /status` (JSON), `GET /metrics`
//! (Prometheus text) and `POST /control/...` (operator actions, bearer token).
//!
//! A plain blocking server on one thread: monitoring traffic is a scrape every few
//! seconds and a person with a browser, and every read and write has a timeout so that a
//! stuck client cannot hold it.

use crate::status::StatusDocument;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const IO_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_HEADER_BYTES: usize = 16 * 1024;
const MAX_BODY_BYTES: usize = 4 * 1024;

/// An operator action requested over HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlAction {
    /// Force the board's breaker open: its sessions serve C++ until released.
    ForceOpen { board: String },
    /// Give the board's breaker back to the automatic state machine.
    Release { board: String },
    /// The breaker measures and reports but never refuses a call.
    MetricsOnly { board: String },
    KillSwitch { on: bool },
}

impl ControlAction {
    /// Parses `/control/breaker/<board>/{force-open,release,metrics-only}` and
    /// `/control/kill-switch/{on,off}`.
    pub fn parse(path: &str) -> Result<ControlAction, String> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts.as_slice() {
            ["control", "breaker", board, action] => {
                let board = board.to_string();
                match *action {
                    "force-open" => Ok(ControlAction::ForceOpen { board }),
                    "release" => Ok(ControlAction::Release { board }),
                    "metrics-only" => Ok(ControlAction::MetricsOnly { board }),
                    other => Err(format!("unknown breaker action `{other}`: use force-open, release or metrics-only")),
                }
            }
            ["control", "kill-switch", "on"] => Ok(ControlAction::KillSwitch { on: true }),
            ["control", "kill-switch", "off"] => Ok(ControlAction::KillSwitch { on: false }),
            ["control", "kill-switch", other] => Err(format!("kill switch takes `on` or `off`, not `{other}`")),
            _ => Err(format!(
                "unknown control `{path}`: use /control/breaker/<board>/force-open|release|metrics-only or /control/kill-switch/on|off"
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            ControlAction::ForceOpen { .. } => "force_open",
            ControlAction::Release { .. } => "release",
            ControlAction::MetricsOnly { .. } => "metrics_only",
            ControlAction::KillSwitch { on: true } => "kill_switch_on",
            ControlAction::KillSwitch { on: false } => "kill_switch_off",
        }
    }
}

/// Why a control action was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The request names something that does not exist (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    /// The action could not be applied (HTTP 500).
    #[error("{0}")]
    Failed(String),
}

/// What the server asks of the runtime it presents.
pub trait Backend: Send + Sync + 'static {
    fn status(&self) -> StatusDocument;
    fn metrics(&self) -> String;
    /// Carries out an authenticated action and records it in the audit trail.
    fn control(&self, action: &ControlAction, source: SocketAddr) -> Result<String, ControlError>;
    /// Records a refused control request (no token, wrong token) in the audit trail.
    fn denied(&self, path: &str, source: SocketAddr, why: &str);
}

/// The operator token. Never read from the YAML config: a file or an environment
/// variable, so the config can be shared and checked in.
#[derive(Clone)]
pub struct Token(Vec<u8>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read the control token file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the control token from {0} is empty or shorter than 16 characters; write a longer random token")]
    TooShort(String),
}

impl Token {
    pub fn new(text: &str, origin: &str) -> Result<Token, TokenError> {
        let text = text.trim();
        if text.len() < 16 {
            return Err(TokenError::TooShort(origin.to_owned()));
        }
        Ok(Token(text.as_bytes().to_vec()))
    }

    pub fn from_file(path: &Path) -> Result<Token, TokenError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read { path: path.display().to_string(), source })?;
        Token::new(&text, &path.display().to_string())
    }

    /// Compares in time that depends only on the lengths, never on where bytes differ.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let mut diff = (self.0.len() ^ presented.len()) as u64;
        for (i, expected) in self.0.iter().enumerate() {
            let got = presented.get(i).copied().unwrap_or(0);
            diff |= u64::from(expected ^ got);
        }
        diff == 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("monitoring address {addr} is already in use: stop the other process or set monitoring.listen (or --listen) to a free port")]
    PortInUse { addr: SocketAddr },
    #[error("cannot listen on monitoring address {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start the monitoring thread: {0}")]
    Thread(std::io::Error),
}

/// A bound, running monitoring server. Dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds `addr` (fails at once, naming it, when the port is taken) and serves.
    pub fn start(addr: SocketAddr, backend: Arc<dyn Backend>, token: Option<Token>) -> Result<Server, ServerError> {
        let listener = TcpListener::bind(addr).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                ServerError::PortInUse { addr }
            } else {
                ServerError::Bind { addr, source }
            }
        })?;
        let bound = listener.local_addr().map_err(|source| ServerError::Bind { addr, source })?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("switchyard-http".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if thread_stop.load(Ordering::Acquire) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let _ = handle(stream, backend.as_ref(), token.as_ref());
                    }
                }
            })
            .map_err(ServerError::Thread)?;
        Ok(Server { addr: bound, stop, thread: Some(thread) })
    }

    /// The address actually bound (the port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
}

fn read_request(stream: &TcpStream) -> Result<Request, String> {
    let mut reader = BufReader::new(stream.take((MAX_HEADER_BYTES + MAX_BODY_BYTES) as u64));
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| format!("unreadable request line: {e}"))?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err("malformed request line".into());
    };
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let method = method.to_owned();
    let mut authorization = None;
    let mut content_length = 0usize;
    let mut header_bytes = line.len();
    loop {
        let mut header = String::new();
        let n = reader.read_line(&mut header).map_err(|e| format!("unreadable header: {e}"))?;
        header_bytes += n;
        if n == 0 || header == "\r\n" || header == "\n" {
            break;
        }
        if header_bytes > MAX_HEADER_BYTES {
            return Err("headers too large".into());
        }
        if let Some((name, value)) = header.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim();
            if name == "authorization" {
                authorization = Some(value.to_owned());
            } else if name == "content-length" {
                content_length = value.parse().map_err(|_| format!("bad Content-Length `{value}`"))?;
            }
        }
    }
    if content_length > MAX_BODY_BYTES {
        return Err(format!("body of {content_length} bytes is larger than {MAX_BODY_BYTES}"));
    }
    // Controls take no body; read and discard it so the client sees a clean response.
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body).map_err(|e| format!("short body: {e}"))?;
    Ok(Request { method, path, authorization })
}

fn respond(mut stream: &TcpStream, status: &str, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

const TEXT: &str = "text/plain; charset=utf-8";

fn handle(stream: TcpStream, backend: &dyn Backend, token: Option<&Token>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let source = stream.peer_addr()?;
    let request = match read_request(&stream) {
        Ok(r) => r,
        Err(reason) => return respond(&stream, "400 Bad Request", TEXT, format!("{reason}\n").as_bytes()),
    };
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/") => respond(&stream, "200 OK", "text/html; charset=utf-8", crate::page::render(&backend.status()).as_bytes()),
        ("GET", "/status") => {
            let body = serde_json::to_vec_pretty(&backend.status()).unwrap_or_default();
            respond(&stream, "200 OK", "application/json", &body)
        }
        ("GET", "/metrics") => respond(&stream, "200 OK", "text/plain; version=0.0.4", backend.metrics().as_bytes()),
        (method, path) if path.starts_with("/control") => {
            if method != "POST" {
                return respond(&stream, "405 Method Not Allowed", TEXT, b"controls take POST\n");
            }
            let Some(token) = token else {
                backend.denied(path, source, "controls are disabled (no token configured)");
                return respond(&stream, "403 Forbidden", TEXT, b"controls are disabled: set a control token (serve: --token-file or SWITCHYARD_CONTROL_TOKEN; the C API: SWITCHYARD_CONTROL_TOKEN_FILE or SWITCHYARD_CONTROL_TOKEN) and restart\n");
            };
            let presented = request.authorization.as_deref().and_then(|a| a.strip_prefix("Bearer "));
            let Some(presented) = presented else {
                tracing::warn!(%source, path, "control request without a bearer token");
                backend.denied(path, source, "no bearer token");
                return respond(&stream, "401 Unauthorized", TEXT, b"missing Authorization: Bearer <token>\n");
            };
            if !token.matches(presented.trim().as_bytes()) {
                tracing::warn!(%source, path, "control request with a wrong token");
                backend.denied(path, source, "wrong token");
                return respond(&stream, "401 Unauthorized", TEXT, b"wrong token\n");
            }
            let action = match ControlAction::parse(path) {
                Ok(a) => a,
                Err(reason) => {
                    metrics::counter!(crate::names::CONTROL_REQUESTS_TOTAL, "action" => "unknown", "result" => "bad_request").increment(1);
                    return respond(&stream, "400 Bad Request", TEXT, format!("{reason}\n").as_bytes());
                }
            };
            match backend.control(&action, source) {
                Ok(message) => {
                    metrics::counter!(crate::names::CONTROL_REQUESTS_TOTAL, "action" => action.name(), "result" => "applied").increment(1);
                    respond(&stream, "200 OK", TEXT, format!("{message}\n").as_bytes())
                }
                Err(ControlError::BadRequest(reason)) => {
                    metrics::counter!(crate::names::CONTROL_REQUESTS_TOTAL, "action" => action.name(), "result" => "bad_request").increment(1);
                    respond(&stream, "400 Bad Request", TEXT, format!("{reason}\n").as_bytes())
                }
                Err(ControlError::Failed(reason)) => {
                    metrics::counter!(crate::names::CONTROL_REQUESTS_TOTAL, "action" => action.name(), "result" => "failed").increment(1);
                    respond(&stream, "500 Internal Server Error", TEXT, format!("{reason}\n").as_bytes())
                }
            }
        }
        ("GET", _) => respond(&stream, "404 Not Found", TEXT, b"not found: try /, /status or /metrics\n"),
        _ => respond(&stream, "405 Method Not Allowed", TEXT, b"method not allowed\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_matches_only_the_exact_bytes() {
        let token = Token::new("0123456789abcdef", "test").unwrap();
        assert!(token.matches(b"0123456789abcdef"));
        assert!(!token.matches(b"0123456789abcdeF"));
        assert!(!token.matches(b"0123456789abcde"));
        assert!(!token.matches(b"0123456789abcdef0"));
        assert!(!token.matches(b""));
    }

    #[test]
    fn short_tokens_are_refused() {
        assert!(matches!(Token::new("  short \n", "env"), Err(TokenError::TooShort(_))));
    }

    #[test]
    fn control_paths_parse_or_say_what_is_wrong() {
        assert_eq!(ControlAction::parse("/control/breaker/cyton/force-open"), Ok(ControlAction::ForceOpen { board: "cyton".into() }));
        assert_eq!(ControlAction::parse("/control/kill-switch/off"), Ok(ControlAction::KillSwitch { on: false }));
        assert!(ControlAction::parse("/control/breaker/cyton/explode").unwrap_err().contains("explode"));
        assert!(ControlAction::parse("/control/kill-switch/maybe").unwrap_err().contains("maybe"));
        assert!(ControlAction::parse("/control/other").is_err());
    }
}
