//! The ranking metrics equal scikit-learn's `roc_auc_score` and `average_precision_score`
//! to 1e-12: on random scores, on heavily tied ones, and through `evaluate` on a run folder.

mod util;

use custos_eval::Ranking;
use util::{close, sklearn_many, FakeRun, Pkt, Rng};

/// Compares both metrics with scikit-learn on every set (skipped without scikit-learn).
fn agree(what: &str, sets: &[(Vec<f32>, Vec<bool>)]) {
    let refs: Vec<(&[f32], &[bool])> = sets.iter().map(|(s, l)| (&s[..], &l[..])).collect();
    let Some(theirs) = sklearn_many(&refs) else {
        return;
    };
    for ((scores, labels), (auc, ap)) in sets.iter().zip(theirs) {
        let what = format!("{what}, n={}", scores.len());
        let r = Ranking::new(scores, labels);
        close(&format!("{what}: ROC AUC"), r.roc_auc(), auc);
        close(
            &format!("{what}: average precision"),
            r.average_precision(),
            ap,
        );
    }
}

#[test]
fn auc_and_ap_equal_sklearn_on_random_scores() {
    let mut rng = Rng(0x5eed_0001);
    let sets: Vec<(Vec<f32>, Vec<bool>)> = [(10, 0.5), (1000, 0.1), (20_000, 0.01), (100_000, 0.3)]
        .into_iter()
        .map(|(n, rate)| {
            let mut labels: Vec<bool> = (0..n).map(|_| rng.unit() < rate).collect();
            labels[0] = true;
            labels[1] = false;
            // Attacks score higher on average, so the AUC is neither 0.5 nor 1.
            let scores: Vec<f32> = labels
                .iter()
                .map(|&a| (rng.unit() * 3.0 + if a { 1.5 } else { 0.0 }).exp() as f32)
                .collect();
            (scores, labels)
        })
        .collect();
    agree("random", &sets);
}

#[test]
fn auc_and_ap_equal_sklearn_on_tied_scores() {
    let mut rng = Rng(0x5eed_0002);
    let sets: Vec<(Vec<f32>, Vec<bool>)> = [(50, 2u64), (5000, 5), (50_000, 40)]
        .into_iter()
        .map(|(n, levels)| {
            let mut labels: Vec<bool> = (0..n).map(|_| rng.unit() < 0.2).collect();
            labels[0] = true;
            labels[1] = false;
            let scores: Vec<f32> = labels
                .iter()
                .map(|&a| {
                    let level = (rng.next_u64() % levels) as f32 + if a { 1.0 } else { 0.0 };
                    // -0.0 and 0.0 are one score for both.
                    if level == 0.0 && rng.unit() < 0.5 {
                        -0.0
                    } else {
                        level / 4.0
                    }
                })
                .collect();
            (scores, labels)
        })
        .collect();
    agree("tied", &sets);
}

#[test]
fn evaluate_auc_equals_sklearn_on_the_scores_file() {
    let mut rng = Rng(0x5eed_0003);
    let phases = ["scan", "flood"];
    let pkts: Vec<Pkt> = (0..3000)
        .map(|i| {
            let phase = match i {
                1000..=1199 if i % 3 != 0 => Some(phases[0].to_string()),
                2000..=2599 if i % 2 == 0 => Some(phases[1].to_string()),
                _ => None,
            };
            let boost = if phase.is_some() { 2.0 } else { 0.0 };
            let a = ((rng.unit() * 4.0 + boost) * 8.0).round() as f32 / 8.0;
            let b = (rng.unit() + boost / 3.0) as f32;
            Pkt {
                scores: vec![a, b],
                phase,
            }
        })
        .collect();
    let run = FakeRun::new(
        std::slice::from_ref(&pkts),
        &["coarse", "fine"],
        &[("coarse", 5.0), ("fine", 0.9)],
    );
    let e = run.evaluate();
    let m = e.metrics();
    assert_eq!(m.detectors.len(), 2);
    let labels: Vec<bool> = pkts.iter().map(|p| p.phase.is_some()).collect();
    // Per detector: all packets, then each phase's attack packets with the benign ones.
    let mut sets: Vec<(Vec<f32>, Vec<bool>)> = Vec::new();
    for col in 0..m.detectors.len() {
        let scores: Vec<f32> = pkts.iter().map(|p| p.scores[col]).collect();
        sets.push((scores.clone(), labels.clone()));
        for phase in phases {
            let keep: Vec<usize> = (0..pkts.len())
                .filter(|&i| pkts[i].phase.as_deref().is_none_or(|p| p == phase))
                .collect();
            sets.push((
                keep.iter().map(|&i| scores[i]).collect(),
                keep.iter().map(|&i| labels[i]).collect(),
            ));
        }
    }
    let refs: Vec<(&[f32], &[bool])> = sets.iter().map(|(s, l)| (&s[..], &l[..])).collect();
    let Some(theirs) = sklearn_many(&refs) else {
        return;
    };
    let mut theirs = theirs.into_iter();
    for d in &m.detectors {
        let (auc, ap) = theirs.next().unwrap();
        let packet = d.packet.as_ref().unwrap();
        close(&format!("{}: ROC AUC", d.name), packet.roc_auc, auc);
        close(&format!("{}: PR AUC", d.name), packet.pr_auc, ap);
        for (k, phase) in phases.iter().enumerate() {
            let (auc, _) = theirs.next().unwrap();
            assert_eq!(d.phases[k].name, *phase);
            close(
                &format!("{} {phase}: ROC AUC", d.name),
                d.phases[k].roc_auc,
                auc,
            );
        }
    }
}
