//! Debug builds check the bridge's invariants on every crossing and fail loudly; release
//! builds skip the checks.

use board_api::{Board, BoardId, InputParams, Preset, StreamDecoder};
use core_cpp::{CppBoard, CppDecoder};

fn synthetic() -> InputParams {
    InputParams { other_info: "seed=1".into(), ..InputParams::default() }
}

#[cfg(debug_assertions)]
#[test]
#[should_panic(expected = "bridge invariant broken: the C++ decoder reported 1 samples of 24 rows but wrote 0 values")]
fn a_decoder_count_its_output_does_not_back_fails_loudly() {
    let mut decoder = CppDecoder::misreporting_for_test(BoardId::Cyton, &InputParams::default()).unwrap();
    let _ = decoder.decode(b"\x01\x02", 0.0, &mut Vec::new());
}

#[cfg(debug_assertions)]
#[test]
#[should_panic(expected = "bridge invariant broken: the released C++ synthetic (-1) board claims 1 samples")]
fn a_board_used_after_release_fails_loudly() {
    let mut board = CppBoard::misreporting_after_release_for_test(BoardId::Synthetic, &synthetic()).unwrap();
    board.prepare_session().unwrap();
    board.release_session().unwrap();
    let _ = board.board_data_count(Preset::Default);
}

#[cfg(not(debug_assertions))]
#[test]
fn release_builds_skip_the_checks() {
    let mut decoder = CppDecoder::misreporting_for_test(BoardId::Cyton, &InputParams::default()).unwrap();
    assert_eq!(decoder.decode(b"\x01\x02", 0.0, &mut Vec::new()).unwrap(), 1);
}

#[test]
fn healthy_crossings_pass_the_checks() {
    let mut board = CppBoard::new(BoardId::Synthetic, &synthetic()).unwrap();
    board.prepare_session().unwrap();
    board.start_stream(1000).unwrap();
    let mut out = board_api::SampleMatrix::default();
    board.get_board_data(10, Preset::Default, &mut out).unwrap();
    board.release_session().unwrap();
    assert_eq!(board.board_data_count(Preset::Default).unwrap_err().code, board_api::ExitCode::BoardNotCreatedError);
}

#[cfg(debug_assertions)]
#[test]
#[should_panic(expected = "bridge invariant broken: thrown on purpose by throw_for_test")]
fn a_broken_invariant_found_by_the_cpp_side_fails_loudly_too() {
    let _ = core_cpp::throw_in_cpp_for_test(3);
}
