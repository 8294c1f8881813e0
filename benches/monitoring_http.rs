//! The monitoring server under hostile and heavy load, against `switchyard serve` as an
//! operator runs it, printed as a table; with `SWITCHYARD_BASELINE_BIN` naming another
//! build of `switchyard` (say, of an older commit), the same figures for it in the same
//! run:
//! - scrape latency (p50, p99, max over 100 scrapes of `/metrics`) with 100 idle and 20
//!   trickling connections (one byte a second) held open;
//! - `/metrics` and `/status` throughput with 50 clients, a connection per request;
//! - SIGTERM to exit with 20 idle, 5 trickling and one mid-body client connected.
//!
//! Run: `cargo bench --bench monitoring_http` (optionally
//! `SWITCHYARD_BASELINE_BIN=path/to/old/switchyard`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCRAPES: usize = 100;
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(5);
const THROUGHPUT_CLIENTS: usize = 50;
const THROUGHPUT_FOR: Duration = Duration::from_secs(4);
const EXIT_LIMIT: Duration = Duration::from_secs(30);

struct Serve {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Serve {
    fn start(binary: &str) -> Serve {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("switchyard.yaml");
        std::fs::write(&config, "kill_switch: false\nboards:\n  synthetic: rust\n").unwrap();
        let mut child = Command::new(binary)
            .args(["serve", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen", "127.0.0.1:0", "--sessions", "4"])
            .env("RUST_LOG", "error")
            .env_remove("SWITCHYARD_CONTROL_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on http://").expect("serve says where it listens").parse().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        Serve { child, addr, _dir: dir }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request on a fresh connection; true when a complete 200 came back in time.
fn request(addr: SocketAddr, path: &str, timeout: Duration) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, timeout) else { return false };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    if write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut response = Vec::with_capacity(16 * 1024);
    stream.read_to_end(&mut response).is_ok() && response.starts_with(b"HTTP/1.1 200")
}

/// Idle and trickling connections held open until dropped.
struct Pests {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    _held: Vec<TcpStream>,
}

impl Pests {
    /// Trickling clients connect first: a server that serves one connection at a time is
    /// then busy with one of them.
    fn hold(addr: SocketAddr, idle: usize, trickling: usize, mid_body: bool) -> Pests {
        let tricklers: Vec<TcpStream> = (0..trickling).filter_map(|_| TcpStream::connect(addr).ok()).collect();
        let mut held: Vec<TcpStream> = Vec::new();
        if mid_body {
            if let Ok(mut s) = TcpStream::connect(addr) {
                let _ = write!(s, "POST /control/kill-switch/on HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n");
                held.push(s);
            }
        }
        held.extend((0..idle).filter_map(|_| TcpStream::connect(addr).ok()));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = tricklers
            .into_iter()
            .map(|mut stream| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let head = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ");
                    for byte in head.bytes().chain(std::iter::repeat(b'a')) {
                        if stream.write_all(&[byte]).is_err() {
                            return;
                        }
                        for _ in 0..10 {
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                })
            })
            .collect();
        Pests { stop, threads, _held: held }
    }
}

impl Drop for Pests {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

struct Figures {
    answered: usize,
    p50: Option<Duration>,
    p99: Option<Duration>,
    max: Option<Duration>,
    metrics_rps: f64,
    status_rps: f64,
    exit: Option<Duration>,
}

fn scrape_latency(addr: SocketAddr) -> (usize, Vec<Duration>) {
    let _pests = Pests::hold(addr, 100, 20, false);
    std::thread::sleep(Duration::from_millis(500));
    let mut latencies = Vec::new();
    let mut failed_in_a_row = 0;
    for _ in 0..SCRAPES {
        let started = Instant::now();
        if request(addr, "/metrics", SCRAPE_TIMEOUT) {
            latencies.push(started.elapsed());
            failed_in_a_row = 0;
        } else {
            latencies.push(started.elapsed().max(SCRAPE_TIMEOUT));
            failed_in_a_row += 1;
            if failed_in_a_row == 3 {
                break;
            }
        }
    }
    let answered = latencies.iter().filter(|l| **l < SCRAPE_TIMEOUT).count();
    (answered, latencies)
}

fn throughput(addr: SocketAddr, path: &'static str) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..THROUGHPUT_CLIENTS)
        .map(|_| {
            let done = done.clone();
            std::thread::spawn(move || {
                while started.elapsed() < THROUGHPUT_FOR {
                    if request(addr, path, Duration::from_secs(5)) {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn sigterm_to_exit(binary: &str) -> Option<Duration> {
    let mut serve = Serve::start(binary);
    let _pests = Pests::hold(serve.addr, 20, 5, true);
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let _ = Command::new("kill").args(["-TERM", &serve.child.id().to_string()]).status();
    while started.elapsed() < EXIT_LIMIT {
        if serve.child.try_wait().ok().flatten().is_some() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn measure(binary: &str) -> Figures {
    let serve = Serve::start(binary);
    let (answered, mut latencies) = scrape_latency(serve.addr);
    drop(serve);
    latencies.sort();
    let complete = answered == SCRAPES;
    let at = |q: f64| complete.then(|| latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1]);
    let serve = Serve::start(binary);
    let metrics_rps = throughput(serve.addr, "/metrics");
    let status_rps = throughput(serve.addr, "/status");
    drop(serve);
    Figures { answered, p50: at(0.50), p99: at(0.99), max: at(1.0), metrics_rps, status_rps, exit: sigterm_to_exit(binary) }
}

fn ms(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.1} ms", d.as_secs_f64() * 1000.0)).unwrap_or_else(|| "no answer".into())
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let current = env!("CARGO_BIN_EXE_switchyard").to_owned();
    let mut runs = Vec::new();
    if let Ok(baseline) = std::env::var("SWITCHYARD_BASELINE_BIN") {
        runs.push(("baseline", measure(&baseline)));
    }
    runs.push(("this build", measure(&current)));
    println!("\nmonitoring server, serve with 4 synthetic sessions, loopback");
    println!("{:<11} {:>15} {:>10} {:>10} {:>10} {:>13} {:>13} {:>14}", "build", "scrapes answered", "p50", "p99", "max", "/metrics rps", "/status rps", "SIGTERM->exit");
    for (name, f) in &runs {
        println!(
            "{:<11} {:>12}/{SCRAPES} {:>10} {:>10} {:>10} {:>13.0} {:>13.0} {:>14}",
            name,
            f.answered,
            ms(f.p50),
            ms(f.p99),
            ms(f.max),
            f.metrics_rps,
            f.status_rps,
            f.exit.map(|d| format!("{:.2} s", d.as_secs_f64())).unwrap_or_else(|| format!("> {} s", EXIT_LIMIT.as_secs()))
        );
    }
    if let [(_, before), (_, after)] = runs.as_slice() {
        println!(
            "ratios this/baseline: /metrics {:.2}x, /status {:.2}x",
            after.metrics_rps / before.metrics_rps.max(1e-9),
            after.status_rps / before.status_rps.max(1e-9)
        );
    }
}
