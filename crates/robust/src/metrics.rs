//! What each experiment measures on the test capture: ROC AUC (custos-eval's [`Ranking`],
//! computed as scikit-learn does), precision, recall and F1 of the alerts at the operating
//! point, and recall per attack phase.

use custos_eval::Ranking;
use std::collections::BTreeMap;

/// The measurements of one model on the test items (packets for Kitsune, flows for the flow
/// model).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Measured {
    /// ROC AUC of the scores, attack against benign (`None` without both classes).
    pub auc: Option<f64>,
    /// F1 of the alerts (0 when nothing is alerted or nothing is attack).
    pub f1: f64,
    /// Alerted attack items / alerted items.
    pub precision: Option<f64>,
    /// Alerted attack items / attack items.
    pub recall: Option<f64>,
    /// Alerted benign items / benign items.
    pub false_positive_rate: Option<f64>,
    /// Per attack phase: alerted items of the phase / items of the phase.
    pub phase_recall: BTreeMap<String, f64>,
}

/// Measures `scores` and `alerted` against `attack` and `phase` (all of one length; the
/// shortest decides). Scores are ranked as `f32`, as `custos evaluate` ranks them.
pub fn measure(
    scores: &[f64],
    alerted: &[bool],
    attack: &[bool],
    phase: &[Option<String>],
) -> Measured {
    let s32: Vec<f32> = scores.iter().map(|&s| s as f32).collect();
    let auc = Ranking::new(&s32, attack).roc_auc();
    let (mut tp, mut fp, mut pos, mut neg) = (0u64, 0u64, 0u64, 0u64);
    let mut phases: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for ((&a, &l), p) in alerted.iter().zip(attack).zip(phase) {
        if l {
            pos += 1;
            tp += u64::from(a);
            let e = phases
                .entry(p.clone().unwrap_or_else(|| "(none)".into()))
                .or_default();
            e.0 += 1;
            e.1 += u64::from(a);
        } else {
            neg += 1;
            fp += u64::from(a);
        }
    }
    let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
    let f1 = if tp == 0 {
        0.0
    } else {
        2.0 * tp as f64 / (2 * tp + fp + (pos - tp)) as f64
    };
    Measured {
        auc,
        f1,
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, pos),
        false_positive_rate: ratio(fp, neg),
        phase_recall: phases
            .into_iter()
            .map(|(k, (n, hit))| (k, hit as f64 / n as f64))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_and_phase_recall_count_alerts() {
        let scores = [0.9, 0.8, 0.1, 0.7, 0.2];
        let alerted = [true, true, false, true, false];
        let attack = [true, true, true, false, false];
        let phase = [
            Some("scan".to_string()),
            Some("flood".into()),
            Some("flood".into()),
            None,
            None,
        ];
        let m = measure(&scores, &alerted, &attack, &phase);
        // tp 2, fp 1, fn 1: F1 = 4 / 6.
        assert!((m.f1 - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(m.precision, Some(2.0 / 3.0));
        assert_eq!(m.phase_recall["scan"], 1.0);
        assert_eq!(m.phase_recall["flood"], 0.5);
        assert_eq!(m.auc, Some(4.0 / 6.0));
    }

    #[test]
    fn nothing_alerted_has_zero_f1() {
        let m = measure(&[0.1, 0.2], &[false, false], &[true, false], &[None, None]);
        assert_eq!(m.f1, 0.0);
        assert_eq!(m.precision, None);
        assert_eq!(m.recall, Some(0.0));
    }
}
