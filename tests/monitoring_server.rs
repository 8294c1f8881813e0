//! The monitoring server against bad clients, over raw TCP: slow, trickling and idle
//! connections, oversized request lines and heads, conflicting lengths, chunked bodies,
//! pipelining, a wrong `Host`, floods of unauthenticated POSTs. The server runs in this
//! process on the real operations backend (`Operations` over a runtime), so each case
//! reads the real status document.

use monitoring::{Limits, Server, ServerOptions, Token};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use switchyard::operations::Operations;
use switchyard::Runtime;

const TOKEN: &str = "server-test-token-0123456789";
const CONFIG: &str = "kill_switch: false\nboards:\n  synthetic: rust\n";
/// Long enough that a blocked server shows as a failure, never reached by a working one.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

fn recorder() -> metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: OnceLock<metrics_exporter_prometheus::PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| monitoring::install_recorder().expect("the recorder installs once")).clone()
}

struct Running {
    server: Option<Server>,
    state: Arc<Operations>,
}

impl Running {
    fn addr(&self) -> SocketAddr {
        self.server.as_ref().unwrap().local_addr()
    }
}

fn start_with(limits: Limits, token: Option<&str>) -> Running {
    let runtime = Arc::new(Runtime::from_yaml(CONFIG, "switchyard.yaml").unwrap());
    let state = Arc::new(Operations::new(runtime, Some(recorder())));
    let options = ServerOptions {
        token: token.map(|t| Token::new(t, "test").unwrap()),
        limits,
        ..ServerOptions::new("127.0.0.1:0".parse().unwrap())
    };
    let server = Server::start(options, state.clone()).unwrap();
    Running { server: Some(server), state }
}

fn start(token: Option<&str>) -> Running {
    start_with(Limits::default(), token)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    stream
}

/// Sends `request` as is and reads until the server closes.
fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = connect(addr);
    // A server that refuses early may close before all of an oversized request is sent.
    let _ = stream.write_all(request);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

fn status_code(response: &str) -> u16 {
    response.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no status line in {response:?}"))
}

fn get(addr: SocketAddr, path: &str) -> String {
    exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
}

fn post(addr: SocketAddr, path: &str, auth: Option<&str>) -> String {
    let auth = auth.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    exchange(addr, format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("")
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split_once("\r\n\r\n").map(|(h, _)| h).unwrap_or(response);
    head.lines().find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
}

fn status_json(addr: SocketAddr) -> serde_json::Value {
    let response = get(addr, "/status");
    assert_eq!(status_code(&response), 200, "{response}");
    serde_json::from_str(body(&response)).unwrap()
}

/// Connections held open in the background: idle ones send nothing, trickling ones send a
/// request head one byte every 100 ms and never finish it.
struct Pests {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    _idle: Vec<TcpStream>,
}

impl Pests {
    fn hold(addr: SocketAddr, idle: usize, trickling: usize) -> Pests {
        let idle = (0..idle).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..trickling)
            .map(|_| {
                let stop = stop.clone();
                let mut stream = TcpStream::connect(addr).unwrap();
                std::thread::spawn(move || {
                    let endless = b"GET /status HTTP/1.1\r\nX-Slow: ".iter().chain(std::iter::repeat(&b'a'));
                    for byte in endless {
                        if stop.load(Ordering::Relaxed) || stream.write_all(&[*byte]).is_err() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                })
            })
            .collect();
        Pests { stop, threads, _idle: idle }
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

#[test]
fn idle_and_trickling_clients_do_not_keep_others_waiting() {
    let running = start(Some(TOKEN));
    let addr = running.addr();
    let _pests = Pests::hold(addr, 100, 20);
    std::thread::sleep(Duration::from_millis(300));
    for path in ["/metrics", "/status", "/", "/metrics"] {
        assert_eq!(status_code(&get(addr, path)), 200, "{path} answered while slow clients are connected");
    }
    assert_eq!(status_code(&post(addr, "/control/kill-switch/on", Some(TOKEN))), 200, "the kill switch is reachable");
    assert!(running.state.status_document().kill_switch);
}

#[test]
fn a_client_that_never_finishes_its_head_is_cut_off() {
    let limits = Limits { head_timeout: Duration::from_millis(300), ..Limits::default() };
    let running = start_with(limits, None);
    let mut idle = connect(running.addr());
    let mut trickler = connect(running.addr());
    trickler.write_all(b"GET /status HTTP/1.1\r\nHost: x").unwrap();
    for stream in [&mut idle, &mut trickler] {
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        assert!(response.is_empty() || status_code(&response) == 408, "{response}");
    }
    // A kept-alive connection that goes quiet is closed too.
    let mut kept = connect(running.addr());
    write!(kept, "GET /metrics HTTP/1.1\r\nHost: {}\r\n\r\n", running.addr()).unwrap();
    let mut response = Vec::new();
    let _ = kept.read_to_end(&mut response);
    assert_eq!(status_code(&String::from_utf8_lossy(&response)), 200);
}

#[test]
fn oversized_request_lines_and_heads_are_refused_with_414_and_431() {
    let running = start(None);
    let addr = running.addr();
    let line = format!("GET /metrics?{} HTTP/1.1\r\nHost: {addr}\r\n\r\n", "a".repeat(1024 * 1024));
    let response = exchange(addr, line.as_bytes());
    assert_eq!(status_code(&response), 414, "{}", &response[..response.len().min(300)]);
    let headers = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n{}\r\n", "X-Filler: 0123456789abcdef0123456789abcdef\r\n".repeat(1000));
    assert_eq!(status_code(&exchange(addr, headers.as_bytes())), 431);
    // The same limits hold for a later request on a kept-alive connection.
    let second = format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\nGET /metrics?{} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n", "b".repeat(12 * 1024));
    let response = exchange(addr, second.as_bytes());
    assert!(response.starts_with("HTTP/1.1 200"), "{}", &response[..200]);
    assert!(response.contains("HTTP/1.1 414"), "the second request is refused");
    assert_eq!(status_code(&get(addr, "/metrics")), 200, "and the server answers on");
}

#[test]
fn conflicting_lengths_are_refused_and_chunked_bodies_read() {
    let running = start(Some(TOKEN));
    let addr = running.addr();
    let conflicting = format!(
        "POST /control/kill-switch/on HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 0\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
    );
    assert_eq!(status_code(&exchange(addr, conflicting.as_bytes())), 400);
    assert!(!running.state.status_document().kill_switch, "a request with conflicting lengths does nothing");

    let chunked = format!(
        "POST /control/kill-switch/on HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    );
    assert_eq!(status_code(&exchange(addr, chunked.as_bytes())), 200);
    assert!(running.state.status_document().kill_switch);

    let chunk = format!("1000\r\n{}\r\n", "x".repeat(0x1000));
    let oversized = format!(
        "POST /control/kill-switch/off HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{}0\r\n\r\n",
        chunk.repeat(4)
    );
    assert_eq!(status_code(&exchange(addr, oversized.as_bytes())), 413);
    assert!(running.state.status_document().kill_switch, "an oversized body does nothing");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let running = start(None);
    let addr = running.addr();
    let requests = format!(
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\nGET /nope HTTP/1.1\r\nHost: {addr}\r\n\r\nHEAD /status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let response = exchange(addr, requests.as_bytes());
    let codes: Vec<u16> = response.match_indices("HTTP/1.1 ").map(|(i, _)| response[i + 9..i + 12].parse().unwrap()).collect();
    assert_eq!(codes, [200, 404, 200], "{response}");
    let head_answer = response.rsplit("HTTP/1.1 ").next().unwrap();
    assert!(header(head_answer, "content-length").is_some_and(|l| l != "0"), "{head_answer}");
    assert_eq!(body(head_answer), "", "HEAD has no body");
}

#[test]
fn a_wrong_host_or_origin_is_refused_and_loopback_names_are_not() {
    let running = start(Some(TOKEN));
    let addr = running.addr();
    let with_host = |host: &str| exchange(addr, format!("GET /status HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes());
    let refused = with_host("attacker.example:9464");
    assert_eq!(status_code(&refused), 403);
    assert!(!body(&refused).contains("generation"), "nothing of the status leaks");
    assert!(body(&refused).contains("monitoring.allowed_hosts"), "{refused}");
    assert_eq!(status_code(&with_host("localhost")), 200);
    assert_eq!(status_code(&with_host(&format!("localhost:{}", addr.port()))), 200);
    assert_eq!(status_code(&exchange(addr, b"GET /status HTTP/1.1\r\nConnection: close\r\n\r\n")), 403, "no Host at all");
    let cross_site = format!("POST /control/kill-switch/on HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://attacker.example\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    assert_eq!(status_code(&exchange(addr, cross_site.as_bytes())), 403);
    assert!(!running.state.status_document().kill_switch, "a cross-site request does nothing, token or not");
    let refusals = status_json(addr)["refusals"].clone();
    assert!(refusals.as_array().unwrap().iter().any(|r| r["reason"].as_str().unwrap().contains("attacker.example")), "{refusals}");
}

#[test]
fn an_unauthenticated_flood_never_evicts_operator_events_nor_grows_the_page() {
    let running = start(Some(TOKEN));
    let addr = running.addr();
    assert_eq!(status_code(&post(addr, "/control/breaker/synthetic/metrics-only", Some(TOKEN))), 200);
    running.state.record_event("breaker", "synthetic breaker CLOSED -> OPEN: failure rate".to_owned());
    let long_path = format!("/control/breaker/{}/force-open", "x".repeat(4000));
    for i in 0..600 {
        let auth = if i % 2 == 0 { None } else { Some("wrong-token-0123456789abc") };
        assert_eq!(status_code(&post(addr, &long_path, auth)), 401);
    }
    let doc = status_json(addr);
    let events = doc["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["kind"] == "operator" && e["detail"].as_str().unwrap().contains("metrics_only")), "{doc}");
    assert!(events.iter().any(|e| e["kind"] == "breaker"), "{doc}");
    let refusals = doc["refusals"].as_array().unwrap();
    assert_eq!(refusals.len(), 2, "one entry per source and reason: {refusals:?}");
    assert_eq!(refusals.iter().map(|r| r["count"].as_u64().unwrap()).sum::<u64>(), 600);
    let page = get(addr, "/");
    assert!(page.len() < 64 * 1024, "the page stays small: {} bytes", page.len());
    assert!(body(&get(addr, "/status")).len() < 64 * 1024);
}

#[test]
fn every_answer_is_hardened_and_401_says_bearer() {
    let running = start(Some(TOKEN));
    let addr = running.addr();
    for response in [get(addr, "/"), get(addr, "/status"), get(addr, "/metrics"), get(addr, "/nope")] {
        assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"), "{response}");
        assert_eq!(header(&response, "cache-control"), Some("no-store"));
        let csp = header(&response, "content-security-policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"), "{csp}");
        assert!(header(&response, "date").is_some());
    }
    let unauthorized = post(addr, "/control/kill-switch/on", None);
    assert_eq!(status_code(&unauthorized), 401);
    assert!(header(&unauthorized, "www-authenticate").unwrap().starts_with("Bearer"), "{unauthorized}");
    let head = exchange(addr, format!("HEAD /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes());
    assert_eq!(status_code(&head), 200);
    assert_eq!(body(&head), "", "HEAD answers without a body");
    let options = exchange(addr, format!("OPTIONS / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes());
    assert_eq!(status_code(&options), 204);
    assert!(header(&options, "allow").unwrap().contains("GET"));
    let expect = format!(
        "POST /control/kill-switch/on HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
    );
    let mut stream = connect(addr);
    stream.write_all(expect.as_bytes()).unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert!(interim.starts_with(b"HTTP/1.1 100 Continue"), "{}", String::from_utf8_lossy(&interim));
    stream.write_all(b"{}").unwrap();
    let mut rest = String::new();
    let _ = stream.read_to_string(&mut rest);
    assert!(rest.contains("HTTP/1.1 200"), "{rest}");
}

#[test]
fn every_control_request_is_counted_whatever_its_answer() {
    let running = start(Some(TOKEN));
    let addr = running.addr();
    let metric = |labels: &str| -> u64 {
        let text = body(&get(addr, "/metrics")).to_owned();
        text.lines()
            .find(|l| l.starts_with(&format!("switchyard_control_requests_total{{{labels}}} ")))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0)
    };
    for _ in 0..3 {
        post(addr, "/control/breaker/synthetic/release", None);
    }
    post(addr, "/control/breaker/synthetic/release", Some("wrong-token-0123456789abc"));
    get(addr, "/control/breaker/synthetic/release");
    post(addr, "/control/breaker/synthetic/frobnicate", Some(TOKEN));
    assert!(metric("action=\"release\",result=\"unauthorized\"") >= 4);
    assert!(metric("action=\"release\",result=\"method_not_allowed\"") >= 1);
    assert!(metric("action=\"unknown\",result=\"bad_request\"") >= 1);
    let doc = status_json(addr);
    let operator = doc["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "operator").count();
    assert!(operator >= 1, "an authenticated request refused with 400 is audited: {doc}");
    assert!(doc["refusals"].as_array().unwrap().iter().any(|r| r["reason"] == "controls take POST"), "{doc}");

    let disabled = start(None);
    post(disabled.addr(), "/control/kill-switch/off", Some(TOKEN));
    assert!(metric("action=\"kill_switch_off\",result=\"forbidden\"") >= 1);
}

#[test]
fn shutdown_cuts_off_clients_that_never_finish() {
    let mut running = start(None);
    let addr = running.addr();
    let _pests = Pests::hold(addr, 20, 5);
    let mut mid_request = connect(addr);
    mid_request.write_all(format!("POST /control/kill-switch/on HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n").as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let server = running.server.take().unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        server.shutdown();
        let _ = done_tx.send(());
    });
    assert!(done_rx.recv_timeout(CLIENT_TIMEOUT).is_ok(), "shutdown waited on slow clients");
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(), "the port is closed");
}
