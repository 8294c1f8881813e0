//! The spans every dispatcher event lives in, so one session's story can be followed
//! across threads and across the C++ boundary.
//!
//! A session has one span (`session`: `session_id`, `board`) for its life; every call a
//! caller (or the runtime) makes on it opens a child span (`call`: `call_id`, `op`). Work
//! a call hands to another thread (the Rust worker, a shadow job) runs in the same call
//! span. Streams are produced by the pump, not by reads: each pump turn on a session is a
//! `call` too (`op = "pump"`, at debug level), so both sides' events of one turn share its
//! `call_id`. C++ log
//! lines and spans nest under whichever span is current when the C++ is entered (see
//! `core_cpp::trace`). Routing decisions are also `feature_flag.evaluation` events.

use board_api::BoardId;
use std::sync::atomic::{AtomicU64, Ordering};
use toggles::{Decision, Path, Reason};
use tracing::Span;

/// Call ids are unique in the process, so a `call_id` alone finds one call.
static NEXT_CALL_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn session_span(session_id: u64, board: BoardId) -> Span {
    tracing::info_span!(target: "switchyard::session", "session", session_id, board = board.kind())
}

pub(crate) fn call_span(session: &Span, op: &'static str) -> Span {
    let call_id = NEXT_CALL_ID.fetch_add(1, Ordering::Relaxed);
    tracing::info_span!(target: "switchyard::session", parent: session, "call", call_id, op)
}

/// A pump turn on a session (see `super::pump`): a call like any other, but at debug
/// level, so the hundreds of turns a second cost nothing unless someone is looking. Its
/// C++ and Rust lines (the Rust job runs in it) share its `call_id`.
pub(crate) fn turn_span(session: &Span) -> Span {
    let span = tracing::debug_span!(target: "switchyard::pump", parent: session, "call", call_id = tracing::field::Empty, op = "pump");
    if !span.is_disabled() {
        span.record("call_id", NEXT_CALL_ID.fetch_add(1, Ordering::Relaxed));
    }
    span
}

/// The OpenTelemetry `feature_flag.result.reason` for a routing decision: the toggles'
/// reason in OpenTelemetry's lower-case words, or ours where something after the
/// toggles decided (see `docs/architecture.md`).
pub(crate) fn flag_reason(decision: &Decision, override_reason: Option<&'static str>) -> &'static str {
    match override_reason {
        Some("BREAKER_OPEN") => "breaker_open",
        Some("BREAKER_OPEN_NO_FALLBACK") => "breaker_open_no_fallback",
        Some("SHADOW_NOT_SAMPLED") => "shadow_not_sampled",
        Some("FAILOVER") => "failover",
        Some("SINGLE_PATH") => "single_path",
        Some(_) => "unknown",
        None => match decision.reason {
            Reason::Static => "static",
            Reason::TargetingMatch => "targeting_match",
            Reason::Split => "split",
            Reason::Disabled => "disabled",
            Reason::Default => "default",
            Reason::Error => "error",
        },
    }
}

/// One routing decision as an OpenTelemetry feature-flag evaluation event: the flag is
/// the board kind, the variant the path the session starts on.
pub(crate) fn flag_evaluation(board: BoardId, path: Path, decision: &Decision, override_reason: Option<&'static str>) {
    let reason = flag_reason(decision, override_reason);
    if decision.reason == Reason::Error {
        tracing::warn!(
            name: "feature_flag.evaluation",
            target: "switchyard::feature_flag",
            {
                "event.name" = "feature_flag.evaluation",
                "feature_flag.key" = board.kind(),
                "feature_flag.result.variant" = path.as_str(),
                "feature_flag.result.reason" = reason,
                "feature_flag.provider.name" = "switchyard",
                "feature_flag.version" = decision.generation,
                "error.type" = "general",
            },
            "feature flag evaluated"
        );
    } else {
        tracing::info!(
            name: "feature_flag.evaluation",
            target: "switchyard::feature_flag",
            {
                "event.name" = "feature_flag.evaluation",
                "feature_flag.key" = board.kind(),
                "feature_flag.result.variant" = path.as_str(),
                "feature_flag.result.reason" = reason,
                "feature_flag.provider.name" = "switchyard",
                "feature_flag.version" = decision.generation,
            },
            "feature flag evaluated"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toggles::{Rule, RuleKind};

    fn decision(reason: Reason) -> Decision {
        Decision {
            path: Path::Rust,
            reason,
            rule: Rule { board: BoardId::Cyton, kind: RuleKind::Error },
            bucket: None,
            bucketed_by: None,
            percent: None,
            generation: 3,
        }
    }

    #[test]
    fn reasons_are_opentelemetry_words_and_ours_beyond() {
        assert_eq!(flag_reason(&decision(Reason::Static), None), "static");
        assert_eq!(flag_reason(&decision(Reason::TargetingMatch), None), "targeting_match");
        assert_eq!(flag_reason(&decision(Reason::Split), None), "split");
        assert_eq!(flag_reason(&decision(Reason::Disabled), None), "disabled");
        assert_eq!(flag_reason(&decision(Reason::Default), None), "default");
        assert_eq!(flag_reason(&decision(Reason::Error), None), "error");
        assert_eq!(flag_reason(&decision(Reason::Split), Some("BREAKER_OPEN")), "breaker_open");
        assert_eq!(flag_reason(&decision(Reason::Split), Some("SHADOW_NOT_SAMPLED")), "shadow_not_sampled");
    }
}
