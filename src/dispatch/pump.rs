//! The pump: one thread that gives every live session's stream its turn, every
//! [`PUMP_INTERVAL`]. A turn produces what is due on the C++ side (inline: it is the
//! reference) and hands the Rust side its next job on the Rust pool. Callers' reads only
//! copy what the turns produced, so no read ever runs implementation code or waits for it.
//!
//! Samples therefore reach a caller at most one interval after they are due (10 ms,
//! 2.5 samples of a 250 Hz board); BrainFlow's own boards hand samples over from their
//! reading thread with a similar delay. A session whose lock a caller holds is skipped
//! for that turn and served by the next.

use super::registry::Registry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often every stream is pumped.
pub const PUMP_INTERVAL: Duration = Duration::from_millis(10);

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
                for session in registry.all_live() {
                    session.tick(now);
                }
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
