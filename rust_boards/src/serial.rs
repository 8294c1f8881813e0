//! The one serial port open, through POSIX termios (`nix`), without any
//! device-enumeration library: boards only ever open a path they are given, so nothing
//! needs libudev. The Rust Cyton boards and the dispatcher's shared device transport
//! (which owns the port when both implementations decode one device) both open here, so
//! the line settings cannot drift apart.

use board_api::{BoardError, ExitCode, Result};
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{
    cfmakeraw, cfsetspeed, tcflush, tcgetattr, tcsetattr, BaudRate, ControlFlags, FlushArg, InputFlags, SetArg,
    SpecialCharacterIndices,
};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

/// Opens `path` as the OpenBCI boards' line: 115200 baud, 8 data bits (`CSIZE` cleared,
/// then `CS8`), no parity, 1 stop bit, raw (no byte translated, no echo, no signals),
/// no flow control (neither `CRTSCTS` nor XON/XOFF), `CLOCAL | CREAD` (ignore modem
/// lines, receive), and pending input and output flushed.
///
/// Reads are meant to be driven by `poll`: `VMIN = 1, VTIME = 0`, so a `read` after
/// `poll` reported input returns at once with what is there, and a `read` of 0 bytes
/// only ever means end of file (the device went away), never "nothing yet". The file is
/// left blocking; `O_NONBLOCK` is used only so that opening never waits for a carrier.
///
/// A missing or unopenable path is UNABLE_TO_OPEN_PORT_ERROR; a device that refuses the
/// settings is SET_PORT_ERROR.
pub fn open_serial(path: &str) -> Result<File> {
    if path.is_empty() {
        return Err(BoardError::new(
            ExitCode::UnableToOpenPortError,
            "serial_port is empty; set it to the board's device, e.g. /dev/ttyUSB0",
        ));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags((OFlag::O_NOCTTY | OFlag::O_NONBLOCK).bits())
        .open(path)
        .map_err(|e| BoardError::new(ExitCode::UnableToOpenPortError, format!("cannot open serial port {path}: {e}")))?;
    let set_port = |e: nix::Error| BoardError::new(ExitCode::SetPortError, format!("cannot configure serial port {path}: {e}"));
    let flags = OFlag::from_bits_truncate(fcntl(file.as_fd(), FcntlArg::F_GETFL).map_err(set_port)?);
    fcntl(file.as_fd(), FcntlArg::F_SETFL(flags - OFlag::O_NONBLOCK)).map_err(set_port)?;
    let mut t = tcgetattr(file.as_fd()).map_err(set_port)?;
    // cfmakeraw does most of this on glibc; every setting the boards rely on is still set
    // explicitly, so the line does not depend on which libc's cfmakeraw ran.
    cfmakeraw(&mut t);
    cfsetspeed(&mut t, BaudRate::B115200).map_err(set_port)?;
    t.control_flags.remove(ControlFlags::PARENB | ControlFlags::CSTOPB | ControlFlags::CSIZE | ControlFlags::CRTSCTS);
    t.control_flags.insert(ControlFlags::CS8 | ControlFlags::CLOCAL | ControlFlags::CREAD);
    t.input_flags.remove(InputFlags::IXON | InputFlags::IXOFF | InputFlags::IXANY);
    t.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
    t.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
    tcsetattr(file.as_fd(), SetArg::TCSANOW, &t).map_err(set_port)?;
    tcflush(file.as_fd(), FlushArg::TCIOFLUSH).map_err(set_port)?;
    Ok(file)
}

pub(crate) fn write_command(port: &File, path: &str, command: &[u8]) -> Result<()> {
    let mut port = port;
    port.write_all(command).and_then(|()| port.flush()).map_err(|e| {
        BoardError::new(ExitCode::BoardWriteError, format!("cannot write {:?} to {path}: {e}", String::from_utf8_lossy(command)))
    })
}

/// Drops input received but not yet read.
pub(crate) fn discard_input(port: &File) -> nix::Result<()> {
    tcflush(port.as_fd(), FlushArg::TCIFLUSH)
}

/// Waits up to `timeout` for bytes; returns how many were read (0 on timeout).
pub(crate) fn read_with_timeout(port: &File, buf: &mut [u8], timeout: Duration) -> std::io::Result<usize> {
    let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(port.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::from(ms)) {
        Ok(0) => return Ok(0),
        Ok(_) => {}
        Err(nix::errno::Errno::EINTR) => return Ok(0),
        Err(e) => return Err(e.into()),
    }
    let revents = fds[0].revents().unwrap_or(PollFlags::empty());
    if revents.contains(PollFlags::POLLIN) {
        let mut port = port;
        return port.read(buf);
    }
    if revents.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL) {
        return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the serial device hung up"));
    }
    Ok(0)
}

/// Reads until the text ends with `$$$` or `timeout` passes; `Err` holds what was read.
pub(crate) fn read_reply(port: &File, timeout: Duration) -> std::result::Result<Vec<u8>, Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut reply = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        if reply.ends_with(b"$$$") {
            return Ok(reply);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(reply);
        }
        match read_with_timeout(port, &mut buf, left.min(Duration::from_millis(100))) {
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(_) => return Err(reply),
        }
    }
}
