//! `custos analyze --rules` and `--ioc` on the committed sample: alerts with Suricata's fields,
//! rule errors and unsupported rules reported without stopping the run, indicators named in
//! their alerts, and the same alerts at any thread count.

mod common;

use common::custos;
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/iot-small.pcap")
}

fn run(dir: &Path, extra: &[&OsStr]) -> std::process::Output {
    let sample = sample();
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("analyze"),
        sample.as_os_str(),
        OsStr::new("-o"),
        dir.as_os_str(),
        OsStr::new("--quiet"),
    ];
    args.extend_from_slice(extra);
    custos(&args)
}

fn alerts(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("alerts.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const RULES: &str = r#"# a comment
alert mqtt any any -> any any (msg:"anonymous MQTT connect"; mqtt.type:CONNECT; mqtt.connect.flags:!username; classtype:policy-violation; sid:100; rev:2;)
alert mqtt any any -> any any (msg:"MQTT publish from a sensor"; mqtt.publish.topic; content:"/sensor-"; sid:101;)
alert dns any any -> any any (msg:"broker lookup"; dns.query; content:"broker.lab"; nocase; endswith; priority:1; sid:102;)
alert http any any -> any any (msg:"status request on an HTTP flow"; flow:to_server; content:"GET /status"; sid:105;)
alert tls any any -> any any (msg:"no TLS flow here"; content:"GET"; sid:106;)
alert tcp any any -> any any (msg:"bad hex"; content:"|4|"; sid:103;)
alert dnp3 any any -> any any (msg:"not parsed"; sid:104;)
alert mqtt any any -> any any (msg:"no sid here"; mqtt.type:CONNECT;)
"#;

#[test]
fn rules_alert_with_suricata_fields_and_report_bad_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("t.rules");
    std::fs::write(&rules, RULES).unwrap();
    let out = tmp.path().join("out");
    let r = run(&out, &[OsStr::new("--rules"), rules.as_os_str()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    let d = &stats["detector"];
    assert_eq!(d["loaded"], 5, "{d}");
    assert_eq!(d["errors"], 2, "{d}");
    assert_eq!(d["skipped"], 1, "{d}");
    assert_eq!(d["skipped_by_keyword"]["dnp3"], 1, "{d}");
    // The counts also sit at the fixed place `rules`, whichever detectors ran.
    let counts = &stats["rules"];
    assert_eq!(
        (&counts["loaded"], &counts["skipped"], &counts["errors"]),
        (&d["loaded"], &d["skipped"], &d["errors"]),
        "{counts}"
    );
    assert_eq!(counts["skipped_by_keyword"]["dnp3"], 1, "{counts}");
    let errors = d["error_list"].to_string();
    assert!(errors.contains("t.rules:7"), "bad hex on line 7: {errors}");
    assert!(
        errors.contains("t.rules:9"),
        "missing sid on line 9: {errors}"
    );
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        stderr.contains("syntax errors"),
        "warning printed: {stderr}"
    );

    let a = alerts(&out);
    let by_sid = |sid: u64| {
        a.iter()
            .filter(|x| x["alert"]["signature_id"] == sid)
            .count()
    };
    assert!(by_sid(100) >= 1, "anonymous CONNECT in the sample");
    assert!(by_sid(101) >= 1);
    assert!(by_sid(102) >= 1);
    let c = a
        .iter()
        .find(|x| x["alert"]["signature_id"] == 100)
        .unwrap();
    assert_eq!(c["alert"]["rev"], 2);
    assert_eq!(c["alert"]["gid"], 1);
    assert_eq!(
        c["alert"]["category"],
        "Potential Corporate Privacy Violation"
    );
    assert_eq!(c["alert"]["severity"], 1);
    assert_eq!(c["alert"]["action"], "allowed");
    assert_eq!(c["app_proto"], "mqtt");
    assert_eq!(c["custos"]["detector"], "rules");
    assert!(c["community_id"].as_str().unwrap().starts_with("1:"));
    assert_eq!(c["mqtt"]["connect"]["protocol_string"], "MQTT", "{c}");
    assert!(c["mqtt"]["connect"].get("password").is_none());
    let dns = a
        .iter()
        .find(|x| x["alert"]["signature_id"] == 102)
        .unwrap();
    assert_eq!(dns["alert"]["severity"], 1, "priority overrides");
    assert_eq!(dns["dest_port"], 53);
}

#[test]
fn a_rule_file_without_a_loadable_rule_is_refused_with_its_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("bad.rules");
    std::fs::write(
        &rules,
        "alert tcp any any -> any any (msg:\"x\";)\nnonsense\n",
    )
    .unwrap();
    let r = run(
        &tmp.path().join("out"),
        &[OsStr::new("--rules"), rules.as_os_str()],
    );
    assert_eq!(r.status.code(), Some(2));
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(
        e.contains("no rule loaded") && e.contains("bad.rules:1"),
        "{e}"
    );
}

#[test]
fn indicators_alert_naming_the_indicator() {
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("iocs.txt");
    std::fs::write(&list, "# feed\n198.18.0.1\nlab\n").unwrap();
    let bundle = tmp.path().join("bundle.json");
    std::fs::write(
        &bundle,
        r#"{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","spec_version":"2.1",
        "id":"indicator--11111111-1111-4111-8111-111111111111","name":"lab broker",
        "pattern":"[domain-name:value = 'broker.lab']","pattern_type":"stix",
        "created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","valid_from":"2026-01-01T00:00:00Z"}]}"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let r = run(
        &out,
        &[
            OsStr::new("--ioc"),
            bundle.as_os_str(),
            OsStr::new("--ioc"),
            list.as_os_str(),
        ],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let a = alerts(&out);
    assert!(a.iter().all(|x| x["custos"]["detector"] == "ioc"));
    let ip: Vec<_> = a
        .iter()
        .filter(|x| x["custos"]["explanation"]["indicator"]["kind"] == "ip")
        .collect();
    assert!(!ip.is_empty());
    // One alert per flow and indicator, not one per packet.
    let mut flows: Vec<&str> = ip
        .iter()
        .map(|x| x["community_id"].as_str().unwrap())
        .collect();
    flows.sort_unstable();
    let n = flows.len();
    flows.dedup();
    assert_eq!(flows.len(), n);
    let dom = a
        .iter()
        .find(|x| x["custos"]["explanation"]["field"] == "dns.query")
        .expect("a DNS query for broker.lab");
    assert_eq!(
        dom["custos"]["explanation"]["indicator"]["id"],
        "indicator--11111111-1111-4111-8111-111111111111"
    );
    assert!(dom["alert"]["signature"]
        .as_str()
        .unwrap()
        .contains("broker.lab"));
}

#[test]
fn signature_alerts_are_the_same_at_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("t.rules");
    std::fs::write(&rules, RULES).unwrap();
    let list = tmp.path().join("iocs.txt");
    std::fs::write(&list, "198.18.0.1\n").unwrap();
    let mut outs = Vec::new();
    for t in ["1", "2", "4"] {
        let out = tmp.path().join(format!("out{t}"));
        let r = run(
            &out,
            &[
                OsStr::new("--rules"),
                rules.as_os_str(),
                OsStr::new("--ioc"),
                list.as_os_str(),
                OsStr::new("--threads"),
                OsStr::new(t),
            ],
        );
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        outs.push(std::fs::read(out.join("alerts.jsonl")).unwrap());
        // Two detectors: the rule counts are still at `rules`.
        let stats: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap())
                .unwrap();
        assert_eq!(stats["rules"]["loaded"], 5, "{}", stats["rules"]);
        assert_eq!(stats["rules"], {
            let d = &stats["detectors"]["rules"];
            serde_json::json!({"loaded": d["loaded"], "skipped": d["skipped"],
                "skipped_by_keyword": d["skipped_by_keyword"], "errors": d["errors"]})
        });
    }
    assert!(!outs[0].is_empty());
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
}
