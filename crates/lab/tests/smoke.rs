//! End to end: runs the `smoke` scenario and checks the outputs (needs root and the tools;
//! otherwise skips itself with `custos_test_support::skip`, unless CUSTOS_REQUIRE_LAB=1).

use std::collections::BTreeMap;
use std::path::Path;

use custos_lab::lab::{missing, tools_needed, RunOptions};
use custos_lab::scenario::Scenario;

fn require() -> bool {
    std::env::var("CUSTOS_REQUIRE_LAB").is_ok_and(|v| v == "1")
}

/// Returns the (smoke scenario, its text), or None when the lab cannot run here.
fn lab_or_skip() -> Option<(Scenario, String)> {
    let (s, text) = Scenario::load("smoke").expect("smoke parses");
    let mut why = Vec::new();
    if !custos_lab::sys::is_root() {
        why.push("not root".to_owned());
    }
    let miss = missing(&tools_needed(&s));
    if !miss.is_empty() {
        why.push(format!(
            "missing {}",
            miss.iter()
                .map(|t| t.program)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if why.is_empty() {
        return Some((s, text));
    }
    assert!(
        !require(),
        "CUSTOS_REQUIRE_LAB=1 but the lab cannot run: {}",
        why.join("; ")
    );
    custos_test_support::skip(&format!("the lab cannot run here: {}", why.join("; ")));
    None
}

struct Packet {
    ts_ns: i64,
    data: Vec<u8>,
}

fn read_pcap(p: &Path) -> Vec<Packet> {
    // Through custos-capture, the reader `custos analyze` uses.
    use custos_capture::PacketSource;
    let mut r = custos_capture::FileReader::open(p).expect("capture opens");
    let mut v = Vec::new();
    while let Some(pkt) = r.next_packet().expect("capture parses") {
        v.push(Packet {
            ts_ns: pkt.ts,
            data: pkt.data.to_vec(),
        });
    }
    v
}

/// A TCP or UDP conversation of an Ethernet/IPv4 frame: protocol and both endpoints, the
/// lower one first (this test's own byte offsets).
type Conversation = (u8, [u8; 4], u16, [u8; 4], u16);

fn conversation(d: &[u8]) -> Option<Conversation> {
    if d.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let ihl = usize::from(d.get(14)? & 0x0f) * 4;
    let proto = *d.get(23)?;
    if !matches!(proto, 6 | 17) || d.get(20..22)? != [0, 0] && d.get(20..22)? != [0x40, 0] {
        return None;
    }
    let addr = |at: usize| -> Option<[u8; 4]> { d.get(at..at + 4)?.try_into().ok() };
    let port = |at: usize| Some(u16::from_be_bytes(d.get(at..at + 2)?.try_into().ok()?));
    let a = (addr(26)?, port(14 + ihl)?);
    let b = (addr(30)?, port(16 + ihl)?);
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    Some((proto, lo.0, lo.1, hi.0, hi.1))
}

struct Row {
    index: usize,
    label: u8,
    phase: String,
    attacker: u8,
    time: String,
}

fn read_labels(p: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(p).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("index,label,phase,attacker,time"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 5, "{l}");
            Row {
                index: f[0].parse().unwrap(),
                label: f[1].parse().unwrap(),
                phase: f[2].to_owned(),
                attacker: f[3].parse().unwrap(),
                time: f[4].to_owned(),
            }
        })
        .collect()
}

/// Independent of the library's rule: does the frame hold `mac` or `ip` where an address goes?
fn has_addr(f: &[u8], mac: &[u8; 6], ip: &[u8; 4]) -> bool {
    let at = |o: usize, n: usize, want: &[u8]| f.get(o..o + n) == Some(want);
    if at(0, 6, mac) || at(6, 6, mac) {
        return true;
    }
    match f.get(12..14) {
        Some([0x08, 0x00]) => at(26, 4, ip) || at(30, 4, ip),
        Some([0x08, 0x06]) => at(22, 6, mac) || at(28, 4, ip) || at(32, 6, mac) || at(38, 4, ip),
        _ => false,
    }
}

fn sha256(p: &Path) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(std::fs::read(p).unwrap());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

struct Run {
    manifest: serde_json::Value,
    packets: Vec<Packet>,
    rows: Vec<Row>,
}

fn run_once(s: &Scenario, text: &str, dir: &Path, name: &str) -> Run {
    let prefix = dir.join(name);
    let opts = RunOptions {
        output: prefix.clone(),
        seed: None,
        keep_workdir: false,
        quiet: true,
    };
    let t = std::time::Instant::now();
    custos_lab::run_scenario(s, text, &opts).expect("smoke runs");
    assert!(t.elapsed().as_secs() < 90, "smoke took {:?}", t.elapsed());
    let (pcap, labels, manifest) = custos_lab::lab::output_paths(&prefix);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(m["capture"]["sha256"], sha256(&pcap));
    assert_eq!(m["labels"]["sha256"], sha256(&labels));
    Run {
        manifest: m,
        packets: read_pcap(&pcap),
        rows: read_labels(&labels),
    }
}

fn check(r: &Run) {
    let m = &r.manifest;
    assert_eq!(r.packets.len(), r.rows.len(), "one label per packet");
    assert_eq!(m["packets"].as_u64().unwrap() as usize, r.packets.len());
    let att = &m["attacker"];
    let mac: Vec<u8> = att["mac"]
        .as_str()
        .unwrap()
        .split(':')
        .map(|x| u8::from_str_radix(x, 16).unwrap())
        .collect();
    let mac: [u8; 6] = mac.try_into().unwrap();
    let ip: std::net::Ipv4Addr = att["ip"].as_str().unwrap().parse().unwrap();
    let ip = ip.octets();

    // Phase windows from the manifest.
    let phases = m["phases"].as_array().unwrap();
    let attack_windows: Vec<(i64, i64)> = phases
        .iter()
        .filter(|p| p["kind"] == "attack")
        .map(|p| {
            (
                p["start_ns"].as_i64().unwrap(),
                p["end_ns"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(!attack_windows.is_empty());

    // The attacker device's own chatter: its MQTT sessions (a CONNECT with its name as the
    // client id) and its DHCP exchanges. The lab labels them 0 even in attack phases.
    let name = att["name"].as_str().unwrap().as_bytes();
    // The client id as CONNECT carries it: a two-byte length, then the name.
    let client_id = [&[0, name.len() as u8], name].concat();
    let chatter: std::collections::BTreeSet<Conversation> = r
        .packets
        .iter()
        .filter(|p| {
            let payload = p.data.get(54..).unwrap_or_default();
            payload.windows(4).any(|w| w == b"MQTT")
                && payload.windows(client_id.len()).any(|w| w == client_id)
        })
        .filter_map(|p| conversation(&p.data))
        .collect();
    let is_chatter = |data: &[u8]| {
        conversation(data).is_some_and(|c| {
            let dhcp = [c.2, c.4] == [67, 68] || [c.2, c.4] == [68, 67];
            chatter.contains(&c) || (c.0 == 17 && dhcp)
        })
    };

    let mut per_phase: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut chatter_in_attacks = 0u64;
    for (i, (row, pkt)) in r.rows.iter().zip(&r.packets).enumerate() {
        assert_eq!(row.index, i);
        assert_eq!(row.time, custos_lab::label::format_ts(pkt.ts_ns));
        let carries = has_addr(&pkt.data, &mac, &ip);
        assert_eq!(
            row.attacker,
            u8::from(carries),
            "packet {i}: attacker column"
        );
        let in_attack = attack_windows
            .iter()
            .any(|&(s, e)| pkt.ts_ns >= s && pkt.ts_ns < e);
        if row.label == 1 {
            assert!(
                carries,
                "packet {i} labelled 1 without the attacker's address"
            );
            assert!(in_attack, "packet {i} labelled 1 outside an attack phase");
        }
        if in_attack && carries {
            chatter_in_attacks += u64::from(row.label == 0);
            assert_eq!(
                row.label,
                u8::from(!is_chatter(&pkt.data)),
                "packet {i} in an attack phase with the attacker's address: 0 only for its chatter"
            );
        }
        let e = per_phase.entry(row.phase.clone()).or_default();
        e.0 += 1;
        e.1 += u64::from(row.label);
        // Only lab addresses on the wire.
        if let Some([0x08, 0x00]) = pkt.data.get(12..14) {
            for a in [&pkt.data[26..30], &pkt.data[30..34]] {
                let ok = (a[0] == 198 && (a[1] & 0xfe) == 18)
                    || a == [0, 0, 0, 0]
                    || a == [255, 255, 255, 255];
                assert!(ok, "packet {i}: address {a:?} outside 198.18.0.0/15");
            }
        }
        assert!(
            !matches!(pkt.data.get(12..14), Some([0x86, 0xdd])),
            "packet {i} is IPv6"
        );
    }
    for p in phases {
        let name = p["name"].as_str().unwrap();
        let (n, l1) = per_phase.get(name).copied().unwrap_or_default();
        assert_eq!(p["packets"].as_u64().unwrap(), n, "phase {name} packets");
        assert_eq!(p["label_1"].as_u64().unwrap(), l1, "phase {name} label 1");
        if p["kind"] == "attack" {
            assert!(l1 > 0, "attack phase {name} has no attack packets");
        } else {
            assert_eq!(l1, 0, "benign phase {name} has attack labels");
        }
    }
    // Benign traffic exists (devices talk in the benign phase).
    assert!(
        per_phase.get("benign").is_some_and(|x| x.0 > 50),
        "{per_phase:?}"
    );
    // Its MQTT session publishes every 2 s through the attacks: labelled 0 there too.
    assert!(
        chatter_in_attacks > 0,
        "no chatter of the attacker in attack phases"
    );
    // The attacker chats before the attacks, labelled 0.
    assert!(r
        .rows
        .iter()
        .any(|x| x.attacker == 1 && x.label == 0 && (x.phase == "benign" || x.phase == "startup")));
}

/// The application layer's findings on a run's capture (what `custos analyze` writes to
/// findings.jsonl), by rule.
fn findings(r: &Run) -> Vec<custos_inventory::findings::Finding> {
    use custos_app::{AppConfig, AppTracker};
    use custos_inventory::findings::{Findings, FindingsConfig};
    let mut decoder = custos_decode::Decoder::new(custos_decode::DecoderConfig::default());
    let mut tracker = AppTracker::new(AppConfig::default());
    let mut engine = Findings::new(FindingsConfig::default());
    for (i, p) in r.packets.iter().enumerate() {
        let d = decoder.decode(1, p.ts_ns, &p.data);
        tracker.packet(p.ts_ns, 0, i as u64, &d);
        for e in tracker.drain() {
            engine.event(&e);
        }
    }
    tracker.finish();
    for e in tracker.drain() {
        engine.event(&e);
    }
    engine.finish()
}

/// The smoke scenario's telnet brute force (default-list guesses ending in the gateway's
/// default credential) and the cameras' firmware checks over HTTP are reported.
fn check_findings(r: &Run) {
    let all = findings(r);
    let ids: Vec<&str> = all.iter().map(|f| f.rule.id).collect();
    let brute = all
        .iter()
        .find(|f| f.rule.id == "brute-force" && f.app_proto == "telnet")
        .unwrap_or_else(|| panic!("no telnet brute force: {ids:?}"));
    assert!(brute.details["failures"].as_u64().unwrap() >= 5);
    assert_eq!(brute.details["followed_by_success"], true);
    assert_eq!(brute.device.port, Some(23));
    let login = all
        .iter()
        .find(|f| f.rule.id == "default-credential-login")
        .unwrap_or_else(|| panic!("no default-credential login: {ids:?}"));
    assert_eq!(login.peer, brute.peer, "the brute-forcing host logs in");
    assert!(
        all.iter()
            .any(|f| f.rule.id == "insecure-update" && f.app_proto == "http"),
        "firmware checks over HTTP: {ids:?}"
    );
    assert!(ids.contains(&"mqtt-anonymous"), "{ids:?}");
}

#[test]
fn smoke_scenario_end_to_end_twice() {
    let Some((s, text)) = lab_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = run_once(&s, &text, dir.path(), "a");
    check(&a);
    check_findings(&a);
    let b = run_once(&s, &text, dir.path(), "b");
    check(&b);
    check_findings(&b);

    // Same phases and device set.
    let names = |r: &Run| {
        r.manifest["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&a), names(&b));
    let nodes = |r: &Run| {
        r.manifest["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| (n["name"].clone(), n["ip"].clone(), n["mac"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(nodes(&a), nodes(&b));
    // Label ratio within the documented tolerance (docs/lab.md): ±0.10 absolute overall.
    let ratio =
        |r: &Run| r.manifest["label_1"].as_f64().unwrap() / r.manifest["packets"].as_f64().unwrap();
    let (ra, rb) = (ratio(&a), ratio(&b));
    eprintln!(
        "smoke: run a {} packets ratio {ra:.3}; run b {} packets ratio {rb:.3}",
        a.packets.len(),
        b.packets.len()
    );
    assert!(
        (ra - rb).abs() <= 0.10,
        "label ratios {ra} and {rb} differ by more than 0.10"
    );

    // Nothing left behind.
    let left = custos_lab::sys::cmd(&["ip", "netns", "list"]).unwrap();
    assert!(
        !left.contains(&format!("custos-lab-{}-", std::process::id())),
        "namespaces left: {left}"
    );
}
