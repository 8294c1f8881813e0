//! The pump: one thread that gives every live session's stream its turn, every
//! [`PUMP_INTERVAL`]. A turn produces what is due on the C++ side (inline: it is the
//! reference) and hands the Rust side its next job on the Rust pool. Callers' reads only
//! copy what the turns produced, so no read ever runs implementation code or waits for it.
//!
//! Samples therefore reach a caller at most one interval after they are due: 20 ms (five
//! samples of a 250 Hz board; a Cyton dongle's own USB latency is 16 ms), or 40 ms while
//! more than 1,000 sessions are live. A turn costs a Rust job per session: 2,000 synthetic
//! sessions on Rust, polled every 100 ms, took 0.85 cores at 10 ms, 0.63 at 20 ms and 0.47
//! at 40 ms. A session whose lock a caller holds is skipped
//! for that turn and served by the next.

use super::registry::Registry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often every stream is pumped...
pub const PUMP_INTERVAL: Duration = Duration::from_millis(20);
/// ...and how often once more than [`BUSY_SESSIONS`] sessions are live: each turn costs a
/// Rust job per session, and at thousands of sessions the jobs' fixed cost, not the
/// samples, is what fills the cores.
pub const BUSY_PUMP_INTERVAL: Duration = Duration::from_millis(40);
pub const BUSY_SESSIONS: usize = 1_000;

pub struct Pump {
    stopping: Arc<AtomicBool>,
    waker: PumpWaker,
    thread: Option<JoinHandle<()>>,
}

/// Starts the pump's next turn now instead of at the end of its interval: a config change
/// (new faults, a moved session) is acted on in the turn that follows it.
#[derive(Clone, Default)]
pub struct PumpWaker(Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>);

impl PumpWaker {
    pub fn wake(&self) {
        let (woken, ready) = &*self.0;
        *woken.lock().unwrap_or_else(|p| p.into_inner()) = true;
        ready.notify_one();
    }

    /// Waits up to `limit` or until woken.
    fn wait(&self, limit: Duration) {
        let (woken, ready) = &*self.0;
        let guard = woken.lock().unwrap_or_else(|p| p.into_inner());
        let (mut guard, _) = ready.wait_timeout_while(guard, limit, |woken| !*woken).unwrap_or_else(|p| p.into_inner());
        *guard = false;
    }
}

impl Pump {
    /// Starts pumping the sessions in `registry`.
    pub fn start(registry: Arc<Registry>, waker: PumpWaker) -> std::io::Result<Pump> {
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        let sleeper = waker.clone();
        let thread = std::thread::Builder::new().name("switchyard-pump".into()).spawn(move || {
            while !stop.load(Ordering::Acquire) {
                let turn = Instant::now();
                let now = super::now_unix();
                // One wake-up of the Rust pool per turn, not one per session's job.
                let live = super::isolate::batch(|| {
                    let mut live = 0;
                    for session in registry.all_live() {
                        session.tick(now);
                        live += 1;
                    }
                    live
                });
                let interval = if live > BUSY_SESSIONS { BUSY_PUMP_INTERVAL } else { PUMP_INTERVAL };
                let spent = turn.elapsed();
                if spent < interval {
                    sleeper.wait(interval - spent);
                }
            }
        })?;
        Ok(Pump { stopping, waker, thread: Some(thread) })
    }

    pub fn stop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        self.waker.wake();
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
