//! The tracker's scan and flood watch on real captures: the committed sample (a 10-port SYN
//! scan among benign IoT traffic) and the lab's reference capture (nmap SYN scan, telnet
//! brute force, hping3 SYN flood), benign packets alone raising nothing.

use custos_app::tracker::behaviour::{FloodKind, Phase, ScanKind};
use custos_app::{AppConfig, AppEvent, AppRecord, AppTracker, BehaviourConfig};
use custos_capture::{FileReader, PacketSource};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

/// Events of the packets of `pcap` that `keep` accepts (by 0-based index and source/destination).
fn events(
    pcap: &Path,
    cfg: AppConfig,
    keep: &mut dyn FnMut(u64, Option<(IpAddr, IpAddr)>) -> bool,
) -> Vec<AppEvent> {
    let mut reader = FileReader::open(pcap).unwrap_or_else(|e| panic!("{}: {e}", pcap.display()));
    let mut decoder = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..Default::default()
    });
    let mut tracker = AppTracker::new(cfg);
    let mut out = Vec::new();
    while let Ok(Some(pkt)) = reader.next_packet() {
        let d = decoder.decode(pkt.linktype.0, pkt.ts, pkt.data);
        if keep(pkt.index, d.innermost().map(|l| (l.src, l.dst))) {
            tracker.packet(pkt.ts, 0, pkt.index, &d);
            out.extend(tracker.drain());
        }
    }
    tracker.finish();
    out.extend(tracker.drain());
    out
}

fn behaviour(events: &[AppEvent]) -> Vec<&AppEvent> {
    events
        .iter()
        .filter(|e| matches!(e.record, AppRecord::Scan(_) | AppRecord::Flood(_)))
        .collect()
}

fn sample() -> std::path::PathBuf {
    custos_test_support::repo_root().join("samples/iot-small.pcap")
}

const ATTACKER: [u8; 4] = [198, 18, 0, 66];

#[test]
fn benign_traffic_raises_no_scan_or_flood() {
    // The sample without the attacker's packets.
    let attacker = IpAddr::from(ATTACKER);
    let all = events(&sample(), AppConfig::default(), &mut |_, ips| {
        ips.is_some_and(|(s, d)| s != attacker && d != attacker)
    });
    assert!(all.len() > 20, "the benign part has events: {}", all.len());
    assert!(behaviour(&all).is_empty(), "{:#?}", behaviour(&all));
    // The reference capture's packets labelled benign (label 0), 27 124 of 32 600.
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let labels = std::fs::read_to_string(shared.join("reference/kitsune/iotlab-dev.labels.csv"))
        .expect("labels");
    let benign: BTreeSet<u64> = labels
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',');
            let index = f.next()?.parse().ok()?;
            (f.next()? == "0").then_some(index)
        })
        .collect();
    assert_eq!(benign.len(), 27_124);
    let pcap = shared.join("reference/kitsune/iotlab-dev.pcap");
    let all = events(&pcap, AppConfig::default(), &mut |i, _| benign.contains(&i));
    assert!(all.len() > 5_000);
    assert!(behaviour(&all).is_empty(), "{:#?}", behaviour(&all));
}

#[test]
fn sample_ten_port_scan_follows_the_configured_threshold() {
    let all = events(&sample(), AppConfig::default(), &mut |_, _| true);
    let b = behaviour(&all);
    assert_eq!(b.len(), 2, "start and end: {b:#?}");
    for e in &b {
        assert_eq!(e.client.0, IpAddr::from(ATTACKER));
        assert_eq!(e.server.0, IpAddr::from([198, 18, 0, 1]));
        let AppRecord::Scan(s) = &e.record else {
            panic!("{e:?}")
        };
        assert_eq!(s.kind, ScanKind::PortScan);
        assert_eq!(s.distinct, 10);
        assert_eq!(s.ports, [21, 22, 23, 25, 53, 80, 443, 1883, 5683, 8080]);
    }
    // Eleven ports needed: the ten-port scan no longer counts.
    let cfg = AppConfig {
        behaviour: BehaviourConfig {
            scan_ports: 11,
            ..BehaviourConfig::default()
        },
        ..AppConfig::default()
    };
    let all = events(&sample(), cfg, &mut |_, _| true);
    assert!(behaviour(&all).is_empty());
}

#[test]
fn reference_capture_scans_and_flood_come_from_the_attacker() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let pcap = shared.join("reference/kitsune/iotlab-dev.pcap");
    let all = events(&pcap, AppConfig::default(), &mut |_, _| true);
    let b = behaviour(&all);
    assert!(b.iter().all(|e| e.client.0 == IpAddr::from(ATTACKER)));
    let mut scanned = BTreeSet::new();
    let mut floods = Vec::new();
    for e in &b {
        match &e.record {
            AppRecord::Scan(s) if s.phase == Phase::End => {
                // nmap's 200 ports on each host (tshark: 200 distinct SYN destination ports).
                assert_eq!(
                    (s.kind, s.distinct, s.attempts),
                    (ScanKind::PortScan, 200, 200)
                );
                assert!(s.duration_s < 0.01, "{s:?}");
                scanned.insert(s.target);
            }
            AppRecord::Flood(f) if f.phase == Phase::End => floods.push(f),
            _ => {}
        }
    }
    let hosts = |h: &[[u8; 4]]| h.iter().map(|a| Some(IpAddr::from(*a))).collect();
    assert_eq!(scanned, hosts(&[[198, 18, 0, 1], [198, 18, 0, 12]]));
    // hping3: 1 500 SYNs to the gateway's port 80 in 7.7 s, every one reset, none completed.
    assert_eq!(floods.len(), 1, "{floods:#?}");
    let f = floods[0];
    assert_eq!(f.kind, FloodKind::SynFlood);
    assert_eq!((f.target, f.port), (IpAddr::from([198, 18, 0, 1]), 80));
    assert_eq!((f.packets, f.handshakes), (1500, Some(0)));
    assert_eq!(b.len(), 6, "a start and an end each: {b:#?}");
}
