//! custos-share over a trimmed iotlab analysis output (`tests/data/iotlab`): determinism,
//! pseudonymisation, ATT&CK references, errors, and the reference validators
//! (stix2-validator in strict mode, PyMISP, the OCSF 1.5.0 JSON Schema).

use std::collections::BTreeSet;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use custos_privacy::Pseudonymizer;
use custos_share::{
    export, misp_event, ocsf_events, ocsf_json_lines, stix_bundle, Format, ShareError,
    ShareOptions, Tlp, OCSF_VERSION,
};
use serde_json::Value;

/// The fixture: findings and events plain, alerts zstd-compressed.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/iotlab")
}

fn opts() -> ShareOptions {
    ShareOptions {
        tlp: Tlp::AmberStrict,
        organisation: "Example Lab <\"ops\">".to_string(),
    }
}

fn pseudonymizer() -> Pseudonymizer {
    Pseudonymizer::from_key_hex("1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202")
        .expect("valid key")
}

/// A fresh, empty temporary folder, removed when the returned guard drops.
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("custos-share-{name}-"))
        .tempdir()
        .expect("create scratch folder")
}

/// The fixture's text, zstd files decompressed.
fn fixture_text() -> String {
    let mut text = String::new();
    for name in ["alerts.jsonl", "findings.jsonl", "events.jsonl"] {
        let mut r = custos_output::open_output(&fixture(), name).expect("fixture file");
        r.read_to_string(&mut text).expect("read fixture");
    }
    text
}

/// Every address-looking token of `text`.
fn addresses(text: &str) -> BTreeSet<IpAddr> {
    tokens(text).filter_map(|t| t.parse().ok()).collect()
}

/// `text` split on everything that cannot be part of an address.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| !t.is_empty())
}

#[test]
fn same_folder_gives_same_bytes() {
    let a = stix_bundle(&fixture(), &opts(), None).unwrap().to_string();
    let b = stix_bundle(&fixture(), &opts(), None).unwrap().to_string();
    assert_eq!(a, b);
    let a = misp_event(&fixture(), &opts(), None).unwrap().to_string();
    let b = misp_event(&fixture(), &opts(), None).unwrap().to_string();
    assert_eq!(a, b);
    let mut p1 = pseudonymizer();
    let mut p2 = pseudonymizer();
    let a = stix_bundle(&fixture(), &opts(), Some(&mut p1)).unwrap();
    let b = stix_bundle(&fixture(), &opts(), Some(&mut p2)).unwrap();
    assert_eq!(a.to_string(), b.to_string());
}

#[test]
fn export_gives_the_file_text_of_each_format() {
    let dir = fixture();
    let pretty = |v: Value| serde_json::to_string_pretty(&v).unwrap() + "\n";
    let stix = export(&dir, Format::Stix, &opts(), None).unwrap();
    assert_eq!(stix, pretty(stix_bundle(&dir, &opts(), None).unwrap()));
    let misp = export(&dir, Format::Misp, &opts(), None).unwrap();
    assert_eq!(misp, pretty(misp_event(&dir, &opts(), None).unwrap()));
    let ocsf = export(&dir, Format::Ocsf, &opts(), None).unwrap();
    assert_eq!(
        ocsf,
        ocsf_json_lines(&ocsf_events(&dir, &opts(), None).unwrap())
    );
}

#[test]
fn timestamps_are_packet_times() {
    let bundle = stix_bundle(&fixture(), &opts(), None).unwrap();
    let identity = &bundle["objects"][1];
    assert_eq!(identity["type"], "identity");
    // The last packet time of the fixture (mqtt-anonymous's last_seen), not the wall clock.
    assert_eq!(identity["created"], "2026-11-26T00:02:13.293Z");
}

#[test]
fn pseudonymised_exports_hold_no_original_address() {
    let originals = addresses(&fixture_text());
    assert!(originals.contains(&"198.18.0.66".parse::<IpAddr>().unwrap()));
    assert!(originals.contains(&"2001:db8::66".parse::<IpAddr>().unwrap()));
    let mut p = pseudonymizer();
    let stix = stix_bundle(&fixture(), &opts(), Some(&mut p))
        .unwrap()
        .to_string();
    let misp = misp_event(&fixture(), &opts(), Some(&mut p))
        .unwrap()
        .to_string();
    for (format, text) in [("stix", &stix), ("misp", &misp)] {
        let leaked: Vec<&str> = tokens(text)
            .filter(|t| t.parse::<IpAddr>().is_ok_and(|a| originals.contains(&a)))
            .collect();
        assert!(leaked.is_empty(), "{format} export leaks {leaked:?}");
        assert!(!text.contains("c2.example.net"), "{format} leaks a domain");
        assert!(!text.contains("198.18.0.66"), "{format} leaks the attacker");
    }
    // Without a pseudonymizer the attacker is there: the test above is not vacuous.
    let plain = stix_bundle(&fixture(), &opts(), None).unwrap().to_string();
    assert!(plain.contains("[ipv4-addr:value = '198.18.0.66']"));
}

#[test]
fn iotlab_findings_carry_attack_references() {
    let bundle = stix_bundle(&fixture(), &opts(), None).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let external: BTreeSet<&str> = objects
        .iter()
        .filter(|o| o["type"] == "attack-pattern")
        .filter_map(|o| o["external_references"][0]["external_id"].as_str())
        .collect();
    for t in [
        "T1046",
        "T1110.001",
        "T1499.001",
        "T1105",
        "T1078.001",
        "T0855",
    ] {
        assert!(
            external.contains(t),
            "no attack-pattern for {t}: {external:?}"
        );
    }
    let indicates = objects
        .iter()
        .filter(|o| o["type"] == "relationship" && o["relationship_type"] == "indicates")
        .count();
    assert!(indicates >= 5, "{indicates} indicates relationships");
    let event = misp_event(&fixture(), &opts(), None).unwrap();
    let tags: Vec<&str> = event["Event"]["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(tags.contains(&"tlp:amber+strict"));
    assert!(
        tags.contains(&"misp-galaxy:mitre-ics-techniques=\"Unauthorized Command Message - T0855\"")
    );
    assert!(
        tags.contains(&"misp-galaxy:mitre-attack-pattern=\"Network Service Discovery - T1046\"")
    );
}

#[test]
fn every_object_carries_the_tlp_marking() {
    let bundle = stix_bundle(&fixture(), &opts(), None).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let marking = Tlp::AmberStrict.stix_marking_id();
    assert_eq!(objects[0]["id"], marking);
    assert_eq!(objects[0]["name"], "TLP:AMBER+STRICT");
    for o in &objects[1..] {
        assert_eq!(
            o["object_marking_refs"],
            serde_json::json!([marking]),
            "{o}"
        );
    }
}

#[test]
fn indicators_cover_fingerprints_and_domains_of_attackers() {
    let bundle = stix_bundle(&fixture(), &opts(), None).unwrap();
    let patterns: Vec<&str> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["pattern"].as_str())
        .collect();
    let has = |p: &str| patterns.iter().any(|q| q.contains(p));
    assert!(has("e7d705a3286e19ea42f587b344ee6865"));
    assert!(has("t13d1516h2_8daaf6152771_02713d6af862"));
    assert!(has("[domain-name:value = 'c2.example.net']"));
    assert!(has("[ipv6-addr:value = '2001:db8::66']"));
    assert!(!has("benign.example.com"), "a non-attacker's query");
}

#[test]
fn rejects_a_bad_line_naming_file_and_line() {
    let scratch = scratch("bad-line");
    let dir = scratch.path();
    std::fs::write(dir.join("findings.jsonl"), "{\"finding\":{}}\n{not json\n").unwrap();
    match stix_bundle(dir, &opts(), None) {
        Err(ShareError::Parse { path, line, .. }) => {
            assert_eq!(path, dir.join("findings.jsonl"));
            assert_eq!(line, 2);
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn rejects_a_non_utc_timestamp() {
    let scratch = scratch("bad-time");
    let dir = scratch.path();
    let alert = r#"{"timestamp":"2026-11-26T01:00:00.000000+0100","event_type":"alert"}"#;
    std::fs::write(dir.join("alerts.jsonl"), format!("{alert}\n")).unwrap();
    let err = stix_bundle(dir, &opts(), None).unwrap_err();
    assert!(matches!(err, ShareError::Parse { line: 1, .. }), "{err}");
    assert!(err.to_string().contains("alerts.jsonl:1:"), "{err}");
}

#[test]
fn rejects_a_folder_without_outputs() {
    let scratch = scratch("empty");
    let dir = scratch.path();
    assert!(matches!(
        misp_event(dir, &opts(), None),
        Err(ShareError::NoInputs { .. })
    ));
}

/// Whether `module` imports in python3; when not, skips (or fails with
/// `CUSTOS_REQUIRE_SHARE_VALIDATORS=1`).
fn have_python_module(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let why =
            format!("python3 module {module} not installed (pip install stix2-validator pymisp)");
        if std::env::var_os("CUSTOS_REQUIRE_SHARE_VALIDATORS").is_some_and(|v| v == "1") {
            panic!("{why} and CUSTOS_REQUIRE_SHARE_VALIDATORS=1");
        }
        custos_test_support::skip(&why);
    }
    ok
}

/// Runs a python snippet with `path` as its argument; panics with its output on failure.
fn run_python(script: &str, path: &Path) {
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("run python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "validator failed on {}:\n{text}",
        path.display()
    );
}

const STIX_VALIDATE: &str = include_str!("data/validate_stix.py");

#[test]
fn stix_bundles_pass_strict_stix2_validator() {
    if !have_python_module("stix2validator") {
        return;
    }
    let scratch = scratch("stix");
    let dir = scratch.path();
    let mut p = pseudonymizer();
    for (name, pseudo) in [("plain.json", None), ("pseudo.json", Some(&mut p))] {
        let bundle: Value = stix_bundle(&fixture(), &opts(), pseudo).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
        run_python(STIX_VALIDATE, &path);
    }
}

const MISP_LOAD: &str = include_str!("data/load_misp.py");

#[test]
fn misp_events_load_in_pymisp() {
    if !have_python_module("pymisp") {
        return;
    }
    let scratch = scratch("misp");
    let dir = scratch.path();
    let mut p = pseudonymizer();
    for (name, pseudo) in [("plain.json", None), ("pseudo.json", Some(&mut p))] {
        let event: Value = misp_event(&fixture(), &opts(), pseudo).unwrap();
        // The fixture's alerts make network-connection objects and attributes.
        let e = &event["Event"];
        assert!(e["Object"].as_array().is_some_and(|o| !o.is_empty()), "{e}");
        assert!(e["Attribute"].as_array().is_some_and(|a| !a.is_empty()));
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&event).unwrap()).unwrap();
        run_python(MISP_LOAD, &path);
    }
}

/// The lines of the fixture's `name` (zstd decompressed) whose `event_type` is `kind`.
fn fixture_records(name: &str, kind: &str) -> usize {
    let mut text = String::new();
    let mut r = custos_output::open_output(&fixture(), name).expect("fixture file");
    r.read_to_string(&mut text).expect("read fixture");
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event_type"] == kind)
        .count()
}

#[test]
fn ocsf_gives_one_detection_finding_per_alert_and_finding() {
    let events = ocsf_events(&fixture(), &opts(), None).unwrap();
    let alerts = fixture_records("alerts.jsonl", "alert");
    let findings = fixture_records("findings.jsonl", "finding");
    let flows = fixture_records("flows.jsonl", "flow");
    assert_eq!((alerts, findings, flows), (41, 10, 33));
    assert_eq!(events.len(), alerts + findings + flows);
    // Flows come last, one Network Activity each, counters and endpoints from flows.jsonl.
    let (findings_part, flows_part) = events.split_at(alerts + findings);
    for e in flows_part {
        assert_eq!(e["class_uid"], 4001, "{e}");
        assert_eq!(e["type_uid"], 400106);
        assert_eq!(e["severity_id"], 1);
        let t = &e["traffic"];
        assert_eq!(
            t["packets"].as_u64().unwrap(),
            t["packets_in"].as_u64().unwrap() + t["packets_out"].as_u64().unwrap()
        );
        assert!(e["src_endpoint"]["ip"].is_string() && e["dst_endpoint"]["ip"].is_string());
        assert!(e["end_time"].as_i64().unwrap() >= e["start_time"].as_i64().unwrap());
    }
    let first_flow: Value = serde_json::from_str(
        std::fs::read_to_string(fixture().join("flows.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        flows_part[0]["traffic"]["bytes_out"],
        first_flow["flow"]["bytes_toserver"]
    );
    assert_eq!(flows_part[0]["src_endpoint"]["ip"], first_flow["src_ip"]);
    for e in findings_part {
        assert_eq!(e["class_uid"], 2004, "{e}");
        assert_eq!(e["category_uid"], 2);
        assert_eq!(e["activity_id"], 1);
        assert_eq!(e["type_uid"], 200401);
        assert_eq!(e["metadata"]["version"], OCSF_VERSION);
        assert_eq!(
            e["metadata"]["labels"],
            serde_json::json!(["TLP:AMBER+STRICT"])
        );
        assert_eq!(e["metadata"]["product"]["name"], "custos");
        assert_eq!(
            e["metadata"]["product"]["vendor_name"],
            "Example Lab <\"ops\">"
        );
        assert_eq!(e["metadata"]["uid"], e["finding_info"]["uid"]);
    }
    let uids: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e["metadata"]["uid"].as_str())
        .collect();
    assert_eq!(uids.len(), events.len(), "uids are unique");

    // The first alert: EVE severity 2 is Medium, its packet time in ms, Kitsune's score kept.
    let first = &events[0];
    assert_eq!(first["severity_id"], 3);
    assert_eq!(first["severity"], "Medium");
    assert_eq!(first["time"], 1_795_651_272_354_i64);
    assert_eq!(first["finding_info"]["analytic"]["name"], "kitsune");
    assert_eq!(first["finding_info"]["analytic"]["uid"], "9000001");
    assert_eq!(first["unmapped"]["custos"]["packet"], 16217);
    assert!(
        first.get("confidence_score").is_none(),
        "kitsune has no probability"
    );
    assert!(
        first.get("evidences").is_none(),
        "a frame without IP has no endpoints"
    );

    // An alerted flow: endpoints, protocol, Community ID, observables.
    let flow = events
        .iter()
        .find(|e| e["evidences"][0]["src_endpoint"]["ip"] == "198.18.0.66")
        .expect("an alert from the attacker");
    let evidence = &flow["evidences"][0];
    assert_eq!(evidence["dst_endpoint"]["ip"], "198.18.0.12");
    assert_eq!(evidence["dst_endpoint"]["port"], 139);
    assert_eq!(evidence["connection_info"]["protocol_name"], "tcp");
    assert_eq!(evidence["connection_info"]["protocol_num"], 6);
    assert_eq!(
        evidence["connection_info"]["community_uid"],
        "1:CyfP5maecalrMLsVu4VNeTY7PSE="
    );
    assert_eq!(flow["observables"][0]["type_id"], 2);
    assert_eq!(flow["observables"][0]["name"], "evidences.src_endpoint.ip");

    // Findings: severity words, ATT&CK, the peer as evidence, never the device.
    let rule = |r: &str| {
        events
            .iter()
            .find(|e| e["finding_info"]["analytic"]["name"] == r)
            .unwrap_or_else(|| panic!("no event for {r}"))
    };
    let brute = rule("brute-force");
    assert_eq!(
        (brute["severity_id"].as_u64(), brute["severity"].as_str()),
        (Some(5), Some("Critical"))
    );
    assert_eq!(
        brute["finding_info"]["attacks"][0]["sub_technique"]["uid"],
        "T1110.001"
    );
    assert_eq!(
        brute["finding_info"]["attacks"][0]["technique"]["uid"],
        "T1110"
    );
    assert_eq!(brute["evidences"][0]["src_endpoint"]["ip"], "198.18.0.66");
    assert_eq!(brute["count"], 4);
    assert_eq!(
        rule("modbus-write")["finding_info"]["attacks"][0]["technique"]["uid"],
        "T0855"
    );
    let telnet = rule("telnet-exposed");
    assert_eq!(telnet["severity_id"], 3);
    assert!(
        telnet.get("evidences").is_none(),
        "no peer, and the device is not exported"
    );
    // Every finding's device is 198.18.0.1, .12 or .20 (alerts may name them as destinations).
    let findings_text = ocsf_json_lines(&events[alerts..alerts + findings]);
    for device in ["198.18.0.1\"", "198.18.0.12\"", "198.18.0.20\""] {
        assert!(
            !findings_text.contains(device),
            "a finding exports {device}"
        );
    }
}

#[test]
fn ocsf_same_folder_gives_same_bytes() {
    let a = ocsf_json_lines(&ocsf_events(&fixture(), &opts(), None).unwrap());
    let b = ocsf_json_lines(&ocsf_events(&fixture(), &opts(), None).unwrap());
    assert_eq!(a, b);
    let mut p1 = pseudonymizer();
    let mut p2 = pseudonymizer();
    let a = ocsf_json_lines(&ocsf_events(&fixture(), &opts(), Some(&mut p1)).unwrap());
    let b = ocsf_json_lines(&ocsf_events(&fixture(), &opts(), Some(&mut p2)).unwrap());
    assert_eq!(a, b);
    assert_eq!(a.lines().count(), 51 + 33);
}

#[test]
fn pseudonymised_ocsf_holds_no_original_address() {
    let originals = addresses(&fixture_text());
    let mut p = pseudonymizer();
    let events = ocsf_events(&fixture(), &opts(), Some(&mut p)).unwrap();
    let text = ocsf_json_lines(&events);
    let leaked: Vec<&str> = tokens(&text)
        .filter(|t| t.parse::<IpAddr>().is_ok_and(|a| originals.contains(&a)))
        .collect();
    assert!(leaked.is_empty(), "ocsf export leaks {leaked:?}");
    assert!(!text.contains("198.18.0.66"), "ocsf leaks the attacker");
    assert!(
        !text.contains("community_uid"),
        "Community IDs hash the original addresses"
    );
    // The attacker's pseudonym is the one the STIX export uses.
    let mut p = pseudonymizer();
    let stix = stix_bundle(&fixture(), &opts(), Some(&mut p))
        .unwrap()
        .to_string();
    let attacker = events
        .iter()
        .find(|e| e["finding_info"]["analytic"]["name"] == "brute-force")
        .and_then(|e| e["evidences"][0]["src_endpoint"]["ip"].as_str())
        .expect("brute-force has a pseudonymised peer");
    assert!(
        stix.contains(&format!("value = '{attacker}'")),
        "{attacker}"
    );
    // Without a pseudonymizer the attacker is there: the test above is not vacuous.
    let plain = ocsf_json_lines(&ocsf_events(&fixture(), &opts(), None).unwrap());
    assert!(plain.contains("\"ip\":\"198.18.0.66\""));
}

/// An output folder whose alert carries hostile text where custos writes its own.
fn hostile_folder() -> tempfile::TempDir {
    let scratch = scratch("ocsf-hostile");
    let dir = scratch.path();
    let signature = format!("a\"b\\c\nd\u{0}e</script>{}", "é".repeat(5000));
    let alert = serde_json::json!({
        "timestamp": "2026-11-26T00:01:12.354509+0000",
        "event_type": "alert",
        "src_ip": "2001:db8::66",
        "src_port": 1,
        "dest_ip": "2001:db8::1",
        "dest_port": 2,
        "proto": "IPv6-ICMP",
        "community_id": "1:\"},{\"injected\":1",
        "alert": {"signature_id": 1, "signature": signature, "category": "x\ny", "severity": 9},
        "custos": {"detector": "flow\u{7}", "score": 0.25, "threshold": 0.5, "model_sha256": "not a digest"},
    });
    let finding = serde_json::json!({"finding": {
        "rule": "r\"ule", "title": "", "severity": "severe", "first_seen": "2026-11-26T00:01:12Z",
        "last_seen": "2026-11-26T00:01:13Z", "count": u64::MAX, "mitre_attack": ["T1046", "T1046'\"", "zz"],
        "peer": {"ip": "198.51.100.7"}, "device": {"ip": "198.51.100.1"},
    }});
    std::fs::write(dir.join("alerts.jsonl"), format!("{alert}\n")).unwrap();
    std::fs::write(dir.join("findings.jsonl"), format!("{finding}\n")).unwrap();
    scratch
}

#[test]
fn ocsf_escapes_and_bounds_hostile_text() {
    let hostile = hostile_folder();
    let dir = hostile.path();
    let events = ocsf_events(dir, &opts(), None).unwrap();
    let text = ocsf_json_lines(&events);
    assert_eq!(text.lines().count(), 2, "one line per event");
    let back: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, events);
    let alert = &events[0];
    let title = alert["finding_info"]["title"].as_str().unwrap();
    assert!(title.starts_with("a\"b\\c\nd\u{0}e</script>"));
    assert!(title.len() <= 1024, "{}", title.len());
    assert_eq!(alert["severity_id"], 1, "EVE severity 9 is informational");
    assert_eq!(
        alert["confidence_score"],
        serde_json::Value::Null,
        "detector is not `flow`"
    );
    let connection = &alert["evidences"][0]["connection_info"];
    assert!(connection.get("community_uid").is_none(), "{connection}");
    assert_eq!(connection["protocol_ver_id"], 6);
    assert_eq!(connection["protocol_num"], 58);
    assert!(alert["unmapped"]["custos"].get("model_sha256").is_none());
    let finding = &events[1];
    assert_eq!(finding["severity_id"], 99);
    assert_eq!(finding["severity"], "severe");
    assert_eq!(finding["count"], i32::MAX);
    assert_eq!(finding["finding_info"]["title"], "custos finding r\"ule");
    let attacks = finding["finding_info"]["attacks"].as_array().unwrap();
    assert_eq!(attacks.len(), 1, "only well-formed technique ids");
    assert!(
        !text.contains("198.51.100.1\""),
        "the device is not exported"
    );
}

#[test]
fn ocsf_rejects_an_impossible_date_naming_file_and_line() {
    let scratch = scratch("ocsf-bad-date");
    let dir = scratch.path();
    let alert = r#"{"timestamp":"2026-02-30T00:00:00.000000+0000","event_type":"alert"}"#;
    std::fs::write(dir.join("alerts.jsonl"), format!("\n{alert}\n")).unwrap();
    let err = ocsf_events(dir, &opts(), None).unwrap_err();
    assert!(matches!(err, ShareError::Parse { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("alerts.jsonl:2:"), "{err}");
}

/// Whether PyPI `ocsf-json-schema` and `jsonschema` import; when not, skips (or fails with
/// `CUSTOS_REQUIRE_SHARE_VALIDATORS=1`).
fn have_ocsf_validator() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import ocsf_json_schema, jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let why = "python3 modules ocsf_json_schema, jsonschema not installed \
                   (pip install ocsf-json-schema jsonschema)";
        if std::env::var_os("CUSTOS_REQUIRE_SHARE_VALIDATORS").is_some_and(|v| v == "1") {
            panic!("{why} and CUSTOS_REQUIRE_SHARE_VALIDATORS=1");
        }
        custos_test_support::skip(why);
    }
    ok
}

/// Writes `events` as JSON Lines to `path` and validates every line with
/// `tests/data/validate_ocsf.py`, checking that it counted them all.
fn validate_ocsf(events: &[Value], path: &Path) {
    std::fs::write(path, ocsf_json_lines(events)).unwrap();
    let out = Command::new("python3")
        .args(["-c", include_str!("data/validate_ocsf.py")])
        .arg(path)
        .output()
        .expect("run python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "OCSF validation failed on {}:\n{text}",
        path.display()
    );
    let expected = format!("{} events valid against OCSF 1.5.0", events.len());
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn ocsf_events_pass_the_ocsf_1_5_0_json_schema() {
    if !have_ocsf_validator() {
        return;
    }
    let scratch = scratch("ocsf");
    let dir = scratch.path();
    let mut p = pseudonymizer();
    for (name, pseudo) in [("plain.jsonl", None), ("pseudo.jsonl", Some(&mut p))] {
        let events = ocsf_events(&fixture(), &opts(), pseudo).unwrap();
        assert_eq!(events.len(), 51 + 33);
        validate_ocsf(&events, &dir.join(name));
    }
    let hostile = ocsf_events(hostile_folder().path(), &opts(), None).unwrap();
    validate_ocsf(&hostile, &dir.join("hostile.jsonl"));
}
