use crate::descriptor::{descriptor, BoardDescriptor};
use crate::error::Result;
use crate::ids::{BoardId, Preset};
use crate::matrix::SampleMatrix;

/// One board session with BrainFlow's lifecycle and error codes:
///
/// `prepare_session` → `start_stream` → reads, markers, config → `stop_stream` →
/// `release_session`. Calls out of order answer as BrainFlow does: anything but
/// `prepare_session` on an unprepared board is BOARD_NOT_CREATED_ERROR, a second
/// `start_stream` is STREAM_ALREADY_RUN_ERROR, `stop_stream` when not streaming is
/// STREAM_THREAD_IS_NOT_RUNNING, a `buffer_size` of zero is INVALID_BUFFER_SIZE_ERROR.
/// Reads are allowed after `stop_stream` (the buffer keeps what was streamed) until
/// release.
///
/// Reads fill a caller-owned [`SampleMatrix`] so that polling allocates nothing per read.
pub trait Board: Send {
    fn board_id(&self) -> BoardId;

    fn prepare_session(&mut self) -> Result<()>;
    fn is_prepared(&self) -> bool;
    /// Starts streaming into a ring buffer of `buffer_size` samples per preset; when it is
    /// full the oldest samples are dropped (and counted in [`Board::dropped_samples`]).
    fn start_stream(&mut self, buffer_size: usize) -> Result<()>;
    fn stop_stream(&mut self) -> Result<()>;
    /// Stops streaming if needed and frees the device. Releasing an unprepared board is
    /// BOARD_NOT_CREATED_ERROR.
    fn release_session(&mut self) -> Result<()>;

    /// How many samples of `preset` are buffered.
    fn board_data_count(&mut self, preset: Preset) -> Result<usize>;
    /// Moves up to `max_samples` of the oldest buffered samples of `preset` into `out`.
    fn get_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()>;
    /// Copies up to `max_samples` of the newest buffered samples of `preset` into `out`,
    /// oldest first, leaving the buffer as it is.
    fn get_current_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()>;

    /// Sends a configuration string to the board and returns its reply.
    fn config_board(&mut self, config: &str) -> Result<String>;
    /// Puts `value` in the marker row of the next sample of `preset`. Zero is not a
    /// marker (BrainFlow's convention): INVALID_ARGUMENTS_ERROR.
    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()>;

    /// Samples dropped because the ring buffer was full, since prepare.
    fn dropped_samples(&self) -> u64 {
        0
    }

    /// Why the stream stopped on its own while streaming (the device hung up, a read
    /// failed), so a dead stream is visible instead of silent; `None` while healthy and
    /// for boards without a device. Cleared by the next `start_stream`.
    fn stream_failure(&self) -> Option<String> {
        None
    }

    /// The layout of `preset`'s rows.
    fn descriptor(&self, preset: Preset) -> Result<&'static BoardDescriptor> {
        descriptor(self.board_id(), preset)
    }
}

impl<B: Board + ?Sized> Board for Box<B> {
    fn board_id(&self) -> BoardId {
        (**self).board_id()
    }
    fn prepare_session(&mut self) -> Result<()> {
        (**self).prepare_session()
    }
    fn is_prepared(&self) -> bool {
        (**self).is_prepared()
    }
    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        (**self).start_stream(buffer_size)
    }
    fn stop_stream(&mut self) -> Result<()> {
        (**self).stop_stream()
    }
    fn release_session(&mut self) -> Result<()> {
        (**self).release_session()
    }
    fn board_data_count(&mut self, preset: Preset) -> Result<usize> {
        (**self).board_data_count(preset)
    }
    fn get_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        (**self).get_board_data(max_samples, preset, out)
    }
    fn get_current_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        (**self).get_current_board_data(max_samples, preset, out)
    }
    fn config_board(&mut self, config: &str) -> Result<String> {
        (**self).config_board(config)
    }
    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        (**self).insert_marker(value, preset)
    }
    fn dropped_samples(&self) -> u64 {
        (**self).dropped_samples()
    }
    fn stream_failure(&self) -> Option<String> {
        (**self).stream_failure()
    }
    fn descriptor(&self, preset: Preset) -> Result<&'static BoardDescriptor> {
        (**self).descriptor(preset)
    }
}

/// Counters a decoder keeps about the byte stream it was fed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeCounters {
    /// Complete, valid packets decoded.
    pub packets: u64,
    /// Packets that started with a header but were rejected (bad footer, bad length).
    pub invalid_packets: u64,
    /// Bytes skipped while looking for the next packet header.
    pub skipped_bytes: u64,
    /// Samples the decoder could not complete (e.g. a Daisy half without its partner).
    pub dropped_samples: u64,
}

/// A device protocol without its I/O: bytes in, samples out.
///
/// This seam lets one transport read a device once and feed two implementations
/// (shadow and standby modes), so two decoders never fight over one serial port.
/// Decoders are deterministic: the same bytes and commands in the same order give the
/// same samples.
pub trait StreamDecoder: Send {
    /// Rows per decoded sample (the default preset's `num_rows`).
    fn num_rows(&self) -> usize;
    /// Bytes the host wrote to the device, so the decoder can track state that commands
    /// change (e.g. Cyton channel gains). Called before the device sees them. An `Err` is
    /// the implementation failing (a C++ exception, with its exit code), never the caller.
    fn observe_command(&mut self, command: &[u8]) -> Result<()>;
    /// Decodes `bytes` read from the device, appending whole samples in sample-major order
    /// (`num_rows` values each) to `out`; returns how many samples were appended. A partial
    /// packet at the end is kept for the next call. Every sample gets `timestamp` in its
    /// timestamp row and 0 in its marker row. An `Err` is the implementation failing
    /// (garbage in the stream is counted, not an error); `out` then holds no part of the
    /// failed call's samples.
    fn decode(&mut self, bytes: &[u8], timestamp: f64, out: &mut Vec<f64>) -> Result<usize>;
    fn counters(&self) -> DecodeCounters;
}

/// The synthetic board's signal without its clock: sample `n` depends only on the seed
/// and `n`, so two generators from one seed agree sample for sample.
pub trait SampleGenerator: Send {
    /// Appends the next `count` samples of the default and auxiliary presets in
    /// sample-major order. Sample `k` of the call is stamped `first_timestamp + k * period`.
    /// An `Err` is the implementation failing (a C++ exception, with its exit code); the
    /// outputs then hold no part of the failed call's samples.
    fn generate(
        &mut self,
        count: usize,
        first_timestamp: f64,
        period: f64,
        default_out: &mut Vec<f64>,
        auxiliary_out: &mut Vec<f64>,
    ) -> Result<()>;
    /// Index of the next sample this generator will produce.
    fn next_index(&self) -> u64;
    /// Where the generator stands, so that the other implementation can continue the
    /// same signal from the next sample (a move between paths hands it over).
    fn state(&self) -> GeneratorState;
}

/// Everything the synthetic signal's next sample depends on: the PRNG's state, the
/// sample index and the sixteen channels' phases. Both implementations resume from it
/// bit for bit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeneratorState {
    pub prng: u64,
    pub index: u64,
    pub phase: [f64; 16],
}
