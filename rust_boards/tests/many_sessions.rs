//! Thousands of synthetic and playback sessions in one process cost no threads: samples
//! are produced from elapsed time when a session is read.

use board_api::{Board, InputParams, Preset, SampleMatrix};
use rust_boards::{ManualClock, PlaybackBoard, SyntheticBoard};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

fn threads_in_process() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

#[test]
fn five_thousand_sessions_start_no_thread_and_lose_no_sample() {
    let clock = ManualClock::new();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for n in 0..10 {
        let line: Vec<String> = (0..24).map(|r| (n * 24 + r).to_string()).collect();
        writeln!(file, "{}", line.join("\t")).unwrap();
    }
    let playback = InputParams { file: file.path().to_str().unwrap().into(), master_board: 0, ..Default::default() };
    let threads_before = threads_in_process();
    let mut boards: Vec<Box<dyn Board>> = Vec::new();
    for i in 0..5000u64 {
        let mut b: Box<dyn Board> = if i % 5 == 0 {
            Box::new(PlaybackBoard::with_clock(&playback, Arc::new(clock.clone())).unwrap())
        } else {
            let params = InputParams { other_info: format!("seed={i}"), ..Default::default() };
            Box::new(SyntheticBoard::with_clock(&params, Arc::new(clock.clone())).unwrap())
        };
        b.prepare_session().unwrap();
        b.config_board_if_playback();
        b.start_stream(1000).unwrap();
        boards.push(b);
    }
    assert_eq!(threads_in_process(), threads_before, "sessions must not start threads");
    clock.advance(Duration::from_millis(100));
    let mut out = SampleMatrix::with_capacity(32, 25);
    for b in &mut boards {
        b.get_board_data(usize::MAX, Preset::Default, &mut out).unwrap();
        assert_eq!(out.samples(), 25, "{}: 100 ms at 250 Hz", b.board_id());
        assert_eq!(b.dropped_samples(), 0);
    }
}

trait LoopPlayback {
    fn config_board_if_playback(&mut self);
}

impl LoopPlayback for Box<dyn Board> {
    fn config_board_if_playback(&mut self) {
        if self.board_id() == board_api::BoardId::PlaybackFile {
            self.config_board("loopback_true").unwrap();
        }
    }
}
