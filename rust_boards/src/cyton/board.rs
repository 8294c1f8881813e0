//! The Cyton and Cyton Daisy boards: the serial conversation around [`CytonDecoder`],
//! with one reader thread per streaming device, blocked in `poll` on the port.

use super::decoder::CytonDecoder;
use crate::serial::{discard_input, open_serial, read_reply, read_with_timeout, write_command};
use crate::session::{Buffers, PresetLayout};
use board_api::{Board, BoardError, BoardId, ExitCode, InputParams, Lifecycle, Preset, Result, SampleMatrix, StreamDecoder};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// BrainFlow's handshake timeout when `params.timeout` is 0.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// After `s` the board may still send what it had queued before it saw the command: keep
/// reading until the line is quiet this long (bounded by [`DRAIN_LIMIT`]), so those
/// samples are not lost. `docs/board-behaviour.md` fixes both values for both sides.
const DRAIN_QUIET: Duration = Duration::from_millis(50);
const DRAIN_LIMIT: Duration = Duration::from_secs(1);

/// What the reader thread and the caller share.
struct Shared {
    decoder: CytonDecoder,
    buffers: Buffers,
    /// Why the reader stopped on its own while streaming (device gone, read error), so a
    /// dead stream is visible rather than silent.
    reader_failure: Option<String>,
}

struct Reader {
    wake: OwnedFd,
    thread: JoinHandle<()>,
}

/// Cyton (id 0) or Cyton Daisy (id 2) on `params.serial_port`.
pub struct CytonBoard {
    board: BoardId,
    port_path: String,
    timeout: Duration,
    lifecycle: Lifecycle,
    port: Option<Arc<File>>,
    shared: Arc<Mutex<Shared>>,
    reader: Option<Reader>,
}

impl CytonBoard {
    /// `board` must be [`BoardId::Cyton`] or [`BoardId::CytonDaisy`].
    pub fn new(board: BoardId, params: &InputParams) -> Result<Self> {
        let decoder = match board {
            BoardId::Cyton => CytonDecoder::cyton(),
            BoardId::CytonDaisy => CytonDecoder::daisy(),
            other => {
                return Err(BoardError::new(ExitCode::UnsupportedBoardError, format!("{other} is not a Cyton board")))
            }
        };
        Ok(CytonBoard {
            board,
            port_path: params.serial_port.clone(),
            timeout: params.timeout_or(DEFAULT_TIMEOUT),
            lifecycle: Lifecycle::new(),
            port: None,
            shared: Arc::new(Mutex::new(Shared { decoder, buffers: Buffers::new(board, PresetLayout::of_board(board)), reader_failure: None })),
            reader: None,
        })
    }

    /// Why the stream died on its own, if it did: the device hung up or a read failed
    /// while streaming. Samples read before that stay in the buffer. Cleared by
    /// `start_stream` and `prepare_session`.
    pub fn reader_failure(&self) -> Option<String> {
        self.shared().reader_failure.clone()
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        // A reader thread cannot panic while holding the lock in normal operation; if one
        // did, the data is still consistent sample by sample, so keep using it.
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn port(&self) -> Result<&Arc<File>> {
        self.port.as_ref().ok_or_else(|| BoardError::not_created("the serial port is not open; call prepare_session first"))
    }

    /// Writes `command`, letting the decoder see it first (gains change with it).
    fn send(&self, command: &[u8]) -> Result<()> {
        let port = self.port()?;
        let mut shared = self.shared();
        shared.decoder.observe_command(command)?;
        write_command(port, &self.port_path, command)
    }

    /// Sends `d`: BrainFlow's rule is that silence is consent (its own CI emulator never
    /// answers `d`); only a reply starting `Failure` refuses.
    fn defaults(&self) -> Result<Vec<u8>> {
        self.send(b"d")?;
        let wait = self.timeout.min(DEFAULTS_REPLY_WAIT);
        Ok(read_reply(self.port()?, wait).unwrap_or_else(|partial| partial))
    }

    fn handshake(&self, command: &[u8], what: &str) -> Result<Vec<u8>> {
        self.send(command)?;
        let port = self.port()?;
        read_reply(port, self.timeout).map_err(|partial| {
            BoardError::new(
                ExitCode::BoardNotReadyError,
                format!(
                    "{} on {} did not answer {what} with a reply ending in $$$ within {:?} (got {} bytes); check that the board is on and the port is right",
                    self.board,
                    self.port_path,
                    self.timeout,
                    partial.len()
                ),
            )
        })
    }

    fn stop_reader(&mut self) {
        if let Some(reader) = self.reader.take() {
            let _ = nix::unistd::write(&reader.wake, &[1]);
            let _ = reader.thread.join();
        }
    }
}

fn reader_loop(port: Arc<File>, wake: OwnedFd, shared: Arc<Mutex<Shared>>, board: BoardId) {
    if let Err(reason) = read_until_stopped(&port, &wake, &shared) {
        tracing::error!(board = %board, reason = %reason, "serial reader stopped; no more samples will arrive");
        shared.lock().unwrap_or_else(|p| p.into_inner()).reader_failure = Some(reason);
    }
}

/// Reads and decodes until woken (`Ok`) or until the device fails (`Err` with why).
fn read_until_stopped(port: &File, wake: &OwnedFd, shared: &Mutex<Shared>) -> std::result::Result<(), String> {
    let mut buf = vec![0u8; 4096];
    let mut samples = Vec::with_capacity(4096);
    let decode = |bytes: &[u8], samples: &mut Vec<f64>| {
        let timestamp = crate::clock::unix_now();
        let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
        let Shared { decoder, buffers, .. } = &mut *guard;
        samples.clear();
        match decoder.decode(bytes, timestamp, samples) {
            Ok(0) => Ok(()),
            Ok(_) => {
                buffers.push_many(0, samples);
                Ok(())
            }
            Err(e) => Err(format!("the decoder failed: {e}")),
        }
    };
    loop {
        let mut fds = [PollFd::new(port.as_fd(), PollFlags::POLLIN), PollFd::new(wake.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("poll on the serial port failed: {e}")),
        }
        let port_events = fds[0].revents().unwrap_or(PollFlags::empty());
        let woken = fds[1].revents().is_some_and(|r| !r.is_empty());
        if port_events.contains(PollFlags::POLLIN) {
            match port.read_into(&mut buf) {
                Ok(n) if n > 0 => decode(&buf[..n], &mut samples)?,
                // Readable yet nothing to read: end of file, the device is gone.
                Ok(_) => return Err("the serial device closed (end of file)".into()),
                Err(e) => return Err(format!("reading the serial port failed: {e}")),
            }
        } else if port_events.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL) {
            return Err("the serial device hung up".into());
        }
        if woken {
            let deadline = Instant::now() + DRAIN_LIMIT;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                match read_with_timeout(port, &mut buf, left.min(DRAIN_QUIET)) {
                    Ok(n) if n > 0 => decode(&buf[..n], &mut samples)?,
                    _ => break,
                }
            }
            return Ok(());
        }
    }
}

trait ReadInto {
    fn read_into(self, buf: &mut [u8]) -> std::io::Result<usize>;
}

impl ReadInto for &File {
    fn read_into(mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        std::io::Read::read(&mut self, buf)
    }
}

/// How long prepare waits for an answer to `d` before taking silence as consent.
const DEFAULTS_REPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl Board for CytonBoard {
    fn board_id(&self) -> BoardId {
        self.board
    }

    fn prepare_session(&mut self) -> Result<()> {
        if self.lifecycle.is_prepared() {
            return Ok(());
        }
        self.port = Some(Arc::new(open_serial(&self.port_path)?));
        let result = self.handshake(b"v", "'v'").and_then(|_| self.defaults());
        match result {
            Ok(reply) if String::from_utf8_lossy(&reply).trim_start().starts_with("Failure") => {
                self.port = None;
                Err(BoardError::new(
                    ExitCode::BoardNotReadyError,
                    format!("{} on {} refused the default settings: {}", self.board, self.port_path, String::from_utf8_lossy(&reply)),
                ))
            }
            Ok(_) => {
                let mut shared = self.shared();
                shared.buffers.clear();
                shared.reader_failure = None;
                drop(shared);
                self.lifecycle.mark_prepared();
                tracing::info!(board = %self.board, port = %self.port_path, "prepared");
                Ok(())
            }
            Err(e) => {
                self.port = None;
                Err(e)
            }
        }
    }

    fn is_prepared(&self) -> bool {
        self.lifecycle.is_prepared()
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        self.lifecycle.check_start(buffer_size)?;
        {
            let mut shared = self.shared();
            shared.buffers.start(buffer_size);
            shared.reader_failure = None;
        }
        let port = Arc::clone(self.port()?);
        let (wake_read, wake_write) = nix::unistd::pipe()
            .map_err(|e| BoardError::new(ExitCode::StreamThreadError, format!("cannot create the reader's wake pipe: {e}")))?;
        let shared = Arc::clone(&self.shared);
        let board = self.board;
        let thread = std::thread::Builder::new()
            .name(format!("{}-reader", board.kind()))
            .spawn({
                // The reader's events belong to the call that started the stream.
                let span = tracing::Span::current();
                move || span.in_scope(|| reader_loop(port, wake_read, shared, board))
            })
            .map_err(|e| BoardError::new(ExitCode::StreamThreadError, format!("cannot start the reader thread: {e}")))?;
        self.reader = Some(Reader { wake: wake_write, thread });
        if let Err(e) = self.send(b"b") {
            self.stop_reader();
            return Err(e);
        }
        self.lifecycle.mark_started();
        Ok(())
    }

    fn stop_stream(&mut self) -> Result<()> {
        self.lifecycle.check_stop()?;
        // `s` goes out while the reader still runs; it drains what the board sent before
        // it saw the command (the user's data) and only then ends.
        let sent = self.send(b"s");
        self.stop_reader();
        // Whatever still comes after the drain would otherwise open the next command's reply.
        if let Some(Err(e)) = self.port.as_deref().map(discard_input) {
            tracing::warn!(board = %self.board, port = %self.port_path, error = %e, "could not discard input after stop");
        }
        self.lifecycle.mark_stopped();
        sent
    }

    fn release_session(&mut self) -> Result<()> {
        self.lifecycle.check_release()?;
        if self.lifecycle.is_streaming() {
            let _ = self.send(b"s");
            self.stop_reader();
        }
        self.port = None;
        self.shared().buffers.clear();
        self.lifecycle.mark_released();
        Ok(())
    }

    fn board_data_count(&mut self, preset: Preset) -> Result<usize> {
        self.lifecycle.require_buffer("board_data_count")?;
        self.shared().buffers.count(preset)
    }

    fn get_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        self.lifecycle.require_buffer("get_board_data")?;
        self.shared().buffers.take_oldest(max_samples, preset, out)
    }

    fn get_current_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        self.lifecycle.require_buffer("get_current_board_data")?;
        self.shared().buffers.copy_newest(max_samples, preset, out)
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        self.lifecycle.require_prepared("config_board")?;
        self.send(config.as_bytes())?;
        if self.lifecycle.is_streaming() {
            return Ok(String::new());
        }
        let reply = read_reply(self.port()?, self.timeout).unwrap_or_else(|partial| partial);
        Ok(String::from_utf8_lossy(&reply).into_owned())
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        self.lifecycle.require_prepared("insert_marker")?;
        self.shared().buffers.set_marker(value, preset)
    }

    fn dropped_samples(&self) -> u64 {
        self.shared().buffers.dropped()
    }

    fn stream_failure(&self) -> Option<String> {
        self.reader_failure()
    }
}

impl Drop for CytonBoard {
    fn drop(&mut self) {
        if self.lifecycle.is_streaming() {
            let _ = self.send(b"s");
        }
        self.stop_reader();
    }
}
