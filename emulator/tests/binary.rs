//! The `cyton-emulator` binary prints a port that answers like a Cyton.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn binary_prints_a_port_that_answers_v() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cyton-emulator"))
        .args(["--daisy", "--seed", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let path = line.trim().to_owned();
    let result = std::panic::catch_unwind(|| {
        let mut port = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::fcntl::OFlag::O_NOCTTY.bits() | nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(&path)
            .unwrap();
        port.write_all(b"v").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while !got.ends_with(b"$$$") {
            assert!(Instant::now() < deadline, "no greeting from {path}");
            match port.read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("{e}"),
            }
        }
        assert!(String::from_utf8_lossy(&got).contains("On Daisy"));
    });
    child.kill().unwrap();
    child.wait().unwrap();
    result.unwrap();
}
