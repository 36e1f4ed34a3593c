//! The ordered host stage: everything that must see all traffic in packet order — the device
//! inventory, baseline findings, the detectors (Kitsune's per-host statistics) and live
//! evidence. It receives each packet with the records the packet stage made of it. At the
//! end it checks the learning window of each detector that trains on the run against the
//! attacks found and the other detectors' alerts ([`LearningCheck`]).

use crate::alerts::AlertQueue;
use crate::detector::{Detector, LearnedFromAttacks, PacketView};
use crate::error::EngineError;
use crate::evidence::{LiveEvidence, PendingAlert};
use crate::stages::learning::LearningCheck;
use custos_decode::Decoded;
use custos_flow::PacketMeta;
use custos_inventory::findings::Findings;
use custos_inventory::inventory::Inventory;
use custos_output::time::eve_time;
use custos_output::{Record, ScoreRow, MAX_SCORE_COLUMNS};

/// What the host stage reports at the end.
pub(crate) struct HostSummary {
    /// Devices in the inventory.
    pub devices: usize,
    /// Findings written.
    pub findings: usize,
    /// Findings not kept (caps).
    pub findings_dropped: u64,
    /// Per detector: name and its `stats.json` object.
    pub detectors: Vec<(String, serde_json::Value)>,
    /// What live evidence did.
    pub live_evidence: Option<crate::evidence::LiveReport>,
    /// Per detector that learned from attacks of the run: what was found.
    pub learned_from_attacks: Vec<LearnedFromAttacks>,
}

/// Inventory, findings, detectors and live evidence.
pub(crate) struct HostStage {
    inventory: Inventory,
    findings: Findings,
    detectors: Vec<Box<dyn Detector>>,
    /// Indices of the detectors that score every packet.
    scoring: Vec<usize>,
    alerts: AlertQueue,
    live: Option<LiveEvidence>,
    /// Alerts of the current packet (reused).
    fresh: Vec<custos_output::Alert>,
    /// What falls in the learning windows of detectors training on the run, if any.
    learning: Option<LearningCheck>,
}

impl HostStage {
    /// A stage over these parts.
    pub fn new(
        inventory: Inventory,
        findings: Findings,
        detectors: Vec<Box<dyn Detector>>,
        alerts: AlertQueue,
        live: Option<LiveEvidence>,
    ) -> Self {
        let scoring = detectors
            .iter()
            .enumerate()
            .filter(|(_, d)| d.scores_packets())
            .map(|(i, _)| i)
            .take(MAX_SCORE_COLUMNS - 1)
            .collect();
        let learning = LearningCheck::new(&detectors);
        HostStage {
            inventory,
            findings,
            detectors,
            scoring,
            alerts,
            live,
            fresh: Vec::new(),
            learning,
        }
    }

    /// Processes one packet and the records the packet stage made of it (`upstream`, drained),
    /// appending everything for the sinks to `out`.
    ///
    /// # Errors
    /// A detector's failure, or a live-evidence I/O error.
    #[allow(clippy::too_many_arguments)]
    pub fn packet(
        &mut self,
        run_index: u64,
        (linktype, app_proto): (u32, Option<custos_app::AppProto>),
        meta: &PacketMeta,
        data: &[u8],
        decoded: &Decoded<'_>,
        upstream: &mut Vec<Record>,
        out: &mut Vec<Record>,
    ) -> Result<(), EngineError> {
        if let Some(l) = self.learning.as_mut() {
            l.packet(run_index, meta);
        }
        if !self.detectors.is_empty() {
            let view = PacketView {
                run_index,
                meta,
                linktype,
                data,
                decoded,
                app_proto: app_proto.map(|p| p.name()),
            };
            let mut row = ScoreRow {
                index: run_index,
                ts: meta.ts,
                values: [0.0; MAX_SCORE_COLUMNS],
                len: 0,
            };
            for (i, d) in self.detectors.iter_mut().enumerate() {
                self.alerts.set_current(i);
                let score =
                    d.packet(&view, &mut self.alerts)
                        .map_err(|e| EngineError::Detector {
                            detector: d.name().to_string(),
                            message: e.0,
                        })?;
                if let Some(col) = self.scoring.iter().position(|&s| s == i) {
                    if let Some(v) = row.values.get_mut(col) {
                        *v = score.unwrap_or(0.0);
                    }
                }
            }
            if !self.scoring.is_empty() {
                row.len = self.scoring.len() as u8;
                if self.scoring.len() >= 2 {
                    let combined = combined_score(&self.detectors, &self.scoring, &row.values);
                    if let Some(v) = row.values.get_mut(self.scoring.len()) {
                        *v = combined;
                        row.len += 1;
                    }
                }
                out.push(Record::Scores(row));
            }
        }
        self.fresh.extend(self.alerts.drain());
        if let Some(l) = self.learning.as_mut() {
            for a in &self.fresh {
                l.alert(a, &self.detectors);
            }
        }
        if let Some(live) = self.live.as_mut() {
            live.packet(meta.index, meta.ts, meta.frame_len, linktype, data)?;
            if !self.fresh.is_empty() {
                let pending: Vec<PendingAlert> = self.fresh.iter().map(PendingAlert::of).collect();
                live.alerts(&pending)?;
            }
        }
        out.extend(self.fresh.drain(..).map(|a| Record::Alert(Box::new(a))));
        self.inventory.packet(meta.ts, meta.frame_len, decoded);
        self.upstream(upstream, out)
    }

    /// Feeds the packet stage's records (events, ended flows) to the inventory, findings
    /// and detectors, and passes them on with the alerts they raise.
    ///
    /// # Errors
    /// A detector's failure.
    pub fn upstream(
        &mut self,
        upstream: &mut Vec<Record>,
        out: &mut Vec<Record>,
    ) -> Result<(), EngineError> {
        for record in upstream.drain(..) {
            match &record {
                Record::Event(e) => {
                    self.inventory.event(e);
                    self.findings.event(e);
                    for (i, d) in self.detectors.iter_mut().enumerate() {
                        self.alerts.set_current(i);
                        d.event(e, &mut self.alerts)
                            .map_err(|err| EngineError::Detector {
                                detector: d.name().to_string(),
                                message: err.0,
                            })?;
                    }
                }
                Record::Flow(f) => {
                    for (i, d) in self.detectors.iter_mut().enumerate() {
                        self.alerts.set_current(i);
                        d.flow_ended(f, &mut self.alerts)
                            .map_err(|err| EngineError::Detector {
                                detector: d.name().to_string(),
                                message: err.0,
                            })?;
                    }
                }
                _ => {}
            }
            out.push(record);
            for a in self.alerts.drain() {
                if let Some(l) = self.learning.as_mut() {
                    l.alert(&a, &self.detectors);
                }
                out.push(Record::Alert(Box::new(a)));
            }
        }
        Ok(())
    }

    /// Ends the stage: findings and the device inventory as records, the detectors'
    /// summaries (with `learned_from_attacks`, and the warning added to `warning`, for a
    /// detector whose learning window holds attacks), live evidence closed. Returns the
    /// detectors for the caller (e.g. `train`).
    ///
    /// # Errors
    /// A detector's failure, or a live-evidence I/O error.
    pub fn finish(
        self,
        out: &mut Vec<Record>,
    ) -> Result<(HostSummary, crate::detector::Detectors), EngineError> {
        let HostStage {
            inventory,
            findings,
            mut detectors,
            alerts,
            live,
            learning,
            ..
        } = self;
        let findings_dropped = findings.dropped();
        let found = findings.finish();
        let mut learned = learning
            .map(|l| l.finish(&found, &detectors))
            .unwrap_or_default();
        let n_findings = found.len();
        out.extend(found.into_iter().map(|f| Record::Finding(Box::new(f))));
        out.push(Record::Devices(Box::new(inventory.to_json(&eve_time))));
        let mut summaries = Vec::with_capacity(detectors.len());
        let mut learned_from_attacks = Vec::new();
        for (i, d) in detectors.iter_mut().enumerate() {
            let mut summary = d.finish().map_err(|e| EngineError::Detector {
                detector: d.name().to_string(),
                message: e.0,
            })?;
            let counts = alerts.counts(i);
            if let Some(obj) = summary.as_object_mut() {
                obj.insert("alerts".into(), counts.alerts.into());
                obj.insert("alerts_suppressed".into(), counts.suppressed.into());
            }
            if let Some(pos) = learned.iter().position(|(j, _)| *j == i) {
                let (_, attacks) = learned.swap_remove(pos);
                let warning = attacks.warning();
                if let Some(obj) = summary.as_object_mut() {
                    obj.insert("learned_from_attacks".into(), attacks.to_json());
                    let joined = match obj.get("warning").and_then(|w| w.as_str()) {
                        Some(own) => format!("{own}; also, it {warning}"),
                        None => warning.clone(),
                    };
                    obj.insert("warning".into(), joined.into());
                }
                learned_from_attacks.push(LearnedFromAttacks {
                    detector: d.name().to_string(),
                    warning,
                    without_addresses: attacks.without_addresses(),
                });
            }
            summaries.push((d.name().to_string(), summary));
        }
        let live_evidence = match live {
            Some(mut l) => Some(l.finish()?),
            None => None,
        };
        Ok((
            HostSummary {
                devices: inventory.len(),
                findings: n_findings,
                findings_dropped,
                detectors: summaries,
                live_evidence,
                learned_from_attacks,
            },
            detectors,
        ))
    }
}

/// The `combined` column of `scores.csv`: each scoring detector's score measured against its
/// operating threshold on its own scale ([`crate::detector::ScoreScale`]: Kitsune's RMSE ÷
/// threshold, the flow model's odds ÷ the threshold's odds), then joined as a noisy-or,
/// `(1 + r₁)(1 + r₂)… − 1` (docs/detection.md). One detector alone gives its own `r`, so 1.0
/// is each detector's operating point; the result is never below the largest `r`, so one
/// confident detector is enough, and detectors that agree add up. Detectors without a
/// threshold yet, and scores that give no number, count 0.
fn combined_score(detectors: &[Box<dyn Detector>], scoring: &[usize], values: &[f64]) -> f64 {
    // (1 + c)(1 + r) − 1 written as c + r + c·r: no cancellation, so one detector's own r comes
    // out exact and small scores keep their order.
    scoring
        .iter()
        .zip(values)
        .filter_map(|(&i, &v)| {
            let d = detectors.get(i)?;
            d.score_scale().relative(v, d.operating_threshold()?)
        })
        .filter(|r| *r > 0.0)
        .fold(0.0, |c, r| c + r + c * r)
}

#[cfg(test)]
mod tests {
    use super::combined_score;
    use crate::detector::{Detector, ScoreScale};

    /// A detector that only has a threshold and a scale.
    struct Fixed(Option<f64>, ScoreScale);

    impl Detector for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }
        fn operating_threshold(&self) -> Option<f64> {
            self.0
        }
        fn score_scale(&self) -> ScoreScale {
            self.1
        }
    }

    fn detectors() -> Vec<Box<dyn Detector>> {
        vec![
            Box::new(Fixed(Some(0.2), ScoreScale::Ratio)),
            Box::new(Fixed(Some(0.5), ScoreScale::Probability)),
            Box::new(Fixed(None, ScoreScale::Ratio)),
        ]
    }

    #[test]
    fn one_detector_gives_its_own_ratio_and_agreeing_ones_add_up() {
        let d = detectors();
        // Alone (the other at zero, the third without a threshold): its own ratio, exactly.
        assert_eq!(combined_score(&d, &[0, 1, 2], &[0.3, 0.0, 9.0]), 0.3 / 0.2);
        assert_eq!(combined_score(&d, &[0, 1], &[0.0, 0.75]), 3.0);
        assert_eq!(combined_score(&d, &[0], &[1e-30]), 1e-30 / 0.2);
        // Both at half their operating point: (1.5)(1.5) − 1 = 1.25, above either alone.
        let both = combined_score(&d, &[0, 1], &[0.1, 1.0 / 3.0]);
        assert!((both - 1.25).abs() < 1e-12, "{both}");
        // Never below the largest, and monotone in each score.
        for (k, p) in [(0.05, 0.9), (2.0, 0.1), (0.0, 0.0), (0.4, 0.5)] {
            let c = combined_score(&d, &[0, 1], &[k, p]);
            let kr = k / 0.2;
            let pr = p / (1.0 - p);
            assert!(c >= kr.max(pr) - 1e-12, "{k} {p} {c}");
            assert!(combined_score(&d, &[0, 1], &[k * 1.1 + 1e-3, p]) > c);
        }
        // A score that gives no number counts nothing.
        assert_eq!(combined_score(&d, &[0, 1], &[f64::NAN, 0.75]), 3.0);
    }
}
