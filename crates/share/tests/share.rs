//! custos-share over a trimmed iotlab analysis output (`tests/data/iotlab`): determinism,
//! pseudonymisation, ATT&CK references, errors, and the reference validators
//! (stix2-validator in strict mode, PyMISP).

use std::collections::BTreeSet;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use custos_privacy::Pseudonymizer;
use custos_share::{misp_event, stix_bundle, ShareError, ShareOptions, Tlp};
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

/// A fresh, empty folder under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("custos-share-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch folder");
    dir
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
    let dir = scratch("bad-line");
    std::fs::write(dir.join("findings.jsonl"), "{\"finding\":{}}\n{not json\n").unwrap();
    match stix_bundle(&dir, &opts(), None) {
        Err(ShareError::Parse { path, line, .. }) => {
            assert_eq!(path, dir.join("findings.jsonl"));
            assert_eq!(line, 2);
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn rejects_a_non_utc_timestamp() {
    let dir = scratch("bad-time");
    let alert = r#"{"timestamp":"2026-11-26T01:00:00.000000+0100","event_type":"alert"}"#;
    std::fs::write(dir.join("alerts.jsonl"), format!("{alert}\n")).unwrap();
    let err = stix_bundle(&dir, &opts(), None).unwrap_err();
    assert!(matches!(err, ShareError::Parse { line: 1, .. }), "{err}");
    assert!(err.to_string().contains("alerts.jsonl:1:"), "{err}");
}

#[test]
fn rejects_a_folder_without_outputs() {
    let dir = scratch("empty");
    assert!(matches!(
        misp_event(&dir, &opts(), None),
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

const STIX_VALIDATE: &str = r#"
import sys
from stix2validator import validate_file, ValidationOptions
r = validate_file(sys.argv[1], ValidationOptions(strict=True, version="2.1"))
for o in r.object_results:
    for e in o.errors:
        print("ERROR", o.object_id, e)
    for w in o.warnings:
        print("WARNING", o.object_id, w)
sys.exit(0 if r.is_valid and not any(o.warnings for o in r.object_results) else 1)
"#;

#[test]
fn stix_bundles_pass_strict_stix2_validator() {
    if !have_python_module("stix2validator") {
        return;
    }
    let dir = scratch("stix");
    let mut p = pseudonymizer();
    for (name, pseudo) in [("plain.json", None), ("pseudo.json", Some(&mut p))] {
        let bundle: Value = stix_bundle(&fixture(), &opts(), pseudo).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
        run_python(STIX_VALIDATE, &path);
    }
}

const MISP_LOAD: &str = r#"
import sys
from pymisp import MISPEvent
e = MISPEvent()
e.load_file(sys.argv[1])
assert e.attributes, "no attributes"
assert e.objects, "no objects"
for a in e.attributes + [a for o in e.objects for a in o.attributes]:
    assert a.type in e.describe_types["types"], a.type
    assert a.category in e.describe_types["category_type_mappings"], a.category
    assert a.type in e.describe_types["category_type_mappings"][a.category], (a.category, a.type)
print(len(e.attributes), len(e.objects), [t.name for t in e.tags])
"#;

#[test]
fn misp_events_load_in_pymisp() {
    if !have_python_module("pymisp") {
        return;
    }
    let dir = scratch("misp");
    let mut p = pseudonymizer();
    for (name, pseudo) in [("plain.json", None), ("pseudo.json", Some(&mut p))] {
        let event: Value = misp_event(&fixture(), &opts(), pseudo).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&event).unwrap()).unwrap();
        run_python(MISP_LOAD, &path);
    }
}
