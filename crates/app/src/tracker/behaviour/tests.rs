//! The behaviour watch on hand-made observations: thresholds, windows, answers, handshakes,
//! episodes and caps.

use super::*;

const S: i64 = 1_000_000_000;
const SYN: u8 = 0x02;
const SYN_ACK: u8 = 0x12;
const ACK: u8 = 0x10;

fn ep(ip: [u8; 4], port: u16) -> Endpoint {
    Endpoint {
        addr: Addr::from(IpAddr::from(ip)),
        port,
    }
}

fn tcp(src: Endpoint, dst: Endpoint, flags: u8) -> Observation {
    Observation {
        src,
        dst,
        transport: 6,
        flags,
        empty: false,
    }
}

fn udp(src: Endpoint, dst: Endpoint) -> Observation {
    Observation {
        src,
        dst,
        transport: 17,
        flags: 0,
        empty: false,
    }
}

struct Run {
    watch: BehaviourWatch,
    out: Vec<AppEvent>,
    index: u64,
}

impl Run {
    fn new(cfg: BehaviourConfig) -> Run {
        Run {
            watch: BehaviourWatch::new(cfg),
            out: Vec::new(),
            index: 0,
        }
    }

    fn at(&mut self, ts: i64, o: Observation, facts: Facts) {
        self.index += 1;
        let at = At {
            ts,
            file: 0,
            index: self.index,
        };
        self.watch.sweep(at, &mut self.out);
        self.watch.observe(o, facts, at, [None; 2], &mut self.out);
    }

    fn finish(mut self) -> Vec<AppEvent> {
        self.watch.finish(&mut self.out);
        self.out
    }
}

fn scans(events: &[AppEvent]) -> Vec<&ScanEvent> {
    events
        .iter()
        .filter_map(|e| match &e.record {
            AppRecord::Scan(s) => Some(&**s),
            _ => None,
        })
        .collect()
}

fn floods(events: &[AppEvent]) -> Vec<&FloodEvent> {
    events
        .iter()
        .filter_map(|e| match &e.record {
            AppRecord::Flood(f) => Some(&**f),
            _ => None,
        })
        .collect()
}

const SCANNER: [u8; 4] = [10, 0, 0, 66];
const TARGET: [u8; 4] = [10, 0, 0, 1];

#[test]
fn ten_ports_of_one_host_are_a_port_scan_nine_are_not() {
    for (ports, expected) in [(9u16, 0usize), (10, 2)] {
        let mut r = Run::new(BehaviourConfig::default());
        for p in 0..ports {
            r.at(
                i64::from(p) * S,
                tcp(ep(SCANNER, 40000), ep(TARGET, 20 + p), SYN),
                Facts::default(),
            );
            // Probing a port again does not count twice.
            r.at(
                i64::from(p) * S + 1,
                tcp(ep(SCANNER, 40000), ep(TARGET, 20), SYN),
                Facts::default(),
            );
        }
        let out = r.finish();
        let s = scans(&out);
        assert_eq!(s.len(), expected, "{ports} ports: {out:?}");
        if expected > 0 {
            assert_eq!(s[0].phase, Phase::Start);
            assert_eq!(s[0].kind, ScanKind::PortScan);
            assert_eq!(s[0].target, Some(IpAddr::from(TARGET)));
            assert_eq!(s[0].distinct, 10);
            assert_eq!(s[1].phase, Phase::End);
            assert_eq!(s[1].attempts, 10);
            assert_eq!(s[1].ports, (20..30).collect::<Vec<u16>>());
            assert_eq!(out[0].client.0, IpAddr::from(SCANNER));
            assert_eq!(out[0].proto, AppProto::Scan);
            assert_eq!(out[0].conn, out[1].conn);
            assert_eq!(out[0].conn, u64::MAX);
            assert_eq!(out[1].index, 19, "the end names the last new probe");
        }
    }
}

#[test]
fn ports_spread_wider_than_the_window_are_no_scan() {
    let mut r = Run::new(BehaviourConfig::default());
    for p in 0..20u16 {
        // One new port every 7 s: at most 9 within 60 s.
        r.at(
            i64::from(p) * 7 * S,
            tcp(ep(SCANNER, 40000), ep(TARGET, 1000 + p), SYN),
            Facts::default(),
        );
    }
    assert!(r.finish().is_empty());
}

#[test]
fn a_sweep_counts_hosts_that_do_not_answer() {
    let cfg = BehaviourConfig {
        scan_hosts: 8,
        ..BehaviourConfig::default()
    };
    // A busy client: 20 servers on 443, each answers.
    let mut r = Run::new(cfg.clone());
    for h in 0..20u8 {
        let (c, s) = (ep(SCANNER, 50000 + u16::from(h)), ep([10, 0, 1, h], 443));
        r.at(i64::from(h) * S, tcp(c, s, SYN), Facts::default());
        r.at(
            i64::from(h) * S + 1000,
            tcp(s, c, SYN_ACK),
            Facts::default(),
        );
    }
    assert!(r.finish().is_empty());
    // A sweep: eight silent hosts on 23.
    let mut r = Run::new(cfg);
    for h in 0..8u8 {
        r.at(
            i64::from(h) * S,
            tcp(ep(SCANNER, 50000), ep([10, 0, 1, h], 23), SYN),
            Facts::default(),
        );
    }
    let out = r.finish();
    let s = scans(&out);
    assert_eq!(s.len(), 2, "{out:?}");
    assert_eq!(s[0].kind, ScanKind::HostSweep);
    assert_eq!(s[0].port, Some(23));
    assert_eq!(s[1].hosts.len(), 8);
}

#[test]
fn syn_flood_needs_syns_without_handshakes() {
    let cfg = BehaviourConfig {
        syn_flood_syns: 50,
        ..BehaviourConfig::default()
    };
    // 100 connections in 5 s that all complete: no flood.
    let mut r = Run::new(cfg.clone());
    for i in 0..100u16 {
        let (c, s) = (ep(SCANNER, 1000 + i), ep(TARGET, 80));
        let t = i64::from(i) * S / 20;
        r.at(t, tcp(c, s, SYN), Facts::default());
        r.at(t + 10, tcp(s, c, SYN_ACK), Facts::default());
        let done = Facts {
            established: true,
            ..Facts::default()
        };
        r.at(t + 20, tcp(c, s, ACK), done);
    }
    assert!(r.finish().is_empty());
    // 100 SYNs answered, never acknowledged: a flood (one per port: no port scan either).
    let mut r = Run::new(cfg);
    for i in 0..100u16 {
        let (c, s) = (ep(SCANNER, 1000 + i), ep(TARGET, 80));
        r.at(i64::from(i) * S / 20, tcp(c, s, SYN), Facts::default());
        r.at(
            i64::from(i) * S / 20 + 10,
            tcp(s, c, SYN_ACK),
            Facts::default(),
        );
    }
    let out = r.finish();
    assert!(scans(&out).is_empty());
    let f = floods(&out);
    assert_eq!(f.len(), 2, "{out:?}");
    assert_eq!(
        (f[0].kind, f[0].phase, f[0].packets),
        (FloodKind::SynFlood, Phase::Start, 50)
    );
    assert_eq!(
        (f[1].phase, f[1].packets, f[1].handshakes),
        (Phase::End, 100, Some(0))
    );
    assert_eq!(f[1].target, IpAddr::from(TARGET));
}

#[test]
fn udp_flood_and_udp_port_scan() {
    let cfg = BehaviourConfig {
        udp_flood_datagrams: 1000,
        ..BehaviourConfig::default()
    };
    let mut r = Run::new(cfg);
    for i in 0..2000i64 {
        r.at(
            i * S / 1000,
            udp(ep(SCANNER, 5000), ep(TARGET, 53)),
            Facts::default(),
        );
    }
    // Answers to many ports of the client are not a scan by the server.
    for p in 0..50u16 {
        let reply = Facts {
            reply: true,
            opens: true,
            ..Facts::default()
        };
        r.at(3 * S, udp(ep(TARGET, 53), ep(SCANNER, 30000 + p)), reply);
    }
    let out = r.finish();
    let f = floods(&out);
    assert_eq!(f.len(), 2, "{out:?}");
    assert_eq!(f[0].kind, FloodKind::UdpFlood);
    assert_eq!(f[1].packets, 2000);
    assert!(scans(&out).is_empty());
}

#[test]
fn an_episode_ends_after_a_quiet_window_and_a_new_one_can_start() {
    let mut r = Run::new(BehaviourConfig::default());
    for round in 0..2i64 {
        for p in 0..12u16 {
            let t = round * 200 * S + i64::from(p);
            r.at(
                t,
                tcp(ep(SCANNER, 40000), ep(TARGET, p + 1), SYN),
                Facts::default(),
            );
        }
    }
    let out = r.finish();
    let phases: Vec<Phase> = scans(&out).iter().map(|s| s.phase).collect();
    assert_eq!(phases, [Phase::Start, Phase::End, Phase::Start, Phase::End]);
    assert_ne!(out[0].conn, out[2].conn);
}

#[test]
fn tables_stay_within_their_caps() {
    let cfg = BehaviourConfig {
        max_tracked: 64,
        scan_ports: 2,
        ..BehaviourConfig::default()
    };
    let mut r = Run::new(cfg);
    for i in 0..10_000u32 {
        let src = [10, 1, (i >> 8) as u8, i as u8];
        r.at(
            i64::from(i),
            tcp(ep(src, 1), ep(TARGET, 1), SYN),
            Facts::default(),
        );
        r.at(
            i64::from(i),
            tcp(ep(src, 1), ep(TARGET, 2), SYN),
            Facts::default(),
        );
        assert!(r.watch.ports.map.len() <= 64);
        assert!(r.watch.hosts.map.len() <= 64);
        assert!(r.watch.floods.map.len() <= 64);
        assert!(r.watch.ports.open <= MAX_EPISODES);
    }
    // Every source scanned: each episode started and ended, none lost.
    let out = r.finish();
    let s = scans(&out);
    assert_eq!(s.len(), 20_000);
    assert_eq!(s.iter().filter(|s| s.phase == Phase::End).count(), 10_000);
}

#[test]
fn multicast_and_broadcast_are_ignored() {
    let mut r = Run::new(BehaviourConfig::default());
    for p in 0..100u16 {
        r.at(
            i64::from(p),
            udp(ep(SCANNER, 5353), ep([224, 0, 0, 251], p)),
            Facts::default(),
        );
        r.at(
            i64::from(p),
            udp(ep(SCANNER, 68), ep([255, 255, 255, 255], p)),
            Facts::default(),
        );
    }
    assert!(r.finish().is_empty());
}
