//! The C API as a C caller sees it: random sequences of exports with random board ids,
//! presets, params JSON (valid, invalid, not UTF-8), null pointers, short `max_len`s and
//! sample counts. Every call returns a BrainFlow exit code; none crashes, and none writes
//! past the buffer its contract gives it (each buffer is followed by canaries).
//!
//! Only boards that need no device are prepared (synthetic, playback, unknown ids), so a
//! run never waits on a serial port or a BLE scan; descriptor calls take every id.

use crate::input::Input;
use std::ffi::{c_char, c_int, CString};
use std::ptr;
use BoardController as c;

const CANARY: usize = 8;
const CANARY_F64: f64 = -7.25e300;
const CANARY_I32: c_int = 0x5a5a_5a5a;
const CANARY_U8: u8 = 0xa5;

/// Board ids a session may be prepared for.
const SESSION_IDS: [c_int; 4] = [-1, -3, 9999, -100];
/// Ids for descriptor calls: every kind, and unknown ones.
const DESCRIPTOR_IDS: [c_int; 10] = [-1, -3, 0, 1, 2, 22, 38, 39, 9999, -100];
const PARAMS: [&str; 6] = [
    "{}",
    "{\"other_info\": \"seed=1\"}",
    "{\"file\": \"/nonexistent/playback.csv\", \"master_board\": 0}",
    "",
    "{\"serial_port\": 7",
    "{\"other_info\": \"seed=2\", \"master_board\": \"x\"}",
];

fn c_text(input: &mut Input<'_>, table: &[&str]) -> CString {
    let choice = usize::from(input.byte());
    if choice < table.len() {
        return CString::new(table[choice]).expect("table entries have no NUL");
    }
    // Anything else: raw bytes (NULs dropped: a C string ends at the first one).
    let len = usize::from(input.byte() % 48);
    let raw: Vec<u8> = input.take(len).iter().copied().filter(|b| *b != 0).collect();
    CString::new(raw).expect("NULs were removed")
}

/// A pointer to `text`, or null one time in eight.
fn maybe_null(input: &mut Input<'_>, text: &CString) -> *const c_char {
    if input.byte() % 8 == 0 { ptr::null() } else { text.as_ptr() }
}

fn pick(input: &mut Input<'_>, ids: &[c_int]) -> c_int {
    let b = input.byte();
    if b == 255 { input.i32() } else { ids[usize::from(b) % ids.len()] }
}

fn preset(input: &mut Input<'_>) -> c_int {
    match input.byte() % 8 {
        k @ 0..=2 => c_int::from(k),
        3 => -1,
        _ => 0,
    }
}

/// A buffer of `len` elements followed by canaries that must survive the call.
struct Guarded<T: Copy + PartialEq + std::fmt::Debug> {
    data: Vec<T>,
    len: usize,
    canary: T,
}

impl<T: Copy + PartialEq + std::fmt::Debug> Guarded<T> {
    fn new(len: usize, canary: T) -> Self {
        Guarded { data: vec![canary; len + CANARY], len, canary }
    }
    fn ptr(&mut self) -> *mut T {
        self.data.as_mut_ptr()
    }
    fn check(&self, call: &str) {
        assert!(self.data[self.len..].iter().all(|v| *v == self.canary), "{call} wrote past the {} elements it was given", self.len);
    }
}

/// Rows of (board, preset) as the C API reports them, 0 when it reports an error.
fn rows(board: c_int, preset: c_int) -> usize {
    let mut rows = 0;
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    if unsafe { c::get_num_rows(board, preset, &mut rows) } != 0 {
        return 0;
    }
    usize::try_from(rows).expect("get_num_rows is never negative")
}

pub fn sequence(data: &[u8]) {
    let mut input = Input::new(data);
    let mut calls = 0;
    while !input.is_empty() && calls < 64 {
        calls += 1;
        let op = input.byte() % 16;
        let board = pick(&mut input, &SESSION_IDS);
        let params = c_text(&mut input, &PARAMS);
        let params_ptr = maybe_null(&mut input, &params);
        match op {
            0 | 1 => {
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::prepare_session(board, params_ptr) };
            }
            2 => {
                let buffer_size = match input.byte() % 4 {
                    0 => 0,
                    1 => -5,
                    2 => 45000,
                    _ => input.i32(),
                };
                let streamer = c_text(&mut input, &["", "nonsense://x", "file://:w"]);
                let streamer_ptr = maybe_null(&mut input, &streamer);
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::start_stream(buffer_size, streamer_ptr, board, params_ptr) };
            }
            3 => {
                let mut count: c_int = -1;
                let out = if input.byte() % 8 == 0 { ptr::null_mut() } else { &mut count as *mut c_int };
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let code = unsafe { c::get_board_data_count(preset(&mut input), out, board, params_ptr) };
                assert!(code != 0 || count >= 0, "get_board_data_count succeeded with {count}");
            }
            4 | 5 => {
                let preset = preset(&mut input);
                let count = c_int::from(input.byte() % 40) - 2;
                let n = rows(board, preset) * usize::try_from(count.max(0)).unwrap_or(0);
                let mut buf = Guarded::new(n, CANARY_F64);
                let buf_ptr = if input.byte() % 8 == 0 { ptr::null_mut() } else { buf.ptr() };
                if op == 4 {
                    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                    let _ = unsafe { c::get_board_data(count, preset, buf_ptr, board, params_ptr) };
                    buf.check("get_board_data");
                } else {
                    let mut returned: c_int = 0;
                    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                    let _ = unsafe { c::get_current_board_data(count, preset, buf_ptr, &mut returned, board, params_ptr) };
                    assert!(returned <= count.max(0), "get_current_board_data returned {returned} of {count}");
                    buf.check("get_current_board_data");
                }
            }
            6 => {
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::insert_marker(f64::from(input.i32()), preset(&mut input), board, params_ptr) };
            }
            7 => {
                let config = c_text(&mut input, &["x1060110X", "v", "~4", "b"]);
                let config_ptr = maybe_null(&mut input, &config);
                let max_len = usize::from(input.byte() % 64);
                let mut response = Guarded::new(max_len, CANARY_U8);
                let mut len: c_int = 0;
                let max = c_int::try_from(max_len).expect("below 64");
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::config_board(config_ptr, response.ptr().cast(), &mut len, max, board, params_ptr) };
                response.check("config_board");
            }
            8 => {
                let len = usize::from(input.byte() % 16);
                let bytes = input.take(len).to_vec();
                let len = c_int::try_from(bytes.len()).expect("below 16");
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::config_board_with_bytes(bytes.as_ptr().cast(), len, board, params_ptr) };
            }
            9 => {
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::stop_stream(board, params_ptr) };
            }
            10 => {
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::release_session(board, params_ptr) };
            }
            11 => {
                let mut prepared: c_int = -1;
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::is_prepared(&mut prepared, board, params_ptr) };
            }
            12 | 13 => {
                let board = pick(&mut input, &DESCRIPTOR_IDS);
                let preset = preset(&mut input);
                let max_len = usize::from(input.byte());
                let mut text = Guarded::new(max_len, CANARY_U8);
                let mut len: c_int = 0;
                let max = c_int::try_from(max_len).expect("a byte");
                let which = input.byte() % 4;
                let code = match which {
                    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                    0 => unsafe { c::get_board_descr(board, preset, text.ptr().cast(), &mut len, max) },
                    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                    1 => unsafe { c::get_device_name(board, preset, text.ptr().cast(), &mut len, max) },
                    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                    2 => unsafe { c::get_eeg_names(board, preset, text.ptr().cast(), &mut len, max) },
                    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                    _ => unsafe { c::get_version_board_controller(text.ptr().cast(), &mut len, max) },
                };
                text.check("a text getter");
                assert!(code != 0 || (0..=max).contains(&len), "a text getter reported {len} bytes of {max}");
            }
            14 => {
                // Channel lists: BrainFlow's callers pass MAX_CHANNELS (512) ints.
                let board = pick(&mut input, &DESCRIPTOR_IDS);
                let preset = preset(&mut input);
                let mut channels = Guarded::new(512, CANARY_I32);
                let mut len: c_int = 0;
                let len_ptr = if input.byte() % 8 == 0 { ptr::null_mut() } else { &mut len as *mut c_int };
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::get_eeg_channels(board, preset, channels.ptr(), len_ptr) };
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::get_accel_channels(board, preset, channels.ptr(), len_ptr) };
                let mut presets = Guarded::new(512, CANARY_I32);
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                let _ = unsafe { c::get_board_presets(board, presets.ptr(), len_ptr) };
                channels.check("a channel getter");
                presets.check("get_board_presets");
            }
            _ => {
                // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
                assert_eq!(unsafe { c::release_all_sessions() }, 0, "release_all_sessions fails");
            }
        }
    }
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { c::release_all_sessions() }, 0, "release_all_sessions fails");
}
