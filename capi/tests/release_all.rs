//! release_all_sessions forgets every session (its own process: it would release the
//! sessions of tests running beside it).

use std::ffi::{c_int, CString};
use BoardController::*;

#[test]
fn release_all_sessions_releases_every_board() {
    let a = CString::new("{\"other_info\": \"a\"}").unwrap();
    let b = CString::new("{\"other_info\": \"b\"}").unwrap();
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(-1, a.as_ptr()) }, 0);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { prepare_session(-1, b.as_ptr()) }, 0);
    // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
    assert_eq!(unsafe { release_all_sessions() }, 0);
    for p in [&a, &b] {
        let mut prepared: c_int = 1;
        // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
        assert_eq!(unsafe { is_prepared(&mut prepared, -1, p.as_ptr()) }, 0);
        assert_eq!(prepared, 0);
        // SAFETY: each pointer is null (every export checks) or points to a live CString, local or buffer as large as the call's contract requires.
        assert_eq!(unsafe { release_session(-1, p.as_ptr()) }, 15);
    }
}
