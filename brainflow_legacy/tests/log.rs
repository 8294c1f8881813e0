//! BrainFlow's own log lines arrive as `tracing` events on target `brainflow`, not on
//! stderr. Its own test binary: the subscriber is process-wide.

use board_api::{Board, BoardId, InputParams};
use brainflow_legacy::BrainFlowLibrary;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod support;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn brainflow_log_lines_become_tracing_events() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .init();
    let library = BrainFlowLibrary::load(&support::brainflow_library()).unwrap();
    let mut board = library.board(BoardId::Synthetic, &InputParams::default()).unwrap();
    board.prepare_session().unwrap();
    board.release_session().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
        if text.lines().any(|l| l.contains(" brainflow: ")) {
            break;
        }
        assert!(Instant::now() < deadline, "no BrainFlow log line reached tracing:\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
