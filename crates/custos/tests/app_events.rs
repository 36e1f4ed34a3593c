//! `events.jsonl`: application events from `custos analyze` — the telnet brute force and the
//! default-credential login in the reference capture, and an MQTT CONNECT from suricata-verify.

mod common;

use common::{custos, shared};
use std::ffi::OsStr;
use std::path::Path;

fn events(capture: &Path) -> Vec<serde_json::Value> {
    let out = tempfile::tempdir().unwrap();
    let r = custos(&[
        OsStr::new("analyze"),
        capture.as_os_str(),
        OsStr::new("-o"),
        out.path().as_os_str(),
        OsStr::new("--quiet"),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    std::fs::read_to_string(out.path().join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn telnet_brute_force_and_default_login_are_events() {
    let Some(shared) = shared() else { return };
    let ev = events(&shared.join("reference/kitsune/iotlab-dev.pcap"));
    let logins: Vec<_> = ev
        .iter()
        .filter(|e| e["event_type"] == "telnet" && e["telnet"]["login_result"].is_object())
        .collect();
    assert_eq!(logins.len(), 9, "eight failed guesses and one success");
    let failed = logins
        .iter()
        .filter(|e| e["telnet"]["login_result"]["success"] == false)
        .count();
    assert_eq!(failed, 8);
    let last = logins.last().unwrap();
    assert_eq!(
        last["telnet"]["login_result"]["success"], true,
        "the last login succeeds"
    );
    assert_eq!(last["src_ip"], "198.18.0.66");
    assert_eq!(last["dest_port"], 23);
    let success_packet = last["custos"]["packet"].as_u64().unwrap();
    assert!(logins
        .iter()
        .take(8)
        .all(|e| e["custos"]["packet"].as_u64().unwrap() < success_packet));
    let user = ev
        .iter()
        .find(|e| e["community_id"] == last["community_id"] && e["telnet"]["username"].is_object())
        .expect("the successful connection's username");
    assert_eq!(user["telnet"]["username"]["name"], "admin");
    for e in &ev {
        assert!(e["community_id"].as_str().unwrap().starts_with("1:"));
        assert!(e["custos"]["packet"].as_u64().is_some());
    }
    let mqtt_clients: std::collections::BTreeSet<_> = ev
        .iter()
        .filter(|e| e["event_type"] == "mqtt" && e["mqtt"]["message"]["connect"].is_object())
        .map(|e| e["src_ip"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        mqtt_clients.len() >= 6,
        "six MQTT clients connect: {mqtt_clients:?}"
    );
}

#[test]
fn mqtt_connect_client_id_matches_suricata() {
    let Some(shared) = shared() else { return };
    let ev = events(&shared.join("corpus/suricata-verify/tests/mqtt311-pub-userpass/input.pcap"));
    let connect = ev
        .iter()
        .find(|e| e["mqtt"]["message"]["connect"].is_object())
        .expect("a CONNECT event");
    assert_eq!(
        connect["mqtt"]["message"]["connect"]["client_id"],
        "myvoiceismypassport"
    );
}
