//! A migration plan across a fleet of two hosts, with the real parts: Debian's Prometheus
//! (2.42) scraping two `serve` processes every second, and Alertmanager (0.25) posting to
//! both. Time-compressed: boundaries every 2 s. Checked, in one run:
//! - clean shadow evidence advances the plan on both hosts at the same boundary;
//! - Rust corruption injected on one host holds it on both, and it advances again on
//!   both once the fault is gone and a whole clean window has passed;
//! - a restarted host replays its way back to the other's stage, at the same boundary;
//! - Prometheus down holds the plan on both, saying why; back up, both carry on;
//! - a breaker opening on one host rolls the plan back on both;
//! - an alert routed through Alertmanager force-opens the board on both hosts and its
//!   resolution releases it on both.
//!
//! Each fault-to-reaction time is printed (`cargo test -- --nocapture` shows them).

mod common;

use common::{http, http_with_body};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const TOKEN: &str = "fleet-test-token-0123456789";
const LIMIT: Duration = Duration::from_secs(40);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Installs Prometheus and Alertmanager when missing (the project's one installer).
fn install() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/prometheus.sh");
    let status = Command::new("bash").arg(script).status().unwrap();
    assert!(status.success(), "scripts/prometheus.sh could not install prometheus and prometheus-alertmanager");
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rfc3339(unix_secs: u64) -> String {
    let out = Command::new("date").args(["-u", "-d", &format!("@{unix_secs}"), "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The plan the operator's guide (docs/migrations.md) shows, with seconds for minutes.
fn plan(start: &str, prometheus: u16) -> String {
    format!(
        "    migration:
      start: {start}
      check_every: 2s
      evidence: prometheus
      prometheus: {{ url: http://127.0.0.1:{prometheus}, timeout: 1s, settle: 2s }}
      rollback_to: previous
      stages:
        - mode: cpp
          min_sample: {{ shadow_comparisons: 50 }}
          checks:
            - {{ measure: shadow_mismatches, max: 0 }}
        - mode: shadow
          sample_percent: 100
          min_duration: 10s
          min_sample: {{ shadow_comparisons: 200 }}
          checks:
            - {{ measure: shadow_mismatches, max: 0, on_fail: hold }}
            - {{ measure: breaker_openings, max: 0, on_fail: rollback }}
        - mode: rust
          percent: 50
          min_duration: 600s
          min_sample: {{ rust_calls: 20 }}
          checks:
            - {{ measure: breaker_openings, max: 0, on_fail: rollback }}
            - {{ measure: rust_failure_rate, max: 5 }}
        - mode: rust
          percent: 100
"
    )
}

/// A host's config: the plan, canary devices pinned to shadow and to rust (they give the
/// evidence from the start), a breaker quick enough for a test, and `faults`.
fn host_yaml(plan: &str, faults: &str) -> String {
    format!(
        "boards:
  synthetic:
{plan}    targeting:
      - {{ name: shadow-canaries, serve: shadow, serial_number: [SHD-1, SHD-2] }}
      - {{ name: rust-canaries, serve: rust, serial_number: [RST-1, RST-2, RST-3, RST-4, RST-5, RST-6] }}
    breaker:
      minimum_calls: 5
      window: {{ calls: 20 }}
      failure_rate_threshold: 50
      open_wait: 60s
    faults: {{ {faults} }}
"
    )
}

const SESSIONS: &str = "sessions:
  - {board: synthetic, serial_number: SHD-1}
  - {board: synthetic, serial_number: SHD-2}
  - {board: synthetic, serial_number: RST-1}
  - {board: synthetic, serial_number: RST-2}
  - {board: synthetic, serial_number: RST-3}
  - {board: synthetic, serial_number: RST-4}
  - {board: synthetic, serial_number: RST-5}
  - {board: synthetic, serial_number: RST-6}
  - {board: synthetic, serial_number: DEV-1}
";

struct Host {
    name: &'static str,
    dir: PathBuf,
    port: u16,
    process: Option<Process>,
}

impl Host {
    fn config(&self) -> PathBuf {
        self.dir.join("switchyard.yaml")
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn start(&mut self) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
        cmd.args(["serve", "--config"]).arg(self.config()).arg("--data-dir").arg(self.dir.join("data"));
        cmd.args(["--listen", &self.addr().to_string(), "--poll-ms", "20"]);
        cmd.env("SWITCHYARD_CONTROL_TOKEN", TOKEN).env("RUST_LOG", "error");
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert!(line.starts_with("listening on"), "{}: unexpected first line {line:?}", self.name);
        self.process = Some(Process(child));
    }

    fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            let _ = Command::new("kill").args(["-TERM", &p.0.id().to_string()]).status();
            let started = Instant::now();
            while p.0.try_wait().unwrap().is_none() {
                assert!(started.elapsed() < LIMIT, "{} did not stop", self.name);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn status(&self) -> Value {
        let (code, body) = http(self.addr(), "GET", "/status", None);
        assert_eq!(code, 200, "{}: /status answered {code}", self.name);
        serde_json::from_str(&body).unwrap()
    }

    fn board(&self) -> Value {
        self.status()["boards"].as_array().unwrap().iter().find(|b| b["board"] == "synthetic").cloned().unwrap()
    }

    fn plan(&self) -> Value {
        self.board()["migration"].clone()
    }

    fn events(&self) -> Vec<String> {
        self.status()["events"].as_array().unwrap().iter().map(|e| format!("{}: {}", e["kind"].as_str().unwrap(), e["detail"].as_str().unwrap())).collect()
    }
}

fn write_prometheus(dir: &Path, hosts: &[&Host], alertmanager: u16) -> PathBuf {
    let targets: Vec<String> = hosts.iter().map(|h| format!("\"{}\"", h.addr())).collect();
    std::fs::write(
        dir.join("rules.yml"),
        // The shipped fleet fallback (monitoring/prometheus/fleet-fallback-rules.yml) with
        // a 15 s window for its 10 minutes.
        "groups:
  - name: switchyard-fleet-fallback
    rules:
      - alert: SwitchyardFleetFallback
        expr: sum by (board) (increase(switchyard_breaker_transitions_total{to=\"OPEN\"}[15s])) > 0
        labels:
          switchyard_action: force_open
",
    )
    .unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{ scrape_interval: 1s, evaluation_interval: 1s }}
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{{ targets: [\"127.0.0.1:{alertmanager}\"] }}]
scrape_configs:
  - job_name: switchyard
    static_configs: [{{ targets: [{}] }}]
",
            targets.join(", ")
        ),
    )
    .unwrap();
    config
}

fn write_alertmanager(dir: &Path, hosts: &[&Host]) -> PathBuf {
    let token = dir.join("token");
    std::fs::write(&token, TOKEN).unwrap();
    let receivers: Vec<String> = hosts
        .iter()
        .map(|h| {
            format!(
                "      - url: http://{}/control/alertmanager\n        send_resolved: true\n        http_config: {{ authorization: {{ type: Bearer, credentials_file: {} }} }}\n",
                h.addr(),
                token.display()
            )
        })
        .collect();
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:
  receiver: switchyard
  group_by: [alertname, board]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 5s
receivers:
  - name: switchyard
    webhook_configs:
{}",
            receivers.join("")
        ),
    )
    .unwrap();
    config
}

/// [`wait_for`], telling on a timeout where each host's plan and breaker stood.
fn wait_hosts(what: &str, hosts: [&Host; 2], mut cond: impl FnMut() -> bool) {
    let started = Instant::now();
    while !cond() {
        if started.elapsed() > LIMIT {
            for h in hosts {
                let b = h.board();
                eprintln!("{}: mode {} breaker {} {}; plan {}", h.name, b["mode"], b["breaker_mode"], b["breaker_state"], b["migration"]);
            }
            panic!("timed out waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start_prometheus(config: &Path, dir: &Path, port: u16) -> Process {
    Process(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("prom-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--rules.alert.resend-delay=1s")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn stage_of(plan: &Value) -> (u64, f64) {
    (plan["stage"].as_u64().unwrap(), plan["entered_at"].as_f64().unwrap())
}

fn now() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64()
}

#[test]
fn a_plan_moves_the_whole_fleet_on_shared_evidence() {
    install();
    let dir = tempfile::tempdir().unwrap();
    let (prometheus_port, alertmanager_port) = (free_port(), free_port());
    // Start on a whole second a few seconds ahead, so both hosts are up before stage 1.
    let start_secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() + 6;
    let plan = plan(&rfc3339(start_secs), prometheus_port);
    let mut hosts: Vec<Host> = ["host-a", "host-b"]
        .iter()
        .map(|name| {
            let d = dir.path().join(name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("switchyard.yaml"), host_yaml(&plan, "")).unwrap();
            std::fs::write(d.join("sessions.yaml"), SESSIONS).unwrap();
            Host { name, dir: d, port: free_port(), process: None }
        })
        .collect();
    for h in hosts.iter_mut() {
        let out = Command::new(env!("CARGO_BIN_EXE_switchyard")).arg("check").arg(h.config()).output().unwrap();
        assert!(out.status.success(), "check refused the plan: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("migration plan from"), "{}", String::from_utf8_lossy(&out.stdout));
        h.start();
    }
    let refs: Vec<&Host> = hosts.iter().collect();
    let prometheus_config = write_prometheus(dir.path(), &refs, alertmanager_port);
    let alertmanager_config = write_alertmanager(dir.path(), &refs);
    let _alertmanager = Process(
        Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", alertmanager_config.display()))
            .arg(format!("--storage.path={}", dir.path().join("am-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{alertmanager_port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let prometheus = start_prometheus(&prometheus_config, dir.path(), prometheus_port);
    let (a, b) = (&hosts[0], &hosts[1]);

    // 1. Clean shadow evidence: stage 1 -> 2 (shadow), on both at the same boundary.
    wait_hosts("both hosts in stage 2 (shadow)", [a, b], || [a, b].iter().all(|h| h.plan()["stage"] == 1));
    let (sa, sb) = (stage_of(&a.plan()), stage_of(&b.plan()));
    assert_eq!(sa, sb, "the hosts entered shadow at different boundaries");
    assert_eq!(a.board()["mode"], "shadow", "the stage is applied as the board's mode");
    let boundary = sa.1;
    assert_eq!(((boundary - start_secs as f64) * 1000.0).round() as i64 % 2000, 0, "a stage begins on a boundary");

    // 2. Rust corruption on host A holds the plan on both.
    std::fs::write(a.config(), host_yaml(&plan, "corrupt_rate: 100")).unwrap();
    let fault_at = now();
    let held = |h: &Host| {
        let p = h.plan();
        p["state"] == "holding" && p["reason"].as_str().is_some_and(|r| r.contains("shadow_mismatches is"))
    };
    wait_hosts("both hosts holding on the mismatches", [a, b], || held(a) && held(b));
    let hold_after = now() - fault_at;
    assert_eq!(a.plan()["stage"], 1);
    assert_eq!(b.plan()["stage"], 1);
    let checks = b.plan()["checks"].as_array().unwrap().clone();
    assert!(checks.iter().any(|c| c["measure"] == "shadow_mismatches" && c["state"] == "fail"), "{checks:?}");
    println!("fault to hold on both hosts: {hold_after:.1} s");

    // Fault gone: a whole clean window later, both advance together to rust 50%.
    std::fs::write(a.config(), host_yaml(&plan, "")).unwrap();
    wait_hosts("both hosts in stage 3 (rust 50%)", [a, b], || [a, b].iter().all(|h| h.plan()["stage"] == 2));
    assert_eq!(stage_of(&a.plan()), stage_of(&b.plan()));
    assert_eq!(b.board()["percent"], 50.0);

    // Prometheus down: both hosts hold and say why; back up, both carry on from its history.
    let held_at = stage_of(&b.plan());
    let mut stopped = prometheus;
    stopped.0.kill().unwrap();
    stopped.0.wait().unwrap();
    let down_at = now();
    let unanswered = |h: &Host| h.plan()["reason"].as_str().is_some_and(|r| r.contains("no evidence for the boundary"));
    wait_hosts("both hosts holding for want of evidence", [a, b], || unanswered(a) && unanswered(b));
    println!("Prometheus down to hold on both hosts: {:.1} s", now() - down_at);
    assert_eq!((a.plan()["stage"].clone(), b.plan()["stage"].clone()), (2.into(), 2.into()), "never a move on missing evidence");
    let _prometheus = start_prometheus(&prometheus_config, dir.path(), prometheus_port);
    wait_hosts("both hosts answered again", [a, b], || !unanswered(a) && !unanswered(b));
    assert_eq!(stage_of(&a.plan()), held_at);
    assert_eq!(stage_of(&b.plan()), held_at);

    // 3. Host A restarts: it replays the boundaries and lands where B is.
    let before = stage_of(&b.plan());
    hosts[0].stop();
    hosts[0].start();
    let (a, b) = (&hosts[0], &hosts[1]);
    wait_hosts("the restarted host back at stage 3", [a, b], || a.plan()["stage"] == 2);
    assert_eq!(stage_of(&a.plan()), before, "the restarted host must land on the same stage, entered at the same boundary");

    // 4. A breaker opening on host B rolls the plan back on both, and the fleet fallback
    // alert force-opens the board on both through Alertmanager.
    std::fs::write(b.config(), host_yaml(&plan, "error_rate: 100")).unwrap();
    let fault_at = now();
    let rolled_back = |h: &Host| {
        let p = h.plan();
        p["stage"] == 1 && p["state"] == "halted" && p["reason"].as_str().is_some_and(|r| r.contains("breaker_openings"))
    };
    let forced = |h: &Host| h.board()["breaker_mode"] == "forced_open";
    let (mut rollback_after, mut forced_after) = (None, None);
    let started = Instant::now();
    while rollback_after.is_none() || forced_after.is_none() {
        assert!(started.elapsed() < LIMIT, "no rollback ({rollback_after:?}) or fallback ({forced_after:?}) on both hosts");
        if rollback_after.is_none() && rolled_back(a) && rolled_back(b) {
            rollback_after = Some(now() - fault_at);
        }
        if forced_after.is_none() && forced(a) && forced(b) {
            forced_after = Some(now() - fault_at);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(stage_of(&a.plan()), stage_of(&b.plan()));
    assert_eq!(a.board()["mode"], "shadow");
    println!("fault to rollback on both hosts: {:.1} s", rollback_after.unwrap());
    println!("fault to force-open on both hosts through Alertmanager: {:.1} s", forced_after.unwrap());
    assert!(a.events().iter().any(|e| e.starts_with("operator: alertmanager: SwitchyardFleetFallback firing: synthetic breaker forced open")), "{:?}", a.events());
    assert!(a.events().iter().any(|e| e.starts_with("migration: synthetic: rollback at boundary")), "{:?}", a.events());

    // The alert resolves once no breaker opened for its window: released on both.
    std::fs::write(b.config(), host_yaml(&plan, "")).unwrap();
    let fixed_at = now();
    wait_hosts("the fallback released on both hosts", [a, b], || [a, b].iter().all(|h| h.board()["breaker_mode"] == "automatic"));
    println!("fault removed to release on both hosts: {:.1} s", now() - fixed_at);
    assert!(b.events().iter().any(|e| e.contains("SwitchyardFleetFallback resolved: synthetic breaker released")), "{:?}", b.events());
    assert_eq!(b.plan()["state"], "halted", "a rolled-back plan stays halted until the plan is edited");

    // `explain` replays the plan from the same Prometheus and decides in its stage.
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard")).arg("explain").arg("--config").arg(a.config()).args(["--board", "synthetic", "--serial-number", "DEV-1"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("path:     shadow") && text.contains("plan:     stage 2 of 4: shadow (sample 100%)") && text.contains("halted: rolled back at"), "{text}");
    println!("{text}");

    // Bad webhook input: refused with the reason, audited, never applied.
    let bearer = format!("Bearer {TOKEN}");
    let alert = |labels: &str| format!(r#"{{"version":"4","status":"firing","alerts":[{{"status":"firing","labels":{{{labels}}}}}]}}"#);
    let good = alert(r#""alertname":"X","board":"synthetic","switchyard_action":"force_open""#);
    let (code, _) = http_with_body(a.addr(), "POST", "/control/alertmanager", None, &good);
    assert_eq!(code, 401, "no token");
    for (body, says) in [
        (alert(r#""alertname":"X","board":"synthetic""#), "no switchyard_action label"),
        (alert(r#""alertname":"X","board":"synthetic","switchyard_action":"reboot""#), "not an action"),
        (alert(r#""alertname":"X","board":"toaster","switchyard_action":"force_open""#), "unknown board `toaster`"),
        (alert(r#""alertname":"X","board":"muse_2","switchyard_action":"force_open""#), "no C++ implementation"),
        ("garbage".to_owned(), "not Alertmanager's webhook JSON"),
    ] {
        let (code, text) = http_with_body(a.addr(), "POST", "/control/alertmanager", Some(&bearer), &body);
        assert_eq!(code, 400, "{body}: {text}");
        assert!(text.contains(says), "{body}: {text}");
        assert!(a.events().iter().any(|e| e.contains(says)), "refusal not audited: {says}");
    }
    assert_eq!(a.board()["breaker_mode"], "automatic", "a refused notification changes nothing");
}

/// One host, no Prometheus: `evidence: local` judges the host's own metrics, and a
/// restart begins the plan again at its first stage.
#[test]
fn a_single_host_plan_on_its_own_counters_advances_and_a_restart_begins_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let start_secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let plan = format!(
        "    migration:
      start: {}
      check_every: 1s
      evidence: local
      stages:
        - mode: cpp
          min_sample: {{ shadow_comparisons: 50 }}
          checks:
            - {{ measure: shadow_mismatches, max: 0 }}
        - mode: shadow
          min_duration: 2s
          min_sample: {{ shadow_comparisons: 50 }}
          checks:
            - {{ measure: shadow_mismatches, max: 0 }}
        - mode: rust
          percent: 100
",
        rfc3339(start_secs)
    );
    std::fs::write(dir.path().join("switchyard.yaml"), host_yaml(&plan, "")).unwrap();
    std::fs::write(dir.path().join("sessions.yaml"), SESSIONS).unwrap();
    let mut host = Host { name: "single", dir: dir.path().to_owned(), port: free_port(), process: None };
    host.start();
    wait_hosts("the single host's plan complete on its own evidence", [&host, &host], || host.plan()["state"] == "complete");
    assert_eq!(host.plan()["evidence"], "local");
    assert_eq!(host.board()["mode"], "rust");
    host.stop();
    let restarted_at = now();
    host.start();
    wait_hosts("the plan taken up again after the restart", [&host, &host], || !host.plan().is_null());
    let p = host.plan();
    assert!(p["stage"] == 0 || p["entered_at"].as_f64().unwrap() >= restarted_at.floor(), "a restart begins a local plan again: {p}");
    wait_hosts("the plan re-earned after the restart", [&host, &host], || host.plan()["state"] == "complete");
    assert!(host.plan()["entered_at"].as_f64().unwrap() >= restarted_at.floor(), "the last stage was earned again after the restart: {}", host.plan());
}
