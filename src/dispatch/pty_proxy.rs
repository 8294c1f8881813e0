//! BrainFlow's board in front of the real device, for shadow and standby against
//! BrainFlow's own library: the dispatcher owns the serial device and gives BrainFlow a
//! pseudo-terminal instead. Every chunk read from the device goes, unchanged and in order,
//! to the pty (BrainFlow reads it) and into the flow the Rust decoder reads; every byte
//! BrainFlow writes on the pty (its handshake, `b`, `s`, channel settings) goes into the
//! same flow and is written to the device once. One process, one reader, no IPC.
//!
//! The device side is opened by the one serial `open` (`rust_boards::serial::open_serial`).

use board_api::{BoardError, Result};
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, PtyMaster};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use rust_boards::serial::open_serial;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What crossed the proxy, in the order it crossed.
#[derive(Debug, Clone, PartialEq)]
pub enum Flow {
    /// Bytes the device sent, with their arrival time (Unix seconds).
    Device { at: f64, bytes: Vec<u8> },
    /// Bytes BrainFlow wrote for the device (commands).
    Host(Vec<u8>),
}

#[derive(Default)]
struct Shared {
    flows: Mutex<VecDeque<Flow>>,
    failure: Mutex<Option<String>>,
    stop: AtomicBool,
}

pub struct PtyProxy {
    slave_path: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Device bytes kept for a BrainFlow that is not reading (before its stream starts); past
/// this the oldest are dropped, as a serial driver's buffer would overrun.
const MAX_PENDING_FOR_PTY: usize = 1 << 20;

fn pty_error(what: &str, e: impl std::fmt::Display) -> BoardError {
    BoardError::general(format!("cannot give BrainFlow a pseudo-terminal ({what}: {e}), so the session cannot run both sides"))
}

/// Why a proxy could not start: the device itself (the session cannot run at all), or the
/// pseudo-terminal (the session can still run BrainFlow's board on the device alone).
#[derive(Debug)]
pub enum ProxyError {
    Device(BoardError),
    Pty(BoardError),
}

impl PtyProxy {
    /// Opens the device at `device_path` and a pty for BrainFlow, and starts forwarding.
    pub fn start(device_path: &str) -> std::result::Result<PtyProxy, ProxyError> {
        let device = open_serial(device_path).map_err(ProxyError::Device)?;
        PtyProxy::around(device, device_path).map_err(ProxyError::Pty)
    }

    fn around(device: File, device_path: &str) -> Result<PtyProxy> {
        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY).map_err(|e| pty_error("posix_openpt", e))?;
        grantpt(&master).map_err(|e| pty_error("grantpt", e))?;
        unlockpt(&master).map_err(|e| pty_error("unlockpt", e))?;
        let slave_path = ptsname_r(&master).map_err(|e| pty_error("ptsname", e))?;
        // Our own handle on the slave keeps the master from seeing a hang-up between
        // BrainFlow's open and close; raw mode so that no byte is translated.
        let keepalive = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(OFlag::O_NOCTTY.bits())
            .open(&slave_path)
            .map_err(|e| pty_error("open the slave", e))?;
        let mut termios = tcgetattr(keepalive.as_fd()).map_err(|e| pty_error("tcgetattr", e))?;
        cfmakeraw(&mut termios);
        tcsetattr(keepalive.as_fd(), SetArg::TCSANOW, &termios).map_err(|e| pty_error("tcsetattr", e))?;
        let flags = OFlag::from_bits_truncate(fcntl(master.as_fd(), FcntlArg::F_GETFL).map_err(|e| pty_error("fcntl", e))?);
        fcntl(master.as_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).map_err(|e| pty_error("fcntl", e))?;
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        let span = tracing::Span::current();
        let thread = std::thread::Builder::new()
            .name("switchyard-pty-proxy".into())
            .spawn(move || span.in_scope(|| forward(device, master, keepalive, &thread_shared)))
            .map_err(|e| pty_error("start the forwarding thread", e))?;
        tracing::info!(device = device_path, pty = %slave_path, "BrainFlow's board reads the device through a pseudo-terminal");
        Ok(PtyProxy { slave_path, shared, thread: Some(thread) })
    }

    /// The pty BrainFlow's board opens as its serial port.
    pub fn slave_path(&self) -> &str {
        &self.slave_path
    }

    /// Everything that crossed since the last call, in order.
    pub fn take_flows(&self) -> Vec<Flow> {
        self.shared.flows.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect()
    }

    /// Why the device side stopped, if it did.
    pub fn failure(&self) -> Option<String> {
        self.shared.failure.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for PtyProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn forward(mut device: File, mut master: PtyMaster, _keepalive: File, shared: &Shared) {
    let mut to_pty: VecDeque<u8> = VecDeque::new();
    let mut buf = [0u8; 4096];
    let push = |flow: Flow| shared.flows.lock().unwrap_or_else(|p| p.into_inner()).push_back(flow);
    let fail = |why: String| {
        tracing::warn!(reason = %why, "device behind BrainFlow's pty stopped");
        *shared.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    };
    while !shared.stop.load(Ordering::Acquire) {
        let master_events = if to_pty.is_empty() { PollFlags::POLLIN } else { PollFlags::POLLIN | PollFlags::POLLOUT };
        let mut fds = [PollFd::new(device.as_fd(), PollFlags::POLLIN), PollFd::new(master.as_fd(), master_events)];
        match poll(&mut fds, PollTimeout::from(20u16)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return fail(format!("poll failed: {e}")),
        }
        let device_events = fds[0].revents().unwrap_or(PollFlags::empty());
        let pty_events = fds[1].revents().unwrap_or(PollFlags::empty());
        if device_events.intersects(PollFlags::POLLIN) {
            match device.read(&mut buf) {
                Ok(0) => return fail("the device hung up".into()),
                Ok(n) => {
                    push(Flow::Device { at: super::now_unix(), bytes: buf[..n].to_vec() });
                    to_pty.extend(&buf[..n]);
                    let excess = to_pty.len().saturating_sub(MAX_PENDING_FOR_PTY);
                    to_pty.drain(..excess);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return fail(format!("reading the device failed: {e}")),
            }
        } else if device_events.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
            return fail("the device hung up".into());
        }
        if pty_events.intersects(PollFlags::POLLIN) {
            if let Ok(n) = master.read(&mut buf) {
                if n > 0 {
                    let command = buf[..n].to_vec();
                    push(Flow::Host(command.clone()));
                    if let Err(e) = device.write_all(&command).and_then(|()| device.flush()) {
                        return fail(format!("writing BrainFlow's command to the device failed: {e}"));
                    }
                }
            }
        }
        while !to_pty.is_empty() {
            let (front, _) = to_pty.as_slices();
            match master.write(front) {
                Ok(0) => break,
                Ok(n) => {
                    to_pty.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break, // full: BrainFlow is not reading now; POLLOUT says when
            }
        }
    }
}
