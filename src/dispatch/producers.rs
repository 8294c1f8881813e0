//! What a stream's sides are made of: the [`Producer`] trait, its three kinds (a synthetic
//! generator, a playback file decoded by a board's decoder, a device's decoder), and the
//! [`Recipe`] that makes either implementation's producer for a session, also in the middle
//! of a stream (a move between paths makes the side it moves to).

use board_api::{descriptor, BoardError, BoardId, ExitCode, GeneratorState, InputParams, Preset, Result, SampleGenerator, StreamDecoder};

/// One of a stream's two implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Cpp,
    Rust,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Cpp => Side::Rust,
            Side::Rust => Side::Cpp,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Cpp => "cpp",
            Side::Rust => "rust",
        }
    }
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
    /// A synthetic generator's state, for the other implementation to continue from.
    fn generator_state(&self) -> Option<GeneratorState> {
        None
    }
}

/// How a session's producers are made, on either side, at the start or mid-stream.
#[derive(Clone)]
pub enum Recipe {
    /// Both generators from one seed: that is what makes them comparable.
    Synthetic { seed: u64 },
    /// A playback file with the layout of `master`.
    Playback { params: InputParams, master: BoardId },
    /// A serial device's decoder.
    Device { board: BoardId, params: InputParams },
}

impl Recipe {
    /// A producer of `side` from the stream's start.
    pub fn make(&self, side: Side) -> Result<Box<dyn Producer>> {
        self.make_at(side, None)
    }

    /// A producer of `side`; a synthetic one continues from `state` when given.
    pub fn make_at(&self, side: Side, state: Option<GeneratorState>) -> Result<Box<dyn Producer>> {
        Ok(match (self, side) {
            (Recipe::Synthetic { seed }, Side::Cpp) => Box::new(SyntheticProducer::new(match state {
                Some(state) => core_cpp::CppSyntheticGenerator::resume(state)?,
                None => core_cpp::CppSyntheticGenerator::new(*seed)?,
            })),
            (Recipe::Synthetic { seed }, Side::Rust) => Box::new(SyntheticProducer::new(match state {
                Some(state) => rust_boards::SyntheticGenerator::resume(state),
                None => rust_boards::SyntheticGenerator::new(*seed),
            })),
            (Recipe::Playback { params, master }, Side::Cpp) => Box::new(PlaybackProducer::new(
                Box::new(core_cpp::CppDecoder::new(BoardId::PlaybackFile, params)?),
                *master,
                &params.file,
            )?),
            (Recipe::Playback { params, master }, Side::Rust) => Box::new(PlaybackProducer::new(
                rust_boards::create_decoder(BoardId::PlaybackFile, params)?,
                *master,
                &params.file,
            )?),
            (Recipe::Device { board, params }, Side::Cpp) => {
                Box::new(DecoderProducer::new(Box::new(core_cpp::CppDecoder::new(*board, params)?)))
            }
            (Recipe::Device { board, params }, Side::Rust) => {
                Box::new(DecoderProducer::new(rust_boards::create_decoder(*board, params)?))
            }
        })
    }
}

/// Either implementation's synthetic generator.
pub struct SyntheticProducer<G: SampleGenerator> {
    generator: G,
    discard: [Vec<f64>; 2],
}

impl<G: SampleGenerator> SyntheticProducer<G> {
    pub fn new(generator: G) -> Self {
        SyntheticProducer { generator, discard: Default::default() }
    }
}

impl<G: SampleGenerator> Producer for SyntheticProducer<G> {
    fn produce(&mut self, first: u64, count: usize, ts0: f64, period: f64, outs: &mut [Vec<f64>; 3]) -> Result<()> {
        // Indices this side skipped (its work was refused while it was behind) are
        // generated and thrown away: sample n must stay a function of the seed and n.
        let next = self.generator.next_index();
        if first > next {
            let skip = (first - next) as usize;
            let [d, a] = &mut self.discard;
            d.clear();
            a.clear();
            self.generator.generate(skip, ts0, period, d, a)?;
        } else if first < next {
            return Err(BoardError::general(format!(
                "asked for sample {first} but the generator is already at {next}"
            )));
        }
        let (default, rest) = outs.split_at_mut(1);
        self.generator.generate(count, ts0, period, &mut default[0], &mut rest[0])
    }

    fn configure(&mut self, config: &str) -> Result<String> {
        Ok(format!("Config:{config}"))
    }

    fn generator_state(&self) -> Option<GeneratorState> {
        Some(self.generator.state())
    }
}

/// A playback file decoded by one implementation's decoder, replayed by index.
pub struct PlaybackProducer {
    decoder: Box<dyn StreamDecoder>,
    rows: usize,
    timestamp_row: usize,
    samples: Vec<f64>,
    looping: bool,
    file: String,
}

impl PlaybackProducer {
    pub fn new(decoder: Box<dyn StreamDecoder>, master: BoardId, file: &str) -> Result<Self> {
        let d = descriptor(master, Preset::Default)?;
        Ok(PlaybackProducer {
            decoder,
            rows: d.num_rows,
            timestamp_row: d.timestamp_channel,
            samples: Vec::new(),
            looping: false,
            file: file.to_owned(),
        })
    }

    fn len(&self) -> u64 {
        (self.samples.len() / self.rows) as u64
    }
}

impl Producer for PlaybackProducer {
    fn load(&mut self, bytes: &[u8]) -> Result<()> {
        self.samples.clear();
        self.decoder.decode(bytes, 0.0, &mut self.samples)?;
        // A file without a final newline still ends its last line.
        if !bytes.ends_with(b"\n") {
            self.decoder.decode(b"\n", 0.0, &mut self.samples)?;
        }
        let invalid = self.decoder.counters().invalid_packets;
        if invalid > 0 {
            return Err(BoardError::invalid_arguments(format!(
                "playback file {}: {invalid} line(s) are not {} tab-separated numbers",
                self.file, self.rows
            )));
        }
        if self.samples.is_empty() {
            return Err(BoardError::invalid_arguments(format!("playback file {} holds no samples", self.file)));
        }
        Ok(())
    }

    fn produce(&mut self, first: u64, count: usize, ts0: f64, period: f64, outs: &mut [Vec<f64>; 3]) -> Result<()> {
        let n = self.len();
        for k in 0..count as u64 {
            let index = first + k;
            let at = if self.looping { index % n } else if index < n { index } else { break };
            let start = at as usize * self.rows;
            let sample = &self.samples[start..start + self.rows];
            let out = &mut outs[0];
            let base = out.len();
            out.extend_from_slice(sample);
            out[base + self.timestamp_row] = ts0 + k as f64 * period;
        }
        Ok(())
    }

    fn configure(&mut self, config: &str) -> Result<String> {
        match config {
            "loopback_true" => self.looping = true,
            "loopback_false" => self.looping = false,
            other => {
                return Err(BoardError::new(
                    ExitCode::InvalidArgumentsError,
                    format!("playback understands loopback_true and loopback_false, not {other:?}"),
                ))
            }
        }
        Ok(String::new())
    }

    fn total(&self) -> Option<u64> {
        (!self.looping).then(|| self.len())
    }
}

/// One implementation's decoder for a device whose bytes the dispatcher reads once.
pub struct DecoderProducer {
    decoder: Box<dyn StreamDecoder>,
}

impl DecoderProducer {
    pub fn new(decoder: Box<dyn StreamDecoder>) -> Self {
        DecoderProducer { decoder }
    }
}

impl Producer for DecoderProducer {
    fn produce(&mut self, _first: u64, _count: usize, _ts0: f64, _period: f64, _outs: &mut [Vec<f64>; 3]) -> Result<()> {
        Err(BoardError::general("a device's samples come from its bytes, not from the clock"))
    }

    fn feed(&mut self, bytes: &[u8], ts: f64, outs: &mut [Vec<f64>; 3]) -> Result<()> {
        self.decoder.decode(bytes, ts, &mut outs[0]).map(|_| ())
    }

    fn observe_command(&mut self, command: &[u8]) -> Result<()> {
        self.decoder.observe_command(command)
    }

    fn configure(&mut self, _config: &str) -> Result<String> {
        Ok(String::new())
    }
}
