//! `custos_robust::evasion` on the reference lab capture of the shared corpus (skipped when
//! absent): every transform of every attack phase gives frames that decode cleanly, labels
//! that stay aligned through a written capture, and an attack that still works within the
//! budget; `evade` reports rates and is byte-identical for the same seed; bad inputs are
//! refused.

use custos_decode::{ChecksumMode, ChecksumStatus, Decoder, DecoderConfig};
use custos_robust::capture::LabelledCapture;
use custos_robust::evasion::budget::{Budget, Cost};
use custos_robust::evasion::functional::{deadline, Effect};
use custos_robust::evasion::ops::chaff_pool;
use custos_robust::evasion::phase::{phases, splice, Pkt};
use custos_robust::evasion::transform::{Candidate, Context, Transform};
use custos_robust::evasion::{evade, EvadeConfig, Target};
use custos_robust::{RobustError, REPORT_FILE};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The reference capture and labels, or `None` (test skipped).
fn reference() -> Option<(PathBuf, PathBuf)> {
    custos_test_support::kitsune_reference()
}

/// Frames that do not decode cleanly: a decode error or a checksum verified wrong.
fn unclean(linktype: u32, p: &[Pkt]) -> usize {
    let mut dec = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Verify,
        ..DecoderConfig::default()
    });
    p.iter()
        .filter(|x| {
            let d = dec.decode(linktype, x.frame.ts, &x.frame.data);
            d.error.is_some()
                || d.bad_ip_checksum
                || d.ip_layers().any(|l| l.l4_checksum == ChecksumStatus::Bad)
        })
        .count()
}

#[test]
fn transformed_phases_decode_cleanly_keep_labels_aligned_and_still_work() {
    let Some((pcap, labels)) = reference() else {
        return;
    };
    let (cap, _) = LabelledCapture::read(&pcap, &labels).unwrap();
    let all = phases(&cap);
    assert_eq!(
        all.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        ["scan", "brute", "login", "synflood"]
    );
    let exclude: BTreeSet<_> = all.iter().filter_map(|p| p.attacker.map(|a| a.1)).collect();
    let benign: Vec<bool> = cap.labels.iter().map(|l| !l.attack).collect();
    let pool = chaff_pool(&cap.frames, &benign, cap.linktype, &exclude, 512);
    assert!(!pool.is_empty(), "the benign devices send UDP");
    let budget = Budget::default();
    let transforms = [
        Transform::SourcePorts,
        Transform::IpIds,
        Transform::HttpHeader(32),
        Transform::TcpNops(1),
        Transform::Split,
        Transform::Chaff(0.5),
        Transform::Jitter(0.8),
        Transform::Delay(2.0),
        Transform::Pace(1.5),
    ];
    let dir = tempfile::tempdir().unwrap();
    for phase in &all {
        let ctx = Context {
            linktype: cap.linktype,
            pool: &pool,
            attacker: phase.attacker,
        };
        assert!(phase.attacker.is_some(), "{}: attacker found", phase.name);
        let before_unclean = unclean(cap.linktype, &phase.packets);
        let times: Vec<(i64, u32)> = phase
            .packets
            .iter()
            .map(|p| (p.frame.ts, p.frame.orig_len))
            .collect();
        let due = deadline(times[0].0, times[times.len() - 1].0, budget.duration);
        let effect = Effect::of(&phase.packets, cap.linktype, due);
        let mut candidates: Vec<Candidate> =
            transforms.iter().map(|&t| Candidate::new([t], 3)).collect();
        candidates.push(Candidate::new(
            [
                Transform::SourcePorts,
                Transform::Split,
                Transform::Pace(1.8),
            ],
            3,
        ));
        for c in candidates {
            let what = format!("{} / {}", phase.name, c.name());
            let p = c.apply(&phase.packets, &ctx);
            assert!(
                unclean(cap.linktype, &p) <= before_unclean,
                "{what}: frames that no longer decode cleanly"
            );
            let after: Vec<(i64, u32)> = p.iter().map(|x| (x.frame.ts, x.frame.orig_len)).collect();
            let cost = Cost::between(&times, &after);
            if cost.within(&budget) {
                effect
                    .kept_by(&Effect::of(&p, cap.linktype, due))
                    .unwrap_or_else(|b| panic!("{what}: {b}"));
            }
            if c.steps.len() > 1 || matches!(c.steps[0], Transform::Split | Transform::Chaff(_)) {
                let spliced = splice(&cap, phase, &p);
                let (wp, wl) = spliced.write(dir.path(), "t").unwrap();
                let (back, _) = LabelledCapture::read(&wp, &wl).unwrap();
                assert_eq!(
                    back.frames.len(),
                    cap.frames.len() - phase.packets.len() + p.len()
                );
                let mine = back
                    .labels
                    .iter()
                    .filter(|l| l.attack && l.phase.as_deref() == Some(phase.name.as_str()))
                    .count();
                assert_eq!(
                    mine,
                    p.len(),
                    "{what}: the phase's labels follow its packets"
                );
                assert_eq!(
                    back.attack_packets(),
                    cap.attack_packets() - phase.packets.len() + p.len(),
                    "{what}"
                );
            }
        }
    }
}

/// A small evasion run over two phases of the reference.
fn small(out: PathBuf) -> Option<EvadeConfig> {
    let (pcap, labels) = reference()?;
    let mut cfg = EvadeConfig::new(pcap, labels, out);
    cfg.targets = vec![
        Target::parse("flow").unwrap(),
        Target::parse("kitsune,flow").unwrap(),
    ];
    cfg.phases = vec!["brute".into(), "login".into()];
    cfg.queries = 4;
    cfg.trees = 10;
    cfg.adversarial_samples = 1;
    Some(cfg)
}

#[test]
fn evade_reports_rates_per_target_and_phase_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let Some(cfg) = small(dir.path().join("a")) else {
        return;
    };
    let (report, files) = evade(cfg).unwrap();
    assert_eq!(
        report
            .evasion
            .iter()
            .filter(|e| e.defence == "none")
            .count(),
        4
    );
    assert_eq!(
        report
            .evasion
            .iter()
            .filter(|e| e.defence == "adversarial_training")
            .count(),
        4
    );
    for e in &report.evasion {
        assert!(e.queries >= 1 && e.queries <= 4, "{e:?}");
        assert!(e.cost.within(&Budget::default()), "{e:?}");
        assert_eq!(e.evaded, e.closeness <= 1.0 || !e.original_alerted, "{e:?}");
    }
    for t in ["flow", "kitsune,flow"] {
        let r = &report.evasion_rate[t];
        assert_eq!(r.keys().collect::<Vec<_>>(), ["brute", "login"]);
        assert!(r.values().all(|x| (0.0..=1.0).contains(x)));
    }
    assert!(report.evasion_rate_defended["adversarial_training"].contains_key("kitsune,flow"));
    assert_eq!(report.defences.len(), 1);
    assert!(report.defences[0].flows_added > 0);
    let json = std::fs::read_to_string(&files[0]).unwrap();
    for key in [
        "\"evasion\"",
        "\"evasion_rate\"",
        "\"duration_factor\"",
        "\"extra_bytes\"",
        "\"extra_packets\"",
        "\"queries\"",
    ] {
        assert!(json.contains(key), "{key}");
    }
    let again = small(dir.path().join("b")).unwrap();
    let (_, files_b) = evade(again).unwrap();
    assert_eq!(
        json,
        std::fs::read_to_string(&files_b[0]).unwrap(),
        "same seed, same bytes"
    );
}

#[test]
fn evade_refuses_unknown_phases_and_existing_reports() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut cfg) = small(dir.path().join("r")) else {
        return;
    };
    cfg.phases = vec!["nosuchphase".into()];
    match evade(cfg) {
        Err(RobustError::Insufficient(m)) => assert!(m.contains("nosuchphase"), "{m}"),
        other => panic!("{other:?}"),
    }
    std::fs::create_dir_all(dir.path().join("r")).unwrap();
    std::fs::write(dir.path().join("r").join(REPORT_FILE), "{}").unwrap();
    let cfg = small(dir.path().join("r")).unwrap();
    match evade(cfg) {
        Err(RobustError::Usage(m)) => assert!(m.contains("--force"), "{m}"),
        other => panic!("{other:?}"),
    }
}
