//! Sessions that run both implementations on one input: shadow (C++ serves, Rust is
//! compared) and standby (Rust serves, C++ runs alongside and takes over).
//!
//! The input is produced once and handed to both sides:
//! - synthetic: both generators start from one seed and are asked for the same sample
//!   indices with the same timestamps;
//! - playback: the file is read once; its bytes are decoded by both decoders;
//! - serial devices: one transport owns the port; every byte read is fed to both
//!   decoders (see [`super::device`]).
//!
//! Every sample carries its index in the session's stream, in both sides' queues, so
//! comparison is by index and a standby failover continues from exactly the next
//! unserved index of the C++ queue: no sample lost, none repeated.
//!
//! The C++ side runs inline (it is the reference and the fallback). The Rust side runs
//! on its isolated worker: in shadow mode asynchronously (nothing it does can delay what
//! C++ serves), in standby synchronously with a deadline (it serves).

use super::compare::Comparator;
use super::device::SharedPort;
use super::faults::{self, Fault};
use super::kind::BoardKind;
use super::pty_proxy::{Flow, PtyProxy};
use super::queue::SampleQueue;
use std::collections::VecDeque;
use super::rust_side::{RustAnswer, RustSide};
use board_api::{descriptor, BoardError, BoardId, ExitCode, Preset, Result, SampleMatrix};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// After `s`, the line must be quiet this long before the stream counts as drained...
const STOP_QUIET: Duration = Duration::from_millis(50);
/// ...and draining never takes longer than this (a board that ignores `s`).
const STOP_DRAIN_LIMIT: Duration = Duration::from_secs(1);

/// Which side's queue is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Cpp,
    Rust,
}

/// Produces sample batches by stream index: one per side.
pub trait Producer: Send {
    /// Appends samples `first .. first + count` for every preset the board has
    /// (`outs[preset]`, sample-major), stamped `ts0 + k * period`.
    fn produce(&mut self, first: u64, count: usize, ts0: f64, period: f64, outs: &mut [Vec<f64>; 3]) -> Result<()>;
    /// Handles a config string both sides must see; returns the reply.
    fn configure(&mut self, config: &str) -> Result<String>;
    /// Decodes bytes read once from a device (byte-stream producers only), appending
    /// samples stamped `ts` to `outs[0]`.
    fn feed(&mut self, _bytes: &[u8], _ts: f64, _outs: &mut [Vec<f64>; 3]) -> Result<()> {
        Err(BoardError::general("this producer is paced by the clock, not fed bytes"))
    }
    /// Bytes the host is about to write to the device (e.g. gain settings).
    fn observe_command(&mut self, _command: &[u8]) -> Result<()> {
        Ok(())
    }
    /// Takes the input read once by the dispatcher (a playback file's bytes) and decodes it.
    fn load(&mut self, _bytes: &[u8]) -> Result<()> {
        Ok(())
    }
    /// How many samples exist in total (`None`: unbounded).
    fn total(&self) -> Option<u64> {
        None
    }
}

/// BrainFlow's board on the proxy's pty: the C++ side when the legacy is BrainFlow's
/// library. It decodes the device's bytes itself; the dispatcher drains what it decoded.
pub struct LegacyDevice {
    board: Box<dyn board_api::Board>,
    proxy: PtyProxy,
    drained: SampleMatrix,
}

impl LegacyDevice {
    pub fn new(board: Box<dyn board_api::Board>, proxy: PtyProxy) -> LegacyDevice {
        LegacyDevice { board, proxy, drained: SampleMatrix::default() }
    }
}

/// The C++ side's place when that side is BrainFlow's whole board rather than a decoder
/// or generator of ours ([`LegacyDevice`]): the engine never asks it for samples.
pub struct BoardIsTheCppSide;

impl Producer for BoardIsTheCppSide {
    fn produce(&mut self, _: u64, _: usize, _: f64, _: f64, _: &mut [Vec<f64>; 3]) -> Result<()> {
        Err(BoardError::general("the C++ side is BrainFlow's board; its samples are drained from it"))
    }
    fn configure(&mut self, _: &str) -> Result<String> {
        Err(BoardError::general("the C++ side is BrainFlow's board; it is configured through it"))
    }
}

/// What the Rust side writes and the dispatcher reads.
struct RustOutput {
    queues: Vec<SampleQueue>,
    /// Copy of the Rust side's default-preset samples, consumed by comparison.
    compare: SampleQueue,
}

pub struct Dual {
    board: BoardId,
    presets: Vec<Preset>,
    rows: Vec<usize>,
    marker_rows: Vec<usize>,
    serving: Side,
    /// The Rust side still takes part (false after it failed, or after the kill switch).
    rust_active: bool,
    cpp: Box<dyn Producer>,
    rust: RustSide<Box<dyn Producer>>,
    cpp_queues: Vec<SampleQueue>,
    cpp_compare: SampleQueue,
    rust_out: Arc<Mutex<RustOutput>>,
    comparator: Comparator,
    compare_row_count: usize,
    rate: f64,
    t0: Option<f64>,
    produced: u64,
    /// Per preset, markers not yet in a sample: one per sample, in order (BrainFlow
    /// queues them).
    pending_markers: [VecDeque<f64>; 3],
    /// Whether a stream was started since prepare: before that there is no buffer and
    /// reads answer INVALID_ARGUMENTS_ERROR, as BrainFlow's do.
    started: bool,
    scratch: [Vec<f64>; 3],
    /// Set when the Rust side failed while serving; the session reports it once.
    failed_over: Option<String>,
    /// The device both decoders read from, when the board is a serial device.
    port: Option<SharedPort>,
    /// Against BrainFlow's library: its board, reading the device through a pty, serves
    /// or stands behind the Rust decoder fed the same bytes (then `port` is `None`).
    legacy: Option<LegacyDevice>,
    /// How long a device has to answer a command.
    reply_timeout: Duration,
}

const DEFAULT_CAPACITY: usize = 450_000; // BrainFlow's default ring size

impl Dual {
    pub fn new(
        kind: Arc<BoardKind>,
        session_id: u64,
        serving: Side,
        cpp: Box<dyn Producer>,
        rust: Box<dyn Producer>,
        layout_board: BoardId,
    ) -> Result<Dual> {
        let board = kind.board;
        let presets: Vec<Preset> = layout_board.presets().to_vec();
        let mut rows = Vec::new();
        let mut marker_rows = Vec::new();
        for p in &presets {
            let d = descriptor(layout_board, *p)?;
            rows.push(d.num_rows);
            marker_rows.push(d.marker_channel);
        }
        let default = descriptor(layout_board, Preset::Default)?;
        let knobs = kind.knobs();
        let comparator =
            Comparator::new(layout_board, default, knobs.float_tolerance, kind.counters.shadow.clone());
        let queues = |cap| rows.iter().map(|r| SampleQueue::new(*r, cap)).collect::<Vec<_>>();
        let rust_out = RustOutput {
            queues: queues(DEFAULT_CAPACITY),
            compare: SampleQueue::new(rows[0], DEFAULT_CAPACITY),
        };
        Ok(Dual {
            board,
            rows: rows.clone(),
            marker_rows,
            serving,
            rust_active: true,
            cpp,
            rust: RustSide::spawn(kind.clone(), rust, session_id)?,
            cpp_queues: queues(DEFAULT_CAPACITY),
            cpp_compare: SampleQueue::new(rows[0], DEFAULT_CAPACITY),
            rust_out: Arc::new(Mutex::new(rust_out)),
            comparator,
            compare_row_count: default.num_rows,
            rate: default.sampling_rate as f64,
            t0: None,
            produced: 0,
            pending_markers: Default::default(),
            started: false,
            scratch: Default::default(),
            failed_over: None,
            port: None,
            legacy: None,
            reply_timeout: Duration::from_secs(3),
            presets,
        })
    }

    /// Hands the input, read once, to both sides to decode. A C++ failure is the input's
    /// fault and is returned; a Rust failure only takes the Rust side out.
    pub fn load(&mut self, bytes: Arc<Vec<u8>>) -> Result<()> {
        self.cpp.load(&bytes)?;
        let deadline = Duration::from_secs(30);
        match self.rust.call("load", deadline, false, move |p, _| p.load(&bytes)) {
            RustAnswer::Answered(Ok(())) => {}
            RustAnswer::Answered(Err(e)) => self.serve_cpp(&format!("Rust side rejected the input C++ accepted: {e}")),
            RustAnswer::Failed(f) => self.serve_cpp(&f.to_string()),
        }
        Ok(())
    }

    /// The reason the Rust side stopped serving, once (the session logs and counts it).
    pub fn take_failover(&mut self) -> Option<String> {
        self.failed_over.take()
    }

    pub fn start(&mut self, buffer_size: usize, now: f64) -> Result<()> {
        if self.t0.is_some() {
            return Err(BoardError::new(ExitCode::StreamAlreadyRunError, "the stream is already running"));
        }
        if buffer_size == 0 {
            return Err(BoardError::new(ExitCode::InvalidBufferSizeError, "buffer_size must be at least 1"));
        }
        // A new stream starts with an empty buffer, as BrainFlow's does: what the last one
        // left (the packets drained at its stop) is dropped, indices stay continuous.
        for q in &mut self.cpp_queues {
            q.discard_before(q.end_index());
            q.set_capacity(buffer_size);
        }
        self.cpp_compare.set_capacity(buffer_size);
        {
            let mut out = lock(&self.rust_out);
            for q in &mut out.queues {
                q.discard_before(q.end_index());
                q.set_capacity(buffer_size);
            }
            out.compare.set_capacity(buffer_size);
        }
        if let Some(port) = &self.port {
            port.write(b"b")?;
        }
        if let Some(legacy) = &mut self.legacy {
            // BrainFlow sends `b` itself, through the proxy.
            legacy.board.start_stream(buffer_size)?;
        }
        self.t0 = Some(now);
        self.started = true;
        Ok(())
    }

    /// BrainFlow's answer between prepare and the first `start_stream`.
    fn require_started(&self, call: &str) -> Result<()> {
        if self.started {
            return Ok(());
        }
        Err(BoardError::invalid_arguments(format!(
            "{call}: no stream has been started since prepare_session, so there is no buffer yet; call start_stream first"
        )))
    }

    /// Up to `samples` queued markers of each preset, oldest first, for the next samples.
    fn take_markers(&mut self, samples: [usize; 3]) -> [Vec<f64>; 3] {
        let mut taken: [Vec<f64>; 3] = Default::default();
        for ((queue, out), n) in self.pending_markers.iter_mut().zip(&mut taken).zip(samples) {
            let n = n.min(queue.len());
            out.extend(queue.drain(..n));
        }
        taken
    }

    pub fn stop(&mut self, now: f64) -> Result<()> {
        if self.t0.is_none() {
            return Err(BoardError::new(ExitCode::StreamThreadIsNotRunning, "the stream is not running"));
        }
        if let Some(legacy) = &mut self.legacy {
            // BrainFlow stops its own way (it sends `s`); what it decoded is then drained.
            let stopped = legacy.board.stop_stream();
            self.pump(now);
            self.t0 = None;
            return stopped;
        }
        let Some(port) = &self.port else {
            self.pump(now);
            self.t0 = None;
            return Ok(());
        };
        // Spec (Cyton stop): what the board sent before it saw `s` is the user's data; read
        // it until the line is quiet, decode it on both sides, then drop whatever follows
        // so it cannot open the next command's reply.
        let written = port.write(b"s");
        if written.is_ok() {
            port.wait_until_quiet(STOP_QUIET, STOP_DRAIN_LIMIT);
        }
        self.pump(now);
        if let Some(port) = &self.port {
            let dropped = port.discard_unread();
            if dropped > 0 {
                tracing::debug!(board = self.board.kind(), bytes = dropped, "input after the stop drain discarded");
            }
        }
        self.t0 = None;
        written
    }

    /// Makes this session read `port`: every chunk goes to both decoders.
    pub fn attach_port(&mut self, port: SharedPort, reply_timeout: Duration) {
        self.port = Some(port);
        self.reply_timeout = reply_timeout;
    }

    /// Decodes every chunk the device sent since the last pump, on both sides.
    fn pump_device(&mut self) {
        let Some(port) = &self.port else { return };
        let chunks = port.take_chunks();
        if chunks.is_empty() {
            self.compare_available();
            return;
        }
        for v in &mut self.scratch {
            v.clear();
        }
        for (ts, bytes) in &chunks {
            if let Err(e) = self.cpp.feed(bytes, *ts, &mut self.scratch) {
                // That chunk's C++ samples are lost; the comparison will show the gap.
                tracing::error!(board = self.board.kind(), exit_code = e.code.code(), error = %e, "C++ decoder failed");
            }
        }
        let new_samples = (self.scratch[0].len() / self.rows[0]) as u64;
        let markers = self.take_markers([new_samples as usize, 0, 0]);
        apply_markers(&mut self.scratch[0], self.rows[0], self.marker_rows[0], &markers[0]);
        self.cpp_queues[0].push_sample_major(&self.scratch[0]);
        self.cpp_compare.push_sample_major(&self.scratch[0]);
        if self.rust_active {
            let rows = self.rows[0];
            let marker_row = self.marker_rows[0];
            let out = self.rust_out.clone();
            let board = self.board.kind();
            let feed = move |producer: &mut Box<dyn Producer>, fault: Fault| -> Result<()> {
                let mut outs: [Vec<f64>; 3] = Default::default();
                for (ts, bytes) in &chunks {
                    producer.feed(bytes, *ts, &mut outs)?;
                }
                if fault == Fault::Corrupt {
                    faults::corrupt_samples_sample_major(&mut outs[0], rows, 1, board);
                }
                apply_markers(&mut outs[0], rows, marker_row, &markers[0]);
                let mut out = lock(&out);
                out.queues[0].push_sample_major(&outs[0]);
                out.compare.push_sample_major(&outs[0]);
                Ok(())
            };
            if self.serving == Side::Rust {
                let deadline = self.rust_deadline();
                match self.rust.call("decode", deadline, true, feed) {
                    RustAnswer::Answered(Ok(())) => {}
                    RustAnswer::Answered(Err(e)) | RustAnswer::Failed(super::rust_side::RustFailure::Failed(e)) => {
                        self.serve_cpp(&format!("Rust decoder failed: {e}"))
                    }
                    RustAnswer::Failed(f) => self.serve_cpp(&f.to_string()),
                }
            } else if !self.rust.submit("decode", feed) {
                // A decoder that missed bytes can never line up with the stream again.
                tracing::warn!(board = self.board.kind(), "Rust decoder fell behind; shadow comparison stops for this session");
                self.comparator.missing(new_samples);
                self.rust_active = false;
            }
        }
        self.compare_available();
    }

    /// Moves serving to C++ for good (kill switch, breaker open, or Rust failure).
    pub fn serve_cpp(&mut self, reason: &str) {
        if self.serving == Side::Rust {
            // Continue from the oldest sample not yet served: the C++ queue holds every
            // index from there on, because it is trimmed in step with what was served.
            let out = lock(&self.rust_out);
            for (p, q) in self.cpp_queues.iter_mut().enumerate() {
                q.discard_before(out.queues[p].first_index());
            }
            drop(out);
            self.serving = Side::Cpp;
            self.failed_over = Some(reason.to_owned());
        }
        self.rust_active = false;
    }

    /// Produces every sample due at `now` on both sides.
    pub fn pump(&mut self, now: f64) {
        let Some(t0) = self.t0 else {
            // Stopped: nothing new is produced, but the Rust side may still be finishing
            // the last batch (the stop drain); compare it as it lands.
            self.compare_available();
            return;
        };
        if self.legacy.is_some() {
            return self.pump_legacy();
        }
        if self.port.is_some() {
            return self.pump_device();
        }
        let mut due = ((now - t0) * self.rate).floor().max(0.0) as u64;
        if let Some(total) = self.cpp.total() {
            due = due.min(total);
        }
        if due <= self.produced {
            self.compare_available();
            return;
        }
        let count = (due - self.produced) as usize;
        let first = self.produced;
        let period = 1.0 / self.rate;
        let ts0 = t0 + first as f64 * period;
        let markers = self.take_markers([count; 3]);

        // C++ side, inline: the reference and the fallback.
        for v in &mut self.scratch {
            v.clear();
        }
        let cpp_ok = match self.cpp.produce(first, count, ts0, period, &mut self.scratch) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(board = self.board.kind(), exit_code = e.code.code(), error = %e, "C++ side failed to produce samples");
                false
            }
        };
        if cpp_ok {
            for (p, q) in self.cpp_queues.iter_mut().enumerate() {
                apply_markers(&mut self.scratch[p], self.rows[p], self.marker_rows[p], &markers[p]);
                q.push_sample_major(&self.scratch[p]);
            }
            self.cpp_compare.push_sample_major(&self.scratch[0]);
        }

        // Rust side, isolated.
        if self.rust_active {
            let rows = self.rows.clone();
            let marker_rows = self.marker_rows.clone();
            let out = self.rust_out.clone();
            let board = self.board.kind();
            let produce = move |producer: &mut Box<dyn Producer>, fault: Fault| -> Result<()> {
                let mut outs: [Vec<f64>; 3] = Default::default();
                producer.produce(first, count, ts0, period, &mut outs)?;
                if fault == Fault::Corrupt {
                    faults::corrupt_samples_sample_major(&mut outs[0], rows[0], 1, board);
                }
                let mut out = lock(&out);
                for (p, q) in out.queues.iter_mut().enumerate() {
                    apply_markers(&mut outs[p], rows[p], marker_rows[p], &markers[p]);
                    q.align_to(first);
                    q.push_sample_major(&outs[p]);
                }
                out.compare.align_to(first);
                out.compare.push_sample_major(&outs[0]);
                Ok(())
            };
            if self.serving == Side::Rust {
                let deadline = self.rust_deadline();
                match self.rust.call("produce", deadline, true, produce) {
                    RustAnswer::Answered(Ok(())) => {}
                    RustAnswer::Answered(Err(e)) | RustAnswer::Failed(super::rust_side::RustFailure::Failed(e)) => {
                        self.serve_cpp(&format!("Rust side failed: {e}"))
                    }
                    RustAnswer::Failed(f) => self.serve_cpp(&f.to_string()),
                }
            } else if !self.rust.submit("produce", move |p, fault| produce(p, fault)) {
                self.comparator.missing(count as u64);
            }
        }
        self.produced = due;
        self.compare_available();
    }

    fn rust_deadline(&self) -> Duration {
        // A generous floor: producing a large catch-up batch is legitimately slower than
        // one read, and standby must not fail over on a busy machine's hiccup.
        self.rust.kind_knobs_deadline().max(Duration::from_millis(50))
    }

    /// Compares every index both sides have produced.
    fn compare_available(&mut self) {
        let mut out = lock(&self.rust_out);
        let mut a = Vec::with_capacity(self.compare_row_count);
        let mut b = Vec::with_capacity(self.compare_row_count);
        // Rust samples older than anything C++ still holds can never be compared.
        let oldest = self.cpp_compare.first_index();
        if out.compare.first_index() < oldest {
            let lost = (oldest - out.compare.first_index()).min(out.compare.len() as u64);
            out.compare.discard_before(oldest);
            self.comparator.missing(lost);
        }
        loop {
            let index = out.compare.first_index();
            if !self.cpp_compare.copy_sample(index, &mut a) || !out.compare.copy_sample(index, &mut b) {
                break;
            }
            self.comparator.compare(index, &a, &b);
            out.compare.discard_before(index + 1);
            self.cpp_compare.discard_before(index + 1);
        }
        // C++ samples the Rust side skipped (it failed or fell behind) are dropped once
        // the Rust side has moved past them.
        if out.compare.first_index() > self.cpp_compare.first_index() {
            self.cpp_compare.discard_before(out.compare.first_index());
        }
    }

    fn preset_index(&self, preset: Preset) -> Result<usize> {
        self.presets.iter().position(|p| *p == preset).ok_or_else(|| {
            BoardError::invalid_arguments(format!("board {} has no preset {preset:?}", self.board))
        })
    }

    pub fn count(&mut self, preset: Preset, now: f64) -> Result<usize> {
        let p = self.preset_index(preset)?;
        self.require_started("get_board_data_count")?;
        self.pump(now);
        Ok(match self.serving {
            Side::Cpp => self.cpp_queues[p].len(),
            Side::Rust => lock(&self.rust_out).queues[p].len(),
        })
    }

    pub fn take(&mut self, max: usize, preset: Preset, out: &mut SampleMatrix, now: f64) -> Result<()> {
        let p = self.preset_index(preset)?;
        self.require_started("get_board_data")?;
        self.pump(now);
        match self.serving {
            Side::Cpp => {
                let first = self.cpp_queues[p].take_into(max, out);
                lock(&self.rust_out).queues[p].discard_before(first + out.samples() as u64);
            }
            Side::Rust => {
                let first = lock(&self.rust_out).queues[p].take_into(max, out);
                self.cpp_queues[p].discard_before(first + out.samples() as u64);
            }
        }
        Ok(())
    }

    pub fn peek(&mut self, max: usize, preset: Preset, out: &mut SampleMatrix, now: f64) -> Result<()> {
        let p = self.preset_index(preset)?;
        self.require_started("get_current_board_data")?;
        self.pump(now);
        match self.serving {
            Side::Cpp => self.cpp_queues[p].peek_latest_into(max, out),
            Side::Rust => lock(&self.rust_out).queues[p].peek_latest_into(max, out),
        };
        Ok(())
    }

    pub fn insert_marker(&mut self, value: f64, preset: Preset, now: f64) -> Result<()> {
        let p = self.preset_index(preset)?;
        if value == 0.0 {
            return Err(BoardError::invalid_arguments("marker value 0 is reserved for 'no marker'"));
        }
        self.require_started("insert_marker")?;
        self.pump(now);
        self.pending_markers[p].push_back(value);
        Ok(())
    }

    /// Config strings go to both sides; the serving side's reply is returned, and a
    /// Rust-side failure here counts like any other.
    pub fn configure(&mut self, config: &str) -> Result<String> {
        if self.legacy.is_some() {
            // BrainFlow writes it on the pty; the proxy forwards it once and the Rust
            // decoder observes it in order with the bytes around it.
            self.pump(super::now_unix());
            return self.legacy.as_mut().expect("checked above").board.config_board(config);
        }
        if self.port.is_some() {
            return self.configure_device(config);
        }
        let cpp_reply = self.cpp.configure(config);
        if self.rust_active {
            let text = config.to_owned();
            let answer = self.rust.call("config_board", Duration::from_secs(5), true, move |p, _| p.configure(&text));
            match answer {
                RustAnswer::Answered(Ok(reply)) if self.serving == Side::Rust => return Ok(reply),
                RustAnswer::Answered(_) => {}
                RustAnswer::Failed(f) => self.serve_cpp(&f.to_string()),
            }
        }
        cpp_reply
    }

    /// A command for the device: both decoders observe it first, then it is written
    /// once. While not streaming the device's reply is returned; while streaming the
    /// reply is mixed with data, so it is empty (as BrainFlow does).
    fn configure_device(&mut self, config: &str) -> Result<String> {
        self.pump(super::now_unix());
        let bytes = config.as_bytes().to_vec();
        // The C++ side serves or stands behind Rust: if it cannot follow the command, the
        // command is not sent and the caller hears why.
        self.cpp.observe_command(&bytes)?;
        if self.rust_active {
            let rust_bytes = bytes.clone();
            let answer = self.rust.call("observe_command", Duration::from_secs(5), true, move |p, _| {
                p.observe_command(&rust_bytes)
            });
            if let RustAnswer::Failed(f) = answer {
                self.serve_cpp(&f.to_string());
            }
        }
        let port = self.port.as_ref().expect("configure_device needs a port");
        port.write(&bytes)?;
        if self.t0.is_some() {
            return Ok(String::new());
        }
        Ok(match port.reply(self.reply_timeout) {
            Ok(text) => text,
            Err(partial) => String::from_utf8_lossy(&partial).into_owned(),
        })
    }

    /// Why the shared device's stream died on its own, if it did.
    pub fn stream_failure(&self) -> Option<String> {
        self.port.as_ref().and_then(SharedPort::failure).or_else(|| self.legacy.as_ref().and_then(|l| l.proxy.failure()))
    }

    /// Makes BrainFlow's board, reading the device through `legacy`'s proxy, the C++ side.
    pub fn attach_legacy(&mut self, legacy: LegacyDevice) {
        self.legacy = Some(legacy);
    }

    /// Against BrainFlow's library: drains what BrainFlow's board decoded, and gives the
    /// Rust decoder every byte and command that crossed the proxy, in order.
    fn pump_legacy(&mut self) {
        let legacy = self.legacy.as_mut().expect("pump_legacy needs a legacy device");
        let flows = legacy.proxy.take_flows();
        self.scratch[0].clear();
        let drained = legacy
            .board
            .board_data_count(Preset::Default)
            .and_then(|n| legacy.board.get_board_data(n, Preset::Default, &mut legacy.drained));
        match drained {
            Ok(()) => append_sample_major(&legacy.drained, &mut self.scratch[0]),
            Err(e) => tracing::error!(board = self.board.kind(), exit_code = e.code.code(), error = %e, "BrainFlow's board could not be read"),
        }
        let new_samples = self.scratch[0].len() / self.rows[0];
        // Markers go into the serving side's next samples (markers are not compared).
        let cpp_markers = if self.serving == Side::Cpp { self.take_markers([new_samples, 0, 0]) } else { Default::default() };
        apply_markers(&mut self.scratch[0], self.rows[0], self.marker_rows[0], &cpp_markers[0]);
        self.cpp_queues[0].push_sample_major(&self.scratch[0]);
        self.cpp_compare.push_sample_major(&self.scratch[0]);
        if self.rust_active && !flows.is_empty() {
            let rows = self.rows[0];
            let marker_row = self.marker_rows[0];
            let out = self.rust_out.clone();
            let board = self.board.kind();
            let feed = move |producer: &mut Box<dyn Producer>, fault: Fault| -> Result<()> {
                let mut outs: [Vec<f64>; 3] = Default::default();
                for flow in &flows {
                    match flow {
                        Flow::Host(command) => producer.observe_command(command)?,
                        Flow::Device { at, bytes } => producer.feed(bytes, *at, &mut outs)?,
                    }
                }
                if fault == Fault::Corrupt {
                    faults::corrupt_samples_sample_major(&mut outs[0], rows, 1, board);
                }
                let mut out = lock(&out);
                out.queues[0].push_sample_major(&outs[0]);
                out.compare.push_sample_major(&outs[0]);
                Ok(())
            };
            if self.serving == Side::Rust {
                let deadline = self.rust_deadline();
                let before = lock(&self.rust_out).queues[0].end_index();
                let answer = self.rust.call("decode", deadline, true, feed);
                // Markers go into the samples this batch served, once their number is known.
                let after = lock(&self.rust_out).queues[0].end_index();
                let markers = self.take_markers([(after - before) as usize, 0, 0]);
                let mut out = lock(&self.rust_out);
                for (k, value) in markers[0].iter().enumerate() {
                    if let Some(slot) = out.queues[0].value_mut(before + k as u64, marker_row) {
                        *slot = *value;
                    }
                }
                drop(out);
                match answer {
                    RustAnswer::Answered(Ok(())) => {}
                    RustAnswer::Answered(Err(e)) | RustAnswer::Failed(super::rust_side::RustFailure::Failed(e)) => {
                        self.serve_cpp(&format!("Rust decoder failed: {e}"))
                    }
                    RustAnswer::Failed(f) => self.serve_cpp(&f.to_string()),
                }
            } else if !self.rust.submit("decode", feed) {
                tracing::warn!(board = self.board.kind(), "Rust decoder fell behind; shadow comparison stops for this session");
                self.rust_active = false;
            }
        }
        self.compare_available();
    }

    pub fn dropped_samples(&self) -> u64 {
        match self.serving {
            Side::Cpp => self.cpp_queues[0].dropped(),
            Side::Rust => lock(&self.rust_out).queues[0].dropped(),
        }
    }
}

/// Appends `m`'s samples, sample-major, to `out`.
fn append_sample_major(m: &SampleMatrix, out: &mut Vec<f64>) {
    out.reserve(m.rows() * m.samples());
    for i in 0..m.samples() {
        out.extend((0..m.rows()).map(|row| m.get(row, i)));
    }
}

/// Puts `markers` into the marker rows of the first samples, one each.
fn apply_markers(samples: &mut [f64], rows: usize, marker_row: usize, markers: &[f64]) {
    for (sample, value) in samples.chunks_exact_mut(rows).zip(markers) {
        sample[marker_row] = *value;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding this lock can only come from our own queue code, which does
    // not leave the queues half-updated in a way that matters more than losing them.
    m.lock().unwrap_or_else(|p| p.into_inner())
}
