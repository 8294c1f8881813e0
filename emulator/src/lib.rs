//! A Cyton and Cyton Daisy emulator on a pseudo-terminal, so that both board
//! implementations can be tested end to end over a real serial device without hardware.
//!
//! This crate owns the device side only: it opens a pty, answers the OpenBCI text protocol
//! (`v`, `d`, `?`, `b`, `s`, channel settings `x...X`) and streams 33-byte packets at the
//! board's real rate, with optional faults (garbage between packets, bad footers, dropped
//! bytes, a stall). [`packet_stream`] returns the exact bytes the emulator would stream,
//! so decoders can be compared on identical input without any I/O.
//!
//! Two firmwares: [`Firmware::OpenBci`] answers like a real board (every reply ends in
//! `$$$`, channel settings are checked); [`Firmware::BrainFlowCi`] answers like the
//! emulator BrainFlow's own CI runs (`v` → `OpenBCI Emulator $$$`, `?` → `Imagine
//! registers here` without `$$$`, silence for `d`, channel settings and anything else;
//! packets of random bytes with footer `0xC0` at about 185 per second), so that a board
//! that prepares on BrainFlow's rig is tested to.
//!
//! It does not own any decoder or board: those live in `rust_boards` and `core_cpp`.
//!
//! The emulated signal is deterministic from the seed: a sine per channel (channel `g`
//! of 16 has amplitude `20000 (g+1)` counts and frequency `g+1` Hz, with a phase and a small
//! noise taken from the seed), accelerometer data in every tenth packet (footer `0xC0`),
//! analog readings in some packets (footer `0xC1`) and raw aux bytes in others (`0xC4`).
//! Channel gains set by commands are acknowledged but do not change the raw counts; the
//! host scales them.
#![forbid(unsafe_code)]

mod packets;
mod protocol;

pub use packets::{packet_stream, PacketSource, PACKET_LEN};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, PtyMaster};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Packets per second on the wire, for Cyton and Daisy alike (Daisy sends two packets
/// per 16-channel sample, hence 125 samples/s).
pub const PACKETS_PER_SECOND: u64 = 250;

/// Bytes the emulator keeps queued for a host that does not read; beyond this new
/// packets are discarded, as a real serial link would overrun.
const MAX_QUEUED_BYTES: usize = 64 * 1024;

/// How long the emulator thread sleeps at most between checks of its stop flag.
const MAX_IDLE: Duration = Duration::from_millis(20);

/// What the emulated board is and how it misbehaves.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Cyton with the Daisy module (16 channels, alternating odd/even packets).
    pub daisy: bool,
    /// Seeds the signal's phases, its noise and the garbage bytes.
    pub seed: u64,
    pub faults: Faults,
    /// When false the board never answers any command (a dead or wrong device), but it
    /// still streams on `b`.
    pub answer_handshake: bool,
    pub firmware: Firmware,
}

/// How the emulated board answers and what it streams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Firmware {
    /// A real Cyton's text protocol and the documented deterministic signal.
    #[default]
    OpenBci,
    /// BrainFlow's CI emulator: answers only `v` and `?`, streams random bytes.
    BrainFlowCi,
}

impl Firmware {
    /// Packets per second on the wire.
    pub fn packets_per_second(self) -> u64 {
        match self {
            Firmware::OpenBci => PACKETS_PER_SECOND,
            Firmware::BrainFlowCi => BRAINFLOW_CI_PACKETS_PER_SECOND,
        }
    }
}

/// The pace of BrainFlow's CI emulator, measured: it sleeps between packets rather than
/// keeping the board's 250 Hz.
pub const BRAINFLOW_CI_PACKETS_PER_SECOND: u64 = 185;

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions { daisy: false, seed: 0, faults: Faults::default(), answer_handshake: true, firmware: Firmware::OpenBci }
    }
}

impl EmulatorOptions {
    /// A healthy Cyton.
    pub fn cyton(seed: u64) -> Self {
        EmulatorOptions { seed, ..Default::default() }
    }
    /// A healthy Cyton with Daisy.
    pub fn daisy(seed: u64) -> Self {
        EmulatorOptions { daisy: true, seed, ..Default::default() }
    }
    /// The same board answering like BrainFlow's CI emulator.
    pub fn brainflow_ci(self) -> Self {
        EmulatorOptions { firmware: Firmware::BrainFlowCi, ..self }
    }
}

/// Faults injected into the packet stream. "Every Nth" counts packets from 1, so
/// `Some(1)` affects every packet; `Some(0)` is treated as `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// After every Nth packet insert a few garbage bytes (never `0xA0`, so garbage alone
    /// cannot look like a packet start).
    pub garbage_every: Option<u32>,
    /// Every Nth packet gets an invalid footer.
    pub bad_footer_every: Option<u32>,
    /// Every Nth packet loses one byte (never its header).
    pub drop_byte_every: Option<u32>,
    /// Stop sending after this many packets; the port stays open and commands are still read.
    pub stall_after: Option<u64>,
}

/// An emulated board on a pseudo-terminal. Dropping it stops its thread and closes the pty.
pub struct Emulator {
    port_path: PathBuf,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    stop: AtomicBool,
    packets_sent: AtomicU64,
    commands: Mutex<Vec<u8>>,
}

impl Emulator {
    /// Opens a pty in raw mode and starts the thread that plays the board.
    pub fn start(options: EmulatorOptions) -> io::Result<Emulator> {
        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY)?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let port_path = PathBuf::from(ptsname_r(&master)?);
        // Keeping our own handle on the slave means the master never sees a hang-up when
        // the host closes the port, so a board can be prepared and released repeatedly.
        let slave_keepalive = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc_o_noctty())
            .open(&port_path)?;
        // Raw mode: no echo of host bytes, no CR/LF translation of packet bytes, no line
        // buffering. The termios is the tty's, so setting it here holds for every opener.
        let mut termios = tcgetattr(slave_keepalive.as_fd())?;
        cfmakeraw(&mut termios);
        tcsetattr(slave_keepalive.as_fd(), SetArg::TCSANOW, &termios)?;
        let flags = OFlag::from_bits_truncate(fcntl(master.as_fd(), FcntlArg::F_GETFL)?);
        fcntl(master.as_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;

        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            packets_sent: AtomicU64::new(0),
            commands: Mutex::new(Vec::new()),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("cyton-emulator".into())
            .spawn(move || run(master, slave_keepalive, options, &thread_shared))?;
        Ok(Emulator { port_path, shared, thread: Some(thread) })
    }

    /// The pty's slave device, to pass as `params.serial_port`.
    pub fn port_path(&self) -> &Path {
        &self.port_path
    }

    /// Packets queued for the host since the emulator started.
    pub fn packets_sent(&self) -> u64 {
        self.shared.packets_sent.load(Ordering::Acquire)
    }

    /// Every byte the host wrote, in order.
    pub fn commands_received(&self) -> Vec<u8> {
        self.shared.commands.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn libc_o_noctty() -> i32 {
    OFlag::O_NOCTTY.bits()
}

fn run(mut master: PtyMaster, _slave_keepalive: File, options: EmulatorOptions, shared: &Shared) {
    let mut board = protocol::BoardState::new(&options);
    let mut source = PacketSource::new(&options);
    let rate = options.firmware.packets_per_second();
    let mut outbox: Vec<u8> = Vec::new();
    let mut stream_started: Option<(Instant, u64)> = None;
    let mut read_buf = [0u8; 1024];

    while !shared.stop.load(Ordering::Acquire) {
        let timeout = match stream_started {
            Some((t0, emitted)) if !source.stalled() => {
                let next_due = t0 + Duration::from_micros((emitted + 1) * 1_000_000 / rate);
                next_due.saturating_duration_since(Instant::now()).min(MAX_IDLE)
            }
            _ => MAX_IDLE,
        };
        let mut events = PollFlags::POLLIN;
        if !outbox.is_empty() {
            events |= PollFlags::POLLOUT;
        }
        let timeout_ms = u16::try_from(timeout.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(master.as_fd(), events)];
        if let Err(e) = poll(&mut fds, PollTimeout::from(timeout_ms)) {
            if e != nix::errno::Errno::EINTR {
                tracing::warn!(error = %e, "emulator poll failed; stopping");
                return;
            }
        }

        // Commands from the host.
        loop {
            match master.read(&mut read_buf) {
                Ok(0) => break,
                Ok(n) => {
                    let bytes = &read_buf[..n];
                    if let Ok(mut log) = shared.commands.lock() {
                        log.extend_from_slice(bytes);
                    }
                    for event in board.feed(bytes, &mut outbox) {
                        match event {
                            protocol::Event::StartStreaming => {
                                stream_started = Some((Instant::now(), 0));
                            }
                            protocol::Event::StopStreaming => stream_started = None,
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // EIO: no slave open (cannot happen while we hold one); treat as idle.
                Err(_) => break,
            }
        }

        // Packets due by now.
        if let Some((t0, emitted)) = stream_started.as_mut() {
            let due = (t0.elapsed().as_micros() as u64) * rate / 1_000_000;
            while *emitted < due && !source.stalled() {
                let before = outbox.len();
                source.next_packet(&mut outbox);
                if outbox.len() > MAX_QUEUED_BYTES {
                    outbox.truncate(before);
                }
                *emitted += 1;
                shared.packets_sent.store(source.packets_generated(), Ordering::Release);
            }
        }

        // Send what the pty accepts now; the rest waits for POLLOUT.
        while !outbox.is_empty() {
            match master.write(&outbox) {
                Ok(0) => break,
                Ok(n) => {
                    outbox.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn open_host(path: &Path) -> File {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc_o_noctty())
            .open(path)
            .unwrap();
        f
    }

    /// Reads until `pred` holds for what has been read, or 5 s pass.
    fn read_until(port: &mut File, pred: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !pred(&got) {
            assert!(Instant::now() < deadline, "timed out; got {:?}", String::from_utf8_lossy(&got));
            let mut fds = [PollFd::new(port.as_fd(), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::from(100u16)).unwrap();
            if fds[0].revents().is_some_and(|r| r.contains(PollFlags::POLLIN)) {
                let n = port.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
        }
        got
    }

    #[test]
    fn answers_the_handshake_and_streams_the_packet_stream() {
        let options = EmulatorOptions::cyton(7);
        let emu = Emulator::start(options.clone()).unwrap();
        let mut port = open_host(emu.port_path());
        port.write_all(b"v").unwrap();
        let greeting = read_until(&mut port, |g| g.ends_with(b"$$$"));
        assert!(String::from_utf8_lossy(&greeting).contains("OpenBCI"));
        port.write_all(b"x1060110X").unwrap();
        let reply = read_until(&mut port, |g| g.ends_with(b"$$$"));
        assert!(reply.starts_with(b"Success"), "{}", String::from_utf8_lossy(&reply));
        port.write_all(b"b").unwrap();
        let streamed = read_until(&mut port, |g| g.len() >= 20 * PACKET_LEN);
        assert_eq!(&streamed[..20 * PACKET_LEN], &packet_stream(&options, 20)[..]);
        port.write_all(b"s").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while emu.commands_received().len() < 12 {
            assert!(Instant::now() < deadline, "emulator never read every command");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(emu.commands_received(), b"vx1060110Xbs");
        assert!(emu.packets_sent() >= 20);
    }

    #[test]
    fn silent_board_does_not_answer() {
        let emu = Emulator::start(EmulatorOptions { answer_handshake: false, ..Default::default() }).unwrap();
        let mut port = open_host(emu.port_path());
        port.write_all(b"v").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while emu.commands_received().is_empty() {
            assert!(Instant::now() < deadline, "emulator never read the command");
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut fds = [PollFd::new(port.as_fd(), PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, PollTimeout::from(200u16)).unwrap(), 0, "a silent board replied");
    }

    #[test]
    fn stall_stops_the_stream_but_keeps_the_port() {
        let options = EmulatorOptions {
            faults: Faults { stall_after: Some(5), ..Default::default() },
            ..EmulatorOptions::daisy(1)
        };
        let emu = Emulator::start(options.clone()).unwrap();
        let mut port = open_host(emu.port_path());
        port.write_all(b"b").unwrap();
        let got = read_until(&mut port, |g| g.len() >= 5 * PACKET_LEN);
        assert_eq!(got, packet_stream(&options, 100));
        let deadline = Instant::now() + Duration::from_secs(5);
        while emu.packets_sent() < 5 {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(emu.packets_sent(), 5);
    }
}
