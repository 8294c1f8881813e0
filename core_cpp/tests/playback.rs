//! The C++ playback board and decoder: replay, looping, and every kind of bad file.

use std::io::Write;
use std::time::{Duration, Instant};

use board_api::{Board, BoardId, ExitCode, InputParams, Preset, SampleMatrix, StreamDecoder};
use core_cpp::{CppBoard, CppDecoder};

const CYTON_ROWS: usize = 24;

/// A Cyton-layout line whose cells are `line * 100 + column`, marker (row 23) = `marker`.
fn line(n: usize, marker: f64) -> String {
    let mut cells: Vec<String> = (0..CYTON_ROWS).map(|c| format!("{}.25", n * 100 + c)).collect();
    cells[23] = format!("{marker}");
    cells.join("\t")
}

fn file_with(content: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    f
}

fn params(path: &str) -> InputParams {
    InputParams { file: path.to_owned(), master_board: BoardId::Cyton.id(), ..InputParams::default() }
}

fn prepare_error(content: &str) -> board_api::BoardError {
    let f = file_with(content);
    let mut board = CppBoard::new(BoardId::PlaybackFile, &params(f.path().to_str().unwrap())).unwrap();
    board.prepare_session().unwrap_err()
}

fn wait_for(board: &mut CppBoard, samples: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while board.board_data_count(Preset::Default).unwrap() < samples {
        assert!(Instant::now() < deadline, "no {samples} samples within 20 s");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn replays_the_file_then_stops_unless_looping() {
    let content = format!("{}\n{}\n{}\n", line(0, 0.0), line(1, 5.0), line(2, 0.0));
    let f = file_with(&content);
    let mut board = CppBoard::new(BoardId::PlaybackFile, &params(f.path().to_str().unwrap())).unwrap();
    board.prepare_session().unwrap();
    assert_eq!(board.descriptor(Preset::Default).unwrap().num_rows, CYTON_ROWS);
    board.start_stream(100).unwrap();
    wait_for(&mut board, 3);
    // Three lines at 250 Hz take 12 ms; after 60 ms a looping board would hold more.
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(board.board_data_count(Preset::Default).unwrap(), 3, "loopback_false stops at the end");

    let mut data = SampleMatrix::new(CYTON_ROWS);
    board.get_board_data(10, Preset::Default, &mut data).unwrap();
    assert_eq!(data.samples(), 3);
    for i in 0..3 {
        for row in 0..22 {
            assert_eq!(data.get(row, i), (i * 100 + row) as f64 + 0.25, "sample {i} row {row}");
        }
    }
    assert_eq!(data.row(23), &[0.0, 5.0, 0.0], "markers come from the file");
    assert!(data.get(22, 0) > 1.0e9, "timestamp row is restamped with the time");

    assert_eq!(board.config_board("loopback_true").unwrap(), "");
    wait_for(&mut board, 7);
    board.get_board_data(7, Preset::Default, &mut data).unwrap();
    let first_cells: Vec<f64> = data.row(0).to_vec();
    assert_eq!(&first_cells[..4], &[0.25, 100.25, 200.25, 0.25], "loops back to line 1");

    assert_eq!(board.config_board("speed=2").unwrap_err().code, ExitCode::InvalidArgumentsError);
    board.stop_stream().unwrap();
    board.release_session().unwrap();
}

#[test]
fn a_pending_marker_replaces_the_files_marker() {
    let f = file_with(&format!("{}\n{}\n", line(0, 9.0), line(1, 0.0)));
    let mut board = CppBoard::new(BoardId::PlaybackFile, &params(f.path().to_str().unwrap())).unwrap();
    board.prepare_session().unwrap();
    // Before the first start there is no buffer to mark (BrainFlow's answer).
    assert_eq!(board.insert_marker(3.0, Preset::Default).unwrap_err().code, ExitCode::InvalidArgumentsError);
    board.start_stream(10).unwrap();
    board.insert_marker(3.0, Preset::Default).unwrap();
    wait_for(&mut board, 2);
    let mut data = SampleMatrix::new(CYTON_ROWS);
    board.get_board_data(10, Preset::Default, &mut data).unwrap();
    assert_eq!(data.row(23), &[3.0, 0.0]);
}

#[test]
fn missing_file_names_it() {
    let mut board = CppBoard::new(BoardId::PlaybackFile, &params("/nonexistent/recording.csv")).unwrap();
    let e = board.prepare_session().unwrap_err();
    assert_eq!(e.code, ExitCode::UnableToOpenPortError);
    assert!(e.message.contains("/nonexistent/recording.csv"), "{e}");
}

#[test]
fn empty_file_is_rejected() {
    let e = prepare_error("");
    assert_eq!(e.code, ExitCode::InvalidArgumentsError);
    assert!(e.message.contains("is empty"), "{e}");
    assert_eq!(prepare_error("\n\n").code, ExitCode::InvalidArgumentsError);
}

#[test]
fn wrong_column_count_names_the_line() {
    let short: Vec<String> = (0..20).map(|c| c.to_string()).collect();
    let e = prepare_error(&format!("{}\n{}\n", line(0, 0.0), short.join("\t")));
    assert_eq!(e.code, ExitCode::InvalidArgumentsError);
    assert!(e.message.contains("line 2 has 20 columns, expected 24"), "{e}");
}

#[test]
fn non_numeric_cell_names_line_and_column() {
    let mut bad: Vec<String> = (0..CYTON_ROWS).map(|c| c.to_string()).collect();
    bad[4] = "12abc".into();
    let e = prepare_error(&format!("{}\n{}\n{}\n", line(0, 0.0), line(1, 0.0), bad.join("\t")));
    assert_eq!(e.code, ExitCode::InvalidArgumentsError);
    assert!(e.message.contains("line 3 column 5"), "{e}");
    assert!(e.message.contains("12abc"), "{e}");
    bad[4] = "0x10".into();
    assert!(prepare_error(&bad.join("\t")).message.contains("line 1 column 5"));
}

#[test]
fn unknown_master_board_is_invalid_arguments_at_prepare() {
    let f = file_with(&line(0, 0.0));
    for master in [InputParams::NO_MASTER_BOARD, 7, BoardId::PlaybackFile.id()] {
        let p = InputParams { master_board: master, ..params(f.path().to_str().unwrap()) };
        let mut board = CppBoard::new(BoardId::PlaybackFile, &p).unwrap();
        let e = board.prepare_session().unwrap_err();
        assert_eq!(e.code, ExitCode::InvalidArgumentsError, "master {master}");
        assert!(e.message.contains("master_board"), "{e}");
    }
}

#[test]
fn decoder_emits_one_sample_per_complete_line_whatever_the_chunking() {
    let content = format!("{}\n{}\r\nnot\ta\tsample\n{}\n{}", line(0, 4.0), line(1, 0.0), line(2, 0.0), line(3, 0.0));
    let p = params("");
    let mut whole = CppDecoder::new(BoardId::PlaybackFile, &p).unwrap();
    assert_eq!(whole.num_rows(), CYTON_ROWS);
    let mut expected = Vec::new();
    assert_eq!(whole.decode(content.as_bytes(), 12.5, &mut expected).unwrap(), 3, "the last line is not complete yet");
    assert_eq!(whole.counters().invalid_packets, 1);
    assert_eq!(expected[22], 12.5);
    assert_eq!(expected[23], 0.0, "decoded markers are 0");

    let mut chunked = CppDecoder::new(BoardId::PlaybackFile, &p).unwrap();
    let mut got = Vec::new();
    let mut count = 0;
    for chunk in content.as_bytes().chunks(7) {
        count += chunked.decode(chunk, 12.5, &mut got).unwrap();
    }
    assert_eq!(count, 3);
    assert_eq!(got, expected);
    assert_eq!(chunked.decode(b"\n", 1.0, &mut got).unwrap(), 1, "the newline completes line 4");
}

#[test]
fn playback_calls_in_the_wrong_order_answer_with_brainflow_codes() {
    let f = file_with(&line(0, 0.0));
    let mut board = CppBoard::new(BoardId::PlaybackFile, &params(f.path().to_str().unwrap())).unwrap();
    assert_eq!(board.config_board("loopback_true").unwrap_err().code, ExitCode::BoardNotCreatedError);
    assert_eq!(board.insert_marker(1.0, Preset::Default).unwrap_err().code, ExitCode::BoardNotCreatedError);
    board.prepare_session().unwrap();
    assert_eq!(board.stop_stream().unwrap_err().code, ExitCode::StreamThreadIsNotRunning);
    assert_eq!(board.start_stream(0).unwrap_err().code, ExitCode::InvalidBufferSizeError);
    board.start_stream(5).unwrap();
    assert_eq!(board.start_stream(5).unwrap_err().code, ExitCode::StreamAlreadyRunError);
    board.release_session().unwrap();
    assert!(!board.is_prepared());
}
