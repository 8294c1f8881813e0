//! The playback file board: replays a BrainFlow CSV at its master board's rate, from
//! elapsed time when read (no thread), and the same CSV as a byte-stream decoder.

use crate::clock::{samples_due, Clock, SystemClock};
use crate::session::{Buffers, PresetLayout};
use board_api::{
    descriptor, Board, BoardDescriptor, BoardError, BoardId, DecodeCounters, ExitCode, InputParams, Lifecycle, Preset, Result,
    SampleMatrix, StreamDecoder,
};
use std::sync::Arc;
use std::time::Duration;

/// The default-preset layout of the board a playback file was recorded from.
fn master_layout(params: &InputParams) -> Result<(BoardId, &'static BoardDescriptor)> {
    let master = BoardId::from_id(params.master_board).map_err(|_| {
        BoardError::invalid_arguments(format!(
            "master_board {} is not a board whose recordings can be played back; set master_board to the id of the recording board (e.g. 0 for Cyton)",
            params.master_board
        ))
    })?;
    let d = descriptor(master, Preset::Default).map_err(|_| {
        BoardError::invalid_arguments(format!("master_board {master} has no default preset to play back"))
    })?;
    Ok((master, d))
}

/// Parses one CSV line of `rows` tab-separated numbers into `out`.
fn parse_line(line: &str, line_number: usize, rows: usize, out: &mut Vec<f64>) -> Result<()> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let columns = line.split('\t').count();
    if columns != rows {
        return Err(BoardError::invalid_arguments(format!(
            "line {line_number} has {columns} columns, expected {rows} (one per row of the master board's layout, separated by tabs)"
        )));
    }
    for (column, cell) in line.split('\t').enumerate() {
        // Plain decimal text only, as the C++ reader accepts: no blanks (a field "\r1.5"
        // from a stray CR), no "inf" or "NaN", so both readers of a file agree on every line.
        let decimal = cell.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
            && cell.bytes().any(|b| b.is_ascii_digit());
        let value = decimal.then(|| cell.parse::<f64>().ok()).flatten().ok_or_else(|| {
            BoardError::invalid_arguments(format!(
                "line {line_number}, column {}: {cell:?} is not a number",
                column + 1
            ))
        })?;
        out.push(value);
    }
    Ok(())
}

/// Reads and checks a whole playback file; returns its samples, sample-major.
pub fn read_playback_file(path: &str, rows: usize) -> Result<Vec<f64>> {
    if path.is_empty() {
        return Err(BoardError::new(ExitCode::UnableToOpenPortError, "params.file is empty; set it to the CSV to play back"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        BoardError::new(ExitCode::UnableToOpenPortError, format!("cannot open playback file {path}: {e}"))
    })?;
    if text.trim().is_empty() {
        return Err(BoardError::invalid_arguments(format!("playback file {path} is empty (line 1 has no samples)")));
    }
    let mut samples = Vec::new();
    for (i, line) in text.lines().enumerate() {
        parse_line(line, i + 1, rows, &mut samples)
            .map_err(|e| BoardError::invalid_arguments(format!("playback file {path}: {}", e.message)))?;
    }
    Ok(samples)
}

/// The playback board (id -3): `params.file` recorded from `params.master_board`.
pub struct PlaybackBoard {
    params: InputParams,
    clock: Arc<dyn Clock>,
    lifecycle: Lifecycle,
    master: Option<(BoardId, &'static BoardDescriptor)>,
    buffers: Buffers,
    samples: Vec<f64>,
    position: usize,
    looping: bool,
    started: (Duration, f64),
    /// Sample slots elapsed since start, served or not (past the end without looping).
    slots: u64,
    scratch: Vec<f64>,
}

impl PlaybackBoard {
    pub fn new(params: &InputParams) -> Result<Self> {
        Self::with_clock(params, Arc::new(SystemClock::default()))
    }

    pub fn with_clock(params: &InputParams, clock: Arc<dyn Clock>) -> Result<Self> {
        Ok(PlaybackBoard {
            params: params.clone(),
            clock,
            lifecycle: Lifecycle::new(),
            master: None,
            buffers: Buffers::new(BoardId::PlaybackFile, Vec::new()),
            samples: Vec::new(),
            position: 0,
            looping: false,
            started: (Duration::ZERO, 0.0),
            slots: 0,
            scratch: Vec::new(),
        })
    }

    fn produce_due(&mut self) {
        if !self.lifecycle.is_streaming() {
            return;
        }
        let Some((_, d)) = self.master else { return };
        let rows = d.num_rows;
        let lines = self.samples.len() / rows;
        let due = samples_due(self.clock.monotonic().saturating_sub(self.started.0), d.sampling_rate);
        while self.slots < due {
            let slot = self.slots;
            self.slots += 1;
            if self.position == lines {
                if !self.looping {
                    // Nothing more to serve until looping is switched on; skip ahead.
                    self.slots = due;
                    break;
                }
                self.position = 0;
            }
            self.scratch.clear();
            self.scratch.extend_from_slice(&self.samples[self.position * rows..(self.position + 1) * rows]);
            self.position += 1;
            self.scratch[d.timestamp_channel] = self.started.1 + slot as f64 / f64::from(d.sampling_rate);
            self.buffers.push_many(0, &mut self.scratch);
        }
    }
}

impl Board for PlaybackBoard {
    fn board_id(&self) -> BoardId {
        BoardId::PlaybackFile
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.lifecycle.is_prepared() {
            return Ok(());
        }
        let (master, d) = master_layout(&self.params)?;
        self.samples = read_playback_file(&self.params.file, d.num_rows)?;
        self.master = Some((master, d));
        self.buffers = Buffers::new(
            BoardId::PlaybackFile,
            vec![PresetLayout { preset: Preset::Default, rows: d.num_rows, marker_row: d.marker_channel }],
        );
        self.position = 0;
        self.looping = false;
        self.lifecycle.mark_prepared();
        tracing::debug!(file = %self.params.file, master = %master, samples = self.samples.len() / d.num_rows, "playback prepared");
        Ok(())
    }

    fn is_prepared(&self) -> bool {
        self.lifecycle.is_prepared()
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        self.lifecycle.check_start(buffer_size)?;
        self.buffers.start(buffer_size);
        self.started = (self.clock.monotonic(), self.clock.unix_now());
        self.slots = 0;
        self.lifecycle.mark_started();
        Ok(())
    }

    fn stop_stream(&mut self) -> Result<()> {
        self.lifecycle.check_stop()?;
        self.produce_due();
        self.lifecycle.mark_stopped();
        Ok(())
    }

    fn release_session(&mut self) -> Result<()> {
        self.lifecycle.check_release()?;
        self.lifecycle.mark_released();
        self.buffers.clear();
        self.samples = Vec::new();
        Ok(())
    }

    fn board_data_count(&mut self, preset: Preset) -> Result<usize> {
        self.lifecycle.require_buffer("board_data_count")?;
        self.produce_due();
        self.buffers.count(preset)
    }

    fn get_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        self.lifecycle.require_buffer("get_board_data")?;
        self.produce_due();
        self.buffers.take_oldest(max_samples, preset, out)
    }

    fn get_current_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        self.lifecycle.require_buffer("get_current_board_data")?;
        self.produce_due();
        self.buffers.copy_newest(max_samples, preset, out)
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        self.lifecycle.require_prepared("config_board")?;
        self.produce_due();
        match config {
            "loopback_true" => self.looping = true,
            "loopback_false" => self.looping = false,
            other => {
                return Err(BoardError::invalid_arguments(format!(
                    "playback board understands loopback_true and loopback_false, not {other:?}"
                )))
            }
        }
        Ok(String::new())
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        self.lifecycle.require_prepared("insert_marker")?;
        self.buffers.check_preset(preset)?;
        self.produce_due();
        self.buffers.set_marker(value, preset)
    }

    fn dropped_samples(&self) -> u64 {
        self.buffers.dropped()
    }

    /// The master board's layout: a playback file keeps the rows it was recorded with.
    fn descriptor(&self, preset: Preset) -> Result<&'static BoardDescriptor> {
        if preset != Preset::Default {
            return Err(BoardError::invalid_arguments(format!("the playback board has no preset {preset:?}")));
        }
        match self.master {
            Some((_, d)) => Ok(d),
            None => master_layout(&self.params).map(|(_, d)| d),
        }
    }
}

/// A playback CSV as a byte stream: one sample per complete line.
pub struct PlaybackDecoder {
    descriptor: &'static BoardDescriptor,
    partial: Vec<u8>,
    line_number: usize,
    counters: DecodeCounters,
    scratch: Vec<f64>,
}

impl PlaybackDecoder {
    /// A decoder for files recorded from `params.master_board`.
    pub fn new(params: &InputParams) -> Result<Self> {
        let (_, descriptor) = master_layout(params)?;
        Ok(PlaybackDecoder { descriptor, partial: Vec::new(), line_number: 0, counters: DecodeCounters::default(), scratch: Vec::new() })
    }
}

impl StreamDecoder for PlaybackDecoder {
    fn num_rows(&self) -> usize {
        self.descriptor.num_rows
    }

    fn observe_command(&mut self, _command: &[u8]) -> Result<()> {
        Ok(())
    }

    fn decode(&mut self, bytes: &[u8], timestamp: f64, out: &mut Vec<f64>) -> Result<usize> {
        self.partial.extend_from_slice(bytes);
        let mut emitted = 0;
        let mut consumed = 0;
        while let Some(end) = self.partial[consumed..].iter().position(|b| *b == b'\n') {
            let line = &self.partial[consumed..consumed + end];
            consumed += end + 1;
            self.line_number += 1;
            // Blank lines (and a lone CR from CRLF files) carry no sample; the C++ decoder
            // skips them too, and both must count the same lines as invalid.
            if line.is_empty() || line == b"\r" {
                continue;
            }
            self.scratch.clear();
            let parsed = std::str::from_utf8(line)
                .map_err(|_| BoardError::invalid_arguments("not UTF-8"))
                .and_then(|text| parse_line(text, self.line_number, self.descriptor.num_rows, &mut self.scratch));
            match parsed {
                Ok(()) => {
                    self.scratch[self.descriptor.timestamp_channel] = timestamp;
                    self.scratch[self.descriptor.marker_channel] = 0.0;
                    out.extend_from_slice(&self.scratch);
                    self.counters.packets += 1;
                    emitted += 1;
                }
                Err(e) => {
                    tracing::debug!(line = self.line_number, error = %e, "playback line rejected");
                    self.counters.invalid_packets += 1;
                }
            }
        }
        self.partial.drain(..consumed);
        Ok(emitted)
    }

    fn counters(&self) -> DecodeCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::io::Write;

    fn csv(lines: &[String]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
        f
    }

    fn cyton_line(n: usize) -> String {
        (0..24).map(|r| format!("{}.5", n * 100 + r)).collect::<Vec<_>>().join("\t")
    }

    fn params(file: &tempfile::NamedTempFile) -> InputParams {
        InputParams { file: file.path().to_str().unwrap().into(), master_board: 0, ..Default::default() }
    }

    fn prepare_err(p: &InputParams) -> BoardError {
        PlaybackBoard::new(p).unwrap().prepare_session().unwrap_err()
    }

    #[test]
    fn replays_at_the_master_rate_then_stops_or_loops() {
        let file = csv(&(0..3).map(cyton_line).collect::<Vec<_>>());
        let clock = ManualClock::new();
        let mut board = PlaybackBoard::with_clock(&params(&file), Arc::new(clock.clone())).unwrap();
        board.prepare_session().unwrap();
        assert_eq!(board.descriptor(Preset::Default).unwrap().num_rows, 24);
        board.start_stream(100).unwrap();
        clock.advance(Duration::from_millis(40)); // 10 slots at 250 Hz, 3 lines
        assert_eq!(board.board_data_count(Preset::Default).unwrap(), 3);
        board.config_board("loopback_true").unwrap();
        clock.advance(Duration::from_millis(20)); // 5 more
        let mut out = SampleMatrix::new(24);
        board.get_board_data(100, Preset::Default, &mut out).unwrap();
        assert_eq!(out.row(1), &[1.5, 101.5, 201.5, 1.5, 101.5, 201.5, 1.5, 101.5]);
        assert_eq!(out.get(22, 0), ManualClock::UNIX_ORIGIN);
        assert_eq!(out.row(23)[0], 23.5, "the file's marker is kept");
        assert_eq!(board.config_board("rewind").unwrap_err().code, ExitCode::InvalidArgumentsError);
    }

    #[test]
    fn bad_files_name_the_line() {
        let missing = InputParams { file: "/nonexistent/rec.csv".into(), master_board: 0, ..Default::default() };
        let e = prepare_err(&missing);
        assert_eq!(e.code, ExitCode::UnableToOpenPortError);
        assert!(e.message.contains("/nonexistent/rec.csv"), "{e}");

        let empty = csv(&[]);
        let e = prepare_err(&params(&empty));
        assert_eq!(e.code, ExitCode::InvalidArgumentsError);
        assert!(e.message.contains("empty"), "{e}");

        let short = csv(&[cyton_line(0), "1\t2\t3".into()]);
        let e = prepare_err(&params(&short));
        assert_eq!(e.code, ExitCode::InvalidArgumentsError);
        assert!(e.message.contains("line 2 has 3 columns, expected 24"), "{e}");

        let mut cells: Vec<String> = (0..24).map(|c| c.to_string()).collect();
        cells[4] = "abc".into();
        let text = csv(&[cyton_line(0), cyton_line(1), cells.join("\t")]);
        let e = prepare_err(&params(&text));
        assert!(e.message.contains("line 3, column 5: \"abc\" is not a number"), "{e}");

        let mut no_master = params(&text);
        no_master.master_board = 77;
        let e = prepare_err(&no_master);
        assert_eq!(e.code, ExitCode::InvalidArgumentsError);
        assert!(e.message.contains("master_board 77"), "{e}");
    }

    #[test]
    fn decoder_emits_one_sample_per_complete_line() {
        let mut d = PlaybackDecoder::new(&InputParams { master_board: 0, ..Default::default() }).unwrap();
        let text = format!("{}\n{}\nbad\n{}", cyton_line(0), cyton_line(1), cyton_line(2));
        let mut out = Vec::new();
        let (a, b) = text.as_bytes().split_at(30);
        assert_eq!(d.decode(a, 5.0, &mut out).unwrap(), 0);
        assert_eq!(d.decode(b, 5.0, &mut out).unwrap(), 2);
        assert_eq!(d.decode(b"\n", 6.0, &mut out).unwrap(), 1);
        assert_eq!(out.len(), 3 * 24);
        assert_eq!(out[24 + 1], 101.5);
        assert_eq!(out[22], 5.0);
        assert_eq!(out[23], 0.0);
        assert_eq!(d.counters().packets, 3);
        assert_eq!(d.counters().invalid_packets, 1);
    }
}
