//! Kitsune training online warns when custos's own evidence shows attacks inside the packets
//! it learned from (feature mapping, training, calibration): `stats.json` names the attack
//! and its first packet, the run's warnings print it, and `custos train` puts it in the model
//! card's caveats. An attack after the learning window raises no such warning. Traffic is
//! built here: a SYN flood and a port scan from one host, and UDP chatter between devices.

mod common;

use common::custos;
use custos_capture::PcapWriter;
use custos_decode::wire::{FrameBuilder, TcpRepr, UdpRepr};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const ATTACKER: [u8; 4] = [10, 0, 0, 9];
const VICTIM: [u8; 4] = [10, 0, 0, 2];
/// Learning window: 50 + 500 + 1 training packets, 200 calibration packets.
const GRACE: [&str; 6] = [
    "--fm-grace",
    "50",
    "--ad-grace",
    "500",
    "--calibration",
    "200",
];

/// A pcap file of Ethernet frames, one per millisecond.
struct Pcap {
    out: PcapWriter<Vec<u8>>,
    usec: i64,
}

impl Pcap {
    fn new() -> Self {
        let out = PcapWriter::new(Vec::new(), 1, 65535).unwrap();
        Pcap { out, usec: 0 }
    }

    fn frame(&mut self, frame: &[u8]) {
        self.usec += 1000;
        let ts_ns = (1_700_000_000_000_000 + self.usec) * 1000;
        self.out.write(ts_ns, frame, frame.len() as u32).unwrap();
    }

    fn write(&mut self, dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, self.out.get_mut()).unwrap();
        p
    }

    /// Writes the frames so far to `dir/name` and starts the next file, its clock going on.
    fn split(&mut self, dir: &Path, name: &str) -> PathBuf {
        let p = self.write(dir, name);
        self.out = PcapWriter::new(Vec::new(), 1, 65535).unwrap();
        p
    }
}

/// Ethernet + IPv4 from `src` to `dst`, each host with a MAC of its own.
fn ipv4(src: [u8; 4], dst: [u8; 4]) -> FrameBuilder {
    let mac = |a: [u8; 4]| [2, 0, 0, 0, 0, a[3]];
    common::ipv4_frame((mac(src), mac(dst)), src, dst)
}

fn tcp(src: ([u8; 4], u16), dst: ([u8; 4], u16), flags: u8) -> Vec<u8> {
    ipv4(src.0, dst.0).tcp(&TcpRepr {
        src_port: src.1,
        dst_port: dst.1,
        seq_number: 1000,
        ack_number: if flags & 0x10 != 0 { 1 } else { 0 },
        flags,
        window_len: 0xffff,
        payload: &[],
        ..TcpRepr::default()
    })
}

/// `n` packets of UDP readings and acknowledgements between three sensors and a hub.
fn chatter(pcap: &mut Pcap, n: usize) {
    let hub = [10, 0, 0, 4];
    for i in 0..n {
        let sensor = [10, 0, 0, 5 + (i % 3) as u8];
        let payload = vec![b'r'; 20 + (i % 7) * 3];
        let f = if i % 2 == 0 {
            ipv4(sensor, hub).udp(&UdpRepr {
                src_port: 5000,
                dst_port: 6000,
                payload: &payload,
            })
        } else {
            ipv4(hub, sensor).udp(&UdpRepr {
                src_port: 6000,
                dst_port: 5000,
                payload: b"ok",
            })
        };
        pcap.frame(&f);
    }
}

/// A SYN flood of 250 SYNs to the victim's port 80, then a scan of 20 of its ports, each
/// refused: 290 packets.
fn attack(pcap: &mut Pcap) {
    for i in 0..250u16 {
        pcap.frame(&tcp((ATTACKER, 20000 + i), (VICTIM, 80), 0x02));
    }
    for port in 1000..1020u16 {
        pcap.frame(&tcp((ATTACKER, 40000), (VICTIM, port), 0x02));
        pcap.frame(&tcp((VICTIM, port), (ATTACKER, 40000), 0x14));
    }
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// A capture of `before` rounds of chatter, the attack, then `after` rounds, written to
/// `dir/name`.
fn capture(dir: &Path, before: usize, after: usize, name: &str) -> PathBuf {
    let mut pcap = Pcap::new();
    chatter(&mut pcap, before);
    attack(&mut pcap);
    chatter(&mut pcap, after);
    pcap.write(dir, name)
}

/// `custos analyze CAPTURE -o OUT --detector kitsune` with the small grace periods (and
/// `extra`); returns the Kitsune summary of `stats.json`, the findings and standard error.
fn analyze(capture: &Path, out: &Path, extra: &[&OsStr]) -> (Value, Vec<Value>, String) {
    let mut args = vec![
        os("analyze"),
        capture.as_os_str(),
        os("-o"),
        out.as_os_str(),
        os("--quiet"),
        os("--detector"),
        os("kitsune"),
    ];
    args.extend(GRACE.iter().map(|s| os(s)));
    args.extend_from_slice(extra);
    let r = custos(&args);
    let stderr = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(r.status.success(), "{stderr}");
    let stats: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    let findings = std::fs::read_to_string(out.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect();
    let kitsune = match stats.get("detectors") {
        Some(d) => d["kitsune"].clone(),
        None => stats["detector"].clone(),
    };
    (kitsune, findings, stderr)
}

/// The packet (index in the only input) of the first evidence of the finding of `rule`.
fn first_packet(findings: &[Value], rule: &str) -> u64 {
    let f = findings
        .iter()
        .find(|f| f["finding"]["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding: {findings:#?}"));
    f["evidence"]["packets"][0]["packet"].as_u64().unwrap()
}

#[test]
fn attack_inside_the_learning_window_is_named_in_stats_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let capture = capture(dir.path(), 20, 1200, "early-attack.pcap");
    let (kitsune, findings, stderr) = analyze(
        &capture,
        &dir.path().join("one"),
        &[os("--threads"), os("1")],
    );
    let detecting = kitsune["detecting_from"]["packet"].as_u64().unwrap();
    let flood = first_packet(&findings, "syn-flood");
    let scan = first_packet(&findings, "network-service-discovery");
    assert!(flood < detecting && scan < detecting, "{kitsune:#}");

    let warning = kitsune["warning"].as_str().unwrap();
    let window = format!("learned normal traffic from packets 0 to {}", detecting - 1);
    assert!(warning.contains(&window), "{warning}");
    assert!(
        warning.contains(&format!(
            "SYN flood from 10.0.0.9 to 10.0.0.2:80 (first at packet {flood})"
        )),
        "{warning}"
    );
    assert!(
        warning.contains(&format!(
            "port scan from 10.0.0.9 of 10.0.0.2 (first at packet {scan})"
        )),
        "{warning}"
    );
    assert!(
        warning.contains("custos train --detector kitsune CLEAN.pcap"),
        "{warning}"
    );
    let learned = &kitsune["learned_from_attacks"];
    assert_eq!(learned["window"]["last_packet"], detecting - 1);
    let rules: Vec<&str> = learned["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["syn-flood", "network-service-discovery"]);
    // Hygiene findings never count; the run's warnings print it too.
    assert!(
        stderr.contains(&format!("warning: kitsune: {window}")),
        "{stderr}"
    );

    // The same at any thread count.
    let (three, _, _) = analyze(
        &capture,
        &dir.path().join("three"),
        &[os("--threads"), os("3")],
    );
    assert_eq!(three["warning"], kitsune["warning"]);
    assert_eq!(
        three["learned_from_attacks"],
        kitsune["learned_from_attacks"]
    );

    // Pseudonymised outputs carry the warning with pseudonyms, never the originals.
    let prefix = dir.path().join("share");
    let r = custos(&[
        os("keygen"),
        os("--pseudonym"),
        os("-o"),
        prefix.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let key = dir.path().join("share.pkey");
    let (pz, _, _) = analyze(
        &capture,
        &dir.path().join("pz"),
        &[os("--pseudonymize"), key.as_os_str()],
    );
    let warning = pz["warning"].as_str().unwrap();
    assert!(warning.contains(&window), "{warning}");
    assert!(warning.contains("SYN flood from "), "{warning}");
    assert!(!warning.contains("10.0.0."), "{warning}");
}

#[test]
fn packets_are_numbered_across_inputs() {
    // 300 packets of chatter in the first input; the attack starts the second one.
    let dir = tempfile::tempdir().unwrap();
    let mut pcap = Pcap::new();
    chatter(&mut pcap, 300);
    let first = pcap.split(dir.path(), "first.pcap");
    attack(&mut pcap);
    chatter(&mut pcap, 900);
    let second = pcap.write(dir.path(), "second.pcap");
    let (kitsune, findings, _) = analyze(&first, &dir.path().join("out"), &[second.as_os_str()]);
    let flood = findings
        .iter()
        .find(|f| f["finding"]["rule"] == "syn-flood")
        .unwrap();
    let at = &flood["evidence"]["packets"][0];
    assert_eq!(at["pcap_file"], second.display().to_string(), "{at}");
    let run_index = 300 + at["packet"].as_u64().unwrap();
    let warning = kitsune["warning"].as_str().unwrap();
    assert!(
        warning.contains(&format!(
            "SYN flood from 10.0.0.9 to 10.0.0.2:80 (first at packet {run_index})"
        )),
        "{warning}"
    );
}

#[test]
fn alerts_of_other_detectors_inside_the_window_count() {
    let dir = tempfile::tempdir().unwrap();
    let capture = capture(dir.path(), 20, 1200, "early-attack.pcap");
    let rules = dir.path().join("syn.rules");
    std::fs::write(
        &rules,
        "alert tcp any any -> any 80 (msg:\"SYN to port 80\"; flags:S; sid:1000001; rev:1;)\n",
    )
    .unwrap();
    let (kitsune, _, _) = analyze(
        &capture,
        &dir.path().join("out"),
        &[os("--rules"), rules.as_os_str()],
    );
    let warning = kitsune["warning"].as_str().unwrap();
    // The flood's SYNs are packets 20 to 269, all inside the window.
    assert!(
        warning.contains(
            "rules alert \"SYN to port 80\" from 10.0.0.9 to 10.0.0.2:80 (250 alerts, first at packet 20)"
        ),
        "{warning}"
    );
    let first = &kitsune["learned_from_attacks"]["attacks"][0];
    assert_eq!(first["source"], "alert");
    assert_eq!(first["signature_id"], 1000001);
    assert_eq!(first["alerts"], 250);
}

#[test]
fn attack_after_the_learning_window_raises_no_learning_warning() {
    let dir = tempfile::tempdir().unwrap();
    let capture = capture(dir.path(), 1200, 20, "late-attack.pcap");
    let (kitsune, findings, stderr) = analyze(&capture, &dir.path().join("out"), &[]);
    let detecting = kitsune["detecting_from"]["packet"].as_u64().unwrap();
    assert!(first_packet(&findings, "syn-flood") > detecting);
    assert!(kitsune.get("learned_from_attacks").is_none(), "{kitsune:#}");
    let warning = kitsune["warning"].as_str().unwrap_or_default();
    assert!(!warning.contains("learned normal traffic"), "{warning}");
    assert!(!stderr.contains("learned normal traffic"), "{stderr}");
}

#[test]
fn training_on_an_attack_puts_it_in_the_model_card() {
    let dir = tempfile::tempdir().unwrap();
    let capture = capture(dir.path(), 20, 600, "early-attack.pcap");
    let model = dir.path().join("model");
    let mut args = vec![
        os("train"),
        os("--detector"),
        os("kitsune"),
        capture.as_os_str(),
        os("-o"),
        model.as_os_str(),
    ];
    args.extend(GRACE.iter().map(|s| os(s)));
    let r = custos(&args);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: kitsune: learned normal traffic from packets 0 to")
            && stderr.contains("SYN flood from 10.0.0.9 to 10.0.0.2:80"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("training uses the packets before it"),
        "{stderr}"
    );
    let card: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model-card.json")).unwrap())
            .unwrap();
    // The card travels with the model and is never pseudonymised: kinds and packets, no
    // addresses.
    let caveats = card["caveats"].as_str().unwrap();
    assert!(
        caveats.contains("finding syn-flood (first at packet"),
        "{caveats}"
    );
    assert!(
        caveats.contains("finding network-service-discovery (first at packet"),
        "{caveats}"
    );
    assert!(!caveats.contains("10.0.0."), "{caveats}");
    let md = std::fs::read_to_string(model.join("model-card.md")).unwrap();
    assert!(md.contains("finding syn-flood"), "{md}");
    assert!(!md.contains("10.0.0."), "{md}");
}
