//! Fleet-level figures that criterion cannot take, printed as a table with the baseline
//! measured in the same run:
//! - reaction: sessions streaming at 250 Hz on the Rust path; at T every Rust call starts
//!   failing; how long until the breaker opens and until every session is on C++;
//! - kill switch round trip: sessions on Rust; the kill switch is written on, then off;
//!   how long until every session is on C++, and back on Rust (failback), and whether
//!   any sample was lost or repeated (every sample read is checked against the signal:
//!   its package number and channel values, from the seed);
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
    let generation = runtime.store().load().generation;
    let t = Instant::now();
    std::fs::write(&path, yaml("rust", "error_rate: 100")).unwrap();
    let kind = runtime.kind(BoardId::Synthetic).clone();
    let mut applied = None;
    let mut opened = None;
    let mut first_failover = None;
    let mut all_cpp = None;
    while all_cpp.is_none() && t.elapsed() < Duration::from_secs(30) {
        poll_all(&mut live, &mut out);
        if applied.is_none() && runtime.store().load().generation != generation {
            applied = Some(t.elapsed());
        }
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
        "reaction, {sessions:>4} sessions: config written -> applied by the watcher {:>6.1} ms, -> first failover seen {:>7.1} ms (after a full poll pass), -> breaker OPEN {:>7.1} ms, -> every session on C++ {:>7.1} ms",
        ms(applied),
        ms(first_failover),
        ms(opened),
        ms(all_cpp)
    );
}

/// The signal a session must serve, sample after sample: the reference generator.
struct Expected {
    generator: rust_boards::SyntheticGenerator,
    sample: Vec<f64>,
    bad: u64,
    moves: u64,
}

impl Expected {
    fn new(seed: u64) -> Expected {
        Expected { generator: rust_boards::SyntheticGenerator::new(seed), sample: Vec::new(), bad: 0, moves: 0 }
    }

    /// Checks every sample of `m` (rows 0..30: package number, channels, aux) in order.
    fn check(&mut self, m: &SampleMatrix) {
        use board_api::SampleGenerator;
        for i in 0..m.samples() {
            let mut aux = Vec::new();
            self.sample.clear();
            self.generator.generate(1, 0.0, 0.004, &mut self.sample, &mut aux).unwrap();
            if (0..30).any(|row| m.get(row, i).to_bits() != self.sample[row].to_bits()) {
                self.bad += 1;
            }
            if m.get(31, i) == switchyard::MOVE_MARKER {
                self.moves += 1;
            }
        }
    }
}

type Checked = Vec<(switchyard::Session, Expected)>;

fn poll_checked(live: &mut Checked, out: &mut SampleMatrix) {
    for (s, expected) in live.iter_mut() {
        s.get_board_data(usize::MAX, Preset::Default, out).expect("callers never see a move");
        expected.check(out);
    }
}

/// Polls like a 250 Hz reader until every session is on `path`; how long that took.
fn until_all_on(live: &mut Checked, out: &mut SampleMatrix, path: Path) -> Duration {
    let t = Instant::now();
    while !live.iter().all(|(s, _)| s.path() == path) && t.elapsed() < Duration::from_secs(60) {
        poll_checked(live, out);
        std::thread::sleep(Duration::from_millis(4));
    }
    t.elapsed()
}

fn kill_switch_round_trip(sessions: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.yaml");
    let write = |kill: bool| std::fs::write(&path, format!("kill_switch: {kill}\n{}", yaml("rust", ""))).unwrap();
    write(false);
    let runtime = Runtime::from_path(&path).unwrap();
    let mut live: Vec<_> = (0..sessions)
        .map(|i| {
            let mut s = runtime.open(BoardId::Synthetic, params(i));
            s.prepare_session().unwrap();
            s.start_stream(45_000).unwrap();
            (s, Expected::new(i as u64))
        })
        .collect();
    let mut out = SampleMatrix::default();
    for _ in 0..10 {
        poll_checked(&mut live, &mut out);
        std::thread::sleep(Duration::from_millis(20));
    }
    write(true);
    let on = until_all_on(&mut live, &mut out, Path::Cpp);
    for _ in 0..10 {
        poll_checked(&mut live, &mut out);
        std::thread::sleep(Duration::from_millis(20));
    }
    write(false);
    let off = until_all_on(&mut live, &mut out, Path::Rust);
    for _ in 0..10 {
        poll_checked(&mut live, &mut out);
        std::thread::sleep(Duration::from_millis(20));
    }
    let bad: u64 = live.iter().map(|(_, e)| e.bad).sum();
    let moves: u64 = live.iter().map(|(_, e)| e.moves).sum();
    let counters = &runtime.kind(BoardId::Synthetic).counters;
    println!(
        "kill switch, {sessions} sessions: on -> every session on C++ {:>7.1} ms; off -> every session back on Rust {:>7.1} ms; samples lost or repeated {bad}; move markers {moves} (of {}); failovers {}",
        on.as_secs_f64() * 1e3,
        off.as_secs_f64() * 1e3,
        2 * sessions,
        counters.failovers()
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
    kill_switch_round_trip(500);
    let cpp = cpu_per_session("cpp", 100, 4);
    let rust = cpu_per_session("rust", 100, 4);
    let shadow = cpu_per_session("shadow", 100, 4);
    let standby = cpu_per_session("standby", 100, 4);
    println!("shadow / cpp = {:.2}x, standby / rust = {:.2}x", shadow / cpp, standby / rust);
}
