//! BrainFlow's own `libBoardController.so` as a legacy backend: for a team whose product
//! runs on BrainFlow, the C++ path is *their* BrainFlow, not a stand-in.
//!
//! This crate owns loading that library at run time (`libloading`, with
//! `RTLD_LOCAL | RTLD_NOW | RTLD_DEEPBIND`, because switchyard's own C API exports the
//! same names: neither library's calls may bind to the other's), checking that it is
//! BrainFlow and a version we have tested, routing BrainFlow's log into `tracing`, and
//! [`BrainFlowBoard`], which serves the board contract through BrainFlow's C API. At load it
//! also reads BrainFlow's descriptors of every board only BrainFlow implements
//! ([`board_api::BoardId::Legacy`]) into `board_api`, so those boards are described as
//! BrainFlow describes them.
//!
//! It does not decide which sessions it serves (the toggles and the dispatcher do), and
//! it never fails over: an error from BrainFlow is the legacy path's answer, returned with
//! BrainFlow's own exit code.

use board_api::{Board, BoardError, BoardId, ExitCode, InputParams, LegacyBoardId, LegacyFacts, LegacyPresetFacts, Preset, Result, SampleMatrix};
use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
use std::ffi::{c_char, c_double, c_int, CString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod log;

/// BrainFlow releases whose library this backend was run against in its tests.
pub const TESTED_VERSIONS: &[&str] = &["5.23.0"];

/// The environment variable that names BrainFlow's library (it wins over the config).
pub const LIBRARY_ENV: &str = "SWITCHYARD_BRAINFLOW_LIBRARY";

/// glibc's `RTLD_DEEPBIND`: the library resolves its own symbols before the process's.
const RTLD_DEEPBIND: c_int = 0x0008;

/// Why BrainFlow's library cannot be used. Each names the path and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("BrainFlow library {path}: no such file; point brainflow.library (or {LIBRARY_ENV}) at the libBoardController.so in the brainflow package's lib/ folder")]
    NotFound { path: PathBuf },
    #[error("BrainFlow library {path}: cannot be loaded: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("BrainFlow library {path}: not BrainFlow's board controller (it has no `{missing}` export); point it at brainflow/lib/libBoardController.so")]
    NotBrainFlow { path: PathBuf, missing: &'static str },
    #[error("BrainFlow library {path}: version {version} has not been tested with switchyard (tested: {tested}); install one of those")]
    UntestedVersion { path: PathBuf, version: String, tested: String },
}

type PrepareFn = unsafe extern "C" fn(c_int, *const c_char) -> c_int;
type StartFn = unsafe extern "C" fn(c_int, *const c_char, c_int, *const c_char) -> c_int;
type CountFn = unsafe extern "C" fn(c_int, *mut c_int, c_int, *const c_char) -> c_int;
type DataFn = unsafe extern "C" fn(c_int, c_int, *mut c_double, c_int, *const c_char) -> c_int;
type CurrentFn = unsafe extern "C" fn(c_int, c_int, *mut c_double, *mut c_int, c_int, *const c_char) -> c_int;
type ConfigFn = unsafe extern "C" fn(*const c_char, *mut c_char, *mut c_int, c_int, c_int, *const c_char) -> c_int;
type MarkerFn = unsafe extern "C" fn(c_double, c_int, c_int, *const c_char) -> c_int;
type IsPreparedFn = unsafe extern "C" fn(*mut c_int, c_int, *const c_char) -> c_int;
type VersionFn = unsafe extern "C" fn(*mut c_char, *mut c_int, c_int) -> c_int;
type LogLevelFn = unsafe extern "C" fn(c_int) -> c_int;
type LogFileFn = unsafe extern "C" fn(*const c_char) -> c_int;
type DescrFn = unsafe extern "C" fn(c_int, c_int, *mut c_char, *mut c_int, c_int) -> c_int;
type PresetsFn = unsafe extern "C" fn(c_int, *mut c_int, *mut c_int) -> c_int;

/// The exports this backend calls, resolved once at load.
#[derive(Clone, Copy)]
struct Exports {
    prepare_session: PrepareFn,
    start_stream: StartFn,
    stop_stream: PrepareFn,
    release_session: PrepareFn,
    get_board_data_count: CountFn,
    get_board_data: DataFn,
    get_current_board_data: CurrentFn,
    config_board: ConfigFn,
    insert_marker: MarkerFn,
    is_prepared: IsPreparedFn,
    get_version_board_controller: VersionFn,
    set_log_level_board_controller: LogLevelFn,
    set_log_file_board_controller: LogFileFn,
    get_board_descr: DescrFn,
    get_board_presets: PresetsFn,
}

/// BrainFlow's library, loaded. Boards hold it in an `Arc`, so it stays loaded while any
/// session uses it.
pub struct BrainFlowLibrary {
    exports: Exports,
    path: PathBuf,
    version: String,
    // Last: the exports point into it.
    _library: Library,
}

impl std::fmt::Debug for BrainFlowLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrainFlowLibrary").field("path", &self.path).field("version", &self.version).finish()
    }
}

/// Resolves one export as a plain function pointer of type `T`.
///
/// # Safety
/// `T` must be the export's true C signature.
unsafe fn export<T: Copy>(library: &Library, path: &Path, name: &'static str) -> std::result::Result<T, LoadError> {
    let symbol = format!("{name}\0");
    // SAFETY: the caller vouches for `T`; the pointer is copied out and used only while
    // the library stays loaded (the exports live in the same struct as the library).
    match unsafe { library.get::<T>(symbol.as_bytes()) } {
        Ok(f) => Ok(*f),
        Err(_) => Err(LoadError::NotBrainFlow { path: path.to_owned(), missing: name }),
    }
}

impl BrainFlowLibrary {
    /// Loads the library at `path`, checks it is BrainFlow of a tested version, and sends
    /// its log into `tracing`.
    pub fn load(path: &Path) -> std::result::Result<Arc<BrainFlowLibrary>, LoadError> {
        if !path.exists() {
            return Err(LoadError::NotFound { path: path.to_owned() });
        }
        // SAFETY: loading runs the library's initialisers; BrainFlow's are its loggers and
        // globals, which are what we load it for. DEEPBIND keeps its internal calls inside it.
        let library = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND) }
            .map_err(|e| LoadError::Open { path: path.to_owned(), reason: e.to_string() })?;
        // SAFETY: each type is the C signature BrainFlow's board_controller.h declares for
        // that name (and that switchyard's own C API exports).
        let exports = unsafe {
            Exports {
                prepare_session: export(&library, path, "prepare_session")?,
                start_stream: export(&library, path, "start_stream")?,
                stop_stream: export(&library, path, "stop_stream")?,
                release_session: export(&library, path, "release_session")?,
                get_board_data_count: export(&library, path, "get_board_data_count")?,
                get_board_data: export(&library, path, "get_board_data")?,
                get_current_board_data: export(&library, path, "get_current_board_data")?,
                config_board: export(&library, path, "config_board")?,
                insert_marker: export(&library, path, "insert_marker")?,
                is_prepared: export(&library, path, "is_prepared")?,
                get_version_board_controller: export(&library, path, "get_version_board_controller")?,
                set_log_level_board_controller: export(&library, path, "set_log_level_board_controller")?,
                set_log_file_board_controller: export(&library, path, "set_log_file_board_controller")?,
                get_board_descr: export(&library, path, "get_board_descr")?,
                get_board_presets: export(&library, path, "get_board_presets")?,
            }
        };
        let version = read_version(&exports).map_err(|reason| LoadError::Open { path: path.to_owned(), reason })?;
        if !TESTED_VERSIONS.contains(&version.as_str()) {
            return Err(LoadError::UntestedVersion { path: path.to_owned(), version, tested: TESTED_VERSIONS.join(", ") });
        }
        log::route_into_tracing(exports.set_log_file_board_controller, exports.set_log_level_board_controller);
        // The boards only BrainFlow implements are described by BrainFlow: read once here,
        // so every descriptor query, ours or a C API caller's, answers what it answers.
        board_api::install_legacy_facts(|| read_legacy_facts(&exports))
            .map_err(|e| LoadError::Open { path: path.to_owned(), reason: format!("reading its board descriptors failed: {}", e.message) })?;
        tracing::info!(path = %path.display(), version = %version, "BrainFlow library loaded as a legacy backend");
        Ok(Arc::new(BrainFlowLibrary { exports, path: path.to_owned(), version, _library: library }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What `get_version_board_controller` answered, like `5.23.0`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// A board of `board` with `params`, not yet prepared.
    pub fn board(self: &Arc<Self>, board: BoardId, params: &InputParams) -> Result<BrainFlowBoard> {
        let json = CString::new(params.to_json())
            .map_err(|_| BoardError::invalid_arguments("input params contain a NUL byte"))?;
        // A playback file (and BrainFlow's streaming board) has its master board's rows, as
        // in every BrainFlow binding.
        let layout = if board.takes_master_layout() {
            BoardId::from_id(params.master_board).map_err(|_| {
                BoardError::invalid_arguments(format!("master_board {} is not a board whose layout a playback file can have", params.master_board))
            })?
        } else {
            board
        };
        Ok(BrainFlowBoard { library: Arc::clone(self), board, layout, params: json, prepared: false })
    }
}

fn read_version(exports: &Exports) -> std::result::Result<String, String> {
    let mut buf = vec![0u8; 256];
    let mut len: c_int = 0;
    // SAFETY: the buffer holds 256 bytes and BrainFlow writes at most max_len of them.
    let code = unsafe { (exports.get_version_board_controller)(buf.as_mut_ptr().cast(), &mut len, buf.len() as c_int) };
    if code != 0 {
        return Err(format!("get_version_board_controller returned {code}"));
    }
    buf.truncate((len.max(0) as usize).min(256));
    Ok(String::from_utf8_lossy(&buf).trim_end_matches('\0').trim().to_owned())
}

/// BrainFlow's presets and descriptors of every board only it implements.
fn read_legacy_facts(exports: &Exports) -> Result<Vec<LegacyFacts>> {
    LegacyBoardId::all().map(|board| read_board_facts(exports, board.board().id)).collect()
}

fn read_board_facts(exports: &Exports, id: c_int) -> Result<LegacyFacts> {
    let mut listed = [0 as c_int; 8];
    let mut len: c_int = 0;
    // SAFETY: BrainFlow writes one int per preset, at most 3 (it has three presets), into
    // an array of 8, and their number into `len`.
    let code = unsafe { (exports.get_board_presets)(id, listed.as_mut_ptr(), &mut len) };
    if code != 0 {
        return Err(BoardError::new(ExitCode::from_code(code), format!("get_board_presets({id}) returned {code}")));
    }
    let mut presets = listed[..(len.clamp(0, 8) as usize)].iter().map(|p| Preset::from_index(*p)).collect::<Result<Vec<_>>>()?;
    presets.sort_unstable();
    let mut per_preset = Vec::with_capacity(presets.len());
    for preset in &presets {
        const MAX_DESCR: usize = 16 * 1024;
        let mut text = vec![0u8; MAX_DESCR];
        let mut len: c_int = 0;
        // SAFETY: `text` holds MAX_DESCR bytes and BrainFlow writes at most max_len of them.
        let code = unsafe { (exports.get_board_descr)(id, preset.index() as c_int, text.as_mut_ptr().cast(), &mut len, MAX_DESCR as c_int) };
        if code != 0 {
            return Err(BoardError::new(ExitCode::from_code(code), format!("get_board_descr({id}, {}) returned {code}", preset.index())));
        }
        text.truncate((len.max(0) as usize).min(MAX_DESCR));
        let json = String::from_utf8(text).map_err(|_| BoardError::general(format!("get_board_descr({id}) is not UTF-8")))?;
        let json = json.trim_end_matches('\0').to_owned();
        let descriptor = board_api::BoardDescriptor::from_brainflow_json(&json)?;
        per_preset.push(LegacyPresetFacts { preset: *preset, json, descriptor });
    }
    Ok(LegacyFacts { presets, per_preset })
}

/// One BrainFlow session: `(board id, params)` is its identity in BrainFlow, as in every
/// BrainFlow binding.
pub struct BrainFlowBoard {
    library: Arc<BrainFlowLibrary>,
    board: BoardId,
    /// Whose rows the data has: the board's own, or a playback file's master board's.
    layout: BoardId,
    params: CString,
    prepared: bool,
}

impl std::fmt::Debug for BrainFlowBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrainFlowBoard").field("board", &self.board).field("prepared", &self.prepared).finish()
    }
}

/// BrainFlow's answer as ours: 0 is success, anything else its exit code.
fn check(code: c_int, call: &'static str, board: BoardId) -> Result<()> {
    if code == 0 {
        return Ok(());
    }
    let exit = ExitCode::from_code(code);
    tracing::debug!(board = board.kind(), call, code, "BrainFlow returned an error");
    Err(BoardError::new(exit, format!("BrainFlow's {call} for board {board} returned {code} ({exit})")))
}

fn c_len(n: usize, what: &str) -> Result<c_int> {
    c_int::try_from(n).map_err(|_| BoardError::invalid_arguments(format!("{what} {n} is larger than BrainFlow's API takes")))
}

impl BrainFlowBoard {
    fn id(&self) -> c_int {
        self.board.id()
    }

    fn rows(&self, preset: Preset) -> Result<usize> {
        Ok(self.descriptor(preset)?.num_rows)
    }
}

impl Board for BrainFlowBoard {
    fn board_id(&self) -> BoardId {
        self.board
    }

    fn descriptor(&self, preset: Preset) -> Result<&'static board_api::BoardDescriptor> {
        board_api::descriptor(self.layout, preset)
    }

    fn prepare_session(&mut self) -> Result<()> {
        // SAFETY: `params` is a NUL-terminated string that outlives the call.
        check(unsafe { (self.library.exports.prepare_session)(self.id(), self.params.as_ptr()) }, "prepare_session", self.board)?;
        self.prepared = true;
        Ok(())
    }

    fn is_prepared(&self) -> bool {
        let mut prepared: c_int = 0;
        // SAFETY: `prepared` is a valid int to write; `params` outlives the call.
        let code = unsafe { (self.library.exports.is_prepared)(&mut prepared, self.id(), self.params.as_ptr()) };
        code == 0 && prepared != 0
    }

    fn start_stream(&mut self, buffer_size: usize) -> Result<()> {
        let size = c_len(buffer_size, "buffer size")?;
        // SAFETY: both strings are NUL-terminated and outlive the call; "" = no streamer.
        let code = unsafe { (self.library.exports.start_stream)(size, c"".as_ptr(), self.id(), self.params.as_ptr()) };
        check(code, "start_stream", self.board)
    }

    fn stop_stream(&mut self) -> Result<()> {
        // SAFETY: `params` outlives the call.
        check(unsafe { (self.library.exports.stop_stream)(self.id(), self.params.as_ptr()) }, "stop_stream", self.board)
    }

    fn release_session(&mut self) -> Result<()> {
        // SAFETY: `params` outlives the call.
        let code = unsafe { (self.library.exports.release_session)(self.id(), self.params.as_ptr()) };
        self.prepared = false;
        check(code, "release_session", self.board)
    }

    fn board_data_count(&mut self, preset: Preset) -> Result<usize> {
        let mut count: c_int = 0;
        // SAFETY: `count` is a valid int to write; `params` outlives the call.
        let code = unsafe { (self.library.exports.get_board_data_count)(preset.index() as c_int, &mut count, self.id(), self.params.as_ptr()) };
        check(code, "get_board_data_count", self.board)?;
        Ok(count.max(0) as usize)
    }

    fn get_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        // BrainFlow's get_board_data does not say how many it wrote: ask for no more than
        // are buffered (the stream only adds, so all of them are there), as its bindings do.
        let count = self.board_data_count(preset)?.min(max_samples);
        let rows = self.rows(preset)?;
        let data = out.reset(rows, count);
        if count == 0 {
            return Ok(());
        }
        let n = c_len(count, "sample count")?;
        // SAFETY: `data` holds rows × count doubles, exactly what BrainFlow writes for
        // `count` samples of this preset; `params` outlives the call.
        let code = unsafe { (self.library.exports.get_board_data)(n, preset.index() as c_int, data.as_mut_ptr(), self.id(), self.params.as_ptr()) };
        check(code, "get_board_data", self.board)
    }

    fn get_current_board_data(&mut self, max_samples: usize, preset: Preset, out: &mut SampleMatrix) -> Result<()> {
        let rows = self.rows(preset)?;
        let n = c_len(max_samples, "sample count")?;
        let data = out.reset(rows, max_samples);
        let mut returned: c_int = 0;
        // SAFETY: `data` holds rows × max_samples doubles, the most BrainFlow writes;
        // `returned` is a valid int to write; `params` outlives the call.
        let code = unsafe {
            (self.library.exports.get_current_board_data)(n, preset.index() as c_int, data.as_mut_ptr(), &mut returned, self.id(), self.params.as_ptr())
        };
        check(code, "get_current_board_data", self.board)?;
        // BrainFlow lays the samples it returned out row-major with that count as stride.
        out.truncate_row_major((returned.max(0) as usize).min(max_samples));
        Ok(())
    }

    fn config_board(&mut self, config: &str) -> Result<String> {
        const MAX_RESPONSE: usize = 16 * 1024;
        let config = CString::new(config).map_err(|_| BoardError::invalid_arguments("config contains a NUL byte"))?;
        let mut response = vec![0u8; MAX_RESPONSE];
        let mut len: c_int = 0;
        // SAFETY: `response` holds MAX_RESPONSE bytes and BrainFlow writes at most that;
        // the strings outlive the call.
        let code = unsafe {
            (self.library.exports.config_board)(
                config.as_ptr(),
                response.as_mut_ptr().cast(),
                &mut len,
                MAX_RESPONSE as c_int,
                self.id(),
                self.params.as_ptr(),
            )
        };
        check(code, "config_board", self.board)?;
        response.truncate((len.max(0) as usize).min(MAX_RESPONSE));
        Ok(String::from_utf8_lossy(&response).into_owned())
    }

    fn insert_marker(&mut self, value: f64, preset: Preset) -> Result<()> {
        // SAFETY: `params` outlives the call.
        let code = unsafe { (self.library.exports.insert_marker)(value, preset.index() as c_int, self.id(), self.params.as_ptr()) };
        check(code, "insert_marker", self.board)
    }
}

impl Drop for BrainFlowBoard {
    fn drop(&mut self) {
        // A BrainFlow session outlives its handle unless released: release it, as
        // BrainFlow's own bindings do in their destructors. Only one this handle prepared:
        // BrainFlow knows sessions by (board, params), so another handle's is not ours.
        if self.prepared {
            let _ = self.release_session();
        }
    }
}

/// The path of BrainFlow's library from the environment, if set.
pub fn library_from_env() -> Option<PathBuf> {
    std::env::var_os(LIBRARY_ENV).filter(|v| !v.is_empty()).map(PathBuf::from)
}
