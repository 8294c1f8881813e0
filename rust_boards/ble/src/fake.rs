//! An in-memory BLE peripheral behind the transport seam, for tests and demos without
//! hardware: it advertises, accepts connections, records writes, and replays a script of
//! notifications that can drop, reorder, disconnect and stall.
//!
//! Replay is driven by the board, not by a clock: writing the start command (see
//! [`FakePeripheral::replay_on_write`]) delivers the script up to the next disconnect or
//! stall. After a reconnect, the board writes the start command again and replay resumes
//! where it stopped: exactly what a device that dropped out and came back does.
//!
//! For devices driven by a clock instead (see `crate::simulate`), the peripheral also
//! tracks whether the device is streaming ([`FakePeripheral::stream_on_write`]: the start
//! and stop commands, and any link drop, which stops a real device too) and delivers
//! notifications on demand ([`FakePeripheral::notify_if_streaming`]).

use crate::transport::{BleError, BleResult, BleTransport, DeviceQuery, FoundDevice, LinkEvent};
use futures::future::BoxFuture;
use futures::FutureExt;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::mpsc;
use uuid::Uuid;

/// One step of a replay script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeStep {
    /// Deliver a notification (if its characteristic is subscribed).
    Notify { characteristic: Uuid, value: Vec<u8> },
    /// A notification the radio lost: never delivered, counted in [`FakeStats::dropped`].
    Drop { characteristic: Uuid, value: Vec<u8> },
    /// The link drops: a disconnect event, and replay pauses until the next start command.
    Disconnect,
    /// The device goes silent without disconnecting; replay pauses until the next start
    /// command (which the board sends after reconnecting).
    Stall,
}

/// What the fake saw, for assertions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FakeStats {
    pub connects: u32,
    pub failed_connects: u32,
    pub disconnects_requested: u32,
    pub delivered: u32,
    pub dropped: u32,
    pub disconnects_injected: u32,
    pub stalls: u32,
}

#[derive(Debug, Default)]
struct FakeState {
    advertised: Vec<FoundDevice>,
    connected: Option<FoundDevice>,
    connect_failures_left: u32,
    subscribed: Vec<Uuid>,
    characteristics: Option<Vec<Uuid>>,
    writes: Vec<(Uuid, Vec<u8>)>,
    script: VecDeque<FakeStep>,
    start_command: Option<Vec<u8>>,
    writes_hang: bool,
    stats: FakeStats,
    stream_commands: Option<(Vec<u8>, Vec<u8>)>,
    streaming: bool,
    stream_starts: u64,
}

impl FakeState {
    /// The link is gone: a real device forgets subscriptions and stops streaming.
    fn drop_link(&mut self) {
        self.connected = None;
        self.subscribed.clear();
        self.streaming = false;
    }
}

/// The in-memory peripheral. Share it as `Arc<FakePeripheral>`: the test keeps one handle
/// to script and inspect it, the board gets another as its transport.
pub struct FakePeripheral {
    state: Mutex<FakeState>,
    events_tx: mpsc::UnboundedSender<LinkEvent>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<LinkEvent>>>,
}

impl FakePeripheral {
    /// A peripheral advertising one device.
    pub fn new(address: &str, name: &str) -> Self {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let fake = FakePeripheral {
            state: Mutex::new(FakeState::default()),
            events_tx,
            events_rx: Mutex::new(Some(events_rx)),
        };
        fake.advertise(address, name);
        fake
    }

    fn state(&self) -> MutexGuard<'_, FakeState> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Another device in range (e.g. to check that matching picks the right one).
    pub fn advertise(&self, address: &str, name: &str) {
        self.state().advertised.push(FoundDevice { address: address.to_owned(), name: Some(name.to_owned()) });
    }

    /// Limits the characteristics the device has (default: any).
    pub fn with_characteristics(&self, characteristics: &[Uuid]) {
        self.state().characteristics = Some(characteristics.to_vec());
    }

    /// Writing exactly these bytes (to any characteristic) starts or resumes replay.
    pub fn replay_on_write(&self, start_command: &[u8]) {
        self.state().start_command = Some(start_command.to_vec());
    }

    pub fn push(&self, step: FakeStep) {
        self.state().script.push_back(step);
    }

    pub fn push_notification(&self, characteristic: Uuid, value: Vec<u8>) {
        self.push(FakeStep::Notify { characteristic, value });
    }

    /// Swaps two queued steps: notifications that arrive out of order.
    pub fn reorder(&self, first: usize, second: usize) {
        self.state().script.swap(first, second);
    }

    /// Writes never complete from now on: a device (or stack) that stopped answering.
    pub fn hang_writes(&self, hang: bool) {
        self.state().writes_hang = hang;
    }

    /// The next `n` connection attempts fail.
    pub fn fail_next_connects(&self, n: u32) {
        self.state().connect_failures_left = n;
    }

    /// Drops the link now, from the device's side.
    pub fn disconnect_now(&self) {
        let mut state = self.state();
        let was_connected = state.connected.is_some();
        state.drop_link();
        if was_connected {
            state.stats.disconnects_injected += 1;
            let _ = self.events_tx.send(LinkEvent::Disconnected);
        }
    }

    pub fn writes(&self) -> Vec<(Uuid, Vec<u8>)> {
        self.state().writes.clone()
    }

    pub fn stats(&self) -> FakeStats {
        self.state().stats
    }

    pub fn is_connected(&self) -> bool {
        self.state().connected.is_some()
    }

    /// Writing `start` (to any characteristic) starts streaming and `stop` stops it; a link
    /// drop stops it too. Independent of the replay script.
    pub fn stream_on_write(&self, start: &[u8], stop: &[u8]) {
        self.state().stream_commands = Some((start.to_vec(), stop.to_vec()));
    }

    /// Whether the device streams: connected, and the start command written since the
    /// last stop command or link drop.
    pub fn is_streaming(&self) -> bool {
        self.state().streaming
    }

    /// How many times the start command was written: a new value means a new stream.
    pub fn stream_starts(&self) -> u64 {
        self.state().stream_starts
    }

    /// Delivers `packets` now, in order, if the device still streams the stream that
    /// started as number `stream_start` (see [`Self::stream_starts`]); checked once under
    /// the lock, so a stop or a restart racing with the caller never lets packets of one
    /// stream leak into the next. Packets of unsubscribed characteristics are dropped and
    /// counted. Returns whether the packets were delivered.
    pub fn notify_if_streaming(&self, stream_start: u64, packets: impl IntoIterator<Item = (Uuid, Vec<u8>)>) -> bool {
        let mut state = self.state();
        if !state.streaming || state.stream_starts != stream_start {
            return false;
        }
        for (characteristic, value) in packets {
            if state.subscribed.contains(&characteristic) {
                state.stats.delivered += 1;
                let _ = self.events_tx.send(LinkEvent::Notification { characteristic, value });
            } else {
                state.stats.dropped += 1;
            }
        }
        true
    }

    /// Steps not yet replayed.
    pub fn remaining_steps(&self) -> usize {
        self.state().script.len()
    }

    fn replay(&self, state: &mut FakeState) {
        while let Some(step) = state.script.pop_front() {
            match step {
                FakeStep::Notify { characteristic, value } => {
                    if state.subscribed.contains(&characteristic) {
                        state.stats.delivered += 1;
                        let _ = self.events_tx.send(LinkEvent::Notification { characteristic, value });
                    } else {
                        state.stats.dropped += 1;
                    }
                }
                FakeStep::Drop { .. } => state.stats.dropped += 1,
                FakeStep::Disconnect => {
                    state.drop_link();
                    state.stats.disconnects_injected += 1;
                    let _ = self.events_tx.send(LinkEvent::Disconnected);
                    return;
                }
                FakeStep::Stall => {
                    state.stats.stalls += 1;
                    return;
                }
            }
        }
    }
}

impl BleTransport for FakePeripheral {
    fn find<'a>(&'a self, query: &'a DeviceQuery, timeout: Duration) -> BoxFuture<'a, BleResult<FoundDevice>> {
        async move {
            let state = self.state();
            state
                .advertised
                .iter()
                .find(|d| query.matches(&d.address, d.name.as_deref()))
                .cloned()
                .ok_or_else(|| BleError::NotFound { what: query.describe(), timeout })
        }
        .boxed()
    }

    fn connect<'a>(&'a self, device: &'a FoundDevice, attempts: u32) -> BoxFuture<'a, BleResult<()>> {
        async move {
            let mut state = self.state();
            for _ in 0..attempts.max(1) {
                if state.connect_failures_left > 0 {
                    state.connect_failures_left -= 1;
                    state.stats.failed_connects += 1;
                    continue;
                }
                state.connected = Some(device.clone());
                state.stats.connects += 1;
                return Ok(());
            }
            Err(BleError::Connect {
                address: device.address.clone(),
                attempts: attempts.max(1),
                reason: "the fake peripheral was told to refuse".into(),
            })
        }
        .boxed()
    }

    fn subscribe(&self, characteristic: Uuid) -> BoxFuture<'_, BleResult<()>> {
        async move {
            let mut state = self.state();
            if state.connected.is_none() {
                return Err(BleError::NotConnected);
            }
            if state.characteristics.as_ref().is_some_and(|c| !c.contains(&characteristic)) {
                return Err(BleError::NoCharacteristic(characteristic));
            }
            if !state.subscribed.contains(&characteristic) {
                state.subscribed.push(characteristic);
            }
            Ok(())
        }
        .boxed()
    }

    fn write<'a>(&'a self, characteristic: Uuid, bytes: &'a [u8]) -> BoxFuture<'a, BleResult<()>> {
        async move {
            if self.state().writes_hang {
                return futures::future::pending().await;
            }
            let mut state = self.state();
            if state.connected.is_none() {
                return Err(BleError::Write("the fake peripheral is not connected".into()));
            }
            state.writes.push((characteristic, bytes.to_vec()));
            if let Some((start, stop)) = &state.stream_commands {
                if start.as_slice() == bytes {
                    state.streaming = true;
                    state.stream_starts += 1;
                } else if stop.as_slice() == bytes {
                    state.streaming = false;
                }
            }
            if state.start_command.as_deref() == Some(bytes) {
                self.replay(&mut state);
            }
            Ok(())
        }
        .boxed()
    }

    fn disconnect(&self) -> BoxFuture<'_, BleResult<()>> {
        async move {
            let mut state = self.state();
            if state.connected.is_some() {
                state.stats.disconnects_requested += 1;
            }
            state.drop_link();
            Ok(())
        }
        .boxed()
    }

    fn take_events(&self) -> Option<mpsc::UnboundedReceiver<LinkEvent>> {
        self.events_rx.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}
