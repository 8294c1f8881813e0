//! The one owner of a serial device when a session runs both implementations.
//!
//! Two implementations must never fight over one port, so in shadow and standby neither
//! board opens it: this transport does, speaks the handshake, writes the commands, and
//! keeps every chunk it reads with the time it arrived. The session's dual engine hands
//! each chunk to both decoders, the C++ one inline and the Rust one on its worker: I/O
//! once, decode twice.
//!
//! It is deliberately protocol-light: it knows the Cyton's text conventions (`v`, `d`,
//! replies ending `$$$`), not its packets.

use board_api::{BoardError, ExitCode, Result};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use rust_boards::serial::open_serial;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the reader thread has read and not yet handed out.
#[derive(Default)]
struct Inbox {
    chunks: VecDeque<(f64, Vec<u8>)>,
    /// Chunks read since the port opened (tells a waiter that something arrived even
    /// when someone else took it).
    received: u64,
    /// Set when the device hung up or a read failed.
    failed: Option<String>,
}

struct Shared {
    inbox: Mutex<Inbox>,
    arrived: Condvar,
    stop: AtomicBool,
}

pub struct SharedPort {
    path: String,
    port: Arc<File>,
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
}

/// How long the reader waits in `poll` before checking whether it should stop. Only an
/// idle port wakes this often; a streaming one wakes for its bytes.
const STOP_CHECK: u16 = 100;

impl SharedPort {
    /// Opens `path` raw at 115200 8N1 (`rust_boards::serial::open_serial`, the same open
    /// the Rust Cyton boards use), greets the board (`v`, then defaults `d`) and
    /// starts reading. `timeout` bounds each reply.
    pub fn open(path: &str, timeout: Duration) -> Result<SharedPort> {
        let port = Arc::new(open_serial(path)?);
        let shared = Arc::new(Shared { inbox: Mutex::new(Inbox::default()), arrived: Condvar::new(), stop: AtomicBool::new(false) });
        let reader_port = port.clone();
        let reader_shared = shared.clone();
        let reader = std::thread::Builder::new()
            .name("switchyard-port".into())
            .spawn({
                // The reader's events belong to the session and call that opened the port.
                let span = tracing::Span::current();
                move || span.in_scope(|| read_loop(&reader_port, &reader_shared))
            })
            .map_err(|e| BoardError::general(format!("cannot start the reader for {path}: {e}")))?;
        let port = SharedPort { path: path.to_owned(), port, shared, reader: Some(reader) };
        port.write(b"v")?;
        port.reply(timeout).map_err(|got| {
            BoardError::new(
                ExitCode::BoardNotReadyError,
                format!("no greeting ending $$$ from {path} within {timeout:?} after 'v' (got {} bytes)", got.len()),
            )
        })?;
        // BrainFlow's rule: the answer to `d` may be silence (its CI emulator never answers
        // it); only a reply starting `Failure` refuses.
        port.write(b"d")?;
        let reply = port
            .reply(timeout.min(DEFAULTS_REPLY_WAIT))
            .unwrap_or_else(|partial| String::from_utf8_lossy(&partial).into_owned());
        if reply.starts_with("Failure") {
            return Err(BoardError::new(ExitCode::BoardNotReadyError, format!("{path} refused defaults: {reply}")));
        }
        Ok(port)
    }

    pub fn write(&self, bytes: &[u8]) -> Result<()> {
        let mut port: &File = &self.port;
        port.write_all(bytes).and_then(|()| port.flush()).map_err(|e| {
            BoardError::new(
                ExitCode::BoardWriteError,
                format!("cannot write {:?} to {}: {e}", String::from_utf8_lossy(bytes), self.path),
            )
        })
    }

    /// Everything read since the last call, oldest first, each with its arrival time.
    pub fn take_chunks(&self) -> Vec<(f64, Vec<u8>)> {
        let mut inbox = self.shared.inbox.lock().unwrap_or_else(|p| p.into_inner());
        inbox.chunks.drain(..).collect()
    }

    /// Waits, consuming nothing, until nothing has arrived for `quiet` or `limit` has
    /// passed. After `s`, this is how packets the board sent before it saw the command
    /// are still read (docs/board-behaviour.md, Cyton stop).
    pub fn wait_until_quiet(&self, quiet: Duration, limit: Duration) {
        let started = Instant::now();
        let mut inbox = self.shared.inbox.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = inbox.received;
        let mut last_arrival = started;
        loop {
            let now = Instant::now();
            let quiet_until = last_arrival + quiet;
            let give_up_at = started + limit;
            if now >= quiet_until || now >= give_up_at || inbox.failed.is_some() {
                return;
            }
            let wait = quiet_until.min(give_up_at) - now;
            inbox = self.shared.arrived.wait_timeout(inbox, wait).unwrap_or_else(|p| p.into_inner()).0;
            if inbox.received != seen {
                seen = inbox.received;
                last_arrival = Instant::now();
            }
        }
    }

    /// Why the reader stopped on its own (the device went away), if it did.
    pub fn failure(&self) -> Option<String> {
        self.shared.inbox.lock().unwrap_or_else(|p| p.into_inner()).failed.clone()
    }

    /// Drops everything read and not yet handed out.
    pub fn discard_unread(&self) -> usize {
        let mut inbox = self.shared.inbox.lock().unwrap_or_else(|p| p.into_inner());
        let dropped = inbox.chunks.iter().map(|(_, bytes)| bytes.len()).sum();
        inbox.chunks.clear();
        dropped
    }

    /// Consumes what arrives until it ends with `$$$` (Ok, the text) or `timeout` passes
    /// (Err, what came). Only meaningful while the board is not streaming.
    pub fn reply(&self, timeout: Duration) -> std::result::Result<String, Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut text = Vec::new();
        let mut inbox = self.shared.inbox.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            while let Some((_, bytes)) = inbox.chunks.pop_front() {
                text.extend_from_slice(&bytes);
            }
            if text.ends_with(b"$$$") {
                return Ok(String::from_utf8_lossy(&text).into_owned());
            }
            let now = Instant::now();
            if now >= deadline || inbox.failed.is_some() {
                return Err(text);
            }
            inbox = self.shared.arrived.wait_timeout(inbox, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

impl Drop for SharedPort {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

fn read_loop(port: &File, shared: &Shared) {
    let mut buf = vec![0u8; 4096];
    while !shared.stop.load(Ordering::Acquire) {
        let mut fds = [PollFd::new(port.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(STOP_CHECK)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return fail(shared, format!("poll on the serial port failed: {e}")),
        }
        let revents = fds[0].revents().unwrap_or(PollFlags::empty());
        if revents.contains(PollFlags::POLLIN) {
            let mut reader = port;
            match reader.read(&mut buf) {
                Ok(0) => return fail(shared, "the serial device closed (end of file)".into()),
                Ok(n) => {
                    let mut inbox = shared.inbox.lock().unwrap_or_else(|p| p.into_inner());
                    inbox.chunks.push_back((super::now_unix(), buf[..n].to_vec()));
                    inbox.received += 1;
                    drop(inbox);
                    shared.arrived.notify_all();
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return fail(shared, format!("reading the serial port failed: {e}")),
            }
        } else if revents.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL) {
            return fail(shared, "the serial device hung up".into());
        }
    }
}

fn fail(shared: &Shared, why: String) {
    tracing::error!(error = %why, "shared serial transport stopped reading");
    shared.inbox.lock().unwrap_or_else(|p| p.into_inner()).failed = Some(why);
    shared.arrived.notify_all();
}

/// How long prepare waits for an answer to `d` before taking silence as consent.
const DEFAULTS_REPLY_WAIT: Duration = Duration::from_secs(1);
