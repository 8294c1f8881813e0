//! Helpers shared by the end-to-end tests: runtimes on real config files, synthetic
//! session params, and the reference signal to check served data against.
#![allow(dead_code)]

use board_api::{Board, InputParams, Preset, SampleGenerator, SampleMatrix};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use switchyard::Runtime;

pub const SYNTH_ROWS: usize = 32;
pub const SYNTH_TIMESTAMP_ROW: usize = 30;
pub const SYNTH_MARKER_ROW: usize = 31;

/// A config file in a temporary directory that a test can rewrite and reload.
pub struct ConfigFile {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl ConfigFile {
    pub fn new(yaml: &str) -> ConfigFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchyard.yaml");
        std::fs::write(&path, yaml).unwrap();
        ConfigFile { dir, path }
    }

    pub fn runtime(&self) -> Runtime {
        Runtime::from_path_unwatched(&self.path).unwrap()
    }

    /// Rewrites the file and applies it to `runtime` at once.
    pub fn change(&self, runtime: &Runtime, yaml: &str) {
        std::fs::write(&self.path, yaml).unwrap();
        runtime.reload();
    }
}

/// A config whose synthetic board runs in `mode`, with a breaker quick enough for tests
/// and `faults` (YAML lines under `faults:`, indented by the caller or empty).
pub fn synthetic_yaml(mode: &str, faults: &str, extra: &str) -> String {
    let faults = if faults.is_empty() { String::new() } else { format!("    faults: {{ {faults} }}\n") };
    format!(
        "kill_switch: false\nboards:\n  synthetic:\n    mode: {mode}\n    breaker:\n      minimum_calls: 5\n      window: {{ calls: 20 }}\n      failure_rate_threshold: 50\n      slow_call_duration: 300ms\n      open_wait: 60s\n{faults}{extra}"
    )
}

pub fn synthetic_params(seed: u64, key: &str) -> InputParams {
    InputParams { other_info: format!("seed={seed}"), serial_number: key.to_owned(), ..InputParams::default() }
}

/// Reads everything buffered, appending it (row-major per read) sample by sample.
pub struct Collected {
    pub samples: Vec<Vec<f64>>,
}

impl Collected {
    pub fn new() -> Self {
        Collected { samples: Vec::new() }
    }

    pub fn drain(&mut self, board: &mut dyn Board) -> usize {
        let mut m = SampleMatrix::default();
        board.get_board_data(usize::MAX, Preset::Default, &mut m).expect("get_board_data must not fail");
        for i in 0..m.samples() {
            self.samples.push((0..m.rows()).map(|r| m.get(r, i)).collect());
        }
        m.samples()
    }

    /// Reads until at least `n` samples were collected, or panics after `limit`.
    pub fn until(&mut self, board: &mut dyn Board, n: usize, limit: Duration) {
        let start = Instant::now();
        while self.samples.len() < n {
            assert!(start.elapsed() < limit, "only {} of {n} samples within {limit:?}", self.samples.len());
            self.drain(board);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The reference signal for `seed`: the Rust twin's generator (bit-identical to the C++
/// one, which the parity tests prove).
pub fn reference(seed: u64, count: usize) -> Vec<Vec<f64>> {
    let mut g = rust_boards::SyntheticGenerator::new(seed);
    let (mut d, mut a) = (Vec::new(), Vec::new());
    g.generate(count, 0.0, 1.0 / 250.0, &mut d, &mut a).unwrap();
    d.chunks(SYNTH_ROWS).map(|s| s.to_vec()).collect()
}

/// Asserts that `served[k]` is sample `first + k` of the reference, row by row (all rows
/// but timestamp and marker).
pub fn assert_matches_reference(served: &[Vec<f64>], reference: &[Vec<f64>], first: usize) {
    for (k, sample) in served.iter().enumerate() {
        let want = &reference[first + k];
        for row in 0..SYNTH_TIMESTAMP_ROW {
            assert_eq!(sample[row], want[row], "sample {} row {row} differs from the reference", first + k);
        }
    }
}

/// Waits for `cond` up to `limit`, polling; panics with `what` if it never holds.
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Threads:")).and_then(|l| l[8..].trim().parse().ok()))
        .unwrap_or(0)
}

/// A device on a pty that answers the handshake, sends `before_stop` packets on `b`, and
/// on `s` the `in_flight` packets a real board has already handed to its radio link by the
/// time it reads the command; then it is quiet. The packets are the emulator's stream.
pub struct InFlightDevice {
    port_path: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InFlightDevice {
    pub fn start(options: &emulator::EmulatorOptions, before_stop: usize, in_flight: usize) -> InFlightDevice {
        Self::start_paced(options, before_stop, in_flight, Duration::ZERO)
    }

    /// As [`InFlightDevice::start`], with the in-flight packets sent `pace` apart, as a
    /// board streaming at its rate hands them over (not in one burst).
    pub fn start_paced(options: &emulator::EmulatorOptions, before_stop: usize, in_flight: usize, pace: Duration) -> InFlightDevice {
        use nix::fcntl::OFlag;
        use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt};
        use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
        use std::os::unix::fs::OpenOptionsExt;

        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let port_path = ptsname_r(&master).unwrap();
        // Held open so the master never sees a hang-up between the board's open and close.
        let keepalive = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(OFlag::O_NOCTTY.bits())
            .open(&port_path)
            .unwrap();
        let mut termios = tcgetattr(&keepalive).unwrap();
        cfmakeraw(&mut termios);
        tcsetattr(&keepalive, SetArg::TCSANOW, &termios).unwrap();

        let packets = emulator::packet_stream(options, before_stop + in_flight);
        let (first, rest) = packets.split_at(before_stop * emulator::PACKET_LEN);
        let (first, rest) = (first.to_vec(), rest.to_vec());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread_stop = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
            use std::io::{Read, Write};
            use std::os::fd::AsFd;
            let _keepalive = keepalive;
            let mut master = master;
            let mut buf = [0u8; 256];
            while !thread_stop.load(std::sync::atomic::Ordering::Acquire) {
                let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
                if poll(&mut fds, PollTimeout::from(20u16)).unwrap_or(0) == 0 {
                    continue;
                }
                let n = match master.read(&mut buf) {
                    Ok(n) => n,
                    Err(_) => continue,
                };
                for command in &buf[..n] {
                    if *command == b's' && !pace.is_zero() {
                        for packet in rest.chunks(emulator::PACKET_LEN) {
                            std::thread::sleep(pace);
                            master.write_all(packet).unwrap();
                        }
                        continue;
                    }
                    let reply: &[u8] = match command {
                        b'v' => b"OpenBCI V3 8-16 channel\nFirmware: v3.1.2\n$$$",
                        b'd' => b"updating channel settings to default$$$",
                        b'b' => &first,
                        b's' => &rest,
                        _ => b"",
                    };
                    master.write_all(reply).unwrap();
                }
            }
        });
        InFlightDevice { port_path, stop, thread: Some(thread) }
    }

    pub fn params(&self) -> InputParams {
        InputParams { serial_port: self.port_path.clone(), timeout: 2, ..Default::default() }
    }
}

impl Drop for InFlightDevice {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// BrainFlow's own library, from its PyPI package (one installer for every test that
/// runs against BrainFlow).
#[path = "../../brainflow_legacy/tests/support/mod.rs"]
pub mod brainflow;

/// One HTTP/1.1 request to a monitoring server over a plain socket, naming it in `Host`;
/// `authorization` is the whole header value (`Bearer ...`). Returns (status code, body).
pub fn http(addr: std::net::SocketAddr, method: &str, path: &str, authorization: Option<&str>) -> (u16, String) {
    http_with_body(addr, method, path, authorization, "")
}

/// [`http`] with a request body (Alertmanager's webhook JSON, for one).
pub fn http_with_body(addr: std::net::SocketAddr, method: &str, path: &str, authorization: Option<&str>, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = authorization.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, body.to_owned())
}
