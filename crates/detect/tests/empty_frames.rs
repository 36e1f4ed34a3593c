//! Frames that decode to nothing are counted and skipped: they neither train nor get scored.

use custos_decode::{Decoder, DecoderConfig};
use custos_detect::{DetectorConfig, KitNetConfig, KitsuneDetector, Stage};

fn udp_frame(i: u16) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
    let ip = [
        0x45, 0, 0, 36, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
    ];
    f.extend_from_slice(&ip);
    f.extend_from_slice(&(1024 + i).to_be_bytes());
    f.extend_from_slice(&5683u16.to_be_bytes());
    f.extend_from_slice(&[0, 16, 0, 0]);
    f.extend_from_slice(&[0u8; 8]);
    f
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
