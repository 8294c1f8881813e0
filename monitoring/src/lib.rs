//! Monitoring for switchyard: Prometheus metrics, the status page and the audit trail.
//!
//! This crate will own the metric names and label sets, the status document and the HTML
//! page rendered from it. It does not own any routing or breaker logic: it only observes
//! the events the runtime publishes. The Grafana dashboard and Prometheus alert rules
//! that read these metrics live beside it in this folder.
#![forbid(unsafe_code)]
