//! Every metric name and label set switchyard exports, and the recorder that renders them.
//!
//! Labels are bounded: board kind, path, operation, outcome, reason, cause, result, state.
//! A session id is never a label (it would grow the series without bound).

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Calls made through a session, by `board`, `path`, `operation`, `outcome`.
pub const CALLS_TOTAL: &str = "switchyard_calls_total";
/// Latency of data calls, by `board`, `path`, `operation`.
pub const CALL_DURATION_SECONDS: &str = "switchyard_call_duration_seconds";
/// Live sessions, by `board`, `path`.
pub const ACTIVE_SESSIONS: &str = "switchyard_active_sessions";
/// Routing decisions at session start, by `board`, `path`, `reason`.
pub const ROUTING_DECISIONS_TOTAL: &str = "switchyard_routing_decisions_total";
/// Breaker state as a 0/1 gauge per `board`, `state` (one state is 1 at a time).
pub const BREAKER_STATE: &str = "switchyard_breaker_state";
/// Breaker transitions, by `board`, `to`, `cause`.
pub const BREAKER_TRANSITIONS_TOTAL: &str = "switchyard_breaker_transitions_total";
/// Failure and slow rates over the breaker's window (0..=1), by `board`.
pub const BREAKER_FAILURE_RATIO: &str = "switchyard_breaker_failure_ratio";
pub const BREAKER_SLOW_RATIO: &str = "switchyard_breaker_slow_ratio";
/// Sessions moved from Rust to C++, by `board`.
pub const FAILOVERS_TOTAL: &str = "switchyard_failovers_total";
/// The data gap of a failover in seconds (missing samples / sampling rate), by `board`.
pub const FAILOVER_GAP_SECONDS: &str = "switchyard_failover_gap_seconds";
/// Shadow comparisons and mismatches, by `board`.
pub const SHADOW_COMPARISONS_TOTAL: &str = "switchyard_shadow_comparisons_total";
pub const SHADOW_MISMATCHES_TOTAL: &str = "switchyard_shadow_mismatches_total";
/// Samples handed to callers and samples dropped by full buffers, by `board`.
pub const SAMPLES_DELIVERED_TOTAL: &str = "switchyard_samples_delivered_total";
pub const SAMPLES_DROPPED_TOTAL: &str = "switchyard_samples_dropped_total";
/// Sessions whose device stopped streaming on its own (unplugged, hung up): live ones
/// now, and every such stop since start, by `board`.
pub const SESSIONS_STREAM_STOPPED: &str = "switchyard_sessions_stream_stopped";
pub const STREAMS_STOPPED_TOTAL: &str = "switchyard_streams_stopped_total";
/// BLE sessions by link `state` (`connected`, `reconnecting`, `reconnect_held`,
/// `not_connected`), by `board`.
pub const LINK_SESSIONS: &str = "switchyard_link_sessions";
/// BLE link failures (disconnects and stalls) and restored links, by `board`.
pub const LINK_FAILURES_TOTAL: &str = "switchyard_link_failures_total";
pub const LINK_RECONNECTS_TOTAL: &str = "switchyard_link_reconnects_total";
/// Rust-only sessions that rebuilt their board after a panic or hang, by `board`.
pub const RUST_RESTARTS_TOTAL: &str = "switchyard_rust_restarts_total";
/// The generation of the config in force.
pub const CONFIG_GENERATION: &str = "switchyard_config_generation";
/// Config reloads, by `result` (`applied`, `rejected`).
pub const CONFIG_RELOADS_TOTAL: &str = "switchyard_config_reloads_total";
/// Operator control requests, by `action`, `result`.
pub const CONTROL_REQUESTS_TOTAL: &str = "switchyard_control_requests_total";
/// The stage index (from 0) each board's migration plan stands at, by `board`.
pub const MIGRATION_STAGE: &str = "switchyard_migration_stage";
/// Stage changes of migration plans, by `board`, `verdict` (`advance`, `rollback`).
pub const MIGRATION_MOVES_TOTAL: &str = "switchyard_migration_moves_total";
/// Boundaries a plan could not get evidence for (Prometheus unreachable, slow, garbage,
/// an error), by `board`.
pub const MIGRATION_UNANSWERED_TOTAL: &str = "switchyard_migration_unanswered_total";
/// Process CPU seconds and resident memory.
pub const PROCESS_CPU_SECONDS_TOTAL: &str = "switchyard_process_cpu_seconds_total";
pub const PROCESS_RESIDENT_MEMORY_BYTES: &str = "switchyard_process_resident_memory_bytes";

/// Every exported name (the tests check the dashboard and rules against this list).
pub const ALL: &[&str] = &[
    CALLS_TOTAL,
    CALL_DURATION_SECONDS,
    ACTIVE_SESSIONS,
    ROUTING_DECISIONS_TOTAL,
    BREAKER_STATE,
    BREAKER_TRANSITIONS_TOTAL,
    BREAKER_FAILURE_RATIO,
    BREAKER_SLOW_RATIO,
    FAILOVERS_TOTAL,
    FAILOVER_GAP_SECONDS,
    SHADOW_COMPARISONS_TOTAL,
    SHADOW_MISMATCHES_TOTAL,
    SAMPLES_DELIVERED_TOTAL,
    SAMPLES_DROPPED_TOTAL,
    SESSIONS_STREAM_STOPPED,
    STREAMS_STOPPED_TOTAL,
    LINK_SESSIONS,
    LINK_FAILURES_TOTAL,
    LINK_RECONNECTS_TOTAL,
    RUST_RESTARTS_TOTAL,
    CONFIG_GENERATION,
    CONFIG_RELOADS_TOTAL,
    CONTROL_REQUESTS_TOTAL,
    MIGRATION_STAGE,
    MIGRATION_MOVES_TOTAL,
    MIGRATION_UNANSWERED_TOTAL,
    PROCESS_CPU_SECONDS_TOTAL,
    PROCESS_RESIDENT_MEMORY_BYTES,
];

/// Call latency buckets: a synthetic read takes microseconds, a stalled device seconds.
pub const CALL_BUCKETS: &[f64] = &[0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];
/// Failover gap buckets: standby loses nothing, `rust` mode loses up to a read interval.
pub const GAP_BUCKETS: &[f64] = &[0.0, 0.004, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Debug, thiserror::Error)]
#[error("cannot install the Prometheus recorder: {0}")]
pub struct RecorderError(String);

/// Installs the global recorder (histograms with explicit buckets, never summaries) and
/// returns the handle that renders the text exposition for `/metrics`.
pub fn install_recorder() -> Result<PrometheusHandle, RecorderError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(CALL_DURATION_SECONDS.into()), CALL_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(FAILOVER_GAP_SECONDS.into()), GAP_BUCKETS))
        .map_err(|e| RecorderError(e.to_string()))?
        .install_recorder()
        .map_err(|e| RecorderError(e.to_string()))?;
    describe();
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(CALLS_TOTAL, "Board calls made through sessions, by path, operation and outcome.");
    describe_histogram!(CALL_DURATION_SECONDS, Unit::Seconds, "Latency of board data calls by path.");
    describe_gauge!(ACTIVE_SESSIONS, "Live sessions by board and path.");
    describe_counter!(ROUTING_DECISIONS_TOTAL, "Routing decisions at session start, by path and reason.");
    describe_gauge!(BREAKER_STATE, "1 for the breaker's current state, 0 for the others.");
    describe_counter!(BREAKER_TRANSITIONS_TOTAL, "Breaker transitions by target state and cause.");
    describe_gauge!(BREAKER_FAILURE_RATIO, "Failed share of Rust calls in the breaker window.");
    describe_gauge!(BREAKER_SLOW_RATIO, "Slow share of Rust calls in the breaker window.");
    describe_counter!(FAILOVERS_TOTAL, "Sessions moved from the Rust path to C++.");
    describe_histogram!(FAILOVER_GAP_SECONDS, Unit::Seconds, "Data missing across a failover, in seconds of signal.");
    describe_counter!(SHADOW_COMPARISONS_TOTAL, "Samples compared between C++ and Rust in shadow mode.");
    describe_counter!(SHADOW_MISMATCHES_TOTAL, "Shadow comparisons that differed.");
    describe_counter!(SAMPLES_DELIVERED_TOTAL, "Samples handed to callers.");
    describe_counter!(SAMPLES_DROPPED_TOTAL, "Samples dropped because a ring buffer was full.");
    describe_gauge!(CONFIG_GENERATION, "Generation of the config in force.");
    describe_counter!(CONFIG_RELOADS_TOTAL, "Config reloads by result.");
    describe_counter!(CONTROL_REQUESTS_TOTAL, "Operator control requests by action and result.");
    describe_gauge!(MIGRATION_STAGE, "Stage index (from 0) of the board's migration plan.");
    describe_counter!(MIGRATION_MOVES_TOTAL, "Migration plan stage changes by verdict.");
    describe_counter!(MIGRATION_UNANSWERED_TOTAL, "Plan boundaries whose evidence could not be had, asked again.");
    describe_counter!(PROCESS_CPU_SECONDS_TOTAL, Unit::Seconds, "CPU time used by the process.");
    describe_gauge!(PROCESS_RESIDENT_MEMORY_BYTES, Unit::Bytes, "Resident memory of the process.");
}
