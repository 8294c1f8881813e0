//! Decision latency for a 50% sticky rollout with a few targeting rules, next to the
//! Unleash-style baseline `murmur3_32("groupId:stickiness") % 100 + 1 <= 50` in the same run.
//!
//! After the run it prints each figure as a ratio to the baseline measured in the same
//! run (a loaded machine slows every figure alike, so the ratio is what compares across
//! runs) and the load average before and after.

use board_api::{BoardId, InputParams};
use criterion::Criterion;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use toggles::{Config, SessionIdentity, ToggleStore};

const GROUP: &str = "decide_50pct_sticky";
const BASELINE: &str = "unleash_murmur3_mod100_baseline";

const ROLLOUT: &str = "boards:
  cyton:
    mode: rust
    percent: 50
    targeting:
      - name: bench
        serve: rust
        serial_port: [/dev/ttyUSB-bench0, /dev/ttyUSB-bench1]
      - name: opted-out
        serve: cpp
        serial_number: [CY-1, CY-2, CY-3]
        mac_address: [AA:BB:CC:DD:EE:01]
";

/// The same rollout, but the opted-out serial numbers are as long as the sessions' own,
/// so every decision hashes its serial number and probes the targeting table.
const ROLLOUT_SAME_LENGTH_TARGETS: &str = "boards:
  cyton:
    mode: rust
    percent: 50
    targeting:
      - name: bench
        serve: rust
        serial_port: [/dev/ttyUSB-bench0, /dev/ttyUSB-bench1]
      - name: opted-out
        serve: cpp
        serial_number: [CY-900001, CY-900002, CY-900003]
        mac_address: [AA:BB:CC:DD:EE:01]
";

/// Unleash's gradual rollout: hash "groupId:stickiness" with murmur3 (seed 0), take
/// `% 100 + 1`, and enable when it is at most the percentage. The key is built in a
/// stack buffer so that the baseline does not pay for an allocation Unleash may avoid.
fn unleash_enabled(group_id: &str, stickiness: &str, percent: u32) -> bool {
    let mut buf = [0u8; 128];
    let (g, s) = (group_id.as_bytes(), stickiness.as_bytes());
    let n = g.len() + 1 + s.len();
    buf[..g.len()].copy_from_slice(g);
    buf[g.len()] = b':';
    buf[g.len() + 1..n].copy_from_slice(s);
    #[allow(clippy::int_plus_one)] // written as Unleash writes it
    let enabled = toggles::murmur3_32(&buf[..n], 0) % 100 + 1 <= percent;
    enabled
}

fn bench(c: &mut Criterion) {
    let config = Config::parse(ROLLOUT, Path::new("bench.yaml")).unwrap();
    let store = ToggleStore::with_config("bench.yaml".into(), config, 0);
    let same_length = Config::parse(ROLLOUT_SAME_LENGTH_TARGETS, Path::new("bench.yaml")).unwrap();
    let same_length = ToggleStore::with_config("bench.yaml".into(), same_length, 0).load_full();
    let sessions: Vec<InputParams> = (0..1024)
        .map(|i| InputParams { serial_number: format!("CY-{i:06}"), ..InputParams::default() })
        .collect();
    let now = SystemTime::now();
    let mut group = c.benchmark_group(GROUP);
    let mut i = 0usize;
    group.bench_function("switchyard_store_decide", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(store.decide(BoardId::Cyton, &SessionIdentity::new(black_box(&sessions[i])), now))
        })
    });
    let snapshot = store.load_full();
    group.bench_function("switchyard_snapshot_decide", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(snapshot.decide(BoardId::Cyton, &SessionIdentity::new(black_box(&sessions[i])), now))
        })
    });
    group.bench_function("switchyard_snapshot_decide_same_length_targets", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(same_length.decide(BoardId::Cyton, &SessionIdentity::new(black_box(&sessions[i])), now))
        })
    });
    // The floor under any sticky decision: the bucket hash alone, with the salt's seed
    // already derived (as the config does at load).
    let seed = toggles::salt_seed("cyton");
    group.bench_function("bucket_hash_only", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(toggles::bucket_hash(black_box(&sessions[i].serial_number), seed))
        })
    });
    group.bench_function(BASELINE, |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(unleash_enabled("cyton", black_box(&sessions[i].serial_number), 50))
        })
    });
    group.finish();
}

/// Where criterion writes its estimates: the same places criterion itself looks, with
/// the target directory found from this binary's own location as the last resort.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Path::new(&target).join("criterion");
    }
    // <target>/<profile>/deps/<this binary>
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|target| target.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// The estimate criterion reports (the slope when it has one), in ns, if this run wrote it.
fn estimate_ns(home: &Path, name: &str, run_started: SystemTime) -> Option<f64> {
    let file = home.join(GROUP).join(name).join("new").join("estimates.json");
    let modified = std::fs::metadata(&file).and_then(|m| m.modified()).ok()?;
    if modified < run_started {
        return None; // left by an earlier run, e.g. one that measured a different filter
    }
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
    ["slope", "mean"].iter().find_map(|kind| estimates[kind]["point_estimate"].as_f64())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    let home = criterion_home();
    // File times have coarse resolution on some file systems; a second of slack is
    // far shorter than any measurement.
    let run_started = SystemTime::now() - Duration::from_secs(1);
    let load_before = load_average();
    let mut criterion = Criterion::default().output_directory(&home).configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();

    let Some(baseline) = estimate_ns(&home, BASELINE, run_started) else { return };
    println!("\n{GROUP}: against the Unleash-style baseline measured in this run ({baseline:.1} ns)");
    for name in [
        "switchyard_snapshot_decide",
        "switchyard_snapshot_decide_same_length_targets",
        "switchyard_store_decide",
        "bucket_hash_only",
    ] {
        if let Some(ns) = estimate_ns(&home, name, run_started) {
            println!("  {name:<48} {ns:>7.1} ns  {:.2}x baseline", ns / baseline);
        }
    }
    println!("  load average (1, 5, 15 min): before {load_before}; after {}", load_average());
}
