//! Decision latency for a 50% sticky rollout with a few targeting rules, next to the
//! Unleash-style baseline `murmur3_32("groupId:stickiness") % 100 + 1 <= 50` in the same run.

use board_api::{BoardId, InputParams};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use toggles::{Config, SessionIdentity, ToggleStore};

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
    let config = Config::parse(ROLLOUT, std::path::Path::new("bench.yaml")).unwrap();
    let store = ToggleStore::with_config("bench.yaml".into(), config, 0);
    let sessions: Vec<InputParams> = (0..1024)
        .map(|i| InputParams { serial_number: format!("CY-{i:06}"), ..InputParams::default() })
        .collect();
    let now = std::time::SystemTime::now();
    let mut group = c.benchmark_group("decide_50pct_sticky");
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
    group.bench_function("unleash_murmur3_mod100_baseline", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            black_box(unleash_enabled("cyton", black_box(&sessions[i].serial_number), 50))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
