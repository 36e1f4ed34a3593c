//! Scenario parsing and validation (no root needed).

use custos_lab::scenario::{Attack, Scenario, Target, BUILT_INS};
use custos_lab::LabError;

fn err(text: &str) -> String {
    match Scenario::from_toml(text) {
        Err(LabError::Scenario(m)) => m,
        other => panic!("expected a scenario error, got {other:?}"),
    }
}

const MINIMAL: &str = r#"
name = "t"
[[devices]]
name = "d"
count = 2
mqtt = { interval_ms = 1000, jitter_ms = 100 }
[attacker]
name = "evil"
[[phases]]
name = "a"
duration_s = 5
attack = { tool = "hping-syn", target = "gateway", port = 80, count = 10, interval_us = 1000 }
"#;

#[test]
fn every_built_in_parses_and_validates() {
    for b in BUILT_INS {
        let s = Scenario::from_toml(b.toml).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        assert_eq!(s.name, b.name);
    }
    let names: Vec<_> = BUILT_INS.iter().map(|b| b.name).collect();
    for n in [
        "smoke",
        "mirai-like",
        "mitm",
        "mqtt-abuse",
        "iot-exposure",
        "benign-long",
    ] {
        assert!(names.contains(&n), "missing built-in {n}");
    }
}

#[test]
fn smoke_fits_in_a_minute_and_attacks() {
    let s = Scenario::from_toml(BUILT_INS[0].toml).unwrap();
    let total: f64 = s.warmup_s
        + s.phases
            .iter()
            .map(|p| p.duration_s + if p.attack.is_some() { p.drain_s } else { 0.0 })
            .sum::<f64>();
    assert!(total <= 55.0, "smoke may take {total} s");
    assert!(s.has_attacks());
}

#[test]
fn benign_long_has_no_attacks() {
    let b = BUILT_INS.iter().find(|b| b.name == "benign-long").unwrap();
    let s = Scenario::from_toml(b.toml).unwrap();
    assert!(!s.has_attacks());
    assert!(s.attacker.is_none());
}

#[test]
fn parses_a_minimal_scenario_with_defaults() {
    let s = Scenario::from_toml(MINIMAL).unwrap();
    assert_eq!(s.device_names(), ["d-1", "d-2"]);
    assert_eq!(s.warmup_s, 3.0);
    assert!(s.gateway.telnet && s.gateway.mqtt);
    assert_eq!(s.phases[0].drain_s, 1.0);
    assert_eq!(
        s.phases[0].attack,
        Some(Attack::HpingSyn {
            target: Target::Gateway,
            port: 80,
            count: 10,
            interval_us: 1000
        })
    );
}

#[test]
fn device_targets_parse() {
    let t = MINIMAL.replace(
        r#"attack = { tool = "hping-syn", target = "gateway", port = 80, count = 10, interval_us = 1000 }"#,
        r#"attack = { tool = "arpspoof", victim = { device = "d-2" } }"#,
    );
    let s = Scenario::from_toml(&t).unwrap();
    assert_eq!(
        s.phases[0].attack,
        Some(Attack::Arpspoof {
            victim: Target::Device("d-2".into())
        })
    );
}

#[test]
fn rejects_unknown_fields() {
    assert!(err(&format!("{MINIMAL}\nbogus = 1\n")).contains("bogus"));
}

#[test]
fn rejects_an_attack_without_an_attacker() {
    let t = MINIMAL.replace("[attacker]\nname = \"evil\"\n", "");
    assert!(err(&t).contains("no [attacker]"));
}

#[test]
fn rejects_attacker_chatter_that_labelling_cannot_tell_apart() {
    for extra in [
        "tftp = { interval_ms = 1000, jitter_ms = 100 }",
        "ssdp = true",
    ] {
        let t = MINIMAL.replace("name = \"evil\"\n", &format!("name = \"evil\"\n{extra}\n"));
        assert!(err(&t).contains("not supported on the attacker"), "{extra}");
        // A device may have them.
        let t = MINIMAL.replace("count = 2\n", &format!("count = 2\n{extra}\n"));
        Scenario::from_toml(&t).unwrap_or_else(|e| panic!("{extra}: {e}"));
    }
}

#[test]
fn rejects_unbounded_floods() {
    let t = MINIMAL.replace("count = 10,", "count = 10000000,");
    assert!(err(&t).contains("count 10000000"));
    let t = MINIMAL.replace("interval_us = 1000", "interval_us = 1");
    assert!(err(&t).contains("interval_us 1"));
}

#[test]
fn rejects_unknown_target_device() {
    let t = MINIMAL.replace("target = \"gateway\"", "target = { device = \"d-9\" }");
    assert!(err(&t).contains("d-9 does not exist"));
}

#[test]
fn rejects_bad_names_and_reserved_phases() {
    assert!(err(&MINIMAL.replace("name = \"t\"", "name = \"T x\"")).contains("scenario name"));
    assert!(err(&MINIMAL.replace("name = \"a\"", "name = \"startup\"")).contains("reserved"));
    assert!(err(&MINIMAL.replace("name = \"evil\"", "name = \"d-1\"")).contains("already used"));
}

#[test]
fn rejects_jitter_not_below_interval() {
    let t = MINIMAL.replace("jitter_ms = 100", "jitter_ms = 1000");
    assert!(err(&t).contains("jitter_ms 1000"));
}

#[test]
fn rejects_too_many_devices_and_long_phases() {
    assert!(err(&MINIMAL.replace("count = 2", "count = 41")).contains("41 devices"));
    assert!(err(&MINIMAL.replace("duration_s = 5", "duration_s = 99999")).contains("duration_s"));
}

#[test]
fn telnet_administration_parses_and_needs_the_gateways_telnet() {
    let t = MINIMAL.replace(
        "mqtt = { interval_ms = 1000, jitter_ms = 100 }",
        "telnet = { interval_ms = 20000, jitter_ms = 5000, typo_one_in = 4 }",
    );
    let s = Scenario::from_toml(&t).unwrap();
    let admin = s.devices[0].behaviour.telnet.as_ref().unwrap();
    assert_eq!((admin.every.interval_ms, admin.typo_one_in), (20000, 4));
    let off = t.replace("[[devices]]", "[gateway]\ntelnet = false\n\n[[devices]]");
    assert!(err(&off).contains("telnet sessions need"));
    assert!(err(&t.replace("typo_one_in = 4", "typo_one_in = 5000")).contains("typo_one_in"));
}

#[test]
fn mqtt_sessions_per_reading_parse() {
    let t = MINIMAL.replace(
        "mqtt = { interval_ms = 1000, jitter_ms = 100 }",
        "mqtt = { interval_ms = 1000, jitter_ms = 100, reconnect = true }",
    );
    let s = Scenario::from_toml(&t).unwrap();
    assert!(s.devices[0].behaviour.mqtt.as_ref().unwrap().reconnect);
    let kept = Scenario::from_toml(MINIMAL).unwrap();
    assert!(!kept.devices[0].behaviour.mqtt.as_ref().unwrap().reconnect);
}

#[test]
fn the_telnet_failure_delay_is_bounded() {
    let with = |ms: u32| {
        MINIMAL.replace(
            "[[devices]]",
            &format!("[gateway]\ntelnet_fail_delay_ms = {ms}\n\n[[devices]]"),
        )
    };
    let s = Scenario::from_toml(&with(3000)).unwrap();
    assert_eq!(s.gateway.telnet_fail_delay_ms, 3000);
    assert!(err(&with(10_001)).contains("telnet_fail_delay_ms"));
    assert_eq!(
        Scenario::from_toml(MINIMAL)
            .unwrap()
            .gateway
            .telnet_fail_delay_ms,
        300
    );
}

#[test]
fn rejects_hydra_against_a_device() {
    let t = MINIMAL.replace(
        r#"attack = { tool = "hping-syn", target = "gateway", port = 80, count = 10, interval_us = 1000 }"#,
        r#"attack = { tool = "hydra-telnet", target = { device = "d-1" }, users = ["a"], passwords = ["b"] }"#,
    );
    assert!(err(&t).contains("telnet"));
}

/// MINIMAL with its attack replaced by `attack`.
fn with_attack(attack: &str) -> String {
    MINIMAL.replace(
        r#"attack = { tool = "hping-syn", target = "gateway", port = 80, count = 10, interval_us = 1000 }"#,
        &format!("attack = {attack}"),
    )
}

#[test]
fn the_scripted_and_ics_attacks_parse_with_their_bounds() {
    let ok = [
        r#"{ tool = "nmap-random", hosts = 100, ports = "23,2323", max_rate = 200 }"#,
        r#"{ tool = "telnet-infect", credential = ["root", "xc3511"] }"#,
        r#"{ tool = "telnet-brute", credentials = [["root", "vizxv"], ["admin", "admin"]] }"#,
        r#"{ tool = "telnet-brute", credentials = [["root", "xc3511"]], pause_ms = 200 }"#,
        r#"{ tool = "modbus-write", table = "coil", start = 1, values = [1, 0], count = 3, interval_ms = 500 }"#,
        r#"{ tool = "coap-discover", target = "gateway", count = 5, interval_ms = 100 }"#,
        r#"{ tool = "ssdp-search", target = "all", count = 5, interval_ms = 100 }"#,
    ];
    for a in ok {
        let s = Scenario::from_toml(&with_attack(a)).unwrap_or_else(|e| panic!("{a}: {e}"));
        assert!(s.phases[0].attack.is_some());
    }
    let bad = [
        (
            r#"{ tool = "nmap-random", hosts = 0, ports = "23", max_rate = 200 }"#,
            "hosts 0",
        ),
        (
            r#"{ tool = "nmap-random", hosts = 5, ports = "23; rm", max_rate = 200 }"#,
            "ports",
        ),
        (
            r#"{ tool = "telnet-infect", credential = ["root", "a'b"] }"#,
            "[A-Za-z0-9._@!-]",
        ),
        (
            r#"{ tool = "telnet-brute", credentials = [] }"#,
            "0 credential pairs",
        ),
        (
            r#"{ tool = "telnet-brute", credentials = [["root", "a b"]] }"#,
            "[A-Za-z0-9._@!-]",
        ),
        (
            r#"{ tool = "telnet-brute", credentials = [["root", "x"]], pause_ms = 70000 }"#,
            "pause_ms",
        ),
        (
            r#"{ tool = "modbus-write", table = "coil", start = 1, values = [2], count = 1, interval_ms = 500 }"#,
            "0 or 1",
        ),
        (
            r#"{ tool = "modbus-write", table = "holding", start = 1, values = [], count = 1, interval_ms = 500 }"#,
            "values 0",
        ),
        (
            r#"{ tool = "coap-discover", target = "all", count = 5, interval_ms = 100 }"#,
            "single target",
        ),
        (
            r#"{ tool = "ssdp-search", target = "all", count = 0, interval_ms = 100 }"#,
            "count 0",
        ),
        // A broker that accepts every login cannot be brute-forced.
        (
            r#"{ tool = "mqtt-login", users = ["a"], passwords = ["b"] }"#,
            "mqtt_credential",
        ),
    ];
    for (a, why) in bad {
        let e = err(&with_attack(a));
        assert!(e.contains(why), "{a}: {e}");
    }
}

#[test]
fn mqtt_login_needs_a_checked_broker_with_a_clean_credential() {
    let a = r#"{ tool = "mqtt-login", users = ["admin", "iot"], passwords = ["public"] }"#;
    let t = with_attack(a).replace(
        "[[devices]]",
        "[gateway]\nmqtt_credential = [\"u\", \"p\"]\n\n[[devices]]",
    );
    Scenario::from_toml(&t).unwrap();
    let t2 = t.replace(r#"["u", "p"]"#, r#"["u:x", "p"]"#);
    assert!(err(&t2).contains("mqtt_credential"));
    let t3 = t.replace(r#"users = ["admin", "iot"]"#, r#"users = ["ad min"]"#);
    assert!(err(&t3).contains("[A-Za-z0-9._@!-]"));
}

#[test]
fn node_plan_is_deterministic_and_inside_198_18_0_0_15() {
    let s = Scenario::from_toml(MINIMAL).unwrap();
    let a = custos_lab::lab::plan_nodes(&s, "custos-lab-1");
    let b = custos_lab::lab::plan_nodes(&s, "custos-lab-2");
    let key = |v: &[custos_lab::lab::Node]| {
        v.iter()
            .map(|n| (n.name.clone(), n.ip, n.mac.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&a), key(&b));
    for n in &a {
        if let Some(ip) = n.ip {
            assert_eq!(ip.octets()[..2], [198, 18], "{ip}");
        }
        assert!(n.netns.starts_with("custos-lab-"));
    }
    assert_eq!(a.iter().filter(|n| n.role == "sensor").count(), 1);
    assert!(a
        .iter()
        .any(|n| n.role == "attacker" && n.ip == Some("198.18.0.66".parse().unwrap())));
}

/// `scripts/lab-long/NAME-long.toml` is built-in NAME with ten minutes of benign traffic
/// before the attacks: the same text but for its name and the `benign` phase's duration
/// (they fell behind the built-ins once, and recordings made from them lacked devices).
#[test]
fn long_scenarios_follow_their_built_ins() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lab-long");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(name) = file.strip_suffix("-long.toml") else {
            continue;
        };
        let built_in = BUILT_INS
            .iter()
            .find(|b| b.name == name)
            .unwrap_or_else(|| panic!("{file}: no built-in scenario {name}"));
        let benign = "name = \"benign\"\nduration_s = ";
        let at = built_in.toml.find(benign).expect("a benign phase") + benign.len();
        let end = at + built_in.toml[at..].find('\n').unwrap();
        let want = format!("{}600.0{}", &built_in.toml[..at], &built_in.toml[end..]).replacen(
            &format!("name = \"{name}\""),
            &format!("name = \"{name}-long\""),
            1,
        );
        let have = std::fs::read_to_string(&path).unwrap();
        assert!(
            have == want,
            "{file} differs from `custos lab show {name}` with a 600 s benign phase"
        );
        Scenario::from_toml(&have).unwrap();
        checked += 1;
    }
    assert!(checked >= 4, "{checked} long scenarios");
}
