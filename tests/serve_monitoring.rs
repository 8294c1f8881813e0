//! The monitoring files against the real exporter: the alert rules pass `promtool check
//! rules`, and every metric the dashboard and the rules read is exported by `serve`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn monitoring_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("monitoring").join(name)
}

/// Installs Debian's `prometheus` package (which provides promtool) when it is missing.
fn promtool() -> PathBuf {
    let found = |p: &str| Command::new(p).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !found("promtool") {
        let install = || {
            Command::new("apt-get").args(["install", "-y", "--no-install-recommends", "prometheus"]).env("DEBIAN_FRONTEND", "noninteractive").status().is_ok_and(|s| s.success())
        };
        if !install() {
            let _ = Command::new("apt-get").arg("update").status();
            assert!(install(), "could not install promtool (apt-get install prometheus)");
        }
    }
    assert!(found("promtool"), "promtool is not on PATH after installing prometheus");
    PathBuf::from("promtool")
}

/// Every `switchyard_*` name in a file.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("switchyard_") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

#[test]
fn alert_rules_pass_promtool() {
    let out = Command::new(promtool()).args(["check", "rules"]).arg(monitoring_file("alert-rules.yml")).output().unwrap();
    assert!(out.status.success(), "promtool check rules failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn fleet_fallback_rules_and_the_alertmanager_route_pass_promtool_and_amtool() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/prometheus.sh");
    assert!(Command::new("bash").arg(script).status().unwrap().success(), "scripts/prometheus.sh could not install Prometheus and Alertmanager");
    let rules = Command::new("promtool").args(["check", "rules"]).arg(monitoring_file("prometheus/fleet-fallback-rules.yml")).output().unwrap();
    assert!(rules.status.success(), "promtool check rules failed:\n{}{}", String::from_utf8_lossy(&rules.stdout), String::from_utf8_lossy(&rules.stderr));
    let route = Command::new("amtool").args(["check-config"]).arg(monitoring_file("prometheus/alertmanager-route.yml")).output().unwrap();
    assert!(route.status.success(), "amtool check-config failed:\n{}{}", String::from_utf8_lossy(&route.stdout), String::from_utf8_lossy(&route.stderr));
}

#[test]
fn every_metric_the_dashboard_and_rules_read_is_exported() {
    let dashboard = std::fs::read_to_string(monitoring_file("grafana-dashboard.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&dashboard).expect("the dashboard is valid JSON");
    let rules = std::fs::read_to_string(monitoring_file("alert-rules.yml")).unwrap();
    let fleet_rules = std::fs::read_to_string(monitoring_file("prometheus/fleet-fallback-rules.yml")).unwrap();
    let mut wanted = metric_names(&dashboard);
    wanted.extend(metric_names(&rules));
    wanted.extend(metric_names(&fleet_rules));
    // The label that names an alert's action for switchyard's webhook, not a metric.
    assert!(wanted.remove("switchyard_action"));
    assert!(wanted.len() >= 15, "the files read {} metrics: {wanted:?}", wanted.len());

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchyard.yaml");
    std::fs::write(&config, "boards:\n  synthetic: rust\n").unwrap();
    std::fs::write(dir.path().join("sessions.yaml"), "sessions:\n  - {board: synthetic, serial_number: M-1}\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on http://").unwrap().to_owned();

    let scrape = || {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        body
    };
    let started = Instant::now();
    let missing = loop {
        let exported = scrape();
        let exported: BTreeSet<String> = exported.lines().filter(|l| !l.starts_with('#')).flat_map(metric_names).collect();
        let missing: Vec<&String> = wanted.iter().filter(|n| !exported.contains(*n)).collect();
        if missing.is_empty() || started.elapsed() > Duration::from_secs(30) {
            break missing.into_iter().cloned().collect::<Vec<_>>();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(missing.is_empty(), "read by the dashboard or rules but not exported: {missing:?}");
}
