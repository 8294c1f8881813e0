//! release_all_sessions forgets every session (its own process: it would release the
//! sessions of tests running beside it).

use std::ffi::{c_int, CString};
use BoardController::*;

#[test]
fn release_all_sessions_releases_every_board() {
    let a = CString::new("{\"other_info\": \"a\"}").unwrap();
    let b = CString::new("{\"other_info\": \"b\"}").unwrap();
    assert_eq!(prepare_session(-1, a.as_ptr()), 0);
    assert_eq!(prepare_session(-1, b.as_ptr()), 0);
    assert_eq!(release_all_sessions(), 0);
    for p in [&a, &b] {
        let mut prepared: c_int = 1;
        assert_eq!(is_prepared(&mut prepared, -1, p.as_ptr()), 0);
        assert_eq!(prepared, 0);
        assert_eq!(release_session(-1, p.as_ptr()), 15);
    }
}
