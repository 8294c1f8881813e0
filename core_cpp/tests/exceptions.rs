//! Every kind of C++ exception comes back as an `Err`; none aborts the process.

use board_api::ExitCode;
use core_cpp::throw_in_cpp_for_test;

#[test]
fn brainflow_exception_keeps_its_exit_code_and_message() {
    let e = throw_in_cpp_for_test(0).unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReadyError);
    assert_eq!(e.message, "thrown on purpose by throw_for_test");
}

#[test]
fn std_exception_becomes_general_error_with_its_text() {
    let e = throw_in_cpp_for_test(1).unwrap_err();
    assert_eq!(e.code, ExitCode::GeneralError);
    assert!(e.message.contains("unexpected C++ exception: thrown on purpose"), "{e}");
}

#[test]
fn exception_not_derived_from_std_exception_does_not_abort() {
    let e = throw_in_cpp_for_test(2).unwrap_err();
    assert_eq!(e.code, ExitCode::GeneralError);
    assert!(e.message.contains("not derived from std::exception"), "{e}");
}

#[test]
fn the_cpp_exit_code_table_is_board_api_s() {
    let cpp = core_cpp::cpp_exit_code_table();
    let rust: Vec<(i32, String)> = ExitCode::ALL.iter().map(|c| (c.code(), c.name().to_owned())).collect();
    assert_eq!(cpp, rust, "the C++ core and board_api::ExitCode disagree on the exit codes");
}

fn cyton_decoder_that_throws(kind: u8) -> core_cpp::CppDecoder {
    core_cpp::CppDecoder::throwing_for_test(board_api::BoardId::Cyton, &board_api::InputParams::default(), kind)
        .unwrap()
}

#[test]
fn a_throwing_cpp_decoder_is_an_error_with_its_code_not_a_silent_zero() {
    use board_api::StreamDecoder;
    let mut out = Vec::new();
    let e = cyton_decoder_that_throws(0).decode(&[0xA0; 33], 1.0, &mut out).unwrap_err();
    assert_eq!(e.code, ExitCode::BoardNotReadyError);
    assert_eq!(e.message, "thrown on purpose by throw_for_test");
    assert!(out.is_empty());
    let e = cyton_decoder_that_throws(1).observe_command(b"d").unwrap_err();
    assert_eq!(e.code, ExitCode::GeneralError);
    assert!(e.message.contains("unexpected C++ exception: thrown on purpose"), "{e}");
}

#[test]
fn a_cpp_decoder_throwing_a_non_std_exception_is_general_error_saying_so() {
    use board_api::StreamDecoder;
    let e = cyton_decoder_that_throws(2).decode(b"garbage", 1.0, &mut Vec::new()).unwrap_err();
    assert_eq!(e.code, ExitCode::GeneralError);
    assert_eq!(e.code.code(), 17);
    assert!(e.message.contains("not derived from std::exception"), "{e}");
}

#[test]
fn a_throwing_cpp_generator_is_an_error_not_a_panic() {
    use board_api::SampleGenerator;
    for (kind, code) in [(0, ExitCode::BoardNotReadyError), (1, ExitCode::GeneralError), (2, ExitCode::GeneralError)] {
        let mut generator = core_cpp::CppSyntheticGenerator::throwing_for_test(kind).unwrap();
        let (mut d, mut a) = (Vec::new(), Vec::new());
        let e = generator.generate(10, 0.0, 0.004, &mut d, &mut a).unwrap_err();
        assert_eq!(e.code, code);
        assert!(d.is_empty() && a.is_empty());
        assert_eq!(generator.next_index(), 0);
    }
}
