//! A sanitised training window for Kitsune, and an alarm when the window looks contaminated.
//!
//! Kitsune learns whatever its window holds: attack traffic in it becomes "normal". The
//! window is cut into [`SanitiseSettings::slices`] consecutive slices of equal packet count
//! and one model is trained on each slice alone (grace periods as fractions of the slice,
//! see [`crate::kitsune`]). Every slice model scores the whole window from empty statistics;
//! a packet's *cross score* is the median, over the models of the *other* slices, of
//! score ÷ that model's threshold — a model never judges the traffic it learnt from. Packets
//! whose cross score exceeds 1 (above the threshold of most other slices) are dropped; then
//! every packet of a *passing conversation* — the unordered pair of IPv4 addresses (else of
//! MAC addresses; [`conversation`]) whose first and last packets are at most half the window
//! apart — more than half of whose packets were dropped is dropped too
//! ([`SanitiseSettings::conversation_share`]); then every packet of a host within a
//! [`SanitiseSettings::host_stretch_s`]-second stretch in which more of its packets were
//! dropped than it usually sends in a stretch ([`SanitiseSettings::host_excess`] times the
//! median of its packets per stretch). Kitsune is trained again on the rest: the defended
//! model.
//!
//! A slice model is trained from empty statistics at its slice's start but judges the
//! window in one pass from the window's start, where its slice's packets arrive with the
//! statistics of everything before (Kitsune's slowest, λ = 0.01, have a half-life of
//! 100 s). Its threshold is therefore refit ([`SanitiseSettings::recalibrate`]), with the
//! same robust rule, on its own calibration packets as that pass scores them: without it,
//! models of later slices put up to two thirds of their own slice above their threshold
//! and dropped a third of a steady window (docs/robustness.md).
//!
//! The conversation step catches what the slice models let through when an attack spans
//! several slices or two attack kinds mask each other: a scan burst that the slice holding
//! a flood has learnt to find ordinary, a flood's first packets before its statistics
//! build up, a brute force that resembles benign logins. Most of the attacker's
//! conversation is still dropped, and the rest goes with it. Conversations present through
//! the window are left to the later steps: a device's long conversation that drifts can be
//! mostly dropped by the slice models, and dropping all of it taught the defended model
//! nothing of that device (mqtt-abuse lost 0.09 AUC that way). The host step reaches an
//! attacker whose address also carries benign traffic all along (it is then not
//! renumbered, and the replay shares its long conversations): a replayed burst adds many
//! packets to a few of its stretches, and even the part of the burst the slice models drop
//! outnumbers what the host usually sends, while the rest — a scan's first probes, a
//! flood's first packets — looks ordinary packet by packet. A drifting device has its
//! packets dropped at its usual rate, never more of them than it sends; judging a stretch
//! by its majority instead dropped such devices' stretches whole (docs/robustness.md).
//!
//! This holds against traffic confined to part of the window (a replayed burst, an attack
//! that starts after training began): the slices without it flag it. Traffic spread evenly
//! over every slice is learnt by every slice model and passes. Slice models are strict
//! judges: benign traffic that drifts over the window (devices change what they do) is
//! dropped too, which costs little — the defended model is still trained on most of the
//! window — but makes the share dropped useless as an alarm.
//!
//! The alarm therefore asks lenient judges: per slice, a *fold model* trained on all the
//! other slices flags the slice's packets above its threshold (k-fold cross-validation, as
//! label screening does for the flow model). Drift seen elsewhere in the window passes; a
//! burst confined to one slice does not. The alarm is raised when the share of flagged
//! packets outside the window's first [`SanitiseSettings::alarm_skip_s`] seconds (statistics
//! still filling) exceeds [`SanitiseSettings::alarm_fraction`], or when the undefended
//! model's robust threshold reports a contaminated calibration window
//! (`Threshold::contamination_warning`). Two attack kinds in different slices mask each other
//! from the fold models (each has learnt the other), so the alarm can miss what the slice
//! models still remove.

use crate::capture::Frame;
use crate::defence::conversation;
use crate::error::RobustError;
use crate::kitsune::{self, KitsuneSettings};
use custos_detect::{KitsuneModel, Threshold};
use std::collections::HashMap;

/// How the window is sanitised.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SanitiseSettings {
    /// Slices, at least 2.
    pub slices: usize,
    /// Refit each slice model's threshold on its own calibration packets as the pass that
    /// judges the window scores them (false: keep the threshold of its training run).
    pub recalibrate: bool,
    /// Share of a conversation's packets dropped by the slice models beyond which all of
    /// its packets are dropped (1: never).
    pub conversation_share: f64,
    /// Seconds of the stretches in which a host's packets are judged together (0: not at
    /// all).
    pub host_stretch_s: f64,
    /// A host's stretch is dropped whole when more of its packets were dropped there than
    /// this many times the host's usual stretch (the median of its packets per stretch).
    pub host_excess: f64,
    /// Share of the window the fold models flag above which the alarm is raised.
    pub alarm_fraction: f64,
    /// Seconds at the window's start not counted for the alarm.
    pub alarm_skip_s: f64,
}

impl Default for SanitiseSettings {
    fn default() -> Self {
        SanitiseSettings {
            slices: 4,
            recalibrate: true,
            conversation_share: 0.5,
            host_stretch_s: 10.0,
            host_excess: 1.0,
            alarm_fraction: 0.005,
            alarm_skip_s: 60.0,
        }
    }
}

/// The outcome of sanitising one window.
#[derive(Debug)]
pub struct Sanitised {
    /// Kitsune trained on the kept packets.
    pub model: KitsuneModel,
    /// Per window packet: dropped.
    pub dropped: Vec<bool>,
    /// Per window packet: its cross score.
    pub cross: Vec<f64>,
    /// Packets dropped for their conversation alone.
    pub by_conversation: usize,
    /// Packets dropped for their host's stretch alone (not already for their conversation).
    pub by_host: usize,
    /// Share of the packets after the alarm's skip that the fold models flag.
    pub flagged_fraction: f64,
}

/// Sanitises `window` and trains the defended model.
///
/// # Errors
/// Settings out of range, slices too small to train Kitsune on, or too few packets kept.
pub fn sanitise(
    window: &[Frame],
    linktype: u32,
    ks: &KitsuneSettings,
    s: &SanitiseSettings,
    context: &str,
) -> Result<Sanitised, RobustError> {
    if s.slices < 2
        || !(0.0..1.0).contains(&s.alarm_fraction)
        || s.alarm_skip_s < 0.0
        || !(s.conversation_share > 0.0 && s.conversation_share <= 1.0)
        || !(s.host_stretch_s >= 0.0 && s.host_stretch_s.is_finite())
        || !(s.host_excess > 0.0 && s.host_excess.is_finite())
    {
        return Err(RobustError::Usage(format!(
            "sanitising needs at least 2 slices (not {}), an alarm fraction in [0, 1) (not {}), \
             a non-negative skip (not {}), a conversation share in (0, 1] (not {}), a \
             non-negative host stretch (not {} s) and a positive host excess (not {})",
            s.slices,
            s.alarm_fraction,
            s.alarm_skip_s,
            s.conversation_share,
            s.host_stretch_s,
            s.host_excess
        )));
    }
    let n = window.len();
    let bounds: Vec<usize> = (0..=s.slices).map(|i| i * n / s.slices).collect();
    let (mut dropped, cross) = by_slices(window, linktype, ks, s.recalibrate, &bounds, context)?;
    let (by_conversation, by_host) = spread(window, linktype, s, &mut dropped);
    let flagged = by_folds(window, linktype, ks, &bounds, context)?;
    let skip = kitsune::after_warmup(window, s.alarm_skip_s);
    let counted = n.saturating_sub(skip);
    let flagged_after = flagged.iter().skip(skip).filter(|&&d| d).count();
    let flagged_fraction = if counted == 0 {
        0.0
    } else {
        flagged_after as f64 / counted as f64
    };
    let kept: Vec<&Frame> = window
        .iter()
        .zip(&dropped)
        .filter(|(_, &d)| !d)
        .map(|(f, _)| f)
        .collect();
    let kept_len = kept.len();
    let model = kitsune::train(
        kept.into_iter(),
        linktype,
        ks,
        &format!("{context}, sanitised"),
    )
    .map_err(|e| match e {
        RobustError::Insufficient(m) => RobustError::Insufficient(format!(
            "{context}: sanitising kept {kept_len} of {n} window packets: {m}"
        )),
        other => other,
    })?;
    Ok(Sanitised {
        model,
        dropped,
        cross,
        by_conversation,
        by_host,
        flagged_fraction,
    })
}

/// Marks every packet of a *passing* conversation — one whose first and last packets are at
/// most half the window apart — more than [`SanitiseSettings::conversation_share`] of whose
/// packets `dropped` marks, then every packet of a host within a stretch of
/// [`SanitiseSettings::host_stretch_s`] seconds (0: hosts not judged) in which more of its
/// packets are marked than [`SanitiseSettings::host_excess`] times its usual stretch
/// ([`conversation::spread_excess`]). Returns the packets newly marked by each step.
fn spread(
    window: &[Frame],
    linktype: u32,
    s: &SanitiseSettings,
    dropped: &mut [bool],
) -> (usize, usize) {
    let t0 = window.first().map_or(0, |f| f.ts);
    let half = window.last().map_or(0, |f| f.ts - t0) / 2;
    let mut pairs: Vec<_> = window
        .iter()
        .map(|f| conversation::key(linktype, &f.data))
        .collect();
    let mut span: HashMap<conversation::Key, (i64, i64)> = HashMap::new();
    for (k, f) in pairs.iter().zip(window) {
        if let Some(k) = k {
            let e = span.entry(*k).or_insert((f.ts, f.ts));
            e.1 = f.ts;
        }
    }
    // Conversations present through the window are judged packet by packet only.
    for k in &mut pairs {
        if k.and_then(|k| span.get(&k))
            .is_some_and(|(a, b)| b - a > half)
        {
            *k = None;
        }
    }
    let by_conversation = conversation::spread(&pairs, dropped, s.conversation_share);
    let stretch = (s.host_stretch_s * 1e9) as i64;
    if stretch <= 0 {
        return (by_conversation, 0);
    }
    let hosts: Vec<_> = window
        .iter()
        .map(|f| conversation::host_buckets(linktype, f, t0, stretch))
        .collect();
    let by_host = conversation::spread_excess(&hosts, dropped, s.host_excess);
    (by_conversation, by_host)
}

/// Per packet: dropped, and its cross score.
type Verdicts = (Vec<bool>, Vec<f64>);

/// One model per slice; a packet's cross score is the median of its ratios under the models
/// of the other slices.
fn by_slices(
    window: &[Frame],
    linktype: u32,
    ks: &KitsuneSettings,
    recalibrate: bool,
    bounds: &[usize],
    context: &str,
) -> Result<Verdicts, RobustError> {
    let slices = bounds.len().saturating_sub(1);
    let mut ratios: Vec<Vec<f64>> = Vec::with_capacity(slices);
    for (j, w) in bounds.windows(2).enumerate() {
        let slice = window.get(w[0]..w[1]).unwrap_or_default();
        let ctx = format!("{context}, slice {} of {slices}", j + 1);
        let m = kitsune::train(slice.iter(), linktype, ks, &ctx)?;
        let scores = kitsune::score(&m, window.iter(), linktype)?;
        let mut t = m.threshold.value;
        if recalibrate {
            let cal = ks.calibration_packets(w[1] - w[0]);
            let own = scores
                .get(w[1].saturating_sub(cal)..w[1])
                .unwrap_or_default();
            t = Threshold::robust(own, ks.fpr, Some(m.kitnet.max_train_score))
                .map_or(t, |r| r.value);
        }
        ratios.push(scores.into_iter().map(|x| x / t).collect());
    }
    let n = window.len();
    let (mut dropped, mut cross) = (vec![false; n], vec![0.0; n]);
    let mut others = Vec::with_capacity(slices);
    for (i, w) in bounds.windows(2).enumerate() {
        for p in w[0]..w[1] {
            others.clear();
            others.extend(
                ratios
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .filter_map(|(_, r)| r.get(p).copied()),
            );
            others.sort_by(f64::total_cmp);
            let m = median(&others);
            if let (Some(d), Some(c)) = (dropped.get_mut(p), cross.get_mut(p)) {
                *d = m > 1.0;
                *c = m;
            }
        }
    }
    Ok((dropped, cross))
}

/// Per slice, a model trained on every other slice judges it: the packets above its
/// threshold are flagged.
fn by_folds(
    window: &[Frame],
    linktype: u32,
    ks: &KitsuneSettings,
    bounds: &[usize],
    context: &str,
) -> Result<Vec<bool>, RobustError> {
    let slices = bounds.len().saturating_sub(1);
    let mut flagged = vec![false; window.len()];
    for (i, w) in bounds.windows(2).enumerate() {
        let (lo, hi) = (w[0], w[1]);
        let rest = window
            .get(..lo)
            .unwrap_or_default()
            .iter()
            .chain(window.get(hi..).unwrap_or_default());
        let rest: Vec<&Frame> = rest.collect();
        let ctx = format!("{context}, fold {} of {slices}", i + 1);
        let m = kitsune::train(rest.into_iter(), linktype, ks, &ctx)?;
        let t = m.threshold.value;
        // Scored from the window's start, so the slice's statistics are warm.
        let scores = kitsune::score(&m, window.get(..hi).unwrap_or_default().iter(), linktype)?;
        for (p, f) in flagged.iter_mut().enumerate().take(hi).skip(lo) {
            *f = scores.get(p).copied().unwrap_or(0.0) > t;
        }
    }
    Ok(flagged)
}

/// The median of sorted `v` (mean of the middle two for an even count; 0 when empty).
fn median(v: &[f64]) -> f64 {
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v.get(n / 2).copied().unwrap_or(0.0),
        _ => {
            (v.get(n / 2 - 1).copied().unwrap_or(0.0) + v.get(n / 2).copied().unwrap_or(0.0)) / 2.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[1.0, 5.0, 9.0]), 5.0);
        assert_eq!(median(&[1.0, 3.0]), 2.0);
    }
}
