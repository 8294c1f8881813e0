//! The one serial open over a real pseudo-terminal: whatever state the line was left in,
//! it comes out as the boards need it (115200 8N1 raw, no flow control, poll-driven
//! reads), and bytes pass through untranslated.

use board_api::ExitCode;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, PtyMaster};
use nix::sys::termios::{
    cfgetispeed, cfgetospeed, tcgetattr, tcsetattr, BaudRate, ControlFlags, InputFlags, LocalFlags, OutputFlags, SetArg,
    SpecialCharacterIndices,
};
use rust_boards::serial::open_serial;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;

fn pty() -> (PtyMaster, String) {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let path = ptsname_r(&master).unwrap();
    (master, path)
}

/// Leaves the line as another program might: 7 data bits, even parity, 2 stop bits,
/// hardware and software flow control, canonical mode with echo, 9600 baud, and reads
/// that return after a timeout with nothing.
fn mess_up(path: &str) -> File {
    let file = std::fs::OpenOptions::new().read(true).write(true).open(path).unwrap();
    let mut t = tcgetattr(file.as_fd()).unwrap();
    t.control_flags.remove(ControlFlags::CSIZE);
    t.control_flags.insert(ControlFlags::CS7 | ControlFlags::PARENB | ControlFlags::CSTOPB | ControlFlags::CRTSCTS);
    t.control_flags.remove(ControlFlags::CLOCAL);
    t.input_flags.insert(InputFlags::IXON | InputFlags::IXOFF | InputFlags::ICRNL);
    t.output_flags.insert(OutputFlags::OPOST | OutputFlags::ONLCR);
    t.local_flags.insert(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG);
    t.control_chars[SpecialCharacterIndices::VMIN as usize] = 0;
    t.control_chars[SpecialCharacterIndices::VTIME as usize] = 5;
    nix::sys::termios::cfsetspeed(&mut t, BaudRate::B9600).unwrap();
    tcsetattr(file.as_fd(), SetArg::TCSANOW, &t).unwrap();
    file
}

#[test]
fn the_line_is_115200_8n1_raw_without_flow_control_whatever_it_was() {
    let (_master, path) = pty();
    let _other = mess_up(&path);
    let port = open_serial(&path).unwrap();
    let t = tcgetattr(port.as_fd()).unwrap();
    assert_eq!(cfgetispeed(&t), BaudRate::B115200);
    assert_eq!(cfgetospeed(&t), BaudRate::B115200);
    assert_eq!(t.control_flags & ControlFlags::CSIZE, ControlFlags::CS8, "8 data bits");
    for flag in [ControlFlags::PARENB, ControlFlags::CSTOPB, ControlFlags::CRTSCTS] {
        assert!(!t.control_flags.contains(flag), "{flag:?} still set");
    }
    assert!(t.control_flags.contains(ControlFlags::CLOCAL | ControlFlags::CREAD));
    for flag in [InputFlags::IXON, InputFlags::IXOFF, InputFlags::ICRNL] {
        assert!(!t.input_flags.contains(flag), "{flag:?} still set");
    }
    assert!(!t.output_flags.contains(OutputFlags::OPOST));
    for flag in [LocalFlags::ICANON, LocalFlags::ECHO, LocalFlags::ISIG] {
        assert!(!t.local_flags.contains(flag), "{flag:?} still set");
    }
    assert_eq!(t.control_chars[SpecialCharacterIndices::VMIN as usize], 1, "a read waits for a byte");
    assert_eq!(t.control_chars[SpecialCharacterIndices::VTIME as usize], 0, "no inter-byte timer");
}

#[test]
fn bytes_pass_both_ways_untranslated() {
    let (master, path) = pty();
    let mut port = open_serial(&path).unwrap();
    let mut master = File::from(std::os::fd::OwnedFd::from(master));
    // CR, LF, XON/XOFF and ^C would all be eaten or rewritten by a cooked line.
    let bytes = [0xA0, b'\r', b'\n', 0x11, 0x13, 0x03, 0xC0, 0x00, 0xFF];
    master.write_all(&bytes).unwrap();
    assert_eq!(read_within(&mut port, bytes.len()), bytes);
    port.write_all(&bytes).unwrap();
    assert_eq!(read_within(&mut master, bytes.len()), bytes);
}

/// Reads `n` bytes, failing (rather than hanging) if they do not all come within 2 s.
fn read_within(file: &mut File, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while got.len() < n {
        let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
        let ready = poll(&mut fds, PollTimeout::from(2000u16)).unwrap();
        assert!(ready > 0, "only {got:?} of {n} bytes arrived within 2 s");
        let k = file.read(&mut buf).unwrap();
        got.extend_from_slice(&buf[..k]);
    }
    got
}

#[test]
fn missing_ports_are_brainflows_open_error() {
    assert_eq!(open_serial("").unwrap_err().code, ExitCode::UnableToOpenPortError);
    let e = open_serial("/nonexistent/ttyUSB9").unwrap_err();
    assert_eq!(e.code, ExitCode::UnableToOpenPortError);
    assert!(e.message.contains("/nonexistent/ttyUSB9"), "{e}");
}
