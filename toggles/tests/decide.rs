//! Decisions: sticky and monotonic bucketing, independence between boards, targeting,
//! the kill switch, ramps, and the golden vectors that pin the hash.

use board_api::{BoardId, InputParams};
use proptest::prelude::*;
use std::path::Path;
use toggles::{BucketedBy, Config, Path as Route, Percent, Reason, RuleKind, SessionIdentity, Timestamp};

fn config(yaml: &str) -> Config {
    Config::parse(yaml, Path::new("test.yaml")).unwrap()
}

fn serial(s: &str) -> InputParams {
    InputParams { serial_number: s.to_owned(), ..InputParams::default() }
}

fn cyton_at(percent: f64) -> Config {
    config(&format!("boards:\n  cyton:\n    mode: rust\n    percent: {percent}\n"))
}

const T0: Timestamp = Timestamp(0);

#[test]
fn golden_vectors_pin_the_bucketing() {
    // If any of these change, every fleet would be re-bucketed on upgrade.
    assert_eq!(toggles::murmur3_32(b"hello", 0), 0x248b_fa47);
    assert_eq!(toggles::salt_seed("cyton"), 779_315_796);
    let c = cyton_at(50.0);
    let got: Vec<(String, f64)> = ["CY-0001", "CY-0002", "DEADBEEF", "x"]
        .iter()
        .map(|s| {
            let p = serial(s);
            let d = c.decide(BoardId::Cyton, &SessionIdentity::new(&p), T0, 7);
            (s.to_string(), d.bucket.unwrap())
        })
        .collect();
    let expected = [
        ("CY-0001", toggles::hash_to_point(toggles::bucket_hash("CY-0001", 779_315_796))),
        ("CY-0002", toggles::hash_to_point(toggles::bucket_hash("CY-0002", 779_315_796))),
    ];
    for (name, point) in expected {
        assert_eq!(got.iter().find(|g| g.0 == name).unwrap().1, point);
    }
    let pinned: Vec<u32> = ["CY-0001", "CY-0002", "DEADBEEF", "x"]
        .iter()
        .map(|s| toggles::bucket_hash(s, toggles::salt_seed("cyton")))
        .collect();
    assert_eq!(pinned, GOLDEN, "bucketing changed: this would move devices between C++ and Rust");
    // At 50%: points 0.4149, 0.5630, 0.4624, 0.5208.
    let paths: Vec<Route> = ["CY-0001", "CY-0002", "DEADBEEF", "x"]
        .iter()
        .map(|s| c.decide(BoardId::Cyton, &SessionIdentity::new(&serial(s)), T0, 1).path)
        .collect();
    assert_eq!(paths, [Route::Rust, Route::Cpp, Route::Rust, Route::Cpp]);
}

const GOLDEN: [u32; 4] = [1_782_075_389, 2_418_031_491, 1_986_103_976, 2_236_754_017];

#[test]
fn same_device_same_answer_and_stickiness_order() {
    let c = cyton_at(50.0);
    let p = InputParams { serial_number: "A1".into(), mac_address: "AA:BB".into(), ..InputParams::default() };
    let a = c.decide(BoardId::Cyton, &SessionIdentity::new(&p), T0, 1);
    let b = cyton_at(50.0).decide(BoardId::Cyton, &SessionIdentity::with_session_key(&p, "other"), T0, 2);
    assert_eq!((a.path, a.bucket), (b.path, b.bucket));
    assert_eq!(a.bucketed_by, Some(BucketedBy::Key(toggles::StickinessKey::SerialNumber)));
    assert_eq!(a.reason, Reason::Split);

    let by_mac = config("boards:\n  cyton:\n    mode: rust\n    percent: 50\n    stickiness: [mac_address, serial_number]\n");
    let d = by_mac.decide(BoardId::Cyton, &SessionIdentity::new(&p), T0, 1);
    assert_eq!(d.bucketed_by, Some(BucketedBy::Key(toggles::StickinessKey::MacAddress)));
}

#[test]
fn sessions_without_a_key_are_bucketed_randomly_and_say_so() {
    let c = cyton_at(50.0);
    let p = InputParams::default();
    let mut paths = std::collections::HashSet::new();
    for _ in 0..200 {
        let d = c.decide(BoardId::Cyton, &SessionIdentity::new(&p), T0, 1);
        assert_eq!(d.bucketed_by, Some(BucketedBy::Random));
        assert!(d.to_string().contains("at random"), "{d}");
        paths.insert(d.path);
    }
    assert_eq!(paths.len(), 2, "a random 50% split over 200 sessions sees both paths");
    let d = c.decide(BoardId::Cyton, &SessionIdentity::with_session_key(&p, "user-7"), T0, 1);
    assert_eq!(d.bucketed_by, Some(BucketedBy::Key(toggles::StickinessKey::SessionKey)));
}

proptest! {
    #[test]
    fn raising_the_percentage_never_moves_a_session_back(key in "[A-Za-z0-9:-]{1,24}", a in 0u32..=10_000, b in 0u32..=10_000) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let low = cyton_at(f64::from(lo) / 100.0);
        let high = cyton_at(f64::from(hi) / 100.0);
        let p = serial(&key);
        let id = SessionIdentity::new(&p);
        let dl = low.decide(BoardId::Cyton, &id, T0, 1);
        let dh = high.decide(BoardId::Cyton, &id, T0, 1);
        // Rust at the lower percentage stays Rust at the higher; C++ at the higher was C++ at the lower.
        if dl.path == Route::Rust { prop_assert_eq!(dh.path, Route::Rust); }
        if dh.path == Route::Cpp { prop_assert_eq!(dl.path, Route::Cpp); }
    }
}

#[test]
fn split_shares_match_the_percentage() {
    for percent in [0.01, 1.0, 25.0, 50.0, 99.99] {
        let c = cyton_at(percent);
        let n = 200_000;
        let rust = (0..n)
            .filter(|i| {
                let p = serial(&format!("dev-{i}"));
                c.decide(BoardId::Cyton, &SessionIdentity::new(&p), T0, 1).path == Route::Rust
            })
            .count();
        let share = rust as f64 / n as f64 * 100.0;
        let tolerance = 4.0 * (percent * (100.0 - percent) / n as f64).sqrt() + 0.005;
        assert!((share - percent).abs() <= tolerance, "{percent}% gave {share}%");
    }
}

#[test]
fn boards_bucket_independently() {
    let c = config("boards:\n  cyton:\n    mode: rust\n    percent: 50\n  cyton_daisy:\n    mode: rust\n    percent: 50\n");
    let n = 20_000;
    let (mut both, mut cyton) = (0, 0);
    for i in 0..n {
        let p = serial(&format!("dev-{i}"));
        let id = SessionIdentity::new(&p);
        let a = c.decide(BoardId::Cyton, &id, T0, 1).path == Route::Rust;
        let b = c.decide(BoardId::CytonDaisy, &id, T0, 1).path == Route::Rust;
        cyton += a as u32;
        both += (a && b) as u32;
    }
    // Independent halves overlap on about a quarter; identical buckets would overlap on half.
    let overlap = f64::from(both) / f64::from(n);
    assert!((overlap - 0.25).abs() < 0.02, "overlap {overlap}, cyton {cyton}");
}

#[test]
fn modes_map_to_paths_inside_and_outside_the_percentage() {
    for (mode, inside) in [("rust", Route::Rust), ("shadow", Route::Shadow), ("standby", Route::Standby)] {
        let c = config(&format!("boards:\n  cyton:\n    mode: {mode}\n    percent: 50\n"));
        let mut seen = std::collections::HashSet::new();
        for i in 0..200 {
            let p = serial(&format!("d{i}"));
            seen.insert(c.decide(BoardId::Cyton, &SessionIdentity::new(&p), T0, 1).path);
        }
        assert_eq!(seen, [inside, Route::Cpp].into_iter().collect(), "{mode}");
    }
    let c = config("boards:\n  cyton: shadow\n  synthetic: cpp\n");
    let p = serial("x");
    let d = c.decide(BoardId::Cyton, &SessionIdentity::new(&p), T0, 3);
    assert_eq!((d.path, d.reason, d.bucket, d.generation), (Route::Shadow, Reason::Static, None, 3));
    let d = c.decide(BoardId::Synthetic, &SessionIdentity::new(&p), T0, 3);
    assert_eq!((d.path, d.reason), (Route::Cpp, Reason::Static));
    assert_eq!(d.rule.to_string(), "boards.synthetic.mode");
    let d = c.decide(BoardId::CytonDaisy, &SessionIdentity::new(&p), T0, 3);
    assert_eq!((d.path, d.reason), (Route::Cpp, Reason::Default));
    let d = c.decide(BoardId::Muse2, &SessionIdentity::new(&p), T0, 3);
    assert_eq!((d.path, d.reason), (Route::Rust, Reason::Default));
}

#[test]
fn targeting_rules_win_in_order_and_are_named() {
    let c = config(
        "boards:\n  cyton:\n    mode: rust\n    percent: 0.01\n    targeting:\n      - name: lab\n        serve: rust\n        serial_port: [/dev/ttyUSB0]\n        mac_address: [aa:bb:cc:dd:ee:ff]\n      - name: never\n        serve: cpp\n        serial_number: [S1, S2]\n      - serve: standby\n        session_key: [k1]\n",
    );
    let lab = InputParams { serial_port: "/dev/ttyUSB0".into(), serial_number: "S1".into(), ..Default::default() };
    let d = c.decide(BoardId::Cyton, &SessionIdentity::new(&lab), T0, 1);
    assert_eq!((d.path, d.reason, d.rule.kind), (Route::Rust, Reason::TargetingMatch, RuleKind::Targeting(0)));
    assert_eq!(d.rule.to_string(), "boards.cyton.targeting[0]");
    let mac = InputParams { mac_address: "AA:BB:CC:DD:EE:FF".into(), ..Default::default() };
    assert_eq!(c.decide(BoardId::Cyton, &SessionIdentity::new(&mac), T0, 1).rule.kind, RuleKind::Targeting(0));
    let d = c.decide(BoardId::Cyton, &SessionIdentity::new(&serial("S2")), T0, 1);
    assert_eq!((d.path, d.rule.kind), (Route::Cpp, RuleKind::Targeting(1)));
    let p = InputParams::default();
    let d = c.decide(BoardId::Cyton, &SessionIdentity::with_session_key(&p, "k1"), T0, 1);
    assert_eq!((d.path, d.rule.kind), (Route::Standby, RuleKind::Targeting(2)));
    let e = toggles::explain_config(&c, BoardId::Cyton, &SessionIdentity::new(&serial("S2")), T0);
    assert_eq!(e.rule_name.as_deref(), Some("never"));
    assert!(e.to_string().contains("TARGETING_MATCH"));
}

#[test]
fn kill_switch_sends_cpp_boards_to_cpp_and_keeps_rust_only_boards() {
    let c = config("kill_switch: true\nboards:\n  cyton:\n    mode: rust\n    targeting:\n      - serve: rust\n        serial_number: [S1]\n  muse_2: rust\n");
    let p = serial("S1");
    let d = c.decide(BoardId::Cyton, &SessionIdentity::new(&p), T0, 1);
    assert_eq!((d.path, d.reason, d.rule.kind), (Route::Cpp, Reason::Disabled, RuleKind::KillSwitch));
    let d = c.decide(BoardId::Muse2, &SessionIdentity::new(&p), T0, 1);
    assert_eq!((d.path, d.reason), (Route::Rust, Reason::Disabled));
    assert!(d.rule.to_string().contains("no C++ implementation"), "{}", d.rule);
}

#[test]
fn ramps_step_with_the_clock_and_never_move_sessions_back() {
    let c = config("boards:\n  cyton:\n    mode: rust\n    ramp:\n      start: 2026-11-23T10:00:00Z\n      step_duration: 1h\n      steps: [1, 5, 25, 100]\n");
    let start = Timestamp::parse("2026-11-23T10:00:00Z").unwrap();
    let hour = 3_600_000;
    let share = |t: Timestamp| {
        (0..20_000)
            .filter(|i| {
                let p = serial(&format!("dev-{i}"));
                c.decide(BoardId::Cyton, &SessionIdentity::new(&p), t, 1).path == Route::Rust
            })
            .count()
    };
    assert_eq!(share(Timestamp(start.0 - 1)), 0);
    let s1 = share(start);
    let s2 = share(Timestamp(start.0 + hour));
    let s3 = share(Timestamp(start.0 + 2 * hour + 5));
    assert!(s1 > 100 && s1 < 320, "{s1}");
    assert!(s2 > 800 && s2 < 1200, "{s2}");
    assert!(s3 > 4600 && s3 < 5400, "{s3}");
    assert_eq!(share(Timestamp(start.0 + 30 * hour)), 20_000);
    for i in 0..2000 {
        let p = serial(&format!("dev-{i}"));
        let id = SessionIdentity::new(&p);
        let mut was_rust = false;
        for step in 0..4 {
            let d = c.decide(BoardId::Cyton, &id, Timestamp(start.0 + step * hour), 1);
            assert_eq!(d.rule.kind, RuleKind::RampStep(step as u16));
            let rust = d.path == Route::Rust;
            assert!(rust || !was_rust, "session {i} left Rust at step {step}");
            was_rust = rust;
        }
    }
    let e = toggles::explain_config(&c, BoardId::Cyton, &SessionIdentity::new(&serial("a")), Timestamp(start.0 + hour + 1));
    let text = e.to_string();
    assert!(text.contains("step 2 (5%) since 2026-11-23T11:00:00Z; next step at 2026-11-23T12:00:00Z"), "{text}");
    assert_eq!(Percent::from_f64(5.0).unwrap(), e.decision.percent.unwrap());
}

#[test]
fn zero_percent_is_cpp_with_a_static_reason() {
    let c = cyton_at(0.0);
    let d = c.decide(BoardId::Cyton, &SessionIdentity::new(&serial("a")), T0, 1);
    assert_eq!((d.path, d.reason, d.rule.kind), (Route::Cpp, Reason::Static, RuleKind::Percent));
}

/// The first rule, in file order, whose lists contain one of the session's values: the
/// definition that the compiled lookup in `decide` must agree with.
fn first_rule_by_scan(c: &Config, id: &SessionIdentity<'_>) -> Option<u16> {
    c.board(BoardId::Cyton).targeting.iter().position(|r| r.matches(id)).map(|i| i as u16)
}

fn yaml_list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
    format!("[{}]", quoted.join(", "))
}

proptest! {
    #[test]
    fn targeting_lookup_agrees_with_trying_each_rule_in_order(
        rules in prop::collection::vec(
            (prop::collection::vec("[abAB0:]{1,3}", 1..4),
             prop::collection::vec("[abAB0:]{1,3}", 0..3),
             prop::collection::vec("[abAB0:]{1,3}", 0..3)),
            1..6),
        serial in "[abAB0:]{0,3}",
        mac in "[abAB0:]{0,3}",
        key in "[abAB0:]{0,3}",
    ) {
        let mut yaml = String::from("boards:\n  cyton:\n    mode: rust\n    percent: 50\n    targeting:\n");
        for (i, (serials, macs, keys)) in rules.iter().enumerate() {
            yaml.push_str(&format!("      - serve: {}\n        serial_number: {}\n", if i % 2 == 0 { "rust" } else { "cpp" }, yaml_list(serials)));
            if !macs.is_empty() { yaml.push_str(&format!("        mac_address: {}\n", yaml_list(macs))); }
            if !keys.is_empty() { yaml.push_str(&format!("        session_key: {}\n", yaml_list(keys))); }
        }
        let c = config(&yaml);
        let p = InputParams { serial_number: serial, mac_address: mac, ..InputParams::default() };
        let id = SessionIdentity::with_session_key(&p, &key);
        let d = c.decide(BoardId::Cyton, &id, T0, 1);
        match first_rule_by_scan(&c, &id) {
            Some(i) => {
                prop_assert_eq!(d.rule.kind, RuleKind::Targeting(i));
                prop_assert_eq!(d.path, c.board(BoardId::Cyton).targeting[usize::from(i)].serve);
            }
            None => prop_assert_eq!(d.reason, Reason::Split),
        }
    }
}

#[test]
fn mac_addresses_bucket_without_regard_to_case() {
    let by_mac = config("boards:\n  cyton:\n    mode: rust\n    percent: 50\n    stickiness: mac_address\n");
    let point = |mac: &str| {
        let p = InputParams { mac_address: mac.into(), ..InputParams::default() };
        by_mac.decide(BoardId::Cyton, &SessionIdentity::new(&p), T0, 1).bucket.unwrap()
    };
    let upper = point("AA:BB:CC:DD:EE:FF");
    assert_eq!(point("aa:bb:cc:dd:ee:ff"), upper);
    assert_eq!(point("Aa:bB:cC:Dd:eE:Ff"), upper);
    // Golden: an upper-case address hashes exactly as before normalisation existed, and
    // the lower-case one now hashes like it.
    let seed = toggles::salt_seed("cyton");
    assert_eq!(toggles::bucket_hash("AA:BB:CC:DD:EE:FF", seed), MAC_GOLDEN);
    assert_eq!(toggles::mac_bucket_hash("aa:bb:cc:dd:ee:ff", seed), MAC_GOLDEN);
    assert_eq!(toggles::hash_to_point(MAC_GOLDEN), upper);
    assert_ne!(toggles::bucket_hash("aa:bb:cc:dd:ee:ff", seed), MAC_GOLDEN, "case matters to the raw hash");
}

const MAC_GOLDEN: u32 = 1_310_516_109;

#[test]
fn a_drawn_bucket_makes_an_identity_less_session_answer_the_same_every_time() {
    let p = InputParams::default();
    let at = |percent: f64| cyton_at(percent);
    let mut inside_at_50 = 0;
    for i in 0..2_000u32 {
        let hash = i.wrapping_mul(2_654_435_761);
        let id = SessionIdentity::new(&p).with_drawn_bucket(hash);
        let d50 = at(50.0).decide(BoardId::Cyton, &id, T0, 1);
        assert_eq!(d50.bucketed_by, Some(BucketedBy::Random));
        assert_eq!(d50, at(50.0).decide(BoardId::Cyton, &id, T0, 1), "same config, same answer");
        let d70 = at(70.0).decide(BoardId::Cyton, &id, T0, 1);
        if d50.path == Route::Rust {
            inside_at_50 += 1;
            assert_eq!(d70.path, Route::Rust, "raising the percentage keeps every session inside");
        }
        let d20 = at(20.0).decide(BoardId::Cyton, &id, T0, 1);
        if d20.path == Route::Rust {
            assert_eq!(d50.path, Route::Rust, "a session inside 20% is inside 50%");
        }
    }
    assert!((900..1_100).contains(&inside_at_50), "{inside_at_50} of 2000 inside 50%");
}
