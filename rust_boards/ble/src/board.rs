//! [`BleBoard`]: a BrainFlow board session over any [`BleTransport`], with one ring buffer
//! per preset, markers, disconnect and stall detection, and reconnection with backoff.
//!
//! Threading: one task per connected device on the crate's shared tokio runtime reads the
//! transport's events and decodes them into the ring buffers. It sleeps until an event
//! arrives (or the gap bound passes while streaming): no thread per device, no polling.
//! The blocking [`Board`] methods run their BLE calls on that runtime and wait with a
//! deadline, so a caller never hangs on a device that stopped answering.

use crate::ganglion::{GanglionDecoder, GanglionFirmware};
use crate::muse::{encode_command, MuseDecoder, MuseSource, PresetSamples};
use crate::transport::{BleError, BleResult, BleTransport, DeviceQuery, FoundDevice, LinkEvent};
use board_api::{
    descriptor, Board, BoardError, BoardId, DecodeCounters, ExitCode, InputParams, Lifecycle, Preset, Result, SampleMatrix,
};
use sample_ring::SampleRing;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// The marker value of the first sample after a gap in the data (a disconnect or a stall
/// longer than `gap_timeout_ms`), in every preset. Negative and far from the small
/// positive integers users insert, so analysis code can tell the two apart. When a user
/// marker is pending at the same time, it goes on the sample after.
pub const GAP_MARKER: f64 = -99_999.0;

/// Ganglion's notify and write characteristics.
pub const GANGLION_NOTIFY: Uuid = Uuid::from_u128(0x2d30c082_f39f_4ce6_923f_3484ea480596);
pub const GANGLION_WRITE: Uuid = Uuid::from_u128(0x2d30c083_f39f_4ce6_923f_3484ea480596);

/// A Muse characteristic from its 16-bit short id (`273eXXXX-4c4d-454d-96be-f03bac821358`).
pub const fn muse_characteristic(short: u16) -> Uuid {
    Uuid::from_u128(0x273e0000_4c4d_454d_96be_f03bac821358 | ((short as u128) << 96))
}
pub const MUSE_CONTROL: Uuid = muse_characteristic(0x0001);
/// TP9, AF7, AF8, TP10, right aux.
pub const MUSE_EEG: [Uuid; 5] = [
    muse_characteristic(0x0003),
    muse_characteristic(0x0004),
    muse_characteristic(0x0005),
    muse_characteristic(0x0006),
    muse_characteristic(0x0007),
];
pub const MUSE_GYRO: Uuid = muse_characteristic(0x0009);
pub const MUSE_ACCEL: Uuid = muse_characteristic(0x000a);
pub const MUSE_PPG: [Uuid; 3] = [muse_characteristic(0x000f), muse_characteristic(0x0010), muse_characteristic(0x0011)];

/// The crate's tokio runtime, created on first use and shared by every device.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ble-boards")
            .enable_all()
            .build()
            .expect("the BLE runtime needs two threads; the system refused to create them")
    })
}

/// Runs `future` on the shared runtime and waits at most `limit` for it: the blocking
/// `Board` methods never wait longer than that, whatever the device does.
fn run_blocking<T, F>(what: &str, limit: Duration, future: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = BleResult<T>> + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let task = runtime().spawn(async move {
        let _ = tx.send(tokio::time::timeout(limit, future).await);
    });
    match rx.recv_timeout(limit + Duration::from_secs(1)) {
        Ok(Ok(result)) => result.map_err(BoardError::from),
        Ok(Err(_)) | Err(_) => {
            task.abort();
            Err(BleError::TimedOut { what: what.to_owned(), timeout: limit }.into())
        }
    }
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Settings a BLE session takes from `params` (`timeout`) and `params.other_info`
/// (`key=value` pairs separated by `,` or `;`).
#[derive(Debug, Clone, PartialEq)]
pub struct BleSettings {
    /// How long to scan for the device: `params.timeout` seconds, default 5 s.
    pub discovery_timeout: Duration,
    /// A streaming session with no notification for this long is stalled and reconnects:
    /// `gap_timeout_ms`, default 2000.
    pub gap_timeout: Duration,
    /// First wait between reconnect attempts, doubled per failure up to 8 s:
    /// `reconnect_backoff_ms`, default 250.
    pub reconnect_backoff: Duration,
    /// Connection attempts per (re)connect: `connect_attempts`, default 3.
    pub connect_attempts: u32,
    /// Ganglion only: `firmware=2` or `firmware=3` (default 3).
    pub ganglion_firmware: GanglionFirmware,
    /// The longest a write (start, stop, config) or a disconnect may take before the call
    /// returns an error: `call_timeout_ms`, default 5000.
    pub call_timeout: Duration,
}

const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// The longest a disconnect may take when a board is dropped.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

impl BleSettings {
    pub fn from_params(params: &InputParams) -> Result<BleSettings> {
        let millis = |key: &str, default: u64| -> Result<Duration> {
            match params.other_info_setting(key) {
                None => Ok(Duration::from_millis(default)),
                Some(v) => match v.parse::<u64>() {
                    Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
                    _ => Err(BoardError::invalid_arguments(format!(
                        "other_info: {key}={v:?} must be a whole number of milliseconds above 0"
                    ))),
                },
            }
        };
        let connect_attempts = match params.other_info_setting("connect_attempts") {
            None => 3,
            Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                BoardError::invalid_arguments(format!("other_info: connect_attempts={v:?} must be a whole number above 0"))
            })?,
        };
        let ganglion_firmware = match params.other_info_setting("firmware") {
            None => GanglionFirmware::V3,
            Some(v) => GanglionFirmware::from_setting(v).ok_or_else(|| {
                BoardError::invalid_arguments(format!("other_info: firmware={v:?} must be 2 or 3 (Ganglion firmware)"))
            })?,
        };
        Ok(BleSettings {
            discovery_timeout: params.timeout_or(Duration::from_secs(5)),
            gap_timeout: millis("gap_timeout_ms", 2000)?,
            reconnect_backoff: millis("reconnect_backoff_ms", 250)?,
            connect_attempts,
            ganglion_firmware,
            call_timeout: millis("call_timeout_ms", 5000)?,
        })
    }

    /// The longest `prepare_session` may take: discovery plus every connection attempt.
    fn prepare_budget(&self) -> Duration {
        self.discovery_timeout + Duration::from_secs(10) * self.connect_attempts + self.call_timeout
    }
}

/// A device protocol as a board needs it: which characteristics, which commands, and how
/// notifications become samples.
trait DeviceProtocol: Send {
    fn name_prefixes(&self) -> &'static [&'static str];
    fn notify_characteristics(&self) -> Vec<Uuid>;
    fn command_characteristic(&self) -> Uuid;
    fn encode_command(&self, command: &str) -> Vec<u8>;
    fn start_commands(&self) -> Vec<String>;
    fn stop_command(&self) -> &'static str;
    fn observe_command(&mut self, command: &str);
    fn decode(&mut self, characteristic: Uuid, value: &[u8], timestamp: f64, out: &mut PresetSamples);
    fn resync(&mut self);
    fn decode_counters(&self) -> DecodeCounters;
}

struct GanglionProtocol(GanglionDecoder);

impl DeviceProtocol for GanglionProtocol {
    fn name_prefixes(&self) -> &'static [&'static str] {
        &["Ganglion", "Simblee"]
    }
    fn notify_characteristics(&self) -> Vec<Uuid> {
        vec![GANGLION_NOTIFY]
    }
    fn command_characteristic(&self) -> Uuid {
        GANGLION_WRITE
    }
    fn encode_command(&self, command: &str) -> Vec<u8> {
        command.as_bytes().to_vec()
    }
    fn start_commands(&self) -> Vec<String> {
        vec!["b".into()]
    }
    fn stop_command(&self) -> &'static str {
        "s"
    }
    fn observe_command(&mut self, _command: &str) {}
    fn decode(&mut self, characteristic: Uuid, value: &[u8], timestamp: f64, out: &mut PresetSamples) {
        if characteristic == GANGLION_NOTIFY {
            self.0.decode_packet(value, timestamp, &mut out.default);
        }
    }
    fn resync(&mut self) {
        self.0.resync();
    }
    fn decode_counters(&self) -> DecodeCounters {
        self.0.counters()
    }
}

struct MuseProtocol {
    decoder: MuseDecoder,
    preset_command: String,
}

impl DeviceProtocol for MuseProtocol {
    fn name_prefixes(&self) -> &'static [&'static str] {
        &["Muse"]
    }
    fn notify_characteristics(&self) -> Vec<Uuid> {
        let mut all = MUSE_EEG.to_vec();
        all.extend([MUSE_ACCEL, MUSE_GYRO]);
        all.extend(MUSE_PPG);
        all
    }
    fn command_characteristic(&self) -> Uuid {
        MUSE_CONTROL
    }
    fn encode_command(&self, command: &str) -> Vec<u8> {
        encode_command(command)
    }
    fn start_commands(&self) -> Vec<String> {
        vec![self.preset_command.clone(), "d".into()]
    }
    fn stop_command(&self) -> &'static str {
        "h"
    }
    fn observe_command(&mut self, command: &str) {
        // Presets are `p` and digits; `p50` is the one that streams the right aux electrode.
        if command.len() > 1 && command.starts_with('p') && command[1..].bytes().all(|b| b.is_ascii_digit()) {
            self.preset_command = command.to_owned();
            self.decoder.set_aux_electrode(command == "p50");
        }
    }
    fn decode(&mut self, characteristic: Uuid, value: &[u8], timestamp: f64, out: &mut PresetSamples) {
        let source = if let Some(i) = MUSE_EEG.iter().position(|c| *c == characteristic) {
            MuseSource::Eeg(i)
        } else if let Some(i) = MUSE_PPG.iter().position(|c| *c == characteristic) {
            MuseSource::Ppg(i)
        } else if characteristic == MUSE_ACCEL {
            MuseSource::Accel
        } else if characteristic == MUSE_GYRO {
            MuseSource::Gyro
        } else {
            return;
        };
        self.decoder.decode(source, value, timestamp, out);
    }
    fn resync(&mut self) {
        self.decoder.resync();
    }
    fn decode_counters(&self) -> DecodeCounters {
        self.decoder.counters()
    }
}

fn protocol_for(board: BoardId, settings: &BleSettings) -> Result<Box<dyn DeviceProtocol>> {
    match board {
        BoardId::GanglionNative => Ok(Box::new(GanglionProtocol(GanglionDecoder::new(settings.ganglion_firmware)))),
        BoardId::Muse2 | BoardId::MuseS => {
            Ok(Box::new(MuseProtocol { decoder: MuseDecoder::new(), preset_command: "p21".into() }))
        }
        other => Err(BoardError::new(
            ExitCode::UnsupportedBoardError,
            format!("board {other} is not a BLE board (BLE boards: ganglion_native (46), muse_2 (38), muse_s (39))"),
        )),
    }
}

/// Where the link to the device stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkState {
    #[default]
    NotConnected,
    Connected,
    /// Lost (disconnect or stall) and being re-established with backoff.
    Reconnecting,
    /// Lost, and the session's [`LinkGuard`] holds reconnect attempts back for now (the
    /// dispatcher's breaker is open): the link stays down until the guard lets it retry.
    ReconnectHeld,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::NotConnected => "not_connected",
            LinkState::Connected => "connected",
            LinkState::Reconnecting => "reconnecting",
            LinkState::ReconnectHeld => "reconnect_held",
        }
    }
}

/// What the layer above a board (the dispatcher, through its breaker) learns of the link
/// and how it paces reconnection. A board without one counts failures and retries on its
/// own backoff alone.
///
/// It exists because a BLE board has nothing to fall back to: when its implementation is
/// judged unhealthy, the answer is to reconnect more carefully, not to switch sides.
pub trait LinkGuard: Send + Sync {
    /// The link failed (a disconnect or a stall); `reason` says which. Once per failure.
    fn link_failed(&self, reason: &str);
    /// Asked before each reconnect attempt.
    fn before_reconnect(&self) -> ReconnectAdmission;
}

/// A [`LinkGuard`]'s answer to "may the link try to reconnect now?".
pub enum ReconnectAdmission {
    /// Try now, and report whether the attempt restored the link.
    Attempt(Box<dyn FnOnce(bool) + Send>),
    /// Not now: ask again after this long.
    Hold(Duration),
}

/// A read-only view of a board's link that outlives calls into the board: status pages
/// and breakers read it without going through the board (which may be busy or hung).
#[derive(Clone)]
pub struct LinkHandle {
    shared: Arc<Mutex<Shared>>,
}

impl LinkHandle {
    pub fn status(&self) -> LinkStatus {
        let shared = lock(&self.shared);
        let mut status = shared.status.clone();
        status.decode = shared.protocol.decode_counters();
        status
    }
}

impl std::fmt::Debug for LinkHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkHandle").field("state", &lock(&self.shared).status.state).finish()
    }
}

/// What happened to a session's link, for status pages, metrics and breakers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkStatus {
    pub state: LinkState,
    /// Notifications received.
    pub notifications: u64,
    /// Disconnect events from the device or the stack.
    pub disconnects: u64,
    /// Times a streaming session went `gap_timeout` without a notification.
    pub stalls: u64,
    /// Link failures (disconnects plus stalls): what a breaker counts.
    pub failures: u64,
    pub reconnect_attempts: u64,
    pub reconnects: u64,
    /// Times the [`LinkGuard`] held a reconnect attempt back.
    pub reconnects_held: u64,
    /// Samples that carry [`GAP_MARKER`].
    pub gap_marks: u64,
    /// Why the link last failed, and when (Unix seconds).
    pub last_failure: Option<String>,
    pub last_failure_at: Option<f64>,
    pub decode: DecodeCounters,
}

/// One preset's buffer, and where its markers go.
struct Ring {
    marker_row: usize,
    samples: SampleRing,
}

impl Ring {
    fn new(rows: usize, marker_row: usize, capacity: usize) -> Self {
        Ring { marker_row, samples: SampleRing::new(rows, capacity) }
    }
    fn len(&self) -> usize {
        self.samples.len()
    }
}

struct Shared {
    protocol: Box<dyn DeviceProtocol>,
    /// Indexed by preset index; `None` for presets the board lacks or before streaming.
    rings: [Option<Ring>; 3],
    pending_marker: [f64; 3],
    gap_pending: [bool; 3],
    streaming: bool,
    dropped: u64,
    status: LinkStatus,
    scratch: PresetSamples,
}

impl Shared {
    fn on_notification(&mut self, characteristic: Uuid, value: &[u8]) {
        self.status.notifications += 1;
        if !self.streaming {
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        self.protocol.decode(characteristic, value, unix_now(), &mut scratch);
        for preset in [Preset::Default, Preset::Auxiliary, Preset::Ancillary] {
            let samples = scratch.get_mut(preset);
            if samples.is_empty() {
                continue;
            }
            let p = preset.index();
            let Some(ring) = self.rings[p].as_mut() else { continue };
            let (rows, marker_row) = (ring.samples.rows(), ring.marker_row);
            for sample in samples.chunks_exact_mut(rows) {
                if self.gap_pending[p] {
                    sample[marker_row] = GAP_MARKER;
                    self.gap_pending[p] = false;
                    self.status.gap_marks += 1;
                } else if self.pending_marker[p] != 0.0 {
                    sample[marker_row] = self.pending_marker[p];
                    self.pending_marker[p] = 0.0;
                }
                if ring.samples.push(sample) {
                    self.dropped += 1;
                }
            }
        }
        self.scratch = scratch;
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // The data behind the lock stays consistent sample by sample: keep serving it.
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A BLE board session: Ganglion native (46), Muse 2 (38) or Muse S (39).
pub struct BleBoard {
    board: BoardId,
    settings: BleSettings,
    query: DeviceQuery,
    transport: Arc<dyn BleTransport>,
    shared: Arc<Mutex<Shared>>,
    streaming_tx: watch::Sender<bool>,
    link_task: Option<JoinHandle<()>>,
    events: Option<mpsc::UnboundedReceiver<LinkEvent>>,
    device: Option<FoundDevice>,
    notify: Vec<Uuid>,
    command: Uuid,
    guard: Option<Arc<dyn LinkGuard>>,
    lifecycle: Lifecycle,
}

impl BleBoard {
    /// A session for `board` over `transport` (btleplug, or a fake peripheral in tests).
    pub fn with_transport(board: BoardId, params: &InputParams, transport: Arc<dyn BleTransport>) -> Result<BleBoard> {
        let settings = BleSettings::from_params(params)?;
        let protocol = protocol_for(board, &settings)?;
        let query = DeviceQuery::new(&params.mac_address, &params.serial_number, protocol.name_prefixes());
        let notify = protocol.notify_characteristics();
        let command = protocol.command_characteristic();
        let shared = Shared {
            protocol,
            rings: [None, None, None],
            pending_marker: [0.0; 3],
            gap_pending: [false; 3],
            streaming: false,
            dropped: 0,
            status: LinkStatus::default(),
            scratch: PresetSamples::default(),
        };
        let (streaming_tx, _) = watch::channel(false);
        let events = transport.take_events();
        Ok(BleBoard {
            board,
            settings,
            query,
            transport,
            shared: Arc::new(Mutex::new(shared)),
            streaming_tx,
            link_task: None,
            events,
            device: None,
            notify,
            command,
            guard: None,
            lifecycle: Lifecycle::new(),
        })
    }

    /// Reports link failures to `guard` and asks it before every reconnect attempt. Takes
    /// effect at the next `prepare_session`.
    pub fn set_link_guard(&mut self, guard: Arc<dyn LinkGuard>) {
        self.guard = Some(guard);
    }

    /// A view of the link that stays readable whatever the board is doing.
    pub fn link_handle(&self) -> LinkHandle {
        LinkHandle { shared: Arc::clone(&self.shared) }
    }

    pub fn settings(&self) -> &BleSettings {
        &self.settings
    }

    /// The link's state and counters.
    pub fn link_status(&self) -> LinkStatus {
        self.link_handle().status()
    }

    fn require_preset(&self, preset: Preset) -> Result<usize> {
        descriptor(self.board, preset)?;
        Ok(preset.index())
    }

    fn write_command(&self, command: &str) -> Result<()> {
        let bytes = {
            let mut shared = lock(&self.shared);
            shared.protocol.observe_command(command);
            shared.protocol.encode_command(command)
        };
        let transport = Arc::clone(&self.transport);
        let characteristic = self.command;
        run_blocking(&format!("writing {command:?}"), self.settings.call_timeout, async move {
            transport.write(characteristic, &bytes).await
        })
    }
}

impl Board for BleBoard {
    fn board_id(&self) -> BoardId {
        self.board
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.lifecycle.is_prepared() {
            return Ok(());
        }
        let Some(events) = self.events.take() else {
            return Err(BoardError::general(
                "this transport's event stream is already in use by another session; create a new board",
            ));
        };
        let transport = Arc::clone(&self.transport);
        let query = self.query.clone();
        let settings = self.settings.clone();
        let notify = self.notify.clone();
        let prepared = run_blocking("preparing the BLE session", settings.prepare_budget(), async move {
            let device = transport.find(&query, settings.discovery_timeout).await?;
            transport.connect(&device, settings.connect_attempts).await?;
            for characteristic in &notify {
                transport.subscribe(*characteristic).await?;
            }
            Ok(device)
        });
        let device = match prepared {
            Ok(device) => device,
            Err(e) => {
                self.events = Some(events);
                tracing::warn!(board = %self.board, error = %e, "BLE prepare failed");
                return Err(e);
            }
        };
        tracing::info!(board = %self.board, address = %device.address, "BLE session prepared");
        lock(&self.shared).status.state = LinkState::Connected;
        let link = LinkTask {
            shared: Arc::clone(&self.shared),
            transport: Arc::clone(&self.transport),
            device: device.clone(),
            settings: self.settings.clone(),
            notify: self.notify.clone(),
            command: self.command,
            board: self.board,
            guard: self.guard.clone(),
        };
        let streaming = self.streaming_tx.subscribe();
        self.link_task = Some(runtime().spawn(link.run(events, streaming)));
        self.device = Some(device);
        self.lifecycle.mark_prepared();
        Ok(())
    }

    fn is_prepared(&self) -> bool {
        self.lifecycle.is_prepared()
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        self.lifecycle.check_start(buffer_size)?;
        let start_commands = {
            let mut shared = lock(&self.shared);
            for preset in self.board.presets() {
                let layout = descriptor(self.board, *preset)?;
                shared.rings[preset.index()] = Some(Ring::new(layout.num_rows, layout.marker_channel, buffer_size));
            }
            shared.protocol.resync();
            shared.streaming = true;
            shared.protocol.start_commands()
        };
        self.streaming_tx.send_replace(true);
        for command in &start_commands {
            if let Err(e) = self.write_command(command) {
                lock(&self.shared).streaming = false;
                self.streaming_tx.send_replace(false);
                return Err(e);
            }
        }
        self.lifecycle.mark_started();
        Ok(())
    }

    fn stop_stream(&mut self) -> Result<()> {
        self.lifecycle.check_stop()?;
        let stop = {
            let mut shared = lock(&self.shared);
            shared.streaming = false;
            shared.protocol.stop_command()
        };
        self.streaming_tx.send_replace(false);
        self.lifecycle.mark_stopped();
        self.write_command(stop)
    }

    fn release_session(&mut self) -> Result<()> {
        self.lifecycle.check_release()?;
        if self.lifecycle.is_streaming() {
            if let Err(e) = self.stop_stream() {
                tracing::warn!(board = %self.board, error = %e, "stop before release failed; releasing anyway");
            }
        }
        if let Some(task) = self.link_task.take() {
            task.abort();
        }
        let transport = Arc::clone(&self.transport);
        if let Err(e) = run_blocking("disconnecting", self.settings.call_timeout, async move { transport.disconnect().await }) {
            tracing::warn!(board = %self.board, error = %e, "BLE disconnect on release failed");
        }
        let mut shared = lock(&self.shared);
        shared.rings = [None, None, None];
        shared.pending_marker = [0.0; 3];
        shared.gap_pending = [false; 3];
        shared.status.state = LinkState::NotConnected;
        self.device = None;
        self.lifecycle.mark_released();
        Ok(())
    }

    fn board_data_count(&mut self, preset: Preset) -> Result<usize> {
        self.lifecycle.require_buffer("board_data_count")?;
        let p = self.require_preset(preset)?;
        Ok(lock(&self.shared).rings[p].as_ref().map_or(0, Ring::len))
    }

    fn get_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        self.lifecycle.require_buffer("get_board_data")?;
        let p = self.require_preset(preset)?;
        let mut shared = lock(&self.shared);
        let ring = shared.rings[p].as_mut().ok_or_else(|| Lifecycle::no_buffer("get_board_data"))?;
        ring.samples.take_into(max_samples, out);
        Ok(())
    }

    fn get_current_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        self.lifecycle.require_buffer("get_current_board_data")?;
        let p = self.require_preset(preset)?;
        let shared = lock(&self.shared);
        let ring = shared.rings[p].as_ref().ok_or_else(|| Lifecycle::no_buffer("get_current_board_data"))?;
        ring.samples.peek_latest_into(max_samples, out);
        Ok(())
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        self.lifecycle.require_prepared("config_board")?;
        if config.is_empty() {
            return Err(BoardError::invalid_arguments("config_board needs a command, got an empty string"));
        }
        self.write_command(config)?;
        Ok(String::new())
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        self.lifecycle.require_prepared("insert_marker")?;
        let p = self.require_preset(preset)?;
        if value == 0.0 {
            return Err(BoardError::invalid_arguments("a marker of 0 is not a marker (BrainFlow's convention)"));
        }
        self.lifecycle.require_buffer("insert_marker")?;
        lock(&self.shared).pending_marker[p] = value;
        Ok(())
    }

    fn dropped_samples(&self) -> u64 {
        lock(&self.shared).dropped
    }
}

impl Drop for BleBoard {
    fn drop(&mut self) {
        if let Some(task) = self.link_task.take() {
            task.abort();
            let transport = Arc::clone(&self.transport);
            // Fire and forget: dropping must not block.
            runtime().spawn(async move {
                let _ = tokio::time::timeout(CALL_TIMEOUT, transport.disconnect()).await;
            });
        }
    }
}

/// The per-device task: decodes notifications, notices disconnects and stalls, reconnects.
struct LinkTask {
    shared: Arc<Mutex<Shared>>,
    transport: Arc<dyn BleTransport>,
    device: FoundDevice,
    settings: BleSettings,
    notify: Vec<Uuid>,
    command: Uuid,
    board: BoardId,
    guard: Option<Arc<dyn LinkGuard>>,
}

enum Wake {
    Event(LinkEvent),
    Closed,
    Stall,
}

impl LinkTask {
    async fn run(self, mut events: mpsc::UnboundedReceiver<LinkEvent>, mut streaming: watch::Receiver<bool>) {
        loop {
            let is_streaming = *streaming.borrow_and_update();
            let wake = tokio::select! {
                event = events.recv() => event.map_or(Wake::Closed, Wake::Event),
                changed = streaming.changed() => {
                    if changed.is_err() {
                        return; // the board is gone
                    }
                    continue;
                }
                _ = tokio::time::sleep(self.settings.gap_timeout), if is_streaming => Wake::Stall,
            };
            match wake {
                Wake::Event(LinkEvent::Notification { characteristic, value }) => {
                    lock(&self.shared).on_notification(characteristic, &value);
                }
                Wake::Event(LinkEvent::Disconnected) => {
                    lock(&self.shared).status.disconnects += 1;
                    self.reconnect("the device disconnected".into()).await;
                }
                Wake::Stall => {
                    lock(&self.shared).status.stalls += 1;
                    let reason =
                        format!("no notification for {} ms while streaming", self.settings.gap_timeout.as_millis());
                    self.reconnect(reason).await;
                }
                Wake::Closed => {
                    tracing::warn!(board = %self.board, "BLE transport closed its event stream; the link task ends");
                    lock(&self.shared).status.state = LinkState::NotConnected;
                    return;
                }
            }
        }
    }

    async fn reconnect(&self, reason: String) {
        tracing::warn!(board = %self.board, address = %self.device.address, %reason, "BLE link lost; reconnecting");
        if let Some(guard) = &self.guard {
            guard.link_failed(&reason);
        }
        {
            let mut shared = lock(&self.shared);
            shared.status.failures += 1;
            shared.status.last_failure = Some(reason);
            shared.status.last_failure_at = Some(unix_now());
            shared.status.state = LinkState::Reconnecting;
            shared.gap_pending = [true; 3];
            shared.protocol.resync();
        }
        let mut backoff = self.settings.reconnect_backoff;
        let budget = Duration::from_secs(10) * self.settings.connect_attempts + self.settings.call_timeout;
        loop {
            let report = match self.guard.as_ref().map(|g| g.before_reconnect()) {
                None => None,
                Some(ReconnectAdmission::Attempt(report)) => Some(report),
                Some(ReconnectAdmission::Hold(wait)) => {
                    let first_hold = {
                        let mut shared = lock(&self.shared);
                        shared.status.reconnects_held += 1;
                        std::mem::replace(&mut shared.status.state, LinkState::ReconnectHeld) != LinkState::ReconnectHeld
                    };
                    if first_hold {
                        tracing::warn!(board = %self.board, address = %self.device.address, "BLE reconnect held back by the session's guard (breaker open)");
                    }
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            {
                let mut shared = lock(&self.shared);
                shared.status.reconnect_attempts += 1;
                shared.status.state = LinkState::Reconnecting;
            }
            let _ = tokio::time::timeout(self.settings.call_timeout, self.transport.disconnect()).await;
            let attempt = tokio::time::timeout(budget, self.restore()).await;
            let restored = matches!(attempt, Ok(Ok(())));
            if let Some(report) = report {
                report(restored);
            }
            match attempt {
                Ok(Ok(())) => {
                    let mut shared = lock(&self.shared);
                    shared.status.reconnects += 1;
                    shared.status.state = LinkState::Connected;
                    tracing::info!(board = %self.board, reconnects = shared.status.reconnects, "BLE link restored");
                    return;
                }
                Ok(Err(e)) => {
                    tracing::warn!(board = %self.board, error = %e, backoff_ms = backoff.as_millis() as u64, "BLE reconnect failed")
                }
                Err(_) => tracing::warn!(board = %self.board, "BLE reconnect timed out"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Connects, subscribes and, if the session is streaming, restarts the stream.
    async fn restore(&self) -> BleResult<()> {
        self.transport.connect(&self.device, self.settings.connect_attempts).await?;
        for characteristic in &self.notify {
            self.transport.subscribe(*characteristic).await?;
        }
        let start: Vec<Vec<u8>> = {
            let shared = lock(&self.shared);
            if !shared.streaming {
                return Ok(());
            }
            shared.protocol.start_commands().iter().map(|c| shared.protocol.encode_command(c)).collect()
        };
        for bytes in &start {
            self.transport.write(self.command, bytes).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ganglion::GANGLION_ROWS;

    #[test]
    fn decoders_fill_the_descriptor_rows() {
        assert_eq!(descriptor(BoardId::GanglionNative, Preset::Default).unwrap().num_rows, GANGLION_ROWS);
    }

    #[test]
    fn muse_characteristics_follow_the_short_ids() {
        assert_eq!(MUSE_CONTROL.to_string(), "273e0001-4c4d-454d-96be-f03bac821358");
        assert_eq!(MUSE_ACCEL.to_string(), "273e000a-4c4d-454d-96be-f03bac821358");
        assert_eq!(MUSE_PPG[2].to_string(), "273e0011-4c4d-454d-96be-f03bac821358");
        assert_eq!(GANGLION_WRITE.to_string(), "2d30c083-f39f-4ce6-923f-3484ea480596");
    }

    #[test]
    fn settings_come_from_other_info_and_bad_ones_are_named() {
        let mut params = InputParams { timeout: 7, ..InputParams::default() };
        params.other_info = "gap_timeout_ms=500; reconnect_backoff_ms=10, firmware=2".into();
        let s = BleSettings::from_params(&params).unwrap();
        assert_eq!(s.discovery_timeout, Duration::from_secs(7));
        assert_eq!(s.gap_timeout, Duration::from_millis(500));
        assert_eq!(s.reconnect_backoff, Duration::from_millis(10));
        assert_eq!(s.ganglion_firmware, GanglionFirmware::V2);
        params.other_info = "gap_timeout_ms=0".into();
        let e = BleSettings::from_params(&params).unwrap_err();
        assert_eq!(e.code, ExitCode::InvalidArgumentsError);
        assert!(e.message.contains("gap_timeout_ms=\"0\""), "{e}");
        params.other_info = "firmware=4".into();
        assert!(BleSettings::from_params(&params).unwrap_err().message.contains("firmware"));
    }
}
