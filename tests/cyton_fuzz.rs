//! Property tests: random and mutated byte streams, split at random points into several
//! `decode` calls, through the C++ and the Rust Cyton/Daisy decoders. Both must give the
//! same samples and counters, never crash, and count what they reject.

use board_api::{BoardId, DecodeCounters, InputParams, StreamDecoder};
use core_cpp::CppDecoder;
use emulator::{packet_stream, EmulatorOptions, PACKET_LEN};
use proptest::prelude::*;
use rust_boards::CytonDecoder;

/// One step of a session as the host sees it.
#[derive(Debug, Clone)]
enum Step {
    Bytes(Vec<u8>),
    Command(Vec<u8>),
}

/// Runs the steps through both decoders; returns the Rust output and counters after
/// checking that the C++ side agrees at every step.
fn run_both(daisy: bool, steps: &[Step]) -> (Vec<f64>, DecodeCounters) {
    let id = if daisy { BoardId::CytonDaisy } else { BoardId::Cyton };
    let mut cpp = CppDecoder::new(id, &InputParams::default()).unwrap();
    let mut rust = if daisy { CytonDecoder::daisy() } else { CytonDecoder::cyton() };
    let (mut co, mut ro) = (Vec::new(), Vec::new());
    for (k, step) in steps.iter().enumerate() {
        match step {
            Step::Command(c) => {
                cpp.observe_command(c).unwrap();
                rust.observe_command(c).unwrap();
            }
            Step::Bytes(b) => {
                let c = cpp.decode(b, k as f64, &mut co).unwrap();
                let r = rust.decode(b, k as f64, &mut ro).unwrap();
                assert_eq!(c, r, "step {k}: emitted samples differ");
                assert_eq!(cpp.counters(), rust.counters(), "step {k}: counters differ");
            }
        }
    }
    assert_eq!(co.len(), ro.len());
    for (i, (c, r)) in co.iter().zip(&ro).enumerate() {
        assert_eq!(c.to_bits(), r.to_bits(), "value {i}: C++ {c} vs Rust {r}");
    }
    (ro, rust.counters())
}

/// Splits `bytes` at the given cut points (taken modulo the length) into decode steps.
fn split(bytes: &[u8], cuts: &[usize]) -> Vec<Step> {
    let mut points: Vec<usize> = cuts.iter().map(|c| if bytes.is_empty() { 0 } else { c % bytes.len() }).collect();
    points.sort_unstable();
    points.dedup();
    let mut steps = Vec::new();
    let mut start = 0;
    for p in points.into_iter().chain([bytes.len()]) {
        steps.push(Step::Bytes(bytes[start..p.max(start)].to_vec()));
        start = p.max(start);
    }
    steps
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    InsertHeader(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, mask)| Mutation::Flip(at, mask)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Insert(at, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::InsertHeader),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match *m {
        Mutation::Flip(at, mask) => {
            let i = at % bytes.len();
            bytes[i] ^= mask;
        }
        Mutation::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
        Mutation::Delete(at) => {
            bytes.remove(at % bytes.len());
        }
        Mutation::InsertHeader(at) => bytes.insert(at % (bytes.len() + 1), 0xA0),
    }
}

/// Channel-setting-like commands, well-formed or not, plus `d`, `?` and noise.
fn command() -> impl Strategy<Value = Vec<u8>> {
    let key = prop::sample::select(b"12345678QWERTYUI90x".to_vec());
    let digit = prop::sample::select(b"0123456789X".to_vec());
    prop_oneof![
        (key, digit.clone(), digit.clone(), prop::collection::vec(digit, 4), prop::bool::ANY).prop_map(
            |(k, p, g, rest, closed)| {
                let mut c = vec![b'x', k, p, g];
                c.extend(rest);
                if closed {
                    c.push(b'X');
                }
                c
            }
        ),
        Just(b"d".to_vec()),
        Just(b"?".to_vec()),
        prop::collection::vec(any::<u8>(), 0..20),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_decode_the_same(
        daisy in any::<bool>(),
        bytes in prop::collection::vec(any::<u8>(), 0..3000),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let (_, counters) = run_both(daisy, &split(&bytes, &cuts));
        if !bytes.contains(&0xA0) {
            prop_assert_eq!(counters.skipped_bytes, bytes.len() as u64, "every byte without a header is skipped");
            prop_assert_eq!(counters.packets, 0);
        }
    }

    #[test]
    fn header_heavy_noise_decodes_the_same(
        daisy in any::<bool>(),
        bytes in prop::collection::vec(prop::sample::select(vec![0xA0u8, 0xC0, 0xC1, 0xC6, 0xC7, 0x00, 0xFF, 0x01]), 0..2000),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        run_both(daisy, &split(&bytes, &cuts));
    }

    #[test]
    fn mutated_streams_decode_the_same(
        daisy in any::<bool>(),
        seed in any::<u64>(),
        packets in 1usize..120,
        mutations in prop::collection::vec(mutation(), 0..25),
        cuts in prop::collection::vec(any::<usize>(), 0..16),
        commands in prop::collection::vec((any::<usize>(), command()), 0..6),
    ) {
        let mut bytes = packet_stream(&EmulatorOptions { daisy, ..EmulatorOptions::cyton(seed) }, packets);
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let mut steps = split(&bytes, &cuts);
        for (at, c) in commands {
            let at = at % (steps.len() + 1);
            steps.insert(at, Step::Command(c));
        }
        run_both(daisy, &steps);
    }

    #[test]
    fn garbage_between_packets_is_skipped_and_counted(
        daisy in any::<bool>(),
        seed in any::<u64>(),
        packets in 2usize..60,
        garbage in prop::collection::vec(any::<u8>().prop_filter("not a header", |b| *b != 0xA0), 1..40),
        after in any::<usize>(),
    ) {
        let options = EmulatorOptions { daisy, ..EmulatorOptions::cyton(seed) };
        let clean = packet_stream(&options, packets);
        let at = (after % packets) * PACKET_LEN;
        let mut dirty = clean.clone();
        dirty.splice(at..at, garbage.iter().copied());
        let (clean_out, clean_counters) = run_both(daisy, &split(&clean, &[]));
        let (dirty_out, dirty_counters) = run_both(daisy, &split(&dirty, &[at + 1, at + garbage.len() / 2]));
        // Garbage that cannot start a packet costs nothing but is counted byte for byte.
        prop_assert_eq!(dirty_counters.skipped_bytes, clean_counters.skipped_bytes + garbage.len() as u64);
        prop_assert_eq!(dirty_counters.packets, clean_counters.packets);
        prop_assert_eq!(dirty_out.len(), clean_out.len());
    }
}
