//! Debug builds check the bridge's own invariants on every crossing and fail loudly.
//!
//! What is checked (Rust side, after each call returns): a board's rows per preset
//! against its descriptor and samples written against the room given; a decoder's values
//! against `count × rows`; the generator's values against `count × rows` of both presets
//! and its sample index against the count; that a released board hands out nothing. The
//! C++ side is compiled with `SWITCHYARD_BRIDGE_CHECKS` in debug builds and checks every
//! slice it is given against what it will write. A broken invariant is a bug in the
//! bridge or the C++ core, never the caller's: it panics (Rust) or throws an error
//! naming the invariant (C++), so a test or a debug run stops at the crossing where it
//! happened. Release builds compile none of it.

/// Panics with `what` when `holds` is false, in debug builds only.
#[inline(always)]
#[track_caller]
pub(crate) fn bridge_check(holds: bool, what: impl FnOnce() -> String) {
    if cfg!(debug_assertions) && !holds {
        panic!("bridge invariant broken: {}", what());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holding_invariant_passes() {
        bridge_check(true, || unreachable!("not evaluated when it holds"));
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "bridge invariant broken: two is not three")]
    fn a_broken_invariant_panics_in_debug_builds() {
        bridge_check(2 == 3, || "two is not three".into());
    }
}
