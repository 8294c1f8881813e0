//! The monitoring endpoint of a process that loads the library. Each case runs a host in
//! a process of its own (this test binary again, running `host_program`), because the
//! library reads its environment once, when the runtime starts: the host calls the C API
//! exactly as a C program does, holds its synthetic session open in `rust` mode until
//! its stdin closes, and this side scrapes it from outside.

use std::ffi::{c_int, CString};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use BoardController::*;

const OK: c_int = 0;
const SYNTHETIC: c_int = -1;
const HOST_ENV: &str = "SWITCHYARD_TEST_MONITORED_HOST";
const TOKEN: &str = "monitoring-test-token-0123456789";
const DEADLINE: Duration = Duration::from_secs(60);

/// The host: prepares and streams a synthetic session, reads from it, says `ready`, and
/// keeps it open until stdin closes. Run only as a child of the tests below.
#[test]
#[ignore = "the host program of the monitoring tests; they run it in a process of its own"]
fn host_program() {
    if std::env::var_os(HOST_ENV).is_none() {
        return;
    }
    let p = CString::new("{\"other_info\": \"monitored\"}").unwrap();
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(SYNTHETIC, p.as_ptr()) }, OK, "prepare_session");
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { start_stream(45000, std::ptr::null(), SYNTHETIC, p.as_ptr()) }, OK, "start_stream");
    let started = Instant::now();
    let mut count = 0;
    while count < 10 {
        assert!(started.elapsed() < DEADLINE, "no samples from the synthetic board");
        std::thread::sleep(Duration::from_millis(10));
        // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
        assert_eq!(unsafe { get_board_data_count(0, &mut count, SYNTHETIC, p.as_ptr()) }, OK);
    }
    let mut rows = 0;
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_num_rows(SYNTHETIC, 0, &mut rows) }, OK);
    let mut data = vec![0.0f64; rows as usize * count as usize];
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { get_board_data(count, 0, data.as_mut_ptr(), SYNTHETIC, p.as_ptr()) }, OK);
    println!("ready {count}");
    std::io::stdout().flush().unwrap();
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { stop_stream(SYNTHETIC, p.as_ptr()) }, OK);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { release_session(SYNTHETIC, p.as_ptr()) }, OK);
}

struct Host {
    child: Child,
    stderr_file: PathBuf,
    /// Samples the host read before it said `ready`.
    samples_read: u64,
}

impl Host {
    /// Starts the host with `env` (on top of a `rust`-mode config) and waits for `ready`.
    fn start(dir: &Path, env: &[(&str, &str)]) -> Host {
        let config = dir.join("switchyard.yaml");
        std::fs::write(&config, "boards:\n  synthetic: rust\n").unwrap();
        let stderr_file = dir.join("host.stderr");
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["--ignored", "--exact", "host_program", "--nocapture", "--test-threads=1"])
            .env(HOST_ENV, "1")
            .env("SWITCHYARD_CONFIG", &config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_file).unwrap());
        for name in ["SWITCHYARD_LISTEN", "SWITCHYARD_LISTEN_FILE", "SWITCHYARD_CONTROL_TOKEN", "SWITCHYARD_CONTROL_TOKEN_FILE"] {
            command.env_remove(name);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("the host starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // The test harness may have written `test host_program ... ` before it.
                if let Some((_, n)) = line.split_once("ready ") {
                    let _ = tx.send(n.trim().parse::<u64>().unwrap_or(0));
                }
            }
        });
        let mut host = Host { child, stderr_file, samples_read: 0 };
        match rx.recv_timeout(DEADLINE) {
            Ok(n) => host.samples_read = n,
            Err(_) => {
                let _ = host.child.kill();
                let _ = host.child.wait();
                panic!("the host never became ready; its stderr:\n{}", host.stderr());
            }
        }
        host
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_file).unwrap_or_default()
    }

    /// The names of the host's threads.
    fn threads(&self) -> Vec<String> {
        let mut names = Vec::new();
        for task in std::fs::read_dir(format!("/proc/{}/task", self.pid())).unwrap().flatten() {
            if let Ok(name) = std::fs::read_to_string(task.path().join("comm")) {
                names.push(name.trim().to_owned());
            }
        }
        names
    }

    /// How many sockets the host has open.
    fn sockets(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .flatten()
            .filter(|fd| std::fs::read_link(fd.path()).map(|t| t.to_string_lossy().starts_with("socket:")).unwrap_or(false))
            .count()
    }

    /// Closes stdin; the host stops, releases and must exit by itself, successfully.
    fn finish(mut self) {
        drop(self.child.stdin.take());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "the host failed: {status}; its stderr:\n{}", self.stderr());
                return;
            }
            if started.elapsed() > DEADLINE {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the host did not exit after its stdin closed; its stderr:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, body.to_owned())
}

fn synthetic_status(addr: SocketAddr) -> serde_json::Value {
    let (code, body) = http(addr, "GET", "/status", None);
    assert_eq!(code, 200, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    doc["boards"].as_array().unwrap().iter().find(|b| b["board"] == "synthetic").cloned().expect("synthetic board on the status page")
}

/// The value of the sample of `name` whose labels include every one of `labels`.
fn metric(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

fn has_http_thread(host: &Host) -> bool {
    host.threads().iter().any(|t| t == "switchyard-http")
}

#[test]
fn host_with_switchyard_listen_serves_status_metrics_and_controls() {
    let dir = tempfile::tempdir().unwrap();
    let listen_file = dir.path().join("listen");
    let host = Host::start(
        dir.path(),
        &[("SWITCHYARD_LISTEN", "127.0.0.1:0"), ("SWITCHYARD_LISTEN_FILE", listen_file.to_str().unwrap()), ("SWITCHYARD_CONTROL_TOKEN", TOKEN)],
    );
    let addr: SocketAddr = std::fs::read_to_string(&listen_file).expect("the bound address is in SWITCHYARD_LISTEN_FILE").trim().parse().unwrap();
    assert_ne!(addr.port(), 0);
    assert!(has_http_thread(&host), "threads: {:?}", host.threads());

    let board = synthetic_status(addr);
    assert_eq!(board["sessions_rust"], 1, "{board}");
    assert_eq!(board["sessions_cpp"], 0, "{board}");
    assert_eq!(board["breaker_state"], "CLOSED", "{board}");
    assert_eq!(board["mode"], "rust", "{board}");

    let (code, page) = http(addr, "GET", "/", None);
    assert_eq!(code, 200);
    assert!(page.contains("synthetic"), "{page}");

    // The read counters are recorded by the C API calls themselves; the session gauge by
    // the telemetry tick, so wait for it.
    let started = Instant::now();
    let metrics = loop {
        let (code, text) = http(addr, "GET", "/metrics", None);
        assert_eq!(code, 200);
        if metric(&text, "switchyard_active_sessions", &["board=\"synthetic\"", "path=\"rust\""]) == Some(1.0) {
            break text;
        }
        assert!(started.elapsed() < DEADLINE, "switchyard_active_sessions never showed the session:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let calls = ["board=\"synthetic\"", "path=\"rust\"", "operation=\"get_board_data\"", "outcome=\"ok\""];
    assert_eq!(metric(&metrics, "switchyard_calls_total", &calls), Some(1.0), "{metrics}");
    assert_eq!(metric(&metrics, "switchyard_samples_delivered_total", &["board=\"synthetic\""]), Some(host.samples_read as f64), "{metrics}");
    assert_eq!(metric(&metrics, "switchyard_breaker_state", &["board=\"synthetic\"", "state=\"CLOSED\""]), Some(1.0), "{metrics}");
    assert_eq!(metric(&metrics, "switchyard_routing_decisions_total", &["board=\"synthetic\"", "path=\"rust\""]), Some(1.0), "{metrics}");

    // Controls follow serve's token rules.
    assert_eq!(http(addr, "POST", "/control/breaker/synthetic/force-open", None).0, 401);
    assert_eq!(http(addr, "POST", "/control/breaker/synthetic/force-open", Some("wrong-token-wrong-token")).0, 401);
    let (code, body) = http(addr, "POST", "/control/breaker/synthetic/force-open", Some(TOKEN));
    assert_eq!(code, 200, "{body}");
    assert_eq!(synthetic_status(addr)["breaker_state"], "FORCED_OPEN");
    let (code, body) = http(addr, "POST", "/control/breaker/synthetic/release", Some(TOKEN));
    assert_eq!(code, 200, "{body}");
    assert_eq!(synthetic_status(addr)["breaker_state"], "CLOSED");
    host.finish();
}

#[test]
fn without_token_the_endpoint_serves_but_refuses_controls() {
    let dir = tempfile::tempdir().unwrap();
    let listen_file = dir.path().join("listen");
    let host = Host::start(dir.path(), &[("SWITCHYARD_LISTEN", "127.0.0.1:0"), ("SWITCHYARD_LISTEN_FILE", listen_file.to_str().unwrap())]);
    let addr: SocketAddr = std::fs::read_to_string(&listen_file).unwrap().trim().parse().unwrap();
    assert_eq!(synthetic_status(addr)["sessions_rust"], 1);
    let (code, body) = http(addr, "POST", "/control/breaker/synthetic/force-open", Some(TOKEN));
    assert_eq!(code, 403, "{body}");
    assert_eq!(synthetic_status(addr)["breaker_state"], "CLOSED");
    host.finish();
}

#[test]
fn without_switchyard_listen_nothing_listens() {
    let dir = tempfile::tempdir().unwrap();
    let listen_file = dir.path().join("listen");
    let host = Host::start(dir.path(), &[("SWITCHYARD_LISTEN_FILE", listen_file.to_str().unwrap()), ("SWITCHYARD_CONTROL_TOKEN", TOKEN)]);
    assert!(!has_http_thread(&host), "threads: {:?}", host.threads());
    assert_eq!(host.sockets(), 0, "the host has sockets open");
    assert!(!listen_file.exists());
    host.finish();
}

#[test]
fn a_bad_address_is_logged_and_the_session_still_works() {
    let dir = tempfile::tempdir().unwrap();
    // Host::start waits for `ready`, which the host says only after a successful prepare,
    // start and read.
    let host = Host::start(dir.path(), &[("SWITCHYARD_LISTEN", "not-an-address")]);
    assert!(!has_http_thread(&host));
    assert_eq!(host.sockets(), 0);
    let stderr = host.stderr();
    assert!(stderr.contains("SWITCHYARD_LISTEN=\"not-an-address\" is not an address"), "stderr:\n{stderr}");
    host.finish();
}

#[test]
fn a_port_in_use_is_logged_and_the_session_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let host = Host::start(dir.path(), &[("SWITCHYARD_LISTEN", &addr)]);
    assert!(!has_http_thread(&host));
    let stderr = host.stderr();
    assert!(stderr.contains("already in use"), "stderr:\n{stderr}");
    host.finish();
}
