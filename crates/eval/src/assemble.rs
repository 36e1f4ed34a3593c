//! Turns what the readers gathered into [`Metrics`](crate::Metrics) and the data of the plots.

use crate::alerts::Tally;
use crate::curve::Ranking;
use crate::flows::FlowIndex;
use crate::labels::{Truth, BENIGN};
use crate::metrics::{
    ratio, AlertMetrics, DetectorMetrics, FlowMetrics, PacketMetrics, PhaseFlows, PhaseMetrics,
    TprAtFpr, MAX_FPRS,
};
use crate::plot::{Curve, Timeline};
use crate::scores::Column;
use crate::stats::RunStats;

/// What [`detectors`] produces: metrics, ROC curves and timelines, one per detector.
pub(crate) struct Assembled {
    /// Per detector.
    pub metrics: Vec<DetectorMetrics>,
    /// ROC curves of the detectors with scores.
    pub curves: Vec<Curve>,
    /// Score timelines of the detectors with scores.
    pub timelines: Vec<Timeline>,
}

/// Metrics of every detector: the score columns in order, then detectors that only alerted.
/// Consumes the columns so that each detector's scores are freed once ranked.
pub(crate) fn detectors(
    stats: &RunStats,
    truth: &Truth,
    columns: Vec<Column>,
    tallies: &[Tally],
    flows: Option<&FlowIndex>,
) -> Assembled {
    let mut out = Assembled {
        metrics: Vec::new(),
        curves: Vec::new(),
        timelines: Vec::new(),
    };
    let alert_only: Vec<&Tally> = tallies
        .iter()
        .filter(|t| !columns.iter().any(|c| c.name == t.name))
        .collect();
    let codes = truth
        .codes
        .get(usize::try_from(truth.skip).unwrap_or(usize::MAX)..)
        .unwrap_or(&[]);
    for col in columns {
        let tally = tallies.iter().find(|t| t.name == col.name);
        let (threshold, source) = threshold(stats, &col.name, tally);
        let ranking = Ranking::from_codes(&col.scores, codes);
        drop(col.scores);
        let phase_auc: Vec<Option<f64>> = (1..=truth.phases.len())
            .map(|k| ranking.phase_auc(u8::try_from(k).unwrap_or(u8::MAX)))
            .collect();
        let packet = PacketMetrics {
            roc_auc: ranking.roc_auc(),
            pr_auc: ranking.average_precision(),
            tpr_at_fpr: MAX_FPRS
                .iter()
                .filter_map(|&max_fpr| {
                    let point = ranking.tpr_at_fpr(max_fpr)?;
                    Some(TprAtFpr { max_fpr, point })
                })
                .collect(),
            at_threshold: threshold.and_then(|t| ranking.at_threshold(t)),
        };
        out.curves.push(Curve {
            name: col.name.clone(),
            auc: packet.roc_auc,
            points: ranking.roc_points(),
        });
        out.timelines.push(Timeline {
            name: col.name.clone(),
            points: col.timeline,
            threshold,
        });
        out.metrics.push(detector(
            &col.name,
            (threshold, source),
            Some(packet),
            &phase_auc,
            tally,
            truth,
            flows,
        ));
    }
    for t in alert_only {
        let th = threshold(stats, &t.name, Some(t));
        let none = vec![None; truth.phases.len()];
        out.metrics
            .push(detector(&t.name, th, None, &none, Some(t), truth, flows));
    }
    out
}

/// A detector's threshold and where it comes from: `stats.json`, else its alerts.
fn threshold(stats: &RunStats, name: &str, tally: Option<&Tally>) -> (Option<f64>, Option<String>) {
    if name == crate::alerts::COMBINED {
        return (
            Some(1.0),
            Some("each score over its threshold, the largest".into()),
        );
    }
    if let Some(t) = stats.detector(name).and_then(|d| d.threshold) {
        return (Some(t), Some("stats.json".into()));
    }
    match tally.and_then(|t| t.threshold) {
        Some(t) => (Some(t), Some("alerts.jsonl".into())),
        None => (None, None),
    }
}

/// One detector's metrics.
fn detector(
    name: &str,
    (threshold, threshold_source): (Option<f64>, Option<String>),
    packet: Option<PacketMetrics>,
    phase_auc: &[Option<f64>],
    tally: Option<&Tally>,
    truth: &Truth,
    flows: Option<&FlowIndex>,
) -> DetectorMetrics {
    let empty = Tally::default();
    let t = tally.unwrap_or(&empty);
    let phases: Vec<PhaseMetrics> = truth
        .phases
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let pa = t.phases.get(k).copied().unwrap_or_default();
            let first = pa.first;
            let code = u8::try_from(k + 1).unwrap_or(u8::MAX);
            PhaseMetrics {
                name: p.name.clone(),
                roc_auc: phase_auc.get(k).copied().flatten(),
                alerts: pa.alerts,
                caught: pa.alerts > 0,
                first_alert_packet: first.map(|(i, _)| i),
                first_alert_time: first.map(|(_, ts)| custos_output::time::eve_time(ts)),
                delay_seconds: first
                    .map(|(_, ts)| (ts - p.first_ns.div_euclid(1000) * 1000) as f64 / 1e9),
                delay_packets: first.map(|(i, _)| count_code(truth, code, p.first_index, i)),
            }
        })
        .collect();
    let caught = phases.iter().filter(|p| p.caught).count() as u64;
    DetectorMetrics {
        name: name.to_string(),
        threshold,
        threshold_source,
        packet,
        alerts: AlertMetrics {
            total: t.total,
            on_attack: t.on_attack,
            on_benign: t.on_benign,
            not_evaluated: t.not_evaluated,
            precision: ratio(t.on_attack, t.total),
            false_alerts_per_hour: {
                let h = truth.benign_hours();
                (h > 0.0).then(|| t.on_benign as f64 / h)
            },
            phase_recall: ratio(caught, truth.phases.len() as u64),
        },
        phases,
        flows: flows.map(|f| flow_metrics(f, t, truth)),
    }
}

/// Packets with `code` in run indices `from..to`.
fn count_code(truth: &Truth, code: u8, from: u64, to: u64) -> u64 {
    let (Ok(a), Ok(b)) = (usize::try_from(from), usize::try_from(to)) else {
        return 0;
    };
    truth
        .codes
        .get(a..b.max(a))
        .map_or(0, |s| s.iter().filter(|&&c| c == code).count() as u64)
}

/// A detector's alerts at flow level.
fn flow_metrics(f: &FlowIndex, t: &Tally, truth: &Truth) -> FlowMetrics {
    let mut per_phase = vec![(0u64, 0u64); truth.phases.len()];
    let (mut attack, mut attack_alerted, mut benign, mut benign_alerted) = (0, 0, 0, 0);
    for (i, flow) in f.flows.iter().enumerate() {
        let alerted = t.flows_alerted.get(i).copied().unwrap_or(false);
        if flow.code == BENIGN {
            benign += 1;
            benign_alerted += u64::from(alerted);
        } else {
            attack += 1;
            attack_alerted += u64::from(alerted);
            if let Some(p) = per_phase.get_mut(usize::from(flow.code) - 1) {
                p.0 += 1;
                p.1 += u64::from(alerted);
            }
        }
    }
    FlowMetrics {
        attack_alerted,
        recall: ratio(attack_alerted, attack),
        benign_alerted,
        false_positive_rate: ratio(benign_alerted, benign),
        alerts_without_flow: t.without_flow,
        phases: truth
            .phases
            .iter()
            .zip(per_phase)
            .map(|(p, (flows, alerted))| PhaseFlows {
                name: p.name.clone(),
                flows,
                alerted,
            })
            .collect(),
    }
}
