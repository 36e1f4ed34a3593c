//! custos's IoT rule set (`rules/iot.rules`): every rule loads, and each fires on its test
//! capture from `custos lab` (`rules/tests/`, cut by `scripts/extract-rule-captures.sh`):
//! MQTT topic enumeration, a Mirai-style telnet brute force, a firmware manifest fetched over
//! HTTP, the first seconds of SYN, UDP and MQTT publish floods, and the whole `iot-exposure`
//! run, where each attack rule must fire inside its own phase and nowhere else. Traffic built
//! here pins the edges (Modbus reads versus writes, one alert per threshold window). Benign
//! traffic (the committed sample) raises no attack alert.

mod common;

use common::custos;
use custos_decode::wire::{FrameBuilder, TcpRepr, UdpRepr};
use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Alert counts by sid of `custos analyze CAPTURE --rules rules/iot.rules`.
fn sids(capture: &Path) -> BTreeMap<u64, usize> {
    let mut m = BTreeMap::new();
    for (sid, _) in alerts(capture) {
        *m.entry(sid).or_default() += 1;
    }
    m
}

/// `(sid, packet index)` of every alert of `custos analyze CAPTURE --rules rules/iot.rules`.
fn alerts(capture: &Path) -> Vec<(u64, u64)> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let rules = repo().join("rules/iot.rules");
    let r = custos(&[
        OsStr::new("analyze"),
        capture.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
        OsStr::new("--quiet"),
        OsStr::new("--checksums"),
        OsStr::new("ignore"),
        OsStr::new("--rules"),
        rules.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    assert_eq!(stats["detector"]["skipped"], 0, "{}", stats["detector"]);
    assert_eq!(stats["detector"]["errors"], 0, "{}", stats["detector"]);
    std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let a: Value = serde_json::from_str(l).unwrap();
            let sid = a["alert"]["signature_id"].as_u64().unwrap();
            (sid, a["custos"]["packet"].as_u64().unwrap())
        })
        .collect()
}

#[test]
fn every_bundled_rule_loads() {
    let text = std::fs::read_to_string(repo().join("rules/iot.rules")).unwrap();
    let rules = text.lines().filter(|l| l.starts_with("alert ")).count();
    assert!(rules >= 15);
    let m = sids(&repo().join("samples/iot-small.pcap"));
    // The sample is benign: at most the policy rules fire (its MQTT clients connect
    // anonymously).
    for sid in m.keys() {
        assert!(
            [9100001, 9100040].contains(sid),
            "attack rule {sid} on benign traffic: {m:?}"
        );
    }
}

#[test]
fn lab_mqtt_enumeration_is_seen() {
    let m = sids(&repo().join("rules/tests/mqtt-enumerate.pcap"));
    assert!(m.contains_key(&9100001), "anonymous CONNECT: {m:?}");
    assert_eq!(m.get(&9100002), Some(&1), "one subscription to #: {m:?}");
    assert_eq!(
        m.get(&9100003),
        Some(&1),
        "one subscription to $SYS/#: {m:?}"
    );
}

#[test]
fn lab_mirai_style_telnet_brute_force_is_seen() {
    let m = sids(&repo().join("rules/tests/telnet-bruteforce.pcap"));
    assert!(
        m.get(&9100010).is_some_and(|n| *n >= 3),
        "Mirai passwords: {m:?}"
    );
    assert_eq!(
        m.get(&9100011),
        Some(&1),
        "one brute-force alert per window: {m:?}"
    );
}

#[test]
fn lab_firmware_manifest_over_http_is_seen() {
    let m = sids(&repo().join("rules/tests/firmware-http.pcap"));
    assert_eq!(m.get(&9100040), Some(&1), "{m:?}");
    assert!(
        !m.contains_key(&9100041),
        "a JSON manifest is no image: {m:?}"
    );
}

#[test]
fn lab_floods_are_seen() {
    let syn = sids(&repo().join("rules/tests/syn-flood.pcap.gz"));
    assert_eq!(syn.get(&9100020), Some(&1), "SYN flood: {syn:?}");
    let udp = sids(&repo().join("rules/tests/udp-flood.pcap.gz"));
    assert!(
        udp.get(&9100021).is_some_and(|n| *n >= 1),
        "UDP flood: {udp:?}"
    );
    assert!(
        !udp.contains_key(&9100020),
        "no SYN in a UDP flood: {udp:?}"
    );
    let mqtt = sids(&repo().join("rules/tests/mqtt-flood.pcap.gz"));
    assert_eq!(mqtt.get(&9100004), Some(&1), "publish flood: {mqtt:?}");
}

/// The phases of the `iot-exposure` run: `(name, first packet, last packet)`.
fn exposure_phases() -> Vec<(String, u64, u64)> {
    let text = std::fs::read_to_string(repo().join("rules/tests/iot-exposure.phases.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_owned(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn lab_iot_exposure_attacks_fire_their_rules_in_their_phases() {
    let phases = exposure_phases();
    let phase_of = |packet: u64| {
        phases
            .iter()
            .find(|(_, a, b)| (*a..=*b).contains(&packet))
            .map_or("none", |p| p.0.as_str())
    };
    let mut seen: BTreeMap<u64, BTreeMap<&str, usize>> = BTreeMap::new();
    for (sid, packet) in alerts(&repo().join("rules/tests/iot-exposure.pcap.gz")) {
        *seen
            .entry(sid)
            .or_default()
            .entry(phase_of(packet))
            .or_default() += 1;
    }
    // Each attack's rule fires in the attack's phase only.
    for (sid, phase) in [
        (9100013, "telnet-scan"),
        (9100010, "infect"),
        (9100012, "infect"),
        (9100005, "mqtt-login"),
        (9100030, "modbus-write"),
        (9100032, "coap-discover"),
        (9100031, "ssdp-search"),
    ] {
        let by_phase = seen.get(&sid).cloned().unwrap_or_default();
        assert!(
            by_phase.len() == 1 && by_phase.contains_key(phase),
            "sid {sid} must fire in {phase} only: {by_phase:?} (all: {seen:?})"
        );
    }
    let count = |sid: u64, phase: &str| seen.get(&sid).and_then(|m| m.get(phase)).copied();
    // The scenario tries 3 × 4 MQTT logins, all refused; writes 5 times; asks CoAP 10 times.
    assert_eq!(count(9100005, "mqtt-login"), Some(12), "{seen:?}");
    assert_eq!(count(9100030, "modbus-write"), Some(5), "{seen:?}");
    assert_eq!(count(9100032, "coap-discover"), Some(10), "{seen:?}");
    // The HMI's Modbus reads and the devices' own CoAP GETs never fire the attack rules, and
    // the devices' insecure habits (firmware over HTTP and TFTP) fire the policy rules.
    for sid in [9100040, 9100041, 9100042] {
        assert!(seen.contains_key(&sid), "policy rule {sid}: {seen:?}");
    }
}

// ---------------------------------------------------------------- traffic built here

/// A pcap file of Ethernet frames, one per millisecond from `t0` seconds unless given.
struct Pcap {
    bytes: Vec<u8>,
}

impl Pcap {
    fn new() -> Self {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        Pcap { bytes }
    }

    fn frame(&mut self, usec: u64, frame: &[u8]) {
        self.bytes
            .extend_from_slice(&((1_700_000_000 + usec / 1_000_000) as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&((usec % 1_000_000) as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.bytes
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(frame);
    }

    fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, &self.bytes).unwrap();
        p
    }
}

/// Ethernet + IPv4 frames from `src` to `dst` (MACs 00:11:22:33:44:01 → 00:11:22:33:44:02,
/// identification 1, don't fragment, TTL 64).
fn ipv4(src: [u8; 4], dst: [u8; 4]) -> FrameBuilder {
    let macs = (
        [0, 0x11, 0x22, 0x33, 0x44, 1],
        [0, 0x11, 0x22, 0x33, 0x44, 2],
    );
    common::ipv4_frame(macs, src, dst)
}

fn udp(src: ([u8; 4], u16), dst: ([u8; 4], u16), payload: &[u8]) -> Vec<u8> {
    ipv4(src.0, dst.0).udp(&UdpRepr {
        src_port: src.1,
        dst_port: dst.1,
        payload,
    })
}

fn tcp(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    ipv4(src.0, dst.0).tcp(&TcpRepr {
        src_port: src.1,
        dst_port: dst.1,
        seq_number: seq,
        ack_number: ack,
        flags,
        window_len: 0xffff,
        payload,
        ..TcpRepr::default()
    })
}

/// A TCP connection: handshake, then `messages` (`true`: from the client), then FIN.
fn session(
    pcap: &mut Pcap,
    t: &mut u64,
    client: ([u8; 4], u16),
    server: ([u8; 4], u16),
    messages: &[(bool, Vec<u8>)],
) {
    let (mut cs, mut ss) = (1000u32, 5000u32);
    let mut step = |pcap: &mut Pcap, f: Vec<u8>| {
        *t += 1000;
        pcap.frame(*t, &f);
    };
    step(pcap, tcp(client, server, cs, 0, 0x02, &[]));
    step(pcap, tcp(server, client, ss, cs + 1, 0x12, &[]));
    cs += 1;
    ss += 1;
    step(pcap, tcp(client, server, cs, ss, 0x10, &[]));
    for (from_client, m) in messages {
        if *from_client {
            step(pcap, tcp(client, server, cs, ss, 0x18, m));
            cs += m.len() as u32;
            step(pcap, tcp(server, client, ss, cs, 0x10, &[]));
        } else {
            step(pcap, tcp(server, client, ss, cs, 0x18, m));
            ss += m.len() as u32;
            step(pcap, tcp(client, server, cs, ss, 0x10, &[]));
        }
    }
    step(pcap, tcp(client, server, cs, ss, 0x11, &[]));
    step(pcap, tcp(server, client, ss, cs + 1, 0x11, &[]));
}

const DEV: [u8; 4] = [192, 168, 1, 20];
const GW: [u8; 4] = [192, 168, 1, 1];
const EXT: [u8; 4] = [203, 0, 113, 9];

fn mqtt_connect(user: Option<&str>) -> Vec<u8> {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4];
    body.push(if user.is_some() { 0xc2 } else { 0x02 });
    body.extend_from_slice(&[0, 60, 0, 2, b'd', b'1']);
    if let Some(u) = user {
        for s in [u, "wrong"] {
            body.extend_from_slice(&(s.len() as u16).to_be_bytes());
            body.extend_from_slice(s.as_bytes());
        }
    }
    let mut f = vec![0x10, body.len() as u8];
    f.extend_from_slice(&body);
    f
}

#[test]
fn built_traffic_fires_the_protocol_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = Pcap::new();
    let mut t = 0u64;
    // Modbus write single register (function 6) and a read (function 3, no alert).
    session(
        &mut p,
        &mut t,
        (DEV, 40001),
        (GW, 502),
        &[
            (true, vec![0, 1, 0, 0, 0, 6, 1, 6, 0, 10, 0, 99]),
            (false, vec![0, 1, 0, 0, 0, 6, 1, 6, 0, 10, 0, 99]),
            (true, vec![0, 2, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2]),
            (false, vec![0, 2, 0, 0, 0, 7, 1, 3, 4, 0, 1, 0, 2]),
        ],
    );
    // MQTT login refused (CONNACK 5: not authorised).
    session(
        &mut p,
        &mut t,
        (DEV, 40002),
        (GW, 1883),
        &[
            (true, mqtt_connect(Some("admin"))),
            (false, vec![0x20, 2, 0, 5]),
        ],
    );
    // A firmware image over HTTP.
    session(
        &mut p,
        &mut t,
        (DEV, 40003),
        (EXT, 80),
        &[
            (
                true,
                b"GET /fw/camera-v2.bin HTTP/1.1\r\nHost: updates.example\r\n\r\n".to_vec(),
            ),
            (
                false,
                b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nABCD".to_vec(),
            ),
        ],
    );
    // A telnet session running busybox.
    session(
        &mut p,
        &mut t,
        (EXT, 40004),
        (DEV, 23),
        &[(true, b"/bin/busybox MIRAI\r\n".to_vec())],
    );
    // SSDP M-SEARCH ssdp:all, CoAP GET /.well-known/core, TFTP read of an image.
    t += 1000;
    p.frame(
        t,
        &udp(
            (EXT, 50000),
            (DEV, 1900),
            b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\n\r\n",
        ),
    );
    t += 1000;
    p.frame(
        t,
        &udp(
            (EXT, 50001),
            (DEV, 5683),
            b"\x40\x01\x12\x34\xbb.well-known\x04core",
        ),
    );
    t += 1000;
    p.frame(
        t,
        &udp((DEV, 50002), (GW, 69), b"\x00\x01firmware.bin\x00octet\x00"),
    );
    let m = sids(&p.write(tmp.path(), "protocols.pcap"));
    assert_eq!(m.get(&9100030), Some(&1), "one Modbus write: {m:?}");
    assert_eq!(m.get(&9100005), Some(&1), "refused MQTT login: {m:?}");
    assert!(
        !m.contains_key(&9100001),
        "that client sent credentials: {m:?}"
    );
    assert_eq!(m.get(&9100041), Some(&1), "firmware image over HTTP: {m:?}");
    assert_eq!(m.get(&9100012), Some(&1), "busybox over telnet: {m:?}");
    assert_eq!(m.get(&9100031), Some(&1), "SSDP ssdp:all: {m:?}");
    assert_eq!(m.get(&9100032), Some(&1), "CoAP discovery: {m:?}");
    assert_eq!(m.get(&9100042), Some(&1), "TFTP image: {m:?}");
}

#[test]
fn built_floods_and_scans_fire_the_rate_rules_once_per_window() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = Pcap::new();
    // 2500 SYNs in 2.5 s to one host from many ports; 6000 UDP datagrams in 3 s; 150 SYNs to
    // telnet on 150 hosts in 1.5 s from one scanner.
    let mut t = 0u64;
    for i in 0..2500u32 {
        t += 1000;
        p.frame(
            t,
            &tcp((EXT, 1024 + (i % 60000) as u16), (DEV, 80), i, 0, 0x02, &[]),
        );
    }
    for i in 0..6000u32 {
        t += 500;
        p.frame(
            t,
            &udp((EXT, 2000 + (i % 1000) as u16), (DEV, 9999), b"xxxx"),
        );
    }
    for i in 0..150u8 {
        t += 10_000;
        p.frame(
            t,
            &tcp(
                ([10, 9, 9, 9], 33000),
                ([192, 168, 2, i], 23),
                7,
                0,
                0x02,
                &[],
            ),
        );
    }
    let m = sids(&p.write(tmp.path(), "floods.pcap"));
    assert_eq!(
        m.get(&9100020),
        Some(&1),
        "SYN flood, once per window: {m:?}"
    );
    assert_eq!(
        m.get(&9100021),
        Some(&1),
        "UDP flood, once per window: {m:?}"
    );
    assert_eq!(m.get(&9100013), Some(&1), "telnet scan: {m:?}");
}

#[test]
fn a_publish_flood_fires_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = Pcap::new();
    let mut t = 0u64;
    let mut msgs = vec![(true, mqtt_connect(None)), (false, vec![0x20, 2, 0, 0])];
    for i in 0..600u32 {
        let topic = b"lab/flood";
        let mut f = vec![0x30, (2 + topic.len() + 4) as u8, 0, topic.len() as u8];
        f.extend_from_slice(topic);
        f.extend_from_slice(&i.to_be_bytes());
        msgs.push((true, f));
    }
    session(&mut p, &mut t, (DEV, 40010), (GW, 1883), &msgs);
    let m = sids(&p.write(tmp.path(), "publish.pcap"));
    assert_eq!(m.get(&9100004), Some(&1), "{m:?}");
    assert_eq!(m.get(&9100001), Some(&1), "anonymous client: {m:?}");
}
