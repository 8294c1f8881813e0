//! The properties each fuzz target checks, as plain functions of the fuzzer's bytes: a
//! violated property panics. `fuzz/` (cargo-fuzz, libFuzzer) calls them with generated
//! inputs; `tests/corpus.rs` replays the committed seed corpus and every crash input kept
//! under `fuzz/regressions/` through the same functions in `cargo test`.
//!
//! Owns: how a byte string becomes a sequence of operations, and what must hold after
//! each. Does not own the parsers and decoders themselves (toggles, core_cpp,
//! rust_boards, ble_boards, capi).

// Every unsafe operation is in a block with its SAFETY reason.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod capi;
mod input;

use board_api::{BoardId, DecodeCounters, InputParams, StreamDecoder};
use ble_boards::ganglion::{GanglionDecoder, GanglionFirmware, GANGLION_ROWS};
use ble_boards::muse::{MuseDecoder, MuseSource, PresetSamples};
use core_cpp::CppDecoder;
use input::Input;
use rust_boards::{CytonDecoder, PlaybackDecoder};

/// The checks of one target: a violated property panics.
pub type Check = fn(&[u8]);

/// Every target, by the name its fuzzer and its corpus folder have.
pub const TARGETS: [(&str, Check); 6] = [
    ("config", config),
    ("cyton_differential", cyton_differential),
    ("playback_differential", playback_differential),
    ("ganglion", ganglion),
    ("muse", muse),
    ("capi_sequence", capi::sequence),
];

/// The YAML config: parsing and validation answer every text with a config or an error
/// that says what to fix; they never panic. A config that parses parses again to the
/// same result from the same text (no hidden state between parses).
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = std::path::Path::new("fuzz.yaml");
    match toggles::Config::parse(text, file) {
        Ok(first) => {
            let again = toggles::Config::parse(text, file).expect("a text that parsed once parses again");
            assert_eq!(format!("{first:?}"), format!("{again:?}"), "two parses of one text differ");
        }
        Err(e) => assert!(!e.to_string().trim().is_empty(), "a config error with no message"),
    }
}

/// Runs one host session (byte chunks read from the device, commands written to it)
/// through the C++ and the Rust decoder: after every step both have emitted the same
/// samples, bit for bit, and the same counters.
fn differential(mut cpp: CppDecoder, mut rust: impl StreamDecoder, input: &mut Input<'_>) {
    assert_eq!(cpp.num_rows(), rust.num_rows(), "rows differ");
    let (mut cpp_out, mut rust_out) = (Vec::new(), Vec::new());
    let mut step = 0u32;
    while !input.is_empty() {
        step += 1;
        let tag = input.byte();
        if tag % 8 == 0 {
            let command = input.take(usize::from(tag / 8 % 16));
            cpp.observe_command(command).expect("the C++ decoder accepts every command");
            rust.observe_command(command).expect("the Rust decoder accepts every command");
        } else {
            let len = usize::from(input.byte());
            let chunk = input.take(len);
            let timestamp = f64::from(step);
            let c = cpp.decode(chunk, timestamp, &mut cpp_out).expect("the C++ decoder decodes every byte string");
            let r = rust.decode(chunk, timestamp, &mut rust_out).expect("the Rust decoder decodes every byte string");
            assert_eq!(c, r, "step {step}: the decoders emitted different sample counts");
            let (cc, rc): (DecodeCounters, DecodeCounters) = (cpp.counters(), rust.counters());
            assert_eq!(cc, rc, "step {step}: counters differ (C++ left, Rust right)");
        }
    }
    assert_eq!(cpp_out.len(), rust_out.len(), "the decoders wrote different amounts");
    for (i, (c, r)) in cpp_out.iter().zip(&rust_out).enumerate() {
        assert_eq!(c.to_bits(), r.to_bits(), "value {i}: C++ {c} vs Rust {r}");
    }
}

/// Cyton and Cyton Daisy: the legacy C++ decoder and its Rust twin agree on every stream.
pub fn cyton_differential(data: &[u8]) {
    let mut input = Input::new(data);
    let daisy = input.byte() % 2 == 1;
    let (id, rust) = if daisy { (BoardId::CytonDaisy, CytonDecoder::daisy()) } else { (BoardId::Cyton, CytonDecoder::cyton()) };
    let cpp = CppDecoder::new(id, &InputParams::default()).expect("a C++ Cyton decoder");
    differential(cpp, rust, &mut input);
}

/// The playback CSV reader (a file streamed line by line): C++ and Rust agree on every
/// text, for files recorded from a Cyton, a Daisy or the synthetic board.
pub fn playback_differential(data: &[u8]) {
    let mut input = Input::new(data);
    let master = [BoardId::Cyton, BoardId::CytonDaisy, BoardId::Synthetic][usize::from(input.byte() % 3)];
    let params = InputParams { master_board: master.id(), ..InputParams::default() };
    let cpp = CppDecoder::new(BoardId::PlaybackFile, &params).expect("a C++ playback decoder");
    let rust = PlaybackDecoder::new(&params).expect("a Rust playback decoder");
    differential(cpp, rust, &mut input);
}

/// Ganglion notifications, both firmware formats: every notification is decoded or
/// counted as invalid, whole samples only, never a panic.
pub fn ganglion(data: &[u8]) {
    let mut input = Input::new(data);
    let firmware = if input.byte() % 2 == 0 { GanglionFirmware::V2 } else { GanglionFirmware::V3 };
    let mut decoder = GanglionDecoder::new(firmware);
    let mut out = Vec::new();
    while !input.is_empty() {
        let tag = input.byte();
        if tag == 0xff {
            decoder.resync();
            continue;
        }
        let packet = input.take(usize::from(tag % 32));
        let before = out.len();
        let appended = decoder.decode_packet(packet, 1.0, &mut out);
        assert_eq!(out.len() - before, appended * GANGLION_ROWS, "the decoder reported {appended} samples");
    }
}

/// Muse notifications on every characteristic, with and without the aux electrode:
/// never a panic, and what was appended is never taken back.
pub fn muse(data: &[u8]) {
    let mut input = Input::new(data);
    let mut decoder = MuseDecoder::new();
    decoder.set_aux_electrode(input.byte() % 2 == 1);
    let mut out = PresetSamples::default();
    while !input.is_empty() {
        let tag = input.byte();
        let source = match tag % 10 {
            k @ 0..=4 => MuseSource::Eeg(usize::from(k)),
            5 => MuseSource::Accel,
            6 => MuseSource::Gyro,
            k @ 7..=9 => MuseSource::Ppg(usize::from(k - 7)),
            _ => unreachable!("tag % 10 is below 10"),
        };
        if tag >= 250 {
            decoder.resync();
        }
        let len = usize::from(input.byte() % 32);
        let packet = input.take(len);
        let lengths = (out.default.len(), out.auxiliary.len(), out.ancillary.len());
        decoder.decode(source, packet, 1.0, &mut out);
        assert!(out.default.len() >= lengths.0 && out.auxiliary.len() >= lengths.1 && out.ancillary.len() >= lengths.2);
    }
}
