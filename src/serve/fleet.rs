//! The sessions `serve` runs: opened, prepared and streamed at start, polled by a few
//! worker threads (never a thread per session), recorded to CSV when asked, stopped and
//! released at shutdown.

use super::csv::{file_stem, CsvRecorder};
use super::sessions::SessionSpec;
use crate::{Runtime, Session};
use board_api::{Board, BoardId, Preset, SampleMatrix};
use crate::operations::FleetTotals;
use metrics::{Counter, Histogram};
use monitoring::names;
use std::path::Path as FsPath;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use toggles::Path;

struct PathMetrics {
    path: Path,
    read_ok: Counter,
    read_error: Counter,
    latency: Histogram,
}

impl PathMetrics {
    fn new(board: BoardId, path: Path) -> PathMetrics {
        let (b, p) = (board.kind(), path.as_str());
        PathMetrics {
            path,
            read_ok: metrics::counter!(names::CALLS_TOTAL, "board" => b, "path" => p, "operation" => "get_board_data", "outcome" => "ok"),
            read_error: metrics::counter!(names::CALLS_TOTAL, "board" => b, "path" => p, "operation" => "get_board_data", "outcome" => "error"),
            latency: metrics::histogram!(names::CALL_DURATION_SECONDS, "board" => b, "path" => p, "operation" => "get_board_data"),
        }
    }
}

/// One running session and what it writes to.
pub struct Served {
    pub session: Session,
    pub board: BoardId,
    pub label: String,
    presets: Vec<(Preset, Option<CsvRecorder>)>,
    matrix: SampleMatrix,
    path_metrics: PathMetrics,
    delivered: Counter,
    dropped: Counter,
    last_dropped: u64,
}

/// Ring buffer per preset: 30 s at 250 Hz, far more than one poll interval needs.
pub const BUFFER_SAMPLES: usize = 7_500;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{board} session {label}: {step} failed: {source}")]
    Board { board: &'static str, label: String, step: &'static str, source: board_api::BoardError },
    #[error("cannot open the recording {path}: {source}")]
    Recording { path: String, source: std::io::Error },
}

/// Opens, prepares and starts one session (and its recordings).
pub fn start(runtime: &Runtime, spec: &SessionSpec, data_dir: &FsPath) -> Result<Served, StartError> {
    let board_err = |step: &'static str| {
        let label = spec.label.clone();
        move |source| StartError::Board { board: spec.board.kind(), label, step, source }
    };
    let mut session = runtime.open(spec.board, spec.params.clone());
    session.prepare_session().map_err(board_err("prepare_session"))?;
    session.start_stream(BUFFER_SAMPLES).map_err(board_err("start_stream"))?;
    if let Some(decision) = session.decision() {
        metrics::counter!(names::ROUTING_DECISIONS_TOTAL, "board" => spec.board.kind(), "path" => decision.path.as_str(), "reason" => decision.reason.as_str())
            .increment(1);
    }
    let mut presets = Vec::new();
    for (i, preset) in spec.board.presets().iter().enumerate() {
        let recorder = if spec.record {
            let suffix = if i == 0 { String::new() } else { format!("-preset{i}") };
            let path = data_dir.join(format!("{}{suffix}.csv", file_stem(spec.board.kind(), &spec.label)));
            Some(CsvRecorder::open(&path).map_err(|source| StartError::Recording { path: path.display().to_string(), source })?)
        } else {
            None
        };
        presets.push((*preset, recorder));
    }
    let path = session.path();
    Ok(Served {
        board: spec.board,
        label: spec.label.clone(),
        presets,
        matrix: SampleMatrix::default(),
        path_metrics: PathMetrics::new(spec.board, path),
        delivered: metrics::counter!(names::SAMPLES_DELIVERED_TOTAL, "board" => spec.board.kind()),
        dropped: metrics::counter!(names::SAMPLES_DROPPED_TOTAL, "board" => spec.board.kind()),
        last_dropped: 0,
        session,
    })
}

impl Served {
    /// Drains every preset's buffer once; returns the samples delivered.
    pub fn poll(&mut self, totals: &FleetTotals) -> u64 {
        let path = self.session.path();
        if path != self.path_metrics.path {
            self.path_metrics = PathMetrics::new(self.board, path);
        }
        let mut delivered = 0u64;
        for (preset, recorder) in &mut self.presets {
            let started = Instant::now();
            let result = self.session.get_board_data(BUFFER_SAMPLES, *preset, &mut self.matrix);
            let elapsed = started.elapsed().as_secs_f64();
            self.path_metrics.latency.record(elapsed);
            totals.record_latency(self.board, path, elapsed);
            match result {
                Ok(()) => {
                    self.path_metrics.read_ok.increment(1);
                    let n = self.matrix.samples() as u64;
                    delivered += n;
                    if let Some(rec) = recorder {
                        if let Err(e) = rec.append(&self.matrix) {
                            tracing::error!(file = %rec.path().display(), error = %e, "recording write failed");
                        }
                    }
                }
                Err(e) => {
                    self.path_metrics.read_error.increment(1);
                    totals.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(board = self.board.kind(), session = %self.label, code = e.code.name(), error = %e.message, "read failed");
                }
            }
        }
        let dropped = self.session.dropped_samples();
        let newly_dropped = dropped.saturating_sub(self.last_dropped);
        if newly_dropped > 0 {
            self.dropped.increment(newly_dropped);
            self.last_dropped = dropped;
        }
        self.delivered.increment(delivered);
        totals.record_samples(self.board, delivered, newly_dropped);
        delivered
    }

    pub fn flush(&mut self) {
        for (_, recorder) in &mut self.presets {
            if let Some(rec) = recorder {
                if let Err(e) = rec.flush() {
                    tracing::error!(file = %rec.path().display(), error = %e, "recording flush failed");
                }
            }
        }
    }

    /// Stops the stream, records what was still buffered, flushes and releases.
    pub fn finish(mut self, totals: &FleetTotals) {
        let _ = self.session.stop_stream();
        self.poll(totals);
        self.flush();
        if let Err(e) = self.session.release_session() {
            tracing::warn!(board = self.board.kind(), session = %self.label, error = %e.message, "release failed");
        }
    }
}

/// Polls its share of the sessions every `interval` until `stop`, then finishes them.
pub fn worker_loop(mut served: Vec<Served>, interval: Duration, flush_every: Duration, stop: Arc<AtomicBool>, totals: Arc<FleetTotals>) {
    let mut next = Instant::now();
    let mut last_flush = Instant::now();
    while !stop.load(Ordering::Acquire) {
        for s in &mut served {
            s.poll(&totals);
        }
        totals.polls.fetch_add(1, Ordering::Relaxed);
        if last_flush.elapsed() >= flush_every {
            for s in &mut served {
                s.flush();
            }
            last_flush = Instant::now();
        }
        next += interval;
        let now = Instant::now();
        if next > now {
            // Sleep in short steps so a stop request is seen promptly.
            let mut left = next - now;
            while left > Duration::ZERO && !stop.load(Ordering::Acquire) {
                let step = left.min(Duration::from_millis(50));
                std::thread::sleep(step);
                left = left.saturating_sub(step);
            }
        } else {
            next = now;
        }
    }
    for s in served {
        s.finish(&totals);
    }
}
