//! Every read kind of every legacy board, the C++ board against its Rust twin called
//! directly, in one run: `board_data_count` and `get_current_board_data` of 250 samples
//! for synthetic, playback, Cyton and Daisy (Cyton and Daisy stream from the emulator
//! over a pseudo-terminal), and `get_board_data` of 250 samples.
//!
//! `get_board_data` removes what it reads, so each iteration needs 250 fresh samples,
//! and these boards only produce in real time (250 Hz): it is measured on the ring every
//! board reads from (the C++ one through its bridge against the Rust one), refilled
//! outside the timed part, for each board's row count.
//!
//! Ratios: `python3 scripts/board_read_ratios.py` after the run.

use board_api::{Board, BoardId, InputParams, Preset, SampleMatrix};
use criterion::{criterion_group, criterion_main, Criterion};
use emulator::{Emulator, EmulatorOptions};
use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

mod common;
use common::filled;

const SAMPLES: usize = 250;

/// A Cyton-layout recording of 400 lines (24 rows, timestamp in row 22).
fn playback_file() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    for i in 0..400 {
        let mut line: Vec<String> = (0..24).map(|row| format!("{}", (i * 24 + row) as f64 * 0.5)).collect();
        line[22] = format!("{}", 1_700_000_000.0 + i as f64 / 250.0);
        line[23] = "0".into();
        writeln!(file, "{}", line.join("\t")).unwrap();
    }
    file
}

fn reads(c: &mut Criterion) {
    let playback = playback_file();
    let emulators: Vec<Emulator> = [EmulatorOptions::cyton(1), EmulatorOptions::cyton(1), EmulatorOptions::daisy(1), EmulatorOptions::daisy(1)]
        .into_iter()
        .map(|options| Emulator::start(options).unwrap())
        .collect();
    let serial = |emu: &Emulator| InputParams {
        serial_port: emu.port_path().to_str().unwrap().into(),
        timeout: 2,
        ..InputParams::default()
    };
    let boards: [(&str, BoardId, InputParams, InputParams); 4] = [
        ("synthetic", BoardId::Synthetic, InputParams { other_info: "seed=1".into(), ..Default::default() }, InputParams { other_info: "seed=1".into(), ..Default::default() }),
        (
            "playback",
            BoardId::PlaybackFile,
            InputParams { file: playback.path().to_str().unwrap().into(), master_board: BoardId::Cyton.id(), ..Default::default() },
            InputParams { file: playback.path().to_str().unwrap().into(), master_board: BoardId::Cyton.id(), ..Default::default() },
        ),
        ("cyton", BoardId::Cyton, serial(&emulators[0]), serial(&emulators[1])),
        ("daisy", BoardId::CytonDaisy, serial(&emulators[2]), serial(&emulators[3])),
    ];
    let mut out = SampleMatrix::with_capacity(32, SAMPLES);
    for (name, id, cpp_params, rust_params) in boards {
        let mut cpp: Box<dyn Board> = Box::new(core_cpp::CppBoard::new(id, &cpp_params).unwrap());
        let mut rust = rust_boards::create_board(id, &rust_params).unwrap();
        filled(&mut cpp);
        filled(&mut rust);
        let mut group = c.benchmark_group(format!("reads/{name}"));
        for (side, board) in [("cpp", &mut cpp), ("rust", &mut rust)] {
            group.bench_function(format!("count/{side}"), |b| {
                b.iter(|| black_box(board.board_data_count(Preset::Default).unwrap()))
            });
            group.bench_function(format!("current_{SAMPLES}/{side}"), |b| {
                b.iter(|| board.get_current_board_data(SAMPLES, Preset::Default, &mut out).unwrap())
            });
        }
        group.finish();
    }

    // get_board_data: the ring's take, refilled outside the timed part.
    for (name, rows) in [("synthetic", 32), ("playback", 24), ("cyton", 24), ("daisy", 32)] {
        let batch: Vec<f64> = (0..rows * SAMPLES).map(|v| v as f64).collect();
        let mut group = c.benchmark_group(format!("reads/{name}"));
        let mut cpp = core_cpp::CppRingBuffer::new(rows, 45_000).unwrap();
        group.bench_function(format!("take_{SAMPLES}/cpp"), |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    cpp.push(&batch);
                    let start = Instant::now();
                    cpp.take_oldest(SAMPLES, &mut out);
                    spent += start.elapsed();
                }
                spent
            })
        });
        let mut rust = sample_ring::SampleRing::new(rows, 45_000);
        group.bench_function(format!("take_{SAMPLES}/rust"), |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    rust.push_sample_major(&batch);
                    let start = Instant::now();
                    rust.take_into(SAMPLES, &mut out);
                    spent += start.elapsed();
                }
                spent
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = reads
}
criterion_main!(benches);
