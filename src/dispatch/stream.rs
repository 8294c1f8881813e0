//! A session's stream: one input, one or two implementations decoding it, and the queues
//! callers read from. Every mode has this shape:
//!
//! | mode | sides | serves |
//! |---|---|---|
//! | `cpp` | C++ | C++ |
//! | `rust` | Rust | Rust |
//! | `shadow` | both, compared | C++ |
//! | `standby` | both, compared | Rust |
//!
//! The input is produced once and handed to every side:
//! - synthetic: generators from one seed, asked for the same sample indices with the same
//!   timestamps;
//! - playback: the file is read once; its bytes are decoded by each side's decoder;
//! - serial devices: one transport owns the port ([`super::device`]); every chunk read
//!   goes to each side's decoder, in order;
//! - against BrainFlow's library: its board reads the device through a pty the dispatcher
//!   serves ([`super::pty_proxy`]); the Rust decoder gets the same bytes and commands.
//!
//! **Who runs what.** The stream is pumped by the dispatcher's pump thread
//! ([`super::pump`]), never by a caller's read: a read only copies from the serving
//! side's queue, so it never enters Rust code and cannot be held up by it. The C++ side
//! runs inline in the pump (it is the reference and the fallback). The Rust side runs as
//! one job at a time on its lane of the Rust pool ([`super::isolate`]), watched
//! ([`JobWatch`]): a job that fails, panics or runs past the deadline is a Rust failure.
//!
//! **Moves.** Every sample carries its index in the stream, so a side can join at an index:
//! the synthetic generator continues from the other side's state, a playback decoder
//! starts at the index, and a device decoder replays the last chunks read and is lined up
//! with the last sample served by content. The joining side adopts the samples not yet
//! served, so a move loses and repeats nothing; the first sample the new side produced
//! carries [`MOVE_MARKER`] (a planned move) or [`FAILOVER_MARKER`] (a failure) in its marker
//! row. A move that cannot be lined up (the replay does not reach the last served sample)
//! is done anyway, with the failover marker, and the samples in between counted as dropped.

use super::compare::Comparator;
use super::device::SharedPort;
use super::faults::{self, Fault};
use super::kind::BoardKind;
use super::producers::{Producer, Recipe, Side};
use super::pty_proxy::{Flow, PtyProxy};
use super::queue::SampleQueue;
use super::rust_side::{JobWatch, RustAnswer, RustFailure, RustSide};
use board_api::{descriptor, BoardError, BoardId, GeneratorState, Preset, Result, SampleMatrix};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Marker written into the first sample served from C++ after a Rust failure, so
/// downstream analysis sees where the path changed unplanned (and where samples may be
/// missing). Negative and large, so it cannot be mistaken for an ordinary event marker.
pub const FAILOVER_MARKER: f64 = -65_535.0;
/// Marker written into the first sample a session's new path produced after a planned move
/// (kill switch, percentage lowered, operator force-open or release, breaker opening with
/// `move_now`, failback). Nothing is lost or repeated across it.
pub const MOVE_MARKER: f64 = -65_534.0;

/// After `s`, the line must be quiet this long before the stream counts as drained...
const STOP_QUIET: Duration = Duration::from_millis(50);
/// ...and draining never takes longer than this (a board that ignores `s`).
const STOP_DRAIN_LIMIT: Duration = Duration::from_secs(1);
/// Device bytes kept for a joining decoder to replay: about four seconds of a Cyton.
const HISTORY_BYTES: usize = 32 * 1024;
/// BrainFlow's default ring size.
const DEFAULT_CAPACITY: usize = 450_000;

/// Where the samples come from.
enum Input {
    /// Synthetic and playback: samples are due by elapsed time.
    Clock,
    /// A serial device both decoders read through one transport.
    Device(SharedPort),
    /// BrainFlow's board on the proxy's pty (the C++ side is that board).
    Legacy(LegacyDevice),
    /// BrainFlow's playback board reading the file itself (the C++ side), and the Rust
    /// decoder playing the same file by the clock: row `k` of the file is index `k` on both.
    LegacyFile(Box<dyn board_api::Board>),
}

/// BrainFlow's board on the proxy's pty: the C++ side when the legacy is BrainFlow's
/// library. It decodes the device's bytes itself; the stream drains what it decoded.
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

/// How a stream changed sides, for the session to log and count once.
#[derive(Debug, Clone, PartialEq)]
pub struct Switch {
    pub to: Side,
    pub planned: bool,
    pub reason: String,
    /// Samples that could not be carried across (0 for every move that lined up).
    pub dropped: u64,
}

/// The C++ side: runs inline.
struct CppPart {
    producer: Box<dyn Producer>,
    queues: Vec<SampleQueue>,
    compare: SampleQueue,
    /// Next sample index to produce (clock inputs).
    next: u64,
}

/// What the Rust side's job writes and the stream reads.
struct RustOutput {
    queues: Vec<SampleQueue>,
    /// Copy of the default-preset samples, consumed by comparison.
    compare: SampleQueue,
    /// The generator's state after the last completed job (synthetic only).
    state: Option<GeneratorState>,
    /// Samples a join could not carry across, not yet counted.
    gap: u64,
    /// The last default-preset sample this side produced while serving (see `Stream::tail`).
    tail: Vec<f64>,
}

/// The Rust side: runs on its lane, one job at a time.
struct RustPart {
    side: RustSide<Box<dyn Producer>>,
    out: Arc<Mutex<RustOutput>>,
    watch: JobWatch,
    next: u64,
    /// Clock inputs: samples due so far (the job produces `next .. due`).
    due: u64,
    /// Device input not yet handed to the Rust job (it was busy).
    backlog: Vec<(f64, Arc<[u8]>)>,
    flows: Vec<Flow>,
}

/// Markers not yet in a sample: the caller's, per preset and oldest first (BrainFlow
/// queues them the same way), and a switch's (its sample index and value). Whichever
/// side serves puts them in as it produces, on its own thread, before any read can
/// take the sample.
#[derive(Default)]
struct MarkerState {
    user: [VecDeque<f64>; 3],
    switch: Option<(u64, f64)>,
}

type Markers = Arc<Mutex<MarkerState>>;

/// Puts a pending switch marker into its sample if `queue` holds it.
fn place_switch(queue: &mut SampleQueue, marker_row: usize, switch: &mut Option<(u64, f64)>) {
    if let Some((index, value)) = *switch {
        if let Some(slot) = queue.value_mut(index, marker_row) {
            *slot = value;
            *switch = None;
        }
    }
}

pub struct Stream {
    kind: Arc<BoardKind>,
    session_id: u64,
    board: BoardId,
    presets: Vec<Preset>,
    /// Rows and marker row per preset (shared with the Rust side's jobs without copying).
    rows: Arc<[usize]>,
    marker_rows: Arc<[usize]>,
    default_descriptor: &'static board_api::BoardDescriptor,
    recipe: Option<Recipe>,
    input: Input,
    /// The playback file's bytes, kept for a side that joins later, how many samples it
    /// holds, and whether it loops (`loopback_true`).
    file: Option<Arc<Vec<u8>>>,
    file_samples: Option<u64>,
    looping: bool,
    serving: Side,
    cpp: Option<CppPart>,
    rust: Option<RustPart>,
    comparator: Comparator,
    rate: f64,
    t0: Option<f64>,
    markers: Markers,
    /// BrainFlow's lifecycle rules: a stream exists once its session is prepared, so it is
    /// born prepared; reads before the first start answer INVALID_ARGUMENTS_ERROR.
    lifecycle: board_api::Lifecycle,
    buffer_size: usize,
    scratch: [Vec<f64>; 3],
    /// Device chunks kept for a joining decoder (newest last) and their total size.
    history: VecDeque<(f64, Arc<[u8]>)>,
    history_bytes: usize,
    /// Every command the host sent and every config string, in order, for a joining side.
    commands: Vec<Vec<u8>>,
    configs: Vec<String>,
    /// The last default-preset sample the serving side produced, to line a joining device
    /// decoder up with.
    tail: Vec<f64>,
    switches: Vec<Switch>,
    /// A move is under way: Rust outcomes seen meanwhile do not start another.
    moving: bool,
    /// When a failed shadow Rust side is rebuilt.
    rejoin_at: Option<std::time::Instant>,
    /// Samples lost across switches, not yet counted by the session, and in all.
    gap_samples: u64,
    gap_total: u64,
    reply_timeout: Duration,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Only our queue code runs under these locks (Rust board code never does).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn new_queues(rows: &[usize], capacity: usize) -> Vec<SampleQueue> {
    rows.iter().map(|r| SampleQueue::new(*r, capacity)).collect()
}

impl Stream {
    /// A stream served by `serving`, with the sides `sides` (the serving one included),
    /// samples laid out as `layout_board`'s.
    pub fn new(
        kind: Arc<BoardKind>,
        session_id: u64,
        recipe: Recipe,
        layout_board: BoardId,
        serving: Side,
        both: bool,
    ) -> Result<Stream> {
        let mut stream = Stream::empty(kind, session_id, Some(recipe.clone()), layout_board, serving)?;
        let sides = if both { vec![Side::Cpp, Side::Rust] } else { vec![serving] };
        for side in sides {
            let producer = recipe.make(side)?;
            stream.add_side(side, producer)?;
        }
        Ok(stream)
    }

    /// A playback stream whose C++ side is BrainFlow's playback board reading the file
    /// itself, with a Rust side playing the same file (`recipe`), samples laid out as
    /// `layout_board`'s.
    pub fn against_brainflow_playback(
        kind: Arc<BoardKind>,
        session_id: u64,
        recipe: Recipe,
        layout_board: BoardId,
        serving: Side,
        brainflow: Box<dyn board_api::Board>,
        file: Arc<Vec<u8>>,
    ) -> Result<Stream> {
        let mut stream = Stream::empty(kind, session_id, Some(recipe.clone()), layout_board, serving)?;
        stream.input = Input::LegacyFile(brainflow);
        stream.cpp = Some(CppPart {
            producer: Box::new(BoardIsTheCppSide),
            queues: new_queues(&stream.rows, DEFAULT_CAPACITY),
            compare: SampleQueue::new(stream.rows[0], DEFAULT_CAPACITY),
            next: 0,
        });
        stream.add_side(Side::Rust, recipe.make(Side::Rust)?)?;
        stream.load(file)?;
        Ok(stream)
    }

    /// A stream whose C++ side is BrainFlow's board on `legacy`'s pty, with a Rust decoder
    /// (`rust`) fed the same bytes and commands.
    pub fn against_brainflow(
        kind: Arc<BoardKind>,
        session_id: u64,
        board: BoardId,
        serving: Side,
        rust: Box<dyn Producer>,
        legacy: LegacyDevice,
    ) -> Result<Stream> {
        let mut stream = Stream::empty(kind, session_id, None, board, serving)?;
        stream.input = Input::Legacy(legacy);
        stream.cpp = Some(CppPart {
            producer: Box::new(BoardIsTheCppSide),
            queues: new_queues(&stream.rows, DEFAULT_CAPACITY),
            compare: SampleQueue::new(stream.rows[0], DEFAULT_CAPACITY),
            next: 0,
        });
        stream.add_side(Side::Rust, rust)?;
        Ok(stream)
    }

    fn empty(kind: Arc<BoardKind>, session_id: u64, recipe: Option<Recipe>, layout_board: BoardId, serving: Side) -> Result<Stream> {
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
        let comparator = Comparator::new(layout_board, default, kind.knobs().float_tolerance, kind.counters.shadow.clone());
        Ok(Stream {
            board,
            session_id,
            presets,
            rows: rows.into(),
            marker_rows: marker_rows.into(),
            default_descriptor: default,
            recipe,
            input: Input::Clock,
            file: None,
            file_samples: None,
            looping: false,
            serving,
            cpp: None,
            rust: None,
            comparator,
            rate: default.sampling_rate as f64,
            t0: None,
            markers: Default::default(),
            lifecycle: {
                let mut lifecycle = board_api::Lifecycle::new();
                lifecycle.mark_prepared();
                lifecycle
            },
            buffer_size: DEFAULT_CAPACITY,
            scratch: Default::default(),
            history: VecDeque::new(),
            history_bytes: 0,
            commands: Vec::new(),
            configs: Vec::new(),
            tail: Vec::new(),
            switches: Vec::new(),
            moving: false,
            rejoin_at: None,
            gap_samples: 0,
            gap_total: 0,
            reply_timeout: Duration::from_secs(3),
            kind,
        })
    }

    fn add_side(&mut self, side: Side, producer: Box<dyn Producer>) -> Result<()> {
        match side {
            Side::Cpp => {
                self.cpp = Some(CppPart {
                    producer,
                    queues: new_queues(&self.rows, self.buffer_size),
                    compare: SampleQueue::new(self.rows[0], self.buffer_size),
                    next: 0,
                })
            }
            Side::Rust => {
                let out = RustOutput {
                    queues: new_queues(&self.rows, self.buffer_size),
                    compare: SampleQueue::new(self.rows[0], self.buffer_size),
                    state: producer.generator_state(),
                    gap: 0,
                    tail: Vec::new(),
                };
                self.rust = Some(RustPart {
                    side: RustSide::spawn(self.kind.clone(), producer, self.session_id)?,
                    out: Arc::new(Mutex::new(out)),
                    watch: JobWatch::default(),
                    next: 0,
                    due: 0,
                    backlog: Vec::new(),
                    flows: Vec::new(),
                });
            }
        }
        Ok(())
    }

    /// The mode this stream is in now.
    pub fn path(&self) -> toggles::Path {
        match (self.cpp.is_some(), self.rust.is_some(), self.serving) {
            (true, true, Side::Cpp) => toggles::Path::Shadow,
            (true, true, Side::Rust) => toggles::Path::Standby,
            (_, _, Side::Rust) => toggles::Path::Rust,
            (_, _, Side::Cpp) => toggles::Path::Cpp,
        }
    }

    /// The side changes since the last call, for the session to log and count, and the
    /// samples lost across them.
    pub fn take_switches(&mut self) -> (Vec<Switch>, u64) {
        let gap = std::mem::take(&mut self.gap_samples);
        self.gap_total += gap;
        (std::mem::take(&mut self.switches), gap)
    }

    /// Makes this stream read `port`: every chunk goes to each side's decoder.
    pub fn attach_port(&mut self, port: SharedPort, reply_timeout: Duration) {
        self.input = Input::Device(port);
        self.reply_timeout = reply_timeout;
    }

    /// Hands a playback file's bytes, read once, to every side to decode. A C++ failure is
    /// the input's fault and is returned; a Rust failure takes the Rust side out (to C++
    /// when it was serving, with nothing served yet to lose).
    pub fn load(&mut self, bytes: Arc<Vec<u8>>) -> Result<()> {
        let cpp_plays = !matches!(self.input, Input::LegacyFile(_));
        if let Some(cpp) = self.cpp.as_mut().filter(|_| cpp_plays) {
            cpp.producer.load(&bytes)?;
            self.file_samples = cpp.producer.total();
        }
        self.file = Some(bytes.clone());
        if let Some(rust) = &mut self.rust {
            let loaded = rust.side.call("load", Duration::from_secs(30), false, move |p, _| p.load(&bytes).map(|()| p.total()));
            match loaded {
                RustAnswer::Answered(Ok(total)) => {
                    if self.cpp.is_none() || !cpp_plays {
                        self.file_samples = total;
                    }
                }
                RustAnswer::Answered(Err(e)) if self.cpp.is_none() => return Err(e),
                RustAnswer::Answered(Err(e)) => self.rust_failed(&format!("Rust side rejected the input C++ accepted: {e}")),
                RustAnswer::Failed(f) => self.rust_failed(&f.to_string()),
            }
        }
        Ok(())
    }

    pub fn start(&mut self, buffer_size: usize, now: f64) -> Result<()> {
        self.lifecycle.check_start(buffer_size)?;
        self.buffer_size = buffer_size;
        // A new stream starts with an empty buffer, as BrainFlow's does: what the last one
        // left (the packets drained at its stop) is dropped, indices stay continuous.
        if let Some(cpp) = &mut self.cpp {
            for q in cpp.queues.iter_mut().chain(std::iter::once(&mut cpp.compare)) {
                q.discard_before(q.end_index());
                q.set_capacity(buffer_size);
            }
        }
        if let Some(rust) = &mut self.rust {
            let mut out = lock(&rust.out);
            let out = &mut *out;
            for q in out.queues.iter_mut().chain(std::iter::once(&mut out.compare)) {
                q.discard_before(q.end_index());
                q.set_capacity(buffer_size);
            }
        }
        match &mut self.input {
            Input::Device(port) => port.write(b"b")?,
            // BrainFlow sends `b` itself, through the proxy.
            Input::Legacy(legacy) => legacy.board.start_stream(buffer_size)?,
            Input::LegacyFile(board) => board.start_stream(buffer_size)?,
            Input::Clock => {}
        }
        self.t0 = Some(now);
        self.lifecycle.mark_started();
        Ok(())
    }

    /// BrainFlow's answer between prepare and the first `start_stream` (see
    /// [`board_api::Lifecycle`], which keeps the rules for every Rust board and stream).
    fn require_started(&self, call: &str) -> Result<()> {
        self.lifecycle.require_buffer(call)
    }

    pub fn stop(&mut self, now: f64) -> Result<()> {
        self.lifecycle.check_stop()?;
        let result = match &mut self.input {
            Input::Legacy(legacy) => legacy.board.stop_stream(),
            Input::LegacyFile(board) => board.stop_stream(),
            Input::Clock => Ok(()),
            Input::Device(port) => {
                // Spec (Cyton stop): what the board sent before it saw `s` is the user's
                // data; read it until the line is quiet, then drop whatever follows so it
                // cannot open the next command's reply.
                let written = port.write(b"s");
                if written.is_ok() {
                    port.wait_until_quiet(STOP_QUIET, STOP_DRAIN_LIMIT);
                }
                written
            }
        };
        self.pump(now);
        self.settle();
        if let Input::Device(port) = &self.input {
            let dropped = port.discard_unread();
            if dropped > 0 {
                tracing::debug!(board = self.board.kind(), bytes = dropped, "input after the stop drain discarded");
            }
        }
        self.t0 = None;
        self.lifecycle.mark_stopped();
        result
    }

    /// Lets the Rust job in flight finish and hands it the input it has not seen yet, so
    /// that every sample produced so far is in the queues (stop, moves).
    fn settle(&mut self) {
        for _ in 0..2 {
            let Some(rust) = &self.rust else { return };
            let deadline = self.rust_deadline();
            if !rust.watch.wait_idle(deadline) {
                self.check_rust();
                return;
            }
            self.check_rust();
            if self.kind.breaker_refuses_new_sessions() {
                break; // nothing more may run on Rust; what ran is in
            }
            self.submit_rust_input();
        }
        if let Some(rust) = &self.rust {
            rust.watch.wait_idle(self.rust_deadline());
        }
        self.check_rust();
        self.compare_available();
    }

    fn rust_deadline(&self) -> Duration {
        // A generous floor: producing a large catch-up batch is legitimately slower than
        // one read, and a busy machine's hiccup must not move sessions.
        self.kind.knobs().call_deadline.max(Duration::from_millis(50))
    }

    /// Produces every sample due and hands the Rust side its work. Called by the pump
    /// thread (and by stop), never by a caller's read.
    pub fn pump(&mut self, now: f64) {
        self.check_rust();
        if self.t0.is_none() {
            return;
        }
        if self.rejoin_at.is_some_and(|at| std::time::Instant::now() >= at) {
            self.rejoin_at = None;
            if !self.kind.breaker_refuses_new_sessions() {
                if let Err(e) = self.add_companion() {
                    tracing::warn!(board = self.board.kind(), session = self.session_id, error = %e, "the Rust side could not be rebuilt");
                }
            }
        }
        match &self.input {
            Input::Clock => self.pump_clock(now),
            Input::LegacyFile(_) => {
                self.drain_brainflow_playback();
                self.pump_clock(now);
            }
            Input::Device(_) => self.pump_device(),
            Input::Legacy(_) => self.pump_legacy(),
        }
        self.submit_rust_input();
        self.compare_available();
    }

    fn due(&self, now: f64) -> u64 {
        let Some(t0) = self.t0 else { return 0 };
        let mut due = ((now - t0) * self.rate).floor().max(0.0) as u64;
        let total = match &self.cpp {
            Some(cpp) if !matches!(self.input, Input::LegacyFile(_)) => cpp.producer.total(),
            _ if self.looping => None,
            _ => self.file_samples,
        };
        if let Some(total) = total {
            due = due.min(total);
        }
        due
    }

    fn pump_clock(&mut self, now: f64) {
        let due = self.due(now);
        let period = 1.0 / self.rate;
        let t0 = self.t0.unwrap_or(now);
        let serving_cpp = self.serving == Side::Cpp;
        let comparing = self.rust.is_some();
        let cpp_plays = !matches!(self.input, Input::LegacyFile(_));
        if let Some(cpp) = self.cpp.as_mut().filter(|_| cpp_plays) {
            if due > cpp.next {
                let (first, count) = (cpp.next, (due - cpp.next) as usize);
                for v in &mut self.scratch {
                    v.clear();
                }
                match cpp.producer.produce(first, count, t0 + first as f64 * period, period, &mut self.scratch) {
                    Ok(()) => {
                        let mut markers = lock(&self.markers);
                        for (p, q) in cpp.queues.iter_mut().enumerate() {
                            if serving_cpp {
                                apply_markers(&mut self.scratch[p], self.rows[p], self.marker_rows[p], &mut markers.user[p]);
                            }
                            q.align_to(first);
                            q.push_sample_major(&self.scratch[p]);
                        }
                        drop(markers);
                        if comparing {
                            cpp.compare.align_to(first);
                            cpp.compare.push_sample_major(&self.scratch[0]);
                        }
                    }
                    Err(e) => {
                        tracing::error!(board = self.board.kind(), exit_code = e.code.code(), error = %e, "C++ side failed to produce samples")
                    }
                }
                cpp.next = due;
            }
        }
        if let Some(rust) = &mut self.rust {
            rust.due = rust.due.max(due);
        }
        self.apply_switch_marker();
    }

    fn remember(&mut self, ts: f64, bytes: &Arc<[u8]>) {
        self.history.push_back((ts, bytes.clone()));
        self.history_bytes += bytes.len();
        while self.history_bytes > HISTORY_BYTES && self.history.len() > 1 {
            if let Some((_, old)) = self.history.pop_front() {
                self.history_bytes -= old.len();
            }
        }
    }

    /// Decodes every chunk the device sent since the last pump: inline on the C++ side,
    /// queued for the Rust side.
    fn pump_device(&mut self) {
        let Input::Device(port) = &self.input else { return };
        let chunks: Vec<(f64, Arc<[u8]>)> = port.take_chunks().into_iter().map(|(ts, bytes)| (ts, Arc::from(bytes))).collect();
        if chunks.is_empty() {
            return;
        }
        for (ts, bytes) in &chunks {
            self.remember(*ts, bytes);
        }
        if let Some(cpp) = &mut self.cpp {
            self.scratch[0].clear();
            for (ts, bytes) in &chunks {
                if let Err(e) = cpp.producer.feed(bytes, *ts, &mut self.scratch) {
                    // That chunk's C++ samples are lost; the comparison will show the gap.
                    tracing::error!(board = self.board.kind(), exit_code = e.code.code(), error = %e, "C++ decoder failed");
                }
            }
        }
        self.push_cpp_default();
        if let Some(rust) = &mut self.rust {
            rust.backlog.extend(chunks);
        }
    }

    /// Queues the C++ side's new default-preset samples (in `scratch[0]`, sample-major):
    /// with the caller's markers and the last-sample record when C++ serves, for comparison
    /// when Rust runs too, and with a pending switch marker put in.
    fn push_cpp_default(&mut self) {
        let serving_cpp = self.serving == Side::Cpp;
        let comparing = self.rust.is_some();
        if let Some(cpp) = &mut self.cpp {
            if serving_cpp {
                apply_markers(&mut self.scratch[0], self.rows[0], self.marker_rows[0], &mut lock(&self.markers).user[0]);
                keep_tail(&mut self.tail, &self.scratch[0], self.rows[0]);
            }
            cpp.queues[0].push_sample_major(&self.scratch[0]);
            if comparing {
                cpp.compare.push_sample_major(&self.scratch[0]);
            }
        }
        self.apply_switch_marker();
    }

    /// Against BrainFlow's playback board: drains what it played into the C++ side's queue
    /// (the Rust side produces by the clock, in `pump_clock`).
    fn drain_brainflow_playback(&mut self) {
        let Input::LegacyFile(board) = &mut self.input else { return };
        let mut drained = SampleMatrix::default();
        drain_board(board.as_mut(), &mut drained, &mut self.scratch[0]);
        self.push_cpp_default();
    }

    /// Against BrainFlow's library: drains what BrainFlow's board decoded, and queues for
    /// the Rust decoder every byte and command that crossed the proxy, in order.
    fn pump_legacy(&mut self) {
        let Input::Legacy(legacy) = &mut self.input else { return };
        let flows = legacy.proxy.take_flows();
        drain_board(legacy.board.as_mut(), &mut legacy.drained, &mut self.scratch[0]);
        self.push_cpp_default();
        if let Some(rust) = &mut self.rust {
            rust.flows.extend(flows);
        }
    }

    /// Gives the Rust side its next job when it has none: the samples due, or the input it
    /// has not seen. One job at a time, so a slow side gets bigger batches, never a queue.
    fn submit_rust_input(&mut self) {
        let period = 1.0 / self.rate;
        let t0 = self.t0.unwrap_or(0.0);
        let serving_rust = self.serving == Side::Rust;
        let comparing = self.cpp.is_some();
        let rows = Arc::clone(&self.rows);
        let marker_rows = Arc::clone(&self.marker_rows);
        let board = self.board.kind();
        let markers = self.markers.clone();
        let Some(rust) = &mut self.rust else { return };
        if !rust.watch.is_idle() {
            return;
        }
        let out = rust.out.clone();
        // Everything a job does with its output, whatever produced it.
        let deliver = move |outs: &mut [Vec<f64>; 3], first: Option<u64>, fault: Fault, state: Option<GeneratorState>| {
            if fault == Fault::Corrupt {
                faults::corrupt_samples_sample_major(&mut outs[0], rows[0], 1, board);
            }
            let mut markers = lock(&markers);
            let mut out = lock(&out);
            let out = &mut *out;
            for (p, q) in out.queues.iter_mut().enumerate() {
                if p >= rows.len() {
                    break;
                }
                if serving_rust {
                    apply_markers(&mut outs[p], rows[p], marker_rows[p], &mut markers.user[p]);
                }
                if let Some(first) = first {
                    q.align_to(first);
                }
                q.push_sample_major(&outs[p]);
            }
            if serving_rust {
                place_switch(&mut out.queues[0], marker_rows[0], &mut markers.switch);
                keep_tail(&mut out.tail, &outs[0], rows[0]);
            }
            if comparing {
                if let Some(first) = first {
                    out.compare.align_to(first);
                }
                out.compare.push_sample_major(&outs[0]);
            }
            if state.is_some() {
                out.state = state;
            }
        };
        match &self.input {
            Input::Clock | Input::LegacyFile(_) => {
                if rust.due <= rust.next {
                    return;
                }
                let (first, count) = (rust.next, (rust.due - rust.next) as usize);
                let sizes: Vec<usize> = self.rows.iter().map(|r| r * count).collect();
                let job_rows = Arc::clone(&self.rows);
                let job = move |producer: &mut Box<dyn Producer>, fault: Fault| -> Result<()> {
                    let mut outs: [Vec<f64>; 3] = Default::default();
                    for (out, size) in outs.iter_mut().zip(&sizes) {
                        out.reserve_exact(*size);
                    }
                    producer.produce(first, count, t0 + first as f64 * period, period, &mut outs)?;
                    check_shape(&outs, &job_rows, |_, rows| count * rows)?;
                    let state = producer.generator_state();
                    deliver(&mut outs, Some(first), fault, state);
                    Ok(())
                };
                if rust.side.submit_watched("produce", &rust.watch, job) {
                    rust.next = rust.due;
                }
            }
            Input::Device(_) => {
                if rust.backlog.is_empty() {
                    return;
                }
                let chunks = std::mem::take(&mut rust.backlog);
                let job_rows = Arc::clone(&self.rows);
                let job = move |producer: &mut Box<dyn Producer>, fault: Fault| -> Result<()> {
                    let mut outs: [Vec<f64>; 3] = Default::default();
                    for (ts, bytes) in &chunks {
                        producer.feed(bytes, *ts, &mut outs)?;
                    }
                    check_device_output(&outs[0], job_rows[0], chunks.iter().map(|(_, b)| b.len()).sum())?;
                    deliver(&mut outs, None, fault, None);
                    Ok(())
                };
                rust.side.submit_watched("decode", &rust.watch, job);
            }
            Input::Legacy(_) => {
                if rust.flows.is_empty() {
                    return;
                }
                let flows = std::mem::take(&mut rust.flows);
                let job = move |producer: &mut Box<dyn Producer>, fault: Fault| -> Result<()> {
                    let mut outs: [Vec<f64>; 3] = Default::default();
                    for flow in &flows {
                        match flow {
                            Flow::Host(command) => producer.observe_command(command)?,
                            Flow::Device { at, bytes } => producer.feed(bytes, *at, &mut outs)?,
                        }
                    }
                    deliver(&mut outs, None, fault, None);
                    Ok(())
                };
                rust.side.submit_watched("decode", &rust.watch, job);
            }
        }
    }

    /// Acts on the Rust job's outcome: a failure, a hang past the deadline, or the breaker
    /// refusing the Rust path. Never waits.
    fn check_rust(&mut self) {
        if self.moving {
            return; // the move under way decides where the stream goes
        }
        let deadline = self.rust_deadline();
        let Some(rust) = &self.rust else { return };
        let gap = std::mem::take(&mut lock(&rust.out).gap);
        self.gap_samples += gap;
        let Some(failure) = rust.watch.failure(deadline, &self.kind) else { return };
        match failure {
            RustFailure::Refused(state) => {
                let _ = self.move_to(Side::Cpp, true, &format!("BREAKER_{state}"), false);
            }
            other => self.rust_failed(&other.to_string()),
        }
    }

    /// The Rust side failed: it leaves the stream; if it was serving, C++ takes over at the
    /// next unserved index.
    fn rust_failed(&mut self, reason: &str) {
        if self.serving == Side::Rust {
            if let Err(e) = self.move_to(Side::Cpp, false, reason, false) {
                tracing::error!(board = self.board.kind(), session = self.session_id, error = %e, "C++ could not take over from the failed Rust side");
            }
        } else if let Some(rust) = self.rust.take() {
            // Shadow: C++ serves on. The Rust side is rebuilt after a deadline, for as long
            // as the breaker admits it, so a Rust side that keeps failing is judged by the
            // breaker rather than forgotten.
            tracing::warn!(board = self.board.kind(), session = self.session_id, reason, "Rust side failed; shadow comparison resumes with a rebuilt Rust side");
            rust.side.retire(Duration::ZERO, |_| {});
            self.rejoin_at = Some(std::time::Instant::now() + self.rust_deadline());
        }
    }

    /// Moves serving to `to`, losslessly: a side that is not running joins at the next
    /// index and adopts the samples not yet served. `keep_other` leaves the side moved
    /// from running (a move into shadow or standby); otherwise it stops.
    pub fn move_to(&mut self, to: Side, planned: bool, reason: &str, keep_other: bool) -> Result<()> {
        if self.serving == to {
            if !keep_other {
                self.drop_side(to.other());
            }
            return Ok(());
        }
        if matches!(self.input, Input::Legacy(_) | Input::LegacyFile(_)) && to == Side::Rust && self.rust.is_none() {
            return Err(BoardError::general("the Rust decoder cannot join BrainFlow's board mid-stream"));
        }
        self.moving = true;
        let moved = self.switch_sides(to, planned, reason, keep_other);
        self.moving = false;
        moved
    }

    fn switch_sides(&mut self, to: Side, planned: bool, reason: &str, keep_other: bool) -> Result<()> {
        if planned {
            // Every sample produced so far goes across.
            self.settle();
        }
        let marker = if planned { MOVE_MARKER } else { FAILOVER_MARKER };
        let present = match to {
            Side::Cpp => self.cpp.is_some(),
            Side::Rust => self.rust.is_some(),
        };
        let mut dropped = 0;
        let switch_index = if present {
            // Standby to C++ (or shadow to Rust): the side has every unserved sample.
            self.first_unserved(to)
        } else {
            let (index, gap) = self.join(to)?;
            dropped = gap;
            index
        };
        lock(&self.markers).switch = Some((switch_index, marker));
        self.serving = to;
        self.apply_switch_marker();
        if !keep_other {
            self.drop_side(to.other());
        }
        // A planned move is one of a batch the runtime logs once; a failure is this
        // session's own event.
        if planned {
            tracing::debug!(board = self.board.kind(), session = self.session_id, to = to.as_str(), at_index = switch_index, joined = !present, reason, "stream switched sides");
        } else {
            tracing::info!(board = self.board.kind(), session = self.session_id, to = to.as_str(), at_index = switch_index, joined = !present, reason, "stream switched sides");
        }
        if dropped > 0 {
            tracing::warn!(board = self.board.kind(), session = self.session_id, dropped, "samples could not be carried across the switch");
            self.gap_samples += dropped;
        }
        self.switches.push(Switch { to, planned, reason: reason.to_owned(), dropped });
        Ok(())
    }

    /// Lets the side not serving join again (back into shadow or standby).
    pub fn add_companion(&mut self) -> Result<()> {
        let to = self.serving.other();
        let present = match to {
            Side::Cpp => self.cpp.is_some(),
            Side::Rust => self.rust.is_some(),
        };
        if present {
            return Ok(());
        }
        self.settle();
        self.join(to).map(|_| ())
    }

    fn drop_side(&mut self, side: Side) {
        match side {
            Side::Cpp => {
                if matches!(self.input, Input::Legacy(_) | Input::LegacyFile(_)) {
                    return; // BrainFlow's board is the C++ side for the session's life
                }
                self.cpp = None;
            }
            Side::Rust => {
                if let Some(rust) = self.rust.take() {
                    rust.side.retire(Duration::from_millis(100), |_| {});
                }
            }
        }
    }

    fn first_unserved(&self, side: Side) -> u64 {
        match side {
            Side::Cpp => self.cpp.as_ref().map_or(0, |c| c.queues[0].first_index()),
            Side::Rust => self.rust.as_ref().map_or(0, |r| lock(&r.out).queues[0].first_index()),
        }
    }

    /// The serving side's queues, copied (to be adopted by a joining side).
    fn serving_queues(&self) -> Vec<SampleQueue> {
        match self.serving {
            Side::Cpp => self.cpp.as_ref().map(|c| c.queues.clone()).unwrap_or_default(),
            Side::Rust => self.rust.as_ref().map(|r| lock(&r.out).queues.clone()).unwrap_or_default(),
        }
    }

    /// Starts the side `to` at the serving side's next index. Returns that index and the
    /// samples that could not be carried across.
    fn join(&mut self, to: Side) -> Result<(u64, u64)> {
        let adopted = self.serving_queues();
        let end = adopted.first().map_or(0, SampleQueue::end_index);
        let mut compare = SampleQueue::new(self.rows[0], self.buffer_size);
        compare.align_to(end);
        let recipe = self.recipe.clone().ok_or_else(|| BoardError::general("this stream's sides cannot be rebuilt"))?;
        // What the joining side must see before it produces: the generator's state, the
        // file, the config strings and commands so far, the device's recent bytes.
        let state = match self.serving {
            Side::Cpp => self.cpp.as_ref().and_then(|c| c.producer.generator_state()),
            Side::Rust => self.rust.as_ref().and_then(|r| lock(&r.out).state),
        };
        let file = self.file.clone();
        let configs = self.configs.clone();
        let commands = self.commands.clone();
        let history: Vec<(f64, Arc<[u8]>)> = self.history.iter().cloned().collect();
        let is_device = matches!(self.input, Input::Device(_));
        let prepare = move |producer: &mut Box<dyn Producer>| -> Result<Vec<f64>> {
            if let Some(bytes) = &file {
                producer.load(bytes)?;
            }
            for config in &configs {
                producer.configure(config)?;
            }
            for command in &commands {
                producer.observe_command(command)?;
            }
            let mut outs: [Vec<f64>; 3] = Default::default();
            for (ts, bytes) in &history {
                producer.feed(bytes, *ts, &mut outs)?;
            }
            Ok(std::mem::take(&mut outs[0]))
        };
        let next = state.map_or(end, |s| s.index);
        let line = LineUp {
            rows: self.rows[0],
            compared: self.default_descriptor.compared_rows().collect(),
            timestamp_row: self.default_descriptor.timestamp_channel,
            tail: (end > 0).then(|| match self.serving {
                Side::Cpp => self.tail.clone(),
                Side::Rust => self.rust.as_ref().map(|r| lock(&r.out).tail.clone()).unwrap_or_default(),
            }),
            device: is_device,
        };
        match to {
            Side::Cpp => {
                let mut producer = recipe.make_at(Side::Cpp, state)?;
                let replayed = prepare(&mut producer)?;
                let (carried, dropped) = line.up(&replayed);
                let mut queues = adopted;
                for q in &mut queues {
                    q.set_capacity(self.buffer_size);
                }
                queues[0].push_sample_major(&carried);
                keep_tail(&mut self.tail, &carried, self.rows[0]);
                self.cpp = Some(CppPart { producer, queues, compare, next });
                Ok((end, dropped))
            }
            Side::Rust => {
                // The Rust side prepares on its lane, like any Rust work: the caller of the
                // move never waits for Rust code. Until it has, it serves what it adopted.
                let producer = recipe.make_at(Side::Rust, state)?;
                let side = RustSide::spawn(self.kind.clone(), producer, self.session_id)?;
                let tail = match self.serving {
                    Side::Cpp => self.tail.clone(),
                    Side::Rust => Vec::new(),
                };
                let out = Arc::new(Mutex::new(RustOutput { queues: adopted, compare, state, gap: 0, tail }));
                let due = self.cpp.as_ref().map_or(next, |c| c.next);
                let mut rust = RustPart { side, out: out.clone(), watch: JobWatch::default(), next, due, backlog: Vec::new(), flows: Vec::new() };
                let job = move |producer: &mut Box<dyn Producer>, _fault: Fault| -> Result<()> {
                    let replayed = prepare(producer)?;
                    let (carried, dropped) = line.up(&replayed);
                    let mut out = lock(&out);
                    out.queues[0].push_sample_major(&carried);
                    keep_tail(&mut out.tail, &carried, line.rows);
                    out.gap += dropped;
                    Ok(())
                };
                rust.side.submit_watched("join", &rust.watch, job);
                self.rust = Some(rust);
                Ok((end, 0))
            }
        }
    }

    /// Puts a pending switch marker into its sample once the serving side holds it.
    fn apply_switch_marker(&mut self) {
        let row = self.marker_rows[0];
        let mut markers = lock(&self.markers);
        match self.serving {
            Side::Cpp => {
                if let Some(cpp) = &mut self.cpp {
                    place_switch(&mut cpp.queues[0], row, &mut markers.switch);
                }
            }
            Side::Rust => {
                if let Some(rust) = &self.rust {
                    place_switch(&mut lock(&rust.out).queues[0], row, &mut markers.switch);
                }
            }
        }
    }

    /// Compares every index both sides have produced.
    fn compare_available(&mut self) {
        let (Some(cpp), Some(rust)) = (&mut self.cpp, &self.rust) else { return };
        let mut out = lock(&rust.out);
        let mut a = Vec::with_capacity(self.rows[0]);
        let mut b = Vec::with_capacity(self.rows[0]);
        // Rust samples older than anything C++ still holds can never be compared.
        let oldest = cpp.compare.first_index();
        if out.compare.first_index() < oldest {
            let lost = (oldest - out.compare.first_index()).min(out.compare.len() as u64);
            out.compare.discard_before(oldest);
            self.comparator.missing(lost);
        }
        loop {
            let index = out.compare.first_index();
            if !cpp.compare.copy_sample(index, &mut a) || !out.compare.copy_sample(index, &mut b) {
                break;
            }
            self.comparator.compare(index, &a, &b);
            out.compare.discard_before(index + 1);
            cpp.compare.discard_before(index + 1);
        }
        // C++ samples the Rust side skipped are dropped once the Rust side has moved past.
        if out.compare.first_index() > cpp.compare.first_index() {
            cpp.compare.discard_before(out.compare.first_index());
        }
    }

    fn preset_index(&self, preset: Preset) -> Result<usize> {
        self.presets.iter().position(|p| *p == preset).ok_or_else(|| {
            BoardError::invalid_arguments(format!("board {} has no preset {preset:?}", self.board))
        })
    }

    /// Runs `f` on the serving side's queue of preset `p`, and `other` on the other side's.
    fn with_queues<R>(&mut self, p: usize, f: impl FnOnce(&mut SampleQueue) -> R, other: impl FnOnce(&mut SampleQueue, &R)) -> R {
        let (cpp, rust) = (&mut self.cpp, &self.rust);
        match self.serving {
            Side::Cpp => {
                let Some(cpp) = cpp else { return f(&mut SampleQueue::new(1, 1)) };
                let r = f(&mut cpp.queues[p]);
                if let Some(rust) = rust {
                    other(&mut lock(&rust.out).queues[p], &r);
                }
                r
            }
            Side::Rust => {
                let Some(rust) = rust else { return f(&mut SampleQueue::new(1, 1)) };
                let r = f(&mut lock(&rust.out).queues[p]);
                if let Some(cpp) = cpp {
                    other(&mut cpp.queues[p], &r);
                }
                r
            }
        }
    }

    pub fn count(&mut self, preset: Preset) -> Result<usize> {
        let p = self.preset_index(preset)?;
        self.require_started("get_board_data_count")?;
        self.check_rust();
        Ok(self.with_queues(p, |q| q.len(), |_, _| {}))
    }

    pub fn take(&mut self, max: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        let p = self.preset_index(preset)?;
        self.require_started("get_board_data")?;
        self.check_rust();
        self.with_queues(
            p,
            |q| {
                let first = q.take_into(max, out);
                first + out.samples() as u64
            },
            |other, end| other.discard_before(*end),
        );
        Ok(())
    }

    pub fn peek(&mut self, max: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        let p = self.preset_index(preset)?;
        self.require_started("get_current_board_data")?;
        self.check_rust();
        self.with_queues(p, |q| q.peek_latest_into(max, out), |_, _| {});
        Ok(())
    }

    pub fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        let p = self.preset_index(preset)?;
        if value == 0.0 {
            return Err(BoardError::invalid_arguments("marker value 0 is reserved for 'no marker'"));
        }
        self.require_started("insert_marker")?;
        lock(&self.markers).user[p].push_back(value);
        Ok(())
    }

    /// Config strings go to every side; the serving side's reply is returned.
    pub fn configure(&mut self, config: &str) -> Result<String> {
        if let Input::Legacy(_) = &self.input {
            // BrainFlow writes it on the pty; the proxy forwards it once and the Rust
            // decoder observes it in order with the bytes around it.
            self.pump(super::now_unix());
            let Input::Legacy(legacy) = &mut self.input else { unreachable!("matched above") };
            return legacy.board.config_board(config);
        }
        if let Input::Device(_) = &self.input {
            return self.configure_device(config);
        }
        let cpp_reply = match &mut self.input {
            Input::LegacyFile(board) => Some(board.config_board(config)),
            _ => self.cpp.as_mut().map(|c| c.producer.configure(config)),
        };
        let mut rust_reply = None;
        if let Some(rust) = &mut self.rust {
            let text = config.to_owned();
            match rust.side.call("config_board", Duration::from_secs(5), true, move |p, _| p.configure(&text)) {
                RustAnswer::Answered(reply) => rust_reply = Some(reply),
                RustAnswer::Failed(f) => self.rust_failed(&f.to_string()),
            }
        }
        let reply = match (self.serving, cpp_reply, rust_reply) {
            (Side::Rust, _, Some(reply)) => reply,
            (_, Some(reply), _) => reply,
            (_, None, Some(reply)) => reply,
            (_, None, None) => Err(BoardError::general("no implementation could take the config")),
        };
        if reply.is_ok() {
            self.configs.push(config.to_owned());
            self.note_looping(config);
        }
        reply
    }

    fn note_looping(&mut self, config: &str) {
        match config {
            "loopback_true" => self.looping = true,
            "loopback_false" => self.looping = false,
            _ => {}
        }
    }

    /// A command for the device: every decoder observes it first, then it is written
    /// once. While not streaming the device's reply is returned; while streaming the
    /// reply is mixed with data, so it is empty (as BrainFlow does).
    fn configure_device(&mut self, config: &str) -> Result<String> {
        // The decoders must see the bytes that came before the command first.
        self.pump(super::now_unix());
        if let Some(rust) = &self.rust {
            rust.watch.wait_idle(self.rust_deadline());
        }
        self.check_rust();
        self.submit_rust_input();
        let bytes = config.as_bytes().to_vec();
        // The C++ side serves or stands behind Rust: if it cannot follow the command, the
        // command is not sent and the caller hears why.
        if let Some(cpp) = &mut self.cpp {
            cpp.producer.observe_command(&bytes)?;
        }
        if let Some(rust) = &mut self.rust {
            let rust_bytes = bytes.clone();
            match rust.side.call("observe_command", Duration::from_secs(5), true, move |p, _| p.observe_command(&rust_bytes)) {
                RustAnswer::Answered(Ok(())) => {}
                RustAnswer::Answered(Err(e)) if self.cpp.is_none() => return Err(e),
                RustAnswer::Answered(Err(e)) => self.rust_failed(&e.to_string()),
                RustAnswer::Failed(f) => self.rust_failed(&f.to_string()),
            }
        }
        self.commands.push(bytes.clone());
        let Input::Device(port) = &self.input else { unreachable!("configure_device needs a port") };
        port.write(&bytes)?;
        if self.t0.is_some() {
            return Ok(String::new());
        }
        Ok(match port.reply(self.reply_timeout) {
            Ok(text) => text,
            Err(partial) => String::from_utf8_lossy(&partial).into_owned(),
        })
    }

    /// Why the device's stream died on its own, if it did.
    pub fn stream_failure(&self) -> Option<String> {
        match &self.input {
            Input::Device(port) => port.failure(),
            Input::Legacy(legacy) => legacy.proxy.failure(),
            Input::Clock | Input::LegacyFile(_) => None,
        }
    }

    /// Samples lost: pushed out of the serving queue because the caller did not read them
    /// in time, or lost across a switch that could not be lined up.
    pub fn dropped_samples(&self) -> u64 {
        let overflow = match self.serving {
            Side::Cpp => self.cpp.as_ref().map_or(0, |c| c.queues[0].dropped()),
            Side::Rust => self.rust.as_ref().map_or(0, |r| lock(&r.out).queues[0].dropped()),
        };
        overflow + self.gap_total + self.gap_samples
    }

    /// Lets go of the device and the Rust side (release).
    pub fn release(mut self) -> Result<()> {
        let result = match &mut self.input {
            Input::Legacy(legacy) => legacy.board.release_session(),
            Input::LegacyFile(board) => board.release_session(),
            _ => Ok(()),
        };
        if let Some(rust) = self.rust.take() {
            rust.side.retire(Duration::from_millis(500), |_| {});
        }
        result
    }
}

/// Everything BrainFlow's `board` holds of the default preset, into `out` (cleared first,
/// sample-major), through `drained`. A failed read is logged: those samples are the C++
/// side's loss, and the comparison shows it.
fn drain_board(board: &mut dyn board_api::Board, drained: &mut SampleMatrix, out: &mut Vec<f64>) {
    out.clear();
    match board.board_data_count(Preset::Default).and_then(|n| board.get_board_data(n, Preset::Default, drained)) {
        Ok(()) => append_sample_major(drained, out),
        Err(e) => tracing::error!(board = board.board_id().kind(), exit_code = e.code.code(), error = %e, "BrainFlow's board could not be read"),
    }
}

/// Appends `m`'s samples, sample-major, to `out`.
fn append_sample_major(m: &SampleMatrix, out: &mut Vec<f64>) {
    out.reserve(m.rows() * m.samples());
    for i in 0..m.samples() {
        out.extend((0..m.rows()).map(|row| m.get(row, i)));
    }
}

/// How a joining device decoder's replay of the recent bytes is lined up with the last
/// sample served: it saw the same bytes, so its samples after that one are the ones the
/// other side would have made.
struct LineUp {
    rows: usize,
    compared: Vec<usize>,
    timestamp_row: usize,
    /// The last sample served (`None`: nothing was, every replayed sample is new; empty:
    /// it is not known, so nothing can be lined up).
    tail: Option<Vec<f64>>,
    device: bool,
}

impl LineUp {
    /// The replayed samples to carry (sample-major) and how many could not be carried.
    fn up(&self, replayed: &[f64]) -> (Vec<f64>, u64) {
        if !self.device {
            return (Vec::new(), 0);
        }
        let samples: Vec<&[f64]> = replayed.chunks_exact(self.rows).collect();
        let Some(tail) = &self.tail else { return (replayed.to_vec(), 0) };
        let same = |s: &[f64]| tail.len() == self.rows && self.compared.iter().all(|r| s[*r].to_bits() == tail[*r].to_bits());
        match samples.iter().rposition(|s| same(s)) {
            Some(at) => (samples[at + 1..].concat(), 0),
            None => {
                // Not found: carrying the replay might repeat samples, so nothing is
                // carried; what came after the last served sample is lost, counted by
                // its timestamps.
                let last = tail.get(self.timestamp_row).copied().unwrap_or(f64::NEG_INFINITY);
                (Vec::new(), samples.iter().filter(|s| s[self.timestamp_row] > last).count() as u64)
            }
        }
    }
}

/// A clock producer must give exactly the samples asked for, in every preset the stream
/// has (`expected(preset, rows)` values; a preset other than the default may stay empty):
/// anything else would shift every later sample of the queue. A Rust side that does not is failing, and is failed over.
fn check_shape(outs: &[Vec<f64>; 3], rows: &[usize], expected: impl Fn(usize, usize) -> usize) -> Result<()> {
    for (preset, (out, rows)) in outs.iter().zip(rows).enumerate() {
        let want = expected(preset, *rows);
        // A playback file holds the default preset only: its other presets stay empty.
        if out.len() != want && !(preset > 0 && out.is_empty()) {
            return Err(BoardError::general(format!(
                "the Rust producer gave {} values for preset {preset} where {want} ({rows} rows a sample) were due",
                out.len()
            )));
        }
    }
    Ok(())
}

/// A device decoder's output must be whole samples, and no more than the bytes could
/// carry (one sample per 33-byte packet, and a Daisy pair from two): more is a decoder
/// inventing data, which must not reach the queue.
fn check_device_output(out: &[f64], rows: usize, bytes: usize) -> Result<()> {
    const SMALLEST_PACKET: usize = 33;
    let samples = out.len() / rows.max(1);
    if out.len() % rows.max(1) != 0 {
        return Err(BoardError::general(format!("the Rust decoder gave {} values, not whole samples of {rows} rows", out.len())));
    }
    // A packet split across batches can complete one more sample than these bytes hold.
    if samples > bytes / SMALLEST_PACKET + 1 {
        return Err(BoardError::general(format!("the Rust decoder gave {samples} samples from {bytes} bytes: more than the bytes can carry")));
    }
    Ok(())
}

/// Puts the oldest queued markers into the marker rows of `samples`' first samples.
fn apply_markers(samples: &mut [f64], rows: usize, marker_row: usize, markers: &mut VecDeque<f64>) {
    for sample in samples.chunks_exact_mut(rows) {
        let Some(value) = markers.pop_front() else { break };
        sample[marker_row] = value;
    }
}

/// Keeps the last whole sample of `samples` (sample-major).
fn keep_tail(tail: &mut Vec<f64>, samples: &[f64], rows: usize) {
    if samples.len() >= rows {
        tail.clear();
        tail.extend_from_slice(&samples[samples.len() - rows..]);
    }
}

/// The C++ side's place when that side is BrainFlow's whole board rather than a decoder
/// or generator of ours ([`LegacyDevice`]): the stream never asks it for samples.
pub struct BoardIsTheCppSide;

impl Producer for BoardIsTheCppSide {
    fn produce(&mut self, _: u64, _: usize, _: f64, _: f64, _: &mut [Vec<f64>; 3]) -> Result<()> {
        Err(BoardError::general("the C++ side is BrainFlow's board; its samples are drained from it"))
    }
    fn configure(&mut self, _: &str) -> Result<String> {
        Err(BoardError::general("the C++ side is BrainFlow's board; it is configured through it"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_producer_that_gives_other_than_what_was_due_is_failing() {
        let rows = [32, 20];
        let good: [Vec<f64>; 3] = [vec![0.0; 5 * 32], vec![0.0; 5 * 20], Vec::new()];
        assert!(check_shape(&good, &rows, |_, r| 5 * r).is_ok());
        // A flood (more samples than due) and a short or ragged batch would shift the queue.
        let flood: [Vec<f64>; 3] = [vec![0.0; 6 * 32], vec![0.0; 5 * 20], Vec::new()];
        let e = check_shape(&flood, &rows, |_, r| 5 * r).unwrap_err();
        assert!(e.message.contains("192 values for preset 0 where 160"), "{e}");
        let ragged: [Vec<f64>; 3] = [vec![0.0; 5 * 32], vec![0.0; 5 * 20 - 1], Vec::new()];
        assert!(check_shape(&ragged, &rows, |_, r| 5 * r).is_err());
    }

    #[test]
    fn a_decoder_that_invents_samples_or_splits_one_is_failing() {
        assert!(check_device_output(&[0.0; 24 * 10], 24, 330).is_ok());
        assert!(check_device_output(&[0.0; 24 * 11], 24, 330).is_ok(), "one packet may complete across batches");
        let e = check_device_output(&[0.0; 24 * 40], 24, 330).unwrap_err();
        assert!(e.message.contains("40 samples from 330 bytes"), "{e}");
        assert!(check_device_output(&[0.0; 24 * 3 + 5], 24, 330).is_err(), "not whole samples");
    }

    #[test]
    fn a_replay_is_lined_up_by_content_or_not_carried_at_all() {
        let sample = |package: f64, ts: f64| vec![package, package * 10.0, ts, 0.0];
        let line = |tail: Option<Vec<f64>>| LineUp { rows: 4, compared: vec![0, 1], timestamp_row: 2, tail, device: true };
        let replay: Vec<f64> = (0..6).flat_map(|k| sample(k as f64, 100.0 + k as f64)).collect();
        // The last sample served was package 3: 4 and 5 are carried.
        let (carried, dropped) = line(Some(sample(3.0, 103.0))).up(&replay);
        assert_eq!((carried, dropped), ([sample(4.0, 104.0), sample(5.0, 105.0)].concat(), 0));
        // Nothing served yet: everything is new.
        assert_eq!(line(None).up(&replay).0.len(), 24);
        // Not in the replay: nothing carried, the later samples counted as lost.
        let (carried, dropped) = line(Some(sample(9.0, 102.5))).up(&replay);
        assert_eq!((carried.len(), dropped), (0, 3));
    }
}
