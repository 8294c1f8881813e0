//! The status page in a real browser: Debian's `chromium` (installed by the test when it
//! is missing, as the promtool test installs prometheus) loads the page of a running
//! `switchyard serve` headless at 1400 x 900 and at 390 x 844 and checks what a person
//! would: nothing wider than the screen, the charts drawn with data points, the breaker
//! an operator forced open shown as such, times readable. The screenshots are kept in
//! `target/status-page/` as artefacts.
//!
//! The browser is driven over the DevTools protocol on a WebSocket, spoken here with the
//! standard library only.

mod common;

use common::http;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "browser-test-token-0123456789";
const DEADLINE: Duration = Duration::from_secs(60);

fn found(program: &str) -> bool {
    Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Installs Debian's `chromium` when it is missing.
fn chromium() -> PathBuf {
    if !found("chromium") {
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "--no-install-recommends", "chromium", "fonts-dejavu-core"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success())
        };
        if !install() {
            let _ = Command::new("apt-get").arg("update").status();
            assert!(install(), "could not install chromium (apt-get install chromium)");
        }
    }
    assert!(found("chromium"), "chromium is not on PATH after installing it");
    PathBuf::from("chromium")
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A minimal WebSocket client: masked text frames out, (possibly fragmented) frames in.
struct WebSocket {
    stream: TcpStream,
}

impl WebSocket {
    fn connect(url: &str) -> WebSocket {
        let rest = url.strip_prefix("ws://").expect("a ws:// URL");
        let (authority, path) = rest.split_once('/').unwrap();
        let mut stream = TcpStream::connect(authority).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        write!(
            stream,
            "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c3dpdGNoeWFyZC10ZXN0IQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
        WebSocket { stream }
    }

    fn send(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n < 65_536 => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [0x5a, 0x17, 0xc3, 0x09];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).unwrap();
    }

    fn receive(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.stream.read_exact(&mut head).unwrap();
            let fin = head[0] & 0x80 != 0;
            let len = match head[1] & 0x7f {
                126 => {
                    let mut l = [0u8; 2];
                    self.stream.read_exact(&mut l).unwrap();
                    u64::from(u16::from_be_bytes(l))
                }
                127 => {
                    let mut l = [0u8; 8];
                    self.stream.read_exact(&mut l).unwrap();
                    u64::from_be_bytes(l)
                }
                n => u64::from(n),
            };
            let mut payload = vec![0u8; len as usize];
            self.stream.read_exact(&mut payload).unwrap();
            message.extend_from_slice(&payload);
            if fin {
                return String::from_utf8(message).unwrap();
            }
        }
    }
}

/// One DevTools page session.
struct DevTools {
    socket: WebSocket,
    next_id: u64,
}

impl DevTools {
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next_id += 1;
        let id = self.next_id;
        self.socket.send(&serde_json::json!({"id": id, "method": method, "params": params}).to_string());
        loop {
            let message: serde_json::Value = serde_json::from_str(&self.socket.receive()).unwrap();
            if message["id"] == id {
                assert!(message.get("error").is_none(), "{method} failed: {message}");
                return message["result"].clone();
            }
        }
    }

    fn wait_event(&mut self, method: &str) {
        loop {
            let message: serde_json::Value = serde_json::from_str(&self.socket.receive()).unwrap();
            if message["method"] == method {
                return;
            }
        }
    }

    fn evaluate(&mut self, expression: &str) -> serde_json::Value {
        let result = self.call("Runtime.evaluate", serde_json::json!({"expression": expression, "returnByValue": true}));
        result["result"]["value"].clone()
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u32> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, d)| acc | (d << (18 - 6 * i)));
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}

fn start_browser(dir: &Path) -> (Killed, DevTools) {
    // Its log goes to a file: a pipe nobody reads would block or break it.
    let log = dir.join("chromium.log");
    let child = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0", "about:blank"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let child = Killed(child);
    let mut browser_url = None;
    wait_for("chromium to say where DevTools listen", || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        browser_url = text.lines().find_map(|l| l.split_once("DevTools listening on ").map(|(_, url)| url.trim().to_owned()));
        browser_url.is_some()
    });
    let browser_url = browser_url.unwrap();
    let authority = browser_url.strip_prefix("ws://").unwrap().split('/').next().unwrap().to_owned();
    let mut stream = TcpStream::connect(&authority).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    write!(stream, "GET /json/list HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).unwrap();
    let targets: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let page = targets.as_array().unwrap().iter().find(|t| t["type"] == "page").expect("a page target");
    let socket = WebSocket::connect(page["webSocketDebuggerUrl"].as_str().unwrap());
    (child, DevTools { socket, next_id: 0 })
}

#[test]
fn the_status_page_reads_well_at_desktop_and_phone_width() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchyard.yaml");
    std::fs::write(&config, "kill_switch: false\nboards:\n  synthetic: rust\n  playback: shadow\n").unwrap();
    std::fs::write(dir.path().join("sessions.yaml"), "sessions:\n  - {board: synthetic, serial_number: A-1}\n  - {board: synthetic, serial_number: A-2}\n").unwrap();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--listen", "127.0.0.1:0", "--poll-ms", "20"])
        .env("SWITCHYARD_CONTROL_TOKEN", TOKEN)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr: SocketAddr = line.trim().strip_prefix("listening on http://").unwrap().parse().unwrap();
    let _serve = Killed(serve);
    assert_eq!(http(addr, "POST", "/control/breaker/synthetic/force-open", Some(&format!("Bearer {TOKEN}"))).0, 200);
    // Two history points (one every 5 s): the charts then have lines, not dots.
    wait_for("two history points", || {
        let doc: serde_json::Value = serde_json::from_str(&http(addr, "GET", "/status", None).1).unwrap();
        doc["boards"].as_array().unwrap().iter().any(|b| b["board"] == "synthetic" && b["history"].as_array().unwrap().len() >= 2)
    });

    let artefacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("status-page");
    std::fs::create_dir_all(&artefacts).unwrap();
    let (_browser, mut devtools) = start_browser(dir.path());
    devtools.call("Page.enable", serde_json::json!({}));
    for (width, height, mobile) in [(1400u32, 900u32, false), (390, 844, true)] {
        devtools.call(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
        devtools.call("Page.navigate", serde_json::json!({"url": format!("http://{addr}/")}));
        devtools.wait_event("Page.loadEventFired");
        let facts = devtools.evaluate(
            "JSON.stringify({\
               scrollWidth: document.documentElement.scrollWidth,\
               clientWidth: document.documentElement.clientWidth,\
               widest: Math.max(...[...document.body.querySelectorAll('*')].map(e => e.getBoundingClientRect().right)),\
               charts: document.querySelectorAll('article[data-board=synthetic] polyline[data-points]').length,\
               points: Math.max(...[...document.querySelectorAll('article[data-board=synthetic] polyline')].map(p => p.points.numberOfItems)),\
               chartWidth: document.querySelector('article[data-board=synthetic] svg').getBoundingClientRect().width,\
               forced: document.querySelector('article[data-board=synthetic]').className,\
               badge: document.querySelector('article[data-board=synthetic] .badge').innerText,\
               band: document.querySelectorAll('article[data-board=synthetic] rect[data-state=FORCED_OPEN]').length,\
               times: [...document.querySelectorAll('time')].map(t => t.innerText),\
               fontPx: parseFloat(getComputedStyle(document.body).fontSize)\
             })",
        );
        let facts: serde_json::Value = serde_json::from_str(facts.as_str().expect("the page evaluates")).unwrap();
        let shot = devtools.call("Page.captureScreenshot", serde_json::json!({"format": "png", "captureBeyondViewport": true}));
        let file = artefacts.join(format!("status-{width}x{height}.png"));
        std::fs::write(&file, base64_decode(shot["data"].as_str().unwrap())).unwrap();

        let at = format!("at {width} px ({}): {facts}", file.display());
        assert!(facts["scrollWidth"].as_f64().unwrap() <= facts["clientWidth"].as_f64().unwrap(), "horizontal overflow {at}");
        assert!(facts["widest"].as_f64().unwrap() <= f64::from(width) + 0.5, "an element sticks out {at}");
        assert!(facts["charts"].as_u64().unwrap() >= 3, "charts with data {at}");
        assert!(facts["points"].as_u64().unwrap() >= 2, "lines through several points {at}");
        assert!(facts["chartWidth"].as_f64().unwrap() >= 200.0, "charts wide enough to read {at}");
        assert!(facts["forced"].as_str().unwrap().contains("forced_open"), "{at}");
        assert_eq!(facts["badge"], "FORCED_OPEN", "{at}");
        assert!(facts["band"].as_u64().unwrap() >= 1, "the band shows the forced-open stretch {at}");
        let times = facts["times"].as_array().unwrap();
        assert!(!times.is_empty() && times.iter().all(|t| t.as_str().unwrap().ends_with('Z') && t.as_str().unwrap().contains('T')), "{at}");
        assert!(facts["fontPx"].as_f64().unwrap() >= 14.0, "{at}");
    }
}
