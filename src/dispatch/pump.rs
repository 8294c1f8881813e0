//! The pump: one thread that gives every live session's stream its turn, every
//! [`PUMP_INTERVAL`]. A turn produces what is due on the C++ side (inline: it is the
//! reference) and hands the Rust side its next job on the Rust pool. Callers' reads only
//! copy what the turns produced, so no read ever runs implementation code or waits for it.
//!
//! Samples therefore reach a caller at most one interval after they are due (20 ms, five
//! samples of a 250 Hz board: about a Cyton dongle's own USB latency, 16 ms). A shorter
//! interval costs a Rust job per session more often: at 2,000 synthetic sessions on Rust, 10 ms
//! cost 0.85 cores and 20 ms 0.65. A session whose lock a caller holds is skipped
//! for that turn and served by the next.

use super::registry::Registry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often every stream is pumped.
pub const PUMP_INTERVAL: Duration = Duration::from_millis(20);

pub struct Pump {
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Pump {
    /// Starts pumping the sessions in `registry`.
    pub fn start(registry: Arc<Registry>) -> std::io::Result<Pump> {
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let thread = std::thread::Builder::new().name("switchyard-pump".into()).spawn(move || {
            while !stop.load(Ordering::Acquire) {
                let turn = Instant::now();
                let now = super::now_unix();
                // One wake-up of the Rust pool per turn, not one per session's job.
                super::isolate::batch(|| {
                    for session in registry.all_live() {
                        session.tick(now);
                    }
                });
                let spent = turn.elapsed();
                if spent < PUMP_INTERVAL {
                    std::thread::sleep(PUMP_INTERVAL - spent);
                }
            }
        })?;
        Ok(Pump { stopping, thread: Some(thread) })
    }

    pub fn stop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Pump {
    fn drop(&mut self) {
        self.stop();
    }
}
