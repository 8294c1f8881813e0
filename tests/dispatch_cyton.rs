//! Cyton and Daisy in shadow and standby over the emulator's pseudo-terminal: the port is
//! opened once, every byte is decoded by both implementations, they agree, and a standby
//! failover loses and repeats no packet.

mod common;

use board_api::{Board, BoardId, InputParams};
use common::*;
use emulator::{Emulator, EmulatorOptions, Faults};
use std::time::Duration;
use toggles::Path;

const LIMIT: Duration = Duration::from_secs(30);

fn board_yaml(kind: &str, mode: &str, faults: &str) -> String {
    let faults = if faults.is_empty() { String::new() } else { format!("    faults: {{ {faults} }}\n") };
    format!("boards:\n  {kind}:\n    mode: {mode}\n    breaker: {{ minimum_calls: 5, slow_call_duration: 300ms }}\n{faults}")
}

fn package_numbers(samples: &[Vec<f64>]) -> Vec<u32> {
    samples.iter().map(|s| s[0] as u32).collect()
}

fn assert_consecutive(packages: &[u32], step: u32, what: &str) {
    for w in packages.windows(2) {
        assert_eq!(w[1], (w[0] + step) % 256, "{what}: a packet was lost or repeated ({} then {})", w[0], w[1]);
    }
}

#[test]
fn cyton_and_daisy_in_shadow_and_standby_read_once_and_agree() {
    for (board, kind, options, step) in [
        (BoardId::Cyton, "cyton", EmulatorOptions::cyton(3), 1),
        (BoardId::CytonDaisy, "cyton_daisy", EmulatorOptions::daisy(4), 2),
    ] {
        for mode in ["shadow", "standby"] {
            let emu = Emulator::start(options.clone()).unwrap();
            let config = ConfigFile::new(&board_yaml(kind, mode, ""));
            let runtime = config.runtime();
            let params = InputParams { serial_port: emu.port_path().display().to_string(), ..InputParams::default() };
            let mut s = runtime.open(board, params);
            s.prepare_session().unwrap();
            assert_eq!(s.path().as_str(), mode);
            // A gain change before streaming: both decoders must see it.
            let reply = s.config_board("x1020110X").unwrap();
            assert!(reply.ends_with("$$$"), "{kind} {mode}: device reply {reply:?}");
            s.start_stream(10_000).unwrap();
            let mut got = Collected::new();
            got.until(&mut s, 200, LIMIT);
            let shadow = runtime.kind(board).counters.shadow.clone();
            wait_for("comparisons", LIMIT, || {
                got.drain(&mut s);
                shadow.compared() >= 150
            });
            assert_eq!(shadow.mismatched(), 0, "{kind} {mode}");
            assert_consecutive(&package_numbers(&got.samples), step, &format!("{kind} {mode}"));
            s.stop_stream().unwrap();
            s.release_session().unwrap();
            let commands = emu.commands_received();
            assert_eq!(commands.iter().filter(|c| **c == b'b').count(), 1, "{kind} {mode}: one writer, one 'b'");
            assert_eq!(commands.iter().filter(|c| **c == b'v').count(), 1, "{kind} {mode}: one handshake");
        }
    }
}

#[test]
fn shadow_resyncs_after_garbage_on_the_wire_on_both_sides() {
    let options = EmulatorOptions {
        faults: Faults { garbage_every: Some(7), bad_footer_every: Some(11), drop_byte_every: Some(13), ..Faults::default() },
        ..EmulatorOptions::cyton(5)
    };
    let emu = Emulator::start(options).unwrap();
    let config = ConfigFile::new(&board_yaml("cyton", "shadow", ""));
    let runtime = config.runtime();
    let params = InputParams { serial_port: emu.port_path().display().to_string(), ..InputParams::default() };
    let mut s = runtime.open(BoardId::Cyton, params);
    s.prepare_session().unwrap();
    s.start_stream(10_000).unwrap();
    let mut got = Collected::new();
    got.until(&mut s, 150, LIMIT);
    let shadow = runtime.kind(BoardId::Cyton).counters.shadow.clone();
    wait_for("comparisons", LIMIT, || {
        got.drain(&mut s);
        shadow.compared() >= 100
    });
    assert_eq!(shadow.mismatched(), 0, "both decoders drop and resync identically");
}

#[test]
fn cyton_standby_fails_over_to_the_cpp_decoder_without_losing_a_packet() {
    for fault in ["error_rate: 100", "panic_rate: 100"] {
        let emu = Emulator::start(EmulatorOptions::cyton(6)).unwrap();
        let config = ConfigFile::new(&board_yaml("cyton", "standby", ""));
        let runtime = config.runtime();
        let params = InputParams { serial_port: emu.port_path().display().to_string(), ..InputParams::default() };
        let mut s = runtime.open(BoardId::Cyton, params);
        s.prepare_session().unwrap();
        s.start_stream(10_000).unwrap();
        let mut got = Collected::new();
        got.until(&mut s, 100, LIMIT);
        config.change(&runtime, &board_yaml("cyton", "standby", fault));
        let before = got.samples.len();
        got.until(&mut s, before + 150, LIMIT);
        assert_eq!(s.path(), Path::Cpp, "{fault}");
        assert_eq!(s.failovers(), 1, "{fault}");
        assert_consecutive(&package_numbers(&got.samples), 1, fault);
    }
}

/// Spec (Cyton and Daisy, stop) through the dual engine: packets the board sent before it
/// saw `s` are served, on both sides, in shadow and standby alike.
#[test]
fn shadow_and_standby_keep_the_packets_in_flight_at_stop() {
    for (board, kind, daisy) in [(BoardId::Cyton, "cyton", false), (BoardId::CytonDaisy, "cyton_daisy", true)] {
        for mode in ["shadow", "standby"] {
            let options = EmulatorOptions { daisy, ..EmulatorOptions::cyton(12) };
            let (before_stop, in_flight) = (40, 12); // packets; even, so Daisy pairs stay whole
            let per_sample = if daisy { 2 } else { 1 };
            // Paced like a streaming board, so they keep arriving for ~50 ms after `s`.
            let device = InFlightDevice::start_paced(&options, before_stop, in_flight, Duration::from_millis(4));
            let config = ConfigFile::new(&board_yaml(kind, mode, ""));
            let runtime = config.runtime();
            let mut s = runtime.open(board, device.params());
            s.prepare_session().unwrap();
            s.start_stream(10_000).unwrap();
            wait_for("the packets sent before stop", LIMIT, || {
                s.board_data_count(board_api::Preset::Default).unwrap() >= before_stop / per_sample
            });
            s.stop_stream().unwrap();
            let mut got = Collected::new();
            got.drain(&mut s);
            let what = format!("{kind} {mode}");
            assert_eq!(got.samples.len(), (before_stop + in_flight) / per_sample, "{what}: the {in_flight} packets in flight were kept");
            assert_consecutive(&package_numbers(&got.samples), per_sample as u32, &what);
            let shadow = runtime.kind(board).counters.shadow.clone();
            wait_for("both sides compared", LIMIT, || {
                s.board_data_count(board_api::Preset::Default).unwrap();
                shadow.compared() >= got.samples.len() as u64
            });
            assert_eq!(shadow.mismatched(), 0, "{what}: both decoders saw the drained packets");
            s.release_session().unwrap();
        }
    }
}

/// An unplugged device is never silent, whichever implementation serves: the session
/// keeps what arrived, reads still answer, and `stream_failure` says why it stopped.
#[test]
fn an_unplugged_device_is_reported_in_every_mode() {
    for mode in ["cpp", "rust", "shadow", "standby"] {
        let emu = Emulator::start(EmulatorOptions::cyton(8)).unwrap();
        let config = ConfigFile::new(&board_yaml("cyton", mode, ""));
        let runtime = config.runtime();
        let params = InputParams { serial_port: emu.port_path().display().to_string(), timeout: 2, ..InputParams::default() };
        let mut s = runtime.open(BoardId::Cyton, params);
        s.prepare_session().unwrap();
        s.start_stream(10_000).unwrap();
        let mut got = Collected::new();
        got.until(&mut s, 20, LIMIT);
        assert_eq!(s.stream_failure(), None, "{mode}: healthy");
        drop(emu); // the device is gone
        wait_for("the session to notice", LIMIT, || {
            got.drain(&mut s);
            s.stream_failure().is_some()
        });
        let reason = s.stream_failure().unwrap();
        assert!(reason.contains("serial"), "{mode}: {reason}");
        assert_eq!(s.path().as_str(), mode, "{mode}: a dead device is not a Rust failure");
        assert_eq!(s.failovers(), 0, "{mode}");
        let stopped = runtime.kind(BoardId::Cyton).counters.streams_stopped.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(stopped, 1, "{mode}: counted once");
        assert_consecutive(&package_numbers(&got.samples), 1, mode);
        let stopped = s.stop_stream();
        let released = s.release_session();
        assert!(released.is_ok(), "{mode}: stop {stopped:?}, release {released:?}");
    }
}

/// BrainFlow's restart: a new stream starts with an empty buffer, so what the last stream
/// left (here the packets drained at its stop, numbered 20-29) is not in the new one
/// (the device sends packets 0-19 again on `b`), in every mode.
#[test]
fn a_restarted_stream_starts_empty_in_every_mode() {
    for mode in ["cpp", "rust", "shadow", "standby"] {
        let options = EmulatorOptions::cyton(14);
        let device = InFlightDevice::start_paced(&options, 20, 10, Duration::from_millis(4));
        let config = ConfigFile::new(&board_yaml("cyton", mode, ""));
        let runtime = config.runtime();
        let mut s = runtime.open(BoardId::Cyton, device.params());
        s.prepare_session().unwrap();
        s.start_stream(10_000).unwrap();
        wait_for("the packets sent before stop", LIMIT, || s.board_data_count(board_api::Preset::Default).unwrap() >= 20);
        s.stop_stream().unwrap();
        assert_eq!(s.board_data_count(board_api::Preset::Default).unwrap(), 30, "{mode}: readable after stop");
        s.start_stream(10_000).unwrap();
        wait_for("the new stream", LIMIT, || s.board_data_count(board_api::Preset::Default).unwrap() >= 20);
        let mut got = Collected::new();
        got.drain(&mut s);
        assert_eq!(package_numbers(&got.samples), (0..20).collect::<Vec<u32>>(), "{mode}: only the new stream's samples");
        s.release_session().unwrap();
    }
}
