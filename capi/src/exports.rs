//! The exported C functions, with BrainFlow's names, signatures and exit codes.

use crate::streamer::Streamer;
use crate::{logging, monitor, table};
use board_api::{descriptor, BoardError, BoardId, BoardDescriptor, ChannelKind, ExitCode, InputParams, LegacyPresetFacts, Preset, Result, SampleMatrix};
use board_api::Board as _;
use std::ffi::{c_char, c_double, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// Runs an export body: logs the call, maps its error to BrainFlow's exit code, and turns
/// a panic into GENERAL_ERROR so that it never unwinds into C.
fn guard(name: &'static str, body: impl FnOnce() -> Result<()>) -> c_int {
    tracing::debug!(function = name, "board controller call");
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => ExitCode::StatusOk.code(),
        Ok(Err(e)) => {
            tracing::debug!(function = name, code = e.code.code(), error = %e.message, "board controller call failed");
            e.code.code()
        }
        Err(_) => {
            tracing::error!(function = name, "panic inside the board controller; returned GENERAL_ERROR");
            ExitCode::GeneralError.code()
        }
    }
}

/// Counts a data read in the metrics (see `monitor::record_read`) and the samples the
/// session's buffer dropped since the last read.
fn record_read(entry: &mut table::Entry, operation: &'static str, started: Instant, outcome: std::result::Result<u64, &BoardError>) {
    let elapsed = started.elapsed();
    let board = entry.session.board_id();
    monitor::record_read(board, entry.session.path(), operation, elapsed, outcome.map_err(|_| ()));
    let dropped = entry.session.dropped_samples();
    if dropped > entry.dropped_reported {
        monitor::record_dropped(board, dropped - entry.dropped_reported);
        entry.dropped_reported = dropped;
    }
}

fn null(what: &str) -> BoardError {
    BoardError::invalid_arguments(format!("{what} is a null pointer"))
}

/// A C string argument as UTF-8 text.
fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-null, and the C contract of every export is a NUL-terminated string
    // that lives for the duration of the call.
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str().map_err(|e| BoardError::invalid_arguments(format!("{what} is not valid UTF-8: {e}")))
}

fn params(ptr: *const c_char) -> Result<InputParams> {
    InputParams::from_json(text(ptr, "params")?)
}

fn length(value: c_int, what: &str) -> Result<usize> {
    usize::try_from(value).map_err(|_| BoardError::invalid_arguments(format!("{what} is negative ({value})")))
}

fn preset_of(value: c_int) -> Result<Preset> {
    Preset::from_index(value)
}

/// A caller-owned output array of `len` elements.
fn out_slice<'a, T>(ptr: *mut T, len: usize, what: &str) -> Result<&'a mut [T]> {
    if ptr.is_null() {
        return Err(null(what));
    }
    if len == 0 {
        return Ok(&mut []);
    }
    // SAFETY: non-null; the caller promises (BrainFlow's contract) that it points to at
    // least `len` writable elements that nothing else accesses during the call.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

fn write_int(ptr: *mut c_int, value: usize, what: &str) -> Result<()> {
    let v = c_int::try_from(value).map_err(|_| BoardError::general(format!("{what} {value} does not fit in an int")))?;
    out_slice(ptr, 1, what)?[0] = v;
    Ok(())
}

/// Copies `s` into a caller buffer of `max_len` bytes, writing its length to `len`; a
/// buffer too small for `s` is INVALID_ARGUMENTS_ERROR (nothing is written).
fn write_text(s: &str, out: *mut c_char, len: *mut c_int, max_len: c_int) -> Result<()> {
    let max = length(max_len, "max_len")?;
    if s.len() > max {
        return Err(BoardError::invalid_arguments(format!(
            "output buffer of {max} bytes is too small for {} bytes",
            s.len()
        )));
    }
    let buf = out_slice(out.cast::<u8>(), max, "output string")?;
    buf[..s.len()].copy_from_slice(s.as_bytes());
    if s.len() < max {
        buf[s.len()] = 0;
    }
    write_int(len, s.len(), "len")
}

/// BrainFlow's name for the playback board, the only thing its descriptor holds: its rows
/// are those of its master board.
const PLAYBACK_NAME: &str = "PlayBack";

fn descr(board_id: c_int, preset: c_int) -> Result<&'static BoardDescriptor> {
    let board = BoardId::from_id(board_id)?;
    let preset = preset_of(preset)?;
    if board == BoardId::PlaybackFile {
        return Err(BoardError::new(
            ExitCode::UnsupportedBoardError,
            "the playback board's rows are its master board's: ask the master board's descriptor",
        ));
    }
    if let BoardId::Legacy(legacy) = board {
        table::legacy_facts(legacy)?;
    }
    descriptor(board, preset)
}

/// What BrainFlow's library answered for a preset of a board only it implements; `None`
/// for every other board.
fn legacy_preset(board_id: c_int, preset: c_int) -> Result<Option<&'static LegacyPresetFacts>> {
    let BoardId::Legacy(legacy) = BoardId::from_id(board_id)? else { return Ok(None) };
    let preset = preset_of(preset)?;
    let facts = table::legacy_facts(legacy)?;
    facts.preset(preset).map(Some).ok_or_else(|| {
        BoardError::new(ExitCode::UnsupportedBoardError, format!("board {} has no preset {preset:?}", BoardId::Legacy(legacy)))
    })
}

/// The presets as BrainFlow lists them (highest first); the playback board has all three.
fn presets_of(board: BoardId) -> Result<Vec<Preset>> {
    let mut list = match board {
        BoardId::PlaybackFile => vec![Preset::Default, Preset::Auxiliary, Preset::Ancillary],
        BoardId::Legacy(legacy) => table::legacy_facts(legacy)?.presets.clone(),
        other => other.presets().to_vec(),
    };
    list.sort_unstable_by(|a, b| b.cmp(a));
    Ok(list)
}

fn is_playback(board_id: c_int, preset: c_int) -> Result<bool> {
    let board = BoardId::from_id(board_id)?;
    preset_of(preset)?;
    Ok(board == BoardId::PlaybackFile)
}

/// Copies `data` (row-major, `rows × samples`) into the caller's buffer of
/// `rows × capacity` doubles, with stride `samples` as BrainFlow's bindings read it.
fn copy_out(data: &SampleMatrix, buf: *mut c_double, capacity: usize) -> Result<()> {
    let values = data.as_slice();
    let rows = data.rows();
    let room = rows
        .checked_mul(capacity)
        .ok_or_else(|| BoardError::invalid_arguments("requested sample count overflows the buffer size"))?;
    let out = out_slice(buf, room, "data buffer")?;
    out[..values.len()].copy_from_slice(values);
    Ok(())
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn prepare_session(board_id: c_int, json_brainflow_input_params: *const c_char) -> c_int {
    guard("prepare_session", || table::prepare(board_id, params(json_brainflow_input_params)?))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn is_prepared(prepared: *mut c_int, board_id: c_int, json_brainflow_input_params: *const c_char) -> c_int {
    guard("is_prepared", || {
        let p = params(json_brainflow_input_params)?;
        write_int(prepared, table::is_prepared(board_id, p) as usize, "prepared")
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn start_stream(
    buffer_size: c_int,
    streamer_params: *const c_char,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guard("start_stream", || {
        let p = params(json_brainflow_input_params)?;
        if buffer_size <= 0 {
            return Err(BoardError::new(
                ExitCode::InvalidBufferSizeError,
                format!("buffer_size {buffer_size} must be positive"),
            ));
        }
        let spec = if streamer_params.is_null() { "" } else { text(streamer_params, "streamer_params")? };
        table::with_session(board_id, p, |entry| {
            let streamer = if spec.is_empty() { None } else { Some(Streamer::open(spec, Preset::Default)?) };
            entry.session.start_stream(buffer_size as usize)?;
            entry.flushed_at_stop = false;
            entry.streamers.extend(streamer);
            Ok(())
        })
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn stop_stream(board_id: c_int, json_brainflow_input_params: *const c_char) -> c_int {
    guard("stop_stream", || {
        let p = params(json_brainflow_input_params)?;
        table::with_session(board_id, p, |entry| {
            entry.session.stop_stream()?;
            // Streamers receive samples when they leave the buffer; at stop, what is still
            // buffered is written too, so a file holds the whole stream.
            flush_buffered(entry)?;
            entry.flushed_at_stop = true;
            Ok(())
        })
    })
}

fn flush_buffered(entry: &mut table::Entry) -> Result<()> {
    if entry.streamers.is_empty() || entry.flushed_at_stop {
        return Ok(());
    }
    let presets: Vec<Preset> = entry.streamers.iter().map(|s| s.preset).collect();
    for preset in presets {
        let count = entry.session.board_data_count(preset)?;
        let mut data = SampleMatrix::new(entry.session.descriptor(preset)?.num_rows);
        entry.session.get_current_board_data(count, preset, &mut data)?;
        for s in entry.streamers.iter_mut().filter(|s| s.preset == preset) {
            s.write(&data)?;
        }
    }
    Ok(())
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn release_session(board_id: c_int, json_brainflow_input_params: *const c_char) -> c_int {
    guard("release_session", || table::release(board_id, params(json_brainflow_input_params)?))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn release_all_sessions() -> c_int {
    guard("release_all_sessions", || {
        table::release_all();
        Ok(())
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_current_board_data(
    num_samples: c_int,
    preset: c_int,
    data_buf: *mut c_double,
    returned_samples: *mut c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guard("get_current_board_data", || {
        let p = params(json_brainflow_input_params)?;
        let count = length(num_samples, "num_samples")?;
        let preset = preset_of(preset)?;
        if data_buf.is_null() {
            return Err(null("data_buf"));
        }
        if returned_samples.is_null() {
            return Err(null("returned_samples"));
        }
        table::with_session(board_id, p, |entry| {
            let mut data = SampleMatrix::new(entry.session.descriptor(preset)?.num_rows);
            let started = Instant::now();
            let read = entry.session.get_current_board_data(count, preset, &mut data);
            // A peek hands no samples over: they stay buffered for get_board_data.
            record_read(entry, "get_current_board_data", started, read.as_ref().map(|_| 0));
            read?;
            copy_out(&data, data_buf, count)?;
            write_int(returned_samples, data.samples(), "returned_samples")
        })
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_board_data_count(
    preset: c_int,
    result: *mut c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guard("get_board_data_count", || {
        let p = params(json_brainflow_input_params)?;
        let preset = preset_of(preset)?;
        if result.is_null() {
            return Err(null("result"));
        }
        table::with_session(board_id, p, |entry| write_int(result, entry.session.board_data_count(preset)?, "result"))
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_board_data(
    data_count: c_int,
    preset: c_int,
    data_buf: *mut c_double,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guard("get_board_data", || {
        let p = params(json_brainflow_input_params)?;
        let count = length(data_count, "data_count")?;
        let preset = preset_of(preset)?;
        if data_buf.is_null() {
            return Err(null("data_buf"));
        }
        table::with_session(board_id, p, |entry| {
            let mut data = SampleMatrix::new(entry.session.descriptor(preset)?.num_rows);
            let started = Instant::now();
            let read = entry.session.get_board_data(count, preset, &mut data);
            record_read(entry, "get_board_data", started, read.as_ref().map(|_| data.samples() as u64));
            read?;
            if !entry.flushed_at_stop {
                for s in entry.streamers.iter_mut().filter(|s| s.preset == preset) {
                    s.write(&data)?;
                }
            }
            copy_out(&data, data_buf, count)
        })
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_board_sampling_rate(
    preset: c_int,
    sampling_rate: *mut c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guard("get_board_sampling_rate", || {
        let p = params(json_brainflow_input_params)?;
        let preset = preset_of(preset)?;
        if sampling_rate.is_null() {
            return Err(null("sampling_rate"));
        }
        table::with_session(board_id, p, |entry| {
            write_int(sampling_rate, entry.session.descriptor(preset)?.sampling_rate as usize, "sampling_rate")
        })
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn insert_marker(value: c_double, preset: c_int, board_id: c_int, json_brainflow_input_params: *const c_char) -> c_int {
    guard("insert_marker", || {
        let p = params(json_brainflow_input_params)?;
        let preset = preset_of(preset)?;
        table::with_session(board_id, p, |entry| entry.session.insert_marker(value, preset))
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn config_board(
    config: *const c_char,
    response: *mut c_char,
    response_len: *mut c_int,
    response_max_len: c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guard("config_board", || {
        let p = params(json_brainflow_input_params)?;
        let config = text(config, "config")?;
        let max = length(response_max_len, "response_max_len")?;
        if response.is_null() {
            return Err(null("response"));
        }
        if response_len.is_null() {
            return Err(null("response_len"));
        }
        table::with_session(board_id, p, |entry| {
            let reply = entry.session.config_board(config)?;
            // A reply longer than the caller's buffer is cut at its length, as BrainFlow does.
            let n = reply.len().min(max);
            let buf = out_slice(response.cast::<u8>(), max, "response")?;
            buf[..n].copy_from_slice(&reply.as_bytes()[..n]);
            if n < max {
                buf[n] = 0;
            }
            write_int(response_len, n, "response_len")
        })
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn config_board_with_bytes(
    bytes: *const c_char,
    len: c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guard("config_board_with_bytes", || {
        let p = params(json_brainflow_input_params)?;
        let n = length(len, "len")?;
        if bytes.is_null() {
            return Err(null("bytes"));
        }
        // SAFETY: non-null; the caller promises `len` readable bytes for the call.
        let raw = unsafe { std::slice::from_raw_parts(bytes.cast::<u8>(), n) };
        let config = std::str::from_utf8(raw).map_err(|e| {
            BoardError::invalid_arguments(format!("config bytes must be UTF-8 for the boards switchyard runs: {e}"))
        })?;
        table::with_session(board_id, p, |entry| entry.session.config_board(config).map(|_| ()))
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn add_streamer(
    streamer: *const c_char,
    preset: c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guard("add_streamer", || {
        let p = params(json_brainflow_input_params)?;
        let spec = text(streamer, "streamer")?;
        let preset = preset_of(preset)?;
        table::with_session(board_id, p, |entry| {
            entry.session.descriptor(preset)?;
            entry.streamers.push(Streamer::open(spec, preset)?);
            Ok(())
        })
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn delete_streamer(
    streamer: *const c_char,
    preset: c_int,
    board_id: c_int,
    json_brainflow_input_params: *const c_char,
) -> c_int {
    guard("delete_streamer", || {
        let p = params(json_brainflow_input_params)?;
        let spec = text(streamer, "streamer")?;
        let preset = preset_of(preset)?;
        table::with_session(board_id, p, |entry| {
            let before = entry.streamers.len();
            entry.streamers.retain(|s| !(s.spec == spec && s.preset == preset));
            if entry.streamers.len() == before {
                return Err(BoardError::invalid_arguments(format!("no streamer {spec:?} on preset {preset:?}")));
            }
            Ok(())
        })
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn set_log_level_board_controller(log_level: c_int) -> c_int {
    guard("set_log_level_board_controller", || logging::set_level(log_level))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn set_log_file_board_controller(log_file: *const c_char) -> c_int {
    guard("set_log_file_board_controller", || logging::set_file(text(log_file, "log_file")?))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn log_message_board_controller(log_level: c_int, message: *const c_char) -> c_int {
    guard("log_message_board_controller", || logging::message(log_level, text(message, "message")?))
}

/// The version of this library (switchyard's), as text.
/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_version_board_controller(version: *mut c_char, len: *mut c_int, max_len: c_int) -> c_int {
    guard("get_version_board_controller", || write_text(env!("CARGO_PKG_VERSION"), version, len, max_len))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_board_descr(board_id: c_int, preset: c_int, board_descr: *mut c_char, len: *mut c_int, max_len: c_int) -> c_int {
    guard("get_board_descr", || {
        if let Some(facts) = legacy_preset(board_id, preset)? {
            // BrainFlow's own text: what its library answers, key order included.
            return write_text(&facts.json, board_descr, len, max_len);
        }
        if is_playback(board_id, preset)? {
            let json = serde_json::json!({ "name": PLAYBACK_NAME }).to_string();
            return write_text(&json, board_descr, len, max_len);
        }
        let d = descr(board_id, preset)?;
        write_text(&d.to_json_value().to_string(), board_descr, len, max_len)
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_device_name(board_id: c_int, preset: c_int, name: *mut c_char, len: *mut c_int, max_len: c_int) -> c_int {
    guard("get_device_name", || {
        if let Some(facts) = legacy_preset(board_id, preset)? {
            // Also for a board whose rows are its master's (the streaming board).
            let json: serde_json::Value = serde_json::from_str(&facts.json).map_err(|e| BoardError::general(e.to_string()))?;
            let device = json.get("name").and_then(|n| n.as_str()).ok_or_else(|| {
                BoardError::new(ExitCode::UnsupportedBoardError, format!("board {board_id} has no name"))
            })?;
            return write_text(device, name, len, max_len);
        }
        let device = if is_playback(board_id, preset)? { PLAYBACK_NAME } else { descr(board_id, preset)?.name };
        write_text(device, name, len, max_len)
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_eeg_names(board_id: c_int, preset: c_int, eeg_names: *mut c_char, len: *mut c_int, max_len: c_int) -> c_int {
    guard("get_eeg_names", || {
        let names = descr(board_id, preset)?.eeg_names.ok_or_else(|| {
            BoardError::new(ExitCode::UnsupportedBoardError, format!("board {board_id} has no eeg_names"))
        })?;
        write_text(names, eeg_names, len, max_len)
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_board_presets(board_id: c_int, presets: *mut c_int, len: *mut c_int) -> c_int {
    guard("get_board_presets", || {
        let list = presets_of(BoardId::from_id(board_id)?)?;
        if len.is_null() {
            return Err(null("len"));
        }
        let out = out_slice(presets, list.len(), "presets")?;
        for (o, p) in out.iter_mut().zip(&list) {
            *o = p.index() as c_int;
        }
        write_int(len, list.len(), "len")
    })
}

fn scalar(name: &'static str, board_id: c_int, preset: c_int, out: *mut c_int, pick: fn(&BoardDescriptor) -> Option<usize>) -> c_int {
    guard(name, || {
        let d = descr(board_id, preset)?;
        let v = pick(d).ok_or_else(|| {
            BoardError::new(ExitCode::UnsupportedBoardError, format!("board {board_id} preset {preset}: {name} has no such channel"))
        })?;
        write_int(out, v, name)
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_sampling_rate(board_id: c_int, preset: c_int, sampling_rate: *mut c_int) -> c_int {
    scalar("get_sampling_rate", board_id, preset, sampling_rate, |d| Some(d.sampling_rate as usize))
}
/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_package_num_channel(board_id: c_int, preset: c_int, package_num_channel: *mut c_int) -> c_int {
    scalar("get_package_num_channel", board_id, preset, package_num_channel, |d| Some(d.package_num_channel))
}
/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_timestamp_channel(board_id: c_int, preset: c_int, timestamp_channel: *mut c_int) -> c_int {
    scalar("get_timestamp_channel", board_id, preset, timestamp_channel, |d| Some(d.timestamp_channel))
}
/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_marker_channel(board_id: c_int, preset: c_int, marker_channel: *mut c_int) -> c_int {
    scalar("get_marker_channel", board_id, preset, marker_channel, |d| Some(d.marker_channel))
}
/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_battery_channel(board_id: c_int, preset: c_int, battery_channel: *mut c_int) -> c_int {
    scalar("get_battery_channel", board_id, preset, battery_channel, |d| d.battery_channel)
}
/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_num_rows(board_id: c_int, preset: c_int, num_rows: *mut c_int) -> c_int {
    scalar("get_num_rows", board_id, preset, num_rows, |d| Some(d.num_rows))
}

/// Writes a channel list. BrainFlow's getters take no capacity: the caller's array must
/// hold the board's `num_rows` ints (BrainFlow's bindings pass 512).
fn channels(name: &'static str, board_id: c_int, preset: c_int, out: *mut c_int, len: *mut c_int, kind: Option<ChannelKind>) -> c_int {
    guard(name, || {
        let d = descr(board_id, preset)?;
        let rows: Vec<usize> = match kind {
            None => d.exg_channels(),
            Some(k) => d.channels(k).map(<[usize]>::to_vec).unwrap_or_default(),
        };
        if rows.is_empty() {
            return Err(BoardError::new(
                ExitCode::UnsupportedBoardError,
                format!("board {board_id} preset {preset} has no channels for {name}"),
            ));
        }
        if len.is_null() {
            return Err(null("len"));
        }
        let buf = out_slice(out, rows.len(), "channels")?;
        for (o, r) in buf.iter_mut().zip(&rows) {
            *o = *r as c_int;
        }
        write_int(len, rows.len(), "len")
    })
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_exg_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_exg_channels", board_id, preset, channels_out, len, None)
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_eeg_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_eeg_channels", board_id, preset, channels_out, len, Some(ChannelKind::Eeg))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_emg_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_emg_channels", board_id, preset, channels_out, len, Some(ChannelKind::Emg))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_ecg_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_ecg_channels", board_id, preset, channels_out, len, Some(ChannelKind::Ecg))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_eog_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_eog_channels", board_id, preset, channels_out, len, Some(ChannelKind::Eog))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_ppg_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_ppg_channels", board_id, preset, channels_out, len, Some(ChannelKind::Ppg))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_optical_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_optical_channels", board_id, preset, channels_out, len, Some(ChannelKind::Optical))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_eda_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_eda_channels", board_id, preset, channels_out, len, Some(ChannelKind::Eda))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_accel_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_accel_channels", board_id, preset, channels_out, len, Some(ChannelKind::Accel))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_rotation_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_rotation_channels", board_id, preset, channels_out, len, Some(ChannelKind::Rotation))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_analog_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_analog_channels", board_id, preset, channels_out, len, Some(ChannelKind::Analog))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_gyro_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_gyro_channels", board_id, preset, channels_out, len, Some(ChannelKind::Gyro))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_other_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_other_channels", board_id, preset, channels_out, len, Some(ChannelKind::Other))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_temperature_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_temperature_channels", board_id, preset, channels_out, len, Some(ChannelKind::Temperature))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_resistance_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_resistance_channels", board_id, preset, channels_out, len, Some(ChannelKind::Resistance))
}

/// # Safety
///
/// BrainFlow's C API contract: every pointer argument is null (answered with
/// INVALID_ARGUMENTS_ERROR) or valid for the call: strings NUL-terminated, output values
/// writable, output buffers writable for the length BrainFlow documents for the function
/// (`docs/c-api.md`; for data, `num_rows * count` doubles), and nothing else accessing
/// them during the call.
#[no_mangle]
pub unsafe extern "C" fn get_magnetometer_channels(board_id: c_int, preset: c_int, channels_out: *mut c_int, len: *mut c_int) -> c_int {
    channels("get_magnetometer_channels", board_id, preset, channels_out, len, Some(ChannelKind::Magnetometer))
}
