//! One request to one answer: `GET`/`HEAD` of `/`, `/status` and `/metrics`, `OPTIONS`,
//! and `POST /control/...`. Every answer carries the hardening headers; every control
//! request is counted in `switchyard_control_requests_total` and audited, whatever its
//! answer; refusals go to the coalesced refusal list, never to the operator events.

use super::limits::Limits;
use super::policy::HostPolicy;
use crate::audit::truncate;
use crate::backend::Backend;
use crate::control::{AlertInstruction, ControlAction, ControlError, Token, ALERTMANAGER_PATH, MAX_ALERTMANAGER_BODY};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::Arc;

/// No script at all; the page's only style is inline; nothing may frame it.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TEXT: &str = "text/plain; charset=utf-8";

/// What every request of the server shares.
pub struct Shared {
    pub backend: Arc<dyn Backend>,
    pub token: Option<Token>,
    pub policy: HostPolicy,
    pub limits: Limits,
}

/// One connection's view: the shared parts and who is on each end.
pub struct ConnectionContext {
    pub shared: Arc<Shared>,
    pub peer: SocketAddr,
    pub local: SocketAddr,
}

fn answer(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static(TEXT)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn text(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    answer(status, TEXT, format!("{message}\n"))
}

fn with_header(mut response: Response<Full<Bytes>>, name: header::HeaderName, value: &'static str) -> Response<Full<Bytes>> {
    response.headers_mut().insert(name, HeaderValue::from_static(value));
    response
}

fn count_control(action: &'static str, result: &'static str) {
    metrics::counter!(crate::names::CONTROL_REQUESTS_TOTAL, "action" => action, "result" => result).increment(1);
}

impl ConnectionContext {
    fn refuse(&self, reason: &str, request_line: &str) {
        if self.shared.backend.audit().refused(self.peer.ip(), reason, request_line) {
            tracing::warn!(source = %self.peer, reason, request = %truncate(request_line, 160), "request refused (further ones from this source for this reason are counted, not logged, for a minute)");
        }
    }

    fn operator_event(&self, detail: String) {
        self.shared.backend.audit().record("operator", &format!("{detail} (from {})", self.peer));
    }

    /// The `Host`/`Origin` check: the reason a request is refused, if it is.
    fn misdirected(&self, request: &Request<Incoming>) -> Option<String> {
        let policy = &self.shared.policy;
        let host = request.headers().get(header::HOST).map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
        let host = host.or_else(|| request.uri().authority().map(|a| a.to_string()));
        match host {
            None => return Some("no Host header".to_owned()),
            Some(h) if !policy.allows_host(&h, self.local) => return Some(format!("Host `{}` not allowed", truncate(&h, 64))),
            Some(_) => {}
        }
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let origin = String::from_utf8_lossy(origin.as_bytes());
            if !policy.allows_origin(&origin, self.local) {
                return Some(format!("Origin `{}` not allowed", truncate(&origin, 64)));
            }
        }
        None
    }

    pub async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let limits = &self.shared.limits;
        let path = request.uri().path().to_owned();
        let request_line = format!("{} {}", request.method(), request.uri());
        let is_control = path.starts_with("/control");
        let target_len = request.uri().to_string().len();
        if target_len > limits.max_request_line {
            return text(StatusCode::URI_TOO_LONG, &format!("request target of {target_len} bytes is longer than {}", limits.max_request_line));
        }
        let head_len: usize = request.headers().iter().map(|(n, v)| n.as_str().len() + v.len() + 4).sum::<usize>() + target_len;
        if head_len > limits.max_head {
            return text(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, &format!("request head of {head_len} bytes is larger than {}", limits.max_head));
        }
        if let Some(reason) = self.misdirected(&request) {
            self.refuse(&reason, &request_line);
            if is_control {
                count_control(ControlAction::label_of(&path), "forbidden");
            }
            let names = self.shared.policy.names().join(", ");
            return text(
                StatusCode::FORBIDDEN,
                &format!("{reason}: this server answers to {names} and the address it was reached on; add other names to monitoring.allowed_hosts"),
            );
        }
        if is_control {
            return self.control(request, &path, &request_line).await;
        }
        let method = request.method().clone();
        match (&method, path.as_str()) {
            (&Method::GET | &Method::HEAD, "/") => answer(StatusCode::OK, "text/html; charset=utf-8", crate::page::render(&self.shared.backend.status())),
            (&Method::GET | &Method::HEAD, "/status") => {
                answer(StatusCode::OK, "application/json", serde_json::to_vec_pretty(&self.shared.backend.status()).unwrap_or_default())
            }
            (&Method::GET | &Method::HEAD, "/metrics") => answer(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", self.shared.backend.metrics()),
            (&Method::OPTIONS, _) => with_header(answer(StatusCode::NO_CONTENT, TEXT, Bytes::new()), header::ALLOW, "GET, HEAD, OPTIONS"),
            (&Method::GET | &Method::HEAD, _) => text(StatusCode::NOT_FOUND, "not found: try /, /status or /metrics"),
            _ => with_header(text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: /, /status and /metrics take GET or HEAD"), header::ALLOW, "GET, HEAD, OPTIONS"),
        }
    }

    async fn control(&self, request: Request<Incoming>, path: &str, request_line: &str) -> Response<Full<Bytes>> {
        let label = ControlAction::label_of(path);
        if request.method() == Method::OPTIONS {
            count_control(label, "method_not_allowed");
            return with_header(answer(StatusCode::NO_CONTENT, TEXT, Bytes::new()), header::ALLOW, "POST, OPTIONS");
        }
        if request.method() != Method::POST {
            self.refuse("controls take POST", request_line);
            count_control(label, "method_not_allowed");
            return with_header(text(StatusCode::METHOD_NOT_ALLOWED, "controls take POST"), header::ALLOW, "POST, OPTIONS");
        }
        let Some(token) = &self.shared.token else {
            self.refuse("controls are disabled (no token configured)", request_line);
            count_control(label, "forbidden");
            return text(
                StatusCode::FORBIDDEN,
                "controls are disabled: set a control token (serve: --token-file or SWITCHYARD_CONTROL_TOKEN; the C API: SWITCHYARD_CONTROL_TOKEN_FILE or SWITCHYARD_CONTROL_TOKEN) and restart",
            );
        };
        let presented = request.headers().get(header::AUTHORIZATION).and_then(|a| a.as_bytes().strip_prefix(b"Bearer ").map(<[u8]>::to_vec));
        let Some(presented) = presented else {
            self.refuse("no bearer token", request_line);
            count_control(label, "unauthorized");
            return with_header(text(StatusCode::UNAUTHORIZED, "missing Authorization: Bearer <token>"), header::WWW_AUTHENTICATE, "Bearer realm=\"switchyard\"");
        };
        if !token.matches(presented.trim_ascii()) {
            self.refuse("wrong token", request_line);
            count_control(label, "unauthorized");
            return with_header(
                text(StatusCode::UNAUTHORIZED, "wrong token"),
                header::WWW_AUTHENTICATE,
                "Bearer realm=\"switchyard\", error=\"invalid_token\"",
            );
        }
        // Authenticated from here: each outcome is the operator's own, in the operator events.
        let limits = &self.shared.limits;
        // Alertmanager's webhook carries its alerts in the body; the other controls take none.
        let alerts = path == ALERTMANAGER_PATH;
        let max_body = if alerts { MAX_ALERTMANAGER_BODY } else { limits.max_body };
        let body = tokio::time::timeout(limits.body_timeout, Limited::new(request.into_body(), max_body).collect()).await;
        let mut bytes = Bytes::new();
        let refused_body = match body {
            Ok(Ok(collected)) => {
                bytes = collected.to_bytes();
                None
            }
            Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Some((
                StatusCode::PAYLOAD_TOO_LARGE,
                if alerts {
                    format!("an Alertmanager notification of more than {max_body} bytes; split the group (group_by) into smaller ones")
                } else {
                    format!("controls take no body; this one is larger than {max_body} bytes")
                },
            )),
            Ok(Err(e)) => Some((StatusCode::BAD_REQUEST, format!("unreadable body: {e}"))),
            Err(_) => Some((StatusCode::REQUEST_TIMEOUT, format!("the body did not arrive within {:?}", limits.body_timeout))),
        };
        if let Some((status, reason)) = refused_body {
            count_control(label, "bad_request");
            self.operator_event(format!("{} refused: {reason}", truncate(request_line, 160)));
            return text(status, &reason);
        }
        let parsed = if alerts { AlertInstruction::from_webhook(&bytes).map(ControlAction::Alerts) } else { ControlAction::parse(path) };
        let action = match parsed {
            Ok(a) => a,
            Err(reason) => {
                count_control(label, "bad_request");
                self.operator_event(format!("{} refused: {reason}", truncate(request_line, 160)));
                return text(StatusCode::BAD_REQUEST, &reason);
            }
        };
        match self.shared.backend.control(&action, self.peer) {
            Ok(message) => {
                count_control(label, "applied");
                tracing::warn!(source = %self.peer, action = action.name(), "operator action");
                self.operator_event(message.clone());
                text(StatusCode::OK, &message)
            }
            Err(ControlError::BadRequest(reason)) => {
                count_control(label, "bad_request");
                self.operator_event(format!("{} refused: {reason}", action.name()));
                text(StatusCode::BAD_REQUEST, &reason)
            }
            Err(ControlError::Failed(reason)) => {
                count_control(label, "failed");
                self.operator_event(format!("{} failed: {reason}", action.name()));
                text(StatusCode::INTERNAL_SERVER_ERROR, &reason)
            }
        }
    }
}
