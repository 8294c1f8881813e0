//! Reload latency: time from renaming a new config into place to its generation being
//! visible to readers, over 200 changes. Run with `cargo run --release --example reload_latency`.

use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let dir = std::env::temp_dir().join(format!("switchyard-reload-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("switchyard.yaml");
    let yaml = |p: u32| format!("boards:\n  cyton:\n    mode: rust\n    percent: {p}\n");
    std::fs::write(&path, yaml(0)).unwrap();
    let store = Arc::new(toggles::ToggleStore::open(&path).unwrap());
    let options = toggles::WatchOptions::default();
    let _watch = toggles::watch(store.clone(), options).unwrap();
    let mut samples = Vec::with_capacity(200);
    for i in 1..=200u32 {
        let want = store.load().generation + 1;
        let tmp = dir.join("switchyard.yaml.tmp");
        // Every change differs from the one in force.
        std::fs::write(&tmp, format!("# change {i}\n{}", yaml(i % 2 * 50 + 1))).unwrap();
        let start = Instant::now();
        std::fs::rename(&tmp, &path).unwrap();
        while store.load().generation < want {
            if start.elapsed() > Duration::from_secs(10) {
                eprintln!("change {i} missed");
                break;
            }
            std::hint::spin_loop();
        }
        samples.push(start.elapsed());
        // Let the watcher go idle so that each change is measured on its own.
        std::thread::sleep(Duration::from_millis(5));
    }
    samples.sort();
    let pct = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    println!(
        "reload latency over {} renames (debounce {:?}): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        samples.len(),
        options.debounce,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3
    );
    let _ = std::fs::remove_dir_all(&dir);
}
