//! The monitoring HTTP server, on hyper and tokio: `GET`/`HEAD /` (HTML), `/status`
//! (JSON), `/metrics` (Prometheus text) and `POST /control/...` (operator actions, bearer
//! token). `switchyard serve` and the C API's opt-in endpoint both run this one server.
//!
//! One task per connection on a small runtime of its own (threads named
//! `switchyard-http`), so a slow, trickling or idle client holds only its own task:
//! the request head has a deadline, an idle connection is closed, writes to a client that
//! stopped reading give up, the number of connections is bounded, oversized request lines
//! and heads are answered 414 and 431. At shutdown the listener closes at once and the
//! requests in progress get [`Limits::shutdown_grace`] to finish before they are cut off.
//!
//! Every request must name this server in `Host` (and `Origin`, when a browser sends one):
//! see [`policy`]. TLS is not built in: beyond loopback, put a TLS proxy in front.

pub mod io;
pub mod limits;
pub mod policy;
pub mod routes;

use crate::backend::Backend;
use crate::control::Token;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use limits::Limits;
use policy::HostPolicy;
use routes::{ConnectionContext, Shared};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("monitoring address {addr} is already in use: stop the other process or set monitoring.listen (or --listen) to a free port")]
    PortInUse { addr: SocketAddr },
    #[error("cannot listen on monitoring address {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start the monitoring server's threads: {0}")]
    Runtime(std::io::Error),
}

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub listen: SocketAddr,
    /// Host names besides loopback and the listen address (`monitoring.allowed_hosts`).
    pub allowed_hosts: Vec<String>,
    /// Without one, controls are refused with 403.
    pub token: Option<Token>,
    pub limits: Limits,
}

impl ServerOptions {
    pub fn new(listen: SocketAddr) -> ServerOptions {
        ServerOptions { listen, allowed_hosts: Vec::new(), token: None, limits: Limits::default() }
    }
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\nRetry-After: 1\r\nConnection: close\r\n\r\ntoo many connections; try again soon\n";

/// A bound, running monitoring server. Dropping it shuts it down (see [`Server::shutdown`]).
pub struct Server {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
    stop: watch::Sender<bool>,
    open_connections: Arc<AtomicUsize>,
    grace: Duration,
}

impl Server {
    /// Binds `options.listen` (fails at once, naming it, when the port is taken) and serves.
    pub fn start(options: ServerOptions, backend: Arc<dyn Backend>) -> Result<Server, ServerError> {
        let addr = options.listen;
        let listener = std::net::TcpListener::bind(addr).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                ServerError::PortInUse { addr }
            } else {
                ServerError::Bind { addr, source }
            }
        })?;
        let bound = listener.local_addr().map_err(|source| ServerError::Bind { addr, source })?;
        listener.set_nonblocking(true).map_err(|source| ServerError::Bind { addr, source })?;
        if !bound.ip().is_loopback() {
            tracing::warn!(listen = %bound, "the monitoring server listens beyond this host, without TLS: the status page is readable and the control token crosses the network in clear; bind 127.0.0.1 or put a TLS proxy in front");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(1)
            .thread_name("switchyard-http")
            .enable_io()
            .enable_time()
            .build()
            .map_err(ServerError::Runtime)?;
        let listener = {
            let _entered = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(|source| ServerError::Bind { addr, source })?
        };
        let grace = options.limits.shutdown_grace;
        let shared = Arc::new(Shared {
            backend,
            token: options.token,
            policy: HostPolicy::new(bound, &options.allowed_hosts),
            limits: options.limits,
        });
        let (stop, stopped) = watch::channel(false);
        let open_connections = Arc::new(AtomicUsize::new(0));
        runtime.spawn(accept_loop(listener, shared, stopped, open_connections.clone()));
        Ok(Server { addr: bound, runtime: Some(runtime), stop, open_connections, grace })
    }

    /// The address actually bound (the port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and asks every connection to finish its request in progress;
    /// returns at once. [`Server::shutdown`] (or dropping) waits for them.
    pub fn begin_shutdown(&self) {
        let _ = self.stop.send(true);
    }

    /// Stops the server: idle connections close at once, requests in progress get the
    /// grace period, whatever is left after it is cut off.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        let Some(runtime) = self.runtime.take() else { return };
        self.begin_shutdown();
        let deadline = Instant::now() + self.grace + Duration::from_millis(100);
        while self.open_connections.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        runtime.shutdown_timeout(Duration::from_millis(100));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Decrements the open-connection count however the connection's task ends.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>, open: Arc<AtomicUsize>) {
    let slots = Arc::new(Semaphore::new(shared.limits.max_connections));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(error = %e, "monitoring server cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            let _ = stream.try_write(BUSY);
            continue;
        };
        let _ = stream.set_nodelay(true);
        open.fetch_add(1, Ordering::AcqRel);
        let guard = Open(open.clone());
        let (shared, stop) = (shared.clone(), stop.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let _guard = guard;
            serve_connection(stream, peer, shared, stop).await;
        });
    }
}

async fn serve_connection(mut stream: tokio::net::TcpStream, peer: SocketAddr, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let Ok(local) = stream.local_addr() else { return };
    let limits = shared.limits.clone();
    let first = tokio::select! {
        first = tokio::time::timeout(limits.head_timeout, io::read_first_head(&mut stream, &limits)) => first,
        _ = stop.changed() => return,
    };
    let already_read = match first {
        Ok(Ok(io::FirstHead::Complete(bytes))) => bytes,
        Ok(Ok(io::FirstHead::LineTooLong)) => {
            let reason = format!("request line longer than {} bytes", limits.max_request_line);
            return io::answer_and_close(stream, "414 URI Too Long", &reason).await;
        }
        Ok(Ok(io::FirstHead::HeadTooLarge)) => {
            let reason = format!("request head larger than {} bytes", limits.max_head);
            return io::answer_and_close(stream, "431 Request Header Fields Too Large", &reason).await;
        }
        Ok(Ok(io::FirstHead::Closed)) | Ok(Err(_)) => return,
        Err(_) => {
            let reason = format!("the request head did not arrive within {:?}", limits.head_timeout);
            return io::answer_and_close(stream, "408 Request Timeout", &reason).await;
        }
    };
    let context = Arc::new(ConnectionContext { shared, peer, local });
    let service = hyper::service::service_fn(move |request| {
        let context = context.clone();
        async move { Ok::<_, std::convert::Infallible>(context.handle(request).await) }
    });
    let io = TokioIo::new(io::Connection::new(stream, already_read, limits.write_timeout));
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        // Room for a head at the limits plus what follows it; the handler answers 414/431
        // for requests after the first that cross the limits.
        .max_buf_size((limits.max_head + 8 * 1024).max(8 * 1024))
        .serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = stop.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(limits.shutdown_grace, connection.as_mut()).await;
        }
    }
}
