use super::*;
use custos_decode::wire::{FrameBuilder, Mac, UdpRepr};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use std::net::Ipv4Addr;

/// Ethernet + IPv4 + UDP frame from `src:sport` to `dst:dport`.
fn udp4(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    FrameBuilder::ipv4(
        Mac([2, 0, 0, 0, 0, 1]),
        Mac([2, 0, 0, 0, 0, 2]),
        Ipv4Addr::from(src),
        Ipv4Addr::from(dst),
    )
    .udp(&UdpRepr {
        src_port: sport,
        dst_port: dport,
        payload: &[],
    })
}

fn decoder() -> Decoder {
    Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..DecoderConfig::default()
    })
}

#[test]
fn names_are_unique_and_sized() {
    for features_115 in [false, true] {
        for mode in [Mode::Compat, Mode::Default] {
            let fe = FeatureExtractor::new(FeatureConfig {
                mode,
                features_115,
                ..FeatureConfig::default()
            });
            let names = fe.names();
            assert_eq!(names.len(), fe.len());
            let set: std::collections::HashSet<_> = names.iter().collect();
            assert_eq!(set.len(), names.len());
        }
    }
    let fe = FeatureExtractor::new(FeatureConfig::kitsune_py());
    let n = fe.names();
    assert_eq!(n[0], "MI_dir_L5_weight");
    assert_eq!(n[17], "HH_L5_std");
    assert_eq!(n[18], "HH_L5_radius");
    assert_eq!(n[99], "HpHp_L0.01_pcc");
}

#[test]
fn wrong_output_length_is_refused() {
    let mut d = decoder();
    let frame = udp4([198, 18, 0, 1], 1000, [198, 18, 0, 2], 53);
    let dec = d.decode(1, 0, &frame);
    let mut fe = FeatureExtractor::new(FeatureConfig::default());
    assert!(!fe.extract(0, 60, &dec, &mut [0.0; 99]));
}

#[test]
fn epoch_seconds_is_tsharks_string_parsed() {
    let ts = 1_700_000_000_123_456_789;
    assert_eq!(
        compat::epoch_seconds(ts),
        "1700000000.123456789".parse::<f64>().unwrap()
    );
    assert_eq!(compat::epoch_seconds(-1_500_000_000), -1.5);
}

/// "198.18.0.1" + "23" and "198.18.0.12" + "3" are one socket in compat mode, two by default.
#[test]
fn socket_key_collision_only_in_compat() {
    let a = udp4([198, 18, 0, 1], 23, [198, 18, 0, 9], 5683);
    let b = udp4([198, 18, 0, 12], 3, [198, 18, 0, 9], 5683);
    for (mode, want_weight) in [(Mode::Compat, 2.0), (Mode::Default, 1.0)] {
        let mut d = decoder();
        let mut fe = FeatureExtractor::new(FeatureConfig {
            mode,
            ..FeatureConfig::default()
        });
        let mut out = [0.0; 100];
        let dec = d.decode(1, 0, &a);
        assert!(fe.extract(1_000_000_000, 60, &dec, &mut out));
        let dec = d.decode(1, 0, &b);
        assert!(fe.extract(1_000_000_000, 60, &dec, &mut out));
        // HpHp_L5_weight: the socket stream's weight.
        assert_eq!(out[65], want_weight, "{mode:?}");
    }
}

/// Default mode keeps every table within its limit, evicting stale or old entries.
#[test]
fn default_mode_memory_is_bounded() {
    let mut d = decoder();
    let mut fe = FeatureExtractor::new(FeatureConfig {
        max_streams: 64,
        max_pairs: 64,
        ..FeatureConfig::default()
    });
    let mut out = [0.0; 100];
    for i in 0..10_000u32 {
        let [_, _, c, e] = i.to_be_bytes();
        let frame = udp4([10, 0, c, e], 1000 + (i % 7) as u16, [10, 1, e, c], 53);
        let dec = d.decode(1, 0, &frame);
        assert!(fe.extract(i64::from(i) * 1_000_000, 60, &dec, &mut out));
        assert!(out.iter().all(|x| x.is_finite()));
    }
    let Engine::Default(t) = &fe.engine else {
        unreachable!()
    };
    assert!(t.max_len() <= 64);
    assert!(fe.evicted() > 0);
}

/// Which entries a full table evicts never depends on its map's order (each map hashes with
/// its own random keys, `custos_flow::keyed_hash`): two extractors give the same features,
/// though many entries tie on their last-seen time.
#[test]
fn eviction_does_not_depend_on_map_order() {
    let cfg = FeatureConfig {
        max_streams: 64,
        max_pairs: 64,
        ..FeatureConfig::default()
    };
    let (mut a, mut b) = (FeatureExtractor::new(cfg), FeatureExtractor::new(cfg));
    let mut d = decoder();
    let (mut out_a, mut out_b) = ([0.0; 100], [0.0; 100]);
    for i in 0..5_000u32 {
        // 200 hosts in turn against tables of 64: evicted hosts come back.
        let h = (i % 200) as u8;
        let frame = udp4([10, 0, 0, h], 1000, [10, 1, h % 3, 1], 53);
        let dec = d.decode(1, 0, &frame);
        // 100 packets share each time: eviction must break their ties.
        let ts = i64::from(i / 100) * 1_000_000;
        assert!(a.extract(ts, 60, &dec, &mut out_a));
        assert!(b.extract(ts, 60, &dec, &mut out_b));
        assert_eq!(
            out_a.map(f64::to_bits),
            out_b.map(f64::to_bits),
            "packet {i}"
        );
    }
    assert!(a.evicted() > 0);
}

/// Default mode: cost per packet does not grow with the number of peers of a host.
#[test]
fn default_mode_pair_state_is_per_pair() {
    let mut d = decoder();
    let mut fe = FeatureExtractor::new(FeatureConfig::default());
    let mut out = [0.0; 100];
    for i in 0..1000u32 {
        let [_, _, c, e] = i.to_be_bytes();
        let frame = udp4([10, 0, 0, 1], 5000, [10, 1, c, e], 53);
        let dec = d.decode(1, 0, &frame);
        assert!(fe.extract(i64::from(i) * 1_000, 60, &dec, &mut out));
    }
    // One host stream for the source, 1000 pairs; the source's weight counts every packet.
    assert!(out[15] > 990.0 && out[15] <= 1000.0, "{}", out[15]);
}

/// The host features of one new flow from 10.0.0.1, opened in input file 1 half a second
/// after file 0, in which the same host opened 20 flows within 2 s.
fn host_features_after_a_busy_file(restart: bool) -> [f64; crate::flow::HOST_COLUMNS.len()] {
    use crate::flow::{FlowTracker, Label};
    use custos_flow::zeek::ZeekConfig;
    let mut tracker: FlowTracker = FlowTracker::new(ZeekConfig::default(), false);
    if restart {
        tracker = tracker.restart_hosts_at_each_file();
    }
    let mut d = decoder();
    let mut host = [0.0; crate::flow::HOST_COLUMNS.len()];
    for i in 0..21u16 {
        let frame = udp4([10, 0, 0, 1], 40_000 + i, [10, 0, 0, 2], 1000 + i);
        let dec = d.decode(1, 0, &frame);
        let meta = custos_flow::PacketMeta {
            ts: i64::from(i) * 100_000_000,
            frame_len: frame.len() as u32,
            index: u64::from(i),
            file: u16::from(i == 20),
        };
        tracker.packet_with(&meta, &dec, Label::default(), |f| {
            host = f.first_packet().unwrap().3 .0;
        });
    }
    host
}

#[test]
fn host_features_restart_at_each_file_when_asked() {
    let fresh = host_features_after_a_busy_file(true);
    let carried = host_features_after_a_busy_file(false);
    // A host's first flow counts itself (1) and nothing before it.
    assert_eq!(fresh[0], 1.0, "{fresh:?}");
    assert!(carried[0] > 10.0, "{carried:?}");
}
