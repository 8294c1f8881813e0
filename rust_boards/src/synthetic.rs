//! The synthetic board: BrainFlow's signal shape from a seeded SplitMix64, produced from
//! elapsed time when the board is read (no thread, no timer).

use crate::clock::{samples_due, Clock, SystemClock};
use crate::session::{Buffers, PresetLayout};
use board_api::{Board, BoardId, GeneratorState, InputParams, Lifecycle, Preset, Result, SampleGenerator, SampleMatrix};
use std::f64::consts::{PI, SQRT_2};
use std::sync::Arc;
use std::time::Duration;

pub const SYNTHETIC_ROWS: usize = 32;
pub const SYNTHETIC_AUX_ROWS: usize = 20;
pub const SYNTHETIC_RATE: u32 = 250;
const TWO_PI: f64 = 2.0 * PI;
/// Samples generated per batch when catching up after a long pause, bounding scratch memory.
const CATCH_UP_CHUNK: u64 = 1024;

/// The synthetic signal of `docs/board-behaviour.md`: sample `n` depends only on the seed
/// and `n`. Every operation is written in the order the spec gives, so that the C++ twin
/// (compiled without fused multiply-add) produces the same bits.
#[derive(Debug, Clone)]
pub struct SyntheticGenerator {
    state: u64,
    phase: [f64; 16],
    index: u64,
}

impl SyntheticGenerator {
    pub fn new(seed: u64) -> Self {
        SyntheticGenerator { state: seed, phase: [0.0; 16], index: 0 }
    }

    /// A generator that continues from `state`, taken from either implementation.
    pub fn resume(state: GeneratorState) -> Self {
        SyntheticGenerator { state: state.prng, phase: state.phase, index: state.index }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform in [0.9, 1.1).
    fn around_one(&mut self) -> f64 {
        0.9 + 0.2 * self.uniform()
    }
}

impl SampleGenerator for SyntheticGenerator {
    fn generate(
        &mut self,
        count: usize,
        first_timestamp: f64,
        period: f64,
        default_out: &mut Vec<f64>,
        auxiliary_out: &mut Vec<f64>,
    ) -> Result<()> {
        default_out.reserve(count * SYNTHETIC_ROWS);
        auxiliary_out.reserve(count * SYNTHETIC_AUX_ROWS);
        let mut row = [0.0f64; SYNTHETIC_ROWS];
        for k in 0..count {
            row[0] = (self.index % 256) as f64;
            for i in 0..16 {
                let amp = 10.0 * (i + 1) as f64;
                let freq = 5.0 * (i + 1) as f64;
                let u = self.uniform();
                let noise = (((2.0 * u - 1.0) * amp) * (0.1 * (i + 1) as f64)) / 2.0;
                row[1 + i] = amp + ((amp + noise) * SQRT_2) * (self.phase[i] + 0.05 * i as f64).sin();
                self.phase[i] += TWO_PI * freq / 250.0;
                if self.phase[i] >= TWO_PI {
                    self.phase[i] -= TWO_PI;
                }
            }
            for value in &mut row[17..=22] {
                *value = self.around_one() - 0.1;
            }
            row[23] = self.around_one();
            row[24] = 500.0 * self.around_one();
            row[25] = 253_500.0 * self.around_one();
            row[26] = 36.5 + self.around_one() / 10.0;
            row[27] = 1000.0 * self.around_one();
            row[28] = 1000.0 * self.around_one();
            row[29] = (self.around_one() - 0.1) * 100.0;
            row[30] = first_timestamp + k as f64 * period;
            row[31] = 0.0;
            default_out.extend_from_slice(&row);
            auxiliary_out.extend_from_slice(&[
                row[0], row[29], row[17], row[18], row[19], row[20], row[21], row[22], row[23], row[24], row[25],
                row[26], row[27], row[28], 0.0, 0.0, 0.0, 0.0, row[30], 0.0,
            ]);
            self.index += 1;
        }
        Ok(())
    }

    fn next_index(&self) -> u64 {
        self.index
    }

    fn state(&self) -> GeneratorState {
        GeneratorState { prng: self.state, index: self.index, phase: self.phase }
    }
}

/// The synthetic board (id -1). Seed: `other_info` = `seed=<u64>`; without it, the clock.
pub struct SyntheticBoard {
    seed: u64,
    clock: Arc<dyn Clock>,
    lifecycle: Lifecycle,
    generator: Option<SyntheticGenerator>,
    buffers: Buffers,
    /// Monotonic and Unix time at `start_stream`.
    started: (Duration, f64),
    produced: u64,
    default_scratch: Vec<f64>,
    aux_scratch: Vec<f64>,
}

impl SyntheticBoard {
    pub fn new(params: &InputParams) -> Result<Self> {
        Self::with_clock(params, Arc::new(SystemClock::default()))
    }

    /// A board whose notion of time is `clock` (tests drive it by hand).
    pub fn with_clock(params: &InputParams, clock: Arc<dyn Clock>) -> Result<Self> {
        let seed = match params.seed()? {
            Some(seed) => seed,
            None => crate::clock::unix_now().to_bits() ^ u64::from(std::process::id()),
        };
        Ok(SyntheticBoard {
            seed,
            clock,
            lifecycle: Lifecycle::new(),
            generator: None,
            buffers: Buffers::new(BoardId::Synthetic, PresetLayout::of_board(BoardId::Synthetic)),
            started: (Duration::ZERO, 0.0),
            produced: 0,
            default_scratch: Vec::new(),
            aux_scratch: Vec::new(),
        })
    }

    /// Generates every sample due by now into the buffers.
    fn produce_due(&mut self) -> Result<()> {
        if !self.lifecycle.is_streaming() {
            return Ok(());
        }
        let Some(generator) = self.generator.as_mut() else { return Ok(()) };
        let elapsed = self.clock.monotonic().saturating_sub(self.started.0);
        let due = samples_due(elapsed, SYNTHETIC_RATE);
        while self.produced < due {
            let count = (due - self.produced).min(CATCH_UP_CHUNK);
            self.default_scratch.clear();
            self.aux_scratch.clear();
            let first = self.started.1 + self.produced as f64 / f64::from(SYNTHETIC_RATE);
            generator.generate(
                count as usize,
                first,
                1.0 / f64::from(SYNTHETIC_RATE),
                &mut self.default_scratch,
                &mut self.aux_scratch,
            )?;
            self.produced += count;
            self.buffers.push_many(0, &mut self.default_scratch);
            self.buffers.push_many(1, &mut self.aux_scratch);
        }
        Ok(())
    }
}

impl Board for SyntheticBoard {
    fn board_id(&self) -> BoardId {
        BoardId::Synthetic
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.lifecycle.is_prepared() {
            return Ok(());
        }
        self.generator = Some(SyntheticGenerator::new(self.seed));
        self.buffers.clear();
        self.lifecycle.mark_prepared();
        tracing::debug!(board = %BoardId::Synthetic, seed = self.seed, "prepared");
        Ok(())
    }

    fn is_prepared(&self) -> bool {
        self.lifecycle.is_prepared()
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        self.lifecycle.check_start(buffer_size)?;
        self.buffers.start(buffer_size);
        self.started = (self.clock.monotonic(), self.clock.unix_now());
        self.produced = 0;
        self.lifecycle.mark_started();
        Ok(())
    }

    fn stop_stream(&mut self) -> Result<()> {
        self.lifecycle.check_stop()?;
        self.produce_due()?;
        self.lifecycle.mark_stopped();
        Ok(())
    }

    fn release_session(&mut self) -> Result<()> {
        self.lifecycle.check_release()?;
        self.lifecycle.mark_released();
        self.generator = None;
        self.buffers.clear();
        Ok(())
    }

    fn board_data_count(&mut self, preset: Preset) -> Result<usize> {
        self.lifecycle.require_buffer("board_data_count")?;
        self.produce_due()?;
        self.buffers.count(preset)
    }

    fn get_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        self.lifecycle.require_buffer("get_board_data")?;
        self.produce_due()?;
        self.buffers.take_oldest(max_samples, preset, out)
    }

    fn get_current_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        self.lifecycle.require_buffer("get_current_board_data")?;
        self.produce_due()?;
        self.buffers.copy_newest(max_samples, preset, out)
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        self.lifecycle.require_prepared("config_board")?;
        Ok(format!("Config:{config}"))
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        self.lifecycle.require_prepared("insert_marker")?;
        self.buffers.check_preset(preset)?;
        self.produce_due()?;
        self.buffers.set_marker(value, preset)
    }

    fn dropped_samples(&self) -> u64 {
        self.buffers.dropped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use board_api::ExitCode;

    fn seeded(seed: u64) -> (SyntheticBoard, ManualClock) {
        let clock = ManualClock::new();
        let params = InputParams { other_info: format!("seed={seed}"), ..Default::default() };
        (SyntheticBoard::with_clock(&params, Arc::new(clock.clone())).unwrap(), clock)
    }

    #[test]
    fn first_sample_follows_the_formula() {
        let mut g = SyntheticGenerator::new(42);
        let (mut d, mut a) = (Vec::new(), Vec::new());
        g.generate(1, 100.0, 0.004, &mut d, &mut a).unwrap();
        // Replay the draws by hand: the first draw belongs to channel 1 with phase 0.
        let mut replay = SyntheticGenerator::new(42);
        let u = replay.uniform();
        let noise = (((2.0 * u - 1.0) * 10.0) * 0.1) / 2.0;
        assert_eq!(d[1], 10.0 + ((10.0 + noise) * SQRT_2) * 0.0f64.sin());
        assert_eq!(d[0], 0.0);
        assert_eq!(d[30], 100.0);
        assert!(d[17] >= 0.8 && d[17] < 1.0, "accel {}", d[17]);
        assert!(d[25] >= 253_500.0 * 0.9 && d[25] < 253_500.0 * 1.1);
        assert_eq!(a.len(), SYNTHETIC_AUX_ROWS);
        assert_eq!(a[1], d[29]);
        assert_eq!(a[18], 100.0);
        assert_eq!(g.next_index(), 1);
    }

    #[test]
    fn batches_do_not_change_the_signal() {
        let mut whole = SyntheticGenerator::new(9);
        let mut parts = SyntheticGenerator::new(9);
        let (mut d1, mut a1, mut d2, mut a2) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        whole.generate(300, 0.0, 0.0, &mut d1, &mut a1).unwrap();
        parts.generate(1, 0.0, 0.0, &mut d2, &mut a2).unwrap();
        parts.generate(299, 0.0, 0.0, &mut d2, &mut a2).unwrap();
        assert_eq!(d1, d2);
        assert_eq!(a1, a2);
        assert_eq!(d1[256 * SYNTHETIC_ROWS], 0.0, "package number wraps at 256");
    }

    #[test]
    fn samples_come_from_elapsed_time() {
        let (mut board, clock) = seeded(1);
        board.prepare_session().unwrap();
        board.start_stream(1000).unwrap();
        assert_eq!(board.board_data_count(Preset::Default).unwrap(), 0);
        clock.advance(Duration::from_millis(1000));
        assert_eq!(board.board_data_count(Preset::Default).unwrap(), 250);
        assert_eq!(board.board_data_count(Preset::Auxiliary).unwrap(), 250);
        let mut out = SampleMatrix::new(SYNTHETIC_ROWS);
        board.get_board_data(100, Preset::Default, &mut out).unwrap();
        assert_eq!(out.samples(), 100);
        assert!((out.get(30, 1) - out.get(30, 0) - 0.004).abs() < 1e-6);
        assert_eq!(out.get(30, 0), ManualClock::UNIX_ORIGIN);
        assert_eq!(board.board_data_count(Preset::Default).unwrap(), 150);
    }

    #[test]
    fn marker_goes_into_the_next_sample_of_its_preset() {
        let (mut board, clock) = seeded(1);
        board.prepare_session().unwrap();
        board.start_stream(100).unwrap();
        clock.advance(Duration::from_millis(8));
        board.insert_marker(7.0, Preset::Default).unwrap();
        clock.advance(Duration::from_millis(8));
        let mut out = SampleMatrix::new(SYNTHETIC_ROWS);
        board.get_board_data(10, Preset::Default, &mut out).unwrap();
        assert_eq!(out.row(31), &[0.0, 0.0, 7.0, 0.0]);
        board.get_board_data(10, Preset::Auxiliary, &mut out).unwrap();
        assert!(out.row(19).iter().all(|m| *m == 0.0));
        assert_eq!(board.insert_marker(0.0, Preset::Default).unwrap_err().code, ExitCode::InvalidArgumentsError);
        assert_eq!(board.insert_marker(1.0, Preset::Ancillary).unwrap_err().code, ExitCode::InvalidArgumentsError);
    }

    #[test]
    fn full_buffer_drops_the_oldest_and_counts() {
        let (mut board, clock) = seeded(1);
        board.prepare_session().unwrap();
        board.start_stream(10).unwrap();
        clock.advance(Duration::from_millis(100)); // 25 samples
        let mut out = SampleMatrix::new(SYNTHETIC_ROWS);
        board.get_current_board_data(3, Preset::Default, &mut out).unwrap();
        assert_eq!(out.row(0), &[22.0, 23.0, 24.0]);
        assert_eq!(board.dropped_samples(), 15);
        assert_eq!(board.board_data_count(Preset::Default).unwrap(), 10);
    }

    #[test]
    fn lifecycle_answers_with_brainflow_codes() {
        let (mut board, clock) = seeded(1);
        let mut out = SampleMatrix::new(SYNTHETIC_ROWS);
        assert_eq!(board.get_board_data(1, Preset::Default, &mut out).unwrap_err().code, ExitCode::BoardNotCreatedError);
        assert_eq!(board.start_stream(10).unwrap_err().code, ExitCode::BoardNotCreatedError);
        assert_eq!(board.release_session().unwrap_err().code, ExitCode::BoardNotCreatedError);
        assert_eq!(board.config_board("x").unwrap_err().code, ExitCode::BoardNotCreatedError);
        board.prepare_session().unwrap();
        board.prepare_session().unwrap();
        // BrainFlow's answer between prepare and the first start: there is no buffer yet.
        assert_eq!(board.board_data_count(Preset::Default).unwrap_err().code, ExitCode::InvalidArgumentsError);
        assert_eq!(board.insert_marker(1.0, Preset::Default).unwrap_err().code, ExitCode::InvalidArgumentsError);
        assert_eq!(board.stop_stream().unwrap_err().code, ExitCode::StreamThreadIsNotRunning);
        assert_eq!(board.start_stream(0).unwrap_err().code, ExitCode::InvalidBufferSizeError);
        assert_eq!(board.start_stream(usize::MAX).unwrap_err().code, ExitCode::InvalidBufferSizeError);
        board.start_stream(10).unwrap();
        assert_eq!(board.start_stream(10).unwrap_err().code, ExitCode::StreamAlreadyRunError);
        assert_eq!(board.config_board("abc").unwrap(), "Config:abc");
        clock.advance(Duration::from_millis(20));
        board.stop_stream().unwrap();
        clock.advance(Duration::from_millis(20));
        assert_eq!(board.board_data_count(Preset::Default).unwrap(), 5, "reads after stop keep what streamed");
        board.release_session().unwrap();
        assert!(!board.is_prepared());
    }

    #[test]
    fn bad_seed_is_an_invalid_argument() {
        let params = InputParams { other_info: "seed=abc".into(), ..Default::default() };
        assert_eq!(SyntheticBoard::new(&params).err().unwrap().code, board_api::ExitCode::InvalidArgumentsError);
    }
}
