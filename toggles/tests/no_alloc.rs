//! The hot path allocates nothing: a counting global allocator watches `decide`.

use board_api::{BoardId, InputParams};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use toggles::{Config, SessionIdentity, ToggleStore};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is the
// only addition and touches no memory the allocator hands out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

pub const ROLLOUT: &str = "boards:
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
  cyton_daisy:
    mode: shadow
    ramp:
      start: 2026-01-01T00:00:00Z
      step_duration: 1h
      steps: [1, 5, 25, 100]
";

#[test]
fn decide_allocates_nothing() {
    let config = Config::parse(ROLLOUT, std::path::Path::new("bench.yaml")).unwrap();
    let store = ToggleStore::with_config("bench.yaml".into(), config, 0);
    let sessions: Vec<InputParams> = (0..64)
        .map(|i| InputParams {
            serial_number: format!("CY-{i:05}"),
            mac_address: if i % 3 == 0 { "aa:bb:cc:dd:ee:01".into() } else { String::new() },
            ..InputParams::default()
        })
        .collect();
    let empty = InputParams::default();
    let now = std::time::SystemTime::now();
    // Warm up lazily initialised state (arc-swap's thread-local debts, the random seed).
    for p in &sessions {
        std::hint::black_box(store.decide(BoardId::Cyton, &SessionIdentity::new(p), now));
    }
    std::hint::black_box(store.decide(BoardId::Cyton, &SessionIdentity::new(&empty), now));
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut rust = 0;
    for _ in 0..100 {
        for p in &sessions {
            for board in [BoardId::Cyton, BoardId::CytonDaisy, BoardId::Muse2, BoardId::Synthetic] {
                let d = store.decide(board, &SessionIdentity::with_session_key(p, "key"), now);
                rust += usize::from(d.path == toggles::Path::Rust);
            }
        }
        let d = store.decide(BoardId::Cyton, &SessionIdentity::new(&empty), now);
        std::hint::black_box(d);
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(after - before, 0, "decide allocated");
    assert!(rust > 0);
}
