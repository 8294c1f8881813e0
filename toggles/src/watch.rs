//! Hot reload: watch the config's directory, debounce bursts, and re-check the content
//! hash periodically for anything the watcher missed.
//!
//! The directory is watched rather than the file because the file's inode changes under
//! every editor's write-to-temp-and-rename, under delete-and-recreate, and under
//! Kubernetes ConfigMap updates (which swap the `..data` symlink to a new directory); a
//! watch on the file itself goes silent after the first such replacement.
//!
//! A writer that pauses mid-file (a script writing in two parts, a slow copy) must not
//! have its first half applied: once the file has been written to and the writer has not
//! closed it yet, the watcher waits for the close (or a rename or delete), for up to
//! [`WatchOptions::writer_grace`]; the periodic check waits too.

use crate::store::ToggleStore;
use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the watcher paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchOptions {
    /// Quiet time after the last file event before reloading: one reload per burst.
    pub debounce: Duration,
    /// A burst longer than this reloads anyway, so a constant stream cannot starve it.
    pub max_delay: Duration,
    /// Period of the content-hash check that catches missed events and rewatches a
    /// directory that was removed and came back.
    pub poll_interval: Duration,
    /// How long a file written to but not yet closed is left alone before it is read
    /// anyway (a writer that never closes must not freeze the config forever).
    pub writer_grace: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            poll_interval: Duration::from_secs(1),
            writer_grace: Duration::from_secs(5),
        }
    }
}

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch directory {dir}: {source}")]
    Watch { dir: PathBuf, source: notify::Error },
    #[error("cannot start the config watcher thread: {0}")]
    Thread(std::io::Error),
}

enum Message {
    Fs(notify::Result<notify::Event>),
    Stop,
}

/// Keeps the watcher running; dropping it stops the watcher and joins its thread.
pub struct WatchHandle {
    tx: mpsc::Sender<Message>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        let _ = self.tx.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn watched_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn dir_identity(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
}

/// Starts watching the store's file on a std thread (no async runtime needed).
pub fn watch(store: Arc<ToggleStore>, options: WatchOptions) -> Result<WatchHandle, WatchError> {
    let dir = watched_dir(store.path());
    let (tx, rx) = mpsc::channel();
    let fs_tx = tx.clone();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = fs_tx.send(Message::Fs(event));
    })
    .map_err(|source| WatchError::Watch { dir: dir.clone(), source })?;
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|source| WatchError::Watch { dir: dir.clone(), source })?;
    let identity = dir_identity(&dir);
    let thread = std::thread::Builder::new()
        .name("switchyard-config-watch".into())
        .spawn(move || run(store, watcher, dir, identity, rx, options))
        .map_err(WatchError::Thread)?;
    Ok(WatchHandle { tx, thread: Some(thread) })
}

fn relevant(event: &notify::Result<notify::Event>) -> bool {
    match event {
        // Our own reads open and close the file; they must not cause another reload.
        // A close after writing is the best sign that a write finished, so it counts.
        Ok(e) => match e.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => false,
            _ => true,
        },
        Err(_) => true,
    }
}

/// Whether someone is part-way through writing the config file, from the events that
/// name it: written to, and not yet closed, renamed or removed.
#[derive(Debug, Default)]
struct OpenWrite {
    /// When the first write not yet closed was seen.
    since: Option<Instant>,
}

impl OpenWrite {
    fn observe(&mut self, event: &notify::Result<notify::Event>, file_name: Option<&std::ffi::OsStr>) {
        use notify::event::ModifyKind;
        let Ok(e) = event else { return };
        if !e.paths.iter().any(|p| p.file_name() == file_name) {
            return;
        }
        match e.kind {
            EventKind::Create(_) | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any) => {
                self.since.get_or_insert_with(Instant::now);
            }
            EventKind::Access(AccessKind::Close(AccessMode::Write)) | EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)) => {
                self.since = None;
            }
            _ => {}
        }
    }

    /// When to read the file: now, or once the writer's grace runs out.
    fn hold_until(&self, grace: Duration) -> Option<Instant> {
        self.since.map(|since| since + grace).filter(|until| *until > Instant::now())
    }
}

fn run(
    store: Arc<ToggleStore>,
    mut watcher: notify::RecommendedWatcher,
    dir: PathBuf,
    mut identity: Option<(u64, u64)>,
    rx: mpsc::Receiver<Message>,
    options: WatchOptions,
) {
    let file_name = store.path().file_name().map(|n| n.to_owned());
    let mut open_write = OpenWrite::default();
    let mut next_poll = Instant::now() + options.poll_interval;
    // A reload put off because a writer had the file open.
    let mut held = false;
    loop {
        let wake = match (held, open_write.hold_until(options.writer_grace)) {
            (true, Some(until)) => until.min(next_poll),
            _ => next_poll,
        };
        let wait = wake.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Message::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Ok(Message::Fs(event)) => {
                if !relevant(&event) {
                    continue;
                }
                if let Err(e) = &event {
                    tracing::warn!(dir = %dir.display(), error = %e, "config watcher error; the periodic check continues");
                }
                open_write.observe(&event, file_name.as_deref());
                let burst_start = Instant::now();
                loop {
                    let quiet_left = options.max_delay.saturating_sub(burst_start.elapsed());
                    if quiet_left.is_zero() {
                        break;
                    }
                    match rx.recv_timeout(options.debounce.min(quiet_left)) {
                        Ok(Message::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                        Ok(Message::Fs(event)) => open_write.observe(&event, file_name.as_deref()),
                        Err(mpsc::RecvTimeoutError::Timeout) => break,
                    }
                }
                rewatch_if_replaced(&mut watcher, &dir, &mut identity);
                held = reload_unless_being_written(&store, &mut open_write, options.writer_grace);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                rewatch_if_replaced(&mut watcher, &dir, &mut identity);
                held = reload_unless_being_written(&store, &mut open_write, options.writer_grace);
                if Instant::now() >= next_poll {
                    next_poll = Instant::now() + options.poll_interval;
                }
            }
        }
    }
}

/// Reloads, unless a writer has the file open and its grace has not run out; says
/// whether the reload was put off.
fn reload_unless_being_written(store: &ToggleStore, open_write: &mut OpenWrite, grace: Duration) -> bool {
    if open_write.hold_until(grace).is_some() {
        tracing::debug!(file = %store.path().display(), "config file is being written; reading it once the writer closes it");
        return true;
    }
    if open_write.since.is_some() {
        tracing::warn!(
            file = %store.path().display(),
            grace_ms = grace.as_millis() as u64,
            "config file written to and still not closed after the grace period; reading it as it is"
        );
        open_write.since = None;
    }
    store.reload();
    false
}

/// A directory that was removed and recreated is a new inode the old watch does not see.
fn rewatch_if_replaced(watcher: &mut notify::RecommendedWatcher, dir: &Path, identity: &mut Option<(u64, u64)>) {
    let now = dir_identity(dir);
    if now == *identity {
        return;
    }
    let _ = watcher.unwatch(dir);
    if now.is_some() {
        match watcher.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => tracing::info!(dir = %dir.display(), "config directory came back; watching it again"),
            Err(e) => {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the config directory again yet");
                return;
            }
        }
    } else {
        tracing::warn!(dir = %dir.display(), "config directory is gone; keeping the config in force");
    }
    *identity = now;
}
