//! `devices.json` and `findings.jsonl` from `custos analyze` on the lab's reference capture:
//! the gateway's services, the six MQTT clients and their roles, the attacker, and the telnet
//! brute force followed by the default-credential login, with their packets.

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
    let lines = |text: String| -> Vec<Value> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    Run {
        devices: serde_json::from_str(&read("devices.json")).unwrap(),
        findings: lines(read("findings.jsonl")),
        events: lines(read("events.jsonl")),
        stats: serde_json::from_str(&read("stats.json")).unwrap(),
    }
}

fn device<'a>(devices: &'a Value, ip: &str) -> &'a Value {
    devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["ips"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i.as_str() == Some(ip))
        })
        .unwrap_or_else(|| panic!("no device with {ip}"))
}

fn offers(d: &Value, transport: &str, port: u64, proto: &str) -> bool {
    d["services_offered"].as_array().unwrap().iter().any(|s| {
        s["transport"] == transport
            && s["port"] == port
            && s["app_proto"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == proto)
    })
}

#[test]
fn reference_capture_inventory_and_findings() {
    let Some(shared) = shared() else { return };
    let run = analyze(&shared.join("reference/kitsune/iotlab-dev.pcap"), &[]);

    // Every event counted once (connections ended by RST emit from two places).
    assert_eq!(
        run.stats["app"]["events"].as_u64().unwrap(),
        run.events.len() as u64
    );
    assert_eq!(
        run.stats["app"]["findings"].as_u64().unwrap(),
        run.findings.len() as u64
    );

    // The gateway and its services, recognised by content.
    let gw = device(&run.devices, "198.18.0.1");
    assert!(gw["mac"].as_str().is_some_and(|m| m.len() == 17));
    for (t, port, proto) in [
        ("tcp", 1883, "mqtt"),
        ("tcp", 23, "telnet"),
        ("tcp", 80, "http"),
        ("udp", 5683, "coap"),
    ] {
        assert!(
            offers(gw, t, port, proto),
            "gateway offers {proto} on {t}/{port}: {gw:#}"
        );
    }
    let roles: BTreeSet<&str> = gw["roles"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(roles.contains("mqtt_broker"), "{roles:?}");

    // Six MQTT clients: five publish telemetry, one subscribes.
    let mut publishers = BTreeSet::new();
    let mut subscribers = BTreeSet::new();
    for d in run.devices["devices"].as_array().unwrap() {
        let Some(m) = d["mqtt"].as_object() else {
            continue;
        };
        let ip = d["ips"][0].as_str().unwrap().to_string();
        if m["publishes"].as_u64().unwrap() > 0 {
            assert!(!m["topics"].as_array().unwrap().is_empty());
            publishers.insert(ip.clone());
        }
        if !m["subscriptions"].as_array().unwrap().is_empty() {
            subscribers.insert(ip);
        }
    }
    assert_eq!(
        publishers,
        [
            "198.18.0.12",
            "198.18.0.13",
            "198.18.0.14",
            "198.18.0.15",
            "198.18.0.16"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    );
    assert_eq!(subscribers, BTreeSet::from(["198.18.0.17".to_string()]));

    // The attacker: a device using the gateway's telnet.
    let attacker = device(&run.devices, "198.18.0.66");
    assert!(attacker["services_used"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["port"] == 23 && s["server"] == "198.18.0.1"));
    assert!(attacker["packets_sent"].as_u64().unwrap() > 1000);

    // Findings: the brute force (eight failed default-list guesses) and the default login.
    let find = |rule: &str| -> Vec<&Value> {
        run.findings
            .iter()
            .filter(|f| f["finding"]["rule"] == rule)
            .collect()
    };
    let brute = find("brute-force");
    assert_eq!(brute.len(), 1, "{:#?}", run.findings);
    let b = &brute[0]["finding"];
    assert_eq!(b["device"]["ip"], "198.18.0.1");
    assert_eq!(b["peer"]["ip"], "198.18.0.66");
    assert_eq!(b["app_proto"], "telnet");
    assert_eq!(b["details"]["failures"], 8);
    assert_eq!(b["details"]["default_credential_guesses"], 8);
    assert_eq!(b["details"]["followed_by_success"], true);
    assert!(b["provisions"]["etsi_en_303_645"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "5.1-5"));
    let login = find("default-credential-login");
    assert_eq!(login.len(), 1, "{:#?}", run.findings);
    let l = &login[0];
    assert_eq!(l["finding"]["severity"], "critical");
    assert_eq!(l["finding"]["peer"]["ip"], "198.18.0.66");
    assert_eq!(l["finding"]["details"]["failed_attempts_before"], 8);

    // The evidence packets are the telnet events' packets.
    let telnet_packets: BTreeSet<u64> = run
        .events
        .iter()
        .filter(|e| e["event_type"] == "telnet" && e["telnet"]["login_result"].is_object())
        .map(|e| e["custos"]["packet"].as_u64().unwrap())
        .collect();
    assert_eq!(telnet_packets.len(), 9);
    let brute_packets: BTreeSet<u64> = brute[0]["evidence"]["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["packet"].as_u64().unwrap())
        .collect();
    assert!(
        telnet_packets.is_subset(&brute_packets),
        "every login verdict is evidence: {telnet_packets:?} ⊄ {brute_packets:?}"
    );
    let success_packet = *telnet_packets.iter().max().unwrap();
    assert!(l["evidence"]["packets"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["packet"] == success_packet));

    // Cleartext credentials over telnet, and MQTT accepting anonymous clients.
    assert!(find("cleartext-credentials")
        .iter()
        .any(|f| f["finding"]["app_proto"] == "telnet"));
    assert!(!find("mqtt-anonymous").is_empty());
}

#[test]
fn thresholds_come_from_the_settings_file() {
    let Some(shared) = shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("app.toml");
    std::fs::write(&cfg, "[findings]\nbrute_force_failures = 9\n").unwrap();
    let run = analyze(
        &shared.join("reference/kitsune/iotlab-dev.pcap"),
        &[OsStr::new("--app-config"), cfg.as_os_str()],
    );
    assert!(
        run.findings
            .iter()
            .all(|f| f["finding"]["rule"] != "brute-force"),
        "eight failures stay below a threshold of nine"
    );
    std::fs::write(&cfg, "[findings]\nbrute_force_failure = 9\n").unwrap();
    let r = custos(&[
        OsStr::new("analyze"),
        shared.join("reference/kitsune/iotlab-dev.pcap").as_os_str(),
        OsStr::new("-o"),
        dir.path().as_os_str(),
        OsStr::new("--app-config"),
        cfg.as_os_str(),
    ]);
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("brute_force_failure"), "{err}");
}

#[test]
fn vendors_come_from_the_ieee_registry() {
    let dir = Path::new("/usr/share/ieee-data");
    if !dir.join("oui.csv").exists() {
        assert!(
            std::env::var_os("CUSTOS_REQUIRE_OUI").is_none(),
            "ieee-data missing and CUSTOS_REQUIRE_OUI set"
        );
        custos_test_support::skip("no /usr/share/ieee-data/oui.csv (apt-get install ieee-data)");
        return;
    }
    let Some(shared) = shared() else { return };
    let run = analyze(&shared.join("corpus/zeek/traces/http/get.pcap"), &[]);
    let registry = run.devices["oui_registry"].as_array().unwrap();
    assert!(!registry.is_empty());
    let vendors: BTreeSet<&str> = run.devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["vendor"].as_str())
        .collect();
    // tshark's resolution of the same two stations (its manuf file comes from the same registry).
    assert_eq!(
        vendors,
        BTreeSet::from(["Apple, Inc.", "Juniper Networks"]),
        "{:#}",
        run.devices
    );
    for d in run.devices["devices"].as_array().unwrap() {
        if d["locally_administered"] == true {
            assert!(d["vendor"].is_null(), "{d:#}");
        }
    }
}

fn by_mac<'a>(devices: &'a Value, mac: &str) -> &'a Value {
    devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["mac"] == mac)
        .unwrap_or_else(|| panic!("no device {mac}: {devices:#}"))
}

#[test]
fn dhcp_names_addresses_and_fingerprints_devices() {
    let Some(shared) = shared() else { return };
    // Zeek's DHCP trace: host name and assigned address as in Zeek's dhcp.log.
    let run = analyze(&shared.join("corpus/zeek/traces/dhcp/dhcp.pcap"), &[]);
    let client = by_mac(&run.devices, "90:b1:1c:99:49:29");
    assert_eq!(client["hostnames"][0]["name"], "btest.is.cool");
    assert_eq!(client["hostnames"][0]["source"], "dhcp");
    assert!(client["ips"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i == "128.2.6.189"));
    let server = by_mac(&run.devices, "00:0c:29:40:0e:ef");
    assert!(offers(server, "udp", 67, "dhcp"), "{server:#}");
    // tcpdump's RFC 3004 trace: the parameter request list as tshark shows it.
    let run = analyze(&shared.join("corpus/tcpdump/dhcp-rfc3004.pcap"), &[]);
    let client = by_mac(&run.devices, "00:0c:29:1f:74:06");
    assert_eq!(client["dhcp"]["fingerprint"], "1,28,2,3,15,6,12");
}

#[test]
fn hosts_behind_the_router_are_remote_devices() {
    let Some(shared) = shared() else { return };
    // A laptop talking TLS to Google through its router (Zeek's trace; vendors as tshark
    // resolves the MACs).
    let run = analyze(&shared.join("corpus/zeek/traces/tls/ecdhe.pcap"), &[]);
    let router = by_mac(&run.devices, "64:66:b3:0b:8f:82");
    assert_eq!(router["router"], true);
    assert!(router["ips"].as_array().unwrap().is_empty(), "{router:#}");
    let laptop = by_mac(&run.devices, "68:a8:6d:18:69:0e");
    assert_eq!(laptop["ips"][0], "192.168.18.50");
    assert_eq!(laptop["router"], false);
    let google = device(&run.devices, "74.125.239.97");
    assert_eq!(google["remote"], true);
    assert!(google["mac"].is_null());
    assert!(offers(google, "tcp", 443, "tls"), "{google:#}");
    assert!(google["services_offered"][0]["banner"]
        .as_str()
        .unwrap()
        .starts_with("CN=*.google.com"));
}
