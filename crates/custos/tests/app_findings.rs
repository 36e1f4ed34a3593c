//! Baseline findings on captures nobody here wrote: one rule per capture, with the device,
//! peer and details the capture shows (values checked against tshark / the captures' own
//! Zeek and Suricata logs where those name them).

mod common;

use common::{custos, shared};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::Path;

fn findings(capture: &Path, extra: &[&OsStr]) -> Vec<Value> {
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
    std::fs::read_to_string(out.path().join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["finding"].clone())
        .collect()
}

fn only<'a>(all: &'a [Value], rule: &str) -> &'a Value {
    let hits: Vec<&Value> = all.iter().filter(|f| f["rule"] == rule).collect();
    assert_eq!(hits.len(), 1, "one {rule}: {all:#?}");
    hits[0]
}

#[test]
fn weak_tls_names_the_tls_server() {
    let Some(shared) = shared() else { return };
    // GridFTP: the TLS server is the TCP client (Zeek's ssl.log: TLSv10,
    // TLS_RSA_WITH_NULL_SHA).
    let all = findings(&shared.join("corpus/zeek/traces/globus-url-copy.pcap"), &[]);
    let f = only(&all, "weak-tls");
    assert_eq!(f["details"]["version"], "TLS 1.0");
    assert_eq!(f["details"]["cipher"], "TLS_RSA_WITH_NULL_SHA");
    assert_eq!(f["details"]["weak_cipher"], true);
    assert_eq!(f["device"]["ip"], "192.168.57.101");
    assert_eq!(f["provisions"]["etsi_en_303_645"][0], "5.5-1");
}

#[test]
fn upnp_announcement_is_exposure() {
    let Some(shared) = shared() else { return };
    let all = findings(
        &shared.join("corpus/suricata-verify/tests/sip-ssdp-pm/ssdp.pcap"),
        &[],
    );
    let f = only(&all, "upnp-exposed");
    assert_eq!(f["device"]["ip"], "192.168.1.1");
    assert!(f["details"]["server"]
        .as_str()
        .unwrap()
        .contains("MiniUPnPd"));
    assert_eq!(f["severity"], "low");
}

#[test]
fn modbus_writer_outside_learning_window() {
    let Some(shared) = shared() else { return };
    let capture = shared.join("corpus/zeek/traces/modbus/modbus-and-non-modbus-p502.pcap");
    // The whole capture falls in the default learning window: nothing to report.
    assert!(findings(&capture, &[])
        .iter()
        .all(|f| f["rule"] != "modbus-new-writer"));
    // Without learning, the writes of 10.0.0.9 to 10.0.0.3 (FC 5 and 6, tshark) are new.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("app.toml");
    std::fs::write(&cfg, "[findings]\nmodbus_learning_s = 0\n").unwrap();
    let all = findings(&capture, &[OsStr::new("--app-config"), cfg.as_os_str()]);
    let f = only(&all, "modbus-new-writer");
    assert_eq!(f["device"]["ip"], "10.0.0.3");
    assert_eq!(f["device"]["port"], 502);
    assert_eq!(f["peer"]["ip"], "10.0.0.9");
    assert_eq!(f["severity"], "critical");
    assert!(f["count"].as_u64().unwrap() >= 2);
}

#[test]
fn cleartext_credentials_per_protocol() {
    let Some(shared) = shared() else { return };
    let corpus = shared.join("corpus");
    // MQTT CONNECT with a password (suricata-verify checks password "Oac4...", we keep only
    // that there was one).
    let all = findings(
        &corpus.join("suricata-verify/tests/mqtt311-pub-userpass/input.pcap"),
        &[],
    );
    assert_eq!(
        only(&all, "cleartext-credentials")["details"]["method"],
        "MQTT CONNECT password"
    );
    // HTTP Basic (Zeek's http.log: username "test").
    let all = findings(
        &corpus.join("zeek/traces/http/basic-auth-with-colon.pcap"),
        &[],
    );
    let f = only(&all, "cleartext-credentials");
    assert_eq!(f["details"]["method"], "HTTP Basic");
    assert_eq!(f["details"]["usernames"][0], "test");
    // SNMPv1 community "public" (Zeek's snmp.log), every request counted.
    let all = findings(&corpus.join("zeek/traces/snmp/snmpv1_get.pcap"), &[]);
    let f = only(&all, "cleartext-credentials");
    assert_eq!(f["app_proto"], "snmp");
    assert_eq!(f["device"]["port"], 161);
    assert_eq!(f["details"]["default_community"], true);
    // SNMPv3 carries no community: nothing to report.
    let all = findings(&corpus.join("zeek/traces/snmp/snmpv3_get_next.pcap"), &[]);
    assert!(
        all.iter().all(|f| f["rule"] != "cleartext-credentials"),
        "{all:#?}"
    );
}

#[test]
fn findings_are_deterministic() {
    let Some(shared) = shared() else { return };
    let capture = shared.join("reference/kitsune/iotlab-dev.pcap");
    let a = findings(&capture, &[]);
    let b = findings(&capture, &[]);
    assert_eq!(a, b);
    assert!(!a.is_empty());
}

#[test]
fn update_download_over_http() {
    let Some(shared) = shared() else { return };
    let http = shared.join("corpus/zeek/traces/http");
    // A Windows update fetched over plain HTTP (Zeek's trace; URI as tshark shows it).
    let all = findings(&http.join("206_example_b.pcap"), &[]);
    let updates: Vec<&Value> = all
        .iter()
        .filter(|f| f["rule"] == "insecure-update")
        .collect();
    assert_eq!(updates.len(), 2, "one per CDN server: {all:#?}");
    for f in updates {
        assert_eq!(f["device"]["ip"], "192.168.72.14");
        assert!(f["details"]["uris"][0]
            .as_str()
            .unwrap()
            .starts_with("/msdownload/update/"));
        assert_eq!(f["details"]["host"], "au.download.windowsupdate.com");
    }
    // `.bin` is an extension, not a substring: CHANGES.binpac.txt is no firmware.
    let all = findings(&http.join("bro.org.pcap"), &[]);
    assert!(
        all.iter().all(|f| f["rule"] != "insecure-update"),
        "{all:#?}"
    );
}
