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
