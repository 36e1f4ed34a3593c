//! `custos analyze --pseudonymize`: every output written with one mapping, no original
//! address, MAC or policy-covered identifier left in any file, the staging folder gone.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

fn custos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .output()
        .expect("run custos")
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The tokens of a text: maximal runs of `A-Z a-z 0-9 . : _ -`.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-')))
        .filter(|t| !t.is_empty())
}

fn is_mac(t: &str) -> bool {
    t.len() == 17
        && t.bytes().enumerate().all(|(i, b)| {
            if i % 3 == 2 {
                b == b':'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Values under identifier keys of the JSON outputs (user names, client IDs, host names…).
fn key_values(v: &serde_json::Value, key: Option<&str>, out: &mut BTreeSet<String>) {
    const KEYS: [&str; 9] = [
        "username",
        "usernames",
        "name",
        "client_id",
        "client_ids",
        "hostname",
        "hostnames",
        "host",
        "sni",
    ];
    match v {
        serde_json::Value::String(s) if key.is_some_and(|k| KEYS.contains(&k)) && !s.is_empty() => {
            out.insert(s.to_ascii_lowercase());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| key_values(i, key, out)),
        serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| key_values(v, Some(k), out)),
        _ => {}
    }
}

/// Every original value of a plain run: addresses and MACs anywhere, identifiers by key.
fn originals(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files(dir) {
        let text = std::fs::read_to_string(dir.join(&f)).unwrap();
        for t in tokens(&text) {
            let mac = is_mac(t) && !["ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"].contains(&t);
            if t.parse::<std::net::IpAddr>().is_ok() || mac {
                out.insert(t.to_ascii_lowercase());
            }
        }
        let docs: Vec<serde_json::Value> = if f.ends_with(".jsonl") {
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        } else if f.ends_with(".json") {
            vec![serde_json::from_str(&text).unwrap()]
        } else {
            vec![]
        };
        for d in &docs {
            // Detector and registry names are not identifiers of anyone.
            if f != "stats.json" && f != "custos-run.json" {
                key_values(d, None, &mut out);
            }
        }
    }
    out
}

/// Columns of conn.log rows (data lines only), by header name.
fn conn_rows(dir: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(dir.join("conn.log")).unwrap();
    let fields: Vec<String> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .map(str::to_owned)
        .collect();
    let rows = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    (fields, rows)
}

/// Runs analyze plain and pseudonymised on `capture`, and checks the pseudonymised folder.
fn check(capture: &Path, detector: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let (plain, pz) = (tmp.path().join("plain"), tmp.path().join("pz"));
    let prefix = tmp.path().join("share");
    ok(&custos(&[
        "keygen",
        "--pseudonym",
        "-o",
        prefix.to_str().unwrap(),
    ]));
    let key = tmp.path().join("share.pkey");
    let cap = capture.to_str().unwrap();
    let mut args = vec!["analyze", cap, "-q", "-o", plain.to_str().unwrap()];
    args.extend(detector);
    ok(&custos(&args));
    let mut args = vec!["analyze", cap, "-q", "-o", pz.to_str().unwrap()];
    args.extend(detector);
    args.extend(["--pseudonymize", key.to_str().unwrap()]);
    ok(&custos(&args));

    assert_eq!(
        files(&plain),
        files(&pz),
        "the same files, no staging folder"
    );
    assert!(!pz.join(".custos-plain").exists());

    let originals = originals(&plain);
    assert!(originals.len() > 3, "{originals:?}");
    for f in files(&pz) {
        let text = std::fs::read_to_string(pz.join(&f)).unwrap();
        let lower = text.to_ascii_lowercase();
        let leaked: BTreeSet<&str> = tokens(&lower).filter(|t| originals.contains(*t)).collect();
        // The first line holding one, to tell a kept value from a pseudonym that happens to
        // equal another original (seen once in CI, never reproduced).
        let line = lower
            .lines()
            .find(|l| tokens(l).any(|t| leaked.contains(t)))
            .unwrap_or_default();
        assert!(leaked.is_empty(), "{f} keeps originals {leaked:?}: {line}");
        if f.ends_with(".jsonl") || f.ends_with(".log") || f.ends_with(".csv") {
            let plain_text = std::fs::read_to_string(plain.join(&f)).unwrap();
            assert_eq!(text.lines().count(), plain_text.lines().count(), "{f}");
        }
    }
    if plain.join("scores.csv").exists() {
        assert_eq!(
            std::fs::read(plain.join("scores.csv")).unwrap(),
            std::fs::read(pz.join("scores.csv")).unwrap()
        );
    }

    let (fields, plain_rows) = conn_rows(&plain);
    let (_, pz_rows) = conn_rows(&pz);
    assert_eq!(plain_rows.len(), pz_rows.len());
    let col = |name: &str| fields.iter().position(|f| f == name).unwrap();
    let unchanged = [
        "proto",
        "service",
        "duration",
        "orig_bytes",
        "resp_bytes",
        "orig_pkts",
        "resp_pkts",
        "history",
        "conn_state",
    ]
    .map(col);
    for (a, b) in plain_rows.iter().zip(&pz_rows) {
        for &c in &unchanged {
            assert_eq!(a[c], b[c], "{}", fields[c]);
        }
        assert_ne!(a[col("uid")], b[col("uid")]);
    }

    // The same flow has the same uid token in conn.log and flows.jsonl.
    let conn_uids: BTreeSet<&str> = pz_rows.iter().map(|r| r[col("uid")].as_str()).collect();
    let flows = std::fs::read_to_string(pz.join("flows.jsonl")).unwrap();
    let mut matched = 0;
    for line in flows.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(uid) = v["custos"]["uid"].as_str() {
            assert!(
                conn_uids.contains(uid),
                "flows.jsonl uid {uid} not in conn.log"
            );
            matched += 1;
        }
    }
    assert!(matched > 0);
}

#[test]
fn reference_capture_outputs_keep_no_original() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let capture = shared.join("reference/kitsune/iotlab-dev.pcap");
    if !capture.exists() {
        custos_test_support::skip("reference/kitsune/iotlab-dev.pcap is absent");
        return;
    }
    check(&capture, &["--detector", "kitsune"]);
}

#[test]
fn sample_capture_outputs_keep_no_original() {
    check(&custos_test_support::sample("iot-small.pcap"), &[]);
}

#[test]
fn a_bad_key_fails_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = custos(&[
        "analyze",
        custos_test_support::sample("iot-small.pcap")
            .to_str()
            .unwrap(),
        "-q",
        "-o",
        out.to_str().unwrap(),
        "--pseudonymize",
        tmp.path().join("missing.pkey").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(!out.exists(), "nothing written before the key is loaded");
}
