//! The legacy C++ boards and the one cxx bridge that lets Rust drive them.
//!
//! This crate owns the C++17 core under `cpp/` (written in BrainFlow's style: a `Board`
//! base class, a thread-safe ring buffer, `SyntheticBoard`, `PlaybackFileBoard`,
//! `CytonBoard` for Cyton and Cyton Daisy, and their decoders usable without I/O), the
//! single cxx bridge module (`src/bridge.rs`), and the Rust adapters that make
//! those C++ objects implement `board_api`'s traits:
//! - [`CppBoard`]: [`board_api::Board`] for the synthetic, playback, Cyton and Cyton Daisy boards;
//! - [`CppDecoder`]: [`board_api::StreamDecoder`] for Cyton, Cyton Daisy and playback bytes;
//! - [`CppSyntheticGenerator`]: [`board_api::SampleGenerator`], the synthetic signal alone;
//! - [`CppRingBuffer`]: the C++ ring buffer on its own, for tests and benchmarks;
//! - [`bridge_noop`]: one empty call across the bridge, for the benchmark.
//!
//! It does not own routing, toggles, shadow comparison or anything about which
//! implementation serves a session; nor the Rust twins (`rust_boards`).
//!
//! # Errors across the boundary
//! C++ throws `BrainFlowException(code, message)`; `cpp/trycatch.h` catches every
//! exception (of any type) at the bridge and hands it to Rust as `"<code>|<message>"`,
//! which becomes a [`board_api::BoardError`] with that exit code. No C++ exception can
//! abort the process, and no C++ thread lets one escape.
//!
//! # Logging across the boundary
//! The C++ core never writes to stdout or stderr. Its `SY_LOG` and `SY_SPAN` statements
//! (`cpp/log.h`) cross into [`trace`], which turns them into `tracing` events and spans
//! with their own target (`core_cpp::cyton`, `core_cpp::board`, ...), file and line,
//! nested under the Rust span that called in (the Cyton reader thread's span under the
//! call that started the stream). Messages are cut and escaped, storms rate-limited.
//!
//! # Debug builds check every crossing
//! With debug assertions the adapters check the bridge's invariants after each call
//! (rows against descriptors, `count × rows` values, nothing from a released board) and
//! the C++ side checks the slices it is given; a broken one panics with
//! `bridge invariant broken: ...`. Release builds skip them (see `checks`).
//!
//! # Threading model of the C++ side
//! - Synthetic and playback boards have no thread: `start_stream` notes the time, and
//!   every read (count, get, marker, stop) first produces the samples due since then
//!   (`floor(elapsed × rate)`), stamped `t0 + n / rate`. An idle session costs nothing.
//! - Cyton and Cyton Daisy own one reader thread while streaming, blocked in `poll()` on
//!   the serial port and a wake-up pipe; it wakes when bytes arrive or when stop is
//!   requested, never on a timer. Stop sends `s` first and the reader drains what the board
//!   had already sent (until 50 ms of quiet, at most 1 s), as `docs/board-behaviour.md` says.
//! - Ring buffers and pending markers are guarded by mutexes; a session object itself is
//!   driven by one owner at a time (`&mut self`). A ring allocates nothing at
//!   `start_stream`: its storage doubles as samples arrive, up to `buffer_size`.
//!
//! # Seeding the synthetic board
//! `other_info` = `seed=<u64>` (see `InputParams::seed`); without it the board seeds from
//! the clock as BrainFlow does.

// Every unsafe operation is in a block with its SAFETY reason.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

mod bridge;
mod checks;
pub mod trace;

use std::pin::Pin;
use std::time::Duration;

use board_api::{
    descriptor, Board, BoardDescriptor, BoardError, BoardId, DecodeCounters, ExitCode, InputParams, Preset,
    SampleGenerator, SampleMatrix, StreamDecoder,
};
use bridge::{ffi, to_board_error};
use checks::bridge_check;

/// How long a Cyton may take to answer a command when `params.timeout` is 0.
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(3);

/// One empty call across the bridge (the fixed cost of every call).
pub fn bridge_noop() {
    ffi::bridge_noop();
}

/// Makes the C++ side throw (0: `BrainFlowException` with BOARD_NOT_READY_ERROR, 1: a
/// `std::exception`, 3: a broken bridge invariant in debug builds, anything else: an `int`) and returns what crossed the bridge. For
/// tests that prove no exception aborts the process.
#[doc(hidden)]
pub fn throw_in_cpp_for_test(kind: u8) -> board_api::Result<()> {
    ffi::throw_for_test(kind).map_err(|e| to_board_error(&e))
}

/// Logs `message` once, or `times` times from a second C++ statement (a storm), at warn
/// with target `core_cpp::test`, for tests of what crosses: truncation, escaping, rate
/// limiting.
#[doc(hidden)]
pub fn log_in_cpp_for_test(message: &[u8], times: u32) {
    trace::sync_cpp_log_level();
    ffi::log_for_test(message, times);
}

/// Opens a C++ span and logs in it, on this thread or (`on_cpp_thread`) on a thread the
/// C++ side starts, for tests of span nesting across the bridge.
#[doc(hidden)]
pub fn span_in_cpp_for_test(on_cpp_thread: bool) {
    trace::sync_cpp_log_level();
    ffi::span_for_test(on_cpp_thread);
}

/// The C++ core's exit-code table as it was compiled (number and BrainFlow name), so a
/// test can prove it is `board_api::ExitCode`'s.
#[doc(hidden)]
pub fn cpp_exit_code_table() -> Vec<(i32, String)> {
    ffi::exit_code_table().into_iter().map(|e| (e.code, e.name)).collect()
}

fn session_params(board: BoardId, params: &InputParams) -> board_api::Result<ffi::SessionParams> {
    let seed = if board == BoardId::Synthetic { params.seed()? } else { None };
    let timeout = params.timeout_or(DEFAULT_REPLY_TIMEOUT);
    let mut session = ffi::SessionParams {
        board_id: board.id(),
        serial_port: params.serial_port.clone(),
        file: params.file.clone(),
        timeout_ms: u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX),
        has_seed: seed.is_some(),
        seed: seed.unwrap_or(0),
        master_board: params.master_board,
        master_rows: 0,
        master_sampling_rate: 0,
        master_timestamp_row: 0,
        master_marker_row: 0,
    };
    if board == BoardId::PlaybackFile {
        let layout = master_descriptor(params)?;
        session.master_rows = layout.num_rows;
        session.master_sampling_rate = layout.sampling_rate;
        session.master_timestamp_row = layout.timestamp_channel;
        session.master_marker_row = layout.marker_channel;
    }
    Ok(session)
}

/// The layout a playback file has: the default preset of `params.master_board`.
fn master_descriptor(params: &InputParams) -> board_api::Result<&'static BoardDescriptor> {
    let not_known = || {
        BoardError::invalid_arguments(format!(
            "playback: master_board {} is not a known board id; set it to the board that recorded the file",
            params.master_board
        ))
    };
    let master = BoardId::from_id(params.master_board).map_err(|_| not_known())?;
    if master == BoardId::PlaybackFile {
        return Err(not_known());
    }
    descriptor(master, Preset::Default).map_err(|_| not_known())
}

/// A legacy C++ board driven through the bridge.
pub struct CppBoard {
    id: BoardId,
    session: Result<cxx::UniquePtr<ffi::BoardSession>, BoardError>,
    layout: Option<&'static BoardDescriptor>,
    /// Released and not prepared again: the C++ board must hand out nothing.
    released: bool,
}

impl std::fmt::Debug for CppBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CppBoard").field("board", &self.id).finish_non_exhaustive()
    }
}

impl CppBoard {
    /// A C++ board for `board`: Synthetic, PlaybackFile, Cyton or CytonDaisy; any other is
    /// UNSUPPORTED_BOARD_ERROR. Problems with `params` (a bad seed, an unknown master board)
    /// are reported by `prepare_session`, where BrainFlow reports them.
    pub fn new(board: BoardId, params: &InputParams) -> board_api::Result<CppBoard> {
        if !board.in_core_cpp() {
            return Err(BoardError::new(
                ExitCode::UnsupportedBoardError,
                format!("board {board} has no implementation in switchyard's C++ core"),
            ));
        }
        let layout = if board == BoardId::PlaybackFile { master_descriptor(params).ok() } else { None };
        trace::sync_cpp_log_level();
        let session = session_params(board, params)
            .and_then(|p| ffi::new_board_session(&p).map_err(|e| to_board_error(&e)));
        Ok(CppBoard { id: board, session, layout, released: false })
    }

    /// A board whose C++ side, once released, still claims to hold samples: for the
    /// test that proves debug builds catch a board used after release.
    #[doc(hidden)]
    pub fn misreporting_after_release_for_test(board: BoardId, params: &InputParams) -> board_api::Result<CppBoard> {
        let mut made = CppBoard::new(board, params)?;
        if let Ok(session) = &mut made.session {
            session.pin_mut().misreport_for_test();
        }
        Ok(made)
    }

    /// What the Cyton decoder inside the board counted (zero for other boards).
    pub fn decode_counters(&self) -> DecodeCounters {
        match &self.session {
            Ok(session) => session.decode_stats().map(to_counters).unwrap_or_default(),
            Err(_) => DecodeCounters::default(),
        }
    }

    fn session(&mut self) -> board_api::Result<Pin<&mut ffi::BoardSession>> {
        match &mut self.session {
            Ok(session) => Ok(session.pin_mut()),
            Err(setup) => Err(setup.clone()),
        }
    }

    /// A session that could not be set up is simply not prepared for every call but prepare.
    fn prepared_session(&mut self, call: &str) -> board_api::Result<Pin<&mut ffi::BoardSession>> {
        match &mut self.session {
            Ok(session) => Ok(session.pin_mut()),
            Err(_) => Err(BoardError::not_created(format!(
                "{call}: the session is not prepared; call prepare_session first"
            ))),
        }
    }

    fn read(&mut self, remove: bool, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> board_api::Result<()> {
        let call = if remove { "get_board_data" } else { "get_current_board_data" };
        let preset_index = preset.index() as i32;
        let mut session = self.prepared_session(call)?;
        // The count only grows between these calls (the reader thread adds, a full buffer
        // stays full), so the C++ side returns exactly `wanted` samples.
        let available = session.as_mut().board_data_count(preset_index).map_err(|e| to_board_error(&e))?;
        let rows = session.num_rows(preset_index).map_err(|e| to_board_error(&e))?;
        let wanted = available.min(max_samples);
        let data = out.reset(rows, wanted);
        let got = session
            .read_samples(remove, wanted, preset_index, data)
            .map_err(|e| to_board_error(&e))?;
        let id = self.id;
        bridge_check(!self.released || got == 0, || format!("the released C++ {id} board handed out {got} samples"));
        if let Ok(layout) = self.descriptor(preset) {
            bridge_check(rows == layout.num_rows, || {
                format!("the C++ {id} board has {rows} rows in preset {preset:?}, its descriptor {}", layout.num_rows)
            });
        }
        bridge_check(got <= wanted, || format!("the C++ {id} board wrote {got} samples into room for {wanted}"));
        if got != wanted {
            // Written row-major with `got` samples per row: keep exactly those.
            let compact = data[..rows * got].to_vec();
            out.reset(rows, got).copy_from_slice(&compact);
        }
        Ok(())
    }
}

fn to_counters(stats: ffi::DecodeStats) -> DecodeCounters {
    DecodeCounters {
        packets: stats.packets,
        invalid_packets: stats.invalid_packets,
        skipped_bytes: stats.skipped_bytes,
        dropped_samples: stats.dropped_samples,
    }
}

fn cpp<T>(result: Result<T, cxx::Exception>) -> board_api::Result<T> {
    result.map_err(|e| to_board_error(&e))
}

impl Board for CppBoard {
    fn board_id(&self) -> BoardId {
        self.id
    }

    fn prepare_session(&mut self) -> board_api::Result<()> {
        cpp(self.session()?.prepare_session())?;
        self.released = false;
        Ok(())
    }

    fn is_prepared(&self) -> bool {
        matches!(&self.session, Ok(session) if session.is_prepared())
    }

    fn start_stream(&mut self, buffer_size: usize) -> board_api::Result<()> {
        cpp(self.prepared_session("start_stream")?.start_stream(buffer_size))
    }

    fn stop_stream(&mut self) -> board_api::Result<()> {
        cpp(self.prepared_session("stop_stream")?.stop_stream())
    }

    fn release_session(&mut self) -> board_api::Result<()> {
        cpp(self.prepared_session("release_session")?.release_session())?;
        self.released = true;
        Ok(())
    }

    fn board_data_count(&mut self, preset: Preset) -> board_api::Result<usize> {
        let count = cpp(self.prepared_session("board_data_count")?.board_data_count(preset.index() as i32))?;
        let id = self.id;
        bridge_check(!self.released || count == 0, || format!("the released C++ {id} board claims {count} samples"));
        Ok(count)
    }

    fn get_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> board_api::Result<()> {
        self.read(true, max_samples, preset, out)
    }

    fn get_current_board_data(
        &mut self,
        max_samples: usize,
        preset: Preset,
        out: &mut SampleMatrix,
    ) -> board_api::Result<()> {
        self.read(false, max_samples, preset, out)
    }

    fn config_board(&mut self, config: &str) -> board_api::Result<String> {
        cpp(self.prepared_session("config_board")?.config_board(config))
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> board_api::Result<()> {
        cpp(self.prepared_session("insert_marker")?.insert_marker(value, preset.index() as i32))
    }

    fn dropped_samples(&self) -> u64 {
        match &self.session {
            Ok(session) => session.dropped_samples(),
            Err(_) => 0,
        }
    }

    fn stream_failure(&self) -> Option<String> {
        match &self.session {
            // An error building the message is itself worth reporting as the failure.
            Ok(session) => match session.stream_failure() {
                Ok(failure) if failure.is_empty() => None,
                Ok(failure) => Some(failure),
                Err(e) => Some(format!("the C++ board could not say why its stream stopped: {e}")),
            },
            Err(_) => None,
        }
    }

    fn descriptor(&self, preset: Preset) -> board_api::Result<&'static BoardDescriptor> {
        match (self.id, self.layout) {
            (BoardId::PlaybackFile, Some(layout)) if preset == Preset::Default => Ok(layout),
            _ => descriptor(self.id, preset),
        }
    }
}

/// A legacy C++ stream decoder: bytes from a device (or a playback file) in, samples out.
pub struct CppDecoder {
    inner: cxx::UniquePtr<ffi::StreamDecoderSession>,
    /// The default preset's rows for the board decoded, from its descriptor.
    rows: usize,
}

impl std::fmt::Debug for CppDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CppDecoder").field("num_rows", &self.inner.num_rows()).finish()
    }
}

impl CppDecoder {
    /// A decoder for Cyton, CytonDaisy or PlaybackFile (with the layout of
    /// `params.master_board`); others are UNSUPPORTED_BOARD_ERROR.
    pub fn new(board: BoardId, params: &InputParams) -> board_api::Result<CppDecoder> {
        if !matches!(board, BoardId::Cyton | BoardId::CytonDaisy | BoardId::PlaybackFile) {
            return Err(BoardError::new(
                ExitCode::UnsupportedBoardError,
                format!("board {board} has no legacy C++ stream decoder"),
            ));
        }
        trace::sync_cpp_log_level();
        let session = session_params(board, params)?;
        let rows = match board {
            BoardId::PlaybackFile => master_descriptor(params)?.num_rows,
            other => descriptor(other, Preset::Default)?.num_rows,
        };
        let inner = cpp(ffi::new_stream_decoder(&session))?;
        bridge_check(inner.num_rows() == rows, || {
            format!("the C++ {board} decoder has {} rows, its descriptor {rows}", inner.num_rows())
        });
        Ok(CppDecoder { inner, rows })
    }

    /// A decoder that reports one sample more than it wrote (`misreport`), for the test
    /// that proves debug builds catch a decoder whose output does not match its count.
    #[doc(hidden)]
    pub fn misreporting_for_test(board: BoardId, params: &InputParams) -> board_api::Result<CppDecoder> {
        let mut decoder = CppDecoder::new(board, params)?;
        decoder.inner.pin_mut().misreport_for_test();
        Ok(decoder)
    }

    /// A decoder for `board` whose every `decode` and `observe_command` throws in C++
    /// (`kind` as in [`throw_in_cpp_for_test`]), for tests that prove a failing C++
    /// decoder is an error with its code, never a silent 0.
    #[doc(hidden)]
    pub fn throwing_for_test(board: BoardId, params: &InputParams, kind: u8) -> board_api::Result<CppDecoder> {
        let mut decoder = CppDecoder::new(board, params)?;
        decoder.inner.pin_mut().throw_on_every_call(kind);
        Ok(decoder)
    }
}

impl StreamDecoder for CppDecoder {
    fn num_rows(&self) -> usize {
        self.inner.num_rows()
    }

    fn observe_command(&mut self, command: &[u8]) -> board_api::Result<()> {
        cpp(self.inner.pin_mut().observe_command(command))
    }

    fn decode(&mut self, bytes: &[u8], timestamp: f64, out: &mut Vec<f64>) -> board_api::Result<usize> {
        let count = cpp(self.inner.pin_mut().decode(bytes, timestamp))?;
        let output = self.inner.output();
        bridge_check(output.len() == count * self.rows, || {
            format!("the C++ decoder reported {count} samples of {} rows but wrote {} values", self.rows, output.len())
        });
        out.extend_from_slice(output);
        Ok(count)
    }

    fn counters(&self) -> DecodeCounters {
        self.inner.stats().map(to_counters).unwrap_or_default()
    }
}

/// Rows of the synthetic board's default and auxiliary presets (its descriptors).
const SYNTHETIC_DEFAULT_ROWS: usize = 32;
const SYNTHETIC_AUXILIARY_ROWS: usize = 20;

/// The C++ synthetic signal without its clock (see `docs/board-behaviour.md`).
pub struct CppSyntheticGenerator {
    inner: cxx::UniquePtr<ffi::SyntheticGeneratorSession>,
}

impl std::fmt::Debug for CppSyntheticGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CppSyntheticGenerator").field("next_index", &self.inner.next_index()).finish()
    }
}

impl CppSyntheticGenerator {
    /// A generator for `seed`. Allocating it is the only way this can fail (out of
    /// memory on the C++ side), reported as GENERAL_ERROR rather than a panic.
    pub fn new(seed: u64) -> board_api::Result<CppSyntheticGenerator> {
        trace::sync_cpp_log_level();
        let inner = cpp(ffi::new_synthetic_generator(seed))?;
        Ok(CppSyntheticGenerator { inner })
    }

    /// A generator that continues from `state`, taken from either implementation.
    pub fn resume(state: board_api::GeneratorState) -> board_api::Result<CppSyntheticGenerator> {
        trace::sync_cpp_log_level();
        let inner = cpp(ffi::resume_synthetic_generator(state.prng, state.index, &state.phase))?;
        Ok(CppSyntheticGenerator { inner })
    }

    /// A generator whose every `generate` throws in C++ (`kind` as in
    /// [`throw_in_cpp_for_test`]), for tests that prove a failing C++ generator is an
    /// error and never a panic.
    #[doc(hidden)]
    pub fn throwing_for_test(kind: u8) -> board_api::Result<CppSyntheticGenerator> {
        let mut generator = CppSyntheticGenerator::new(0)?;
        generator.inner.pin_mut().throw_on_every_call(kind);
        Ok(generator)
    }
}

impl SampleGenerator for CppSyntheticGenerator {
    fn generate(
        &mut self,
        count: usize,
        first_timestamp: f64,
        period: f64,
        default_out: &mut Vec<f64>,
        auxiliary_out: &mut Vec<f64>,
    ) -> board_api::Result<()> {
        let first_index = self.inner.next_index();
        cpp(self.inner.pin_mut().generate(count, first_timestamp, period))?;
        let (default, auxiliary) = (self.inner.default_output(), self.inner.auxiliary_output());
        bridge_check(
            default.len() == count * SYNTHETIC_DEFAULT_ROWS && auxiliary.len() == count * SYNTHETIC_AUXILIARY_ROWS,
            || {
                format!(
                    "the C++ generator was asked for {count} samples but wrote {} default and {} auxiliary values",
                    default.len(),
                    auxiliary.len()
                )
            },
        );
        bridge_check(self.inner.next_index() == first_index + count as u64, || {
            format!("the C++ generator moved from sample {first_index} to {} for {count} samples", self.inner.next_index())
        });
        default_out.extend_from_slice(default);
        auxiliary_out.extend_from_slice(auxiliary);
        Ok(())
    }

    fn next_index(&self) -> u64 {
        self.inner.next_index()
    }

    fn state(&self) -> board_api::GeneratorState {
        let mut phase = [0.0; 16];
        let phases = self.inner.phases();
        let n = phases.len().min(16);
        phase[..n].copy_from_slice(&phases[..n]);
        board_api::GeneratorState { prng: self.inner.prng_state(), index: self.inner.next_index(), phase }
    }
}

/// The C++ ring buffer on its own (the one every C++ board keeps per preset), with the
/// same reads as `sample_ring::SampleRing` so the two can be driven side by side.
pub struct CppRingBuffer {
    inner: cxx::UniquePtr<ffi::RingBufferSession>,
    rows: usize,
}

impl std::fmt::Debug for CppRingBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CppRingBuffer").field("rows", &self.rows).field("len", &self.len()).finish()
    }
}

impl CppRingBuffer {
    /// Room for `capacity` samples of `rows` values, none of it allocated yet. A capacity
    /// of 0, or one that could never be addressed, is INVALID_BUFFER_SIZE_ERROR.
    pub fn new(rows: usize, capacity: usize) -> board_api::Result<CppRingBuffer> {
        if rows == 0 {
            return Err(BoardError::invalid_arguments("a ring buffer needs at least one row"));
        }
        let inner = cpp(ffi::new_ring_buffer(rows, capacity))?;
        Ok(CppRingBuffer { inner, rows })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Appends `samples`, one sample of `rows` values after another; when full, each new
    /// sample drops the oldest.
    pub fn push(&mut self, samples: &[f64]) {
        assert_eq!(samples.len() % self.rows, 0, "push takes whole samples of {} values", self.rows);
        if let Err(e) = self.inner.pin_mut().push(samples) {
            panic!("the C++ ring buffer failed to push: {}", to_board_error(&e));
        }
    }

    /// Moves up to `max` oldest samples into `out` (row-major), removing them.
    pub fn take_oldest(&mut self, max: usize, out: &mut SampleMatrix) {
        self.read(true, max, out);
    }

    /// Copies up to `max` newest samples into `out` (row-major, oldest first).
    pub fn copy_newest(&mut self, max: usize, out: &mut SampleMatrix) {
        self.read(false, max, out);
    }

    fn read(&mut self, remove: bool, max: usize, out: &mut SampleMatrix) {
        let n = max.min(self.len());
        let data = out.reset(self.rows, n);
        match self.inner.pin_mut().read(remove, n, data) {
            Ok(got) => assert_eq!(got, n, "the C++ ring buffer held {n} samples but gave {got}"),
            Err(e) => panic!("the C++ ring buffer failed to read: {}", to_board_error(&e)),
        }
    }

    pub fn len(&self) -> usize {
        self.inner.count().unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Samples lost because the buffer was full (or memory ran out while it grew).
    pub fn dropped(&self) -> u64 {
        self.inner.dropped().unwrap_or_default()
    }

    /// Samples the storage has room for right now; grows with the samples held, never
    /// beyond the capacity.
    pub fn allocated_samples(&self) -> usize {
        self.inner.allocated_samples().unwrap_or_default()
    }
}
