//! Fleet-level figures that criterion cannot take, printed as a table with the baseline
//! measured in the same run:
//! - reaction: sessions streaming at 250 Hz on the Rust path; at T every Rust call starts
//!   failing; how long until the breaker opens and until every session is on C++;
//! - shadow cost: process CPU per session polled every 100 ms, shadow against cpp-only
//!   and rust-only.
//!
//! Run: `cargo bench --bench fleet`.

use board_api::{Board, BoardId, InputParams, Preset, SampleMatrix};
use std::time::{Duration, Instant};
use switchyard::Runtime;
use toggles::Path;

fn params(i: usize) -> InputParams {
    InputParams { other_info: format!("seed={i}"), serial_number: format!("dev-{i}"), ..InputParams::default() }
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process, in clock ticks (100 per second on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn yaml(mode: &str, faults: &str) -> String {
    format!(
        "boards:\n  synthetic:\n    mode: {mode}\n    breaker: {{ minimum_calls: 20, window: {{ calls: 50 }}, failure_rate_threshold: 50, open_wait: 60s }}\n    faults: {{ {faults} }}\n"
    )
}

fn reaction(sessions: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.yaml");
    std::fs::write(&path, yaml("rust", "")).unwrap();
    let runtime = Runtime::from_path(&path).unwrap();
    let mut live: Vec<_> = (0..sessions)
        .map(|i| {
            let mut s = runtime.open(BoardId::Synthetic, params(i));
            s.prepare_session().unwrap();
            s.start_stream(45_000).unwrap();
            s
        })
        .collect();
    let mut out = SampleMatrix::default();
    let poll_all = |live: &mut Vec<switchyard::Session>, out: &mut SampleMatrix| {
        for s in live.iter_mut() {
            s.get_board_data(usize::MAX, Preset::Default, out).expect("callers never see a Rust failure");
        }
    };
    for _ in 0..5 {
        poll_all(&mut live, &mut out);
        std::thread::sleep(Duration::from_millis(20));
    }
    // The fault arrives the way an operator's drill does: a config edit the watcher sees.
    let t = Instant::now();
    std::fs::write(&path, yaml("rust", "error_rate: 100")).unwrap();
    let kind = runtime.kind(BoardId::Synthetic).clone();
    let mut opened = None;
    let mut first_failover = None;
    let mut all_cpp = None;
    while all_cpp.is_none() && t.elapsed() < Duration::from_secs(30) {
        poll_all(&mut live, &mut out);
        if opened.is_none() && kind.breaker.state() == breaker::State::Open {
            opened = Some(t.elapsed());
        }
        if first_failover.is_none() && kind.counters.failovers() > 0 {
            first_failover = Some(t.elapsed());
        }
        if live.iter().all(|s| s.path() == Path::Cpp) {
            all_cpp = Some(t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(4)); // a 250 Hz poller
    }
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1e3).unwrap_or(f64::NAN);
    println!(
        "reaction, {sessions:>4} sessions: config written -> first failover seen {:>7.1} ms (after a full poll pass), -> breaker OPEN {:>7.1} ms, -> every session on C++ {:>7.1} ms",
        ms(first_failover),
        ms(opened),
        ms(all_cpp)
    );
}

fn cpu_per_session(mode: &str, sessions: usize, seconds: u64) -> f64 {
    let runtime = Runtime::from_yaml(&yaml(mode, ""), "bench.yaml").unwrap();
    let mut live: Vec<_> = (0..sessions)
        .map(|i| {
            let mut s = runtime.open(BoardId::Synthetic, params(i));
            s.prepare_session().unwrap();
            s.start_stream(45_000).unwrap();
            s
        })
        .collect();
    let mut out = SampleMatrix::default();
    let start_cpu = cpu_seconds();
    let start = Instant::now();
    let mut delivered = 0usize;
    while start.elapsed() < Duration::from_secs(seconds) {
        for s in live.iter_mut() {
            s.get_board_data(usize::MAX, Preset::Default, &mut out).unwrap();
            delivered += out.samples();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let cpu = cpu_seconds() - start_cpu;
    let wall = start.elapsed().as_secs_f64();
    let expected = (wall * 250.0 * sessions as f64) as usize;
    println!(
        "cpu, {mode:>7} x {sessions}: {:>6.3} % of a core per session, {delivered} of ~{expected} samples delivered",
        cpu / wall * 100.0 / sessions as f64
    );
    cpu / wall / sessions as f64
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing we need.
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    for n in [10, 100] {
        reaction(n);
    }
    let cpp = cpu_per_session("cpp", 100, 4);
    let rust = cpu_per_session("rust", 100, 4);
    let shadow = cpu_per_session("shadow", 100, 4);
    let standby = cpu_per_session("standby", 100, 4);
    println!("shadow / cpp = {:.2}x, standby / rust = {:.2}x", shadow / cpp, standby / rust);
}
