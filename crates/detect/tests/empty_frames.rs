//! Frames that decode to nothing are counted and skipped: they neither train nor get scored.

use custos_decode::wire::{EthernetRepr, FrameBuilder, Ipv4Repr, Mac, UdpRepr};
use custos_decode::{Decoder, DecoderConfig};
use custos_detect::{DetectorConfig, KitNetConfig, KitsuneDetector, Stage};
use std::net::Ipv4Addr;

fn udp_frame(i: u16) -> Vec<u8> {
    let ethernet = EthernetRepr {
        src_addr: Mac([2, 0, 0, 0, 0, 1]),
        dst_addr: Mac([2, 0, 0, 0, 0, 2]),
        ..EthernetRepr::default()
    };
    let ip = Ipv4Repr {
        src_addr: Ipv4Addr::new(198, 18, 0, 1),
        dst_addr: Ipv4Addr::new(198, 18, 0, 2),
        ident: 1,
        ..Ipv4Repr::default()
    };
    FrameBuilder::new(ethernet, ip).udp(&UdpRepr {
        src_port: 1024 + i,
        dst_port: 5683,
        payload: &[0; 8],
    })
}

#[test]
fn empty_frames_are_skipped_and_counted() {
    let cfg = DetectorConfig {
        kitnet: KitNetConfig {
            fm_grace: 10,
            ad_grace: 10,
            ..KitNetConfig::default()
        },
        calibration: 10,
        ..DetectorConfig::default()
    };
    let mut decoder = Decoder::new(DecoderConfig::default());
    let mut det = KitsuneDetector::new(cfg);
    for _ in 0..1000 {
        let d = decoder.decode(1, 0, &[]);
        assert!(d.is_empty());
        let v = det.packet(0, 0, &d);
        assert_eq!(v.score, 0.0);
        assert!(!v.alert);
    }
    assert_eq!(det.skipped_empty(), 1000);
    assert_eq!(det.kitnet().trained, 0, "empty frames must not train");
    assert_eq!(det.stage(), Stage::FeatureMapping);
    for i in 0..25u16 {
        let frame = udp_frame(i);
        let d = decoder.decode(1, i64::from(i) * 1_000_000, &frame);
        assert!(!d.is_empty());
        det.packet(i64::from(i) * 1_000_000, frame.len() as u32, &d);
    }
    assert_eq!(det.kitnet().trained, 21, "only real frames train");
    assert_eq!(det.stage(), Stage::Calibrating);
    let d = decoder.decode(1, 0, &[0u8; 5]);
    assert!(
        d.is_empty(),
        "a frame shorter than an Ethernet header decodes to nothing"
    );
    assert_eq!(det.packet(0, 5, &d).stage, Stage::Calibrating);
    assert_eq!(det.skipped_empty(), 1001);
}
