//! Ranking metrics over scored, labelled packets, computed as scikit-learn computes them.
//!
//! A [`Ranking`] sorts one `u64` per packet: the score's bits in total order above an 8-bit
//! class code, so packets with equal scores sit together whatever their class. Walking it
//! from the highest score down, one step per *distinct* score, gives the ROC and
//! precision–recall curves with ties handled as scikit-learn does (`roc_curve` and
//! `precision_recall_curve` put one point per distinct threshold):
//!
//! - ROC AUC (`roc_auc_score`): the trapezoid area under those points, summed exactly in
//!   integers (each step adds `Δfp · (2·tp_before + Δtp)`) and divided once by `2·P·N`;
//!   equal scores across classes count one half, as the average-rank formula does.
//! - Average precision (`average_precision_score`): `Σ (R_k − R_{k−1}) · P_k` over the same
//!   steps, without interpolation.
//!
//! Scores are `f32`; `-0.0` equals `0.0`; NaN ranks above `+∞` (the readers reject it).

/// A packet's class code: `0` negative (benign), anything else positive (attack phase).
const NEGATIVE: u8 = 0;

/// One point of a ROC curve: what flagging the packets at or above a score catches.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct OperatingPoint {
    /// The rule's score: packets scoring at or above it are flagged for the points of
    /// [`Ranking::tpr_at_fpr`], strictly above it for [`Ranking::at_threshold`]; `None` when
    /// no packet is flagged.
    pub threshold: Option<f64>,
    /// True-positive rate: flagged attack packets / attack packets.
    pub tpr: f64,
    /// False-positive rate: flagged benign packets / benign packets.
    pub fpr: f64,
    /// Flagged attack packets.
    pub true_positives: u64,
    /// Flagged benign packets.
    pub false_positives: u64,
}

/// Cumulative counts after one distinct score.
#[derive(Clone, Copy, Debug)]
struct Step {
    /// The score.
    score: f32,
    /// Positives scoring at or above it.
    tp: u64,
    /// Negatives scoring at or above it.
    fp: u64,
}

/// Scored packets sorted by score, each with its class code.
#[derive(Clone, Debug, Default)]
pub struct Ranking {
    /// `order(score) << 8 | code`, ascending.
    keys: Vec<u64>,
}

impl Ranking {
    /// Ranks `scores` with their labels (`true` = positive). Pairs are zipped: the shorter
    /// slice decides how many count.
    pub fn new(scores: &[f32], positive: &[bool]) -> Self {
        let codes: Vec<u8> = positive.iter().map(|&p| u8::from(p)).collect();
        Ranking::from_codes(scores, &codes)
    }

    /// Ranks `scores` with class codes (`0` benign, `k` attack phase `k`).
    pub(crate) fn from_codes(scores: &[f32], codes: &[u8]) -> Self {
        let mut keys: Vec<u64> = scores
            .iter()
            .zip(codes)
            .map(|(&s, &c)| (u64::from(order(s)) << 8) | u64::from(c))
            .collect();
        keys.sort_unstable();
        Ranking { keys }
    }

    /// Ranked packets.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether nothing is ranked.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// ROC AUC of attack (any positive code) against benign; `None` without both classes.
    pub fn roc_auc(&self) -> Option<f64> {
        self.auc_of(all)
    }

    /// ROC AUC of attack phase `code` against benign packets, other phases left out.
    pub(crate) fn phase_auc(&self, code: u8) -> Option<f64> {
        self.auc_of(|c| match c {
            NEGATIVE => Some(false),
            c if c == code => Some(true),
            _ => None,
        })
    }

    /// Average precision (area under the precision–recall curve, scikit-learn's
    /// `average_precision_score`); `None` without an attack packet.
    pub fn average_precision(&self) -> Option<f64> {
        let (p, _) = self.totals(all);
        if p == 0 {
            return None;
        }
        let (mut ap, mut prev_recall) = (0.0f64, 0.0f64);
        self.walk(all, |s| {
            let recall = s.tp as f64 / p as f64;
            let precision = s.tp as f64 / (s.tp + s.fp) as f64;
            ap += (recall - prev_recall) * precision;
            prev_recall = recall;
        });
        Some(ap)
    }

    /// The highest true-positive rate whose false-positive rate is at most `max_fpr`, over
    /// the curve's points (no interpolation); `None` without both classes.
    pub fn tpr_at_fpr(&self, max_fpr: f64) -> Option<OperatingPoint> {
        let (p, n) = self.totals(all);
        if p == 0 || n == 0 {
            return None;
        }
        let mut best = point(None, 0, 0, p, n);
        self.walk(all, |s| {
            if s.fp as f64 / n as f64 <= max_fpr {
                best = point(Some(f64::from(s.score)), s.tp, s.fp, p, n);
            }
        });
        Some(best)
    }

    /// What flagging the packets scoring strictly above `threshold` catches (the detectors'
    /// alert rule); `None` without both classes.
    pub fn at_threshold(&self, threshold: f64) -> Option<OperatingPoint> {
        let (p, n) = self.totals(all);
        if p == 0 || n == 0 {
            return None;
        }
        let mut at = point(Some(threshold), 0, 0, p, n);
        self.walk(all, |s| {
            if f64::from(s.score) > threshold {
                at = point(Some(threshold), s.tp, s.fp, p, n);
            }
        });
        Some(at)
    }

    /// The ROC curve as (FPR, TPR) points from (0, 0) to (1, 1), thinned for plotting: a
    /// point is kept when either rate moved by 1/1000 or the FPR grew by 2 % since the last
    /// kept one (so a log-scaled FPR axis stays smooth). Empty without both classes.
    pub fn roc_points(&self) -> Vec<(f64, f64)> {
        let (p, n) = self.totals(all);
        if p == 0 || n == 0 {
            return Vec::new();
        }
        let mut pts = vec![(0.0, 0.0)];
        let mut last = (0.0f64, 0.0f64);
        self.walk(all, |s| {
            let (f, t) = (s.fp as f64 / n as f64, s.tp as f64 / p as f64);
            let far = (f - last.0).abs() >= 1e-3 || (t - last.1).abs() >= 1e-3;
            let log_far = f > 0.0 && (last.0 == 0.0 || f >= last.0 * 1.02);
            if far || log_far {
                pts.push((f, t));
                last = (f, t);
            }
        });
        if pts.last() != Some(&(1.0, 1.0)) {
            pts.push((1.0, 1.0));
        }
        pts
    }

    /// Trapezoid ROC area for a class function (`Some(true)` positive, `Some(false)`
    /// negative, `None` left out), summed exactly.
    fn auc_of(&self, class: impl Fn(u8) -> Option<bool> + Copy) -> Option<f64> {
        let (p, n) = self.totals(class);
        if p == 0 || n == 0 {
            return None;
        }
        let (mut area2, mut prev) = (0u128, (0u64, 0u64));
        self.walk(class, |s| {
            let (dtp, dfp) = (s.tp - prev.0, s.fp - prev.1);
            area2 += u128::from(dfp) * (2 * u128::from(prev.0) + u128::from(dtp));
            prev = (s.tp, s.fp);
        });
        Some(area2 as f64 / (2 * u128::from(p) * u128::from(n)) as f64)
    }

    /// Positives and negatives under `class`.
    fn totals(&self, class: impl Fn(u8) -> Option<bool>) -> (u64, u64) {
        let (mut p, mut n) = (0u64, 0u64);
        for &k in &self.keys {
            match class(k as u8) {
                Some(true) => p += 1,
                Some(false) => n += 1,
                None => {}
            }
        }
        (p, n)
    }

    /// Calls `f` once per distinct score that some counted packet has, highest first, with
    /// the cumulative counts at or above it.
    fn walk(&self, class: impl Fn(u8) -> Option<bool>, mut f: impl FnMut(Step)) {
        let (mut tp, mut fp) = (0u64, 0u64);
        let mut group: Option<u32> = None;
        for &k in self.keys.iter().rev() {
            let bits = (k >> 8) as u32;
            let Some(is_pos) = class(k as u8) else {
                continue;
            };
            if let Some(g) = group.filter(|&g| g != bits) {
                f(Step {
                    score: unorder(g),
                    tp,
                    fp,
                });
            }
            group = Some(bits);
            if is_pos {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        if let Some(g) = group {
            f(Step {
                score: unorder(g),
                tp,
                fp,
            });
        }
    }
}

/// Every code counts: benign negative, any phase positive.
fn all(c: u8) -> Option<bool> {
    Some(c != NEGATIVE)
}

/// An operating point from counts.
fn point(threshold: Option<f64>, tp: u64, fp: u64, p: u64, n: u64) -> OperatingPoint {
    OperatingPoint {
        threshold,
        tpr: tp as f64 / p as f64,
        fpr: fp as f64 / n as f64,
        true_positives: tp,
        false_positives: fp,
    }
}

/// The bits of `x` as an unsigned integer in the order of the values (`-0.0` as `0.0`).
fn order(x: f32) -> u32 {
    let x = if x == 0.0 { 0.0 } else { x };
    let b = x.to_bits();
    if b & 0x8000_0000 != 0 {
        !b
    } else {
        b | 0x8000_0000
    }
}

/// Inverse of [`order`].
fn unorder(o: u32) -> f32 {
    if o & 0x8000_0000 != 0 {
        f32::from_bits(o & 0x7fff_ffff)
    } else {
        f32::from_bits(!o)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn orders_scores_as_values() {
        let xs = [
            f32::NEG_INFINITY,
            -2.5,
            -0.0,
            0.0,
            1e-30,
            1.0,
            f32::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(order(w[0]) <= order(w[1]), "{w:?}");
        }
        assert_eq!(order(-0.0), order(0.0));
        for x in xs {
            assert_eq!(unorder(order(x)), if x == 0.0 { 0.0 } else { x });
        }
    }

    #[test]
    fn perfect_and_inverted_rankings() {
        let r = Ranking::new(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]);
        assert_eq!(r.roc_auc(), Some(1.0));
        assert_eq!(r.average_precision(), Some(1.0));
        let r = Ranking::new(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]);
        assert_eq!(r.roc_auc(), Some(0.0));
    }

    #[test]
    fn ties_across_classes_count_one_half() {
        let r = Ranking::new(&[0.5; 4], &[false, true, false, true]);
        assert_eq!(r.roc_auc(), Some(0.5));
        assert_eq!(r.average_precision(), Some(0.5));
    }

    #[test]
    fn one_class_has_no_auc() {
        let r = Ranking::new(&[0.1, 0.2], &[false, false]);
        assert_eq!(r.roc_auc(), None);
        assert_eq!(r.average_precision(), None);
        assert_eq!(r.tpr_at_fpr(0.1), None);
    }

    #[test]
    fn tpr_at_fpr_takes_the_last_point_within_the_bound() {
        // 10 benign at 0..9, attacks at 5.5 and 20.
        let mut s: Vec<f32> = (0..10).map(|i| i as f32).collect();
        s.extend([5.5, 20.0]);
        let mut l = vec![false; 10];
        l.extend([true, true]);
        let r = Ranking::new(&s, &l);
        let p = r.tpr_at_fpr(0.0).unwrap();
        assert_eq!((p.tpr, p.fpr, p.threshold), (0.5, 0.0, Some(20.0)));
        let p = r.tpr_at_fpr(0.4).unwrap();
        assert_eq!((p.tpr, p.fpr, p.threshold), (1.0, 0.4, Some(5.5)));
        let p = r.at_threshold(5.5).unwrap();
        assert_eq!((p.true_positives, p.false_positives), (1, 4));
    }

    #[test]
    fn roc_points_run_from_origin_to_one() {
        let r = Ranking::new(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]);
        let pts = r.roc_points();
        assert_eq!(pts.first(), Some(&(0.0, 0.0)));
        assert_eq!(pts.last(), Some(&(1.0, 1.0)));
    }
}
